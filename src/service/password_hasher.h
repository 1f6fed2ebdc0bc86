// Password hashing with Argon2id (libsodium's crypto_pwhash_str).
#ifndef TESSERA_SERVICE_PASSWORD_HASHER_H_
#define TESSERA_SERVICE_PASSWORD_HASHER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "service/hash_limiter.h"
#include "tessera/result.h"

namespace tessera {

struct Argon2Params {
  // Passes over memory. Default: 2 (OWASP's recommendation for 19 MiB).
  unsigned long long iterations = 2;
  // Memory per hash in KiB. Default: 19456 (19 MiB).
  std::size_t memory_kib = 19456;
};

// Hashing is deliberately slow (tens of milliseconds): callers run it off the I/O threads. Every
// Argon2id computation (Hash, Verify, VerifyDummy) holds one of `limiter`'s slots while it runs,
// so however many threads call in, no more hashes run at once than the limiter admits. Copies
// share the limiter.
class PasswordHasher {
 public:
  // Fails with kInvalidArgument when libsodium rejects the parameters. Computes the dummy hash
  // (one slot of `limiter`) before it returns. REQUIRES: limiter != nullptr.
  static Result<PasswordHasher> Create(Argon2Params params, std::shared_ptr<HashLimiter> limiter);

  // An encoded "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string with a fresh random salt.
  Result<std::string> Hash(std::string_view password) const;
  // True when `password` matches `encoded`. Constant-time in the password (libsodium).
  bool Verify(std::string_view encoded, std::string_view password) const;
  // True when `encoded` was made with other parameters than the current ones.
  bool NeedsRehash(std::string_view encoded) const;
  // Does the work of one verification against a fixed hash and discards the outcome, so that an
  // unknown account costs what a known one costs.
  void VerifyDummy(std::string_view password) const;

  const Argon2Params& params() const { return params_; }
  HashLimiter& limiter() const { return *limiter_; }

 private:
  PasswordHasher(Argon2Params params, std::shared_ptr<HashLimiter> limiter)
      : params_(params), limiter_(std::move(limiter)) {}
  Argon2Params params_;
  std::shared_ptr<HashLimiter> limiter_;
  std::string dummy_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_PASSWORD_HASHER_H_
