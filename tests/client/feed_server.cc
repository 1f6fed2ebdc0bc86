#include "feed_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace tessera::client::testing {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::optional<std::uint64_t> ParseU64(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

FeedServer::FeedServer(Options options) : options_(options) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return;  // ok() is false.
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
}

FeedServer::~FeedServer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  for (auto& c : conns_) {
    if (c->fd >= 0) ::close(c->fd);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (const int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void FeedServer::Wake() {
  if (wake_[1] >= 0) {
    const char b = 1;
    (void)!::write(wake_[1], &b, 1);
  }
}

// --- The log -------------------------------------------------------------------------------------

std::uint64_t FeedServer::Append(std::string tail) {
  const std::uint64_t sequence = log_.size() + 1;
  log_.push_back(Entry{sequence, "{\"sequence\":" + std::to_string(sequence) + "," + tail, true});
  return sequence;
}

std::uint64_t FeedServer::RevokeSession(const std::string& session_id, const std::string& user_id,
                                        std::int64_t revoked_at, std::int64_t relevant_until) {
  std::uint64_t sequence;
  {
    std::lock_guard lock(mu_);
    sequence = Append("\"kind\":\"session\",\"session_id\":" + Quote(session_id) + ",\"user_id\":" +
                      Quote(user_id) + ",\"revoked_at\":" + std::to_string(revoked_at) +
                      ",\"relevant_until\":" + std::to_string(relevant_until) + "}");
  }
  Wake();
  return sequence;
}

std::uint64_t FeedServer::RevokeUser(const std::string& user_id, std::int64_t not_before,
                                     std::int64_t revoked_at, std::int64_t relevant_until) {
  std::uint64_t sequence;
  {
    std::lock_guard lock(mu_);
    sequence = Append("\"kind\":\"user\",\"user_id\":" + Quote(user_id) + ",\"not_before\":" +
                      std::to_string(not_before) + ",\"revoked_at\":" + std::to_string(revoked_at) +
                      ",\"relevant_until\":" + std::to_string(relevant_until) + "}");
  }
  Wake();
  return sequence;
}

void FeedServer::AddSessions(std::size_t count, std::int64_t revoked_at,
                             std::int64_t relevant_until) {
  {
    std::lock_guard lock(mu_);
    log_.reserve(log_.size() + count);
    for (std::size_t i = 0; i < count; ++i) {
      Append("\"kind\":\"session\",\"session_id\":\"session-bench-" + std::to_string(i) +
             "\",\"user_id\":\"user-bench-" + std::to_string(i) +
             "\",\"revoked_at\":" + std::to_string(revoked_at) +
             ",\"relevant_until\":" + std::to_string(relevant_until) + "}");
    }
  }
  Wake();
}

void FeedServer::RemoveFromSnapshot(std::uint64_t sequence) {
  std::lock_guard lock(mu_);
  if (sequence >= 1 && sequence <= log_.size()) log_[sequence - 1].in_snapshot = false;
}

std::uint64_t FeedServer::head() const {
  std::lock_guard lock(mu_);
  return log_.size();
}

// --- Behaviour -----------------------------------------------------------------------------------

void FeedServer::SetLagMs(std::int64_t lag_ms) {
  std::lock_guard lock(mu_);
  lag_ms_ = lag_ms;
}

void FeedServer::Freeze() {
  std::lock_guard lock(mu_);
  frozen_ = true;
}

void FeedServer::Thaw() {
  {
    std::lock_guard lock(mu_);
    frozen_ = false;
  }
  Wake();
}

void FeedServer::DropConnections() {
  {
    std::lock_guard lock(mu_);
    drop_ = true;
  }
  Wake();
  // Wait until the server thread has closed them, so the caller knows they are gone.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(10), [this] { return !drop_ || stop_; });
}

void FeedServer::RefuseWith(std::optional<int> status) {
  std::lock_guard lock(mu_);
  refuse_ = status;
}

void FeedServer::ResumeWithSnapshot(bool on) {
  std::lock_guard lock(mu_);
  resume_with_snapshot_ = on;
}

void FeedServer::SendRaw(const std::string& bytes) {
  {
    std::lock_guard lock(mu_);
    raw_ += bytes;
  }
  Wake();
}

// --- Observations --------------------------------------------------------------------------------

std::uint64_t FeedServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<std::string> FeedServer::last_event_ids() const {
  std::lock_guard lock(mu_);
  return last_event_ids_;
}

std::string FeedServer::last_authorization() const {
  std::lock_guard lock(mu_);
  return last_authorization_;
}

std::string FeedServer::last_accept() const {
  std::lock_guard lock(mu_);
  return last_accept_;
}

std::uint64_t FeedServer::live_streams() const {
  std::lock_guard lock(mu_);
  return static_cast<std::uint64_t>(
      std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->streaming; }));
}

std::uint64_t FeedServer::frames_sent() const {
  std::lock_guard lock(mu_);
  return frames_sent_;
}

bool FeedServer::AwaitRequests(std::uint64_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_ >= n; });
}

bool FeedServer::AwaitLiveStreams(std::uint64_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return static_cast<std::uint64_t>(std::count_if(
               conns_.begin(), conns_.end(), [](const auto& c) { return c->streaming; })) >= n;
  });
}

// --- The server thread ---------------------------------------------------------------------------

