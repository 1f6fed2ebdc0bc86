#include "server/access_log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

#include "common/json.h"
#include "common/time_format.h"

namespace tessera::server {
namespace {

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  std::string ts = FormatRfc3339(now);
  // Milliseconds help to order lines; RFC 3339 allows a fraction before the Z.
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms.count()));
  ts.insert(ts.size() - 1, frac);
  return ts;
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& target) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  if (target == "off") return log;
  static std::once_flag pool_once;
  std::call_once(pool_once, [] { spdlog::init_thread_pool(65536, 1); });
  try {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (target == "stdout") {
      sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else if (target == "stderr") {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(target, /*truncate=*/false);
    }
    // overrun_oldest: under a flood the log drops lines rather than blocking requests.
    log->logger_ = std::make_shared<spdlog::async_logger>(
        "access", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
    log->logger_->set_pattern("%v");
    log->logger_->flush_on(spdlog::level::err);
  } catch (const spdlog::spdlog_ex& e) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot open access log " + target + ": " + std::string(e.what()));
  }
  return log;
}

AccessLog::~AccessLog() { Flush(); }

void AccessLog::Flush() {
  if (logger_) logger_->flush();
}

void AccessLog::Write(const AccessLogEntry& e) {
  if (!logger_) return;
  std::string line;
  line.reserve(320);
  line += "{\"ts\":\"";
  line += Timestamp();
  line += "\",\"request_id\":";
  AppendJsonString(e.request_id, line);
  line += ",\"method\":";
  AppendJsonString(e.method, line);
  line += ",\"route\":";
  AppendJsonString(RouteLabel(e.route), line);
  line += ",\"status\":";
  line += std::to_string(e.status);
  if (!e.error_type.empty()) {
    line += ",\"error_type\":";
    AppendJsonString(e.error_type, line);
  }
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", e.seconds * 1000.0);
  line += ",\"duration_ms\":";
  line += ms;
  line += ",\"bytes_in\":";
  line += std::to_string(e.bytes_in);
  line += ",\"bytes_out\":";
  line += std::to_string(e.bytes_out);
  line += ",\"remote\":";
  AppendJsonString(e.remote_ip, line);
  line += "}";
  logger_->info(line);
}

void LogEvent(std::string_view level, std::string_view message,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string line = "{\"ts\":\"" + Timestamp() + "\",\"level\":";
  AppendJsonString(level, line);
  line += ",\"msg\":";
  AppendJsonString(message, line);
  for (const auto& [k, v] : fields) {
    line += ",";
    AppendJsonString(k, line);
    line += ":";
    AppendJsonString(v, line);
  }
  line += "}\n";
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tessera::server
