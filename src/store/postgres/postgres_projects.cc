// The project family on PostgreSQL: projects, their secrets, their signing keys and the
// configuration version, plus the store-wide metadata table (which holds that version).
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>
#include <unordered_map>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

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

// Without its secrets (SelectSecrets).
Result<Project> ProjectFromRow(const Rows& r, int i) {
  Project p;
  p.project_id = r.Text(i, 0);
  p.name = r.Text(i, 1);
  p.live = r.Bool(i, 2);
  TESSERA_ASSIGN_OR_RETURN(p.settings, SettingsFromJson(r.Text(i, 3)));
  p.created_at = r.Time(i, 4);
  p.public_token = r.Text(i, 5);  // "" when NULL (no token row).
  return p;
}

// The project's secrets by creation time, then id.
Result<std::vector<ProjectSecret>> SelectSecrets(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Rows r,
                           c.Exec("list_secrets",
                                  "SELECT secret_id, digest, created_at FROM project_secrets WHERE "
                                  "project_id = $1 ORDER BY created_at, secret_id",
                                  {pg::Text(project_id)}));
  std::vector<ProjectSecret> out;
  for (int i = 0; i < r.size(); ++i) {
    ProjectSecret secret;
    secret.secret_id = r.Text(i, 0);
    secret.digest = r.Bytea(i, 1);
    secret.created_at = r.Time(i, 2);
    out.push_back(std::move(secret));
  }
  return out;
}

Status InsertSecret(Connection& c, std::string_view project_id, const ProjectSecret& secret) {
  return c
      .Exec("insert_secret",
            "INSERT INTO project_secrets(project_id, secret_id, digest, created_at) VALUES ($1, "
            "$2, $3, $4)",
            {pg::Text(project_id), pg::Text(secret.secret_id), pg::Bytea(secret.digest),
             pg::Time(secret.created_at)})
      .status();
}

// Whether the project exists, locking its row until the caller's transaction ends: the changes
// of one project's secrets then run one at a time, so each sees what the previous one left.
Result<bool> LockProject(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("lock_project", "SELECT 1 FROM projects WHERE project_id = $1 FOR UPDATE",
                     {pg::Text(project_id)}));
  return r.size() > 0;
}

Status UpsertKeys(Connection& c, const std::vector<KeyRecord>& keys) {
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

Result<std::vector<KeyRecord>> SelectKeys(Connection& c, std::string_view project_id) {
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
}

// Refuses, inside the caller's write transaction, a record that would move a stored key of the
// project against the state machine: whatever a caller read, no key returns to signing.
Status CheckTransitions(Connection& c, std::string_view project_id,
                        const std::vector<KeyRecord>& records) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("key_states", "SELECT kid, state FROM signing_keys WHERE project_id = $1",
                     {pg::Text(project_id)}));
  std::unordered_map<std::string, KeyState> stored;
  for (int i = 0; i < r.size(); ++i) {
    const auto state = KeyStateFromName(r.Text(i, 1));
    if (!state) return Error(ErrorCode::kStoreCorrupt, "stored signing key is not valid");
    stored.emplace(std::string(r.Text(i, 0)), *state);
  }
  for (const auto& k : records) {
    const auto it = stored.find(k.kid);
    if (it != stored.end() && !KeyStateMayBecome(it->second, k.state)) {
      return Error(ErrorCode::kKeyStateInvalid,
                   "key " + k.kid + " is " + std::string(KeyStateName(it->second)) +
                       " and cannot become " + std::string(KeyStateName(k.state)));
    }
  }
  return Status::Ok();
}

Status CheckOneActive(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("count_active",
                     "SELECT COUNT(*) FROM signing_keys WHERE project_id = $1 AND state = 'active'",
                     {pg::Text(project_id)}));
  if (r.size() == 1 && r.Int(0, 0) > 1) {
    return Error(ErrorCode::kKeyStateInvalid, "the key ring would have two active keys");
  }
  return Status::Ok();
}

}  // namespace

// --- Store metadata ----------------------------------------------------------------------------

Result<std::optional<std::string>> PostgresStore::GetMeta(std::string_view key) {
  return Read([&](Connection& c) -> Result<std::optional<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("get_meta", "SELECT value FROM meta WHERE key = $1", {pg::Text(key)}));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(r.Text(0, 0)));
  });
}

Result<std::string> PostgresStore::PutMetaIfAbsent(std::string_view key, std::string_view value) {
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

// --- Projects and keys -------------------------------------------------------------------------

Status PostgresStore::CreateProject(const Project& p, const std::vector<KeyRecord>& keys) {
  if (p.secrets.empty() || p.secrets.size() > kMaxProjectSecrets) {
    return Error(ErrorCode::kInvalidArgument, "a project has one or two secrets");
  }
  return Write([&](Connection& c) -> Status {
    auto inserted =
        c.Exec("create_project",
               "INSERT INTO projects(project_id, name, live, settings, created_at) VALUES ($1, "
               "$2, $3, $4, $5)",
               {pg::Text(p.project_id), pg::Text(p.name), pg::Bool(p.live),
                pg::Text(SettingsToJson(p.settings)), pg::Time(p.created_at)});
    if (!inserted.ok()) {
      if (inserted.status().code() == ErrorCode::kStoreConflict) {
        return Error(ErrorCode::kInvalidArgument, "project id already exists");
      }
      return inserted.status();
    }
    for (const auto& secret : p.secrets) {
      TESSERA_RETURN_IF_ERROR(InsertSecret(c, p.project_id, secret));
    }
    if (!p.public_token.empty()) {
      TESSERA_RETURN_IF_ERROR(
          c.Exec("create_public_token",
                 "INSERT INTO project_public_tokens(project_id, public_token) VALUES ($1, $2)",
                 {pg::Text(p.project_id), pg::Text(p.public_token)}));
    }
    TESSERA_RETURN_IF_ERROR(UpsertKeys(c, keys));
    return BumpConfig(c, p.project_id);
  });
}

Result<std::optional<Project>> PostgresStore::GetProject(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<Project>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("get_project",
                       "SELECT p.project_id, p.name, p.live, p.settings, p.created_at, "
                       "t.public_token FROM projects p LEFT JOIN project_public_tokens t "
                       "ON t.project_id = p.project_id WHERE p.project_id = $1",
                       {pg::Text(project_id)}));
    if (r.size() == 0) return std::optional<Project>();
    TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(r, 0));
    TESSERA_ASSIGN_OR_RETURN(p.secrets, SelectSecrets(c, project_id));
    return std::optional<Project>(std::move(p));
  });
}

