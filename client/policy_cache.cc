#include "client/policy_cache.h"

#include <utility>

namespace tessera::client {

PolicyCache::PolicyCache(std::function<Outcome<std::string>()> fetch, const Clock& clock,
                         std::chrono::seconds refresh_interval,
                         std::chrono::seconds min_refetch_interval)
    : fetch_(std::move(fetch)),
      clock_(clock),
      refresh_interval_(refresh_interval),
      min_refetch_interval_(min_refetch_interval) {}

bool PolicyCache::FreshLocked(TimePoint now) const {
  // A clock that went back (now before the fetch) also counts as stale: refetch rather than
  // trust a policy for longer than intended.
  return policy_ != nullptr && now >= fetched_at_ && now - fetched_at_ < refresh_interval_;
}

Outcome<std::shared_ptr<const rbac::Policy>> PolicyCache::Get() {
  {
    std::lock_guard lock(snapshot_mu_);
    if (FreshLocked(clock_.Now())) return policy_;
  }
  std::lock_guard fetch_lock(fetch_mu_);
  const TimePoint now = clock_.Now();
  {
    // Another caller may have fetched while this one waited.
    std::lock_guard lock(snapshot_mu_);
    if (FreshLocked(now)) return policy_;
  }
  if (last_failure_ && now >= last_failure_at_ && now - last_failure_at_ < min_refetch_interval_) {
    return *last_failure_;
  }
  auto fail = [&](std::string message) -> Error {
    failures_.fetch_add(1, std::memory_order_relaxed);
    last_failure_ =
        Error{ErrorKind::kPolicyUnavailable, 0, "policy_unavailable", std::move(message), ""};
    last_failure_at_ = now;
    return *last_failure_;
  };
  auto text = fetch_();
  if (!text.ok()) {
    return fail("GET /v1/rbac/policy failed: " + text.error().error_type + ": " +
                text.error().error_message);
  }
  auto parsed = rbac::ParsePolicy(*text);
  if (!parsed.ok())
    return fail("the served RBAC policy is not valid: " + parsed.status().message());
  auto policy = std::make_shared<const rbac::Policy>(std::move(*parsed));
  fetches_.fetch_add(1, std::memory_order_relaxed);
  last_failure_.reset();
  std::lock_guard lock(snapshot_mu_);
  policy_ = policy;
  fetched_at_ = now;
  return policy;
}

}  // namespace tessera::client
