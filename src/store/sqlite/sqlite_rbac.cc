// The RBAC family on SQLite: one policy row per project, replaced as a whole under a version
// check (tessera/store/rbac_store.h).
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {

using sqlite::Connection;
using sqlite::Statement;

Result<std::optional<RbacPolicyRecord>> SqliteStore::GetRbacPolicy(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<RbacPolicyRecord>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT policy, version, updated_at FROM rbac_policies WHERE project_id = ?"));
    st.Bind(1, project_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<RbacPolicyRecord>();
    RbacPolicyRecord r;
    r.policy_json = st.Text(0);
    r.version = st.Int(1);
    r.updated_at = st.Time(2);
    return std::optional<RbacPolicyRecord>(std::move(r));
  });
}

Result<std::int64_t> SqliteStore::PutRbacPolicy(std::string_view project_id,
                                                std::string_view policy_json,
                                                std::int64_t expected_version, TimePoint now) {
  // The writer lock (BEGIN IMMEDIATE) is held from the version read to the commit, so nothing
  // can slip in between.
  return Write([&](Connection& c) -> Result<std::int64_t> {
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT 1 FROM projects WHERE project_id = ?"));
      st.Bind(1, project_id);
      TESSERA_ASSIGN_OR_RETURN(bool exists, st.Step());
      if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    }
    std::int64_t stored = 0;
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT version FROM rbac_policies WHERE project_id = ?"));
      st.Bind(1, project_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) stored = st.Int(0);
    }
    if (stored != expected_version) {
      return Error(ErrorCode::kStoreConflict, "the policy is at version " + std::to_string(stored) +
                                                  ", not " + std::to_string(expected_version) +
                                                  "; read it again");
    }
    const std::int64_t next = stored + 1;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO rbac_policies(project_id, version, policy, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(project_id) DO UPDATE SET "
                    "version = excluded.version, policy = excluded.policy, "
                    "updated_at = excluded.updated_at"));
      st.Bind(1, project_id).Bind(2, next).Bind(3, policy_json).Bind(4, now);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    // Every server polling this file reloads the project when the config version moves.
    TESSERA_ASSIGN_OR_RETURN(
        Statement bump,
        c.Prepare("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
                  "WHERE key = 'config_version'"));
    TESSERA_RETURN_IF_ERROR(bump.Run());
    return next;
  });
}

}  // namespace tessera
