// Password hashing with Argon2id, by libargon2 in reused memory or by libsodium (service/argon2.h).
#ifndef TESSERA_SERVICE_PASSWORD_HASHER_H_
#define TESSERA_SERVICE_PASSWORD_HASHER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "service/argon2.h"
#include "service/hash_limiter.h"
#include "tessera/result.h"

namespace tessera {

struct Argon2Params {
  // Passes over memory. Default: 2 (OWASP's recommendation for 19 MiB).
  unsigned long long iterations = 2;
  // Memory per hash in KiB. Default: 19456 (19 MiB).
  std::size_t memory_kib = 19456;
  // Which library computes it; both write and read the same strings. REQUIRES (Create): resolved,
  // not kAuto.
  Argon2Engine engine = Argon2Engine::kLibargon2;
};

// Hashing is deliberately slow (tens of milliseconds): callers run it off the I/O threads. Every
// Argon2id computation (Hash, Verify, VerifyDummy) holds one of `limiter`'s slots while it runs,
// so however many threads call in, no more hashes run at once than the limiter admits. Copies
// share the limiter.
class PasswordHasher {
 public:
  // Fails with kInvalidArgument when the parameters are out of range or the engine is kAuto.
  // Computes the dummy hash (one slot of `limiter`) before it returns. REQUIRES: limiter !=
  // nullptr.
  static Result<PasswordHasher> Create(Argon2Params params, std::shared_ptr<HashLimiter> limiter);

  // An encoded "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string with a fresh random salt.
  Result<std::string> Hash(std::string_view password) const;
  // True when `password` matches `encoded`; false too when `encoded` is not a valid Argon2 string.
  // The comparison of the hashes is constant-time.
  bool Verify(std::string_view encoded, std::string_view password) const;
  // True when `encoded` was made with other parameters than the current ones.
  bool NeedsRehash(std::string_view encoded) const;
  // Does the work of one verification against a fixed hash and discards the outcome, so that an
  // unknown account costs what a known one costs.
  void VerifyDummy(std::string_view password) const;

  const Argon2Params& params() const { return params_; }
  HashLimiter& limiter() const { return *limiter_; }
  // Where the hashes ran: in a slot's reused region, or in memory mapped for that one hash (every
  // hash of the libsodium engine; libargon2's for strings with more memory than the parameters).
  Argon2Memory::Stats memory_stats() const;

 private:
  PasswordHasher(Argon2Params params, std::shared_ptr<HashLimiter> limiter);
  bool VerifyWithLibargon2(std::string_view encoded, std::string_view password) const;

  Argon2Params params_;
  std::shared_ptr<HashLimiter> limiter_;
  std::shared_ptr<Argon2Memory> memory_;  // Per slot of limiter_; shared by copies.
  std::string dummy_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_PASSWORD_HASHER_H_
