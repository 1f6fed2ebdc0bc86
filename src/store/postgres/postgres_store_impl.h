// The PostgreSQL store's class, shared by the files that implement it, one per record family:
//   postgres_schema.cc    opening, migrations, Ping, OpenPostgresStore
//   postgres_changes.cc   LISTEN/NOTIFY: telling every node about changes
//   postgres_projects.cc  store metadata, projects, secrets, signing keys, the configuration
//                         version
//   postgres_users.cc     users, their emails and phones, user search
//   postgres_sessions.cc  sessions, touches, revocations, expiry
//   postgres_lockout.cc   failed password attempts of users and of unknown emails
//   postgres_revocations.cc  the per-project revocation log
//   postgres_ssf.cc       Shared Signals streams and their acknowledgements
//   postgres_one_time_tokens.cc  one-time tokens (magic links, passcodes, resets), email outbox
//   postgres_email_config.cc  redirect URLs and rate-limit counters
//   postgres_sdk.cc       the frontend SDK's allowed origins, projects by public token
// A new record family adds its methods to the interface, its tables as a new migration in
// postgres_schema.cc, and its own postgres_<family>.cc. Private to the PostgreSQL store: callers
// use tessera/store/postgres_store.h.
#ifndef TESSERA_STORE_POSTGRES_POSTGRES_STORE_IMPL_H_
#define TESSERA_STORE_POSTGRES_POSTGRES_STORE_IMPL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/postgres/pg.h"
#include "tessera/result.h"
#include "tessera/store/postgres_store.h"
#include "tessera/store/store.h"

namespace tessera {

class PostgresStore final : public SessionStore {
 public:
  explicit PostgresStore(PostgresOptions options)
      : options_(std::move(options)),
        pool_({options_.url, options_.pool_size, options_.statement_timeout_ms,
               options_.acquire_timeout_ms}) {}

  ~PostgresStore() override { StopListener(); }

  // Migrates the schema (under an advisory lock, so nodes may start together).
  Status Open();

  bool shared() const override { return true; }
  bool caches_current() const override {
    return std::chrono::steady_clock::now().time_since_epoch().count() < current_until_.load();
  }

  Status Ping() override;

  // --- Changes between nodes (postgres_changes.cc) ---------------------------------------------
  void SetChangeListener(std::function<void(const StoreChange&)> listener) override;

  // --- Store metadata (postgres_projects.cc) ---------------------------------------------------
  Result<std::optional<std::string>> GetMeta(std::string_view key) override;
  Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) override;

