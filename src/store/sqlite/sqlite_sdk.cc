// The frontend SDK family on SQLite: allowed origins per project, projects by public token.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>
#include <utility>

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

Result<bool> ProjectKnown(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare("SELECT 1 FROM projects WHERE project_id = ?"));
  st.Bind(1, project_id);
  return st.Step();
}

Result<std::vector<SdkOrigin>> SelectOrigins(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(Statement st,
                           c.Prepare("SELECT origin, created_at FROM sdk_origins "
                                     "WHERE project_id = ? ORDER BY created_at, origin"));
  st.Bind(1, project_id);
  std::vector<SdkOrigin> out;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(SdkOrigin{std::string(st.Text(0)), st.Time(1)});
  }
  return out;
}

}  // namespace

Result<std::optional<std::string>> SqliteStore::FindProjectByPublicToken(
    std::string_view public_token) {
  return Read([&](Connection& c) -> Result<std::optional<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT project_id FROM project_public_tokens WHERE public_token = ?"));
    st.Bind(1, public_token);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(std::string(st.Text(0)));
  });
}

Result<std::vector<SdkOrigin>> SqliteStore::ListSdkOrigins(std::string_view project_id) {
  return Read([&](Connection& c) { return SelectOrigins(c, project_id); });
}

Status SqliteStore::AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) {
  // The count and the insert share the write transaction, which SQLite runs one at a time.
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectKnown(c, project_id));
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
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO sdk_origins(project_id, origin, created_at) VALUES (?, ?, ?)"));
    st.Bind(1, project_id).Bind(2, origin.origin).Bind(3, origin.created_at);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return BumpConfig(c);
  });
}

Status SqliteStore::RemoveSdkOrigin(std::string_view project_id, std::string_view origin) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(bool exists, ProjectKnown(c, project_id));
    if (!exists) return Error(ErrorCode::kProjectNotFound, "no such project");
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("DELETE FROM sdk_origins WHERE project_id = ? AND origin = ?"));
    st.Bind(1, project_id).Bind(2, origin);
    TESSERA_RETURN_IF_ERROR(st.Run());
    if (st.changes() == 0) {
      return Error(ErrorCode::kSdkOriginNotFound, "the project does not allow this origin");
    }
    return BumpConfig(c);
  });
}

}  // namespace tessera
