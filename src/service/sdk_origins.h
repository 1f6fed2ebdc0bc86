// Web origins as the frontend SDK API compares them: the form a browser sends in `Origin`.
#ifndef TESSERA_SERVICE_SDK_ORIGINS_H_
#define TESSERA_SERVICE_SDK_ORIGINS_H_

#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera {

// `scheme://host[:port]` with scheme http or https, as a browser serializes it: scheme and host
// lower-cased, the scheme's default port dropped, one trailing '/' tolerated and dropped.
// kInvalidArgument (saying why) for anything else: a path, query, fragment, user info, a port
// outside 1-65535, a wildcard, or a host with characters no origin has.
Result<std::string> NormalizeSdkOrigin(std::string_view origin);

}  // namespace tessera

#endif  // TESSERA_SERVICE_SDK_ORIGINS_H_
