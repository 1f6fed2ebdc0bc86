#include "client/jwks_cache.h"

namespace tessera::client {

namespace {

// What Get() answers while no key set has arrived: the fetch's error, as kJwksUnavailable (its
// error_type and status still say why).
Error NoKeySet(Error e) {
  e.kind = ErrorKind::kJwksUnavailable;
  e.error_message = "no JWKS available: " + e.error_message;
  return e;
}

}  // namespace

JwksCache::JwksCache(std::function<Outcome<std::string>()> fetch, const Clock& clock,
                     std::chrono::seconds refresh_interval,
                     std::chrono::seconds min_refetch_interval)
    : fetch_(std::move(fetch)),
      clock_(clock),
      refresh_interval_(refresh_interval),
      min_refetch_interval_(min_refetch_interval) {}

JwksCache::~JwksCache() {
  {
    std::lock_guard lock(bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
}

Outcome<JwksSnapshot> JwksCache::FetchLocked() {
  last_fetch_attempt_ = clock_.Now();
  auto fetched = FetchAndInstallLocked();
  if (fetched.ok()) {
    last_failure_.reset();
  } else {
    last_failure_ = fetched.error();
  }
  attempts_.fetch_add(1, std::memory_order_release);
  return fetched;
}

Outcome<JwksSnapshot> JwksCache::FetchAndInstallLocked() {
  auto text = fetch_();
  if (!text.ok()) {
    failures_.fetch_add(1);
    return text.error();
  }
  if (generation_.load() != 0 && *text == last_document_) {
    // Unchanged (the common case for the periodic refresh): keep the snapshot, so its generation
    // stays and verified-cache hits keep skipping the key lookup.
    fetches_.fetch_add(1);
    std::lock_guard lock(snapshot_mu_);
    return snapshot_;
  }
  auto set = KeySet::FromJwks(*text);
  if (!set.ok()) {
    failures_.fetch_add(1);
    return Error{ErrorKind::kJwksUnavailable, 0, "jwks_invalid",
                 "the server's JWKS is not usable: " + set.status().message(), ""};
  }
  fetches_.fetch_add(1);
  last_document_ = std::move(*text);
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = JwksSnapshot{*set, snapshot_.generation + 1};
  generation_.store(snapshot_.generation, std::memory_order_release);
  return snapshot_;
}

bool JwksCache::AttemptedRecentlyLocked() const {
  const auto elapsed = clock_.Now() - last_fetch_attempt_;
  return elapsed >= TimePoint::duration::zero() && elapsed < min_refetch_interval_;
}

void JwksCache::StartBackgroundLocked() {
  if (bg_started_) return;
  bg_started_ = true;
  bg_ = std::thread([this] { Background(); });
}

void JwksCache::Background() {
  std::unique_lock lock(bg_mu_);
  while (!stop_) {
    // Real time, not the injected clock: this only paces refreshes.
    bg_cv_.wait_for(lock, refresh_interval_, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    {
      std::lock_guard fetch_lock(fetch_mu_);
      (void)FetchLocked();  // On failure the last good set keeps serving.
    }
    lock.lock();
  }
}

Outcome<JwksSnapshot> JwksCache::Get() {
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_.keys) return snapshot_;
  }
  // Read before waiting: an attempt that completes after this point is one this caller waited
  // for, and its outcome is this caller's too.
  const std::uint64_t seen = attempts_.load(std::memory_order_acquire);
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_.keys) return snapshot_;  // Another caller fetched while we waited.
  }
  if (last_failure_ &&
      (attempts_.load(std::memory_order_relaxed) != seen || AttemptedRecentlyLocked())) {
    return NoKeySet(*last_failure_);  // Failed while we waited, or too recently to try again.
  }
  auto fetched = FetchLocked();
  if (!fetched.ok()) return NoKeySet(fetched.error());
  StartBackgroundLocked();
  return fetched;
}

JwksSnapshot JwksCache::RefreshForUnknownKid(const JwksSnapshot& seen) {
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    // Someone installed a different set meanwhile: try that one.
    if (snapshot_.generation != seen.generation) return snapshot_;
  }
  if (AttemptedRecentlyLocked()) return seen;
  auto fetched = FetchLocked();
  return fetched.ok() ? *fetched : seen;
}

}  // namespace tessera::client
