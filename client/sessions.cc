// Sessions: the /v1/sessions endpoints, and JWTs verified locally with the API as fallback.
#include "tessera/client/client.h"
// ^ This file's own header: first, so it must compile alone.

#include <boost/json.hpp>
#include <memory>
#include <utility>

#include "client/api_common.h"
#include "client/client_impl.h"
#include "common/json.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

}  // namespace

Outcome<AuthenticateResponse> Sessions::Authenticate(const AuthenticateRequest& r) {
  if (r.session_token.has_value() == r.session_jwt.has_value()) {
    return ArgumentError("exactly one of session_token and session_jwt is required");
  }
  json::object body;
  if (r.session_token) body["session_token"] = *r.session_token;
  if (r.session_jwt) body["session_jwt"] = *r.session_jwt;
  if (r.session_duration_minutes) body["session_duration_minutes"] = *r.session_duration_minutes;
  if (r.session_custom_claims_json) {
    auto claims = ParseClaimsJson(r.session_custom_claims_json, "session_custom_claims_json");
    if (!claims.ok()) return claims.error();
    body["session_custom_claims"] = std::move(*claims);
  }
  if (r.authorization_check) {
    body["authorization_check"] = json::object{{"resource_id", r.authorization_check->resource_id},
                                               {"action", r.authorization_check->action}};
  }
  auto o = c_.impl().Call("POST", "/v1/sessions/authenticate", body);
  if (!o.ok()) return o.error();
  const auto* session = o->if_contains("session");
  const auto* user = o->if_contains("user");
  if (session == nullptr || !session->is_object() || user == nullptr || !user->is_object()) {
    return ProtocolError("authenticate answered without session or user");
  }
  AuthenticateResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.session = SessionFromApi(session->get_object());
  out.session_token = StringMember(*o, "session_token");
  out.session_jwt = StringMember(*o, "session_jwt");
  out.user = UserFromApi(user->get_object());
  if (const auto* v = o->if_contains("verdict"); v != nullptr && v->is_object()) {
    AuthorizationVerdict verdict;
    const auto* authorized = v->get_object().if_contains("authorized");
    verdict.authorized = authorized != nullptr && authorized->is_bool() && authorized->get_bool();
    verdict.granting_roles = StringArray(v->get_object(), "granting_roles");
    out.verdict = std::move(verdict);
  }
  if (r.authorization_check &&
      (!out.verdict || !out.verdict->authorized || out.verdict->granting_roles.empty())) {
    // A server that ignored the check must not read as a yes.
    return ProtocolError("authenticate with an authorization check answered without a verdict");
  }
  return out;
}

Outcome<std::vector<Session>> Sessions::Get(std::string_view user_id) {
  auto o = c_.impl().Call("GET", "/v1/sessions?user_id=" + UrlEncode(user_id), std::nullopt);
  if (!o.ok()) return o.error();
  std::vector<Session> out;
  if (const auto* list = o->if_contains("sessions"); list != nullptr && list->is_array()) {
    for (const auto& s : list->get_array()) {
      if (s.is_object()) out.push_back(SessionFromApi(s.get_object()));
    }
  }
  return out;
}

Outcome<std::string> Sessions::Revoke(const RevokeRequest& r) {
  const int given = int{r.session_id.has_value()} + int{r.session_token.has_value()} +
                    int{r.session_jwt.has_value()};
  if (given != 1) {
    return ArgumentError("exactly one of session_id, session_token and session_jwt is required");
  }
  json::object body;
  if (r.session_id) body["session_id"] = *r.session_id;
  if (r.session_token) body["session_token"] = *r.session_token;
  if (r.session_jwt) body["session_jwt"] = *r.session_jwt;
  auto o = c_.impl().Call("POST", "/v1/sessions/revoke", body);
  if (!o.ok()) return o.error();
  return StringMember(*o, "request_id");
}

Outcome<Jwks> Sessions::GetJwks() {
  auto text = c_.impl().FetchJwksText();
  if (!text.ok()) return text.error();
  auto parsed = ParseJson(*text, kMaxResponseDepth);
  if (!parsed.ok() || !parsed->is_object()) return ProtocolError("the JWKS is not a JSON object");
  Jwks out;
  const auto* keys = parsed->get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return ProtocolError("the JWKS has no keys array");
  for (const auto& k : keys->get_array()) {
    if (k.is_object()) out.kids.push_back(StringMember(k.get_object(), "kid"));
  }
  out.json = json::serialize(json::object{{"keys", *keys}});
  return out;
}

Outcome<std::shared_ptr<const Session>> Sessions::AuthenticateJwtLocal(
    std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
    std::optional<std::chrono::seconds> clock_tolerance,
    const std::optional<AuthorizationCheck>& authorization_check) {
  auto local = c_.impl().VerifyLocal(jwt, max_token_age, clock_tolerance);
  if (!local.ok() || !authorization_check) return local;
  // Authorized after verification: an invalid JWT is reported as such, whatever its roles.
  auto granting = c_.impl().AuthorizeLocal(**local, *authorization_check);
  if (!granting.ok()) return granting.error();
  return local;
}

Outcome<JwtAuthenticateResult> Sessions::AuthenticateJwt(
    std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
    std::optional<std::chrono::seconds> clock_tolerance,
    const std::optional<AuthorizationCheck>& authorization_check) {
  if (jwt.empty()) return ArgumentError("the JWT is empty");
  if (authorization_check &&
      (authorization_check->resource_id.empty() || authorization_check->action.empty())) {
    return ArgumentError("authorization_check needs a resource_id and an action");
  }
  if (!max_token_age || max_token_age->count() > 0) {
    auto local = c_.impl().VerifyLocal(jwt, max_token_age, clock_tolerance);
    if (local.ok()) {
      if (!authorization_check) {
        return JwtAuthenticateResult{
            *local, std::string(jwt), VerifiedBy::kLocal, std::nullopt, {}};
      }
      auto granting = c_.impl().AuthorizeLocal(**local, *authorization_check);
      if (granting.ok()) {
        return JwtAuthenticateResult{*local, std::string(jwt), VerifiedBy::kLocal, std::nullopt,
                                     std::move(*granting)};
      }
    }
  }
  // Any local failure (a local "no" included), or max_token_age 0: the server decides, with
  // the current roles and policy (spec §3.3, §5.3).
  c_.impl().api_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  AuthenticateRequest req;
  req.session_jwt = std::string(jwt);
  req.authorization_check = authorization_check;
  auto remote = Authenticate(req);
  if (!remote.ok()) return remote.error();
  JwtAuthenticateResult out;
  out.session = std::make_shared<const Session>(remote->session);
  out.session_jwt = remote->session_jwt;
  out.verified_by = VerifiedBy::kApi;
  if (remote->verdict) out.granting_roles = remote->verdict->granting_roles;
  out.api = std::move(*remote);
  return out;
}

}  // namespace tessera::client
