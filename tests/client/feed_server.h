// A fake revocation feed for the SDK's tests and benchmark: a real HTTP/1.1 server on 127.0.0.1
// (port 0) that serves GET /v1/sessions/revocations as docs/revocation.md describes (a snapshot,
// or on resume every entry after Last-Event-ID; then revokes as they are added and heartbeats),
// and that a test can script: freeze it, report a lag, drop its connections, refuse requests,
// answer a resume with a snapshot, or write arbitrary bytes into the stream.
//
// One thread serves every connection (poll); the test's calls change the state under a mutex and
// wake it. Nothing here depends on GoogleTest, so bench/client_bench.cc uses it too. The
// destructor closes every connection and joins the thread.
#ifndef TESSERA_TESTS_CLIENT_FEED_SERVER_H_
#define TESSERA_TESTS_CLIENT_FEED_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tessera::client::testing {

class FeedServer {
 public:
  struct Options {
    // Heartbeats on every live stream this often (unless frozen).
    std::chrono::milliseconds heartbeat_interval{50};
  };
  FeedServer() : FeedServer(Options{}) {}
  explicit FeedServer(Options options);
  ~FeedServer();
  FeedServer(const FeedServer&) = delete;
  FeedServer& operator=(const FeedServer&) = delete;

  bool ok() const { return port_ != 0; }  // Listening.
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // --- The log. Each call appends one entry (sequence = the previous + 1), sends it on every live
  // stream at once unless frozen, and returns its sequence. Times are Unix seconds.
  std::uint64_t RevokeSession(const std::string& session_id, const std::string& user_id,
                              std::int64_t revoked_at, std::int64_t relevant_until);
  std::uint64_t RevokeUser(const std::string& user_id, std::int64_t not_before,
                           std::int64_t revoked_at, std::int64_t relevant_until);
  // Appends `count` session entries named "session-bench-<i>" in one go (for the benchmark).
  void AddSessions(std::size_t count, std::int64_t revoked_at, std::int64_t relevant_until);
  // Snapshots no longer list the entry (as when it has left the server's relevance window).
  void RemoveFromSnapshot(std::uint64_t sequence);
  std::uint64_t head() const;

  // --- Behaviour.
  // The lag_ms that snapshots and heartbeats report. Default 0.
  void SetLagMs(std::int64_t lag_ms);
  // While frozen, nothing at all is written: no heartbeat, no revoke, no answer to a new request
  // (the connections stay open). Thawing sends what is owed, in order.
  void Freeze();
  void Thaw();
  // Closes every open connection (streams and requests not yet answered).
  void DropConnections();
  // From now on, every new request is answered `status` with a JSON error body and closed;
  // nullopt serves the feed again. Default: serve.
  void RefuseWith(std::optional<int> status);
  // Answer a request carrying Last-Event-ID with a snapshot instead of the entries after it.
  void ResumeWithSnapshot(bool on);
  // Writes `bytes` on every live stream as they are (a protocol-error test's frames).
  void SendRaw(const std::string& bytes);

  // --- What happened.
  std::uint64_t requests() const;  // Requests read (feed or not).
  // The Last-Event-ID header of each request, in order ("" when absent).
  std::vector<std::string> last_event_ids() const;
  // The Authorization and Accept headers of the last request.
  std::string last_authorization() const;
  std::string last_accept() const;
  std::uint64_t live_streams() const;
  std::uint64_t frames_sent() const;  // Snapshots, revokes and heartbeats written.
  // Wait until the condition holds; false after `timeout`.
  bool AwaitRequests(std::uint64_t n, std::chrono::milliseconds timeout);
  bool AwaitLiveStreams(std::uint64_t n, std::chrono::milliseconds timeout);

 private:
  struct Entry {
    std::uint64_t sequence;
    std::string json;  // The ENTRY object.
    bool in_snapshot = true;
  };
  struct Conn {
    int fd = -1;
    std::string request;  // Until the blank line.
    bool answered = false;
    bool streaming = false;
    std::string last_event_id;
    bool has_last_event_id = false;
    std::uint64_t sent_through = 0;  // Of the log, on this stream.
    std::chrono::steady_clock::time_point next_heartbeat;
  };

  void Run();
  void Wake();
  // Everything below runs on the server thread with mu_ held.
  void ReadRequest(Conn& c);
  bool Answer(Conn& c);
  bool Pump(Conn& c, std::chrono::steady_clock::time_point now);
  bool WriteChunk(Conn& c, const std::string& data);
  std::string SnapshotFrame() const;
  std::uint64_t Append(std::string json_without_sequence_tail);

  const Options options_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> log_;  // GUARDED_BY(mu_)
  std::int64_t lag_ms_ = 0;
  bool frozen_ = false;
  bool drop_ = false;
  std::optional<int> refuse_;
  bool resume_with_snapshot_ = false;
  std::string raw_;  // Pending raw bytes for every live stream.
  std::vector<std::unique_ptr<Conn>> conns_;
  std::uint64_t requests_ = 0;
  std::vector<std::string> last_event_ids_;
  std::string last_authorization_;
  std::string last_accept_;
  std::uint64_t frames_sent_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tessera::client::testing

#endif  // TESSERA_TESTS_CLIENT_FEED_SERVER_H_
