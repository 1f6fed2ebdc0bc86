// The revocations a local verifier must honour: revoked session ids, and per user a "not before"
// time (a JWT of that user issued at or before it is refused). Exact sets, so a lookup never
// refuses a JWT that was not revoked and never needs the API to settle a maybe.
//
// A RevocationSet is immutable once built, so any number of threads read it without locks; the
// feed thread derives the next one with a RevocationSetBuilder. Each kind is split into kShards
// shards by hash, and a new set shares every shard it did not change with the set it was derived
// from: one revocation copies one shard (a few hundred entries at 150 000), not the whole set.
// Every entry carries relevant_until, and Prune drops those that no JWT accepted now can name, so
// the set holds only what still matters.
#ifndef TESSERA_CLIENT_REVOCATION_SET_H_
#define TESSERA_CLIENT_REVOCATION_SET_H_

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::client {

// A keyed 64-bit hash of an id, never 0. The key is random per client, so the hash's buckets
// cannot be predicted from outside.
class IdHasher {
 public:
  IdHasher();  // A random key.
  explicit IdHasher(std::uint64_t key) : key_(key) {}
  std::uint64_t operator()(std::string_view id) const;

 private:
  std::uint64_t key_;
};

// One shard of one kind: an open-addressing table, immutable once built.
class RevocationShard {
 public:
  struct Entry {
    std::uint64_t hash = 0;  // IdHasher of id.
    std::string id;
    std::int64_t not_before = 0;      // Users only.
    std::int64_t relevant_until = 0;  // Unix seconds.
  };

  // Dedupes entries with the same id: the latest not_before and relevant_until win.
  explicit RevocationShard(std::vector<Entry> entries);

  const Entry* Find(std::string_view id, std::uint64_t hash) const {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == hash && entries_[s.index].id == id) return &entries_[s.index];
    }
  }
  const std::vector<Entry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  // The smallest relevant_until of its entries; INT64_MAX when empty.
  std::int64_t earliest_relevant_until() const { return earliest_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;  // 0: empty.
    std::uint32_t index = 0;
  };
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;  // A power of two, at most half full, so probes end quickly.
  std::size_t mask_ = 0;
  std::int64_t earliest_ = std::numeric_limits<std::int64_t>::max();
};

class RevocationSet {
 public:
  static constexpr std::size_t kShards = 256;

  // The empty set.
  RevocationSet();

  // Whether the session with this id (and IdHasher hash) is revoked.
  bool SessionRevoked(std::string_view session_id, std::uint64_t hash) const {
    return sessions_count_ != 0 && ShardOf(sessions_, hash).Find(session_id, hash) != nullptr;
  }
  // The user's not_before, if the user has an entry: JWTs with iat <= it are refused.
  std::optional<std::int64_t> UserNotBefore(std::string_view user_id, std::uint64_t hash) const {
    if (users_count_ == 0) return std::nullopt;
    const RevocationShard::Entry* e = ShardOf(users_, hash).Find(user_id, hash);
    return e != nullptr ? std::optional<std::int64_t>(e->not_before) : std::nullopt;
  }

  std::size_t sessions() const { return sessions_count_; }
  std::size_t users() const { return users_count_; }
  // The smallest relevant_until of all entries; INT64_MAX when empty.
  std::int64_t earliest_relevant_until() const { return earliest_; }

 private:
  friend class RevocationSetBuilder;
  struct Unfilled {};
  explicit RevocationSet(Unfilled) {}  // For the builder, which fills every shard itself.
  using Shards = std::array<std::shared_ptr<const RevocationShard>, kShards>;
  static const RevocationShard& ShardOf(const Shards& shards, std::uint64_t hash) {
    return *shards[hash >> 56];  // The top bits pick the shard, the low ones the slot.
  }

  Shards sessions_;
  Shards users_;
  std::size_t sessions_count_ = 0;
  std::size_t users_count_ = 0;
  std::int64_t earliest_ = std::numeric_limits<std::int64_t>::max();
};

// Derives a new set from an old one (or from nothing): only the shards touched are rebuilt.
class RevocationSetBuilder {
 public:
  // Starts from `base` (the empty set when null).
  RevocationSetBuilder(const IdHasher& hasher, std::shared_ptr<const RevocationSet> base);

  // Adds a revoked session, or merges it with the entry the session already has.
  void AddSession(std::string_view session_id, std::int64_t relevant_until);
  // Adds a user's not_before, or merges it (the later not_before and relevant_until win).
  void AddUser(std::string_view user_id, std::int64_t not_before, std::int64_t relevant_until);
  // Drops every entry whose relevant_until is at or before `cutoff`.
  void Prune(std::int64_t cutoff);
  // Empties the set (a snapshot replaces everything).
  void Clear();

  bool changed() const { return changed_; }
  // The new set. The builder is spent.
  std::shared_ptr<const RevocationSet> Build();

 private:
  using Entry = RevocationShard::Entry;
  struct Kind {
    RevocationSet::Shards shards;
    // Shards being rebuilt: their entries so far (duplicates are merged when built).
    std::array<std::optional<std::vector<Entry>>, RevocationSet::kShards> dirty;
  };
  // The shard's entries, copied out of the shared shard on first use.
  std::vector<Entry>& Dirty(Kind& kind, std::size_t shard);
  void Add(Kind& kind, std::string_view id, std::int64_t not_before, std::int64_t relevant_until);
  void PruneKind(Kind& kind, std::int64_t cutoff);
  // Builds the dirty shards; returns the kind's entry count and lowers `earliest` to its own.
  static std::size_t Finish(Kind& kind, std::int64_t& earliest);

  const IdHasher& hasher_;
  Kind sessions_;
  Kind users_;
  bool changed_ = false;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_REVOCATION_SET_H_
