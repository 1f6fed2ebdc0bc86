// The session family on SQLite: session records, batched touches, the revocation stream and the
// deletion of expired sessions.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <string>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

Result<SessionRecord> SessionFromRow(const Statement& st) {
  SessionRecord s;
  s.project_id = st.Text(0);
  s.session_id = st.Text(1);
  s.user_id = st.Text(2);
  const std::string_view digest = st.Blob(3);
  if (digest.size() != s.token_digest.size()) {
    return Error(ErrorCode::kStoreCorrupt, "stored token digest is not valid");
  }
  std::copy(digest.begin(), digest.end(), s.token_digest.begin());
  s.token_sealed = st.Blob(4);
  s.started_at = st.Time(5);
  s.last_accessed_at = st.Time(6);
  s.expires_at = st.Time(7);
  s.attributes.ip_address = st.Text(8);
  s.attributes.user_agent = st.Text(9);
  TESSERA_ASSIGN_OR_RETURN(s.authentication_factors, StoredArray(st.Text(10)));
  TESSERA_ASSIGN_OR_RETURN(s.custom_claims, StoredObject(st.Text(11)));
  s.version = st.Int(12);
  return s;
}

std::string_view DigestView(const TokenDigest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

Result<std::optional<SessionRecord>> OneSession(Statement& st) {
  TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<SessionRecord>();
  TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(st));
  return std::optional<SessionRecord>(std::move(s));
}

}  // namespace

Status SqliteStore::CreateSession(const SessionRecord& s) {
  return Write([&](Connection& c) -> Status {
    // Only for a user that exists: a login racing the user's deletion must not leave a session
    // behind. Writes are serialized (one writer, BEGIN IMMEDIATE), so the check and the insert
    // see the same users table as DeleteUser.
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO sessions(project_id, session_id, user_id, token_digest, "
                  "token_sealed, started_at, last_accessed_at, expires_at, ip_address, "
                  "user_agent, factors, custom_claims) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
                  "WHERE EXISTS (SELECT 1 FROM users WHERE project_id = ?1 AND user_id = ?3)"));
    st.Bind(1, s.project_id)
        .Bind(2, s.session_id)
        .Bind(3, s.user_id)
        .BindBlob(4, DigestView(s.token_digest))
        .BindBlob(5, s.token_sealed)
        .Bind(6, s.started_at)
        .Bind(7, s.last_accessed_at)
        .Bind(8, s.expires_at)
        .Bind(9, s.attributes.ip_address)
        .Bind(10, s.attributes.user_agent)
        .Bind(11, boost::json::serialize(s.authentication_factors))
        .Bind(12, boost::json::serialize(s.custom_claims));
    TESSERA_RETURN_IF_ERROR(st.Run());
    if (st.changes() == 0) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    return Status::Ok();
  });
}

Result<std::optional<SessionRecord>> SqliteStore::GetSessionByToken(std::string_view project_id,
                                                                    const TokenDigest& digest) {
  return Read([&](Connection& c) -> Result<std::optional<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT project_id, session_id, user_id, token_digest, "
                  "token_sealed, started_at, last_accessed_at, expires_at, "
                  "ip_address, user_agent, factors, custom_claims, version FROM sessions "
                  "WHERE token_digest = ? AND project_id = ?"));
    st.BindBlob(1, DigestView(digest)).Bind(2, project_id);
    return OneSession(st);
  });
}

Result<std::optional<SessionRecord>> SqliteStore::GetSession(std::string_view project_id,
                                                             std::string_view session_id) {
  return Read([&](Connection& c) -> Result<std::optional<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT project_id, session_id, user_id, token_digest, "
                  "token_sealed, started_at, last_accessed_at, expires_at, "
                  "ip_address, user_agent, factors, custom_claims, version FROM sessions "
                  "WHERE project_id = ? AND session_id = ?"));
    st.Bind(1, project_id).Bind(2, session_id);
    return OneSession(st);
  });
}