Result<std::vector<Project>> PostgresStore::ListProjects() {
  return Read([&](Connection& c) -> Result<std::vector<Project>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("list_projects",
                       "SELECT p.project_id, p.name, p.live, p.settings, p.created_at, "
                       "t.public_token FROM projects p LEFT JOIN project_public_tokens t "
                       "ON t.project_id = p.project_id ORDER BY p.created_at, p.project_id",
                       {}));
    std::vector<Project> out;
    for (int i = 0; i < r.size(); ++i) {
      TESSERA_ASSIGN_OR_RETURN(Project p, ProjectFromRow(r, i));
      TESSERA_ASSIGN_OR_RETURN(p.secrets, SelectSecrets(c, p.project_id));
      out.push_back(std::move(p));
    }
    return out;
  });
}

Status PostgresStore::UpdateProjectSettings(std::string_view project_id,
                                            const ProjectSettings& settings) {
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

Status PostgresStore::AddSecret(std::string_view project_id, const ProjectSecret& secret) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, LockProject(c, project_id));
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
    return BumpConfig(c, project_id);
  });
}

Status PostgresStore::DeleteSecret(std::string_view project_id, std::string_view secret_id) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, LockProject(c, project_id));
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
    TESSERA_RETURN_IF_ERROR(c.Exec("delete_secret",
                                   "DELETE FROM project_secrets WHERE project_id = $1 AND "
                                   "secret_id = $2",
                                   {pg::Text(project_id), pg::Text(secret_id)})
                                .status());
    return BumpConfig(c, project_id);
  });
}

Result<std::vector<KeyRecord>> PostgresStore::ListKeys(std::string_view project_id) {
  return Read([&](Connection& c) { return SelectKeys(c, project_id); });
}

Result<KeyRingSnapshot> PostgresStore::ReadKeyRing(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<KeyRingSnapshot> {
    // The version before the keys (READ COMMITTED: each statement sees what was committed when
    // it began): a save committed between the two moves the version past the one returned, so a
    // SaveKeys derived from these records fails instead of overwriting it.
    TESSERA_ASSIGN_OR_RETURN(
        Rows r,
        c.Exec("key_ring_version", "SELECT key_ring_version FROM projects WHERE project_id = $1",
               {pg::Text(project_id)}));
    if (r.size() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
    KeyRingSnapshot snapshot;
    snapshot.version = r.Int(0, 0);
    TESSERA_ASSIGN_OR_RETURN(snapshot.records, SelectKeys(c, project_id));
    return snapshot;
  });
}

Status PostgresStore::SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records,
                               std::int64_t read_version) {
  for (const auto& r : records) {
    if (r.project_id != project_id) {
      return Error(ErrorCode::kInvalidArgument, "key belongs to another project");
    }
  }
  return Write([&](Connection& c) -> Status {
    // The compare-and-swap. The UPDATE locks the project's row until the commit: a concurrent
    // save of the same ring waits here, then finds the version moved (PostgreSQL re-checks the
    // WHERE clause on the row as committed) and fails, so ring writers are serialized.
    TESSERA_ASSIGN_OR_RETURN(
        Rows moved, c.Exec("cas_key_ring",
                           "UPDATE projects SET key_ring_version = key_ring_version + 1 WHERE "
                           "project_id = $1 AND key_ring_version = $2 RETURNING project_id",
                           {pg::Text(project_id), pg::Int(read_version)}));
    if (moved.size() == 0) {
      TESSERA_ASSIGN_OR_RETURN(
          Rows exists,
          c.Exec("project_exists", "SELECT 1 FROM projects WHERE project_id = $1 FOR UPDATE",
                 {pg::Text(project_id)}));
      if (exists.size() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
      return Error(ErrorCode::kStoreConflict,
                   "the key ring changed since it was read; read it again");
    }
    TESSERA_RETURN_IF_ERROR(CheckTransitions(c, project_id, records));
    TESSERA_RETURN_IF_ERROR(UpsertKeys(c, records));
    TESSERA_RETURN_IF_ERROR(CheckOneActive(c, project_id));
    return BumpConfig(c, project_id);
  });
}

Result<std::int64_t> PostgresStore::ConfigVersion() {
  return Read([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("config_version",
                       "SELECT value::bigint FROM meta WHERE key = 'config_version'", {}));
    if (r.size() == 0) return Error(ErrorCode::kStoreCorrupt, "config version missing");
    return r.Int(0, 0);
  });
}

Status PostgresStore::BumpConfig(Connection& c, std::string_view project_id) {
  TESSERA_RETURN_IF_ERROR(c.Exec("bump_config",
                                 "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = "
                                 "'config_version'",
                                 {}));
  return Notify(c, "c|" + std::string(project_id));
}

}  // namespace tessera
