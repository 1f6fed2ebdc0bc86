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

// True when `id` is "<kind>-test-<uuid>" or "<kind>-live-<uuid>" with a canonical lower-case uuid.
bool IsIdOfKind(std::string_view id, std::string_view kind);

}  // namespace tessera

#endif  // TESSERA_SERVICE_IDS_H_
