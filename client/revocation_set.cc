#include "client/revocation_set.h"

#include <openssl/rand.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace tessera::client {
namespace {

__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang: the full 64x64 product.

inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

const std::shared_ptr<const RevocationShard>& EmptyShard() {
  static const auto* empty = new std::shared_ptr<const RevocationShard>(
      std::make_shared<RevocationShard>(std::vector<RevocationShard::Entry>()));
  return *empty;
}

}  // namespace

// --- IdHasher ------------------------------------------------------------------------------------

IdHasher::IdHasher() : key_(0) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&key_), sizeof key_) != 1) {
    key_ = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this)) * 0x9E3779B97F4A7C15u;
  }
}

std::uint64_t IdHasher::operator()(std::string_view id) const {
  // A multiply-xor hash over 16-byte blocks (in the style of wyhash), over every byte: ids share
  // long prefixes ("session-test-"), so all of them must count. Computed once per verified JWT
  // (the verified-JWT cache keeps it), not on every check.
  constexpr std::uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull;
  std::uint64_t h = key_ ^ (id.size() * kP0);
  const char* p = id.data();
  std::size_t n = id.size();
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
  const std::uint64_t out = Mix(a ^ kP0 ^ h, b ^ kP1 ^ id.size());
  return out != 0 ? out : 1;  // 0 marks an empty slot.
}

// --- RevocationShard -----------------------------------------------------------------------------

RevocationShard::RevocationShard(std::vector<Entry> entries) {
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(2, entries.size() * 2));
  slots_.resize(capacity);
  mask_ = capacity - 1;
  entries_.reserve(entries.size());
  for (Entry& e : entries) {
    std::size_t i = e.hash & mask_;
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        s.hash = e.hash;
        s.index = static_cast<std::uint32_t>(entries_.size());
        entries_.push_back(std::move(e));
        break;
      }
      if (s.hash == e.hash && entries_[s.index].id == e.id) {
        Entry& old = entries_[s.index];
        old.not_before = std::max(old.not_before, e.not_before);
        old.relevant_until = std::max(old.relevant_until, e.relevant_until);
        break;
      }
    }
  }
  for (const Entry& e : entries_) earliest_ = std::min(earliest_, e.relevant_until);
}

// --- RevocationSet -------------------------------------------------------------------------------

RevocationSet::RevocationSet() {
  sessions_.fill(EmptyShard());
  users_.fill(EmptyShard());
}

// --- RevocationSetBuilder ------------------------------------------------------------------------

RevocationSetBuilder::RevocationSetBuilder(const IdHasher& hasher,
                                           std::shared_ptr<const RevocationSet> base)
    : hasher_(hasher) {
  if (base == nullptr) base = std::make_shared<const RevocationSet>();
  sessions_.shards = base->sessions_;
  users_.shards = base->users_;
}

std::vector<RevocationShard::Entry>& RevocationSetBuilder::Dirty(Kind& kind, std::size_t shard) {
  auto& dirty = kind.dirty[shard];
  if (!dirty) dirty = kind.shards[shard]->entries();
  return *dirty;
}

void RevocationSetBuilder::Add(Kind& kind, std::string_view id, std::int64_t not_before,
                               std::int64_t relevant_until) {
  const std::uint64_t hash = hasher_(id);
  // Duplicates are merged when the shard is built.
  Dirty(kind, hash >> 56).push_back(Entry{hash, std::string(id), not_before, relevant_until});
  changed_ = true;
}

void RevocationSetBuilder::AddSession(std::string_view session_id, std::int64_t relevant_until) {
  Add(sessions_, session_id, 0, relevant_until);
}

void RevocationSetBuilder::AddUser(std::string_view user_id, std::int64_t not_before,
                                   std::int64_t relevant_until) {
  Add(users_, user_id, not_before, relevant_until);
}

void RevocationSetBuilder::PruneKind(Kind& kind, std::int64_t cutoff) {
  for (std::size_t i = 0; i < RevocationSet::kShards; ++i) {
    // A shard none of whose entries has expired is left as it is (and stays shared).
    if (!kind.dirty[i] && kind.shards[i]->earliest_relevant_until() > cutoff) continue;
    std::vector<Entry>& entries = Dirty(kind, i);
    const auto expired = [cutoff](const Entry& e) { return e.relevant_until <= cutoff; };
    const auto removed = std::erase_if(entries, expired);
    if (removed != 0) changed_ = true;
  }
}

void RevocationSetBuilder::Prune(std::int64_t cutoff) {
  PruneKind(sessions_, cutoff);
  PruneKind(users_, cutoff);
}

void RevocationSetBuilder::Clear() {
  for (Kind* kind : {&sessions_, &users_}) {
    kind->shards.fill(EmptyShard());
    for (auto& d : kind->dirty) d.reset();
  }
  changed_ = true;
}

std::size_t RevocationSetBuilder::Finish(Kind& kind, std::int64_t& earliest) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < RevocationSet::kShards; ++i) {
    if (auto& dirty = kind.dirty[i]) {
      kind.shards[i] = dirty->empty() ? EmptyShard()
                                      : std::make_shared<const RevocationShard>(std::move(*dirty));
      dirty.reset();
    }
    count += kind.shards[i]->size();
    earliest = std::min(earliest, kind.shards[i]->earliest_relevant_until());
  }
  return count;
}

std::shared_ptr<const RevocationSet> RevocationSetBuilder::Build() {
  std::shared_ptr<RevocationSet> set(new RevocationSet(RevocationSet::Unfilled{}));
  std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
  set->sessions_count_ = Finish(sessions_, earliest);
  set->users_count_ = Finish(users_, earliest);
  set->sessions_ = std::move(sessions_.shards);
  set->users_ = std::move(users_.shards);
  set->earliest_ = earliest;
  return set;
}

}  // namespace tessera::client
