// The SQLite store's class, shared by the files that implement it, one per record family:
//   sqlite_schema.cc    opening, migrations, Ping, OpenSqliteStore
//   sqlite_files.cc     the database file's mode, the serve lock (sqlite_files.h)
//   sqlite_projects.cc  store metadata, projects, secrets, signing keys, the configuration version
//   sqlite_users.cc     users, their emails and phones, user search
//   sqlite_sessions.cc  sessions, touches, revocations, expiry
//   sqlite_lockout.cc   failed password attempts of users and of unknown emails
//   sqlite_revocations.cc  the per-project revocation log
//   sqlite_ssf.cc       Shared Signals streams and their acknowledgements
//   sqlite_one_time_tokens.cc  one-time tokens (magic links, passcodes, resets), email outbox
//   sqlite_email_config.cc  redirect URLs and rate-limit counters
//   sqlite_sdk.cc       the frontend SDK's allowed origins, projects by public token
// A new record family adds its methods to the interface, its tables as a new migration in
// sqlite_schema.cc, and its own sqlite_<family>.cc. Private to the SQLite store: callers use
// tessera/store/sqlite_store.h.
#ifndef TESSERA_STORE_SQLITE_SQLITE_STORE_IMPL_H_
#define TESSERA_STORE_SQLITE_SQLITE_STORE_IMPL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_files.h"
#include "tessera/result.h"
#include "tessera/store/sqlite_store.h"
#include "tessera/store/store.h"

namespace tessera {

class SqliteStore final : public SessionStore {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

  // Opens the writer, migrates the schema, then opens the readers.
  Status Open();

  Status Ping() override;

  // --- Store metadata (sqlite_projects.cc) -----------------------------------------------------
  Result<std::optional<std::string>> GetMeta(std::string_view key) override;
  Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) override;

  // --- Projects, secrets and keys (sqlite_projects.cc) -------------------------------------------
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

  // --- RBAC policies (sqlite_rbac.cc) ---------------------------------------------------------
  Result<std::optional<RbacPolicyRecord>> GetRbacPolicy(std::string_view project_id) override;
  Result<std::int64_t> PutRbacPolicy(std::string_view project_id, std::string_view policy_json,
                                     std::int64_t expected_version, TimePoint now) override;

  // --- Users (sqlite_users.cc) ----------------------------------------------------------------
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

  // --- Lockout (sqlite_lockout.cc) ------------------------------------------------------------
  Result<FailureState> RecordPasswordFailure(std::string_view project_id, std::string_view user_id,
                                             TimePoint now, const LockPolicy& policy) override;
  Result<FailureState> RecordUnknownEmailFailure(std::string_view project_id, const EmailKey& email,
                                                 TimePoint now, const LockPolicy& policy) override;
  Result<FailureState> GetUnknownEmailFailures(std::string_view project_id,
                                               const EmailKey& email) override;
  Result<std::int64_t> DeleteStaleUnknownEmailFailures(TimePoint now) override;

  // --- Sessions (sqlite_sessions.cc) ----------------------------------------------------------
  Status CreateSession(const SessionRecord& s) override;
  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                         const TokenDigest& digest) override;
  Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                  std::string_view session_id) override;
  Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                  std::string_view user_id, TimePoint now) override;
  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                      std::string_view session_id) override;
  Result<std::int64_t> UpdateSession(const SessionRecord& s) override;
  Status TouchSessions(const std::vector<SessionTouch>& touches) override;
  Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                             TimePoint now) override;
  Result<std::vector<std::string>> RevokeUserSessions(std::string_view project_id,
                                                      std::string_view user_id,
                                                      std::string_view keep_session_id,
                                                      TimePoint now) override;
  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override;

  // --- Revocation log (sqlite_revocations.cc) -------------------------------------------------
  Result<RevocationBatch> ReadRevocations(std::string_view project_id, std::int64_t after,
                                          int limit) override;
  Result<std::int64_t> PruneRevocations(TimePoint cutoff) override;

  // --- Shared Signals streams (sqlite_ssf.cc) -------------------------------------------------
  Result<SsfStream> CreateSsfStream(const SsfStream& stream) override;
  Result<std::optional<SsfStream>> GetSsfStream(std::string_view project_id) override;
  Status DeleteSsfStream(std::string_view project_id, std::string_view stream_id) override;
  Result<SsfStream> AckSsfEvents(std::string_view project_id, std::string_view stream_id,
                                 const std::vector<std::int64_t>& sequences) override;
  // --- One-time tokens and the outbox (sqlite_one_time_tokens.cc) ---------------------------
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

  // --- Redirect URLs and rate limits (sqlite_email_config.cc) -------------------------------
  Status AddRedirectUrl(const RedirectUrl& url) override;
  Result<std::vector<RedirectUrl>> ListRedirectUrls(std::string_view project_id) override;
  Status RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                           std::string_view url) override;
  Result<std::int64_t> CountRateLimitHit(const RateLimitKey& key, TimePoint window_start,
                                         TimePoint expires_at) override;
  Result<std::int64_t> DeleteExpiredRateLimits(TimePoint now) override;
  // --- Frontend SDK (sqlite_sdk.cc) -----------------------------------------------------------
  Result<std::optional<std::string>> FindProjectByPublicToken(
      std::string_view public_token) override;
  Result<std::vector<SdkOrigin>> ListSdkOrigins(std::string_view project_id) override;
  Status AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) override;
  Status RemoveSdkOrigin(std::string_view project_id, std::string_view origin) override;

 private:
  // Runs `f` on the writer connection inside BEGIN IMMEDIATE ... COMMIT.
  template <typename F>
  auto Write(F&& f) -> decltype(f(std::declval<sqlite::Connection&>())) {
    std::lock_guard lock(writer_->mu);
    sqlite::Transaction txn(*writer_);
    TESSERA_RETURN_IF_ERROR(txn.Begin());
    auto result = f(*writer_);
    if (!internal::AsStatus(result).ok()) return result;
    TESSERA_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  // Runs `f` on a free reader connection (each read is one implicit snapshot per statement; the
  // multi-statement reads here tolerate that because they only assemble one record's parts).
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<sqlite::Connection&>())) {
    const std::size_t start = next_reader_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < readers_.size(); ++i) {
      sqlite::Connection& c = *readers_[(start + i) % readers_.size()];
      std::unique_lock lock(c.mu, std::try_to_lock);
      if (lock.owns_lock()) return f(c);
    }
    sqlite::Connection& c = *readers_[start % readers_.size()];
    std::lock_guard lock(c.mu);
    return f(c);
  }

  // Brings the schema to the version this binary knows (sqlite_schema.cc).
  Status Migrate();

  // Moves the configuration version inside the caller's write transaction, so running servers
  // reload the projects (sqlite_projects.cc).
  static Status BumpConfig(sqlite::Connection& c);

  // Appends `entry` to its project's revocation log inside the caller's write transaction, with
  // the next sequence number of the project's counter (sqlite_revocations.cc).
  static Status AppendRevocation(sqlite::Connection& c, const RevocationEntry& entry);

  SqliteOptions options_;
  // Declared before the connections so that it is released after they are closed.
  std::optional<sqlite::ServeLock> serve_lock_;               // Held when options_.exclusive.
  std::unique_ptr<sqlite::Connection> writer_;                // Used under writer_->mu.
  std::vector<std::unique_ptr<sqlite::Connection>> readers_;  // Each used under its own mu.
  std::atomic<std::size_t> next_reader_{0};
};

}  // namespace tessera

#endif  // TESSERA_STORE_SQLITE_SQLITE_STORE_IMPL_H_
