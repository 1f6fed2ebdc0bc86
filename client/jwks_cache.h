// The SDK's JWKS cache: an immutable key-set snapshot that readers take without waiting, a
// background refresh before it goes stale, one rate-limited refetch for an unknown kid, and the
// last good set kept while the server cannot be reached.
#ifndef TESSERA_CLIENT_JWKS_CACHE_H_
#define TESSERA_CLIENT_JWKS_CACHE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tessera/client/outcome.h"
#include "tessera/clock.h"
#include "tessera/token/key_set.h"

namespace tessera::client {

// A published key set and its generation. Generations start at 1 and grow by one each time the
// cache installs a key set with different content; a refetch that returns the same document
// keeps the snapshot (and its generation).
struct JwksSnapshot {
  std::shared_ptr<const KeySet> keys;
  std::uint64_t generation = 0;
};

class JwksCache {
 public:
  // `fetch` returns the JWKS document text. `clock` times the refetch rate limit.
  JwksCache(std::function<Outcome<std::string>()> fetch, const Clock& clock,
            std::chrono::seconds refresh_interval, std::chrono::seconds min_refetch_interval);
  ~JwksCache();

  // The current snapshot. Once a fetch has succeeded, this never waits for the network. Until
  // then it fetches, one fetch at a time: a caller that arrives while a fetch is in flight waits
  // for it and shares its outcome, success or failure (kJwksUnavailable), instead of fetching
  // again. A failure stays the answer, without a fetch, until min_refetch_interval has passed
  // since that attempt, so a dead server costs one fetch per interval, not one per call.
  Outcome<JwksSnapshot> Get();

  // The current snapshot's generation (0 before the first fetch), without locking: a key found
  // in the snapshot of generation g is still published while generation() == g.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // For a kid missing from `seen`: refetches unless a fetch happened within min_refetch_interval
  // (one fetch at a time; concurrent callers wait for it), and returns the newest snapshot.
  JwksSnapshot RefreshForUnknownKid(const JwksSnapshot& seen);

  std::uint64_t fetches() const { return fetches_.load(); }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  // Fetches and installs a new snapshot (unless the document is unchanged); the old one stays on
  // failure. Records the attempt: its time, its failure, the attempt count.
  Outcome<JwksSnapshot> FetchLocked();
  Outcome<JwksSnapshot> FetchAndInstallLocked();  // FetchLocked without the record.
  // Whether the last attempt was less than min_refetch_interval ago. A clock that went back
  // (the wall clock can) counts as long ago, so a step back cannot stall fetching.
  bool AttemptedRecentlyLocked() const;
  void StartBackgroundLocked();
  void Background();

  std::function<Outcome<std::string>()> fetch_;
  const Clock& clock_;
  const std::chrono::seconds refresh_interval_;
  const std::chrono::seconds min_refetch_interval_;

  std::mutex fetch_mu_;             // One fetch at a time; callers wait for it here.
  TimePoint last_fetch_attempt_{};  // GUARDED_BY(fetch_mu_)
  std::string last_document_;       // GUARDED_BY(fetch_mu_): the text snapshot_ was parsed from.
  // Why the last attempt failed; unset after a success. GUARDED_BY(fetch_mu_)
  std::optional<Error> last_failure_;
  // Fetch attempts completed, for a waiting caller to tell whether one ended while it waited.
  // Written under fetch_mu_.
  std::atomic<std::uint64_t> attempts_{0};

  mutable std::mutex snapshot_mu_;  // Held only to copy or swap the snapshot.
  JwksSnapshot snapshot_;           // GUARDED_BY(snapshot_mu_)
  // snapshot_.generation, readable without the lock; written under snapshot_mu_.
  std::atomic<std::uint64_t> generation_{0};

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;        // GUARDED_BY(bg_mu_)
  bool bg_started_ = false;  // GUARDED_BY(fetch_mu_)
  std::thread bg_;

  std::atomic<std::uint64_t> fetches_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_JWKS_CACHE_H_
