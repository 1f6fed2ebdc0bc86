// Opening the SQLite database and bringing its schema up to date. The schema is versioned as a
// whole: PRAGMA user_version counts the migrations below that have run, whichever record family
// each one serves.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <iterator>
#include <string>

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
    // 3: failed sign-ins of emails that name no user (enumeration protection), by the email's
    // digest; a row is useless after expires_at (window passed, no lock in force).
    R"sql(
CREATE TABLE unknown_email_failures (
  project_id TEXT NOT NULL,
  email_key BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  first_failed_at INTEGER,
  locked_until INTEGER,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, email_key)
);
CREATE INDEX unknown_email_failures_by_expiry ON unknown_email_failures(expires_at);
)sql",
    // 4: the per-project revocation log with its counter (tessera/store/revocation_store.h); it
    // replaces the store-wide revocation stream, whose history no reader needs.
    R"sql(
DROP TABLE revocations;
CREATE TABLE revocation_counters (
  project_id TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL
);
CREATE TABLE revocation_log (
  project_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  kind TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, sequence)
);
CREATE INDEX revocation_log_by_time ON revocation_log(revoked_at);
)sql",
    // 5: key-ring versions, so that a change of a project's keys applies only to the ring it
    // read (a compare-and-swap in SaveKeys).
    R"sql(
ALTER TABLE projects ADD COLUMN key_ring_version INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: up to two secrets per project, so a secret can be replaced without downtime. Each
    // project's one secret moves over with a fresh id "secret-id-<test|live>-<uuid v4>" (random
    // hex first, then shaped into a uuid) and the project's creation time.
    R"sql(
CREATE TABLE project_secrets (
  project_id TEXT NOT NULL REFERENCES projects(project_id),
  secret_id TEXT NOT NULL,
  digest BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, secret_id)
);
INSERT INTO project_secrets(project_id, secret_id, digest, created_at)
  SELECT project_id, lower(hex(randomblob(16))), secret_digest, created_at FROM projects;
UPDATE project_secrets SET secret_id =
  'secret-id-' ||
  (SELECT CASE WHEN p.live <> 0 THEN 'live' ELSE 'test' END FROM projects p
   WHERE p.project_id = project_secrets.project_id) || '-' ||
  substr(secret_id, 1, 8) || '-' || substr(secret_id, 9, 4) || '-4' || substr(secret_id, 14, 3) ||
  '-' || substr('89ab', unicode(substr(secret_id, 17, 1)) % 4 + 1, 1) ||
  substr(secret_id, 18, 3) || '-' || substr(secret_id, 21, 12);
ALTER TABLE projects DROP COLUMN secret_digest;
)sql",
    // 7: Shared Signals (SSF) event streams, at most one per project, and the entries of the
    // project's revocation log their receivers acknowledged out of order
    // (tessera/store/ssf_stream_store.h).
    R"sql(
CREATE TABLE ssf_streams (
  project_id TEXT PRIMARY KEY REFERENCES projects(project_id),
  stream_id TEXT NOT NULL UNIQUE,
  description TEXT,
  events_requested TEXT,
  created_at INTEGER NOT NULL,
  acked_through INTEGER NOT NULL
);
CREATE TABLE ssf_acks (
  stream_id TEXT NOT NULL REFERENCES ssf_streams(stream_id) ON DELETE CASCADE,
  sequence INTEGER NOT NULL,
  PRIMARY KEY (stream_id, sequence)
);
)sql",
    // 8: email sign-in (docs/email.md): one-time tokens by keyed digest, the outbox of messages
    // that carry them, the projects' redirect URLs and rate-limit windows. Self-contained: it
    // needs nothing a later migration adds. PostgreSQL migration 8.
    R"sql(
