// Every route of the API, one row each: method, path (with `{parameters}`), who may call it,
// where it runs, and its handler. Routing, 404/405 with `Allow`, parameter decoding, metrics
// labels and the thread a request runs on all derive from this table (server/router.h).
#include "server/routes.h"

#include "server/handlers/handlers.h"

namespace tessera::server {
namespace {

using enum Method;
using enum Access;
using enum Blocking;
namespace h = handlers;

// clang-format off
constexpr RouteDef kRoutes[] = {
  // method   path                                    access           blocking     handler
  {kGet,    "/healthz",                             kAnyone,         kNo,         h::Healthz},
  {kGet,    "/readyz",                              kAnyone,         kYes,        h::Readyz},
  {kGet,    "/metrics",                             kAnyone,         kNo,         h::PrometheusMetrics},

  {kPost,   "/v1/sessions/authenticate",            kProjectSecret,  kWhenNeeded, h::SessionsAuthenticate},
  {kGet,    "/v1/sessions",                         kProjectSecret,  kYes,        h::SessionsGet},
  {kPost,   "/v1/sessions/revoke",                  kProjectSecret,  kYes,        h::SessionsRevoke},
  {kGet,    "/v1/sessions/jwks/{project_id}",       kAnyone,         kWhenNeeded, h::SessionsJwks},
  {kGet,    "/v1/sessions/revocations",             kProjectSecret,  kWhenNeeded, h::SessionsRevocations},

  {kGet,    "/v1/rbac/policy",                      kProjectSecret,  kWhenNeeded, h::RbacPolicy},

  {kPost,   "/v1/users",                            kProjectSecret,  kYes,        h::UsersCreate},
  {kPost,   "/v1/users/search",                     kProjectSecret,  kYes,        h::UsersSearch},
  {kGet,    "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersGet},
  {kPut,    "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersUpdate},
  {kDelete, "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersDelete},

  {kPost,   "/v1/passwords",                        kProjectSecret,  kYes,        h::PasswordsCreate},
  {kPost,   "/v1/passwords/authenticate",           kProjectSecret,  kYes,        h::PasswordsAuthenticate},
  {kPost,   "/v1/passwords/strength_check",         kProjectSecret,  kYes,        h::PasswordsStrengthCheck},
};
// clang-format on

}  // namespace

std::span<const RouteDef> ApiRoutes() { return kRoutes; }

}  // namespace tessera::server
