// The revocation family on SQLite: the per-project revocation log.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr std::string_view KindName(RevocationEntry::Kind k) {
  return k == RevocationEntry::Kind::kUser ? "user" : "session";
}

}  // namespace

Status SqliteStore::AppendRevocation(Connection& c, const RevocationEntry& e) {
  std::int64_t sequence = 0;
  {
    // Writes are serialized (one writer, BEGIN IMMEDIATE): the counter and the entry commit
    // together, in sequence order.
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO revocation_counters(project_id, sequence) VALUES (?, 1) "
                  "ON CONFLICT(project_id) DO UPDATE SET sequence = sequence + 1 "
                  "RETURNING sequence"));
    st.Bind(1, e.project_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kInternal, "the revocation counter returned no row");
    sequence = st.Int(0);
    TESSERA_ASSIGN_OR_RETURN(bool more, st.Step());
    (void)more;  // Completes the statement.
  }
  TESSERA_ASSIGN_OR_RETURN(
      Statement st, c.Prepare("INSERT INTO revocation_log(project_id, sequence, kind, session_id, "
                              "user_id, revoked_at) VALUES (?, ?, ?, ?, ?, ?)"));
  st.Bind(1, e.project_id)
      .Bind(2, sequence)
      .Bind(3, KindName(e.kind))
      .Bind(4, e.session_id)
      .Bind(5, e.user_id)
      .Bind(6, e.revoked_at);
  return st.Run();
}

Result<RevocationBatch> SqliteStore::ReadRevocations(std::string_view project_id,
                                                     std::int64_t after, int limit) {
  if (limit < 1 || limit > 10000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  return Read([&](Connection& c) -> Result<RevocationBatch> {
    // One read transaction, so the bounds and the entries are of the same moment.
    sqlite::Transaction txn(c);
    TESSERA_RETURN_IF_ERROR(txn.BeginRead());
    RevocationBatch out;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT (SELECT sequence FROM revocation_counters WHERE project_id = ?1), "
                    "(SELECT MIN(sequence) FROM revocation_log WHERE project_id = ?1)"));
      st.Bind(1, project_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) {
        out.head = st.IsNull(0) ? 0 : st.Int(0);
        out.first_kept = st.IsNull(1) ? out.head + 1 : st.Int(1);
      }
      TESSERA_ASSIGN_OR_RETURN(bool more, st.Step());
      (void)more;
    }
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT sequence, kind, session_id, user_id, revoked_at FROM revocation_log "
                  "WHERE project_id = ? AND sequence > ? ORDER BY sequence LIMIT ?"));
    st.Bind(1, project_id).Bind(2, after).Bind(3, std::int64_t{limit});
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.entries.push_back(RevocationEntry{
          std::string(project_id), st.Int(0),
          st.Text(1) == "user" ? RevocationEntry::Kind::kUser : RevocationEntry::Kind::kSession,
          std::string(st.Text(2)), std::string(st.Text(3)), st.Time(4)});
    }
    TESSERA_RETURN_IF_ERROR(txn.Commit());
    return out;
  });
}

Result<std::int64_t> SqliteStore::PruneRevocations(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("DELETE FROM revocation_log WHERE revoked_at < ?"));
    st.Bind(1, cutoff);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

}  // namespace tessera
