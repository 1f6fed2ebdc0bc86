// Opening the PostgreSQL store and bringing its schema up to date. The schema is versioned as a
// whole: schema_migrations records which of the migrations below ran, whichever record family
// each one serves.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <iterator>
#include <memory>
#include <string>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

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
    // 2: failed sign-ins of emails that name no user (enumeration protection), by the email's
    // digest; a row is useless after expires_at (window passed, no lock in force).
    R"sql(
CREATE TABLE unknown_email_failures (
  project_id TEXT NOT NULL,
  email_key BYTEA NOT NULL,
  attempts INTEGER NOT NULL,
  first_failed_at BIGINT,
  locked_until BIGINT,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, email_key)
);
CREATE INDEX unknown_email_failures_by_expiry ON unknown_email_failures(expires_at);
)sql",
    // 3: the per-project revocation log with its counter (tessera/store/revocation_store.h). The
    // counter row, updated in the revoking transaction, orders entries by commit; it replaces the
    // store-wide BIGSERIAL stream, whose values were taken before commit and so could commit out
    // of order.
    R"sql(
DROP TABLE revocations;
CREATE TABLE revocation_counters (
  project_id TEXT PRIMARY KEY,
  sequence BIGINT NOT NULL
);
CREATE TABLE revocation_log (
  project_id TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  kind TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  revoked_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, sequence)
);
CREATE INDEX revocation_log_by_time ON revocation_log(revoked_at);
)sql",
    // 4: key-ring versions, so that a change of a project's keys applies only to the ring it
    // read (a compare-and-swap in SaveKeys). SQLite migration 3.
    R"sql(
ALTER TABLE projects ADD COLUMN key_ring_version BIGINT NOT NULL DEFAULT 0;
)sql",
    // 5: up to two secrets per project, so a secret can be replaced without downtime. Each
    // project's one secret moves over with a fresh id "secret-id-<test|live>-<uuid v4>" (random
    // hex shaped into a uuid; ids need to be unique, not secret) and the project's creation
    // time. SQLite migration 4.
    R"sql(
CREATE TABLE project_secrets (
  project_id TEXT NOT NULL REFERENCES projects(project_id),
  secret_id TEXT NOT NULL,
  digest BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, secret_id)
);
INSERT INTO project_secrets(project_id, secret_id, digest, created_at)
  SELECT project_id,
         'secret-id-' || CASE WHEN live THEN 'live' ELSE 'test' END || '-' ||
           substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||
           substr('89ab', get_byte(decode(substr(h, 17, 2), 'hex'), 0) % 4 + 1, 1) ||
           substr(h, 18, 3) || '-' || substr(h, 21, 12),
         secret_digest, created_at
  FROM (SELECT project_id, live, secret_digest, created_at,
               md5(random()::text || clock_timestamp()::text || project_id) AS h
        FROM projects) AS p;
ALTER TABLE projects DROP COLUMN secret_digest;
)sql",
    // 6: the change log nodes follow, its counter, and the nodes' leases (postgres_changes.cc):
    // a node serves from its caches only while its lease says it has applied every change.
    R"sql(
CREATE TABLE change_counter (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL
);
INSERT INTO change_counter(id, seq) VALUES (1, 0);
CREATE TABLE change_log (
  seq BIGINT PRIMARY KEY,
  payload TEXT NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE node_leases (
  node_id TEXT PRIMARY KEY,
  lease_until TIMESTAMPTZ NOT NULL,
  applied BIGINT NOT NULL
);
)sql",
    // 7: Shared Signals (SSF) event streams, at most one per project, and the entries of the
    // project's revocation log their receivers acknowledged out of order
    // (tessera/store/ssf_stream_store.h). SQLite migration 7.
    R"sql(
CREATE TABLE ssf_streams (
  project_id TEXT PRIMARY KEY REFERENCES projects(project_id),
  stream_id TEXT NOT NULL UNIQUE,
  description TEXT,
  events_requested TEXT,
  created_at BIGINT NOT NULL,
  acked_through BIGINT NOT NULL
);
CREATE TABLE ssf_acks (
  stream_id TEXT NOT NULL REFERENCES ssf_streams(stream_id) ON DELETE CASCADE,
  sequence BIGINT NOT NULL,
  PRIMARY KEY (stream_id, sequence)
);
)sql",
    // 8: email sign-in (docs/email.md): one-time tokens by keyed digest, the outbox of messages
    // that carry them, the projects' redirect URLs and rate-limit windows. Self-contained: it
    // needs nothing a later migration adds. SQLite migration 8.
    R"sql(
CREATE TABLE one_time_tokens (
  project_id TEXT NOT NULL,
  token_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  digest BYTEA NOT NULL,
  user_id TEXT NOT NULL,
  method_id TEXT NOT NULL,
  email TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  ip_address TEXT NOT NULL,
  user_agent TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  consumed_at BIGINT,
  PRIMARY KEY (project_id, token_id)
);
CREATE INDEX one_time_tokens_by_digest ON one_time_tokens(project_id, digest);
CREATE INDEX one_time_tokens_by_method ON one_time_tokens(project_id, method_id, kind);
CREATE INDEX one_time_tokens_by_expiry ON one_time_tokens(expires_at);
CREATE TABLE email_outbox (
  message_id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL,
  sealed BYTEA NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  next_attempt_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  claim_id TEXT,
  claimed_until BIGINT,
  last_error TEXT NOT NULL
);
CREATE INDEX email_outbox_due ON email_outbox(state, next_attempt_at);
CREATE TABLE redirect_urls (
  project_id TEXT NOT NULL,
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  is_default BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (project_id, type, url)
);
CREATE TABLE rate_limits (
  key BYTEA NOT NULL,
  window_start BIGINT NOT NULL,
  hits BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_by_expiry ON rate_limits(expires_at);
)sql",
};

}  // namespace

Status PostgresStore::Open() {
  TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  return Migrate(*lease);
}

Status PostgresStore::Migrate(Connection& c) {
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
      return Error(ErrorCode::kStoreCorrupt, "database schema version " + std::to_string(version) +
                                                 " is newer than this Tessera understands (" +
                                                 std::to_string(latest) + ")");
    }
    for (int v = version; v < latest; ++v) {
      TESSERA_RETURN_IF_ERROR(c.Simple("BEGIN"));
      Status step = c.Simple(kMigrations[v]);
      if (step.ok()) {
        step = c.ExecDynamic("INSERT INTO schema_migrations(version) VALUES ($1)", {pg::Int(v + 1)})
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

Status PostgresStore::Ping() {
  TESSERA_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  return lease->Simple("SELECT 1");
}

Result<std::unique_ptr<SessionStore>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.pool_size < 1 || options.pool_size > 256) {
    return Error(ErrorCode::kInvalidArgument, "the PostgreSQL pool size must be 1..256");
  }
  auto store = std::make_unique<PostgresStore>(options);
  TESSERA_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<SessionStore>(std::move(store));
}

}  // namespace tessera
