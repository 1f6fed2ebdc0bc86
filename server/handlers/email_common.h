// Request pieces the email sign-in handlers share (magic_links.cc, otps.cc, password_resets.cc).
#ifndef TESSERA_SERVER_HANDLERS_EMAIL_COMMON_H_
#define TESSERA_SERVER_HANDLERS_EMAIL_COMMON_H_

#include "server/handlers/common.h"
#include "service/email/email_sign_in.h"

namespace tessera::server::handlers {

// `options`: {ip_match_required, user_agent_match_required}, each false when absent or null.
Status ParseMatchOptions(const JsonBody& body, EmailAuthRequest& out);

// The members every authenticating call shares: attributes, options, session options and the
// session to attach to (session_token / session_jwt; "" means none).
Result<EmailAuthRequest> ParseEmailAuth(const JsonBody& body);

// attributes, locale, and the caller's address (for the per-IP rate limit).
Result<EmailSendRequest> ParseEmailSend(const Call& call, const JsonBody& body);

// The answer of an authenticating call: method_id and reset_sessions when `with_method`, then
// session, session_jwt, session_token, user, user_device, user_id.
ApiResponse EmailAuthBody(const Call& call, const EmailAuthResult& r, bool with_method);

}  // namespace tessera::server::handlers

#endif  // TESSERA_SERVER_HANDLERS_EMAIL_COMMON_H_
