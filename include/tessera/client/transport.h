// The SDK's HTTP transport: an interface (so tests can inject failures) and a libcurl
// implementation with connection reuse and timeouts.
#ifndef TESSERA_CLIENT_TRANSPORT_H_
#define TESSERA_CLIENT_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tessera/client/export.h"
#include "tessera/client/outcome.h"

namespace tessera::client {

inline constexpr std::size_t kDefaultMaxResponseBytes = std::size_t{1} << 20;  // 1 MiB.

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT", "DELETE"
  std::string url;     // Absolute.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The largest response body accepted. A larger one is not read to its end: the transfer stops
  // as soon as the body (or its announced Content-Length) passes this, and Send fails with
  // kResponseTooLarge. Default: 1 MiB.
  std::size_t max_response_bytes = kDefaultMaxResponseBytes;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `request`. Any HTTP status is a success here; only a missing answer (kTransport or
  // kTimeout) or one whose body exceeds request.max_response_bytes (kResponseTooLarge) is an
  // error. Thread-safe: called from many threads at once.
  virtual Outcome<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct CurlTransportOptions {
  std::chrono::milliseconds connect_timeout{2000};  // Default: 2 s.
  std::chrono::milliseconds request_timeout{5000};  // Whole request. Default: 5 s.
  std::size_t max_idle_handles = 16;  // Pooled easy handles (each keeps its connections).
};

// libcurl with a pool of easy handles: each call borrows one, so connections are reused across
// calls and calls from many threads run in parallel.
TESSERA_CLIENT_EXPORT std::shared_ptr<Transport> NewCurlTransport(
    const CurlTransportOptions& options = {});

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_TRANSPORT_H_
