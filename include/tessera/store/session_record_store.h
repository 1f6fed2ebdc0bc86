// The session family of the store: session records, their batched last_accessed_at touches,
// revocation, and the deletion of long-expired sessions.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_SESSION_RECORD_STORE_H_
#define TESSERA_STORE_SESSION_RECORD_STORE_H_

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/session_jwt.h"
#include "tessera/token/session_token.h"

namespace tessera {

// --- Records ----------------------------------------------------------------------------------

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

// A touch of a session's last_accessed_at, written behind in batches.
struct SessionTouch {
  std::string project_id;
  std::string session_id;
  TimePoint last_accessed_at;
};

// --- The interface ----------------------------------------------------------------------------

class SessionRecordStore {
 public:
  virtual ~SessionRecordStore() = default;

  // Stores a new session of an existing user. kUserNotFound when the user does not exist (say,
  // deleted by a racing request): no session of a deleted user is ever stored.
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
  // Revokes (deletes) the session and appends a `session` entry to the project's revocation log
  // (tessera/store/revocation_store.h) in the same transaction. Returns false when no such session
  // existed (nothing is appended then).
  virtual Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                                     TimePoint now) = 0;
  // Revokes (deletes) every session of the user except `keep_session_id` ("" keeps none) and, when
  // any was deleted, appends ONE `user` entry at `now` to the project's revocation log, in the same
  // transaction (a password reset ends the user's other sessions this way). The entry names the
  // user, so followers of the feed also refuse the kept session's JWTs issued up to its
  // `not_before` and ask the API about them, which accepts them. Returns the deleted sessions' ids.
  virtual Result<std::vector<std::string>> RevokeUserSessions(std::string_view project_id,
                                                              std::string_view user_id,
                                                              std::string_view keep_session_id,
                                                              TimePoint now) = 0;
  // Deletes sessions that expired before `cutoff`. Returns how many.
  virtual Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_SESSION_RECORD_STORE_H_
