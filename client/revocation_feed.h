// The SDK's follower of the revocation feed (docs/revocation.md): a background thread reads the
// server-sent event stream GET /v1/sessions/revocations with libcurl, keeps an exact revocation
// set from its snapshot and revoke frames, and marks from its snapshot and heartbeat frames how
// long the set may be trusted. Local verification asks Check() about every JWT it would accept.
//
// Fail closed: Check() vouches for a JWT only while the last frame that carried lag_ms (a snapshot
// or a heartbeat) arrived, by the injected monotonic clock, less than staleness_bound - lag_ms
// ago. A silent stream, a dead server, a lagging node, a gap in the sequence or a frame the SDK
// cannot read all end in kStale within that bound, whatever libcurl is doing.
#ifndef TESSERA_CLIENT_REVOCATION_FEED_H_
#define TESSERA_CLIENT_REVOCATION_FEED_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "client/revocation_set.h"
#include "tessera/clock.h"

namespace tessera::client {

struct RevocationFeedOptions {
  std::string url;            // The stream's absolute URL.
  std::string authorization;  // The Authorization header's value. Never logged.
  std::chrono::milliseconds staleness_bound{1000};
  std::chrono::milliseconds heartbeat_timeout{2000};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Entries are kept until relevant_until + this (the client's clock tolerance).
  std::chrono::seconds clock_tolerance{5};
  std::size_t max_frame_bytes = std::size_t{1} << 20;
  std::size_t max_snapshot_bytes = std::size_t{64} << 20;
};

// What Check() says about a JWT that passed every other local check.
enum class RevocationVerdict {
  kAccept,
  kSessionRevoked,   // Its session id is in the set.
  kUserRevoked,      // Its user has a not_before at or after its iat.
  kNoSnapshot,       // No snapshot has arrived yet: nothing can be vouched for.
  kStale,            // The feed is older than the staleness bound (or known to have a gap).
  kBeyondTolerance,  // Accepted only by a call's larger clock tolerance: past exp + the client's,
                     // its entries may already have been dropped.
};

// The ids of a JWT to check, with their hashes by the feed's hasher() (computed once per JWT).
struct RevocationKey {
  std::string_view session_id;
  std::uint64_t session_hash = 0;
  std::string_view user_id;
  std::uint64_t user_hash = 0;
};

struct RevocationFeedStats {
  std::uint64_t connections = 0;  // Streams that answered 200 with text/event-stream.
  std::uint64_t failures = 0;     // Attempts and streams that ended in an error.
  std::uint64_t snapshots = 0;    // Applied.
  std::uint64_t frames = 0;       // Applied: snapshots, revokes and heartbeats.
  std::uint64_t sequence = 0;     // Of the last entry applied (or the last snapshot).
  std::uint64_t sessions = 0;     // Entries held now.
  std::uint64_t users = 0;
  std::string last_error;  // Why the last attempt or stream ended; "" if none has.
};

class RevocationFeed {
 public:
  // `wall` times entry expiry (relevant_until is wall-clock time); `mono` times freshness. Both
  // must outlive the feed. Does no I/O until Start().
  RevocationFeed(RevocationFeedOptions options, const Clock& wall, const MonotonicClock& mono);
  // Stops the thread and waits for it: returns as soon as libcurl notices the wake-up, not after
  // a heartbeat or a backoff.
  ~RevocationFeed();
  RevocationFeed(const RevocationFeed&) = delete;
  RevocationFeed& operator=(const RevocationFeed&) = delete;

  // Starts following the stream on a thread of its own. Call once.
  void Start();

  const IdHasher& hasher() const { return hasher_; }

  // Whether a JWT with these ids, iat and exp may be accepted now (`now_s`: the verification's
  // wall-clock time, Unix seconds). Lock-free and cheap: meant for every verification.
  RevocationVerdict Check(const RevocationKey& key, std::int64_t iat, std::int64_t exp,
                          std::int64_t now_s) const;

  RevocationFeedStats stats() const;

 private:
  class Stream;
  friend class Stream;

  // The published set, taken without touching any shared cache line while it stays current.
  const RevocationSet& Current() const;
  const RevocationSet& RefreshCurrent() const;  // Current()'s slow path.
  void Publish(std::shared_ptr<const RevocationSet> set);
  void MarkStale();
  void RecordFailure(std::string why);
  void Run();
  // Drops (into `pending`, created if need be) the entries no accepted JWT can name any more, at
  // most every few seconds.
  void MaybePrune(std::optional<RevocationSetBuilder>& pending);
  std::int64_t Cutoff() const;  // relevant_until at or before this no longer matters.

  const RevocationFeedOptions options_;
  const Clock& wall_;
  const MonotonicClock& mono_;
  const IdHasher hasher_;

  // The freshness mark: the monotonic time (ns since the clock's epoch) after which the set may no
  // longer be trusted. kNever until the first snapshot; written after the set it vouches for is
  // published.
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();
  static constexpr std::int64_t kStaleNow = kNever + 1;
  // The two words every verification reads share a cache line of their own, written only when a
  // set or a mark is published, so that what the feed thread writes per frame never evicts it.
  alignas(64) std::atomic<std::int64_t> fresh_until_{kNever};
  // Names the published set; unique across every feed of the process. Readers use their
  // thread-local copy while it still names it, and take current_ under publish_mu_ otherwise.
  std::atomic<std::uint64_t> version_{0};

  alignas(64) mutable std::mutex publish_mu_;
  std::shared_ptr<const RevocationSet> current_;  // GUARDED_BY(publish_mu_)
  std::uint64_t current_version_ = 0;             // GUARDED_BY(publish_mu_)

  // Owned by the feed thread.
  std::shared_ptr<const RevocationSet> published_;  // What current_ holds, without the lock.
  std::uint64_t last_sequence_ = 0;
  bool have_snapshot_ = false;
  std::optional<std::int64_t> last_prune_;  // Wall seconds.

  std::atomic<std::uint64_t> connections_{0}, failures_{0}, snapshots_{0}, frames_{0}, sequence_{0},
      sessions_{0}, users_{0};
  mutable std::mutex error_mu_;
  std::string last_error_;  // GUARDED_BY(error_mu_)

  std::atomic<bool> stop_{false};
  std::mutex wait_mu_;  // For the backoff wait.
  std::condition_variable wait_cv_;
  void* multi_ = nullptr;  // CURLM*, created in the constructor (curl_multi_wakeup needs it).
  std::thread thread_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_REVOCATION_FEED_H_
