#include "tessera/store/sqlite_store.h"

#include <atomic>
#include <vector>

#include "store/records_json.h"
#include "store/sqlite/sqlite_db.h"

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Schema migrations, applied in order; PRAGMA user_version records how many have run. Never edit
// a migration that has shipped: append a new one.
constexpr const char* kMigrations[] = {
    // 1: initial schema.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE projects (
  project_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  live INTEGER NOT NULL,
  secret_digest BLOB NOT NULL,
  settings TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(project_id),
  alg TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at INTEGER,
  certificate BLOB NOT NULL,
  sealed_private_key BLOB NOT NULL
);
CREATE INDEX signing_keys_by_project ON signing_keys(project_id);
CREATE TABLE users (
  project_id TEXT NOT NULL REFERENCES projects(project_id),
  user_id TEXT NOT NULL,
  external_id TEXT,
  status TEXT NOT NULL,
  first_name TEXT NOT NULL,
  middle_name TEXT NOT NULL,
  last_name TEXT NOT NULL,
  trusted_metadata TEXT NOT NULL,
  untrusted_metadata TEXT NOT NULL,
  roles TEXT NOT NULL,
  password_id TEXT,
  password_hash TEXT,
  password_requires_reset INTEGER NOT NULL DEFAULT 0,
  password_created_at INTEGER,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  first_failed_at INTEGER,
  locked_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
);
CREATE UNIQUE INDEX users_by_external_id ON users(project_id, external_id)
  WHERE external_id IS NOT NULL;
