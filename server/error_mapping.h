// The one place where errors become HTTP: status code, Stytch `error_type` and message.
#ifndef TESSERA_SERVER_ERROR_MAPPING_H_
#define TESSERA_SERVER_ERROR_MAPPING_H_

#include <string>
#include <string_view>

#include "server/api_types.h"
#include "tessera/status.h"

namespace tessera::server {

struct HttpError {
  unsigned status;
  std::string_view error_type;
  // When set, replaces the status's own message (used for internal errors, whose details go to
  // the log, never to the caller).
  std::string_view fixed_message;
};

// The mapping of `code`. Exhaustive over ErrorCode (compiler-checked).
HttpError MapError(ErrorCode code);

// The error response for `status`: {status_code, request_id, error_type, error_message,
// error_url}. Never has an `error` key (spec §5.1).
ApiResponse ErrorResponse(const Status& status, std::string_view request_id);

}  // namespace tessera::server

#endif  // TESSERA_SERVER_ERROR_MAPPING_H_
