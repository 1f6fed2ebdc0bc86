-- A PostgreSQL schema as Tessera left it at schema version 1, to test that later migrations
-- upgrade it: migration 1 verbatim as it shipped, then data. Never edit the schema part.
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
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
INSERT INTO schema_migrations(version) VALUES (1);

-- Two projects as that version stored them, each with the digest of a known secret:
-- SHA-256("secret-test-written-before-the-upgrade") and SHA-256("secret-live-written-before-the-upgrade").
INSERT INTO projects(project_id, name, live, secret_digest, settings, created_at) VALUES
  ('project-test-00000000-0000-4000-8000-000000000001', 'before', false, '\xa4dd37b6b75978abfcfbd2577d7e76ffa0b2c23f0424de47ef2c214a5bf0d0e8',
   '{"jwt_algorithm":"EdDSA"}', 1700000000),
  ('project-live-00000000-0000-4000-8000-000000000002', 'before live', true, '\x68b0202b88e78c34c86de031066d83ec45fa3e4931c7b7220cfba850f7dd6dfd',
   '{}', 1700000001);
UPDATE meta SET value = '7' WHERE key = 'config_version';