void FeedServer::Run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    {
      std::lock_guard lock(mu_);
      for (const auto& c : conns_) fds.push_back({c->fd, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 10);  // Wakes up for heartbeats at least this often.

    std::lock_guard lock(mu_);
    if (stop_) return;
    char drain[64];
    while (::read(wake_[0], drain, sizeof drain) > 0) {
    }
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        // A client that stops reading cannot block the server (and the test) for longer.
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        conns_.push_back(std::move(c));
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      for (auto& c : conns_) {
        if (c->fd == fds[i].fd && c->fd >= 0) ReadRequest(*c);
      }
    }
    if (drop_) {
      for (auto& c : conns_) {
        if (c->fd >= 0) ::close(c->fd);
        c->fd = -1;
      }
      drop_ = false;
    }
    const SteadyTime now = std::chrono::steady_clock::now();
    if (!frozen_) {
      for (auto& c : conns_) {
        if (c->fd < 0) continue;
        bool ok = true;
        if (!c->answered && c->request.find("\r\n\r\n") != std::string::npos) ok = Answer(*c);
        if (ok && c->streaming && !raw_.empty()) ok = WriteChunk(*c, raw_);
        if (ok && c->streaming) ok = Pump(*c, now);
        if (!ok && c->fd >= 0) {
          ::close(c->fd);
          c->fd = -1;
        }
      }
      raw_.clear();
    }
    std::erase_if(conns_, [](const auto& c) { return c->fd < 0; });
    cv_.notify_all();
  }
}

void FeedServer::ReadRequest(Conn& c) {
  char buf[4096];
  const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    ::close(c.fd);  // The client hung up.
    c.fd = -1;
    return;
  }
  if (n < 0 || c.answered) return;  // Bytes after the request are ignored.
  c.request.append(buf, static_cast<std::size_t>(n));
  const std::size_t end = c.request.find("\r\n\r\n");
  if (end == std::string::npos) return;
  ++requests_;
  std::size_t at = c.request.find("\r\n");
  std::string last_event_id;
  while (at < end) {
    const std::size_t next = c.request.find("\r\n", at + 2);
    const std::string line = c.request.substr(at + 2, next - at - 2);
    at = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "last-event-id") {
      c.has_last_event_id = true;
      c.last_event_id = value;
    } else if (name == "authorization") {
      last_authorization_ = value;
    } else if (name == "accept") {
      last_accept_ = value;
    }
  }
  last_event_ids_.push_back(c.last_event_id);
}

bool FeedServer::Answer(Conn& c) {
  c.answered = true;
  const std::size_t sp1 = c.request.find(' ');
  const std::size_t sp2 = c.request.find(' ', sp1 + 1);
  const std::string target = c.request.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string path = target.substr(0, target.find('?'));
  std::optional<int> status = refuse_;
  if (path != "/v1/sessions/revocations") status = 404;
  if (status) {
    const std::string body = "{\"status_code\":" + std::to_string(*status) +
                             ",\"error_type\":\"fake_feed\",\"error_message\":\"refused\"}";
    const std::string response = "HTTP/1.1 " + std::to_string(*status) +
                                 " Refused\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                 body;
    (void)::send(c.fd, response.data(), response.size(), MSG_NOSIGNAL);
    return false;  // Closed.
  }
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
      "X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n";
  if (::send(c.fd, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) {
    return false;
  }
  c.streaming = true;
  c.next_heartbeat = std::chrono::steady_clock::now();
  const auto resume = ParseU64(c.last_event_id);
  if (c.has_last_event_id && !resume_with_snapshot_ && resume && *resume <= log_.size()) {
    c.sent_through = *resume;  // Pump sends every entry after it.
    return true;
  }
  c.sent_through = log_.size();
  ++frames_sent_;
  return WriteChunk(c, SnapshotFrame());
}

std::string FeedServer::SnapshotFrame() const {
  std::string entries;
  for (const Entry& e : log_) {
    if (!e.in_snapshot) continue;
    if (!entries.empty()) entries += ',';
    entries += e.json;
  }
  const std::string sequence = std::to_string(log_.size());
  return "event: snapshot\nid: " + sequence + "\ndata: {\"sequence\":" + sequence +
         ",\"lag_ms\":" + std::to_string(lag_ms_) + ",\"entries\":[" + entries + "]}\n\n";
}

bool FeedServer::Pump(Conn& c, SteadyTime now) {
  while (c.sent_through < log_.size()) {
    const Entry& e = log_[c.sent_through];
    ++frames_sent_;
    if (!WriteChunk(
            c, "event: revoke\nid: " + std::to_string(e.sequence) + "\ndata: " + e.json + "\n\n")) {
      return false;
    }
    ++c.sent_through;
  }
  if (now >= c.next_heartbeat) {
    c.next_heartbeat = now + options_.heartbeat_interval;
    ++frames_sent_;
    return WriteChunk(c, "event: heartbeat\ndata: {\"sequence\":" + std::to_string(c.sent_through) +
                             ",\"lag_ms\":" + std::to_string(lag_ms_) + "}\n\n");
  }
  return true;
}

bool FeedServer::WriteChunk(Conn& c, const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  const std::string chunk = size + data + "\r\n";
  const char* p = chunk.data();
  std::size_t left = chunk.size();
  while (left > 0) {
    const ssize_t w = ::send(c.fd, p, left, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace tessera::client::testing
