// A store that fails chosen operations on demand, so "the database went away" paths are tested.
#ifndef TESSERA_TESTS_LIB_FAULTY_STORE_H_
#define TESSERA_TESTS_LIB_FAULTY_STORE_H_

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "store/forwarding_store.h"

namespace tessera::testing {

class FaultyStore final : public ForwardingStore {
 public:
  explicit FaultyStore(SessionStore& target) : ForwardingStore(target) {}

  // Every listed operation fails with kStoreUnavailable until Heal().
  void Fail(std::set<std::string> operations) {
    std::lock_guard lock(mu_);
    failing_ = std::move(operations);
  }
  void Heal() { Fail({}); }
  // Runs `hook` once, the next time `operation` is called, before it reaches the store: a forced
  // interleaving (e.g. delete the user right before a login writes its session).
  void OnceBefore(std::string operation, std::function<void()> hook) {
    std::lock_guard lock(mu_);
    hooks_[std::move(operation)] = std::move(hook);
  }
  int failures() const { return failures_.load(); }

  Status CreateSession(const SessionRecord& s) override {
    if (Failing("CreateSession")) return Down();
    return ForwardingStore::CreateSession(s);
  }
  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view p,
                                                         const TokenDigest& d) override {
    if (Failing("GetSessionByToken")) return Down();
    return ForwardingStore::GetSessionByToken(p, d);
  }
  Result<std::optional<SessionRecord>> GetSession(std::string_view p, std::string_view s) override {
    if (Failing("GetSession")) return Down();
    return ForwardingStore::GetSession(p, s);
  }
  Result<std::int64_t> UpdateSession(const SessionRecord& s) override {
    if (Failing("UpdateSession")) return Down();
    return ForwardingStore::UpdateSession(s);
  }
  Status TouchSessions(const std::vector<SessionTouch>& t) override {
    if (Failing("TouchSessions")) return Down();
    return ForwardingStore::TouchSessions(t);
  }
  Result<bool> RevokeSession(std::string_view p, std::string_view s, TimePoint now) override {
    if (Failing("RevokeSession")) return Down();
    return ForwardingStore::RevokeSession(p, s, now);
  }
  Status UpdateUser(const User& u) override {
    if (Failing("UpdateUser")) return Down();
    return ForwardingStore::UpdateUser(u);
  }
  Result<std::optional<User>> GetUser(std::string_view p, std::string_view u) override {
    if (Failing("GetUser")) return Down();
    return ForwardingStore::GetUser(p, u);
  }
  Result<std::optional<User>> GetUserByEmail(std::string_view p, std::string_view e) override {
    if (Failing("GetUserByEmail")) return Down();
    return ForwardingStore::GetUserByEmail(p, e);
  }
  Result<std::optional<std::string>> FindProjectByPublicToken(std::string_view t) override {
    if (Failing("FindProjectByPublicToken")) return Down();
    return ForwardingStore::FindProjectByPublicToken(t);
  }
  Result<std::optional<Project>> GetProject(std::string_view p) override {
    if (Failing("GetProject")) return Down();
    return ForwardingStore::GetProject(p);
  }
  Status CreateUser(const User& u) override {
    if (Failing("CreateUser")) return Down();
    return ForwardingStore::CreateUser(u);
  }
  Result<std::vector<Status>> CreateUsers(const std::vector<User>& users) override {
    if (Failing("CreateUsers")) return Down();
    return ForwardingStore::CreateUsers(users);
  }

 private:
  bool Failing(const char* op) {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      if (const auto it = hooks_.find(op); it != hooks_.end()) {
        hook = std::move(it->second);
        hooks_.erase(it);
      }
    }
    if (hook) hook();  // Outside the lock: the hook may call this store.
    std::lock_guard lock(mu_);
    const bool f = failing_.count(op) > 0;
    if (f) ++failures_;
    return f;
  }
  static Status Down() {
    return Status(ErrorCode::kStoreUnavailable, "injected failure: the database went away");
  }

  std::mutex mu_;
  std::set<std::string> failing_;                                    // GUARDED_BY(mu_)
  std::map<std::string, std::function<void()>, std::less<>> hooks_;  // GUARDED_BY(mu_)
  std::atomic<int> failures_{0};
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_LIB_FAULTY_STORE_H_
