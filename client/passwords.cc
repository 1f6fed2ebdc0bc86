// Passwords: the /v1/passwords endpoints.
#include "tessera/client/client.h"
// ^ This file's own header: first, so it must compile alone.

#include <boost/json.hpp>
#include <utility>

#include "client/api_common.h"
#include "client/client_impl.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

Outcome<PasswordResponse> PasswordCall(Client& c, const std::string& path,
                                       const PasswordRequest& r) {
  json::object body{{"email", r.email}, {"password", r.password}};
  if (r.session_duration_minutes) body["session_duration_minutes"] = *r.session_duration_minutes;
  if (r.session_custom_claims_json) {
    auto claims = ParseClaimsJson(r.session_custom_claims_json, "session_custom_claims_json");
    if (!claims.ok()) return claims.error();
    body["session_custom_claims"] = std::move(*claims);
  }
  if (r.roles) body["roles"] = ToJsonArray(*r.roles);
  auto o = c.impl().Call("POST", path, body);
  if (!o.ok()) return o.error();
  const auto* user = o->if_contains("user");
  if (user == nullptr || !user->is_object())
    return ProtocolError("passwords answered without user");
  PasswordResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.user_id = StringMember(*o, "user_id");
  out.email_id = StringMember(*o, "email_id");
  out.session_token = StringMember(*o, "session_token");
  out.session_jwt = StringMember(*o, "session_jwt");
  if (const auto* s = o->if_contains("session"); s != nullptr && s->is_object()) {
    out.session = SessionFromApi(s->get_object());
  }
  out.user = UserFromApi(user->get_object());
  return out;
}

}  // namespace

Outcome<PasswordResponse> Passwords::Create(const PasswordRequest& r) {
  return PasswordCall(c_, "/v1/passwords", r);
}

Outcome<PasswordResponse> Passwords::Authenticate(const PasswordRequest& r) {
  return PasswordCall(c_, "/v1/passwords/authenticate", r);
}

}  // namespace tessera::client
