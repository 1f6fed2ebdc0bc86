// The storage interface: everything Tessera persists, behind one abstract class.
//
// Implementations: OpenSqliteStore (tessera/store/sqlite_store.h), the embedded default, and the
// PostgreSQL store for several nodes. Callers (the service layer and the CLI) see only this
// interface, so a backend can be swapped without touching them.
//
// Contract shared by every method:
//   * Thread-safe: any method may be called from any thread at any time.
//   * Durable: when a mutating method returns OK, the change survives a crash of the process and of
//     the machine (the implementation commits and syncs before returning).
//   * Atomic: a failed mutating method changes nothing.
//   * Errors: kStoreUnavailable when the database cannot be reached or stays busy past the
//     implementation's timeout (retrying later may help); kStoreCorrupt when it holds data Tessera
//     could not have written; the specific codes listed per method otherwise.
//   * Scope: every record belongs to one project; methods never return or touch another
//     project's records, whatever ids are passed.
//   * Time: stored with second precision.
#ifndef TESSERA_STORE_STORE_H_
#define TESSERA_STORE_STORE_H_

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/key_ring.h"
#include "tessera/token/session_jwt.h"
#include "tessera/token/session_token.h"

namespace tessera {

// --- Records ----------------------------------------------------------------------------------

enum class PasswordPolicy {
  kZxcvbn,  // zxcvbn estimate; valid at score >= 3 (Stytch's default).
  kLuds,    // Minimum length and number of character classes.
};

// Per-project settings, stored as JSON with the project. Defaults are Stytch's behaviour.
struct ProjectSettings {
  PasswordPolicy password_policy = PasswordPolicy::kZxcvbn;
  int luds_min_length = 8;      // Default: 8 characters (LUDS only).
  int luds_min_complexity = 4;  // Default: all 4 of lower, upper, digit, symbol (LUDS only).
  // When true, passwords/authenticate answers an unknown email exactly like a wrong password, after
  // the same hashing work, so accounts cannot be enumerated. Default: false (`email_not_found`).
  bool enumeration_protection = false;
  int lock_threshold = 10;      // Failed password attempts before a lock. Default: 10.
  Seconds lock_window{3600};    // Failures older than this are forgotten. Default: 1 h.
  Seconds lock_duration{3600};  // How long a lock lasts. Default: 1 h.
  JwtAlgorithm jwt_algorithm = JwtAlgorithm::kRS256;  // Algorithm of new signing keys.
};

struct Project {
  std::string project_id;  // "project-test-<uuid>" / "project-live-<uuid>"
  std::string name;
  bool live = false;
  std::string
      secret_digest;  // SHA-256 of the secret (32 bytes); the secret itself is never stored.
  ProjectSettings settings;
  TimePoint created_at;
};

struct UserEmail {
  std::string email_id;  // "email-test-<uuid>"
  std::string email;     // As given; uniqueness is case-insensitive.
  bool verified = false;
};

struct UserPhone {
  std::string phone_id;  // "phone-number-test-<uuid>"
  std::string phone_number;
  bool verified = false;
};

struct UserPassword {
  std::string password_id;  // "password-test-<uuid>"
  std::string hash;         // libsodium Argon2id string ($argon2id$v=19$m=...,t=...,p=1$...).
  bool requires_reset = false;
  TimePoint created_at;
};

struct User {
  std::string project_id;
  std::string user_id;  // "user-test-<uuid>"
  std::optional<std::string> external_id;
  std::string status = "active";  // "active" or "pending"
  std::string first_name, middle_name, last_name;
  std::vector<UserEmail> emails;
  std::vector<UserPhone> phone_numbers;
  boost::json::object trusted_metadata;
  boost::json::object untrusted_metadata;
  std::vector<std::string> roles;  // Assigned roles; "stytch_user" is implied, not stored.
  std::optional<UserPassword> password;
  int failed_password_attempts = 0;
  std::optional<TimePoint> first_failed_at;  // Start of the current failure window.
  std::optional<TimePoint> locked_until;
  TimePoint created_at;
  TimePoint updated_at;
  std::int64_t version = 0;  // Incremented by every update; see UpdateUser.
};

struct SessionRecord {
  std::string project_id;
  std::string session_id;  // "session-test-<uuid>"
  std::string user_id;
  TokenDigest token_digest{};  // SHA-256 of the session token: the lookup key.
  std::string token_sealed;    // The token sealed under the master key (docs/token_format.md).
  TimePoint started_at;
  TimePoint last_accessed_at;
  TimePoint expires_at;
  SessionAttributes attributes;
  boost::json::array authentication_factors;  // API form (with created_at/updated_at).
  boost::json::object custom_claims;
  std::int64_t version = 0;  // Incremented by every UpdateSession (not by touches).
};

// What a node checks on every use of a cached session when other nodes share the store: whether
// the session still exists, and whether it or its user changed since the cache entry was built.
struct SessionStamp {
  TimePoint expires_at;
  std::int64_t session_version = 0;
  std::int64_t user_version = 0;
};

// A change another node made, delivered by stores shared between nodes (PostgreSQL NOTIFY).
struct StoreChange {
  enum class Kind {
    kConfig,   // Keys or settings of `project_id` changed.
    kUser,     // User `id` changed or was deleted.
    kSession,  // Session `id` changed or was revoked.
  };
  Kind kind;
  std::string project_id;
  std::string id;
};

// One entry of the ordered revocation stream.
struct RevocationEvent {
  std::int64_t sequence = 0;  // Strictly increasing across the whole store.
  std::string project_id;
  std::string session_id;
  std::string user_id;
  TimePoint revoked_at;
};

// A touch of a session's last_accessed_at, written behind in batches.
struct SessionTouch {
  std::string project_id;
  std::string session_id;
  TimePoint last_accessed_at;
};

// --- User search ------------------------------------------------------------------------------

struct UserFilter {
  enum class Kind {
    kEmailAddress,          // strings: any of these emails (case-insensitive)
    kEmailId,               // strings
    kUserId,                // strings: user ids or external ids
    kPhoneNumber,           // strings
    kStatus,                // strings[0]: "active" | "pending"
    kCreatedAtGreaterThan,  // time_a
    kCreatedAtLessThan,     // time_a
    kCreatedAtBetween,      // time_a < created_at < time_b
    kPasswordExists,        // flag
  };
  Kind kind;
  std::vector<std::string> strings;
  TimePoint time_a, time_b;
  bool flag = false;
};

struct UserQuery {
  bool match_any = false;  // false: every filter must match (AND); true: any (OR).
  std::vector<UserFilter> filters;
};

// Position after which a page starts: users are ordered by (created_at, user_id).
struct UserCursor {
  TimePoint created_at;
  std::string user_id;
};

struct UserPage {
  std::vector<User> users;
  std::int64_t total = 0;          // Users matching the query, across all pages.
  std::optional<UserCursor> next;  // Set when more users follow.
};

// --- The interface ----------------------------------------------------------------------------

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // OK when the database answers.
  virtual Status Ping() = 0;

