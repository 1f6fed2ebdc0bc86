// The rate-limit family of the store: hits counted per key and fixed window, shared by every node
// of a store, so a limit holds for the whole deployment, not per node.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h).
#ifndef TESSERA_STORE_RATE_LIMIT_STORE_H_
#define TESSERA_STORE_RATE_LIMIT_STORE_H_

#include <array>
#include <cstdint>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// What is limited, as a digest (e.g. SHA-256 of "email|<project>|<address>"), never in clear.
using RateLimitKey = std::array<std::uint8_t, 32>;

class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;

  // Counts one hit of `key` in the window starting at `window_start` and returns the window's
  // count including it (atomic: concurrent hits on any node are all counted). The row may be
  // deleted after `expires_at`.
  virtual Result<std::int64_t> CountRateLimitHit(const RateLimitKey& key, TimePoint window_start,
                                                 TimePoint expires_at) = 0;
  // Deletes windows that expired before `now`. Returns how many.
  virtual Result<std::int64_t> DeleteExpiredRateLimits(TimePoint now) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_RATE_LIMIT_STORE_H_
