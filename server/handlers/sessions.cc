// /v1/sessions: authenticate (the hot path), list, revoke, and the project's JWKS.
#include <boost/json.hpp>

#include "common/json.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"
#include "server/router.h"
#include "service/views.h"
#include "tessera/rbac/policy.h"

namespace tessera::server::handlers {
namespace {

// `authorization_check: {resource_id, action}` (spec §5.2), both required non-empty strings
// when the object is given; absent or null means no check.
Result<std::optional<rbac::AuthorizationCheck>> ParseAuthorizationCheck(const JsonBody& body) {
  TESSERA_ASSIGN_OR_RETURN(auto check, body.OptObject("authorization_check"));
  if (!check) return std::optional<rbac::AuthorizationCheck>();
  rbac::AuthorizationCheck out;
  for (const auto& [name, field] :
       {std::pair<const char*, std::string*>{"resource_id", &out.resource_id},
        {"action", &out.action}}) {
    const boost::json::value* v = check->if_contains(name);
    if (v == nullptr || !v->is_string() || v->get_string().empty()) {
      std::string m = "authorization_check.";
      m.append(name).append(" must be a non-empty string.");
      return Error(ErrorCode::kBadRequest, std::move(m));
    }
    *field = v->get_string();
  }
  return std::optional<rbac::AuthorizationCheck>(std::move(out));
}

}  // namespace

// Runs on the I/O thread while it stays in memory: a cache lookup, a JWT reuse and a string
// build, cheaper than a thread hop. Extending the session or changing its claims writes through
// to the store, so such a request is handed to the worker pool once its body is parsed.
Result<ApiResponse> SessionsAuthenticate(Call& call) {
  // The body is parsed into a stack arena and read without copies.
  unsigned char arena[4096];
  boost::json::monotonic_resource mr(arena, sizeof arena);
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body, &mr));
  TESSERA_ASSIGN_OR_RETURN(auto token, body.OptStringView("session_token"));
  TESSERA_ASSIGN_OR_RETURN(auto jwt, body.OptStringView("session_jwt"));
  if (token && token->empty()) token.reset();
  if (jwt && jwt->empty()) jwt.reset();
  TESSERA_ASSIGN_OR_RETURN(SessionOptions options, ParseSessionOptions(body));
  TESSERA_ASSIGN_OR_RETURN(options.authorization_check, ParseAuthorizationCheck(body));
  if (token && jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  if (!token && !jwt) {
    return Error(ErrorCode::kNoSessionArguments,
                 "One of session_token or session_jwt is required.");
  }
  if ((options.duration_minutes || options.custom_claims) && !call.on_worker()) {
    return call.ToWorker();
  }
  SessionService& sessions = call.services.sessions;
  TESSERA_ASSIGN_OR_RETURN(
      SessionResult s, token ? sessions.AuthenticateToken(call.project(), *token, options, call.now)
                             : sessions.AuthenticateJwt(call.project(), *jwt, options, call.now));
  Body b(call.request_id);
  AppendSession(s.session->rendered, s.last_accessed_at, b.Key("session"));
  b.Plain("session_jwt", s.session_jwt);
  b.Plain("session_token", s.session_token);
  AppendUserValue(*s.session->user, call.now, b.Key("user"));
  if (s.granting_roles) {
    std::string& v = b.Key("verdict");
    v += "{\"authorized\":true,\"granting_roles\":[";
    for (std::size_t i = 0; i < s.granting_roles->size(); ++i) {
      if (i > 0) v.push_back(',');
      AppendJsonString((*s.granting_roles)[i], v);
    }
    v += "]}";
  }
  return b.Close();
}

// GET /v1/sessions?user_id=: the user's live sessions.
Result<ApiResponse> SessionsGet(Call& call) {
  const std::optional<std::string> user_id = QueryParam(call.request.query, "user_id");
  if (!user_id || user_id->empty()) {
    return Error(ErrorCode::kBadRequest, "user_id is required.");
  }
  TESSERA_ASSIGN_OR_RETURN(auto sessions,
                           call.services.sessions.List(call.project(), *user_id, call.now));
  Body b(call.request_id);
  std::string& out = b.Key("sessions");
  out.push_back('[');
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendSession(sessions[i]->rendered, sessions[i]->record.last_accessed_at, out);
  }
  out.push_back(']');
  return b.Close();
}

// Exactly one of session_id, session_token, session_jwt.
Result<ApiResponse> SessionsRevoke(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(auto id, NonEmpty(body, "session_id"));
  TESSERA_ASSIGN_OR_RETURN(auto token, NonEmpty(body, "session_token"));
  TESSERA_ASSIGN_OR_RETURN(auto jwt, NonEmpty(body, "session_jwt"));
  const int given = int{id.has_value()} + int{token.has_value()} + int{jwt.has_value()};
  if (given > 1) {
    return Error(ErrorCode::kTooManyRevokeArguments,
                 "Only one of session_id, session_token or session_jwt may be given.");
  }
  if (given == 0) {
    return Error(ErrorCode::kNoRevokeArguments,
                 "One of session_id, session_token or session_jwt is required.");
  }
  const auto [by, value] = id      ? std::pair(RevokeBy::kSessionId, &*id)
                           : token ? std::pair(RevokeBy::kSessionToken, &*token)
                                   : std::pair(RevokeBy::kSessionJwt, &*jwt);
  TESSERA_RETURN_IF_ERROR(call.services.sessions.Revoke(call.project(), by, *value, call.now));
  return Body(call.request_id).Close();
}

// GET /v1/sessions/jwks/{project_id}: the published keys, unauthenticated. Served from memory;
// a project not in memory is read from the store on a worker thread (unknown ids are remembered,
// so made-up ones do not each cost a read).
Result<ApiResponse> SessionsJwks(Call& call) {
  ProjectRegistry& projects = call.services.projects;
  const std::string_view id = call.Param("project_id");
  TESSERA_ASSIGN_OR_RETURN(auto project,
                           call.on_worker() ? projects.Get(id) : projects.GetCached(id));
  if (project == nullptr) return call.ToWorker();
  Body b(call.request_id);
  b.Raw("keys", project->jwks_keys_json);
  return b.Close();
}

}  // namespace tessera::server::handlers
