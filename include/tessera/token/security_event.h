// Security Event Tokens (SETs, RFC 8417) as the OpenID Shared Signals Framework 1.0 profiles them
// (SSF §4.1): explicitly typed "secevent+jwt" (§4.1.1), the subject in the top-level `sub_id`
// claim (§3.1), one event in `events` (§4.2.1), never `sub` nor `exp` (§4.1.2, §4.1.7), so that no
// JWT verifier can take a SET for an ID token or a session JWT (RFC 8417 §4, SSF §4.1.3).
#ifndef TESSERA_TOKEN_SECURITY_EVENT_H_
#define TESSERA_TOKEN_SECURITY_EVENT_H_

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/keys.h"

namespace tessera {

// The JOSE `typ` of every SET (RFC 8417 §2.3).
inline constexpr std::string_view kSecurityEventTokenType = "secevent+jwt";

// One event, and the claims around it.
struct SecurityEvent {
  std::string issuer;    // iss: the transmitter's issuer, exactly as its stream says (SSF §4.1.6).
  std::string audience;  // aud: one string, the receiver (SSF §4.1.8).
  std::string jti;       // Unique per issuer; the receiver acknowledges the SET by it (RFC 8936).
  std::string txn;       // Unique to the event that caused the SET (SSF §4.1.9); "" omits it.
  // sub_id: a subject identifier (RFC 9493, SSF §3.2) or a complex subject (SSF §3.3).
  boost::json::object subject;
  std::string event_type;     // The one member of `events`: the event type's URI.
  boost::json::object event;  // Its value: the event's own claims (may be empty).
};

// Signs `event` with `key`, issued at `iat`: header {alg, kid, typ:"secevent+jwt"} (see
// SignCompactJws); payload {aud, events, iat, iss, jti, sub_id, txn} in this order, compact JSON.
// Fails with kInvalidArgument when issuer, audience, jti, event_type or subject is empty (an SSF
// receiver must refuse such a SET, so none is ever sent), and as SignCompactJws does.
Result<std::string> MintSecurityEventToken(const SigningKey& key, const SecurityEvent& event,
                                           TimePoint iat);

}  // namespace tessera

#endif  // TESSERA_TOKEN_SECURITY_EVENT_H_
