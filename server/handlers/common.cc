#include "server/handlers/common.h"

#include <boost/json.hpp>
#include <utility>

#include "common/text.h"
#include "service/views.h"

namespace tessera::server::handlers {

Result<SessionOptions> ParseSessionOptions(const JsonBody& body) {
  SessionOptions o;
  TESSERA_ASSIGN_OR_RETURN(o.duration_minutes, body.OptInt("session_duration_minutes"));
  o.custom_claims = body.OptValue("session_custom_claims");
  if (o.custom_claims && !o.custom_claims->is_object()) {
    return WrongType("session_custom_claims", "an object");
  }
  return o;
}

Result<std::optional<std::string>> NonEmpty(const JsonBody& body, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> s, body.OptString(name));
  if (s && s->empty()) s.reset();
  return s;
}

Result<SessionAttributes> ParseAttributes(const JsonBody& body) {
  SessionAttributes a;
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> attrs, body.OptObject("attributes"));
  if (!attrs) return a;
  for (const auto& [name, field] :
       {std::pair<const char*, std::string*>{"ip_address", &a.ip_address},
        {"user_agent", &a.user_agent}}) {
    const auto it = attrs->find(name);
    if (it == attrs->end() || it->value().is_null()) continue;
    if (!it->value().is_string() || it->value().get_string().size() > 512 ||
        !IsStorableText(it->value().get_string())) {
      return WrongType(std::string("attributes.") + name, "a string of at most 512 characters");
    }
    *field = it->value().get_string();
  }
  return a;
}

Result<UserFields> ParseUserFields(const JsonBody& body) {
  UserFields f;
  TESSERA_ASSIGN_OR_RETURN(f.email, body.OptString("email"));
  TESSERA_ASSIGN_OR_RETURN(f.phone_number, body.OptString("phone_number"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> name, body.OptObject("name"));
  if (name) {
    for (const auto& [key, field] :
         {std::pair<const char*, std::optional<std::string>*>{"first_name", &f.first_name},
          {"middle_name", &f.middle_name},
          {"last_name", &f.last_name}}) {
      const auto it = name->find(key);
      if (it == name->end() || it->value().is_null()) continue;
      if (!it->value().is_string()) return WrongType(std::string("name.") + key, "a string");
      *field = std::string(it->value().get_string());
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> attrs, body.OptObject("attributes"));
  (void)attrs;  // Accepted for compatibility; user attributes are not stored.
  TESSERA_ASSIGN_OR_RETURN(f.trusted_metadata, body.OptObject("trusted_metadata"));
  TESSERA_ASSIGN_OR_RETURN(f.untrusted_metadata, body.OptObject("untrusted_metadata"));
  TESSERA_ASSIGN_OR_RETURN(f.external_id, body.OptString("external_id"));
  TESSERA_ASSIGN_OR_RETURN(f.roles, body.OptStringArray("roles"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> pending, body.OptBool("create_user_as_pending"));
  f.create_as_pending = pending.value_or(false);
  return f;
}

void AppendUserValue(const CachedUser& u, TimePoint now, std::string& out) {
  AppendUser(u.rendered, u.LockedAt(now), out);
}

void AppendLoginMembers(Body& b, const CachedUser& user, const std::optional<SessionResult>& s,
                        TimePoint now) {
  if (s) {
    AppendSession(s->session->rendered, s->last_accessed_at, b.Key("session"));
    b.Plain("session_jwt", s->session_jwt);
    b.Plain("session_token", s->session_token);
  } else {
    b.Raw("session", "null");
    b.String("session_jwt", "");
    b.String("session_token", "");
  }
  AppendUserValue(user, now, b.Key("user"));
  b.Raw("user_device", "null");
  b.String("user_id", user.user.user_id);
}

}  // namespace tessera::server::handlers
