// The revocation feed's frames, decoded from their JSON (docs/revocation.md, "The feed"): what a
// snapshot, a revoke and a heartbeat say, checked for everything the SDK relies on. Pure
// functions of the text; no I/O, no time.
#ifndef TESSERA_CLIENT_REVOCATION_FRAMES_H_
#define TESSERA_CLIENT_REVOCATION_FRAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/client/outcome.h"

namespace tessera::client {

// One entry of the revocation log.
struct RevocationEntry {
  enum class Kind {
    kSession,  // Refuses JWTs whose session claim's id is session_id.
    kUser,     // Refuses JWTs whose sub is user_id and whose iat is at or before not_before.
  };
  std::uint64_t sequence = 0;
  Kind kind = Kind::kSession;
  std::string session_id;           // kSession only.
  std::string user_id;              // Required for kUser; informative (may be "") for kSession.
  std::int64_t not_before = 0;      // kUser only. Unix seconds.
  std::int64_t relevant_until = 0;  // Unix seconds: no JWT naming the entry verifies after this.
};

struct SnapshotFrame {
  std::uint64_t sequence = 0;  // Complete up to this entry.
  std::int64_t lag_ms = 0;
  std::vector<RevocationEntry> entries;
};

struct HeartbeatFrame {
  std::uint64_t sequence = 0;  // The node's head.
  std::int64_t lag_ms = 0;
};

// Each fails with kProtocol (error_type "feed_protocol", a message saying what is wrong) for
// anything but a JSON object carrying the members the SDK needs with the right types: sequence a
// non-negative integer, lag_ms a non-negative integer, an entry's kind "session" (with a non-empty
// session_id) or "user" (with a non-empty user_id and an integer not_before), relevant_until an
// integer. An entry of another kind is refused too: the SDK cannot tell what it would refuse, so
// it cannot vouch for any JWT while it stands (fail closed). Members the SDK does not use are
// ignored, whatever they hold.
Outcome<RevocationEntry> DecodeRevokeFrame(std::string_view data);
Outcome<SnapshotFrame> DecodeSnapshotFrame(std::string_view data);
Outcome<HeartbeatFrame> DecodeHeartbeatFrame(std::string_view data);

// An SSE `id:` value as a sequence number: decimal digits only, at most 19 of them.
std::optional<std::uint64_t> ParseEventId(std::string_view id);

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_REVOCATION_FRAMES_H_
