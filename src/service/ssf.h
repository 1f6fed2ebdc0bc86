// The OpenID Shared Signals Framework (SSF 1.0) transmitter's vocabulary: how each project's
// revocation log (tessera/store/revocation_store.h) reads to an SSF receiver, as CAEP
// `session-revoked` Security Event Tokens (docs/revocation.md, "For OpenID Shared Signals
// receivers"). Pure functions and constants; the HTTP endpoints are server/handlers/ssf.cc and the
// streams' state is the store's (tessera/store/ssf_stream_store.h).
#ifndef TESSERA_SERVICE_SSF_H_
#define TESSERA_SERVICE_SSF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/store/revocation_store.h"
#include "tessera/token/security_event.h"

namespace tessera {

// The one event type Tessera transmits (CAEP 1.0 §3.1).
inline constexpr std::string_view kCaepSessionRevoked =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
// Poll delivery (RFC 8936), the one delivery method Tessera offers (SSF §6.1.2).
inline constexpr std::string_view kPollDeliveryMethod = "urn:ietf:rfc:8936";
// Push delivery (RFC 8935), named only to refuse it with a clear message.
inline constexpr std::string_view kPushDeliveryMethod = "urn:ietf:rfc:8935";

struct SsfOptions {
  // The origin receivers reach this server at, "https://host[:port]" (http:// is accepted for
  // tests; SSF §7.1 requires https and receivers may refuse anything else). It names each
  // project's issuer, "<public_url>/<project_id>", and the endpoints of its discovery document.
  // Empty: "https://" + the request's Host header, for deployments behind a TLS-terminating proxy
  // that passes Host on. Default: empty.
  std::string public_url;
  // How long a poll with returnImmediately false waits for a SET before answering with none
  // (RFC 8936 §2.2 leaves the timeout to the deployment). 1 to 300 s. Default: 25 s.
  Seconds poll_wait{25};
  // The most SETs one poll answer carries, whatever maxEvents asks (RFC 8936 §2.2 lets the
  // transmitter choose; moreAvailable says when more wait). Each is signed for the answer.
  // Default: 100.
  int max_events = 100;
};

// Checks `options` once at start-up and normalizes public_url (a trailing '/' is dropped).
// kInvalidArgument naming the option and what is wrong.
Status ValidateSsfOptions(SsfOptions& options);

// The origin for a request: options.public_url when set, else "https://" + `host` (the request's
// Host header). kBadRequest when no public URL is set and `host` is empty or is not a host name
// or address with an optional port (it names the issuer receivers check every SET against, so
// nothing else may pass).
Result<std::string> SsfOrigin(const SsfOptions& options, std::string_view host);

// The project's SSF issuer, "<origin>/<project_id>" (SSF §7.2: its discovery document is then at
// "<origin>/.well-known/ssf-configuration/<project_id>"). The path mirrors the session JWTs'
// issuer, "stytch.com/<project_id>", which is not an https URL and so cannot be an SSF issuer.
std::string SsfIssuer(std::string_view origin, std::string_view project_id);

// The jti of the SET for entry `sequence` of the project's log: "<project_id>.<sequence>". Stable:
// the same entry always gets the same jti, on every node and across restarts.
std::string SsfJti(std::string_view project_id, std::int64_t sequence);
// The sequence number a jti of SsfJti(project_id, n) names, or nullopt for any other string
// (another project's jti, a malformed one).
std::optional<std::int64_t> SsfSequenceOf(std::string_view project_id, std::string_view jti);

// The CAEP session-revoked event for one entry of the project's revocation log, addressed to
// `audience` under `issuer`:
//   * a `session` entry: sub_id {"format":"complex","session":{"format":"opaque","id":<session>},
//     "user":{"format":"iss_sub","iss":"stytch.com/<project>","sub":<user>}} (the session JWT's
//     own iss and sub name the user);
//   * a `user` entry: sub_id {"format":"complex","user":{...the same...}}, which CAEP §3.1 reads
//     as every session of the user (as of event_timestamp).
// The event carries event_timestamp (the revocation time) and reason_admin (the CAEP
// interoperability profile requires one); jti and txn are SsfJti.
SecurityEvent SessionRevokedEvent(const RevocationEntry& entry, std::string_view issuer,
                                  std::string_view audience);

}  // namespace tessera

#endif  // TESSERA_SERVICE_SSF_H_
