// RFC 3339 timestamps as the Stytch API writes them: UTC, second precision, `Z` suffix.
#ifndef TESSERA_COMMON_TIME_FORMAT_H_
#define TESSERA_COMMON_TIME_FORMAT_H_

#include <string>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// "2026-03-01T14:25:15Z". Sub-second parts are truncated.
std::string FormatRfc3339(TimePoint t);
// Appends the same to `out` without allocating a temporary.
void AppendRfc3339(TimePoint t, std::string& out);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (also lower-case t/z). Fails with
// kInvalidArgument.
Result<TimePoint> ParseRfc3339(std::string_view s);

}  // namespace tessera

#endif  // TESSERA_COMMON_TIME_FORMAT_H_
