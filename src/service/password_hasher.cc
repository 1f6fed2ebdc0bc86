#include "service/password_hasher.h"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace tessera {
namespace {

Status InitSodium() {
  static const int rc = sodium_init();  // Thread-safe, idempotent; -1 only if unusable.
  if (rc < 0) return Error(ErrorCode::kCryptoFailure, "libsodium could not be initialized");
  return Status::Ok();
}

constexpr std::size_t kSaltBytes = crypto_pwhash_SALTBYTES;  // 16, as crypto_pwhash_str.
constexpr std::size_t kHashBytes = 32;  // As crypto_pwhash_str (its STRHASHBYTES).

}  // namespace

PasswordHasher::PasswordHasher(Argon2Params params, std::shared_ptr<HashLimiter> limiter)
    : params_(params),
      limiter_(std::move(limiter)),
      // Regions are mapped on first use: none with the libsodium engine, which only counts.
      memory_(std::make_shared<Argon2Memory>(limiter_->stats().slots, params_.memory_kib * 1024)) {}

Result<PasswordHasher> PasswordHasher::Create(Argon2Params params,
                                              std::shared_ptr<HashLimiter> limiter) {
  TESSERA_RETURN_IF_ERROR(InitSodium());
  const std::size_t bytes = params.memory_kib * 1024;
  if (params.iterations < crypto_pwhash_OPSLIMIT_MIN || params.iterations > kArgon2MaxIterations ||
      bytes < crypto_pwhash_MEMLIMIT_MIN || params.memory_kib > kArgon2MaxMemoryKib) {
    return Error(ErrorCode::kInvalidArgument,
                 "Argon2id parameters out of range (iterations 1..64, memory 8 KiB..4 GiB)");
  }
  if (params.engine == Argon2Engine::kAuto) {
    return Error(ErrorCode::kInvalidArgument, "the Argon2 engine must be resolved first");
  }
  PasswordHasher h(params, std::move(limiter));
  TESSERA_ASSIGN_OR_RETURN(h.dummy_, h.Hash("tessera dummy password for enumeration protection"));
  return h;
}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
  if (params_.engine == Argon2Engine::kLibsodium) {
    char out[crypto_pwhash_STRBYTES];
    {
      const HashLimiter::Slot slot = limiter_->Acquire();
      if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.iterations,
                                params_.memory_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return Error(ErrorCode::kCryptoFailure, "password hashing failed (out of memory?)");
      }
    }
    memory_->Count(/*one_off=*/true);
    return std::string(out);
  }
  Argon2String s;
  s.memory_kib = static_cast<std::uint32_t>(params_.memory_kib);
  s.iterations = static_cast<std::uint32_t>(params_.iterations);
  s.salt.resize(kSaltBytes);
  randombytes_buf(s.salt.data(), s.salt.size());
  s.hash.resize(kHashBytes);
  bool one_off = false;
  {
    const HashLimiter::Slot slot = limiter_->Acquire();
    if (!ComputeArgon2(s, password, memory_->Region(slot.index()),
                       {reinterpret_cast<std::uint8_t*>(s.hash.data()), s.hash.size()}, &one_off)) {
      return Error(ErrorCode::kCryptoFailure, "password hashing failed (out of memory?)");
    }
  }
  memory_->Count(one_off);
  return EncodeArgon2String(s);
}

bool PasswordHasher::Verify(std::string_view encoded, std::string_view password) const {
  if (params_.engine == Argon2Engine::kLibargon2) return VerifyWithLibargon2(encoded, password);
  if (encoded.size() >= crypto_pwhash_STRBYTES) return false;
  char buf[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded.begin(), encoded.end(), buf);
  bool ok = false;
  {
    const HashLimiter::Slot slot = limiter_->Acquire();
    ok = crypto_pwhash_str_verify(buf, password.data(), password.size()) == 0;
  }
  memory_->Count(/*one_off=*/true);
  return ok;
}

bool PasswordHasher::VerifyWithLibargon2(std::string_view encoded,
                                         std::string_view password) const {
  const std::optional<Argon2String> s = ParseArgon2String(encoded);
  if (!s) return false;
  std::array<std::uint8_t, 128> out{};  // ParseArgon2String bounds the hash to 128 bytes.
  const std::span<std::uint8_t> computed(out.data(), s->hash.size());
  bool one_off = false;
  bool ok = false;
  {
    const HashLimiter::Slot slot = limiter_->Acquire();
    ok = ComputeArgon2(*s, password, memory_->Region(slot.index()), computed, &one_off);
  }
  memory_->Count(one_off);
  ok = ok && sodium_memcmp(computed.data(), s->hash.data(), computed.size()) == 0;
  sodium_memzero(out.data(), out.size());
  return ok;
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

Argon2Memory::Stats PasswordHasher::memory_stats() const { return memory_->stats(); }

}  // namespace tessera
