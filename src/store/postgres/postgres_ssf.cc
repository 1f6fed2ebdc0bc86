// The Shared Signals family on PostgreSQL: each project's SSF stream and its acknowledgements.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <string>

#include "store/records_json.h"

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

// The columns every read of a stream selects, with its out-of-order acknowledgements.
#define TESSERA_SSF_STREAM_COLUMNS                                                  \
  "s.stream_id, s.description, s.events_requested, s.created_at, s.acked_through, " \
  "(SELECT string_agg(a.sequence::text, ',') FROM ssf_acks a WHERE a.stream_id = s.stream_id) "

Result<SsfStream> StreamFromRow(const Rows& r, std::string_view project_id) {
  SsfStream s;
  s.project_id = std::string(project_id);
  s.stream_id = std::string(r.Text(0, 0));
  s.description = r.OptText(0, 1);
  if (!r.IsNull(0, 2)) {
    TESSERA_ASSIGN_OR_RETURN(s.events_requested,
                             StringListFromJson(r.Text(0, 2), "SSF events_requested"));
  }
  s.created_at = r.Time(0, 3);
  s.acked_through = r.Int(0, 4);
  TESSERA_ASSIGN_OR_RETURN(s.acked_after, SequenceListFromText(r.IsNull(0, 5) ? "" : r.Text(0, 5),
                                                               "SSF acknowledgements"));
  return s;
}

Status NoSuchStream() {
  return Error(ErrorCode::kSsfStreamNotFound, "The project has no SSF stream with this id.");
}

}  // namespace

Result<SsfStream> PostgresStore::CreateSsfStream(const SsfStream& stream) {
  return Write([&](Connection& c) -> Result<SsfStream> {
    // The head is read by the INSERT itself. A revocation that commits later, or that holds its
    // counter row uncommitted right now, gets a higher number than the one read: it is after
    // the stream's start and will be delivered.
    pg::Param events;
    if (stream.events_requested) events = StringListToJson(*stream.events_requested);
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("create_ssf_stream",
                       "INSERT INTO ssf_streams(project_id, stream_id, description, "
                       "events_requested, created_at, acked_through) SELECT $1, $2, $3, $4, $5, "
                       "COALESCE((SELECT sequence FROM revocation_counters WHERE project_id = "
                       "$1), 0) ON CONFLICT (project_id) DO NOTHING RETURNING acked_through",
                       {pg::Text(stream.project_id), pg::Text(stream.stream_id), stream.description,
                        events, pg::Time(stream.created_at)}));
    if (r.size() != 1) {
      return Error(ErrorCode::kSsfStreamExists,
                   "The project already has its SSF stream; read it with GET, or delete it "
                   "first.");
    }
    SsfStream out = stream;
    out.acked_through = r.Int(0, 0);
    out.acked_after.clear();
    return out;
  });
}

Result<std::optional<SsfStream>> PostgresStore::GetSsfStream(std::string_view project_id) {
  return Read([&](Connection& c) -> Result<std::optional<SsfStream>> {
    // One statement: the stream and its acknowledgements come from one snapshot.
    TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("get_ssf_stream",
                                            "SELECT " TESSERA_SSF_STREAM_COLUMNS
                                            "FROM ssf_streams s WHERE s.project_id = $1",
                                            {pg::Text(project_id)}));
    if (r.size() == 0) return std::optional<SsfStream>();
    TESSERA_ASSIGN_OR_RETURN(SsfStream s, StreamFromRow(r, project_id));
    return std::optional<SsfStream>(std::move(s));
  });
}

Status PostgresStore::DeleteSsfStream(std::string_view project_id, std::string_view stream_id) {
  return Write([&](Connection& c) -> Status {
    // ssf_acks rows go with it (ON DELETE CASCADE).
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("delete_ssf_stream",
                       "DELETE FROM ssf_streams WHERE project_id = $1 AND stream_id = $2 "
                       "RETURNING 1",
                       {pg::Text(project_id), pg::Text(stream_id)}));
    return r.size() == 0 ? NoSuchStream() : Status::Ok();
  });
}

Result<SsfStream> PostgresStore::AckSsfEvents(std::string_view project_id,
                                              std::string_view stream_id,
                                              const std::vector<std::int64_t>& sequences) {
  return Write([&](Connection& c) -> Result<SsfStream> {
    // FOR UPDATE: acknowledgements of one stream, from any node, apply one after another, so
    // acked_through only ever moves over entries that are acknowledged.
    TESSERA_ASSIGN_OR_RETURN(
        Rows lock, c.Exec("lock_ssf_stream",
                          "SELECT acked_through, COALESCE((SELECT sequence FROM "
                          "revocation_counters WHERE project_id = $1), 0), (SELECT MIN(sequence) "
                          "FROM revocation_log WHERE project_id = $1) FROM ssf_streams WHERE "
                          "project_id = $1 AND stream_id = $2 FOR UPDATE",
                          {pg::Text(project_id), pg::Text(stream_id)}));
    if (lock.size() != 1) return NoSuchStream();
    const std::int64_t acked_through = lock.Int(0, 0);
    const std::int64_t head = lock.Int(0, 1);
    const std::int64_t first_kept = lock.IsNull(0, 2) ? head + 1 : lock.Int(0, 2);
    std::string list = "{";
    for (const std::int64_t s : sequences) {
      if (s <= acked_through || s > head) continue;
      if (list.size() > 1) list.push_back(',');
      list += std::to_string(s);
    }
    list.push_back('}');
    if (list.size() > 2) {
      TESSERA_RETURN_IF_ERROR(
          c.Exec("insert_ssf_acks",
                 "INSERT INTO ssf_acks(stream_id, sequence) SELECT $1, unnest($2::bigint[]) "
                 "ON CONFLICT DO NOTHING",
                 {pg::Text(stream_id), pg::Text(list)})
              .status());
    }
    // Pruned entries can never be delivered: they count as done. Then over every entry
    // acknowledged in a row.
    TESSERA_RETURN_IF_ERROR(
        c.Exec("advance_ssf_stream",
               "WITH RECURSIVE run(n) AS (SELECT GREATEST($2::bigint, $3::bigint) UNION ALL "
               "SELECT run.n + 1 FROM run JOIN ssf_acks a ON a.stream_id = $1 AND a.sequence = "
               "run.n + 1), t AS (SELECT MAX(n) AS through FROM run), d AS (DELETE FROM ssf_acks "
               "WHERE stream_id = $1 AND sequence <= (SELECT through FROM t)) UPDATE ssf_streams "
               "SET acked_through = (SELECT through FROM t) WHERE stream_id = $1",
               {pg::Text(stream_id), pg::Int(acked_through), pg::Int(first_kept - 1)})
            .status());
    TESSERA_ASSIGN_OR_RETURN(Rows r, c.Exec("reread_ssf_stream",
                                            "SELECT " TESSERA_SSF_STREAM_COLUMNS
                                            "FROM ssf_streams s WHERE s.project_id = $1",
                                            {pg::Text(project_id)}));
    if (r.size() != 1) return NoSuchStream();
    return StreamFromRow(r, project_id);
  });
}

#undef TESSERA_SSF_STREAM_COLUMNS

}  // namespace tessera