CREATE INDEX users_by_created ON users(project_id, created_at, user_id);
CREATE TABLE user_emails (
  project_id TEXT NOT NULL,
  email_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  email_normalized TEXT NOT NULL,
  verified INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (project_id, email_id),
  FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_emails_unique ON user_emails(project_id, email_normalized);
CREATE INDEX user_emails_by_user ON user_emails(project_id, user_id);
CREATE TABLE user_phones (
  project_id TEXT NOT NULL,
  phone_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  phone_number TEXT NOT NULL,
  verified INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (project_id, phone_id),
  FOREIGN KEY (project_id, user_id) REFERENCES users(project_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_phones_unique ON user_phones(project_id, phone_number);
CREATE INDEX user_phones_by_user ON user_phones(project_id, user_id);
CREATE TABLE sessions (
  project_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  token_digest BLOB NOT NULL UNIQUE,
  token_sealed BLOB NOT NULL,
  started_at INTEGER NOT NULL,
  last_accessed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ip_address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  factors TEXT NOT NULL,
  custom_claims TEXT NOT NULL,
  PRIMARY KEY (project_id, session_id)
);
CREATE INDEX sessions_by_user ON sessions(project_id, user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE revocations (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  revoked_at INTEGER NOT NULL
);
INSERT INTO meta(key, value) VALUES ('config_version', '1');
)sql",
    // 2: session versions, so nodes sharing a store can tell a changed session from its cache.
    R"sql(
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

Status BumpConfigVersion(Connection& c) {
  TESSERA_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
                              "WHERE key = 'config_version'"));
  return st.Run();
}

Result<KeyRecord> KeyFromRow(const Statement& st) {
  KeyRecord r;
  r.kid = st.Text(0);
  r.project_id = st.Text(1);
  const auto alg = AlgorithmFromName(st.Text(2));
  const auto state = KeyStateFromName(st.Text(3));
  if (!alg || !state) return Error(ErrorCode::kStoreCorrupt, "stored signing key is not valid");
  r.alg = *alg;
  r.state = *state;
  r.created_at = st.Time(4);
  r.activated_at = st.OptTime(5);
  r.retired_at = st.OptTime(6);
  r.certificate_der = st.Blob(7);
  r.sealed_private_key = st.Blob(8);
  return r;
}

Result<Project> ProjectFromRow(const Statement& st) {
  Project p;
  p.project_id = st.Text(0);
  p.name = st.Text(1);
  p.live = st.Int(2) != 0;
  p.secret_digest = st.Blob(3);
  TESSERA_ASSIGN_OR_RETURN(p.settings, SettingsFromJson(st.Text(4)));
  p.created_at = st.Time(5);
  return p;
}

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

class SqliteStore final : public SessionStore {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

  Status Open() {
    TESSERA_ASSIGN_OR_RETURN(writer_, Connection::Open(options_.path, options_.busy_timeout_ms,
                                                       /*read_only=*/false));
    // WAL: readers never block the writer or each other. FULL: the WAL is fsynced at every
    // commit, so an acknowledged write survives a power cut, not only a process crash.
    TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA journal_mode=WAL"));
    TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA synchronous=FULL"));
    TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA foreign_keys=ON"));
    TESSERA_RETURN_IF_ERROR(Migrate());
    for (int i = 0; i < std::max(1, options_.read_connections); ++i) {
      TESSERA_ASSIGN_OR_RETURN(auto reader,
                               Connection::Open(options_.path, options_.busy_timeout_ms, true));
      TESSERA_RETURN_IF_ERROR(reader->Exec("PRAGMA foreign_keys=ON"));
      readers_.push_back(std::move(reader));
    }
    return Status::Ok();
  }

  Status Ping() override {
    return Read([](Connection& c) -> Status {
      TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1"));
      return st.Step().status();
    });
  }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    return Read([&](Connection& c) -> Result<std::optional<std::string>> {
      TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT value FROM meta WHERE key = ?"));
      st.Bind(1, key);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<std::string>();
      return std::optional<std::string>(std::string(st.Text(0)));
    });
  }

  Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) override {
    return Write([&](Connection& c) -> Result<std::string> {
      {
        TESSERA_ASSIGN_OR_RETURN(Statement st,
                                 c.Prepare("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)"));
        st.Bind(1, key).Bind(2, value);
        TESSERA_RETURN_IF_ERROR(st.Run());
      }
      TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT value FROM meta WHERE key = ?"));
      st.Bind(1, key);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Error(ErrorCode::kStoreCorrupt, "meta row vanished");
      return std::string(st.Text(0));
    });
  }

  // --- Projects and keys ---------------------------------------------------------------------

  Status CreateProject(const Project& p, const std::vector<KeyRecord>& keys) override {
    return Write([&](Connection& c) -> Status {
      {
        TESSERA_ASSIGN_OR_RETURN(Statement st,
                                 c.Prepare("SELECT 1 FROM projects WHERE project_id = ?"));
        st.Bind(1, p.project_id);
        TESSERA_ASSIGN_OR_RETURN(bool exists, st.Step());
        if (exists) return Error(ErrorCode::kInvalidArgument, "project id already exists");
      }
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("INSERT INTO projects(project_id, name, live, secret_digest, "
                                  "settings, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
      st.Bind(1, p.project_id)
          .Bind(2, p.name)
          .Bind(3, std::int64_t{p.live})
          .BindBlob(4, p.secret_digest)
          .Bind(5, SettingsToJson(p.settings))
          .Bind(6, p.created_at);
      TESSERA_RETURN_IF_ERROR(st.Run());
      TESSERA_RETURN_IF_ERROR(UpsertKeys(c, keys));
      return BumpConfigVersion(c);
    });
  }

  Result<std::optional<Project>> GetProject(std::string_view project_id) override {
    return Read([&](Connection& c) -> Result<std::optional<Project>> {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT project_id, name, live, secret_digest, settings, "
                                         "created_at FROM projects WHERE project_id = ?"));
      st.Bind(1, project_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<Project>();
      TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(st));
      return std::optional<Project>(std::move(p));
    });
  }

  Result<std::vector<Project>> ListProjects() override {
    return Read([&](Connection& c) -> Result<std::vector<Project>> {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("SELECT project_id, name, live, secret_digest, settings, "
                                  "created_at FROM projects ORDER BY created_at, project_id"));
      std::vector<Project> out;
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(st));
        out.push_back(std::move(p));
      }
      return out;
    });
  }

  Status UpdateProjectSettings(std::string_view project_id,
                               const ProjectSettings& settings) override {
    return Write([&](Connection& c) -> Status {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("UPDATE projects SET settings = ? WHERE project_id = ?"));
      st.Bind(1, SettingsToJson(settings)).Bind(2, project_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
      if (st.changes() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
      return BumpConfigVersion(c);
    });
  }

  Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) override {
    return Read([&](Connection& c) -> Result<std::vector<KeyRecord>> {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT kid, project_id, alg, state, created_at, activated_at, retired_at, "
                    "certificate, sealed_private_key FROM signing_keys WHERE project_id = ? "
                    "ORDER BY created_at, kid"));
      st.Bind(1, project_id);
      std::vector<KeyRecord> out;
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        TESSERA_ASSIGN_OR_RETURN(KeyRecord r, KeyFromRow(st));
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  Status SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records) override {
    for (const auto& r : records) {
      if (r.project_id != project_id) {
        return Error(ErrorCode::kInvalidArgument, "key belongs to another project");
      }
    }
    return Write([&](Connection& c) -> Status {
      TESSERA_RETURN_IF_ERROR(UpsertKeys(c, records));
      return BumpConfigVersion(c);
    });
  }

  Result<std::int64_t> ConfigVersion() override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'config_version'"));
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Error(ErrorCode::kStoreCorrupt, "config version missing");
      return st.Int(0);
    });
  }

  // --- Users -----------------------------------------------------------------------------------

  Status CreateUser(const User& u) override {
    return Write([&](Connection& c) -> Status {
      TESSERA_RETURN_IF_ERROR(CheckUnique(c, u));
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare(
              "INSERT INTO users(project_id, user_id, external_id, status, first_name, "
              "middle_name, last_name, trusted_metadata, untrusted_metadata, roles, "
              "password_id, password_hash, password_requires_reset, password_created_at, "
              "failed_attempts, first_failed_at, locked_until, created_at, updated_at, "
              "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"));
      BindUser(st, u, 1);
      st.Bind(18, u.created_at).Bind(19, u.updated_at);
      TESSERA_RETURN_IF_ERROR(st.Run());
      return WriteUserChildren(c, u);
    });
  }

  Result<std::optional<User>> GetUser(std::string_view project_id,
                                      std::string_view user_id) override {
    return Read([&](Connection& c) { return LoadUser(c, project_id, user_id); });
  }

  Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                             std::string_view email) override {
    return Read([&](Connection& c) -> Result<std::optional<User>> {
      std::string user_id;
      {
        TESSERA_ASSIGN_OR_RETURN(Statement st,
                                 c.Prepare("SELECT user_id FROM user_emails WHERE project_id = ? "
                                           "AND email_normalized = ?"));
        st.Bind(1, project_id).Bind(2, NormalizeEmail(email));
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return std::optional<User>();
        user_id = st.Text(0);
      }
      return LoadUser(c, project_id, user_id);
    });
  }

  Status UpdateUser(const User& u) override {
    return Write([&](Connection& c) -> Status {
      {
        TESSERA_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("SELECT version FROM users WHERE project_id = ? AND user_id = ?"));
        st.Bind(1, u.project_id).Bind(2, u.user_id);
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) return Error(ErrorCode::kUserNotFound, "User could not be found.");
        if (st.Int(0) != u.version) {
          return Error(ErrorCode::kStoreConflict, "the user was changed concurrently");
        }
      }
      TESSERA_RETURN_IF_ERROR(CheckUnique(c, u));
      {
        TESSERA_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("UPDATE users SET project_id = ?, user_id = ?, external_id = ?, status = ?, "
                      "first_name = ?, middle_name = ?, last_name = ?, trusted_metadata = ?, "
                      "untrusted_metadata = ?, roles = ?, password_id = ?, password_hash = ?, "
                      "password_requires_reset = ?, password_created_at = ?, failed_attempts = ?, "
                      "first_failed_at = ?, locked_until = ?, updated_at = ?, "
                      "version = version + 1 WHERE project_id = ? AND user_id = ?"));
        BindUser(st, u, 1);
        st.Bind(18, u.updated_at).Bind(19, u.project_id).Bind(20, u.user_id);
        TESSERA_RETURN_IF_ERROR(st.Run());
      }
      for (const char* sql : {"DELETE FROM user_emails WHERE project_id = ? AND user_id = ?",
                              "DELETE FROM user_phones WHERE project_id = ? AND user_id = ?"}) {
        TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
        st.Bind(1, u.project_id).Bind(2, u.user_id);
        TESSERA_RETURN_IF_ERROR(st.Run());
      }
      return WriteUserChildren(c, u);
    });
  }

  Result<std::vector<std::string>> DeleteUser(std::string_view project_id, std::string_view user_id,
                                              TimePoint now) override {
    return Write([&](Connection& c) -> Result<std::vector<std::string>> {
      TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, LoadUser(c, project_id, user_id));
      if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
      std::vector<std::string> sessions;
      {
        TESSERA_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("SELECT session_id FROM sessions WHERE project_id = ? AND user_id = ?"));
        st.Bind(1, project_id).Bind(2, user->user_id);
        for (;;) {
          TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          sessions.emplace_back(st.Text(0));
        }
      }
      for (const auto& sid : sessions) {
        TESSERA_RETURN_IF_ERROR(RevokeIn(c, project_id, sid, user->user_id, now));
      }
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("DELETE FROM users WHERE project_id = ? AND user_id = ?"));
      st.Bind(1, project_id).Bind(2, user->user_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
      return sessions;
    });
  }

  Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                               const std::optional<UserCursor>& after, int limit) override {
    if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
    // The WHERE clause is built from fixed fragments; every value is a bound parameter.
    std::string where;
    std::vector<std::string> params;
    for (const auto& f : query.filters) {
      std::string clause;
      const auto placeholders = [&](const std::vector<std::string>& values, bool normalize) {
        std::string p;
        for (std::size_t i = 0; i < values.size(); ++i) {
          p += i ? ", ?" : "?";
          params.push_back(normalize ? NormalizeEmail(values[i]) : values[i]);
        }
        return p;
      };
      switch (f.kind) {
        case UserFilter::Kind::kEmailAddress:
          clause =
              "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
              "e.user_id = u.user_id AND e.email_normalized IN (" +
              placeholders(f.strings, true) + "))";
          break;
        case UserFilter::Kind::kEmailId:
          clause =
              "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
              "e.user_id = u.user_id AND e.email_id IN (" +
              placeholders(f.strings, false) + "))";
          break;
        case UserFilter::Kind::kPhoneNumber:
          clause =
              "EXISTS (SELECT 1 FROM user_phones p WHERE p.project_id = u.project_id AND "
              "p.user_id = u.user_id AND p.phone_number IN (" +
              placeholders(f.strings, false) + "))";
          break;
        case UserFilter::Kind::kUserId: {
          const std::string ids = placeholders(f.strings, false);
          clause = "(u.user_id IN (" + ids + ") OR u.external_id IN (" +
                   placeholders(f.strings, false) + "))";
          break;
        }
        case UserFilter::Kind::kStatus:
          clause = "u.status = ?";
          params.push_back(f.strings.empty() ? "" : f.strings[0]);
          break;
        case UserFilter::Kind::kCreatedAtGreaterThan:
          clause = "u.created_at > " + std::to_string(ToUnixSeconds(f.time_a));
          break;
        case UserFilter::Kind::kCreatedAtLessThan:
          clause = "u.created_at < " + std::to_string(ToUnixSeconds(f.time_a));
          break;
        case UserFilter::Kind::kCreatedAtBetween:
          clause = "(u.created_at > " + std::to_string(ToUnixSeconds(f.time_a)) +
                   " AND u.created_at < " + std::to_string(ToUnixSeconds(f.time_b)) + ")";
          break;
        case UserFilter::Kind::kPasswordExists:
          clause = f.flag ? "u.password_hash IS NOT NULL" : "u.password_hash IS NULL";
          break;
      }
      if (!where.empty()) where += query.match_any ? " OR " : " AND ";
      where += clause;
    }
    const std::string base = "FROM users u WHERE u.project_id = ?" +
                             (where.empty() ? std::string() : " AND (" + where + ")");
    return Read([&](Connection& c) -> Result<UserPage> {
      UserPage page;
      {
        TESSERA_ASSIGN_OR_RETURN(auto stmt, c.PrepareOnce("SELECT COUNT(*) " + base));
        Statement st(c.db(), stmt.get());
        int i = 1;
        st.Bind(i++, project_id);
        for (const auto& p : params) st.Bind(i++, std::string_view(p));
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        page.total = row ? st.Int(0) : 0;
      }
      std::vector<std::string> ids;
      {
        std::string sql = "SELECT u.user_id, u.created_at " + base;
        if (after) sql += " AND (u.created_at, u.user_id) > (?, ?)";
        sql += " ORDER BY u.created_at, u.user_id LIMIT " + std::to_string(limit + 1);
        TESSERA_ASSIGN_OR_RETURN(auto stmt, c.PrepareOnce(sql));
        Statement st(c.db(), stmt.get());
        int i = 1;
        st.Bind(i++, project_id);
        for (const auto& p : params) st.Bind(i++, std::string_view(p));
        if (after) {
          st.Bind(i, after->created_at);
          st.Bind(i + 1, after->user_id);
        }
        for (;;) {
          TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          ids.emplace_back(st.Text(0));
        }
      }
      const bool more = static_cast<int>(ids.size()) > limit;
      if (more) ids.pop_back();
      for (const auto& id : ids) {
        TESSERA_ASSIGN_OR_RETURN(std::optional<User> u, LoadUser(c, project_id, id));
        if (u) page.users.push_back(std::move(*u));
      }
      if (more && !page.users.empty()) {
        page.next = UserCursor{page.users.back().created_at, page.users.back().user_id};
      }
      return page;
    });
  }

  // --- Sessions -------------------------------------------------------------------------------

  Status CreateSession(const SessionRecord& s) override {
    return Write([&](Connection& c) -> Status {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare(
              "INSERT INTO sessions(project_id, session_id, user_id, token_digest, "
              "token_sealed, started_at, last_accessed_at, expires_at, ip_address, "
              "user_agent, factors, custom_claims) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
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
      return st.Run();
    });
  }

  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                         const TokenDigest& digest) override {
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

  Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                  std::string_view session_id) override {
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

  Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                  std::string_view user_id,
                                                  TimePoint now) override {
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

  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                      std::string_view session_id) override {
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

  Result<std::int64_t> UpdateSession(const SessionRecord& s) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare(
              "UPDATE sessions SET expires_at = ?, last_accessed_at = MAX(last_accessed_at, "
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

  Status TouchSessions(const std::vector<SessionTouch>& touches) override {
    if (touches.empty()) return Status::Ok();
    return Write([&](Connection& c) -> Status {
      for (const auto& t : touches) {
        TESSERA_ASSIGN_OR_RETURN(
            Statement st,
            c.Prepare("UPDATE sessions SET last_accessed_at = MAX(last_accessed_at, ?) "
                      "WHERE project_id = ? AND session_id = ?"));
        st.Bind(1, t.last_accessed_at).Bind(2, t.project_id).Bind(3, t.session_id);
        TESSERA_RETURN_IF_ERROR(st.Run());
      }
      return Status::Ok();
    });
  }

  Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                             TimePoint now) override {
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
      TESSERA_RETURN_IF_ERROR(RevokeIn(c, project_id, session_id, user_id, now));
      return true;
    });
  }

  Result<std::vector<RevocationEvent>> RevocationsSince(std::int64_t after, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<RevocationEvent>> {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT sequence, project_id, session_id, user_id, revoked_at FROM "
                    "revocations WHERE sequence > ? ORDER BY sequence LIMIT ?"));
      st.Bind(1, after).Bind(2, std::int64_t{limit});
      std::vector<RevocationEvent> out;
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        out.push_back({st.Int(0), std::string(st.Text(1)), std::string(st.Text(2)),
                       std::string(st.Text(3)), st.Time(4)});
      }
      return out;
    });
  }

  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("DELETE FROM sessions WHERE expires_at < ?"));
      st.Bind(1, cutoff);
      TESSERA_RETURN_IF_ERROR(st.Run());
      return std::int64_t{st.changes()};
    });
  }

 private:
  // Runs `f` on the writer connection inside BEGIN IMMEDIATE ... COMMIT.
  template <typename F>
  auto Write(F&& f) -> decltype(f(std::declval<Connection&>())) {
    std::lock_guard lock(writer_->mu);
    Transaction txn(*writer_);
    TESSERA_RETURN_IF_ERROR(txn.Begin());
    auto result = f(*writer_);
    if (!internal::AsStatus(result).ok()) return result;
    TESSERA_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  // Runs `f` on a free reader connection (each read is one implicit snapshot per statement; the
  // multi-statement reads here tolerate that because they only assemble one record's parts).
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<Connection&>())) {
    const std::size_t start = next_reader_.fetch_add(1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < readers_.size(); ++i) {
      Connection& c = *readers_[(start + i) % readers_.size()];
      std::unique_lock lock(c.mu, std::try_to_lock);
      if (lock.owns_lock()) return f(c);
    }
    Connection& c = *readers_[start % readers_.size()];
    std::lock_guard lock(c.mu);
    return f(c);
  }

  Status Migrate() {
    TESSERA_ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA user_version"));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    const int version = row ? static_cast<int>(st.Int(0)) : 0;
    if (version > kSchemaVersion) {
      return Error(ErrorCode::kStoreCorrupt, "database schema version " + std::to_string(version) +
                                                 " is newer than this Tessera understands (" +
                                                 std::to_string(kSchemaVersion) + ")");
    }
    if (version == 0) {
      // A non-empty database at version 0 is not ours.
      TESSERA_ASSIGN_OR_RETURN(Statement tables,
                               writer_->Prepare("SELECT COUNT(*) FROM sqlite_master"));
      TESSERA_ASSIGN_OR_RETURN(bool r, tables.Step());
      if (r && tables.Int(0) > 0) {
        return Error(ErrorCode::kStoreCorrupt, "the file is a SQLite database not made by Tessera");
      }
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      Transaction txn(*writer_);
      TESSERA_RETURN_IF_ERROR(txn.Begin());
      TESSERA_RETURN_IF_ERROR(writer_->Exec(kMigrations[v]));
      const std::string set = "PRAGMA user_version = " + std::to_string(v + 1);
      TESSERA_RETURN_IF_ERROR(writer_->Exec(set.c_str()));
      TESSERA_RETURN_IF_ERROR(txn.Commit());
    }
    return Status::Ok();
  }

  static Status UpsertKeys(Connection& c, const std::vector<KeyRecord>& keys) {
    for (const auto& r : keys) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO signing_keys(kid, project_id, alg, state, created_at, "
                    "activated_at, retired_at, certificate, sealed_private_key) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kid) DO UPDATE SET "
                    "state = excluded.state, activated_at = excluded.activated_at, "
                    "retired_at = excluded.retired_at WHERE signing_keys.project_id = "
                    "excluded.project_id"));
      st.Bind(1, r.kid)
          .Bind(2, r.project_id)
          .Bind(3, AlgorithmName(r.alg))
          .Bind(4, KeyStateName(r.state))
          .Bind(5, r.created_at)
          .Bind(6, r.activated_at)
          .Bind(7, r.retired_at)
          .BindBlob(8, r.certificate_der)
          .BindBlob(9, r.sealed_private_key);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    return Status::Ok();
  }

  // Binds columns project_id .. locked_until (17 values) starting at `i`.
  static void BindUser(Statement& st, const User& u, int i) {
    st.Bind(i, u.project_id);
    st.Bind(i + 1, u.user_id);
    st.Bind(i + 2, u.external_id);
    st.Bind(i + 3, u.status);
    st.Bind(i + 4, u.first_name);
    st.Bind(i + 5, u.middle_name);
    st.Bind(i + 6, u.last_name);
    st.Bind(i + 7, boost::json::serialize(u.trusted_metadata));
    st.Bind(i + 8, boost::json::serialize(u.untrusted_metadata));
    st.Bind(i + 9, RolesToJson(u.roles));
    if (u.password) {
      st.Bind(i + 10, u.password->password_id);
      st.Bind(i + 11, u.password->hash);
      st.Bind(i + 12, std::int64_t{u.password->requires_reset});
      st.Bind(i + 13, u.password->created_at);
    } else {
      st.BindNull(i + 10);
      st.BindNull(i + 11);
      st.Bind(i + 12, std::int64_t{0});
      st.BindNull(i + 13);
    }
    st.Bind(i + 14, std::int64_t{u.failed_password_attempts});
    st.Bind(i + 15, u.first_failed_at);
    st.Bind(i + 16, u.locked_until);
  }

  // Duplicate checks inside the write transaction (the writer is exclusive, so they cannot race).
  static Status CheckUnique(Connection& c, const User& u) {
    for (const auto& e : u.emails) {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT user_id FROM user_emails WHERE project_id = ? "
                                         "AND email_normalized = ?"));
      st.Bind(1, u.project_id).Bind(2, NormalizeEmail(e.email));
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && st.Text(0) != u.user_id) {
        return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
      }
    }
    for (const auto& p : u.phone_numbers) {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT user_id FROM user_phones WHERE project_id = ? "
                                         "AND phone_number = ?"));
      st.Bind(1, u.project_id).Bind(2, p.phone_number);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && st.Text(0) != u.user_id) {
        return Error(ErrorCode::kDuplicatePhoneNumber,
                     "A user with this phone number already exists.");
      }
    }
    if (u.external_id) {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT user_id FROM users WHERE project_id = ? AND "
                                         "(external_id = ? OR user_id = ?)"));
      st.Bind(1, u.project_id).Bind(2, *u.external_id).Bind(3, *u.external_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row && st.Text(0) != u.user_id) {
        return Error(ErrorCode::kDuplicateExternalId,
                     "A user with this external_id already exists.");
      }
    }
    return Status::Ok();
  }

  static Status WriteUserChildren(Connection& c, const User& u) {
    for (std::size_t i = 0; i < u.emails.size(); ++i) {
      const auto& e = u.emails[i];
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO user_emails(project_id, email_id, user_id, email, "
                    "email_normalized, verified, position) VALUES (?, ?, ?, ?, ?, ?, ?)"));
      st.Bind(1, u.project_id)
          .Bind(2, e.email_id)
          .Bind(3, u.user_id)
          .Bind(4, e.email)
          .Bind(5, NormalizeEmail(e.email))
          .Bind(6, std::int64_t{e.verified})
          .Bind(7, static_cast<std::int64_t>(i));
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    for (std::size_t i = 0; i < u.phone_numbers.size(); ++i) {
      const auto& p = u.phone_numbers[i];
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO user_phones(project_id, phone_id, user_id, phone_number, "
                    "verified, position) VALUES (?, ?, ?, ?, ?, ?)"));
      st.Bind(1, u.project_id)
          .Bind(2, p.phone_id)
          .Bind(3, u.user_id)
          .Bind(4, p.phone_number)
          .Bind(5, std::int64_t{p.verified})
          .Bind(6, static_cast<std::int64_t>(i));
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    return Status::Ok();
  }

  static Result<std::optional<User>> LoadUser(Connection& c, std::string_view project_id,
                                              std::string_view user_id) {
    User u;
    {
      // By id first; an external id is the fallback (spec: user_id may be an external_id).
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT user_id, external_id, status, first_name, middle_name, last_name, "
                    "trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
                    "password_requires_reset, password_created_at, failed_attempts, "
                    "first_failed_at, locked_until, created_at, updated_at, version FROM users "
                    "WHERE project_id = ? AND (user_id = ? OR external_id = ?) "
                    "ORDER BY user_id = ? DESC LIMIT 1"));
      st.Bind(1, project_id).Bind(2, user_id).Bind(3, user_id).Bind(4, user_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<User>();
      u.project_id = std::string(project_id);
      u.user_id = st.Text(0);
      u.external_id = st.OptText(1);
      u.status = st.Text(2);
      u.first_name = st.Text(3);
      u.middle_name = st.Text(4);
      u.last_name = st.Text(5);
      TESSERA_ASSIGN_OR_RETURN(u.trusted_metadata, StoredObject(st.Text(6)));
      TESSERA_ASSIGN_OR_RETURN(u.untrusted_metadata, StoredObject(st.Text(7)));
      TESSERA_ASSIGN_OR_RETURN(u.roles, RolesFromJson(st.Text(8)));
      if (!st.IsNull(10)) {
        u.password = UserPassword{std::string(st.Text(9)), std::string(st.Text(10)),
                                  st.Int(11) != 0, st.Time(12)};
      }
      u.failed_password_attempts = static_cast<int>(st.Int(13));
      u.first_failed_at = st.OptTime(14);
      u.locked_until = st.OptTime(15);
      u.created_at = st.Time(16);
      u.updated_at = st.Time(17);
      u.version = st.Int(18);
    }
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT email_id, email, verified FROM user_emails "
                                         "WHERE project_id = ? AND user_id = ? ORDER BY position"));
      st.Bind(1, project_id).Bind(2, u.user_id);
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        u.emails.push_back({std::string(st.Text(0)), std::string(st.Text(1)), st.Int(2) != 0});
      }
    }
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT phone_id, phone_number, verified FROM user_phones "
                                         "WHERE project_id = ? AND user_id = ? ORDER BY position"));
      st.Bind(1, project_id).Bind(2, u.user_id);
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        u.phone_numbers.push_back(
            {std::string(st.Text(0)), std::string(st.Text(1)), st.Int(2) != 0});
      }
    }
    return std::optional<User>(std::move(u));
  }

  static Result<std::optional<SessionRecord>> OneSession(Statement& st) {
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<SessionRecord>();
    TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(st));
    return std::optional<SessionRecord>(std::move(s));
  }

  static Status RevokeIn(Connection& c, std::string_view project_id, std::string_view session_id,
                         std::string_view user_id, TimePoint now) {
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("DELETE FROM sessions WHERE project_id = ? AND session_id = ?"));
      st.Bind(1, project_id).Bind(2, session_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("INSERT INTO revocations(project_id, session_id, user_id, "
                                       "revoked_at) VALUES (?, ?, ?, ?)"));
    st.Bind(1, project_id).Bind(2, session_id).Bind(3, user_id).Bind(4, now);
    return st.Run();
  }

  SqliteOptions options_;
  std::unique_ptr<Connection> writer_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::atomic<std::size_t> next_reader_{0};
};

}  // namespace

Result<std::unique_ptr<SessionStore>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  TESSERA_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace tessera
