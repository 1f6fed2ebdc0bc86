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

Outcome<JwksSnapshot> JwksCache::FetchLocked() {
  last_fetch_attempt_ = clock_.Now();
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
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    if (snapshot_.keys) return snapshot_;  // Another caller fetched while we waited.
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

JwksSnapshot JwksCache::RefreshForUnknownKid(const JwksSnapshot& seen) {
  std::lock_guard fetch_lock(fetch_mu_);
  {
    std::lock_guard lock(snapshot_mu_);
    // Someone installed a different set meanwhile: try that one.
    if (snapshot_.generation != seen.generation) return snapshot_;
  }
  if (clock_.Now() - last_fetch_attempt_ < min_refetch_interval_) return seen;
  auto fetched = FetchLocked();
  return fetched.ok() ? *fetched : seen;
}

}  // namespace tessera::client
