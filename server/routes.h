// The API's table of contents: every route Tessera serves (server/routes.cc).
#ifndef TESSERA_SERVER_ROUTES_H_
#define TESSERA_SERVER_ROUTES_H_

#include <span>

#include "server/router.h"

namespace tessera::server {

// Every route, in the order the API documentation lists them.
std::span<const RouteDef> ApiRoutes();

}  // namespace tessera::server

#endif  // TESSERA_SERVER_ROUTES_H_
