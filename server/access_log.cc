#include "server/access_log.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "common/json.h"
#include "common/time_format.h"

namespace tessera::server {
namespace {

// A sink that appends formatted lines to a memory buffer and hands it to the kernel with one
// write(2) when it passes 64 KiB or on flush (every second, see Open). spdlog's own stdout sink
// fflushes every line: one syscall per request on the authenticate path.
class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  BufferedFdSink(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~BufferedFdSink() override {
    WriteOut();
    if (owned_) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    buffer_.append(formatted.data(), formatted.size());
    if (buffer_.size() >= 64 * 1024) WriteOut();
  }
  void flush_() override { WriteOut(); }

 private:
  void WriteOut() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // A log that cannot be written must not take the server down.
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  int fd_;
  bool owned_;
  std::string buffer_;
};

// RFC 3339 with milliseconds (they help to order lines), appended without allocating.
void AppendTimestamp(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  AppendRfc3339(now, out);
  const int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  out.pop_back();  // The 'Z'.
  out.push_back('.');
  out.push_back(static_cast<char>('0' + ms / 100));
  out.push_back(static_cast<char>('0' + ms / 10 % 10));
  out.push_back(static_cast<char>('0' + ms % 10));
  out.push_back('Z');
}

void AppendNumber(std::uint64_t v, std::string& out) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, buf + sizeof buf);
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::Open(const std::string& target) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  if (target == "off") return log;
  try {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (target == "stdout") {
      sink = std::make_shared<BufferedFdSink>(STDOUT_FILENO, false);
    } else if (target == "stderr") {
      sink = std::make_shared<BufferedFdSink>(STDERR_FILENO, false);
    } else {
      const int fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
      if (fd < 0) {
        return Error(ErrorCode::kInvalidArgument,
                     "cannot open access log " + target + ": " + std::strerror(errno));
      }
      sink = std::make_shared<BufferedFdSink>(fd, true);
    }
    // Synchronous logger, buffered sink: a line is a short locked append to memory. (spdlog's
    // async logger wakes its thread with a futex per line, which cost more than the formatting.)
    log->logger_ = std::make_shared<spdlog::logger>("access", sink);
    log->logger_->set_pattern("%v");
    log->logger_->flush_on(spdlog::level::err);
    static std::once_flag flusher_once;
    std::call_once(flusher_once, [] { spdlog::flush_every(std::chrono::seconds(1)); });
    spdlog::register_logger(log->logger_);
  } catch (const spdlog::spdlog_ex& e) {
    return Error(ErrorCode::kInvalidArgument,
                 "cannot open access log " + target + ": " + std::string(e.what()));
  }
  return log;
}

AccessLog::~AccessLog() {
  Flush();
  if (logger_) spdlog::drop(logger_->name());
}

void AccessLog::Flush() {
  if (logger_) logger_->flush();
}

void AccessLog::Write(const AccessLogEntry& e) {
  if (!logger_) return;
  thread_local std::string line;  // Reused: no allocation per request once warm.
  line.clear();
  line += "{\"ts\":\"";
  AppendTimestamp(line);
  line += "\",\"request_id\":";
  AppendJsonString(e.request_id, line);
  line += ",\"method\":";
  AppendJsonString(e.method, line);
  line += ",\"route\":";
  AppendJsonString(e.route, line);
  line += ",\"status\":";
  AppendNumber(e.status, line);
  if (!e.error_type.empty()) {
    line += ",\"error_type\":";
    AppendJsonString(e.error_type, line);
  }
  // Microseconds as a decimal number of milliseconds with three places, without printf.
  const std::uint64_t us = static_cast<std::uint64_t>(e.seconds * 1e6 + 0.5);
  line += ",\"duration_ms\":";
  AppendNumber(us / 1000, line);
  line.push_back('.');
  line.push_back(static_cast<char>('0' + us % 1000 / 100));
  line.push_back(static_cast<char>('0' + us % 100 / 10));
  line.push_back(static_cast<char>('0' + us % 10));
  line += ",\"bytes_in\":";
  AppendNumber(e.bytes_in, line);
  line += ",\"bytes_out\":";
  AppendNumber(e.bytes_out, line);
  line += ",\"remote\":";
  AppendJsonString(e.remote_ip, line);
  line += "}";
  logger_->info(line);
}

void LogEvent(std::string_view level, std::string_view message,
              std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string line = "{\"ts\":\"";
  AppendTimestamp(line);
  line += "\",\"level\":";
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
