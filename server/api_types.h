// The request and response as the API layer sees them: plain values, no Beast types, so handlers
// and their tests do not depend on the HTTP library.
#ifndef TESSERA_SERVER_API_TYPES_H_
#define TESSERA_SERVER_API_TYPES_H_

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
  std::string_view user_agent;
  std::string_view remote_ip;
  std::string_view body;
};

struct ApiResponse {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  ErrorCode error = ErrorCode::kOk;  // For metrics and the access log.
  std::string error_type;            // The error_type sent, "" on success.
  std::string request_id;            // For the access log.
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_API_TYPES_H_
