// The outbox family of the store: email messages waiting for delivery, written in the same
// transaction as the one-time token they carry (tessera/store/one_time_token_store.h), and
// delivered by a background sender that may run on several nodes at once (docs/email.md).
//
// A message is claimed before it is sent: a claim sets a lease (claimed_until) and a claim id, and
// only rows that are due and not under a live lease can be claimed, so two senders never hold
// the same message at once (PostgreSQL claims with FOR UPDATE SKIP LOCKED, so concurrent claims
// never wait for each other either). Only the holder of the claim can complete or retry it.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h).
#ifndef TESSERA_STORE_OUTBOX_STORE_H_
#define TESSERA_STORE_OUTBOX_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

struct OutboxMessage {
  std::string message_id;  // "message-test-<uuid>": also the Message-ID's left part.
  std::string project_id;
  // The message (recipient, subject, bodies) sealed under the master key: it carries a live
  // token or code, which the database must never hold in clear. Emptied once the message is
  // delivered or abandoned.
  std::string sealed;
  int attempts = 0;  // Delivery attempts so far.
  TimePoint created_at;
  TimePoint next_attempt_at;  // Not claimed before this.
  TimePoint expires_at;       // Abandoned after this: the token it carries is dead by then.
  std::string last_error;     // Of the last failed attempt ("" before any).
};

// What /metrics reports about the outbox.
struct OutboxStats {
  std::int64_t pending = 0;  // Waiting for delivery, claimed or not.
  std::int64_t failed = 0;   // Abandoned (expired before any attempt succeeded), still listed.
  std::optional<TimePoint> oldest_pending;  // created_at of the oldest pending message.
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;

  // Claims up to `limit` pending messages whose next_attempt_at has come and whose lease (if any)
  // has ended, oldest first, for `lease` from `now` under `claim_id`. REQUIRES: 1 <= limit <= 1000.
  virtual Result<std::vector<OutboxMessage>> ClaimOutbox(TimePoint now, Seconds lease, int limit,
                                                         std::string_view claim_id) = 0;
  // The message was delivered: it leaves the outbox. False when `claim_id` no longer holds it
  // (the lease ran out and another sender claimed it), in which case nothing changes.
  virtual Result<bool> CompleteOutbox(std::string_view message_id, std::string_view claim_id) = 0;
  // The attempt failed: count it, release the claim, try again at `next_attempt_at`. False as for
  // CompleteOutbox.
  virtual Result<bool> RetryOutbox(std::string_view message_id, std::string_view claim_id,
                                   TimePoint next_attempt_at, std::string_view error) = 0;
  // The message can no longer be useful (its token expired): it is kept as failed, for the
  // metrics, with its sealed content erased. False as for CompleteOutbox.
  virtual Result<bool> AbandonOutbox(std::string_view message_id, std::string_view claim_id,
                                     std::string_view error) = 0;
  virtual Result<OutboxStats> GetOutboxStats() = 0;
  // Deletes failed messages created before `cutoff`. Returns how many.
  virtual Result<std::int64_t> PruneOutbox(TimePoint cutoff) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_OUTBOX_STORE_H_
