// The Stytch-compatible API: routing and the handlers, over the services. Synchronous and
// thread-safe; the HTTP server decides on which thread each request runs.
#ifndef TESSERA_SERVER_API_H_
#define TESSERA_SERVER_API_H_

#include <string>
#include <vector>

#include "server/api_types.h"
#include "server/metrics.h"
#include "service/password_service.h"
#include "service/project_registry.h"
#include "service/session_service.h"
#include "service/user_service.h"

namespace tessera::server {

struct ApiDeps {
  ProjectRegistry& projects;
  SessionService& sessions;
  UserService& users;
  PasswordService& passwords;
  SessionStore& store;
  Metrics& metrics;
  const Clock& clock;
  RandomSource& random;
};

struct RouteMatch {
  Route route = Route::kUnmatched;
  std::vector<std::string> params;  // Decoded path parameters, in order.
  // Run on the worker pool rather than an I/O thread: anything that hashes a password, writes to
  // the store or may take long. A cheap authenticate (no extension, no claims) runs inline.
  bool blocking = false;
  Status error;       // kRouteNotFound / kMethodNotAllowed.
  std::string allow;  // The Allow header for kMethodNotAllowed.
};

class Api {
 public:
  explicit Api(ApiDeps deps) : d_(deps) {}

  RouteMatch Resolve(const ApiRequest& request) const;
  ApiResponse Handle(const ApiRequest& request, const RouteMatch& match);

  // A fresh request id for a project (test or live form); "" project means test.
  std::string NewRequestId(std::string_view project_id);

 private:
  ApiDeps d_;
};

// Percent-decodes a path segment or query value (`plus_is_space` for query strings). False on a
// malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// The value of `name` in a query string, decoded; nullopt when absent or malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace tessera::server

#endif  // TESSERA_SERVER_API_H_
