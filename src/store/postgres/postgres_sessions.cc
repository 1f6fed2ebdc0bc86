// The session family on PostgreSQL: session records, batched touches, the revocation stream and the
// deletion of expired sessions.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <string>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

constexpr const char* kSessionSelect =
    "SELECT project_id, session_id, user_id, token_digest, token_sealed, started_at, "
    "last_accessed_at, expires_at, ip_address, user_agent, factors, custom_claims, version "
    "FROM sessions ";

Result<SessionRecord> SessionFromRow(const Rows& r, int i) {
  SessionRecord s;
  s.project_id = r.Text(i, 0);
  s.session_id = r.Text(i, 1);
  s.user_id = r.Text(i, 2);
  const std::string digest = r.Bytea(i, 3);
  if (digest.size() != s.token_digest.size()) {
    return Error(ErrorCode::kStoreCorrupt, "stored token digest is not valid");
  }
  std::copy(digest.begin(), digest.end(), s.token_digest.begin());
  s.token_sealed = r.Bytea(i, 4);
  s.started_at = r.Time(i, 5);
  s.last_accessed_at = r.Time(i, 6);
  s.expires_at = r.Time(i, 7);
  s.attributes.ip_address = r.Text(i, 8);
  s.attributes.user_agent = r.Text(i, 9);
  TESSERA_ASSIGN_OR_RETURN(s.authentication_factors, StoredArray(r.Text(i, 10)));
  TESSERA_ASSIGN_OR_RETURN(s.custom_claims, StoredObject(r.Text(i, 11)));
  s.version = r.Int(i, 12);
  return s;
}

std::string Quote(std::string_view s) {
  std::string q = "\"";
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') q.push_back('\\');
    q.push_back(ch);
  }
  q.push_back('"');
  return q;
}

Result<std::optional<SessionRecord>> OneSession(const Rows& r) {
  if (r.size() == 0) return std::optional<SessionRecord>();
  TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(r, 0));
  return std::optional<SessionRecord>(std::move(s));
}

}  // namespace

Status PostgresStore::CreateSession(const SessionRecord& s) {
  return Write([&](Connection& c) -> Status {
    // Only for a user that exists. FOR KEY SHARE holds the user row until this commits, so a
    // concurrent DeleteUser (which deletes the user row before its sessions) either waits and
    // then deletes this session too, or committed first and this inserts nothing.
    TESSERA_ASSIGN_OR_RETURN(
        Rows r,
        c.Exec("create_session",
               "INSERT INTO sessions(project_id, session_id, user_id, token_digest, token_sealed, "
               "started_at, last_accessed_at, expires_at, ip_address, user_agent, factors, "
               "custom_claims) SELECT $1::text, $2::text, $3::text, $4::bytea, $5::bytea, "
               "$6::bigint, $7::bigint, $8::bigint, $9::text, $10::text, $11::text, $12::text "
               "FROM users WHERE project_id = $1::text AND user_id = $3::text FOR KEY SHARE "
               "RETURNING session_id",
               {pg::Text(s.project_id), pg::Text(s.session_id), pg::Text(s.user_id),
                pg::Bytea(std::string_view(reinterpret_cast<const char*>(s.token_digest.data()),
                                           s.token_digest.size())),
                pg::Bytea(s.token_sealed), pg::Time(s.started_at), pg::Time(s.last_accessed_at),
                pg::Time(s.expires_at), pg::Text(s.attributes.ip_address),
                pg::Text(s.attributes.user_agent),
                pg::Text(boost::json::serialize(s.authentication_factors)),
                pg::Text(boost::json::serialize(s.custom_claims))}));
    if (r.size() == 0) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    return Status::Ok();
  });
}

Result<std::optional<SessionRecord>> PostgresStore::GetSessionByToken(std::string_view project_id,
                                                                      const TokenDigest& digest) {
  static const std::string sql =
      std::string(kSessionSelect) + "WHERE token_digest = $1 AND project_id = $2";
  return Read([&](Connection& c) -> Result<std::optional<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("session_by_token", sql.c_str(),
                       {pg::Bytea(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                   digest.size())),
                        pg::Text(project_id)}));
    return OneSession(r);
  });
}

Result<std::optional<SessionRecord>> PostgresStore::GetSession(std::string_view project_id,
                                                               std::string_view session_id) {
  static const std::string sql =
      std::string(kSessionSelect) + "WHERE project_id = $1 AND session_id = $2";
  return Read([&](Connection& c) -> Result<std::optional<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("session_by_id", sql.c_str(), {pg::Text(project_id), pg::Text(session_id)}));
    return OneSession(r);
  });
}

Result<std::optional<SessionStamp>> PostgresStore::GetSessionStamp(std::string_view project_id,
                                                                   std::string_view session_id) {
  return Read([&](Connection& c) -> Result<std::optional<SessionStamp>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("session_stamp",
                       "SELECT s.expires_at, s.version, u.version FROM sessions s JOIN users u "
                       "ON u.project_id = s.project_id AND u.user_id = s.user_id WHERE "
                       "s.project_id = $1 AND s.session_id = $2",
                       {pg::Text(project_id), pg::Text(session_id)}));
    if (r.size() == 0) return std::optional<SessionStamp>();
    return std::optional<SessionStamp>(SessionStamp{r.Time(0, 0), r.Int(0, 1), r.Int(0, 2)});
  });
}

