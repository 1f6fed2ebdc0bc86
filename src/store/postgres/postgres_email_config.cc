// Redirect URLs and rate-limit windows on PostgreSQL.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

}  // namespace

Status PostgresStore::AddRedirectUrl(const RedirectUrl& u) {
  return Write([&](Connection& c) -> Status {
    // FOR SHARE: the project cannot vanish before this commits.
    TESSERA_ASSIGN_OR_RETURN(Rows p, c.Exec("redirect_url_project",
                                            "SELECT 1 FROM projects WHERE project_id = $1 "
                                            "FOR SHARE",
                                            {pg::Text(u.project_id)}));
    if (p.size() == 0) return Error(ErrorCode::kProjectNotFound, "no such project");
    if (u.is_default) {
      TESSERA_RETURN_IF_ERROR(
          c.Exec("clear_redirect_default",
                 "UPDATE redirect_urls SET is_default = false WHERE "
                 "project_id = $1 AND type = $2",
                 {pg::Text(u.project_id), pg::Text(RedirectUrlTypeName(u.type))}));
    }
    return c
        .Exec("add_redirect_url",
              "INSERT INTO redirect_urls(project_id, type, url, is_default, created_at) VALUES "
              "($1, $2, $3, $4, $5) ON CONFLICT (project_id, type, url) DO UPDATE SET "
              "is_default = excluded.is_default",
              {pg::Text(u.project_id), pg::Text(RedirectUrlTypeName(u.type)), pg::Text(u.url),
               pg::Bool(u.is_default), pg::Time(u.created_at)})
        .status();
  });
}

Result<std::vector<RedirectUrl>> PostgresStore::ListRedirectUrls(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::vector<RedirectUrl>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("list_redirect_urls",
                       "SELECT type, url, is_default, created_at FROM redirect_urls WHERE "
                       "project_id = $1 ORDER BY type, url",
                       {pg::Text(project_id)}));
    std::vector<RedirectUrl> out;
    for (int i = 0; i < r.size(); ++i) {
      const auto type = RedirectUrlTypeFromName(r.Text(i, 0));
      if (!type) return Error(ErrorCode::kStoreCorrupt, "a stored redirect URL has no valid type");
      out.push_back(RedirectUrl{std::string(project_id), *type, std::string(r.Text(i, 1)),
                                r.Bool(i, 2), r.Time(i, 3)});
    }
    return out;
  });
}

Status PostgresStore::RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                                        std::string_view url) {
  return Write([&](Connection& c) -> Status {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("remove_redirect_url",
                       "DELETE FROM redirect_urls WHERE project_id = $1 AND type = $2 AND url = $3 "
                       "RETURNING 1",
                       {pg::Text(project_id), pg::Text(RedirectUrlTypeName(type)), pg::Text(url)}));
    if (r.size() == 0) {
      return Error(ErrorCode::kRedirectUrlNotFound, "the project has no such redirect URL");
    }
    return Status::Ok();
  });
}

Result<std::int64_t> PostgresStore::CountRateLimitHit(const RateLimitKey& key,
                                                      TimePoint window_start,
                                                      TimePoint expires_at) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r,
        c.Exec(
            "count_rate_limit_hit",
            "INSERT INTO rate_limits(key, window_start, hits, expires_at) VALUES ($1, $2, 1, $3) "
            "ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 "
            "RETURNING hits",
            {pg::Bytea(std::string_view(reinterpret_cast<const char*>(key.data()), key.size())),
             pg::Time(window_start), pg::Time(expires_at)}));
    if (r.size() != 1) return Error(ErrorCode::kInternal, "the rate-limit counter returned no row");
    return r.Int(0, 0);
  });
}

Result<std::int64_t> PostgresStore::DeleteExpiredRateLimits(TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("delete_expired_rate_limits",
                       "WITH d AS (DELETE FROM rate_limits WHERE expires_at < $1 RETURNING 1) "
                       "SELECT COUNT(*) FROM d",
                       {pg::Time(now)}));
    return r.Int(0, 0);
  });
}

}  // namespace tessera