  // --- Projects, secrets and keys (postgres_projects.cc) -----------------------------------------
  Status CreateProject(const Project& p, const std::vector<KeyRecord>& keys) override;
  Result<std::optional<Project>> GetProject(std::string_view project_id) override;
  Result<std::vector<Project>> ListProjects() override;
  Status UpdateProjectSettings(std::string_view project_id,
                               const ProjectSettings& settings) override;
  Status AddSecret(std::string_view project_id, const ProjectSecret& secret) override;
  Status DeleteSecret(std::string_view project_id, std::string_view secret_id) override;
  Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) override;
  Result<KeyRingSnapshot> ReadKeyRing(std::string_view project_id) override;
  Status SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records,
                  std::int64_t read_version) override;
  Result<std::int64_t> ConfigVersion() override;

  // --- RBAC policies (postgres_rbac.cc) ---------------------------------------------------------
  Result<std::optional<RbacPolicyRecord>> GetRbacPolicy(std::string_view project_id) override;
  Result<std::int64_t> PutRbacPolicy(std::string_view project_id, std::string_view policy_json,
                                     std::int64_t expected_version, TimePoint now) override;

  // --- Users (postgres_users.cc) --------------------------------------------------------------
  Status CreateUser(const User& u) override;
  Result<std::vector<Status>> CreateUsers(const std::vector<User>& users) override;
  Result<std::optional<User>> GetUser(std::string_view project_id,
                                      std::string_view user_id) override;
  Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                             std::string_view email) override;
  Status UpdateUser(const User& u) override;
  Result<std::vector<std::string>> DeleteUser(std::string_view project_id, std::string_view user_id,
                                              TimePoint now) override;
  Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                               const std::optional<UserCursor>& after, int limit) override;

  // --- Lockout (postgres_lockout.cc) ----------------------------------------------------------
  Result<FailureState> RecordPasswordFailure(std::string_view project_id, std::string_view user_id,
                                             TimePoint now, const LockPolicy& policy) override;
  Result<FailureState> RecordUnknownEmailFailure(std::string_view project_id, const EmailKey& email,
                                                 TimePoint now, const LockPolicy& policy) override;
  Result<FailureState> GetUnknownEmailFailures(std::string_view project_id,
                                               const EmailKey& email) override;
  Result<std::int64_t> DeleteStaleUnknownEmailFailures(TimePoint now) override;

  // --- Sessions (postgres_sessions.cc) --------------------------------------------------------
  Status CreateSession(const SessionRecord& s) override;
  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                         const TokenDigest& digest) override;
  Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                  std::string_view session_id) override;
  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                      std::string_view session_id) override;
  Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                  std::string_view user_id, TimePoint now) override;
  Result<std::int64_t> UpdateSession(const SessionRecord& s) override;
  Status TouchSessions(const std::vector<SessionTouch>& touches) override;
  Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                             TimePoint now) override;
  Result<std::vector<std::string>> RevokeUserSessions(std::string_view project_id,
                                                      std::string_view user_id,
                                                      std::string_view keep_session_id,
                                                      TimePoint now) override;
  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override;

  // --- Revocation log (postgres_revocations.cc) -----------------------------------------------
  Result<RevocationBatch> ReadRevocations(std::string_view project_id, std::int64_t after,
                                          int limit) override;
  Result<std::int64_t> PruneRevocations(TimePoint cutoff) override;

  // --- Shared Signals streams (postgres_ssf.cc) -----------------------------------------------
  Result<SsfStream> CreateSsfStream(const SsfStream& stream) override;
  Result<std::optional<SsfStream>> GetSsfStream(std::string_view project_id) override;
  Status DeleteSsfStream(std::string_view project_id, std::string_view stream_id) override;
  Result<SsfStream> AckSsfEvents(std::string_view project_id, std::string_view stream_id,
                                 const std::vector<std::int64_t>& sequences) override;
  // --- One-time tokens and the outbox (postgres_one_time_tokens.cc) ---------------------------
  Status IssueOneTimeTokens(const std::vector<OneTimeToken>& tokens, bool supersede,
                            const std::optional<OutboxMessage>& message) override;
  Result<std::optional<OneTimeToken>> FindOneTimeToken(std::string_view project_id,
                                                       const OneTimeDigest& digest) override;
  Result<bool> ConsumeOneTimeToken(std::string_view project_id, std::string_view token_id,
                                   TimePoint now) override;
  Result<std::int64_t> RevokeOneTimeTokens(std::string_view project_id, std::string_view method_id,
                                           OneTimeTokenKind kind, TimePoint now) override;
  Result<std::int64_t> DeleteExpiredOneTimeTokens(TimePoint cutoff) override;
  Result<std::vector<OutboxMessage>> ClaimOutbox(TimePoint now, Seconds lease, int limit,
                                                 std::string_view claim_id) override;
  Result<bool> CompleteOutbox(std::string_view message_id, std::string_view claim_id) override;
  Result<bool> RetryOutbox(std::string_view message_id, std::string_view claim_id,
                           TimePoint next_attempt_at, std::string_view error) override;
  Result<bool> AbandonOutbox(std::string_view message_id, std::string_view claim_id,
                             std::string_view error) override;
  Result<OutboxStats> GetOutboxStats() override;
  Result<std::int64_t> PruneOutbox(TimePoint cutoff) override;

  // --- Redirect URLs and rate limits (postgres_email_config.cc) -------------------------------
  Status AddRedirectUrl(const RedirectUrl& url) override;
  Result<std::vector<RedirectUrl>> ListRedirectUrls(std::string_view project_id) override;
  Status RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                           std::string_view url) override;
  Result<std::int64_t> CountRateLimitHit(const RateLimitKey& key, TimePoint window_start,
                                         TimePoint expires_at) override;
  Result<std::int64_t> DeleteExpiredRateLimits(TimePoint now) override;
  // --- Frontend SDK (postgres_sdk.cc) ---------------------------------------------------------
  Result<std::optional<std::string>> FindProjectByPublicToken(
      std::string_view public_token) override;
  Result<std::vector<SdkOrigin>> ListSdkOrigins(std::string_view project_id) override;
  Status AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) override;
  Status RemoveSdkOrigin(std::string_view project_id, std::string_view origin) override;

 private:
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<pg::Connection&>())) {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    return f(*lease);
  }

  // BEGIN ... COMMIT on one pooled connection; ROLLBACK on any error. A failed COMMIT is an
  // error: the caller must not acknowledge what may not be durable.
  template <typename F>
  auto Write(F&& f) -> decltype(f(std::declval<pg::Connection&>())) {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    TESSERA_RETURN_IF_ERROR(lease->Simple("BEGIN"));
    lease->change_seq = 0;
    auto result = f(*lease);
    if (!internal::AsStatus(result).ok()) {
      lease->Simple("ROLLBACK").IgnoreError();
      return result;
    }
    TESSERA_RETURN_IF_ERROR(lease->Simple("COMMIT"));
    // Acknowledged only once every node that serves from its caches has applied the change.
    if (lease->change_seq > 0) AwaitNodes(*lease, lease->change_seq);
    return result;
  }

  // Brings the schema to the version this binary knows (postgres_schema.cc).
  Status Migrate(pg::Connection& c);

  // Queues a change notice for every node; PostgreSQL delivers it when the caller's transaction
  // commits, and drops it on rollback (postgres_changes.cc).
  static Status Notify(pg::Connection& c, const std::string& payload);
  // Bumps config_version and tells the nodes that `project_id`'s configuration changed
  // (postgres_projects.cc).
  static Status BumpConfig(pg::Connection& c, std::string_view project_id);
  // Appends `entry` to its project's revocation log inside the caller's write transaction, with
  // the next sequence number of the project's counter (postgres_revocations.cc).
  static Status AppendRevocation(pg::Connection& c, const RevocationEntry& entry);

  // The change log and the leases (postgres_changes.cc): a wake-up thread on LISTEN, and a
  // follower thread that delivers the log in order and renews this node's lease.
  void Listen();
  void Follow();
  void StopListener();
  void Deliver(std::string_view payload);
  // After a commit that appended change `seq`: waits until every other node holding a live lease
  // has applied it (or its lease lapsed), at most one lease length.
  void AwaitNodes(pg::Connection& c, std::int64_t seq);

  PostgresOptions options_;
  pg::Pool pool_;
  std::function<void(const StoreChange&)> on_change_;
  std::atomic<bool> stop_{false};
  std::thread listener_;
  std::thread follower_;
  // This store instance's name in node_leases.
  const std::string node_id_ = NewNodeId();
  // Steady-clock ticks until which this node's caches are current (caches_current).
  std::atomic<std::int64_t> current_until_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;  // GUARDED_BY(wake_mu_)

  static std::string NewNodeId();
};

}  // namespace tessera

#endif  // TESSERA_STORE_POSTGRES_POSTGRES_STORE_IMPL_H_
