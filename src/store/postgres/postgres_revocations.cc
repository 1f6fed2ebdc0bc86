// The revocation family on PostgreSQL: the per-project revocation log.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

}  // namespace

Status PostgresStore::AppendRevocation(Connection& c, const RevocationEntry& e) {
  // The counter row stays locked until the caller's transaction commits, so a concurrent
  // revocation of the same project takes the next number only after this one is visible: the
  // numbers commit in order.
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("revocation_counter",
                     "INSERT INTO revocation_counters(project_id, sequence) VALUES ($1, 1) "
                     "ON CONFLICT (project_id) DO UPDATE SET "
                     "sequence = revocation_counters.sequence + 1 RETURNING sequence",
                     {pg::Text(e.project_id)}));
  if (r.size() != 1) return Error(ErrorCode::kInternal, "the revocation counter returned no row");
  return c
      .Exec("append_revocation",
            "INSERT INTO revocation_log(project_id, sequence, kind, session_id, user_id, "
            "revoked_at) VALUES ($1, $2, $3, $4, $5, $6)",
            {pg::Text(e.project_id), pg::Int(r.Int(0, 0)),
             pg::Text(e.kind == RevocationEntry::Kind::kUser ? "user" : "session"),
             pg::Text(e.session_id), pg::Text(e.user_id), pg::Time(e.revoked_at)})
      .status();
}

Result<RevocationBatch> PostgresStore::ReadRevocations(std::string_view project_id,
                                                       std::int64_t after, int limit) {
  if (limit < 1 || limit > 10000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  return Read([&](Connection& c) -> Result<RevocationBatch> {
    // One statement, so the bounds and the entries come from one snapshot. The bounds ride on
    // every row; a row of NULLs carries them when no entry follows `after`.
    TESSERA_ASSIGN_OR_RETURN(
        Rows r,
        c.Exec("read_revocations",
               "WITH b AS (SELECT (SELECT sequence FROM revocation_counters WHERE project_id = $1) "
               "AS head, (SELECT MIN(sequence) FROM revocation_log WHERE project_id = $1) AS "
               "first_kept), e AS (SELECT sequence, kind, session_id, user_id, revoked_at FROM "
               "revocation_log WHERE project_id = $1 AND sequence > $2 ORDER BY sequence "
               "LIMIT $3) SELECT b.head, b.first_kept, e.sequence, e.kind, e.session_id, "
               "e.user_id, e.revoked_at FROM b LEFT JOIN e ON true ORDER BY e.sequence",
               {pg::Text(project_id), pg::Int(after), pg::Int(limit)}));
    RevocationBatch out;
    if (r.size() > 0) {
      out.head = r.IsNull(0, 0) ? 0 : r.Int(0, 0);
      out.first_kept = r.IsNull(0, 1) ? out.head + 1 : r.Int(0, 1);
    }
    for (int i = 0; i < r.size(); ++i) {
      if (r.IsNull(i, 2)) continue;
      out.entries.push_back(RevocationEntry{
          std::string(project_id), r.Int(i, 2),
          r.Text(i, 3) == "user" ? RevocationEntry::Kind::kUser : RevocationEntry::Kind::kSession,
          std::string(r.Text(i, 4)), std::string(r.Text(i, 5)), r.Time(i, 6)});
    }
    return out;
  });
}

Result<std::int64_t> PostgresStore::PruneRevocations(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("prune_revocations",
                                            "WITH d AS (DELETE FROM revocation_log WHERE "
                                            "revoked_at < $1 RETURNING 1) SELECT COUNT(*) FROM d",
                                            {pg::Time(cutoff)}));
    return r.Int(0, 0);
  });
}

}  // namespace tessera
