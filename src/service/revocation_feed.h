// The node's view of each project's revocation log, kept current for the revocation feed
// (docs/revocation.md): a follower thread reads the store's log after the last entry it holds,
// at once when woken (a revocation committed on this node, or another node's notice) and at least
// every poll interval (a lost notice costs one interval, never an entry). Views exist only for
// projects someone follows; one with no watcher for a minute is dropped.
//
// All store reads happen on the follower thread or in Follow(); everything else is memory only,
// so the HTTP layer may call it from its I/O threads.
#ifndef TESSERA_SERVICE_REVOCATION_FEED_H_
#define TESSERA_SERVICE_REVOCATION_FEED_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/string_hash.h"
#include "tessera/clock.h"
#include "tessera/store/store.h"

namespace tessera {

struct RevocationFeedOptions {
  // How often a followed project's log is read even without a wake-up. Default: 100 ms.
  std::chrono::milliseconds poll_interval{100};
  // Entries older than this are pruned from the store and forgotten. At least
  // jwt_lifetime + max_tolerance. Default: 15 min.
  Seconds retention{900};
  // How long a JWT lives: an entry matters until revoked_at + this ("relevant_until").
  Seconds jwt_lifetime{300};
  // The largest clock tolerance a verifier may use (the C++ SDK accepts up to 300 s): a snapshot
  // holds every entry whose relevant_until + this has not passed.
  Seconds max_tolerance{300};
  // A view with no watcher for this long stops being followed. Default: 60 s.
  Seconds idle_drop{60};
  // How often a stream tells its follower it is alive and how far the node is. Default: 250 ms.
  std::chrono::milliseconds heartbeat_interval{250};
  // A node whose view has not been confirmed current for this long sends no heartbeats, so that
  // followers (which fail closed after their own bound, 1 s by default) stop trusting it.
  // Default: 1 s.
  std::chrono::milliseconds stale_after{1000};
};

// What a watcher sees of a project's log at one moment.
struct RevocationState {
  std::int64_t head = 0;        // Complete up to this sequence number.
  std::int64_t first_kept = 1;  // Entries before this one are gone (pruned).
  // How long ago the view last confirmed it holds everything the store had; grows while the
  // store cannot be read.
  std::chrono::milliseconds lag{0};
  bool caught_up_once = false;  // False until the first successful read.
  std::vector<RevocationEntry> entries;
};

// One project's log as this node knows it. Thread-safe.
class RevocationView {
 public:
  explicit RevocationView(std::string project_id) : project_id_(std::move(project_id)) {}

  const std::string& project_id() const { return project_id_; }

  // Entries with sequence > after (at most `limit`), with the bounds and lag at `now`.
  RevocationState After(std::int64_t after, std::chrono::steady_clock::time_point now,
                        std::size_t limit) const;
  // Every entry a verifier may still need at wall time `now` (relevant_until + max_tolerance
  // not passed), with the bounds and lag: a snapshot.
  RevocationState Relevant(TimePoint now, std::chrono::steady_clock::time_point steady_now,
                           Seconds jwt_lifetime, Seconds max_tolerance) const;

  // `wake` is called (from the follower thread) whenever new entries arrive, until `token`
  // expires. Returns at once.
  void Watch(std::weak_ptr<void> token, std::function<void()> wake) const;

 private:
  friend class RevocationFeed;

  struct Watcher {
    std::weak_ptr<void> token;
    std::function<void()> wake;
  };

  // Follower thread only: applies a batch read at `read_started`; returns the wakes to call.
  std::vector<std::function<void()>> Apply(const RevocationBatch& batch,
                                           std::chrono::steady_clock::time_point read_started,
                                           TimePoint now, Seconds retention);
  // Drops watchers whose token expired; true when none remains.
  bool Unwatched(std::chrono::steady_clock::time_point now, std::chrono::seconds idle) const;

  const std::string project_id_;
  mutable std::mutex mu_;
  std::deque<RevocationEntry> entries_;  // GUARDED_BY(mu_), by sequence
  std::int64_t head_ = 0;                // GUARDED_BY(mu_)
  std::int64_t first_kept_ = 1;          // GUARDED_BY(mu_)
  std::optional<std::chrono::steady_clock::time_point> caught_up_at_;  // GUARDED_BY(mu_)
  mutable std::vector<Watcher> watchers_;                              // GUARDED_BY(mu_)
  mutable std::chrono::steady_clock::time_point last_watched_;         // GUARDED_BY(mu_)
};

class RevocationFeed {
 public:
  // `store` and `clock` (wall time, for retention) must outlive the feed.
  RevocationFeed(SessionStore& store, const Clock& clock, RevocationFeedOptions options = {});
  ~RevocationFeed();  // Stops the follower thread.

  const RevocationFeedOptions& options() const { return options_; }

  // The project's view, read from the store first if this node does not follow the project yet.
  // Blocking: call where store reads are allowed. kStoreUnavailable when the first read fails.
  Result<std::shared_ptr<const RevocationView>> Follow(std::string_view project_id);
  // The view if the project is followed already, else null. Memory only.
  std::shared_ptr<const RevocationView> Followed(std::string_view project_id) const;

  // Something may have been appended to the project's log: read it now (returns at once).
  void Wake(std::string_view project_id);

  // Deletes store entries older than the retention (called by the server's cleanup).
  Status Prune();

  // Reads every followed project's log once, on the calling thread (tests drive the feed with
  // this instead of the thread). Returns the first store error, if any.
  Status PollOnce();
  // Starts the follower thread; without it nothing is read after Follow. Idempotent.
  void Start();

 private:
  // Reads the view's log until it is caught up. Wakes the watchers of new entries.
  Status Refresh(RevocationView& view);
  void Run();

  SessionStore& store_;
  const Clock& clock_;
  const RevocationFeedOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  StringMap<std::shared_ptr<RevocationView>> views_;  // GUARDED_BY(mu_)
  StringMap<bool> woken_;                             // GUARDED_BY(mu_)
  bool stop_ = false;                                 // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_REVOCATION_FEED_H_
