// Redirect URLs and rate-limit windows on SQLite.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

}  // namespace

Status SqliteStore::AddRedirectUrl(const RedirectUrl& u) {
  return Write([&](Connection& c) -> Status {
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT 1 FROM projects WHERE project_id = ?"));
      st.Bind(1, u.project_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Error(ErrorCode::kProjectNotFound, "no such project");
    }
    if (u.is_default) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st, c.Prepare("UPDATE redirect_urls SET is_default = 0 WHERE project_id = ? "
                                  "AND type = ?"));
      st.Bind(1, u.project_id).Bind(2, RedirectUrlTypeName(u.type));
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO redirect_urls(project_id, type, url, is_default, created_at) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT(project_id, type, url) DO UPDATE SET "
                  "is_default = excluded.is_default"));
    st.Bind(1, u.project_id)
        .Bind(2, RedirectUrlTypeName(u.type))
        .Bind(3, u.url)
        .Bind(4, std::int64_t{u.is_default})
        .Bind(5, u.created_at);
    return st.Run();
  });
}

Result<std::vector<RedirectUrl>> SqliteStore::ListRedirectUrls(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::vector<RedirectUrl>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("SELECT type, url, is_default, created_at FROM redirect_urls WHERE "
                                "project_id = ? ORDER BY type, url"));
    st.Bind(1, project_id);
    std::vector<RedirectUrl> out;
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      const auto type = RedirectUrlTypeFromName(st.Text(0));
      if (!type) return Error(ErrorCode::kStoreCorrupt, "a stored redirect URL has no valid type");
      out.push_back(RedirectUrl{std::string(project_id), *type, std::string(st.Text(1)),
                                st.Int(2) != 0, st.Time(3)});
    }
    return out;
  });
}

Status SqliteStore::RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                                      std::string_view url) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("DELETE FROM redirect_urls WHERE project_id = ? AND type = ? AND url = ?"));
    st.Bind(1, project_id).Bind(2, RedirectUrlTypeName(type)).Bind(3, url);
    TESSERA_RETURN_IF_ERROR(st.Run());
    if (st.changes() == 0) {
      return Error(ErrorCode::kRedirectUrlNotFound, "the project has no such redirect URL");
    }
    return Status::Ok();
  });
}

Result<std::int64_t> SqliteStore::CountRateLimitHit(const RateLimitKey& key, TimePoint window_start,
                                                    TimePoint expires_at) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO rate_limits(key, window_start, hits, expires_at) VALUES (?, ?, 1, "
                  "?) ON CONFLICT(key, window_start) DO UPDATE SET hits = hits + 1 "
                  "RETURNING hits"));
    st.BindBlob(1, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()))
        .Bind(2, window_start)
        .Bind(3, expires_at);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kInternal, "the rate-limit counter returned no row");
    const std::int64_t hits = st.Int(0);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return hits;
  });
}

Result<std::int64_t> SqliteStore::DeleteExpiredRateLimits(TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("DELETE FROM rate_limits WHERE expires_at < ?"));
    st.Bind(1, now);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

}  // namespace tessera
