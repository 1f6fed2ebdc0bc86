#include "client/jwks_cache.h"

namespace tessera::client {

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

Outcome<std::shared_ptr<const KeySet>> JwksCache::FetchLocked() {
  last_fetch_attempt_ = clock_.Now();
  auto text = fetch_();
  if (!text.ok()) {
    failures_.fetch_add(1);
    return text.error();
  }
  auto set = KeySet::FromJwks(*text);
  if (!set.ok()) {
    failures_.fetch_add(1);
    return Error{ErrorKind::kJwksUnavailable, 0, "jwks_invalid",
                 "the server's JWKS is not usable: " + set.status().message(), ""};
  }
  fetches_.fetch_add(1);
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = *set;
  return snapshot_;
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

Outcome<std::shared_ptr<const KeySet>> JwksCache::Get() {
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_) return snapshot_;
  }
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_) return snapshot_;  // Another caller fetched while we waited.
  }
  auto fetched = FetchLocked();
  if (!fetched.ok()) {
    Error e = fetched.error();
    e.kind = ErrorKind::kJwksUnavailable;
    e.error_message = "no JWKS available: " + e.error_message;
    return e;
  }
  StartBackgroundLocked();
  return fetched;
}

std::shared_ptr<const KeySet> JwksCache::RefreshForUnknownKid(
    const std::shared_ptr<const KeySet>& seen) {
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_ != seen) return snapshot_;  // Someone refreshed meanwhile: try that one.
  }
  if (clock_.Now() - last_fetch_attempt_ < min_refetch_interval_) return seen;
  auto fetched = FetchLocked();
  return fetched.ok() ? *fetched : seen;
}

}  // namespace tessera::client
