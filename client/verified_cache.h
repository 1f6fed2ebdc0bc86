// Verified session JWTs, remembered so that a JWT seen again costs a hash lookup instead of a
// signature check. Bounded; an entry is only a shortcut for the signature and claim parsing:
// callers still apply the time checks (exp, nbf, max_token_age) and that the key is still
// published, on every hit (cheaply while the key set's generation is the one the entry was
// verified against).
#ifndef TESSERA_CLIENT_VERIFIED_CACHE_H_
#define TESSERA_CLIENT_VERIFIED_CACHE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tessera/client/client.h"

namespace tessera::client {

struct VerifiedJwtEntry {
  std::string token;  // The whole JWT: a hit must match it byte for byte.
  std::string kid;
  std::uint64_t jwks_generation = 0;  // Of the key set that verified it (JwksSnapshot).
  std::int64_t issued_at = 0;
  std::int64_t not_before = 0;
  std::int64_t expires_at = 0;
  std::shared_ptr<const Session> session;
  // The revocation feed's hashes of session->session_id and session->user_id (0 when the feed is
  // off), so that a hit's revocation check hashes nothing.
  std::uint64_t session_hash = 0;
  std::uint64_t user_hash = 0;
};

// What a hit needs, copied out under the shard's lock (so a hit touches no reference count but
// the session's).
struct VerifiedHit {
  std::shared_ptr<const Session> session;
  std::int64_t issued_at = 0;
  std::int64_t not_before = 0;
  std::int64_t expires_at = 0;
  std::uint64_t session_hash = 0;
  std::uint64_t user_hash = 0;
  // Set only when the entry was verified against another key-set generation than the caller's:
  // then the caller must check that this kid is still published.
  std::optional<std::string> kid_to_check;
};

class VerifiedCache {
 public:
  // `capacity` 0 disables the cache.
  explicit VerifiedCache(std::size_t capacity);

  bool enabled() const { return per_shard_ != 0; }

  // The entry for exactly `token`, if any. `jwks_generation` is the caller's current key-set
  // generation (see VerifiedHit::kid_to_check).
  std::optional<VerifiedHit> Find(std::string_view token, std::uint64_t jwks_generation) const;
  void Insert(std::shared_ptr<const VerifiedJwtEntry> entry);

 private:
  static constexpr std::size_t kShards = 16;
  struct alignas(64) Shard {  // One cache line each: threads on different shards never collide.
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, std::shared_ptr<const VerifiedJwtEntry>> entries;
  };
  // A fast keyed 64-bit hash of the token's length and its last kHashedTail bytes (see the .cc
  // for why the tail suffices). The seed is random per cache, so nobody can aim many tokens at
  // one bucket; equality is then checked on the full token.
  static constexpr std::size_t kHashedTail = 64;
  std::uint64_t Hash(std::string_view token) const;

  const std::size_t per_shard_;
  std::uint64_t seed_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_VERIFIED_CACHE_H_
