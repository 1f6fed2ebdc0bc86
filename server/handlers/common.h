// Request parsing and response pieces that several resources share: session options on every
// call that can mint a session, user fields, and the members of a session-minting response.
#ifndef TESSERA_SERVER_HANDLERS_COMMON_H_
#define TESSERA_SERVER_HANDLERS_COMMON_H_

#include <optional>
#include <string>
#include <string_view>

#include "server/call.h"
#include "server/json_body.h"

namespace tessera::server::handlers {

// session_duration_minutes and session_custom_claims (which must be an object).
Result<SessionOptions> ParseSessionOptions(const JsonBody& body);

// A string member that counts only when non-empty (SDKs and apps send "" for "none").
Result<std::optional<std::string>> NonEmpty(const JsonBody& body, std::string_view name);

// `attributes`: ip_address and user_agent, each at most 512 characters.
Result<SessionAttributes> ParseAttributes(const JsonBody& body);

// The user members of users/create, users/update and passwords/create.
Result<UserFields> ParseUserFields(const JsonBody& body);

// The body of passwords/migrate (spec-next §4.1). Also `tessera users import`, one line per
// request, so that the route and the import read every member the same way.
Result<PasswordMigrateRequest> ParsePasswordMigrateRequest(const JsonBody& body);

// The user object, with is_locked as of `now`.
void AppendUserValue(const CachedUser& user, TimePoint now, std::string& out);

// The members every session-minting response carries (spec §2.0.4): session (or null),
// session_jwt and session_token ("" when no session), user, user_device, user_id.
void AppendLoginMembers(Body& b, const CachedUser& user, const std::optional<SessionResult>& s,
                        TimePoint now);

}  // namespace tessera::server::handlers

#endif  // TESSERA_SERVER_HANDLERS_COMMON_H_