Result<std::vector<SessionRecord>> PostgresStore::ListSessions(std::string_view project_id,
                                                               std::string_view user_id,
                                                               TimePoint now) {
  static const std::string sql = std::string(kSessionSelect) +
                                 "WHERE project_id = $1 AND user_id = $2 AND expires_at > $3 "
                                 "ORDER BY started_at, session_id";
  return Read([&](Connection& c) -> Result<std::vector<SessionRecord>> {
    TESSERA_ASSIGN_OR_RETURN(Rows r,
                             c.Exec("list_sessions", sql.c_str(),
                                    {pg::Text(project_id), pg::Text(user_id), pg::Time(now)}));
    std::vector<SessionRecord> out;
    for (int i = 0; i < r.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(r, i));
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::int64_t> PostgresStore::UpdateSession(const SessionRecord& s) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("update_session",
                       "UPDATE sessions SET expires_at = $1, last_accessed_at = "
                       "GREATEST(last_accessed_at, $2), factors = $3, custom_claims = $4, "
                       "version = version + 1 WHERE project_id = $5 AND session_id = $6 AND "
                       "version = $7 RETURNING version",
                       {pg::Time(s.expires_at), pg::Time(s.last_accessed_at),
                        pg::Text(boost::json::serialize(s.authentication_factors)),
                        pg::Text(boost::json::serialize(s.custom_claims)), pg::Text(s.project_id),
                        pg::Text(s.session_id), pg::Int(s.version)}));
    if (r.size() == 0) {
      TESSERA_ASSIGN_OR_RETURN(
          Rows exists, c.Exec("session_exists",
                              "SELECT 1 FROM sessions WHERE project_id = $1 AND session_id = $2",
                              {pg::Text(s.project_id), pg::Text(s.session_id)}));
      if (exists.size() == 0) {
        return Error(ErrorCode::kSessionNotFound, "Session could not be found.");
      }
      return Error(ErrorCode::kStoreConflict, "the session was changed concurrently");
    }
    const std::int64_t version = r.Int(0, 0);
    TESSERA_RETURN_IF_ERROR(Notify(c, "s|" + s.project_id + "|" + s.session_id));
    return version;
  });
}

Status PostgresStore::TouchSessions(const std::vector<SessionTouch>& touches) {
  if (touches.empty()) return Status::Ok();
  // One statement for the batch; GREATEST keeps concurrent writers from moving the value back.
  std::string projects = "{", sessions = "{", times = "{";
  for (std::size_t i = 0; i < touches.size(); ++i) {
    const char* sep = i == 0 ? "" : ",";
    // Ids are generated by Tessera ([a-z0-9-]); quoting keeps the array literal safe anyway.
    // Appended piece by piece: `sep + ...` trips GCC 12's false -Wrestrict (bug 105329).
    projects.append(sep).append(Quote(touches[i].project_id));
    sessions.append(sep).append(Quote(touches[i].session_id));
    times.append(sep).append(std::to_string(ToUnixSeconds(touches[i].last_accessed_at)));
  }
  projects += "}";
  sessions += "}";
  times += "}";
  return Write([&](Connection& c) -> Status {
    return c
        .Exec("touch_sessions",
              "UPDATE sessions AS s SET last_accessed_at = GREATEST(s.last_accessed_at, v.t) "
              "FROM (SELECT unnest($1::text[]) AS p, unnest($2::text[]) AS id, "
              "unnest($3::bigint[]) AS t) AS v WHERE s.project_id = v.p AND s.session_id = v.id",
              {projects, sessions, times})
        .status();
  });
}

Result<bool> PostgresStore::RevokeSession(std::string_view project_id, std::string_view session_id,
                                          TimePoint now) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("revoke_session",
                       "DELETE FROM sessions WHERE project_id = $1 AND session_id = $2 "
                       "RETURNING user_id",
                       {pg::Text(project_id), pg::Text(session_id)}));
    if (r.size() == 0) return false;
    TESSERA_RETURN_IF_ERROR(AppendRevocation(
        c, RevocationEntry{std::string(project_id), 0, RevocationEntry::Kind::kSession,
                           std::string(session_id), std::string(r.Text(0, 0)), now}));
    // Other nodes drop the session from their caches (and wake their revocation feeds).
    TESSERA_RETURN_IF_ERROR(
        Notify(c, "s|" + std::string(project_id) + "|" + std::string(session_id)));
    return true;
  });
}

Result<std::vector<std::string>> PostgresStore::RevokeUserSessions(std::string_view project_id,
                                                                   std::string_view user_id,
                                                                   std::string_view keep_session_id,
                                                                   TimePoint now) {
  return Write([&](Connection& c) -> Result<std::vector<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("revoke_user_sessions",
                       "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND "
                       "session_id <> $3 RETURNING session_id",
                       {pg::Text(project_id), pg::Text(user_id), pg::Text(keep_session_id)}));
    std::vector<std::string> revoked;
    for (int i = 0; i < r.size(); ++i) revoked.emplace_back(r.Text(i, 0));
    if (!revoked.empty()) {
      // One entry however many sessions went: JWTs are refused by subject and issue time.
      TESSERA_RETURN_IF_ERROR(AppendRevocation(
          c, RevocationEntry{std::string(project_id), 0, RevocationEntry::Kind::kUser, "",
                             std::string(user_id), now}));
      // Other nodes drop the user's sessions from their caches (and wake their feeds).
      TESSERA_RETURN_IF_ERROR(
          Notify(c, "u|" + std::string(project_id) + "|" + std::string(user_id)));
    }
    return revoked;
  });
}

Result<std::int64_t> PostgresStore::DeleteExpiredSessions(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("delete_expired",
                                            "WITH d AS (DELETE FROM sessions WHERE expires_at < "
                                            "$1 RETURNING 1) SELECT COUNT(*) FROM d",
                                            {pg::Time(cutoff)}));
    return r.Int(0, 0);
  });
}

}  // namespace tessera
