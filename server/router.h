// Matching a request's method and path against the route table (server/routes.cc).
//
// The table is the only place that knows the API's routes: this file turns it into 404, 405 with
// `Allow`, decoded path parameters, the route's metrics label and the facts the dispatcher needs
// (who may call it, whether it may block). Nothing else looks at paths.
#ifndef TESSERA_SERVER_ROUTER_H_
#define TESSERA_SERVER_ROUTER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/api_types.h"
#include "server/call.h"
#include "tessera/status.h"

namespace tessera::server {

// Who may call a route.
enum class Access {
  kAnyone,  // No credentials: health, metrics, the JWKS.
  // HTTP Basic `project_id:secret`; the handler gets the project. On the I/O thread the project
  // must be in memory; otherwise the call moves to the worker pool before its handler runs.
  kProjectSecret,
  // The frontend SDK API (/sdk/v1): HTTP Basic `public_token:session_token`, where a password
  // half equal to the public token means "no session". The page's origin (PageOrigin) must be on
  // the project's allowed list. The handler gets the project and the session token, if any.
  // Such routes run on the worker pool (Blocking::kYes): the token may need a store read.
  kPublicToken,
  // As kPublicToken, but the public token is the route's `{public_token}` path parameter and no
  // session is involved (the SDK's bootstrap).
  kPublicTokenInPath,
};

// Where a route's handler runs.
enum class Blocking {
  kNo,   // Memory only (or the store's cheapest read): runs on the I/O thread.
  kYes,  // Writes, searches or reads the store: runs on the worker pool.
  // Hashes a password (Argon2id): runs on the hashing pool, so that a storm of sign-ins never
  // delays the worker pool's store writes (http_server.h, HttpServerOptions::hash_concurrency).
  kHashes,
  // Runs on the I/O thread and hands itself to the worker pool (Call::ToWorker) once the parsed
  // request shows it needs more than memory (a write, or a project not yet loaded). On a store
  // shared between nodes, where every use reads the database, it starts on the worker pool.
  kWhenNeeded,
};

// One row of the route table.
struct RouteDef {
  Method method;
  // Literal segments and `{name}` parameters, each parameter a whole segment:
  // "/v1/users/{user_id}".
  std::string_view path;
  Access access;
  Blocking blocking;
  Handler handler;
};

// Dense route numbers for metrics and the access log: the row's index in the table, and one more
// for requests that matched no route.
using RouteId = std::uint32_t;

struct RouteMatch {
  const RouteDef* route = nullptr;  // Null when `error` is set.
  RouteId id = 0;                   // Router::unmatched() when no route matched.
  std::vector<std::string> params;  // Decoded path parameters, in the pattern's order.
  Status error;                     // kRouteNotFound or kMethodNotAllowed.
  std::string allow;                // The `Allow` header for kMethodNotAllowed.
};

class Router {
 public:
  // REQUIRES: `routes` outlives the router; every path starts with '/', parameters are whole
  // segments, and no (method, path) pair appears twice. Aborts at start-up otherwise, since a
  // malformed table is a programming error.
  explicit Router(std::span<const RouteDef> routes);

  // The route for `method` on `path` (still percent-encoded, no query string). A path matches the
  // pattern whose literal segments match most to the left ("/v1/users/search" before
  // "/v1/users/{user_id}"); HEAD is accepted wherever GET is. A parameter that is not valid
  // percent-encoding is a 404; a known path with another method a 405 naming the allowed ones.
  RouteMatch Match(Method method, std::string_view path) const;

  // "POST /v1/sessions/authenticate", or "unmatched".
  std::string_view Label(RouteId id) const { return labels_[id]; }
  // Every label, indexed by id.
  std::span<const std::string> Labels() const { return labels_; }
  // The number of ids, unmatched() included.
  std::size_t size() const { return labels_.size(); }
  RouteId unmatched() const { return static_cast<RouteId>(labels_.size() - 1); }

  // The names of a route's parameters, in order (for Call::Param).
  std::span<const std::string> ParamNames(RouteId id) const { return param_names_[id]; }

 private:
  // Routes sharing one path pattern.
  struct Group {
    std::vector<std::string_view> segments;  // "{name}" marks a parameter.
    std::vector<RouteId> routes;
    std::string allow;  // "GET, PUT, DELETE", in table order.
  };

  std::optional<std::size_t> FindGroup(std::string_view path) const;

  std::span<const RouteDef> routes_;
  std::vector<Group> groups_;
  std::unordered_map<std::string_view, std::size_t> literal_;  // Paths without parameters.
  std::vector<std::size_t> patterns_;  // Groups with parameters, most specific first.
  std::vector<std::string> labels_;
  std::vector<std::vector<std::string>> param_names_;
};

std::string_view MethodName(Method method);

// Percent-decodes a path segment or query value (`plus_is_space` for query strings). False on a
// malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// The value of `name` in a query string, decoded; nullopt when absent or malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace tessera::server

#endif  // TESSERA_SERVER_ROUTER_H_
