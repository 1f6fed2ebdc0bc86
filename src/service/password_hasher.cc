#include "service/password_hasher.h"

#include <sodium.h>

#include <algorithm>

namespace tessera {
namespace {

Status InitSodium() {
  static const int rc = sodium_init();  // Thread-safe, idempotent; -1 only if unusable.
  if (rc < 0) return Error(ErrorCode::kCryptoFailure, "libsodium could not be initialized");
  return Status::Ok();
}

}  // namespace

Result<PasswordHasher> PasswordHasher::Create(Argon2Params params,
                                              std::shared_ptr<HashLimiter> limiter) {
  TESSERA_RETURN_IF_ERROR(InitSodium());
  const std::size_t bytes = params.memory_kib * 1024;
  if (params.iterations < crypto_pwhash_OPSLIMIT_MIN || params.iterations > 64 ||
      bytes < crypto_pwhash_MEMLIMIT_MIN || params.memory_kib > 4 * 1024 * 1024) {
    return Error(ErrorCode::kInvalidArgument,
                 "Argon2id parameters out of range (iterations 1..64, memory 8 KiB..4 GiB)");
  }
  PasswordHasher h(params, std::move(limiter));
  TESSERA_ASSIGN_OR_RETURN(h.dummy_, h.Hash("tessera dummy password for enumeration protection"));
  return h;
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  const HashLimiter::Slot slot = limiter_->Acquire();
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.iterations,
                            params_.memory_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error(ErrorCode::kCryptoFailure, "password hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(std::string_view encoded, std::string_view password) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES) return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded.begin(), encoded.end(), buf);
  const HashLimiter::Slot slot = limiter_->Acquire();
  return crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view encoded) const {
  if (encoded.size() >= crypto_pwhash_STRBYTES) return true;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded.begin(), encoded.end(), buf);
  return crypto_pwhash_str_needs_rehash(buf, params_.iterations, params_.memory_kib * 1024) != 0;
}

void PasswordHasher::VerifyDummy(std::string_view password) const {
  (void)Verify(dummy_, password);
}

}  // namespace tessera
