#include "tessera/store/postgres_store.h"

#include <poll.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "store/postgres/pg.h"
#include "store/records_json.h"

namespace tessera {
namespace {

using pg::Connection;
using pg::Param;
using pg::Rows;

constexpr char kChannel[] = "tessera_changes";
// Any constant will do; it only has to be the same for every node of one database.
constexpr std::int64_t kMigrationLock = 0x7e55e7a0001;

// Schema migrations, applied in order under an advisory lock (several nodes may start at once);
// schema_migrations records which ran. Never edit a migration that has shipped: append.
constexpr const char* kMigrations[] = {
    // 1: initial schema (the shape of SQLite migrations 1 and 2).
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE projects (
  project_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  live BOOLEAN NOT NULL,
  secret_digest BYTEA NOT NULL,
  settings TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES projects(project_id),
  alg TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  activated_at BIGINT,
  retired_at BIGINT,
  certificate BYTEA NOT NULL,
  sealed_private_key BYTEA NOT NULL
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
  password_requires_reset BOOLEAN NOT NULL DEFAULT false,
  password_created_at BIGINT,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  first_failed_at BIGINT,
  locked_until BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL,
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
  verified BOOLEAN NOT NULL,
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
  verified BOOLEAN NOT NULL,
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
  token_digest BYTEA NOT NULL UNIQUE,
  token_sealed BYTEA NOT NULL,
  started_at BIGINT NOT NULL,
  last_accessed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ip_address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  factors TEXT NOT NULL,
  custom_claims TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, session_id)
);
CREATE INDEX sessions_by_user ON sessions(project_id, user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE TABLE revocations (
  sequence BIGSERIAL PRIMARY KEY,
  project_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  revoked_at BIGINT NOT NULL
);
INSERT INTO meta(key, value) VALUES ('config_version', '1');
)sql",
};

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

Result<KeyRecord> KeyFromRow(const Rows& r, int i) {
  KeyRecord k;
  k.kid = r.Text(i, 0);
  k.project_id = r.Text(i, 1);
  const auto alg = AlgorithmFromName(r.Text(i, 2));
  const auto state = KeyStateFromName(r.Text(i, 3));
  if (!alg || !state) return Error(ErrorCode::kStoreCorrupt, "stored signing key is not valid");
  k.alg = *alg;
  k.state = *state;
  k.created_at = r.Time(i, 4);
  k.activated_at = r.OptTime(i, 5);
  k.retired_at = r.OptTime(i, 6);
  k.certificate_der = r.Bytea(i, 7);
  k.sealed_private_key = r.Bytea(i, 8);
  return k;
}

Result<Project> ProjectFromRow(const Rows& r, int i) {
  Project p;
  p.project_id = r.Text(i, 0);
  p.name = r.Text(i, 1);
  p.live = r.Bool(i, 2);
  p.secret_digest = r.Bytea(i, 3);
  TESSERA_ASSIGN_OR_RETURN(p.settings, SettingsFromJson(r.Text(i, 4)));
  p.created_at = r.Time(i, 5);
  return p;
}

// Unique violations carry the constraint name ("unique:<name>", see pg::ErrorFrom).
Status MapUnique(Status s) {
  if (s.code() != ErrorCode::kStoreConflict) return s;
  if (s.message() == "unique:user_emails_unique") {
    return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
  }
  if (s.message() == "unique:user_phones_unique") {
    return Error(ErrorCode::kDuplicatePhoneNumber, "A user with this phone number already exists.");
  }
  if (s.message() == "unique:users_by_external_id") {
    return Error(ErrorCode::kDuplicateExternalId, "A user with this external_id already exists.");
  }
  return s;
}

class PostgresStore final : public SessionStore {
 public:
  explicit PostgresStore(PostgresOptions options)
      : options_(std::move(options)),
        pool_({options_.url, options_.pool_size, options_.statement_timeout_ms,
               options_.acquire_timeout_ms}) {}

  ~PostgresStore() override { StopListener(); }

  Status Open() {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    return Migrate(*lease);
  }

  bool shared() const override { return true; }

  // Replacing or clearing the listener first stops (joins) the thread that calls the old one, so
  // once this returns the old listener is never called again: its owner may be destroyed.
  void SetChangeListener(std::function<void(const StoreChange&)> listener) override {
    StopListener();
    on_change_ = std::move(listener);
    if (!on_change_) return;
    stop_.store(false);
    listener_ = std::thread([this] { Listen(); });
  }

