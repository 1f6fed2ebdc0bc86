#include "tessera/store/lockout_store.h"

namespace tessera {

FailureState ApplyPasswordFailure(FailureState s, TimePoint now, const LockPolicy& policy) {
  if (!s.first_failed_at || now - *s.first_failed_at >= policy.window) {
    s.attempts = 0;
    s.first_failed_at = now;
  }
  ++s.attempts;
  if (s.attempts >= policy.threshold) {
    s.locked_until = now + policy.duration;
    s.attempts = 0;
    s.first_failed_at.reset();
  }
  return s;
}

}  // namespace tessera
