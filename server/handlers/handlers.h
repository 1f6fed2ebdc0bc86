// The API's handlers, one function per route, grouped by resource (one .cc file each). The route
// table (server/routes.cc) says which route calls which, who may call it and where it runs.
#ifndef TESSERA_SERVER_HANDLERS_HANDLERS_H_
#define TESSERA_SERVER_HANDLERS_HANDLERS_H_

#include "server/call.h"

namespace tessera::server::handlers {

// health.cc: liveness, readiness, Prometheus metrics.
Result<ApiResponse> Healthz(Call& call);
Result<ApiResponse> Readyz(Call& call);
Result<ApiResponse> PrometheusMetrics(Call& call);

// sessions.cc: /v1/sessions/*.
Result<ApiResponse> SessionsAuthenticate(Call& call);
Result<ApiResponse> SessionsGet(Call& call);
Result<ApiResponse> SessionsRevoke(Call& call);
Result<ApiResponse> SessionsJwks(Call& call);
// revocations.cc: the revocation feed.
Result<ApiResponse> SessionsRevocations(Call& call);

// rbac.cc: /v1/rbac/*.
Result<ApiResponse> RbacPolicy(Call& call);

// users.cc: /v1/users/*.
Result<ApiResponse> UsersCreate(Call& call);
Result<ApiResponse> UsersGet(Call& call);
Result<ApiResponse> UsersUpdate(Call& call);
Result<ApiResponse> UsersDelete(Call& call);
Result<ApiResponse> UsersSearch(Call& call);

// passwords.cc: /v1/passwords/*.
Result<ApiResponse> PasswordsCreate(Call& call);
Result<ApiResponse> PasswordsAuthenticate(Call& call);
Result<ApiResponse> PasswordsStrengthCheck(Call& call);

}  // namespace tessera::server::handlers

#endif  // TESSERA_SERVER_HANDLERS_HANDLERS_H_
