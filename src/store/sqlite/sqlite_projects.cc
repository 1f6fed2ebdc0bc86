// The project family on SQLite: projects, their secrets, their signing keys and the configuration
// version, plus the store-wide metadata table (which holds that version).
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>
#include <unordered_map>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

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

// The columns ProjectFromRow reads; the public token comes from its own table.
constexpr std::string_view kProjectSelect =
    "SELECT p.project_id, p.name, p.live, p.settings, p.created_at, t.public_token "
    "FROM projects p LEFT JOIN project_public_tokens t ON t.project_id = p.project_id ";

// Without its secrets (SelectSecrets).
Result<Project> ProjectFromRow(const Statement& st) {
  Project p;
  p.project_id = st.Text(0);
  p.name = st.Text(1);
  p.live = st.Int(2) != 0;
  TESSERA_ASSIGN_OR_RETURN(p.settings, SettingsFromJson(st.Text(3)));
  p.created_at = st.Time(4);
  p.public_token = st.Text(5);
  return p;
}

ProjectSecret SecretFromRow(const Statement& st) {
  ProjectSecret secret;
  secret.secret_id = st.Text(0);
  secret.digest = st.Blob(1);
  secret.created_at = st.Time(2);
  return secret;
}

// The project's secrets by creation time, then id.
Result<std::vector<ProjectSecret>> SelectSecrets(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Statement st,
                           c.Prepare("SELECT secret_id, digest, created_at FROM project_secrets "
                                     "WHERE project_id = ? ORDER BY created_at, secret_id"));
  st.Bind(1, project_id);
  std::vector<ProjectSecret> out;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(SecretFromRow(st));
  }
  return out;
}

Status InsertSecret(Connection& c, std::string_view project_id, const ProjectSecret& secret) {
  TESSERA_ASSIGN_OR_RETURN(Statement st,
                           c.Prepare("INSERT INTO project_secrets(project_id, secret_id, digest, "
                                     "created_at) VALUES (?, ?, ?, ?)"));
  st.Bind(1, project_id)
      .Bind(2, secret.secret_id)
      .BindBlob(3, secret.digest)
      .Bind(4, secret.created_at);
  return st.Run();
}

Status UpsertKeys(Connection& c, const std::vector<KeyRecord>& keys) {
  for (const auto& r : keys) {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("INSERT INTO signing_keys(kid, project_id, alg, state, created_at, "
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

Result<std::vector<KeyRecord>> SelectKeys(Connection& c, std::string_view project_id) {
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
}

Result<bool> ProjectExists(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1 FROM projects WHERE project_id = ?"));
  st.Bind(1, project_id);
  return st.Step();
}

// Refuses, inside the caller's write transaction, a record that would move a stored key of the
// project against the state machine: whatever a caller read, no key returns to signing.
Status CheckTransitions(Connection& c, std::string_view project_id,
                        const std::vector<KeyRecord>& records) {
  TESSERA_ASSIGN_OR_RETURN(Statement st,
                           c.Prepare("SELECT kid, state FROM signing_keys WHERE project_id = ?"));
  st.Bind(1, project_id);
  std::unordered_map<std::string, KeyState> stored;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const auto state = KeyStateFromName(st.Text(1));
    if (!state) return Error(ErrorCode::kStoreCorrupt, "stored signing key is not valid");
    stored.emplace(std::string(st.Text(0)), *state);
  }
  for (const auto& r : records) {
    const auto it = stored.find(r.kid);
    if (it != stored.end() && !KeyStateMayBecome(it->second, r.state)) {
      return Error(ErrorCode::kKeyStateInvalid,
                   "key " + r.kid + " is " + std::string(KeyStateName(it->second)) +
                       " and cannot become " + std::string(KeyStateName(r.state)));
    }
  }
  return Status::Ok();
}

Status CheckOneActive(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT COUNT(*) FROM signing_keys WHERE project_id = ? AND state = 'active'"));
  st.Bind(1, project_id);
  TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row && st.Int(0) > 1) {
    return Error(ErrorCode::kKeyStateInvalid, "the key ring would have two active keys");
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::BumpConfig(Connection& c) { return BumpConfigVersion(c); }

// --- Store metadata ----------------------------------------------------------------------------

Result<std::optional<std::string>> SqliteStore::GetMeta(std::string_view key) {
  return Read([&](Connection& c) -> Result<std::optional<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT value FROM meta WHERE key = ?"));
    st.Bind(1, key);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(std::string(st.Text(0)));
  });
}

Result<std::string> SqliteStore::PutMetaIfAbsent(std::string_view key, std::string_view value) {
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

// --- Projects and keys -------------------------------------------------------------------------

Status SqliteStore::CreateProject(const Project& p, const std::vector<KeyRecord>& keys) {
  if (p.secrets.empty() || p.secrets.size() > kMaxProjectSecrets) {
    return Error(ErrorCode::kInvalidArgument, "a project has one or two secrets");
  }
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectExists(c, p.project_id));
    if (exists) return Error(ErrorCode::kInvalidArgument, "project id already exists");
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("INSERT INTO projects(project_id, name, live, settings, "
                                       "created_at) VALUES (?, ?, ?, ?, ?)"));
    st.Bind(1, p.project_id)
        .Bind(2, p.name)
        .Bind(3, std::int64_t{p.live})
        .Bind(4, SettingsToJson(p.settings))
        .Bind(5, p.created_at);
    TESSERA_RETURN_IF_ERROR(st.Run());
    for (const auto& secret : p.secrets) {
      TESSERA_RETURN_IF_ERROR(InsertSecret(c, p.project_id, secret));
    }
    if (!p.public_token.empty()) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement token,
          c.Prepare("INSERT INTO project_public_tokens(project_id, public_token) VALUES (?, ?)"));
      token.Bind(1, p.project_id).Bind(2, p.public_token);
      TESSERA_RETURN_IF_ERROR(token.Run());
    }
    TESSERA_RETURN_IF_ERROR(UpsertKeys(c, keys));
    return BumpConfigVersion(c);
  });
}

