#include "client/api_common.h"
// ^ This file's own header: first, so it must compile alone.

#include <utility>

#include "common/json.h"
#include "common/time_format.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

TimePoint TimeMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return TimePoint();
  auto t = ParseRfc3339(v->get_string());
  return t.ok() ? *t : TimePoint();
}

}  // namespace

Error ArgumentError(std::string message) {
  return Error{ErrorKind::kInvalidArgument, 0, "invalid_argument", std::move(message), ""};
}

Error ProtocolError(std::string message) {
  return Error{ErrorKind::kProtocol, 0, "unexpected_response", std::move(message), ""};
}

std::string StringMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> StringArray(const json::object& o, std::string_view name) {
  std::vector<std::string> out;
  if (const auto* v = o.if_contains(name); v != nullptr && v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (e.is_string()) out.emplace_back(e.get_string());
    }
  }
  return out;
}

Session SessionFromApi(const json::object& o) {
  Session s;
  s.session_id = StringMember(o, "session_id");
  s.user_id = StringMember(o, "user_id");
  s.started_at = TimeMember(o, "started_at");
  s.last_accessed_at = TimeMember(o, "last_accessed_at");
  s.expires_at = TimeMember(o, "expires_at");
  if (const auto* a = o.if_contains("attributes"); a != nullptr && a->is_object()) {
    s.ip_address = StringMember(a->get_object(), "ip_address");
    s.user_agent = StringMember(a->get_object(), "user_agent");
  }
  s.roles = StringArray(o, "roles");
  const auto* f = o.if_contains("authentication_factors");
  s.authentication_factors_json = f != nullptr ? json::serialize(*f) : "[]";
  const auto* c = o.if_contains("custom_claims");
  s.custom_claims_json = c != nullptr && c->is_object() ? json::serialize(*c) : "{}";
  return s;
}

User UserFromApi(const json::object& o) {
  User u;
  u.user_id = StringMember(o, "user_id");
  u.status = StringMember(o, "status");
  if (const auto* e = o.if_contains("emails"); e != nullptr && e->is_array()) {
    for (const auto& v : e->get_array()) {
      if (!v.is_object()) continue;
      const auto& eo = v.get_object();
      const auto* verified = eo.if_contains("verified");
      u.emails.push_back({StringMember(eo, "email_id"), StringMember(eo, "email"),
                          verified != nullptr && verified->is_bool() && verified->get_bool()});
    }
  }
  u.roles = StringArray(o, "roles");
  const auto* p = o.if_contains("password");
  u.has_password = p != nullptr && p->is_object();
  const auto* locked = o.if_contains("is_locked");
  u.is_locked = locked != nullptr && locked->is_bool() && locked->get_bool();
  u.json = json::serialize(o);
  return u;
}

Outcome<json::value> ParseClaimsJson(const std::optional<std::string>& text,
                                     std::string_view name) {
  auto v = ParseJson(*text, 16);
  if (!v.ok() || !v->is_object()) {
    return ArgumentError(std::string(name) + " must be a JSON object");
  }
  return std::move(*v);
}

json::array ToJsonArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace tessera::client
