#include "service/caches.h"

namespace tessera {
namespace {

std::string Key(std::string_view project_id, std::string_view id) {
  std::string k;
  k.reserve(project_id.size() + 1 + id.size());
  k += project_id;
  k += '\n';
  k += id;
  return k;
}

std::string_view DigestKey(const TokenDigest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string UserKey(const SessionRecord& r) { return Key(r.project_id, r.user_id); }

}  // namespace

std::shared_ptr<const CachedUser> MakeCachedUser(User user) {
  auto c = std::make_shared<CachedUser>();
  c->rendered = RenderUser(user);
  c->roles = EffectiveRoles(user);
  c->user = std::move(user);
  return c;
}

std::shared_ptr<const CachedSession> MakeCachedSession(SessionRecord record,
                                                       std::shared_ptr<const CachedUser> user) {
  auto c = std::make_shared<CachedSession>();
  c->rendered = RenderSession(record, user->roles);
  c->record = std::move(record);
  c->user = std::move(user);
  return c;
}

std::shared_ptr<const CachedSession> SessionCache::FindByDigest(std::string_view project_id,
                                                                const TokenDigest& digest) const {
  std::lock_guard lock(mu_);
  const auto d = by_digest_.find(DigestKey(digest));
  if (d == by_digest_.end()) return nullptr;
  const auto it = by_id_.find(d->second);
  if (it == by_id_.end() || it->second->record.project_id != project_id) return nullptr;
  return it->second;
}

std::shared_ptr<const CachedSession> SessionCache::FindById(std::string_view project_id,
                                                            std::string_view session_id) const {
  std::lock_guard lock(mu_);
  const auto it = by_id_.find(session_id);
  if (it == by_id_.end() || it->second->record.project_id != project_id) return nullptr;
  return it->second;
}

void SessionCache::Insert(std::shared_ptr<const CachedSession> entry, std::uint64_t epoch) {
  if (capacity_ == 0) return;  // No cache: every lookup reads the store.
  const std::string& id = entry->record.session_id;
  std::lock_guard lock(mu_);
  // Checked under the lock that eviction also takes, so an eviction either happened before (the
  // epoch moved; we drop) or happens after (it removes what we insert). When we drop, any older
  // entry of the same session goes too: it may predate a change this caller just stored.
  if (epoch_.load(std::memory_order_acquire) != epoch) {
    EraseLocked(id);
    return;
  }
  const auto existing = by_id_.find(id);
  if (existing != by_id_.end()) {
    // Two writers of one session (or a writer and a slow reader) insert in whatever order their
    // threads run: never let an older version replace a newer one.
    if (existing->second->record.project_id == entry->record.project_id &&
        existing->second->record.version > entry->record.version) {
      return;
    }
    // A new version of the same session: same user, same digest, already indexed.
    if (existing->second->record.project_id == entry->record.project_id) {
      existing->second = std::move(entry);
      return;
    }
    EraseLocked(id);
  } else if (by_id_.size() >= capacity_) {
    // Full: drop an arbitrary entry. Every entry can be rebuilt from the store. The drop counts as
    // an invalidation: a reader that loaded the dropped session before a newer version was
    // written must not put its older copy back where the version check above cannot see it.
    epoch_.fetch_add(1, std::memory_order_acq_rel);
    EraseLocked(std::string(by_id_.begin()->first));
  }
  by_digest_.insert_or_assign(std::string(DigestKey(entry->record.token_digest)), id);
  by_user_[UserKey(entry->record)].push_back(id);
  by_id_.emplace(id, std::move(entry));
}

void SessionCache::EraseLocked(std::string_view session_id) {
  const auto it = by_id_.find(session_id);
  if (it == by_id_.end()) return;
  const SessionRecord& r = it->second->record;
  if (const auto d = by_digest_.find(DigestKey(r.token_digest)); d != by_digest_.end()) {
    by_digest_.erase(d);
  }
  if (const auto u = by_user_.find(UserKey(r)); u != by_user_.end()) {
    std::vector<std::string>& ids = u->second;
    std::erase(ids, session_id);
    if (ids.empty()) by_user_.erase(u);
  }
  by_id_.erase(it);
}

void SessionCache::EvictSession(std::string_view project_id, std::string_view session_id) {
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  const auto it = by_id_.find(session_id);
  if (it != by_id_.end() && it->second->record.project_id == project_id) EraseLocked(session_id);
}

void SessionCache::EvictUser(std::string_view project_id, std::string_view user_id) {
  const std::string key = Key(project_id, user_id);
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  const auto u = by_user_.find(key);
  if (u == by_user_.end()) return;
  // EraseLocked edits the list being walked: take it first.
  const std::vector<std::string> doomed = std::move(u->second);
  by_user_.erase(u);
  for (const auto& id : doomed) {
    const auto it = by_id_.find(id);
    if (it == by_id_.end()) continue;
    if (const auto d = by_digest_.find(DigestKey(it->second->record.token_digest));
        d != by_digest_.end()) {
      by_digest_.erase(d);
    }
    by_id_.erase(it);
  }
}

void SessionCache::Clear() {
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  by_id_.clear();
  by_digest_.clear();
  by_user_.clear();
}

std::size_t SessionCache::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

std::shared_ptr<const CachedUser> UserCache::Find(std::string_view project_id,
                                                  std::string_view user_id) const {
  std::lock_guard lock(mu_);
  const auto it = users_.find(user_id);
  if (it == users_.end() || it->second->user.project_id != project_id) return nullptr;
  return it->second;
}

void UserCache::Insert(std::shared_ptr<const CachedUser> entry, std::uint64_t epoch) {
  if (capacity_ == 0) return;
  const std::string& id = entry->user.user_id;
  std::lock_guard lock(mu_);
  if (epoch_.load(std::memory_order_acquire) != epoch) {
    if (auto it = users_.find(id); it != users_.end()) users_.erase(it);
    return;
  }
  if (users_.size() >= capacity_ && users_.find(id) == users_.end()) users_.erase(users_.begin());
  users_.insert_or_assign(id, std::move(entry));
}

void UserCache::Evict(std::string_view project_id, std::string_view user_id) {
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  const auto it = users_.find(user_id);
  if (it != users_.end() && it->second->user.project_id == project_id) users_.erase(it);
}

void UserCache::Clear() {
  std::lock_guard lock(mu_);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  users_.clear();
}

VerifiedJwtCache::Shard& VerifiedJwtCache::ShardOf(std::string_view jwt) const {
  return shards_[std::hash<std::string_view>{}(jwt) % kShards];
}

std::shared_ptr<const CheckedJwt> VerifiedJwtCache::Find(std::string_view jwt) const {
  if (capacity_per_shard_ == 0) return nullptr;
  Shard& s = ShardOf(jwt);
  std::lock_guard lock(s.mu);
  const auto it = s.map.find(jwt);  // Compares the whole token.
  return it == s.map.end() ? nullptr : it->second;
}

void VerifiedJwtCache::Insert(std::shared_ptr<const CheckedJwt> entry) {
  if (capacity_per_shard_ == 0) return;
  Shard& s = ShardOf(entry->jwt);
  std::lock_guard lock(s.mu);
  if (s.map.size() >= capacity_per_shard_ && s.map.find(entry->jwt) == s.map.end()) {
    s.map.erase(s.map.begin());  // Full: drop any; it costs one signature check to rebuild.
  }
  const std::string key = entry->jwt;
  s.map.insert_or_assign(key, std::move(entry));
}

void VerifiedJwtCache::Erase(std::string_view jwt) {
  Shard& s = ShardOf(jwt);
  std::lock_guard lock(s.mu);
  if (const auto it = s.map.find(jwt); it != s.map.end()) s.map.erase(it);
}

void TouchQueue::Touch(std::string_view project_id, std::string_view session_id, TimePoint t) {
  std::string key = Key(project_id, session_id);
  std::lock_guard lock(mu_);
  auto [it, inserted] = pending_.try_emplace(std::move(key));
  if (inserted) {
    it->second = SessionTouch{std::string(project_id), std::string(session_id), t};
  } else if (t > it->second.last_accessed_at) {
    it->second.last_accessed_at = t;
  }
}

std::vector<SessionTouch> TouchQueue::Drain() {
  std::unordered_map<std::string, SessionTouch> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(pending_);
  }
  std::vector<SessionTouch> out;
  out.reserve(taken.size());
  for (auto& [key, touch] : taken) out.push_back(std::move(touch));
  return out;
}

void TouchQueue::Restore(std::vector<SessionTouch> touches) {
  for (auto& t : touches) Touch(t.project_id, t.session_id, t.last_accessed_at);
}

std::size_t TouchQueue::size() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace tessera