Result<std::optional<Project>> SqliteStore::GetProject(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<Project>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare((std::string(kProjectSelect) + "WHERE p.project_id = ?").c_str()));
    st.Bind(1, project_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<Project>();
    TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(st));
    TESSERA_ASSIGN_OR_RETURN(p.secrets, SelectSecrets(c, project_id));
    return std::optional<Project>(std::move(p));
  });
}

Result<std::vector<Project>> SqliteStore::ListProjects() {
  return Read([&](Connection& c) -> Result<std::vector<Project>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare((std::string(kProjectSelect) + "ORDER BY p.created_at, p.project_id").c_str()));
    std::vector<Project> out;
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(st));
      out.push_back(std::move(p));
    }
    for (auto& p : out) {
      TESSERA_ASSIGN_OR_RETURN(p.secrets, SelectSecrets(c, p.project_id));
    }
    return out;
  });
}

Status SqliteStore::UpdateProjectSettings(std::string_view project_id,
                                          const ProjectSettings& settings) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("UPDATE projects SET settings = ? WHERE project_id = ?"));
    st.Bind(1, SettingsToJson(settings)).Bind(2, project_id);
    TESSERA_RETURN_IF_ERROR(st.Run());
    if (st.changes() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
    return BumpConfigVersion(c);
  });
}

Status SqliteStore::AddSecret(std::string_view project_id, const ProjectSecret& secret) {
  // The count and the insert share the write transaction, and SQLite runs one at a time: two
  // concurrent calls cannot both see room for one more.
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectExists(c, project_id));
    if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(std::vector<ProjectSecret> secrets, SelectSecrets(c, project_id));
    if (secrets.size() >= kMaxProjectSecrets) {
      return Error(ErrorCode::kTooManySecrets,
                   "the project already has two secrets; delete one first");
    }
    for (const auto& s : secrets) {
      if (s.secret_id == secret.secret_id) {
        return Error(ErrorCode::kInvalidArgument, "the project already has secret " + s.secret_id);
      }
    }
    TESSERA_RETURN_IF_ERROR(InsertSecret(c, project_id, secret));
    return BumpConfigVersion(c);
  });
}

Status SqliteStore::DeleteSecret(std::string_view project_id, std::string_view secret_id) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectExists(c, project_id));
    if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(std::vector<ProjectSecret> secrets, SelectSecrets(c, project_id));
    bool found = false;
    for (const auto& s : secrets) found = found || s.secret_id == secret_id;
    if (!found) {
      return Error(ErrorCode::kSecretNotFound,
                   "the project has no secret " + std::string(secret_id));
    }
    if (secrets.size() == 1) {
      return Error(ErrorCode::kLastSecret,
                   "the project's last secret cannot be deleted; create another one first");
    }
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("DELETE FROM project_secrets WHERE project_id = ? AND secret_id = ?"));
    st.Bind(1, project_id).Bind(2, secret_id);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return BumpConfigVersion(c);
  });
}

Result<std::vector<KeyRecord>> SqliteStore::ListKeys(std::string_view project_id) {
  return Read([&](Connection& c) { return SelectKeys(c, project_id); });
}

Result<KeyRingSnapshot> SqliteStore::ReadKeyRing(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<KeyRingSnapshot> {
    // The version before the keys (each statement reads its own snapshot): a save committed
    // between the two moves the version past the one returned, so a SaveKeys derived from these
    // records fails instead of overwriting it.
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT key_ring_version FROM projects WHERE project_id = ?"));
    st.Bind(1, project_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kProjectNotFound, "no such project");
    KeyRingSnapshot snapshot;
    snapshot.version = st.Int(0);
    TESSERA_ASSIGN_OR_RETURN(snapshot.records, SelectKeys(c, project_id));
    return snapshot;
  });
}

Status SqliteStore::SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records,
                             std::int64_t read_version) {
  for (const auto& r : records) {
    if (r.project_id != project_id) {
      return Error(ErrorCode::kInvalidArgument, "key belongs to another project");
    }
  }
  return Write([&](Connection& c) -> Status {
    {
      // The compare-and-swap: the writer lock (BEGIN IMMEDIATE) is held, so nothing moves the
      // version between this check and the commit.
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("UPDATE projects SET key_ring_version = key_ring_version + 1 "
                                  "WHERE project_id = ? AND key_ring_version = ?"));
      st.Bind(1, project_id).Bind(2, read_version);
      TESSERA_RETURN_IF_ERROR(st.Run());
      if (st.changes() == 0) {
        TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectExists(c, project_id));
        if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
        return Error(ErrorCode::kStoreConflict,
                     "the key ring changed since it was read; read it again");
      }
    }
    TESSERA_RETURN_IF_ERROR(CheckTransitions(c, project_id, records));
    TESSERA_RETURN_IF_ERROR(UpsertKeys(c, records));
    TESSERA_RETURN_IF_ERROR(CheckOneActive(c, project_id));
    return BumpConfigVersion(c);
  });
}

Result<std::int64_t> SqliteStore::ConfigVersion() {
  return Read([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'config_version'"));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kStoreCorrupt, "config version missing");
    return st.Int(0);
  });
}

}  // namespace tessera
