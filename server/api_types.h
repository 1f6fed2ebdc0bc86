// The request and response as the API layer sees them: plain values, no Beast types, so handlers
// and their tests do not depend on the HTTP library.
#ifndef TESSERA_SERVER_API_TYPES_H_
#define TESSERA_SERVER_API_TYPES_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tessera/status.h"

namespace tessera::server {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

struct ApiRequest {
  Method method = Method::kOther;
  std::string_view path;   // Without the query string, still percent-encoded.
  std::string_view query;  // After '?', without it; "" when absent.
  std::string_view authorization;
  std::string_view host;  // The Host header; "" when absent (HTTP/1.0).
  std::string_view user_agent;
  std::string_view last_event_id;  // Server-sent events resume here; "" when absent.
  std::string_view remote_ip;
  std::string_view body;
  // The frontend SDK API's view of the calling page: the `Origin` header, and the SDK's own
  // `X-SDK-Parent-Host` (the page's origin, also on same-origin GETs, which carry no Origin).
  std::string_view origin;
  std::string_view sdk_parent_host;
};

// The origin of the page a frontend SDK call comes from: `Origin`, else `X-SDK-Parent-Host`;
// "" when neither is present.
inline std::string_view PageOrigin(const ApiRequest& request) {
  return request.origin.empty() ? request.sdk_parent_host : request.origin;
}

// A response produced over time: a server-sent event stream, or a long poll that answers once
// something happens. The HTTP layer calls Poll on the connection's I/O thread (so Poll must never
// block), whenever Wake was called or NextPoll has come, and writes what Poll returns.
class ResponseStream {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  virtual ~ResponseStream() = default;

  // True: a chunked body written frame by frame as Poll produces them (status 200, headers from
  // the ApiResponse). False: one body, written when Poll says the response is complete.
  virtual bool incremental() const = 0;
  // Appends what is ready to `out`. Returns true once the response is complete (for an
  // incremental stream: the stream ends). With `ending` (the server is shutting down) the
  // response must complete now, with what it has.
  virtual bool Poll(SteadyTime now, bool ending, std::string& out) = 0;
  // The latest time at which Poll must be called again.
  virtual SteadyTime NextPoll() const = 0;
  // `wake` makes the HTTP layer call Poll soon; the stream may call it from any thread, any
  // number of times, also after the connection ended. Called once, before the first Poll.
  virtual void SetWake(std::function<void()> wake) = 0;
};

struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  ErrorCode error = ErrorCode::kOk;  // For metrics and the access log.
  std::string error_type;            // The error_type sent, "" on success.
  std::string request_id;            // For the access log.
  std::vector<std::pair<std::string, std::string>> headers;
  // Set for a response produced over time; `body` is then unused.
  std::shared_ptr<ResponseStream> stream;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_API_TYPES_H_
