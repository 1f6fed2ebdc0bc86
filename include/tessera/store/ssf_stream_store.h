// The Shared Signals family of the store: each project's SSF event stream (SSF 1.0 §8.1.1) and
// how far its receiver has acknowledged the Security Event Tokens delivered on it (RFC 8936).
// A stream's events are the project's revocation log (tessera/store/revocation_store.h), one SET
// per entry, so what a stream must keep is its configuration and a position in that log:
// everything up to `acked_through`, plus the entries after it acknowledged out of order.
//
// A project has at most one stream (its receiver is whoever holds the project's secret).
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_SSF_STREAM_STORE_H_
#define TESSERA_STORE_SSF_STREAM_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

struct SsfStream {
  std::string project_id;
  std::string stream_id;  // "ssf-stream-<test|live>-<uuid>", unique.
  // What the receiver supplied (SSF §8.1.1): kept as sent, nullopt when it sent none.
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> events_requested;
  TimePoint created_at;
  // Every entry of the project's revocation log with a sequence number up to this one is done
  // with: acknowledged, older than the stream, or pruned from the log.
  std::int64_t acked_through = 0;
  // Entries after acked_through that were acknowledged out of order, ascending.
  std::vector<std::int64_t> acked_after;
};

class SsfStreamStore {
 public:
  virtual ~SsfStreamStore() = default;

  // Creates the project's stream from `stream` (project_id, stream_id, description,
  // events_requested, created_at; the rest is ignored). The stream starts after the project's
  // revocation log as it stands in the same transaction: acked_through is the log's head, so a
  // new receiver gets only revocations made from then on. Returns the stream as stored.
  // kSsfStreamExists when the project has a stream already.
  virtual Result<SsfStream> CreateSsfStream(const SsfStream& stream) = 0;

  // The project's stream, or nullopt.
  virtual Result<std::optional<SsfStream>> GetSsfStream(std::string_view project_id) = 0;

  // Deletes the project's stream `stream_id` and its acknowledgements. kSsfStreamNotFound when
  // the project has no stream of that id.
  virtual Status DeleteSsfStream(std::string_view project_id, std::string_view stream_id) = 0;

  // Records that the receiver acknowledged the entries `sequences` (any order, duplicates and
  // entries acknowledged before are fine), then moves acked_through forward over every entry
  // that is acknowledged or no longer in the log. Sequence numbers beyond the log's head (never
  // delivered, so never acknowledgeable) are ignored. Returns the stream as it now stands.
  // kSsfStreamNotFound when the project has no stream of that id.
  virtual Result<SsfStream> AckSsfEvents(std::string_view project_id, std::string_view stream_id,
                                         const std::vector<std::int64_t>& sequences) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_SSF_STREAM_STORE_H_
