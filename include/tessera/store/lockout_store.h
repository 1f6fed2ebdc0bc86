// The lockout family of the store: failed password attempts counted atomically, per user and,
// for projects that hide which emails exist, per unknown email address.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_LOCKOUT_STORE_H_
#define TESSERA_STORE_LOCKOUT_STORE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// How failed password attempts turn into a lock (a project's settings).
struct LockPolicy {
  int threshold = 10;      // Failures within `window` that lock. Default: 10.
  Seconds window{3600};    // Failures older than this are forgotten. Default: 1 h.
  Seconds duration{3600};  // How long a lock lasts. Default: 1 h.
};

// The failure count of one user or unknown email.
struct FailureState {
  int attempts = 0;                          // Failures in the current window.
  std::optional<TimePoint> first_failed_at;  // Start of the current window.
  std::optional<TimePoint> locked_until;
};

// One more failure at `now`: the count restarts when the window has passed; reaching the
// threshold locks until now + duration and restarts the count. Pure; both stores apply it inside
// the transaction that holds the row.
FailureState ApplyPasswordFailure(FailureState state, TimePoint now, const LockPolicy& policy);

// SHA-256 of an email's normalized form: how an address that names no user is kept (never in
// clear).
using EmailKey = std::array<std::uint8_t, 32>;

class LockoutStore {
 public:
  virtual ~LockoutStore() = default;

  // Counts one failed password attempt of the user (ApplyPasswordFailure, read and written in
  // one transaction, so concurrent failures on any node are all counted) and increments the
  // user's version, as any change of the user does. Returns the new state. kUserNotFound.
  virtual Result<FailureState> RecordPasswordFailure(std::string_view project_id,
                                                     std::string_view user_id, TimePoint now,
                                                     const LockPolicy& policy) = 0;

  // The same count for an email that names no user of the project, so that such an address
  // costs a sign-in attempt what a real one does and locks as a real one would.
  virtual Result<FailureState> RecordUnknownEmailFailure(std::string_view project_id,
                                                         const EmailKey& email, TimePoint now,
                                                         const LockPolicy& policy) = 0;
  // The state recorded for an unknown email (a default state when none is).
  virtual Result<FailureState> GetUnknownEmailFailures(std::string_view project_id,
                                                       const EmailKey& email) = 0;
  // Forgets unknown-email counts that can no longer matter at `now` (window passed, no lock in
  // force). Returns how many.
  virtual Result<std::int64_t> DeleteStaleUnknownEmailFailures(TimePoint now) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_LOCKOUT_STORE_H_
