// A store wrapper that times every call into the metrics
// (tessera_store_operation_duration_seconds).
#ifndef TESSERA_SERVER_INSTRUMENTED_STORE_H_
#define TESSERA_SERVER_INSTRUMENTED_STORE_H_

#include <chrono>

#include "server/metrics.h"
#include "store/forwarding_store.h"

namespace tessera::server {

class InstrumentedStore final : public ForwardingStore {
 public:
  InstrumentedStore(SessionStore& target, Metrics& metrics)
      : ForwardingStore(target), metrics_(metrics) {}

#define TESSERA_TIMED(op, call)                                                             \
  const auto start_ = std::chrono::steady_clock::now();                                     \
  auto result_ = call;                                                                      \
  metrics_.RecordStore(                                                                     \
      op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(), \
      ::tessera::internal::AsStatus(result_).ok());                                         \
  return result_

  Status Ping() override { TESSERA_TIMED("ping", ForwardingStore::Ping()); }
  Result<std::optional<Project>> GetProject(std::string_view id) override {
    TESSERA_TIMED("get_project", ForwardingStore::GetProject(id));
  }
  Result<std::optional<std::string>> FindProjectByPublicToken(std::string_view t) override {
    TESSERA_TIMED("find_project_by_public_token", ForwardingStore::FindProjectByPublicToken(t));
  }
  Result<std::vector<KeyRecord>> ListKeys(std::string_view id) override {
    TESSERA_TIMED("list_keys", ForwardingStore::ListKeys(id));
  }
  Result<std::int64_t> ConfigVersion() override {
    TESSERA_TIMED("config_version", ForwardingStore::ConfigVersion());
  }
  Result<std::optional<RbacPolicyRecord>> GetRbacPolicy(std::string_view id) override {
    TESSERA_TIMED("get_rbac_policy", ForwardingStore::GetRbacPolicy(id));
  }
  Status CreateUser(const User& u) override {
    TESSERA_TIMED("create_user", ForwardingStore::CreateUser(u));
  }
  Result<std::vector<Status>> CreateUsers(const std::vector<User>& users) override {
    TESSERA_TIMED("create_users", ForwardingStore::CreateUsers(users));
  }
  Result<std::optional<User>> GetUser(std::string_view p, std::string_view u) override {
    TESSERA_TIMED("get_user", ForwardingStore::GetUser(p, u));
  }
  Result<std::optional<User>> GetUserByEmail(std::string_view p, std::string_view e) override {
    TESSERA_TIMED("get_user_by_email", ForwardingStore::GetUserByEmail(p, e));
  }
  Status UpdateUser(const User& u) override {
    TESSERA_TIMED("update_user", ForwardingStore::UpdateUser(u));
  }
  Result<std::vector<std::string>> DeleteUser(std::string_view p, std::string_view u,
                                              TimePoint now) override {
    TESSERA_TIMED("delete_user", ForwardingStore::DeleteUser(p, u, now));
  }
  Result<UserPage> SearchUsers(std::string_view p, const UserQuery& q,
                               const std::optional<UserCursor>& after, int limit) override {
    TESSERA_TIMED("search_users", ForwardingStore::SearchUsers(p, q, after, limit));
  }
  Status CreateSession(const SessionRecord& s) override {
    TESSERA_TIMED("create_session", ForwardingStore::CreateSession(s));
  }
  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view p,
                                                         const TokenDigest& d) override {
    TESSERA_TIMED("get_session_by_token", ForwardingStore::GetSessionByToken(p, d));
  }
  Result<std::optional<SessionRecord>> GetSession(std::string_view p, std::string_view s) override {
    TESSERA_TIMED("get_session", ForwardingStore::GetSession(p, s));
  }
  Result<std::vector<SessionRecord>> ListSessions(std::string_view p, std::string_view u,
                                                  TimePoint now) override {
    TESSERA_TIMED("list_sessions", ForwardingStore::ListSessions(p, u, now));
  }
  Result<std::int64_t> UpdateSession(const SessionRecord& s) override {
    TESSERA_TIMED("update_session", ForwardingStore::UpdateSession(s));
  }
  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view p,
                                                      std::string_view s) override {
    TESSERA_TIMED("get_session_stamp", ForwardingStore::GetSessionStamp(p, s));
  }
  Status TouchSessions(const std::vector<SessionTouch>& t) override {
    TESSERA_TIMED("touch_sessions", ForwardingStore::TouchSessions(t));
  }
  Result<bool> RevokeSession(std::string_view p, std::string_view s, TimePoint now) override {
    TESSERA_TIMED("revoke_session", ForwardingStore::RevokeSession(p, s, now));
  }
  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override {
    TESSERA_TIMED("delete_expired_sessions", ForwardingStore::DeleteExpiredSessions(cutoff));
  }
  Result<RevocationBatch> ReadRevocations(std::string_view p, std::int64_t after,
                                          int limit) override {
    TESSERA_TIMED("read_revocations", ForwardingStore::ReadRevocations(p, after, limit));
  }
  Result<std::int64_t> PruneRevocations(TimePoint cutoff) override {
    TESSERA_TIMED("prune_revocations", ForwardingStore::PruneRevocations(cutoff));
  }
  Result<SsfStream> CreateSsfStream(const SsfStream& s) override {
    TESSERA_TIMED("create_ssf_stream", ForwardingStore::CreateSsfStream(s));
  }
  Result<std::optional<SsfStream>> GetSsfStream(std::string_view p) override {
    TESSERA_TIMED("get_ssf_stream", ForwardingStore::GetSsfStream(p));
  }
  Status DeleteSsfStream(std::string_view p, std::string_view s) override {
    TESSERA_TIMED("delete_ssf_stream", ForwardingStore::DeleteSsfStream(p, s));
  }
  Result<SsfStream> AckSsfEvents(std::string_view p, std::string_view s,
                                 const std::vector<std::int64_t>& sequences) override {
    TESSERA_TIMED("ack_ssf_events", ForwardingStore::AckSsfEvents(p, s, sequences));
  }
  Result<FailureState> RecordPasswordFailure(std::string_view p, std::string_view u, TimePoint now,
                                             const LockPolicy& policy) override {
    TESSERA_TIMED("record_password_failure",
                  ForwardingStore::RecordPasswordFailure(p, u, now, policy));
  }
  Result<FailureState> RecordUnknownEmailFailure(std::string_view p, const EmailKey& e,
                                                 TimePoint now, const LockPolicy& policy) override {
    TESSERA_TIMED("record_unknown_email_failure",
                  ForwardingStore::RecordUnknownEmailFailure(p, e, now, policy));
  }
  Result<FailureState> GetUnknownEmailFailures(std::string_view p, const EmailKey& e) override {
    TESSERA_TIMED("get_unknown_email_failures", ForwardingStore::GetUnknownEmailFailures(p, e));
  }
  Result<std::int64_t> DeleteStaleUnknownEmailFailures(TimePoint now) override {
    TESSERA_TIMED("delete_stale_unknown_email_failures",
                  ForwardingStore::DeleteStaleUnknownEmailFailures(now));
  }

  Result<std::vector<std::string>> RevokeUserSessions(std::string_view p, std::string_view u,
                                                      std::string_view keep,
                                                      TimePoint now) override {
    TESSERA_TIMED("revoke_user_sessions", ForwardingStore::RevokeUserSessions(p, u, keep, now));
  }
  Status IssueOneTimeTokens(const std::vector<OneTimeToken>& t, bool supersede,
                            const std::optional<OutboxMessage>& m) override {
    TESSERA_TIMED("issue_one_time_tokens", ForwardingStore::IssueOneTimeTokens(t, supersede, m));
  }
  Result<std::optional<OneTimeToken>> FindOneTimeToken(std::string_view p,
                                                       const OneTimeDigest& d) override {
    TESSERA_TIMED("find_one_time_token", ForwardingStore::FindOneTimeToken(p, d));
  }
  Result<bool> ConsumeOneTimeToken(std::string_view p, std::string_view t, TimePoint now) override {
    TESSERA_TIMED("consume_one_time_token", ForwardingStore::ConsumeOneTimeToken(p, t, now));
  }
  Result<std::vector<OutboxMessage>> ClaimOutbox(TimePoint now, Seconds lease, int limit,
                                                 std::string_view claim) override {
    TESSERA_TIMED("claim_outbox", ForwardingStore::ClaimOutbox(now, lease, limit, claim));
  }
  Result<bool> CompleteOutbox(std::string_view m, std::string_view claim) override {
    TESSERA_TIMED("complete_outbox", ForwardingStore::CompleteOutbox(m, claim));
  }
  Result<std::vector<RedirectUrl>> ListRedirectUrls(std::string_view p) override {
    TESSERA_TIMED("list_redirect_urls", ForwardingStore::ListRedirectUrls(p));
  }
  Result<std::int64_t> CountRateLimitHit(const RateLimitKey& k, TimePoint start,
                                         TimePoint expires) override {
    TESSERA_TIMED("count_rate_limit_hit", ForwardingStore::CountRateLimitHit(k, start, expires));
  }

#undef TESSERA_TIMED

 private:
  Metrics& metrics_;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_INSTRUMENTED_STORE_H_
