#include "service/views.h"

#include "common/json.h"
#include "common/time_format.h"

namespace tessera {
namespace {

void AppendStringArray(const std::vector<std::string>& values, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(values[i], out);
  }
  out.push_back(']');
}

void AppendTime(TimePoint t, std::string& out) {
  out.push_back('"');
  AppendRfc3339(t, out);
  out.push_back('"');
}

}  // namespace

std::vector<std::string> EffectiveRoles(const User& user) {
  std::vector<std::string> roles{"stytch_user"};
  for (const auto& r : user.roles) {
    if (r != "stytch_user") roles.push_back(r);
  }
  return roles;
}

RenderedSession RenderSession(const SessionRecord& s, const std::vector<std::string>& roles) {
  RenderedSession r;
  std::string& b = r.before;
  b.reserve(512);
  b += "{\"attributes\":{\"ip_address\":";
  AppendJsonString(s.attributes.ip_address, b);
  b += ",\"user_agent\":";
  AppendJsonString(s.attributes.user_agent, b);
  b += "},\"authentication_factors\":";
  b += boost::json::serialize(s.authentication_factors);
  b += ",\"custom_claims\":";
  b += boost::json::serialize(s.custom_claims);
  b += ",\"expires_at\":";
  AppendTime(s.expires_at, b);
  b += ",\"last_accessed_at\":\"";
  std::string& a = r.after;
  a += "\",\"roles\":";
  AppendStringArray(roles, a);
  a += ",\"session_id\":";
  AppendJsonString(s.session_id, a);
  a += ",\"started_at\":";
  AppendTime(s.started_at, a);
  a += ",\"user_id\":";
  AppendJsonString(s.user_id, a);
  a += "}";
  return r;
}

void AppendSession(const RenderedSession& s, TimePoint last_accessed_at, std::string& out) {
  out += s.before;
  AppendRfc3339(last_accessed_at, out);
  out += s.after;
}

void AppendEmails(const User& u, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < u.emails.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"email\":";
    AppendJsonString(u.emails[i].email, out);
    out += ",\"email_id\":";
    AppendJsonString(u.emails[i].email_id, out);
    out += u.emails[i].verified ? ",\"verified\":true}" : ",\"verified\":false}";
  }
  out.push_back(']');
}

void AppendPhones(const User& u, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < u.phone_numbers.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"phone_id\":";
    AppendJsonString(u.phone_numbers[i].phone_id, out);
    out += ",\"phone_number\":";
    AppendJsonString(u.phone_numbers[i].phone_number, out);
    out += u.phone_numbers[i].verified ? ",\"verified\":true}" : ",\"verified\":false}";
  }
  out.push_back(']');
}

RenderedUser RenderUser(const User& u) {
  RenderedUser r;
  std::string& b = r.before;
  b.reserve(512);
  b += "\"biometric_registrations\":[],\"created_at\":";
  AppendTime(u.created_at, b);
  b += ",\"crypto_wallets\":[],\"emails\":";
  AppendEmails(u, b);
  b += ",\"external_id\":";
  if (u.external_id) {
    AppendJsonString(*u.external_id, b);
  } else {
    b += "null";
  }
  b += ",";

  std::string& a = r.after;
  a += ",\"name\":{\"first_name\":";
  AppendJsonString(u.first_name, a);
  a += ",\"last_name\":";
  AppendJsonString(u.last_name, a);
  a += ",\"middle_name\":";
  AppendJsonString(u.middle_name, a);
  a += "},\"password\":";
  if (u.password) {
    a += "{\"password_id\":";
    AppendJsonString(u.password->password_id, a);
    a += u.password->requires_reset ? ",\"requires_reset\":true}" : ",\"requires_reset\":false}";
  } else {
    a += "null";
  }
  a += ",\"phone_numbers\":";
  AppendPhones(u, a);
  a += ",\"providers\":[],\"roles\":";
  AppendStringArray(EffectiveRoles(u), a);
  a += ",\"status\":";
  AppendJsonString(u.status, a);
  a += ",\"totps\":[],\"trusted_metadata\":";
  a += boost::json::serialize(u.trusted_metadata);
  a += ",\"untrusted_metadata\":";
  a += boost::json::serialize(u.untrusted_metadata);
  a += ",\"user_id\":";
  AppendJsonString(u.user_id, a);
  a += ",\"webauthn_registrations\":[]";
  return r;
}

void AppendUserMembers(const RenderedUser& u, bool locked, std::string& out) {
  out += u.before;
  out += locked ? "\"is_locked\":true" : "\"is_locked\":false";
  out += u.after;
}

void AppendUser(const RenderedUser& u, bool locked, std::string& out) {
  out.push_back('{');
  AppendUserMembers(u, locked, out);
  out.push_back('}');
}

boost::json::object PasswordFactor(TimePoint now) {
  const std::string t = FormatRfc3339(now);
  return boost::json::object{{"created_at", t},
                             {"delivery_method", "knowledge"},
                             {"last_authenticated_at", t},
                             {"type", "password"},
                             {"updated_at", t}};
}

}  // namespace tessera