  Status Ping() override {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    return lease->Simple("SELECT 1");
  }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    return Read([&](Connection& c) -> Result<std::optional<std::string>> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("get_meta", "SELECT value FROM meta WHERE key = $1", {pg::Text(key)}));
      if (r.size() == 0) return std::optional<std::string>();
      return std::optional<std::string>(std::string(r.Text(0, 0)));
    });
  }

  Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) override {
    return Write([&](Connection& c) -> Result<std::string> {
      TESSERA_RETURN_IF_ERROR(c.Exec("put_meta",
                                     "INSERT INTO meta(key, value) VALUES ($1, $2) "
                                     "ON CONFLICT (key) DO NOTHING",
                                     {pg::Text(key), pg::Text(value)}));
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("get_meta", "SELECT value FROM meta WHERE key = $1", {pg::Text(key)}));
      if (r.size() == 0) return Error(ErrorCode::kStoreCorrupt, "meta row vanished");
      return std::string(r.Text(0, 0));
    });
  }

  // --- Projects and keys ---------------------------------------------------------------------

  Status CreateProject(const Project& p, const std::vector<KeyRecord>& keys) override {
    return Write([&](Connection& c) -> Status {
      auto inserted = c.Exec(
          "create_project",
          "INSERT INTO projects(project_id, name, live, secret_digest, settings, "
          "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
          {pg::Text(p.project_id), pg::Text(p.name), pg::Bool(p.live), pg::Bytea(p.secret_digest),
           pg::Text(SettingsToJson(p.settings)), pg::Time(p.created_at)});
      if (!inserted.ok()) {
        if (inserted.status().code() == ErrorCode::kStoreConflict) {
          return Error(ErrorCode::kInvalidArgument, "project id already exists");
        }
        return inserted.status();
      }
      TESSERA_RETURN_IF_ERROR(UpsertKeys(c, keys));
      return BumpConfig(c, p.project_id);
    });
  }

  Result<std::optional<Project>> GetProject(std::string_view project_id) override {
    return Read([&](Connection& c) -> Result<std::optional<Project>> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("get_project",
                         "SELECT project_id, name, live, secret_digest, settings, created_at FROM "
                         "projects WHERE project_id = $1",
                         {pg::Text(project_id)}));
      if (r.size() == 0) return std::optional<Project>();
      TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(r, 0));
      return std::optional<Project>(std::move(p));
    });
  }

  Result<std::vector<Project>> ListProjects() override {
    return Read([&](Connection& c) -> Result<std::vector<Project>> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("list_projects",
                         "SELECT project_id, name, live, secret_digest, settings, created_at FROM "
                         "projects ORDER BY created_at, project_id",
                         {}));
      std::vector<Project> out;
      for (int i = 0; i < r.size(); ++i) {
        TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(r, i));
        out.push_back(std::move(p));
      }
      return out;
    });
  }

  Status UpdateProjectSettings(std::string_view project_id,
                               const ProjectSettings& settings) override {
    return Write([&](Connection& c) -> Status {
      TESSERA_ASSIGN_OR_RETURN(Rows r,
                               c.Exec("update_settings",
                                      "UPDATE projects SET settings = $1 WHERE project_id "
                                      "= $2 RETURNING project_id",
                                      {pg::Text(SettingsToJson(settings)), pg::Text(project_id)}));
      if (r.size() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
      return BumpConfig(c, project_id);
    });
  }

  Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) override {
    return Read([&](Connection& c) -> Result<std::vector<KeyRecord>> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("list_keys",
                         "SELECT kid, project_id, alg, state, created_at, activated_at, "
                         "retired_at, certificate, sealed_private_key FROM signing_keys WHERE "
                         "project_id = $1 ORDER BY created_at, kid",
                         {pg::Text(project_id)}));
      std::vector<KeyRecord> out;
      for (int i = 0; i < r.size(); ++i) {
        TESSERA_ASSIGN_OR_RETURN(KeyRecord k, KeyFromRow(r, i));
        out.push_back(std::move(k));
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
      return BumpConfig(c, project_id);
    });
  }

  Result<std::int64_t> ConfigVersion() override {
    return Read([&](Connection& c) -> Result<std::int64_t> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("config_version",
                         "SELECT value::bigint FROM meta WHERE key = 'config_version'", {}));
      if (r.size() == 0) return Error(ErrorCode::kStoreCorrupt, "config version missing");
      return r.Int(0, 0);
    });
  }

  // --- Users -----------------------------------------------------------------------------------

  Status CreateUser(const User& u) override {
    return MapUnique(Write([&](Connection& c) -> Status {
      TESSERA_RETURN_IF_ERROR(CheckExternalId(c, u));
      std::vector<Param> params = UserParams(u);
      params.push_back(pg::Time(u.created_at));
      params.push_back(pg::Time(u.updated_at));
      TESSERA_RETURN_IF_ERROR(c.Exec(
          "create_user",
          "INSERT INTO users(project_id, user_id, external_id, status, first_name, middle_name, "
          "last_name, trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
          "password_requires_reset, password_created_at, failed_attempts, first_failed_at, "
          "locked_until, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, "
          "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 0)",
          params));
      return WriteUserChildren(c, u);
    }));
  }

  Result<std::optional<User>> GetUser(std::string_view project_id,
                                      std::string_view user_id) override {
    return Read([&](Connection& c) { return LoadUser(c, project_id, user_id); });
  }

  Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                             std::string_view email) override {
    return Read([&](Connection& c) -> Result<std::optional<User>> {
      TESSERA_ASSIGN_OR_RETURN(Rows r,
                               c.Exec("user_by_email",
                                      "SELECT user_id FROM user_emails WHERE project_id = "
                                      "$1 AND email_normalized = $2",
                                      {pg::Text(project_id), pg::Text(NormalizeEmail(email))}));
      if (r.size() == 0) return std::optional<User>();
      return LoadUser(c, project_id, std::string(r.Text(0, 0)));
    });
  }

  Status UpdateUser(const User& u) override {
    return MapUnique(Write([&](Connection& c) -> Status {
      TESSERA_RETURN_IF_ERROR(CheckExternalId(c, u));
      std::vector<Param> params = UserParams(u);
      params.push_back(pg::Time(u.updated_at));
      params.push_back(pg::Int(u.version));
      TESSERA_ASSIGN_OR_RETURN(
          Rows r,
          c.Exec("update_user",
                 "UPDATE users SET external_id = $3, status = $4, first_name = $5, middle_name = "
                 "$6, last_name = $7, trusted_metadata = $8, untrusted_metadata = $9, roles = $10, "
                 "password_id = $11, password_hash = $12, password_requires_reset = $13, "
                 "password_created_at = $14, failed_attempts = $15, first_failed_at = $16, "
                 "locked_until = $17, updated_at = $18, version = version + 1 WHERE project_id = "
                 "$1 AND user_id = $2 AND version = $19 RETURNING version",
                 params));
      if (r.size() == 0) {
        TESSERA_ASSIGN_OR_RETURN(
            Rows exists,
            c.Exec("user_exists", "SELECT 1 FROM users WHERE project_id = $1 AND user_id = $2",
                   {pg::Text(u.project_id), pg::Text(u.user_id)}));
        if (exists.size() == 0) return Error(ErrorCode::kUserNotFound, "User could not be found.");
        return Error(ErrorCode::kStoreConflict, "the user was changed concurrently");
      }
      for (const char* name : {"delete_emails", "delete_phones"}) {
        const bool emails = std::string_view(name) == "delete_emails";
        TESSERA_RETURN_IF_ERROR(
            c.Exec(name,
                   emails ? "DELETE FROM user_emails WHERE project_id = $1 AND user_id = $2"
                          : "DELETE FROM user_phones WHERE project_id = $1 AND user_id = $2",
                   {pg::Text(u.project_id), pg::Text(u.user_id)}));
      }
      TESSERA_RETURN_IF_ERROR(WriteUserChildren(c, u));
      return Notify(c, "u|" + u.project_id + "|" + u.user_id);
    }));
  }

  Result<std::vector<std::string>> DeleteUser(std::string_view project_id, std::string_view user_id,
                                              TimePoint now) override {
    return Write([&](Connection& c) -> Result<std::vector<std::string>> {
      TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, LoadUser(c, project_id, user_id));
      if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("delete_user_sessions",
                         "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 RETURNING "
                         "session_id",
                         {pg::Text(project_id), pg::Text(user->user_id)}));
      std::vector<std::string> sessions;
      for (int i = 0; i < r.size(); ++i) {
        sessions.emplace_back(r.Text(i, 0));
        TESSERA_RETURN_IF_ERROR(
            RecordRevocation(c, project_id, sessions.back(), user->user_id, now));
      }
      TESSERA_RETURN_IF_ERROR(c.Exec("delete_user",
                                     "DELETE FROM users WHERE project_id = $1 AND user_id = $2",
                                     {pg::Text(project_id), pg::Text(user->user_id)}));
      TESSERA_RETURN_IF_ERROR(Notify(c, "u|" + std::string(project_id) + "|" + user->user_id));
      return sessions;
    });
  }

  Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                               const std::optional<UserCursor>& after, int limit) override {
    if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
    std::vector<Param> params{pg::Text(project_id)};
    const auto placeholder = [&](Param p) {
      params.push_back(std::move(p));
      return "$" + std::to_string(params.size());
    };
    const auto list = [&](const std::vector<std::string>& values, bool normalize) {
      std::string s;
      for (const auto& v : values) {
        if (!s.empty()) s += ", ";
        s += placeholder(pg::Text(normalize ? NormalizeEmail(v) : v));
      }
      return s;
    };
    std::string where;
    for (const auto& f : query.filters) {
      std::string clause;
      switch (f.kind) {
        case UserFilter::Kind::kEmailAddress:
          clause =
              "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
              "e.user_id = u.user_id AND e.email_normalized IN (" +
              list(f.strings, true) + "))";
          break;
        case UserFilter::Kind::kEmailId:
          clause =
              "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
              "e.user_id = u.user_id AND e.email_id IN (" +
              list(f.strings, false) + "))";
          break;
        case UserFilter::Kind::kPhoneNumber:
          clause =
              "EXISTS (SELECT 1 FROM user_phones p WHERE p.project_id = u.project_id AND "
              "p.user_id = u.user_id AND p.phone_number IN (" +
              list(f.strings, false) + "))";
          break;
        case UserFilter::Kind::kUserId: {
          const std::string ids = list(f.strings, false);
          clause = "(u.user_id IN (" + ids + ") OR u.external_id IN (" + ids + "))";
          break;
        }
        case UserFilter::Kind::kStatus:
          clause = "u.status = " + placeholder(pg::Text(f.strings.empty() ? "" : f.strings[0]));
          break;
        case UserFilter::Kind::kCreatedAtGreaterThan:
          clause = "u.created_at > " + placeholder(pg::Time(f.time_a));
          break;
        case UserFilter::Kind::kCreatedAtLessThan:
          clause = "u.created_at < " + placeholder(pg::Time(f.time_a));
          break;
        case UserFilter::Kind::kCreatedAtBetween:
          clause = "(u.created_at > " + placeholder(pg::Time(f.time_a)) + " AND u.created_at < " +
                   placeholder(pg::Time(f.time_b)) + ")";
          break;
        case UserFilter::Kind::kPasswordExists:
          clause = f.flag ? "u.password_hash IS NOT NULL" : "u.password_hash IS NULL";
          break;
      }
      if (!where.empty()) where += query.match_any ? " OR " : " AND ";
      where += clause;
    }
    const std::string base = "FROM users u WHERE u.project_id = $1" +
                             (where.empty() ? std::string() : " AND (" + where + ")");
    return Read([&](Connection& c) -> Result<UserPage> {
      UserPage page;
      TESSERA_ASSIGN_OR_RETURN(Rows count, c.ExecDynamic("SELECT COUNT(*) " + base, params));
      page.total = count.Int(0, 0);
      std::vector<Param> page_params = params;
      std::string sql = "SELECT u.user_id " + base;
      if (after) {
        page_params.push_back(pg::Time(after->created_at));
        const std::string t = "$" + std::to_string(page_params.size());
        page_params.push_back(pg::Text(after->user_id));
        const std::string id = "$" + std::to_string(page_params.size());
        sql += " AND (u.created_at, u.user_id) > (" + t + "::bigint, " + id + ")";
      }
      sql += " ORDER BY u.created_at, u.user_id LIMIT " + std::to_string(limit + 1);
      TESSERA_ASSIGN_OR_RETURN(Rows ids, c.ExecDynamic(sql, page_params));
      const bool more = ids.size() > limit;
      const int n = more ? limit : ids.size();
      for (int i = 0; i < n; ++i) {
        TESSERA_ASSIGN_OR_RETURN(std::optional<User> u,
                                 LoadUser(c, project_id, std::string(ids.Text(i, 0))));
        if (u) page.users.push_back(std::move(*u));
      }
      if (more && !page.users.empty()) {
        page.next = UserCursor{page.users.back().created_at, page.users.back().user_id};
      }
      return page;
    });
  }

  // --- Sessions --------------------------------------------------------------------------------

  Status CreateSession(const SessionRecord& s) override {
    return Write([&](Connection& c) -> Status {
      return c
          .Exec("create_session",
                "INSERT INTO sessions(project_id, session_id, user_id, token_digest, token_sealed, "
                "started_at, last_accessed_at, expires_at, ip_address, user_agent, factors, "
                "custom_claims) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                {pg::Text(s.project_id), pg::Text(s.session_id), pg::Text(s.user_id),
                 pg::Bytea(std::string_view(reinterpret_cast<const char*>(s.token_digest.data()),
                                            s.token_digest.size())),
                 pg::Bytea(s.token_sealed), pg::Time(s.started_at), pg::Time(s.last_accessed_at),
                 pg::Time(s.expires_at), pg::Text(s.attributes.ip_address),
                 pg::Text(s.attributes.user_agent),
                 pg::Text(boost::json::serialize(s.authentication_factors)),
                 pg::Text(boost::json::serialize(s.custom_claims))})
          .status();
    });
  }

  Result<std::optional<SessionRecord>> GetSessionByToken(std::string_view project_id,
                                                         const TokenDigest& digest) override {
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

  Result<std::optional<SessionRecord>> GetSession(std::string_view project_id,
                                                  std::string_view session_id) override {
    static const std::string sql =
        std::string(kSessionSelect) + "WHERE project_id = $1 AND session_id = $2";
    return Read([&](Connection& c) -> Result<std::optional<SessionRecord>> {
      TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("session_by_id", sql.c_str(),
                                              {pg::Text(project_id), pg::Text(session_id)}));
      return OneSession(r);
    });
  }

  Result<std::optional<SessionStamp>> GetSessionStamp(std::string_view project_id,
                                                      std::string_view session_id) override {
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

  Result<std::vector<SessionRecord>> ListSessions(std::string_view project_id,
                                                  std::string_view user_id,
                                                  TimePoint now) override {
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

  Result<std::int64_t> UpdateSession(const SessionRecord& s) override {
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

  Status TouchSessions(const std::vector<SessionTouch>& touches) override {
    if (touches.empty()) return Status::Ok();
    // One statement for the batch; GREATEST keeps concurrent writers from moving the value back.
    std::string projects = "{", sessions = "{", times = "{";
    for (std::size_t i = 0; i < touches.size(); ++i) {
      const char* sep = i == 0 ? "" : ",";
      // Ids are generated by Tessera ([a-z0-9-]); quoting keeps the array literal safe anyway.
      projects += sep + Quote(touches[i].project_id);
      sessions += sep + Quote(touches[i].session_id);
      times += sep + std::to_string(ToUnixSeconds(touches[i].last_accessed_at));
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

  Result<bool> RevokeSession(std::string_view project_id, std::string_view session_id,
                             TimePoint now) override {
    return Write([&](Connection& c) -> Result<bool> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("revoke_session",
                         "DELETE FROM sessions WHERE project_id = $1 AND session_id = $2 "
                         "RETURNING user_id",
                         {pg::Text(project_id), pg::Text(session_id)}));
      if (r.size() == 0) return false;
      TESSERA_RETURN_IF_ERROR(
          RecordRevocation(c, project_id, session_id, std::string(r.Text(0, 0)), now));
      return true;
    });
  }

  Result<std::vector<RevocationEvent>> RevocationsSince(std::int64_t after, int limit) override {
    return Read([&](Connection& c) -> Result<std::vector<RevocationEvent>> {
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.Exec("revocations_since",
                         "SELECT sequence, project_id, session_id, user_id, revoked_at FROM "
                         "revocations WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                         {pg::Int(after), pg::Int(limit)}));
      std::vector<RevocationEvent> out;
      for (int i = 0; i < r.size(); ++i) {
        out.push_back({r.Int(i, 0), std::string(r.Text(i, 1)), std::string(r.Text(i, 2)),
                       std::string(r.Text(i, 3)), r.Time(i, 4)});
      }
      return out;
    });
  }

  Result<std::int64_t> DeleteExpiredSessions(TimePoint cutoff) override {
    return Write([&](Connection& c) -> Result<std::int64_t> {
      TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("delete_expired",
                                              "WITH d AS (DELETE FROM sessions WHERE expires_at < "
                                              "$1 RETURNING 1) SELECT COUNT(*) FROM d",
                                              {pg::Time(cutoff)}));
      return r.Int(0, 0);
    });
  }

 private:
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<Connection&>())) {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    return f(*lease);
  }

  // BEGIN ... COMMIT on one pooled connection; ROLLBACK on any error. A failed COMMIT is an
  // error: the caller must not acknowledge what may not be durable.
  template <typename F>
  auto Write(F&& f) -> decltype(f(std::declval<Connection&>())) {
    TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
    TESSERA_RETURN_IF_ERROR(lease->Simple("BEGIN"));
    auto result = f(*lease);
    if (!internal::AsStatus(result).ok()) {
      lease->Simple("ROLLBACK").IgnoreError();
      return result;
    }
    TESSERA_RETURN_IF_ERROR(lease->Simple("COMMIT"));
    return result;
  }

  static std::string Quote(std::string_view s) {
    std::string q = "\"";
    for (const char ch : s) {
      if (ch == '"' || ch == '\\') q.push_back('\\');
      q.push_back(ch);
    }
    q.push_back('"');
    return q;
  }

  static Status Notify(Connection& c, const std::string& payload) {
    return c.Exec("notify", "SELECT pg_notify($1, $2)", {pg::Text(kChannel), pg::Text(payload)})
        .status();
  }

  static Status BumpConfig(Connection& c, std::string_view project_id) {
    TESSERA_RETURN_IF_ERROR(c.Exec("bump_config",
                                   "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = "
                                   "'config_version'",
                                   {}));
    return Notify(c, "c|" + std::string(project_id));
  }

  static Status RecordRevocation(Connection& c, std::string_view project_id,
                                 std::string_view session_id, std::string_view user_id,
                                 TimePoint now) {
    TESSERA_RETURN_IF_ERROR(
        c.Exec("record_revocation",
               "INSERT INTO revocations(project_id, session_id, user_id, "
               "revoked_at) VALUES ($1, $2, $3, $4)",
               {pg::Text(project_id), pg::Text(session_id), pg::Text(user_id), pg::Time(now)}));
    return Notify(c, "s|" + std::string(project_id) + "|" + std::string(session_id));
  }

  static Status UpsertKeys(Connection& c, const std::vector<KeyRecord>& keys) {
    for (const auto& k : keys) {
      TESSERA_RETURN_IF_ERROR(c.Exec(
          "upsert_key",
          "INSERT INTO signing_keys(kid, project_id, alg, state, created_at, activated_at, "
          "retired_at, certificate, sealed_private_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "$9) ON CONFLICT (kid) DO UPDATE SET state = excluded.state, activated_at = "
          "excluded.activated_at, retired_at = excluded.retired_at WHERE signing_keys.project_id "
          "= excluded.project_id",
          {pg::Text(k.kid), pg::Text(k.project_id), pg::Text(AlgorithmName(k.alg)),
           pg::Text(KeyStateName(k.state)), pg::Time(k.created_at), pg::OptTime(k.activated_at),
           pg::OptTime(k.retired_at), pg::Bytea(k.certificate_der),
           pg::Bytea(k.sealed_private_key)}));
    }
    return Status::Ok();
  }

  // $1..$17: project_id .. locked_until, as in the INSERT and UPDATE statements.
  static std::vector<Param> UserParams(const User& u) {
    std::vector<Param> p{pg::Text(u.project_id),
                         pg::Text(u.user_id),
                         u.external_id ? pg::Text(*u.external_id) : std::nullopt,
                         pg::Text(u.status),
                         pg::Text(u.first_name),
                         pg::Text(u.middle_name),
                         pg::Text(u.last_name),
                         pg::Text(boost::json::serialize(u.trusted_metadata)),
                         pg::Text(boost::json::serialize(u.untrusted_metadata)),
                         pg::Text(RolesToJson(u.roles))};
    if (u.password) {
      p.push_back(pg::Text(u.password->password_id));
      p.push_back(pg::Text(u.password->hash));
      p.push_back(pg::Bool(u.password->requires_reset));
      p.push_back(pg::Time(u.password->created_at));
    } else {
      p.push_back(std::nullopt);
      p.push_back(std::nullopt);
      p.push_back(pg::Bool(false));
      p.push_back(std::nullopt);
    }
    p.push_back(pg::Int(u.failed_password_attempts));
    p.push_back(pg::OptTime(u.first_failed_at));
    p.push_back(pg::OptTime(u.locked_until));
    return p;
  }

  // An external id must not equal another user's id either (lookups accept both).
  static Status CheckExternalId(Connection& c, const User& u) {
    if (!u.external_id) return Status::Ok();
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("external_id_clash",
                       "SELECT 1 FROM users WHERE project_id = $1 AND "
                       "user_id = $2 AND user_id <> $3",
                       {pg::Text(u.project_id), pg::Text(*u.external_id), pg::Text(u.user_id)}));
    if (r.size() > 0) {
      return Error(ErrorCode::kDuplicateExternalId, "A user with this external_id already exists.");
    }
    return Status::Ok();
  }

  static Status WriteUserChildren(Connection& c, const User& u) {
    for (std::size_t i = 0; i < u.emails.size(); ++i) {
      const auto& e = u.emails[i];
      TESSERA_RETURN_IF_ERROR(
          c.Exec("insert_email",
                 "INSERT INTO user_emails(project_id, email_id, user_id, email, "
                 "email_normalized, verified, position) VALUES ($1, $2, $3, $4, "
                 "$5, $6, $7)",
                 {pg::Text(u.project_id), pg::Text(e.email_id), pg::Text(u.user_id),
                  pg::Text(e.email), pg::Text(NormalizeEmail(e.email)), pg::Bool(e.verified),
                  pg::Int(static_cast<std::int64_t>(i))}));
    }
    for (std::size_t i = 0; i < u.phone_numbers.size(); ++i) {
      const auto& p = u.phone_numbers[i];
      TESSERA_RETURN_IF_ERROR(c.Exec(
          "insert_phone",
          "INSERT INTO user_phones(project_id, phone_id, user_id, "
          "phone_number, verified, position) VALUES ($1, $2, $3, $4, $5, "
          "$6)",
          {pg::Text(u.project_id), pg::Text(p.phone_id), pg::Text(u.user_id),
           pg::Text(p.phone_number), pg::Bool(p.verified), pg::Int(static_cast<std::int64_t>(i))}));
    }
    return Status::Ok();
  }

  static Result<std::optional<User>> LoadUser(Connection& c, std::string_view project_id,
                                              std::string_view user_id) {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("load_user",
                       "SELECT user_id, external_id, status, first_name, middle_name, last_name, "
                       "trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
                       "password_requires_reset, password_created_at, failed_attempts, "
                       "first_failed_at, locked_until, created_at, updated_at, version FROM users "
                       "WHERE project_id = $1 AND (user_id = $2 OR external_id = $2) "
                       "ORDER BY (user_id = $2) DESC LIMIT 1",
                       {pg::Text(project_id), pg::Text(user_id)}));
    if (r.size() == 0) return std::optional<User>();
    User u;
    u.project_id = std::string(project_id);
    u.user_id = r.Text(0, 0);
    u.external_id = r.OptText(0, 1);
    u.status = r.Text(0, 2);
    u.first_name = r.Text(0, 3);
    u.middle_name = r.Text(0, 4);
    u.last_name = r.Text(0, 5);
    TESSERA_ASSIGN_OR_RETURN(u.trusted_metadata, StoredObject(r.Text(0, 6)));
    TESSERA_ASSIGN_OR_RETURN(u.untrusted_metadata, StoredObject(r.Text(0, 7)));
    TESSERA_ASSIGN_OR_RETURN(u.roles, RolesFromJson(r.Text(0, 8)));
    if (!r.IsNull(0, 10)) {
      u.password = UserPassword{std::string(r.Text(0, 9)), std::string(r.Text(0, 10)),
                                r.Bool(0, 11), r.Time(0, 12)};
    }
    u.failed_password_attempts = static_cast<int>(r.Int(0, 13));
    u.first_failed_at = r.OptTime(0, 14);
    u.locked_until = r.OptTime(0, 15);
    u.created_at = r.Time(0, 16);
    u.updated_at = r.Time(0, 17);
    u.version = r.Int(0, 18);
    TESSERA_ASSIGN_OR_RETURN(Rows emails, c.Exec("load_emails",
                                                 "SELECT email_id, email, verified FROM "
                                                 "user_emails WHERE project_id = $1 AND user_id = "
                                                 "$2 ORDER BY position",
                                                 {pg::Text(project_id), pg::Text(u.user_id)}));
    for (int i = 0; i < emails.size(); ++i) {
      u.emails.push_back(
          {std::string(emails.Text(i, 0)), std::string(emails.Text(i, 1)), emails.Bool(i, 2)});
    }
    TESSERA_ASSIGN_OR_RETURN(Rows phones, c.Exec("load_phones",
                                                 "SELECT phone_id, phone_number, verified FROM "
                                                 "user_phones WHERE project_id = $1 AND user_id = "
                                                 "$2 ORDER BY position",
                                                 {pg::Text(project_id), pg::Text(u.user_id)}));
    for (int i = 0; i < phones.size(); ++i) {
      u.phone_numbers.push_back(
          {std::string(phones.Text(i, 0)), std::string(phones.Text(i, 1)), phones.Bool(i, 2)});
    }
    return std::optional<User>(std::move(u));
  }

  static Result<std::optional<SessionRecord>> OneSession(const Rows& r) {
    if (r.size() == 0) return std::optional<SessionRecord>();
    TESSERA_ASSIGN_OR_RETURN(SessionRecord s, SessionFromRow(r, 0));
    return std::optional<SessionRecord>(std::move(s));
  }

  Status Migrate(Connection& c) {
    // Session-level advisory lock: the first node to start migrates, the others wait and then
    // find nothing left to do.
    const std::string lock = "SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")";
    const std::string unlock = "SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")";
    TESSERA_RETURN_IF_ERROR(c.Simple(lock.c_str()));
    Status s = [&]() -> Status {
      TESSERA_RETURN_IF_ERROR(
          c.Simple("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
      TESSERA_ASSIGN_OR_RETURN(
          Rows r, c.ExecDynamic("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
      const int version = static_cast<int>(r.Int(0, 0));
      const int latest = static_cast<int>(std::size(kMigrations));
      if (version > latest) {
        return Error(ErrorCode::kStoreCorrupt, "database schema version " +
                                                   std::to_string(version) +
                                                   " is newer than this Tessera understands (" +
                                                   std::to_string(latest) + ")");
      }
      for (int v = version; v < latest; ++v) {
        TESSERA_RETURN_IF_ERROR(c.Simple("BEGIN"));
        Status step = c.Simple(kMigrations[v]);
        if (step.ok()) {
          step =
              c.ExecDynamic("INSERT INTO schema_migrations(version) VALUES ($1)", {pg::Int(v + 1)})
                  .status();
        }
        if (!step.ok()) {
          c.Simple("ROLLBACK").IgnoreError();
          return step;
        }
        TESSERA_RETURN_IF_ERROR(c.Simple("COMMIT"));
      }
      return Status::Ok();
    }();
    c.Simple(unlock.c_str()).IgnoreError();
    return s;
  }

  // The LISTEN loop: one dedicated connection, reconnected with backoff when it drops.
  void Listen() {
    std::chrono::milliseconds backoff(100);
    while (!stop_.load()) {
      auto conn = Connection::Connect(options_.url, options_.statement_timeout_ms);
      if (!conn.ok() || !(*conn)->Simple("LISTEN tessera_changes").ok()) {
        for (int waited = 0; waited < backoff.count() && !stop_.load(); waited += 50) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
      backoff = std::chrono::milliseconds(100);
      PGconn* raw = (*conn)->raw();
      while (!stop_.load() && (*conn)->healthy()) {
        pollfd pfd{PQsocket(raw), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, 200);
        if (ready < 0) break;
        if (ready == 0) continue;
        if (PQconsumeInput(raw) == 0) break;
        while (PGnotify* n = PQnotifies(raw)) {
          Deliver(n->extra != nullptr ? n->extra : "");
          PQfreemem(n);
        }
      }
    }
  }

  void StopListener() {
    stop_.store(true);
    if (listener_.joinable()) listener_.join();
  }

  void Deliver(std::string_view payload) {
    if (!on_change_ || payload.size() < 2 || payload[1] != '|') return;
    StoreChange change;
    switch (payload[0]) {
      case 'c':
        change.kind = StoreChange::Kind::kConfig;
        break;
      case 'u':
        change.kind = StoreChange::Kind::kUser;
        break;
      case 's':
        change.kind = StoreChange::Kind::kSession;
        break;
      default:
        return;
    }
    payload.remove_prefix(2);
    const std::size_t bar = payload.find('|');
    change.project_id = std::string(payload.substr(0, bar));
    if (bar != std::string_view::npos) change.id = std::string(payload.substr(bar + 1));
    on_change_(change);
  }

  PostgresOptions options_;
  pg::Pool pool_;
  std::function<void(const StoreChange&)> on_change_;
  std::atomic<bool> stop_{false};
  std::thread listener_;
};

}  // namespace

Result<std::unique_ptr<SessionStore>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.pool_size < 1 || options.pool_size > 256) {
    return Error(ErrorCode::kInvalidArgument, "the PostgreSQL pool size must be 1..256");
  }
  auto store = std::make_unique<PostgresStore>(options);
  TESSERA_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace tessera
