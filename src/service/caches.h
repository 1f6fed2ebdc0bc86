// In-memory caches in front of the store: users and sessions, plus the write-behind queue of
// last_accessed_at touches.
//
// Entries are immutable snapshots (`shared_ptr<const T>`): a change builds a new entry and
// replaces the old one. Correctness against concurrent revocation rests on one rule: a reader
// that loaded an entry from the store inserts it only if no invalidation happened since it
// started reading (Insert's `epoch` argument). A revocation deletes from the store first and
// evicts second, before it is acknowledged, so a revoked session can never be re-inserted by a
// read that raced with it.
#ifndef TESSERA_SERVICE_CACHES_H_
#define TESSERA_SERVICE_CACHES_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/string_hash.h"
#include "service/views.h"
#include "tessera/store/store.h"

namespace tessera {

struct CachedUser {
  User user;
  RenderedUser rendered;
  std::vector<std::string> roles;  // Effective roles, "stytch_user" first.

  bool LockedAt(TimePoint now) const { return user.locked_until && *user.locked_until > now; }
};

std::shared_ptr<const CachedUser> MakeCachedUser(User user);

struct CachedSession {
  SessionRecord record;
  std::shared_ptr<const CachedUser> user;  // The user as of this snapshot (roles, user object).
  RenderedSession rendered;

  // Mutable per-entry state. None of it changes what the session *is*.
  mutable std::mutex mu;
  mutable std::optional<std::string> token;  // GUARDED_BY(mu): the plaintext, once known.
  mutable std::string jwt;                   // GUARDED_BY(mu): last JWT minted for this entry.
  mutable TimePoint jwt_minted_at;           // GUARDED_BY(mu)
  mutable std::shared_ptr<const SigningKey> jwt_signer;  // GUARDED_BY(mu): the key that signed it.
  mutable std::atomic<std::int64_t> last_touch_second{0};  // Last second queued for write-behind.
};

std::shared_ptr<const CachedSession> MakeCachedSession(SessionRecord record,
                                                       std::shared_ptr<const CachedUser> user);

class SessionCache {
 public:
  // At most `capacity` sessions; 0 caches nothing (every lookup reads the store).
  explicit SessionCache(std::size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const CachedSession> FindByDigest(std::string_view project_id,
                                                    const TokenDigest& digest) const;
  std::shared_ptr<const CachedSession> FindById(std::string_view project_id,
                                                std::string_view session_id) const;

  // The invalidation epoch; read it before loading from the store.
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

  // Inserts or replaces the entry for its session, unless an invalidation happened since `epoch`
  // (then the entry may be stale and is dropped; the caller's answer stays correct because its
  // read was concurrent with the invalidation) or the cache already holds a newer version of the
  // session (concurrent writers may insert out of order).
  void Insert(std::shared_ptr<const CachedSession> entry, std::uint64_t epoch);

  void EvictSession(std::string_view project_id, std::string_view session_id);
  // Drops the user's sessions. Costs the number of that user's cached sessions, not the cache's.
  void EvictUser(std::string_view project_id, std::string_view user_id);
  void Clear();
  std::size_t size() const;

 private:
  void EraseLocked(std::string_view session_id);

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::atomic<std::uint64_t> epoch_{0};
  // Session ids are random UUIDs, unique across projects; lookups still check the project.
  StringMap<std::shared_ptr<const CachedSession>> by_id_;  // GUARDED_BY(mu_)
  // Token digest (32 raw bytes) -> session id.
  StringMap<std::string> by_digest_;  // GUARDED_BY(mu_)
  // "project_id\nuser_id" -> the ids of that user's cached sessions.
  StringMap<std::vector<std::string>> by_user_;  // GUARDED_BY(mu_)
};

class UserCache {
 public:
  // At most `capacity` users; 0 caches nothing.
  explicit UserCache(std::size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const CachedUser> Find(std::string_view project_id,
                                         std::string_view user_id) const;
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  void Insert(std::shared_ptr<const CachedUser> entry, std::uint64_t epoch);
  void Evict(std::string_view project_id, std::string_view user_id);
  void Clear();

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::atomic<std::uint64_t> epoch_{0};
  // By canonical user id (a random UUID, unique across projects); lookups check the project.
  StringMap<std::shared_ptr<const CachedUser>> users_;  // GUARDED_BY(mu_)
};

// What this node learned from checking a session JWT on the refresh path (signature, issuer,
// audience): a JWT seen before then costs a hash lookup and a comparison, not a signature check.
// Only what the JWT itself says is kept; the session it names is looked up on every use, exactly
// as for a token, so revocation applies to a cached JWT as to a token.
struct CheckedJwt {
  std::string jwt;  // The whole token: a hit compares it in full, so a hash collision is a miss.
  std::string project_id;
  std::string kid;  // Its signer: a hit is void once the project stops publishing this key.
  std::string session_id;
  std::string subject;
  std::int64_t issued_at = 0;   // iat, Unix seconds.
  std::int64_t not_before = 0;  // nbf.
};

class VerifiedJwtCache {
 public:
  // At most `capacity` JWTs; 0 remembers none.
  explicit VerifiedJwtCache(std::size_t capacity)
      : capacity_per_shard_((capacity + kShards - 1) / kShards) {}

  std::shared_ptr<const CheckedJwt> Find(std::string_view jwt) const;
  void Insert(std::shared_ptr<const CheckedJwt> entry);
  void Erase(std::string_view jwt);

 private:
  // Sharded by the token's hash so that threads verifying different JWTs rarely share a lock.
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    StringMap<std::shared_ptr<const CheckedJwt>> map;  // GUARDED_BY(mu), by the whole token
  };
  Shard& ShardOf(std::string_view jwt) const;

  const std::size_t capacity_per_shard_;
  mutable std::array<Shard, kShards> shards_;
};

// Coalesces last_accessed_at updates: at most one pending touch per session, keeping the latest
// time. Drained by the write-behind flusher.
class TouchQueue {
 public:
  void Touch(std::string_view project_id, std::string_view session_id, TimePoint t);
  std::vector<SessionTouch> Drain();
  // Puts back touches whose write failed (keeping the later time if the session was touched again).
  void Restore(std::vector<SessionTouch> touches);
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, SessionTouch> pending_;  // GUARDED_BY(mu_)
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_CACHES_H_
