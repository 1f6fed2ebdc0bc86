#include "client/verified_cache.h"

#include <openssl/rand.h>

#include <cstring>

namespace tessera::client {
namespace {

__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang: the full 64x64 product.

inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

}  // namespace

VerifiedCache::VerifiedCache(std::size_t capacity)
    : per_shard_(capacity == 0 ? 0 : std::max<std::size_t>(1, capacity / kShards)), seed_(0) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed_), sizeof seed_) != 1) {
    seed_ =
        static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) * 0x9E3779B97F4A7C15u;
  }
}

std::uint64_t VerifiedCache::Hash(std::string_view token) const {
  // Only the length and the last kHashedTail bytes are hashed. A JWT ends with its signature (342
  // base64url characters for RS256, 86 for ES256 and EdDSA), so the tail of any two distinct
  // signed tokens differs; only verified JWTs are ever inserted, and every hit still compares the
  // whole token, so a collision can cost a miss, never a wrong answer. Hashing all of a 1.6 KB
  // session JWT was half the cost of a hit (a chain of ~100 dependent multiplies); the tail keeps
  // a hit's cost independent of how many claims the token carries.
  //
  // A multiply-xor hash over 16-byte blocks (in the style of wyhash).
  constexpr std::uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull;
  const std::string_view s =
      token.size() > kHashedTail ? token.substr(token.size() - kHashedTail) : token;
  std::uint64_t h = seed_ ^ (token.size() * kP0);
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 16) {
    std::uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    h = Mix(a ^ kP0 ^ h, b ^ kP1);
    p += 16;
    n -= 16;
  }
  std::uint64_t a = 0, b = 0;
  if (n > 8) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, n - 8);
  } else if (n > 0) {
    std::memcpy(&a, p, n);
  }
  return Mix(a ^ kP0 ^ h, b ^ kP1 ^ token.size());
}

std::optional<VerifiedHit> VerifiedCache::Find(std::string_view token,
                                               std::uint64_t jwks_generation) const {
  if (per_shard_ == 0) return std::nullopt;
  const std::uint64_t h = Hash(token);
  const Shard& shard = shards_[h % kShards];
  std::lock_guard lock(shard.mu);
  const auto it = shard.entries.find(h);
  if (it == shard.entries.end() || it->second->token != token) return std::nullopt;
  const VerifiedJwtEntry& e = *it->second;
  VerifiedHit hit;
  hit.session = e.session;
  hit.issued_at = e.issued_at;
  hit.not_before = e.not_before;
  hit.expires_at = e.expires_at;
  hit.session_hash = e.session_hash;
  hit.user_hash = e.user_hash;
  if (e.jwks_generation != jwks_generation) hit.kid_to_check = e.kid;
  return hit;
}

void VerifiedCache::Insert(std::shared_ptr<const VerifiedJwtEntry> entry) {
  if (per_shard_ == 0) return;
  const std::uint64_t h = Hash(entry->token);
  Shard& shard = shards_[h % kShards];
  std::lock_guard lock(shard.mu);
  if (shard.entries.size() >= per_shard_ && shard.entries.find(h) == shard.entries.end()) {
    shard.entries.erase(shard.entries.begin());  // Arbitrary victim; anything can be re-verified.
  }
  shard.entries.insert_or_assign(h, std::move(entry));
}

}  // namespace tessera::client
