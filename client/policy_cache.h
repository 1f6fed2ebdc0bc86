// The SDK's RBAC policy cache: the project's policy (GET /v1/rbac/policy), fetched on first use
// and refetched when it is older than the refresh interval, as the JWKS is. Authorization checks
// answered locally read an immutable snapshot; the server stays the authority (AuthenticateJwt
// asks it whenever the local answer is not a yes).
#ifndef TESSERA_CLIENT_POLICY_CACHE_H_
#define TESSERA_CLIENT_POLICY_CACHE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "tessera/client/outcome.h"
#include "tessera/clock.h"
#include "tessera/rbac/policy.h"

namespace tessera::client {

class PolicyCache {
 public:
  // `fetch` returns the body of GET /v1/rbac/policy. `clock` dates the policy and the last
  // failed attempt.
  PolicyCache(std::function<Outcome<std::string>()> fetch, const Clock& clock,
              std::chrono::seconds refresh_interval, std::chrono::seconds min_refetch_interval);

  // The policy, fetched if none is held or the one held is refresh_interval old or older (one
  // fetch at a time; callers arriving meanwhile wait and share its outcome). A policy past its
  // interval is never answered, even when the refetch fails: a revoked permission must not keep
  // granting locally. After a failure (kPolicyUnavailable, the server's error in the message)
  // the same failure is answered without a fetch until min_refetch_interval has passed, so a
  // dead server costs one fetch per interval. A clock that went back counts as long ago.
  Outcome<std::shared_ptr<const rbac::Policy>> Get();

  std::uint64_t fetches() const { return fetches_.load(); }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  bool FreshLocked(TimePoint now) const;

  std::function<Outcome<std::string>()> fetch_;
  const Clock& clock_;
  const std::chrono::seconds refresh_interval_;
  const std::chrono::seconds min_refetch_interval_;

  std::mutex fetch_mu_;                         // One fetch at a time.
  std::optional<Error> last_failure_;           // GUARDED_BY(fetch_mu_)
  TimePoint last_failure_at_{};                 // GUARDED_BY(fetch_mu_)
  mutable std::mutex snapshot_mu_;              // Held only to copy or swap the snapshot.
  std::shared_ptr<const rbac::Policy> policy_;  // GUARDED_BY(snapshot_mu_)
  TimePoint fetched_at_{};                      // GUARDED_BY(snapshot_mu_)

  std::atomic<std::uint64_t> fetches_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_POLICY_CACHE_H_
