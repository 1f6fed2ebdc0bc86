// The structured access log: one JSON object per line per request.
//
// It records what an operator needs (time, request id, route, status, error type, latency, sizes,
// client address) and never a token, JWT, secret, password or request body: the route label is
// logged instead of the path, and no header or query value is logged at all.
#ifndef TESSERA_SERVER_ACCESS_LOG_H_
#define TESSERA_SERVER_ACCESS_LOG_H_

#include <memory>
#include <string>
#include <string_view>

#include "server/metrics.h"
#include "tessera/result.h"

namespace spdlog {
class logger;
}

namespace tessera::server {

struct AccessLogEntry {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;  // The route's label (server/router.h).
  unsigned status;
  std::string_view error_type;
  double seconds;
  std::size_t bytes_in;
  std::size_t bytes_out;
  std::string_view remote_ip;
};

class AccessLog {
 public:
  // `target`: "stdout", "stderr", "off", or a file path (appended to). Lines are buffered and
  // flushed at least every second and when the process stops.
  static Result<std::unique_ptr<AccessLog>> Open(const std::string& target);
  ~AccessLog();

  void Write(const AccessLogEntry& e);
  void Flush();

 private:
  AccessLog() = default;
  std::shared_ptr<spdlog::logger> logger_;
};

// The server's own diagnostic lines (startup, shutdown, internal errors), JSON, on stderr.
void LogEvent(std::string_view level, std::string_view message,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields = {});

}  // namespace tessera::server

#endif  // TESSERA_SERVER_ACCESS_LOG_H_
