// The Stytch-compatible API: routes a request through the route table (server/routes.cc), checks
// who may call the route, runs its handler and maps any error to the API's error body. Synchronous
// and thread-safe; the HTTP server decides on which thread each request runs, from the route.
#ifndef TESSERA_SERVER_API_H_
#define TESSERA_SERVER_API_H_

#include <optional>
#include <string>
#include <string_view>

#include "server/api_types.h"
#include "server/call.h"
#include "server/router.h"

namespace tessera::server {

// Where a matched request starts.
enum class Pool {
  kIo,       // The connection's I/O thread.
  kWorkers,  // The worker pool (Blocking::kYes, kWhenNeeded on a shared store).
  kHashers,  // The hashing pool (Blocking::kHashes).
};

class Api {
 public:
  // `router` and every service must outlive the Api.
  Api(const Router& router, Services services) : router_(router), s_(services) {}

  const Router& router() const { return router_; }

  RouteMatch Resolve(const ApiRequest& request) const {
    return router_.Match(request.method, request.path);
  }

  // Where a matched request starts: on the I/O thread or on one of the two pools. A request that
  // matched no route starts on the I/O thread.
  Pool StartPool(const RouteMatch& match) const;

  // Answers the request (`match` is Resolve's result, errors included). Under /sdk/v1 (the
  // frontend SDK API) every answer carries credentialed CORS headers for the page's Origin,
  // OPTIONS is a CORS preflight, and a success body is enveloped as {"data": ...}. `on_worker` is
  // true on either pool (the handler may block). With `on_worker` false, a Blocking::kWhenNeeded
  // handler may ask for the worker pool instead: the result is nullopt then, nothing has changed,
  // and the caller calls Handle again on a worker thread.
  std::optional<ApiResponse> Handle(const ApiRequest& request, const RouteMatch& match,
                                    bool on_worker);

  // A fresh request id for a project (test or live form); "" project means test.
  std::string NewRequestId(std::string_view project_id);

 private:
  // Handle without what the frontend SDK API adds (CORS, the success envelope).
  std::optional<ApiResponse> HandleRoute(const ApiRequest& request, const RouteMatch& match,
                                         bool on_worker);

  const Router& router_;
  Services s_;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_API_H_
