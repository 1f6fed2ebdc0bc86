// A SessionStore that forwards every call to another one (leveldb's EnvWrapper pattern).
// Subclasses override what they want to observe or change: metrics timing in the server, injected
// failures in tests.
#ifndef TESSERA_STORE_FORWARDING_STORE_H_
#define TESSERA_STORE_FORWARDING_STORE_H_

#include "tessera/store/store.h"

namespace tessera {

class ForwardingStore : public SessionStore {
 public:
  // `target` must outlive this object.
  explicit ForwardingStore(SessionStore& target) : target_(target) {}

  Status Ping() override { return target_.Ping(); }
  bool shared() const override { return target_.shared(); }
  bool caches_current() const override { return target_.caches_current(); }
  void SetChangeListener(std::function<void(const StoreChange&)> listener) override {
    target_.SetChangeListener(std::move(listener));
  }
  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                      std::string_view session_id) override {
    return target_.GetSessionStamp(project_id, session_id);
  }
  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    return target_.GetMeta(key);
  }
  Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) override {
    return target_.PutMetaIfAbsent(key, value);
  }
  Status CreateProject(const Project& project, const std::vector<KeyRecord>& keys) override {
    return target_.CreateProject(project, keys);
  }
  Result<std::optional<Project>> GetProject(std::string_view project_id) override {
    return target_.GetProject(project_id);
  }
  Result<std::vector<Project>> ListProjects() override { return target_.ListProjects(); }
  Status UpdateProjectSettings(std::string_view project_id,
                               const ProjectSettings& settings) override {
    return target_.UpdateProjectSettings(project_id, settings);
  }
  Status AddSecret(std::string_view project_id, const ProjectSecret& secret) override {
    return target_.AddSecret(project_id, secret);
  }
  Status DeleteSecret(std::string_view project_id, std::string_view secret_id) override {
    return target_.DeleteSecret(project_id, secret_id);
  }
  Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) override {
    return target_.ListKeys(project_id);
  }
  Result<KeyRingSnapshot> ReadKeyRing(std::string_view project_id) override {
    return target_.ReadKeyRing(project_id);
  }
  Status SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records,
                  std::int64_t read_version) override {
    return target_.SaveKeys(project_id, records, read_version);
  }
  Result<std::int64_t> ConfigVersion() override { return target_.ConfigVersion(); }
  Result<std::optional<RbacPolicyRecord>> GetRbacPolicy(std::string_view project_id) override {
    return target_.GetRbacPolicy(project_id);
  }
  Result<std::int64_t> PutRbacPolicy(std::string_view project_id, std::string_view policy_json,
                                     std::int64_t expected_version, TimePoint now) override {
    return target_.PutRbacPolicy(project_id, policy_json, expected_version, now);
  }
  Status CreateUser(const User& user) override { return target_.CreateUser(user); }
  Result<std::vector<Status>> CreateUsers(const std::vector<User>& users) override {
    return target_.CreateUsers(users);
  }
  Result<std::optional<User>> GetUser(std::string_view project_id,
                                      std::string_view user_id) override {
    return target_.GetUser(project_id, user_id);
  }
  Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                             std::string_view email) override {
    return target_.GetUserByEmail(project_id, email);
  }
  Status UpdateUser(const User& user) override { return target_.UpdateUser(user); }
  Result<std::vector<std::string>> DeleteUser(std::string_view project_id, std::string_view user_id,
                                              TimePoint now) override {
    return target_.DeleteUser(project_id, user_id, now);
  }
  Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                               const std::optional<UserCursor>& after, int limit) override {
    return target_.SearchUsers(project_id, query, after, limit);
  }
  Status CreateSession(const SessionRecord& session) override {
    return target_.CreateSession(session);
  }
  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                         const TokenDigest& digest) override {
    return target_.GetSessionByToken(project_id, digest);
  }
  Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                  std::string_view session_id) override {
    return target_.GetSession(project_id, session_id);
  }
  Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                  std::string_view user_id,
                                                  TimePoint now) override {
    return target_.ListSessions(project_id, user_id, now);
  }
  Result<std::int64_t> UpdateSession(const SessionRecord& session) override {
    return target_.UpdateSession(session);
  }
  Status TouchSessions(const std::vector<SessionTouch>& touches) override {
    return target_.TouchSessions(touches);
  }
  Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                             TimePoint now) override {
    return target_.RevokeSession(project_id, session_id, now);
  }
  Result<RevocationBatch> ReadRevocations(std::string_view project_id, std::int64_t after,
                                          int limit) override {
    return target_.ReadRevocations(project_id, after, limit);
  }
  Result<std::int64_t> PruneRevocations(TimePoint cutoff) override {
    return target_.PruneRevocations(cutoff);
  }
  Result<SsfStream> CreateSsfStream(const SsfStream& stream) override {
    return target_.CreateSsfStream(stream);
  }
  Result<std::optional<SsfStream>> GetSsfStream(std::string_view project_id) override {
    return target_.GetSsfStream(project_id);
  }
  Status DeleteSsfStream(std::string_view project_id, std::string_view stream_id) override {
    return target_.DeleteSsfStream(project_id, stream_id);
  }
  Result<SsfStream> AckSsfEvents(std::string_view project_id, std::string_view stream_id,
                                 const std::vector<std::int64_t>& sequences) override {
    return target_.AckSsfEvents(project_id, stream_id, sequences);
  }
  Result<std::optional<std::string>> FindProjectByPublicToken(
      std::string_view public_token) override {
    return target_.FindProjectByPublicToken(public_token);
  }
  Result<std::vector<SdkOrigin>> ListSdkOrigins(std::string_view project_id) override {
    return target_.ListSdkOrigins(project_id);
  }
  Status AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) override {
    return target_.AddSdkOrigin(project_id, origin);
  }
  Status RemoveSdkOrigin(std::string_view project_id, std::string_view origin) override {
    return target_.RemoveSdkOrigin(project_id, origin);
  }
  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override {
    return target_.DeleteExpiredSessions(cutoff);
  }
  Result<FailureState> RecordPasswordFailure(std::string_view project_id, std::string_view user_id,
                                             TimePoint now, const LockPolicy& policy) override {
    return target_.RecordPasswordFailure(project_id, user_id, now, policy);
  }
  Result<FailureState> RecordUnknownEmailFailure(std::string_view project_id, const EmailKey& email,
                                                 TimePoint now, const LockPolicy& policy) override {
    return target_.RecordUnknownEmailFailure(project_id, email, now, policy);
  }
  Result<FailureState> GetUnknownEmailFailures(std::string_view project_id,
                                               const EmailKey& email) override {
    return target_.GetUnknownEmailFailures(project_id, email);
  }
  Result<std::int64_t> DeleteStaleUnknownEmailFailures(TimePoint now) override {
    return target_.DeleteStaleUnknownEmailFailures(now);
  }

  Result<std::vector<std::string>> RevokeUserSessions(std::string_view project_id,
                                                      std::string_view user_id,
                                                      std::string_view keep_session_id,
                                                      TimePoint now) override {
    return target_.RevokeUserSessions(project_id, user_id, keep_session_id, now);
  }
  Status IssueOneTimeTokens(const std::vector<OneTimeToken>& tokens, bool supersede,
                            const std::optional<OutboxMessage>& message) override {
    return target_.IssueOneTimeTokens(tokens, supersede, message);
  }
  Result<std::optional<OneTimeToken>> FindOneTimeToken(std::string_view project_id,
                                                       const OneTimeDigest& digest) override {
    return target_.FindOneTimeToken(project_id, digest);
  }
  Result<bool> ConsumeOneTimeToken(std::string_view project_id, std::string_view token_id,
                                   TimePoint now) override {
    return target_.ConsumeOneTimeToken(project_id, token_id, now);
  }
  Result<std::int64_t> RevokeOneTimeTokens(std::string_view project_id, std::string_view method_id,
                                           OneTimeTokenKind kind, TimePoint now) override {
    return target_.RevokeOneTimeTokens(project_id, method_id, kind, now);
  }
  Result<std::int64_t> DeleteExpiredOneTimeTokens(TimePoint cutoff) override {
    return target_.DeleteExpiredOneTimeTokens(cutoff);
  }
  Result<std::vector<OutboxMessage>> ClaimOutbox(TimePoint now, Seconds lease, int limit,
                                                 std::string_view claim_id) override {
    return target_.ClaimOutbox(now, lease, limit, claim_id);
  }
  Result<bool> CompleteOutbox(std::string_view message_id, std::string_view claim_id) override {
    return target_.CompleteOutbox(message_id, claim_id);
  }
  Result<bool> RetryOutbox(std::string_view message_id, std::string_view claim_id,
                           TimePoint next_attempt_at, std::string_view error) override {
    return target_.RetryOutbox(message_id, claim_id, next_attempt_at, error);
  }
  Result<bool> AbandonOutbox(std::string_view message_id, std::string_view claim_id,
                             std::string_view error) override {
    return target_.AbandonOutbox(message_id, claim_id, error);
  }
  Result<OutboxStats> GetOutboxStats() override { return target_.GetOutboxStats(); }
  Result<std::int64_t> PruneOutbox(TimePoint cutoff) override {
    return target_.PruneOutbox(cutoff);
  }
  Status AddRedirectUrl(const RedirectUrl& url) override { return target_.AddRedirectUrl(url); }
  Result<std::vector<RedirectUrl>> ListRedirectUrls(std::string_view project_id) override {
    return target_.ListRedirectUrls(project_id);
  }
  Status RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                           std::string_view url) override {
    return target_.RemoveRedirectUrl(project_id, type, url);
  }
  Result<std::int64_t> CountRateLimitHit(const RateLimitKey& key, TimePoint window_start,
                                         TimePoint expires_at) override {
    return target_.CountRateLimitHit(key, window_start, expires_at);
  }
  Result<std::int64_t> DeleteExpiredRateLimits(TimePoint now) override {
    return target_.DeleteExpiredRateLimits(now);
  }

 protected:
  SessionStore& target() { return target_; }

 private:
  SessionStore& target_;
};

}  // namespace tessera

#endif  // TESSERA_STORE_FORWARDING_STORE_H_