  // True when other Tessera nodes may write this store concurrently (PostgreSQL). Caches in front
  // of a shared store must not be authoritative: see GetSessionStamp and SetChangeListener.
  virtual bool shared() const { return false; }

  // Registers `listener` to be called (on a store-owned thread) for changes made by any node,
  // this one included, replacing any previous one. An empty function unregisters. When this
  // returns, a replaced listener is no longer running and will not be called again, so whatever
  // it captured may be destroyed. Stores that are never shared may ignore it.
  virtual void SetChangeListener(std::function<void(const StoreChange&)> listener) {
    (void)listener;
  }

  // Store-wide metadata (e.g. the master key fingerprint).
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;
  // Sets `key` to `value` unless it is already set; returns the value now stored.
  virtual Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) = 0;

  // --- Projects and keys -------------------------------------------------------------------
  // Creates a project with its initial key ring. kInvalidArgument if the id exists.
  virtual Status CreateProject(const Project& project, const std::vector<KeyRecord>& keys) = 0;
  virtual Result<std::optional<Project>> GetProject(std::string_view project_id) = 0;
  virtual Result<std::vector<Project>> ListProjects() = 0;
  // Replaces the stored settings of a project. kProjectNotFound.
  virtual Status UpdateProjectSettings(std::string_view project_id,
                                       const ProjectSettings& settings) = 0;

  virtual Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) = 0;
  // Writes `records` (insert or update by kid) in one transaction, and bumps the key version.
  virtual Status SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records) = 0;
  // A number that changes whenever any project's keys or settings change: pollers reload when it
  // differs from what they last saw.
  virtual Result<std::int64_t> ConfigVersion() = 0;

  // --- Users ---------------------------------------------------------------------------------
  // kDuplicateEmail / kDuplicatePhoneNumber / kDuplicateExternalId on a uniqueness clash.
  virtual Status CreateUser(const User& user) = 0;
  // By user id, or by external id when no user has that id.
  virtual Result<std::optional<User>> GetUser(std::string_view project_id,
                                              std::string_view user_id) = 0;
  virtual Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                                     std::string_view email) = 0;
  // Replaces the user if its stored version equals `user.version`, storing version + 1.
  // kStoreConflict when another update came first (re-read and retry); kUserNotFound; duplicates
  // as for CreateUser.
  virtual Status UpdateUser(const User& user) = 0;
  // Deletes the user and revokes all of its sessions (each gets a RevocationEvent at `now`).
  // Returns the revoked session ids. kUserNotFound.
  virtual Result<std::vector<std::string>> DeleteUser(std::string_view project_id,
                                                      std::string_view user_id, TimePoint now) = 0;
  // REQUIRES: 1 <= limit <= 1000.
  virtual Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                                       const std::optional<UserCursor>& after, int limit) = 0;

  // --- Sessions ------------------------------------------------------------------------------
  virtual Status CreateSession(const SessionRecord& session) = 0;
  // Sessions are returned whether or not they have expired; callers compare expires_at.
  virtual Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                                 const TokenDigest& digest) = 0;
  virtual Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                          std::string_view session_id) = 0;
  // Sessions of the user that expire after `now`, oldest first.
  virtual Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                          std::string_view user_id,
                                                          TimePoint now) = 0;
  // The session's stamp, or nullopt when it does not exist (revoked, or deleted with its user).
  virtual Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                              std::string_view session_id) = 0;
  // Writes expires_at, last_accessed_at, factors and custom claims of an existing session and
  // increments its version. Returns the new version. kSessionNotFound when it was revoked
  // meanwhile.
  virtual Result<std::int64_t> UpdateSession(const SessionRecord& session) = 0;
  // Batched last_accessed_at writes. A touch never moves the stored value backwards, so writers on
  // several nodes can apply theirs in any order. Touches of revoked sessions are ignored.
  virtual Status TouchSessions(const std::vector<SessionTouch>& touches) = 0;
  // Revokes (deletes) the session and appends a RevocationEvent. Returns false when no such
  // session existed (nothing is appended then).
  virtual Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                                     TimePoint now) = 0;
  // Events with sequence > `after`, oldest first, at most `limit`.
  virtual Result<std::vector<RevocationEvent>> RevocationsSince(std::int64_t after, int limit) = 0;
  // Deletes sessions that expired before `cutoff`. Returns how many.
  virtual Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_STORE_H_
