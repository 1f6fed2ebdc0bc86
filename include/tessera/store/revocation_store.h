// The revocation family of the store: each project's revocation log, the ordered record of every
// revocation that local JWT verifiers must learn about (docs/revocation.md).
//
// Entries are appended by the revoking operations themselves, in their own transaction:
// SessionRecordStore::RevokeSession appends a `session` entry, UserStore::DeleteUser one `user`
// entry however many sessions the user had. Each entry's sequence number comes from a per-project
// counter updated in that transaction, so sequence order is commit order: a follower that has read
// everything up to N and then reads "after N" can never skip an entry that committed late.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h).
#ifndef TESSERA_STORE_REVOCATION_STORE_H_
#define TESSERA_STORE_REVOCATION_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

struct RevocationEntry {
  enum class Kind {
    kSession,  // One session: JWTs naming `session_id` are refused.
    kUser,     // Every session of `user_id` so far: its JWTs issued at or before `revoked_at`.
  };
  std::string project_id;
  std::int64_t sequence = 0;  // 1, 2, 3 … within the project, in commit order.
  Kind kind = Kind::kSession;
  std::string session_id;  // kSession only; "" for kUser.
  std::string user_id;
  TimePoint revoked_at;
};

// A stretch of a project's log.
struct RevocationBatch {
  std::int64_t head = 0;        // The project's newest sequence number; 0 before any revocation.
  std::int64_t first_kept = 1;  // The oldest sequence number still stored; head + 1 when none is.
  std::vector<RevocationEntry> entries;  // Sequence > the `after` asked for, oldest first.
};

class RevocationLogStore {
 public:
  virtual ~RevocationLogStore() = default;

  // The project's entries after sequence `after`, at most `limit`, with the log's bounds. A
  // reader whose `after` is below first_kept - 1 has missed pruned entries and must start over
  // from everything stored. REQUIRES: 1 <= limit <= 10000.
  virtual Result<RevocationBatch> ReadRevocations(std::string_view project_id, std::int64_t after,
                                                  int limit) = 0;
  // Deletes the entries of every project revoked before `cutoff` (the counters stay). Returns how
  // many.
  virtual Result<std::int64_t> PruneRevocations(TimePoint cutoff) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_REVOCATION_STORE_H_