CREATE TABLE one_time_tokens (
  project_id TEXT NOT NULL,
  token_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BLOB NOT NULL,
  user_id TEXT NOT NULL,
  method_id TEXT NOT NULL,
  email TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  ip_address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  consumed_at INTEGER,
  PRIMARY KEY (project_id, token_id)
);
CREATE INDEX one_time_tokens_by_digest ON one_time_tokens(project_id, digest);
CREATE INDEX one_time_tokens_by_method ON one_time_tokens(project_id, method_id, kind);
CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens(expires_at);
CREATE TABLE email_outbox (
  message_id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  sealed BLOB NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  claim_id TEXT,
  claimed_until INTEGER,
  last_error TEXT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox(state, next_attempt_at);
CREATE TABLE redirect_urls (
  project_id TEXT NOT NULL,
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  is_default INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, type, url)
);
CREATE TABLE rate_limits (
  key BLOB NOT NULL,
  window_start INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_by_expiry ON rate_limits(expires_at);
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

}  // namespace

Status SqliteStore::Open() {
  // Created by us rather than by SQLite, whose default mode would let every local user read
  // password hashes and personal data.
  TESSERA_RETURN_IF_ERROR(sqlite::CreatePrivateDatabaseFile(options_.path));
  if (options_.exclusive) {
    // Before the first connection: a refused server must not migrate or write anything.
    TESSERA_ASSIGN_OR_RETURN(sqlite::ServeLock lock, sqlite::ServeLock::Acquire(options_.path));
    serve_lock_.emplace(std::move(lock));
  }
  TESSERA_ASSIGN_OR_RETURN(writer_, Connection::Open(options_.path, options_.busy_timeout_ms,
                                                     /*read_only=*/false));
  // WAL: readers never block the writer or each other. FULL: the WAL is fsynced at every
  // commit, so an acknowledged write survives a power cut, not only a process crash.
  TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA journal_mode=WAL"));
  TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA synchronous=FULL"));
  TESSERA_RETURN_IF_ERROR(writer_->Exec("PRAGMA foreign_keys=ON"));
  if (options_.writer_cache_kib > 0) {
    const std::string pragma = "PRAGMA cache_size=-" + std::to_string(options_.writer_cache_kib);
    TESSERA_RETURN_IF_ERROR(writer_->Exec(pragma.c_str()));
  }
  TESSERA_RETURN_IF_ERROR(Migrate());
  // Now that -wal and -shm exist. Those left by an older Tessera, or by a crash, may be looser
  // than the database: SQLite gives them the database's mode only when it creates them (or finds
  // them empty).
  if (const auto loose = sqlite::DatabaseFilesOpenToOthers(options_.path);
      !loose.empty() && options_.on_warning) {
    std::string files;
    for (const std::string& f : loose) files += (files.empty() ? "" : ", ") + f;
    options_.on_warning(
        "group or others may access " + files +
        ", which hold password hashes and personal data. Check who could have read them, then "
        "run `chmod 600` on each (Tessera creates new databases 0600 but leaves the mode of "
        "existing files to you)");
  }
  for (int i = 0; i < std::max(1, options_.read_connections); ++i) {
    TESSERA_ASSIGN_OR_RETURN(auto reader,
                             Connection::Open(options_.path, options_.busy_timeout_ms, true));
    TESSERA_RETURN_IF_ERROR(reader->Exec("PRAGMA foreign_keys=ON"));
    readers_.push_back(std::move(reader));
  }
  return Status::Ok();
}

Status SqliteStore::Migrate() {
  // The reads are scoped so their statements are reset before any migration runs: a statement
  // still open on the schema makes DROP TABLE fail with "database table is locked".
  int version = 0;
  {
    TESSERA_ASSIGN_OR_RETURN(Statement st, writer_->Prepare("PRAGMA user_version"));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    version = row ? static_cast<int>(st.Int(0)) : 0;
  }
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

Status SqliteStore::Ping() {
  return Read([](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1"));
    return st.Step().status();
  });
}

Result<std::unique_ptr<SessionStore>> OpenSqliteStore(const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  TESSERA_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace tessera
