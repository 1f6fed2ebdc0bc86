// Identifiers in Stytch's formats: "<kind>-test-<uuid>" or "<kind>-live-<uuid>".
#ifndef TESSERA_SERVICE_IDS_H_
#define TESSERA_SERVICE_IDS_H_

#include <string>
#include <string_view>

#include "tessera/random.h"
#include "tessera/result.h"

namespace tessera {

// `kind` is e.g. "user", "session", "email", "phone-number", "password", "request-id".
Result<std::string> NewId(std::string_view kind, bool live, RandomSource& random);

// "request-id-test-<uuid>" / "request-id-live-<uuid>". Request ids need to be unique, not secret:
// they draw from a per-thread buffer refilled from the CSPRNG 4 KiB at a time, so the hot path
// pays neither a lock nor a syscall per id.
std::string NewRequestId(bool live);

// True when `id` is "<kind>-test-<uuid>" or "<kind>-live-<uuid>" with a canonical lower-case uuid.
bool IsIdOfKind(std::string_view id, std::string_view kind);

}  // namespace tessera

#endif  // TESSERA_SERVICE_IDS_H_
