// The Shared Signals family on SQLite: each project's SSF stream and its acknowledgements.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <string>

#include "store/records_json.h"

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

// The stream of `project_id` with its out-of-order acknowledgements, read in the caller's
// transaction.
Result<std::optional<SsfStream>> LoadStream(Connection& c, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("SELECT stream_id, description, events_requested, created_at, acked_through, "
                "(SELECT group_concat(sequence) FROM ssf_acks a WHERE a.stream_id = s.stream_id) "
                "FROM ssf_streams s WHERE project_id = ?"));
  st.Bind(1, project_id);
  TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<SsfStream>();
  SsfStream s;
  s.project_id = std::string(project_id);
  s.stream_id = std::string(st.Text(0));
  s.description = st.OptText(1);
  if (!st.IsNull(2)) {
    TESSERA_ASSIGN_OR_RETURN(s.events_requested,
                             StringListFromJson(st.Text(2), "SSF events_requested"));
  }
  s.created_at = st.Time(3);
  s.acked_through = st.Int(4);
  TESSERA_ASSIGN_OR_RETURN(
      s.acked_after, SequenceListFromText(st.IsNull(5) ? "" : st.Text(5), "SSF acknowledgements"));
  return std::optional<SsfStream>(std::move(s));
}

}  // namespace

Result<SsfStream> SqliteStore::CreateSsfStream(const SsfStream& stream) {
  return Write([&](Connection& c) -> Result<SsfStream> {
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT 1 FROM ssf_streams WHERE project_id = ?"));
      st.Bind(1, stream.project_id);
      TESSERA_ASSIGN_OR_RETURN(bool exists, st.Step());
      if (exists) {
        return Error(ErrorCode::kSsfStreamExists,
                     "The project already has its SSF stream; read it with GET, or delete it "
                     "first.");
      }
    }
    // The writer is the only one (BEGIN IMMEDIATE), so the head read here is the log as of the
    // commit: every later revocation is after it.
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO ssf_streams(project_id, stream_id, description, events_requested, "
                  "created_at, acked_through) VALUES (?1, ?2, ?3, ?4, ?5, COALESCE((SELECT "
                  "sequence FROM revocation_counters WHERE project_id = ?1), 0)) "
                  "RETURNING acked_through"));
    std::optional<std::string> events;
    if (stream.events_requested) events = StringListToJson(*stream.events_requested);
    st.Bind(1, stream.project_id)
        .Bind(2, stream.stream_id)
        .Bind(3, stream.description)
        .Bind(4, events)
        .Bind(5, stream.created_at);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kInternal, "creating the SSF stream returned no row");
    SsfStream out = stream;
    out.acked_through = st.Int(0);
    out.acked_after.clear();
    TESSERA_ASSIGN_OR_RETURN(bool more, st.Step());
    (void)more;  // Completes the statement.
    return out;
  });
}

Result<std::optional<SsfStream>> SqliteStore::GetSsfStream(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<SsfStream>> {
    sqlite::Transaction txn(c);
    TESSERA_RETURN_IF_ERROR(txn.BeginRead());
    TESSERA_ASSIGN_OR_RETURN(auto stream, LoadStream(c, project_id));
    TESSERA_RETURN_IF_ERROR(txn.Commit());
    return stream;
  });
}

Status SqliteStore::DeleteSsfStream(std::string_view project_id, std::string_view stream_id) {
  return Write([&](Connection& c) -> Status {
    // ssf_acks rows go with it (ON DELETE CASCADE).
    TESSERA_ASSIGN_OR_RETURN(
        Statement st, c.Prepare("DELETE FROM ssf_streams WHERE project_id = ? AND stream_id = ?"));
    st.Bind(1, project_id).Bind(2, stream_id);
    TESSERA_RETURN_IF_ERROR(st.Run());
    if (st.changes() == 0) {
      return Error(ErrorCode::kSsfStreamNotFound, "The project has no SSF stream with this id.");
    }
    return Status::Ok();
  });
}

Result<SsfStream> SqliteStore::AckSsfEvents(std::string_view project_id, std::string_view stream_id,
                                            const std::vector<std::int64_t>& sequences) {
  return Write([&](Connection& c) -> Result<SsfStream> {
    TESSERA_ASSIGN_OR_RETURN(std::optional<SsfStream> stream, LoadStream(c, project_id));
    if (!stream || stream->stream_id != stream_id) {
      return Error(ErrorCode::kSsfStreamNotFound, "The project has no SSF stream with this id.");
    }
    std::int64_t head = 0;
    std::int64_t first_kept = 1;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT (SELECT sequence FROM revocation_counters WHERE project_id = ?1), "
                    "(SELECT MIN(sequence) FROM revocation_log WHERE project_id = ?1)"));
      st.Bind(1, project_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) {
        head = st.IsNull(0) ? 0 : st.Int(0);
        first_kept = st.IsNull(1) ? head + 1 : st.Int(1);
      }
      TESSERA_ASSIGN_OR_RETURN(bool more, st.Step());
      (void)more;
    }
    std::vector<std::int64_t> acked = std::move(stream->acked_after);
    for (const std::int64_t s : sequences) {
      if (s <= stream->acked_through || s > head) continue;
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT OR IGNORE INTO ssf_acks(stream_id, sequence) VALUES (?, ?)"));
      st.Bind(1, stream->stream_id).Bind(2, s);
      TESSERA_RETURN_IF_ERROR(st.Run());
      acked.push_back(s);
    }
    std::sort(acked.begin(), acked.end());
    acked.erase(std::unique(acked.begin(), acked.end()), acked.end());
    // Pruned entries can never be delivered: they count as done.
    std::int64_t through = std::max(stream->acked_through, first_kept - 1);
    std::size_t i = 0;
    for (; i < acked.size() && acked[i] <= through + 1; ++i) through = std::max(through, acked[i]);
    acked.erase(acked.begin(), acked.begin() + static_cast<std::ptrdiff_t>(i));
    if (through != stream->acked_through) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement del, c.Prepare("DELETE FROM ssf_acks WHERE stream_id = ? AND sequence <= ?"));
      del.Bind(1, stream->stream_id).Bind(2, through);
      TESSERA_RETURN_IF_ERROR(del.Run());
      TESSERA_ASSIGN_OR_RETURN(
          Statement up, c.Prepare("UPDATE ssf_streams SET acked_through = ? WHERE stream_id = ?"));
      up.Bind(1, through).Bind(2, stream->stream_id);
      TESSERA_RETURN_IF_ERROR(up.Run());
    }
    stream->acked_through = through;
    stream->acked_after = std::move(acked);
    return *std::move(stream);
  });
}

}  // namespace tessera
