// The frontend SDK family on PostgreSQL: allowed origins per project, projects by public token.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>
#include <utility>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

// Locks the project's row for the transaction, so that concurrent changes of its origins run one
// at a time (the count in AddSdkOrigin holds). Same statement as in postgres_projects.cc.
Result<bool> LockProject(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("lock_project", "SELECT 1 FROM projects WHERE project_id = $1 FOR UPDATE",
                     {pg::Text(project_id)}));
  return r.size() > 0;
}

Result<std::vector<SdkOrigin>> SelectOrigins(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("list_sdk_origins",
                                          "SELECT origin, created_at FROM sdk_origins WHERE "
                                          "project_id = $1 ORDER BY created_at, origin",
                                          {pg::Text(project_id)}));
  std::vector<SdkOrigin> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back(SdkOrigin{std::string(r.Text(i, 0)), r.Time(i, 1)});
  }
  return out;
}

}  // namespace

Result<std::optional<std::string>> PostgresStore::FindProjectByPublicToken(
    std::string_view public_token) {
  return Read([&](Connection& c) -> Result<std::optional<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("find_public_token",
                       "SELECT project_id FROM project_public_tokens WHERE public_token = $1",
                       {pg::Text(public_token)}));
    if (r.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(r.Text(0, 0)));
  });
}

Result<std::vector<SdkOrigin>> PostgresStore::ListSdkOrigins(std::string_view project_id) {
  return Read([&](Connection& c) { return SelectOrigins(c, project_id); });
}

Status PostgresStore::AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, LockProject(c, project_id));
    if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(std::vector<SdkOrigin> origins, SelectOrigins(c, project_id));
    for (const SdkOrigin& o : origins) {
      if (o.origin == origin.origin) return Status::Ok();
    }
    if (origins.size() >= kMaxSdkOrigins) {
      return Error(ErrorCode::kInvalidArgument, "the project already allows " +
                                                    std::to_string(kMaxSdkOrigins) +
                                                    " origins; remove one first");
    }
    TESSERA_RETURN_IF_ERROR(
        c.Exec("add_sdk_origin",
               "INSERT INTO sdk_origins(project_id, origin, created_at) VALUES ($1, $2, $3)",
               {pg::Text(project_id), pg::Text(origin.origin), pg::Time(origin.created_at)}));
    return BumpConfig(c, project_id);
  });
}

Status PostgresStore::RemoveSdkOrigin(std::string_view project_id, std::string_view origin) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, LockProject(c, project_id));
    if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(Rows r,
                             c.Exec("remove_sdk_origin",
                                    "DELETE FROM sdk_origins WHERE project_id = $1 AND origin = $2 "
                                    "RETURNING origin",
                                    {pg::Text(project_id), pg::Text(origin)}));
    if (r.size() == 0) {
      return Error(ErrorCode::kSdkOriginNotFound, "the project does not allow this origin");
    }
    return BumpConfig(c, project_id);
  });
}

}  // namespace tessera