Result<std::vector<SessionRecord>> SqliteStore::ListSessions(std::string_view project_id,
                                                             std::string_view user_id,
                                                             TimePoint now) {
  return Read([&](Connection& c) -> Result<std::vector<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT project_id, session_id, user_id, token_digest, token_sealed, "
                  "started_at, last_accessed_at, expires_at, ip_address, user_agent, factors, "
                  "custom_claims, version FROM sessions WHERE project_id = ? AND user_id = ? AND "
                  "expires_at > ? ORDER BY started_at, session_id"));
    st.Bind(1, project_id).Bind(2, user_id).Bind(3, now);
    std::vector<SessionRecord> out;
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(st));
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::optional<SessionStamp>> SqliteStore::GetSessionStamp(std::string_view project_id,
                                                                 std::string_view session_id) {
  return Read([&](Connection& c) -> Result<std::optional<SessionStamp>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT s.expires_at, s.version, u.version FROM sessions s JOIN users u ON "
                  "u.project_id = s.project_id AND u.user_id = s.user_id WHERE s.project_id = ? "
                  "AND s.session_id = ?"));
    st.Bind(1, project_id).Bind(2, session_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<SessionStamp>();
    return std::optional<SessionStamp>(SessionStamp{st.Time(0), st.Int(1), st.Int(2)});
  });
}

Result<std::int64_t> SqliteStore::UpdateSession(const SessionRecord& s) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE sessions SET expires_at = ?, last_accessed_at = MAX(last_accessed_at, "
                  "?), factors = ?, custom_claims = ?, version = version + 1 WHERE project_id = ? "
                  "AND session_id = ? AND version = ? RETURNING version"));
    st.Bind(1, s.expires_at)
        .Bind(2, s.last_accessed_at)
        .Bind(3, boost::json::serialize(s.authentication_factors))
        .Bind(4, boost::json::serialize(s.custom_claims))
        .Bind(5, s.project_id)
        .Bind(6, s.session_id)
        .Bind(7, s.version);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      const std::int64_t version = st.Int(0);
      TESSERA_RETURN_IF_ERROR(st.Run());
      return version;
    }
    TESSERA_ASSIGN_OR_RETURN(
        Statement exists,
        c.Prepare("SELECT 1 FROM sessions WHERE project_id = ? AND session_id = ?"));
    exists.Bind(1, s.project_id).Bind(2, s.session_id);
    TESSERA_ASSIGN_OR_RETURN(bool found, exists.Step());
    if (!found) return Error(ErrorCode::kSessionNotFound, "Session could not be found.");
    return Error(ErrorCode::kStoreConflict, "the session was changed concurrently");
  });
}

Status SqliteStore::TouchSessions(const std::vector<SessionTouch>& touches) {
  if (touches.empty()) return Status::Ok();
  return Write([&](Connection& c) -> Status {
    for (const auto& t : touches) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("UPDATE sessions SET last_accessed_at = MAX(last_accessed_at, ?) "
                                  "WHERE project_id = ? AND session_id = ?"));
      st.Bind(1, t.last_accessed_at).Bind(2, t.project_id).Bind(3, t.session_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    return Status::Ok();
  });
}

Result<bool> SqliteStore::RevokeSession(std::string_view project_id, std::string_view session_id,
                                        TimePoint now) {
  return Write([&](Connection& c) -> Result<bool> {
    std::string user_id;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT user_id FROM sessions WHERE project_id = ? AND session_id = ?"));
      st.Bind(1, project_id).Bind(2, session_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return false;
      user_id = st.Text(0);
    }
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("DELETE FROM sessions WHERE project_id = ? AND session_id = ?"));
    st.Bind(1, project_id).Bind(2, session_id);
    TESSERA_RETURN_IF_ERROR(st.Run());
    TESSERA_RETURN_IF_ERROR(AppendRevocation(
        c, RevocationEntry{std::string(project_id), 0, RevocationEntry::Kind::kSession,
                           std::string(session_id), std::move(user_id), now}));
    return true;
  });
}

Result<std::vector<std::string>> SqliteStore::RevokeUserSessions(std::string_view project_id,
                                                                 std::string_view user_id,
                                                                 std::string_view keep_session_id,
                                                                 TimePoint now) {
  return Write([&](Connection& c) -> Result<std::vector<std::string>> {
    std::vector<std::string> revoked;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("DELETE FROM sessions WHERE project_id = ? AND user_id = ? AND "
                                  "session_id <> ? RETURNING session_id"));
      st.Bind(1, project_id).Bind(2, user_id).Bind(3, keep_session_id);
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        revoked.emplace_back(st.Text(0));
      }
    }
    if (!revoked.empty()) {
      // One entry however many sessions went: JWTs are refused by subject and issue time.
      TESSERA_RETURN_IF_ERROR(AppendRevocation(
          c, RevocationEntry{std::string(project_id), 0, RevocationEntry::Kind::kUser, "",
                             std::string(user_id), now}));
    }
    return revoked;
  });
}

Result<std::int64_t> SqliteStore::DeleteExpiredSessions(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("DELETE FROM sessions WHERE expires_at < ?"));
    st.Bind(1, cutoff);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

}  // namespace tessera
