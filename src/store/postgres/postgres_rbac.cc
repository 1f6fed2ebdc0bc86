// The RBAC family on PostgreSQL: one policy row per project, replaced as a whole under a version
// check (tessera/store/rbac_store.h). A change moves the config version and notifies every node,
// which reloads the project as it does for a key rotation.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {

using pg::Connection;
using pg::Rows;

Result<std::optional<RbacPolicyRecord>> PostgresStore::GetRbacPolicy(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<RbacPolicyRecord>> {
    TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("get_rbac_policy",
                                            "SELECT policy, version, updated_at FROM rbac_policies "
                                            "WHERE project_id = $1",
                                            {pg::Text(project_id)}));
    if (r.size() == 0) return std::optional<RbacPolicyRecord>();
    RbacPolicyRecord rec;
    rec.policy_json = std::string(r.Text(0, 0));
    rec.version = r.Int(0, 1);
    rec.updated_at = r.Time(0, 2);
    return std::optional<RbacPolicyRecord>(std::move(rec));
  });
}

Result<std::int64_t> PostgresStore::PutRbacPolicy(std::string_view project_id,
                                                  std::string_view policy_json,
                                                  std::int64_t expected_version, TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    // The project row's lock orders concurrent puts: the second reads the first's version.
    TESSERA_ASSIGN_OR_RETURN(
        Rows p,
        c.Exec("lock_project_rbac", "SELECT 1 FROM projects WHERE project_id = $1 FOR UPDATE",
               {pg::Text(project_id)}));
    if (p.size() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(
        Rows v,
        c.Exec("rbac_policy_version", "SELECT version FROM rbac_policies WHERE project_id = $1",
               {pg::Text(project_id)}));
    const std::int64_t stored = v.size() == 0 ? 0 : v.Int(0, 0);
    if (stored != expected_version) {
      return Error(ErrorCode::kStoreConflict, "the policy is at version " + std::to_string(stored) +
                                                  ", not " + std::to_string(expected_version) +
                                                  "; read it again");
    }
    const std::int64_t next = stored + 1;
    TESSERA_RETURN_IF_ERROR(
        c.Exec("put_rbac_policy",
               "INSERT INTO rbac_policies(project_id, version, policy, updated_at) "
               "VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET "
               "version = EXCLUDED.version, policy = EXCLUDED.policy, "
               "updated_at = EXCLUDED.updated_at",
               {pg::Text(project_id), pg::Int(next), pg::Text(policy_json), pg::Time(now)})
            .status());
    TESSERA_RETURN_IF_ERROR(BumpConfig(c, project_id));
    return next;
  });
}

}  // namespace tessera
