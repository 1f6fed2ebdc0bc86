// JWT verification: one fixed pipeline with one exit.
//
// VerifyJwt runs these steps in this order and stops at the first failure, returning the typed
// error of that step (see tessera/status.h):
//
//   1. size limit (kInputTooLarge), compact form: three non-empty segments (kJwtMalformed)
//   2. header: strict base64url (kMalformedBase64), a JSON object no deeper than 2 (kMalformedJson,
//      kJsonTooDeep), members only from {alg, kid, typ, crit, jwk, jku, x5u, x5c} of which
//      crit (kJwtCriticalUnsupported) and jwk/jku/x5u/x5c (kJwtEmbeddedKey) are refused, anything
//      else is kJwtHeaderInvalid
//   3. `alg` in {RS256, ES256, EdDSA}; none and every HS* are refused (kJwtAlgorithmNotAllowed)
//   4. `typ` equal to "JWT" ignoring case (kJwtTypeInvalid)
//   5. `kid` present (kJwtKidMissing), naming a key of the set (kJwtKidUnknown) whose algorithm is
//      the header's `alg` (kJwtKeyMismatch)
//   6. signature over "header.payload" (kJwtSignatureInvalid)
//   7. payload: strict base64url, JSON object no deeper than kMaxJwtPayloadDepth; `iss`, `sub`
//      strings, `aud` string or array of strings, `iat`, `nbf`, `exp` numbers (kJwtClaimsInvalid)
//   8. `iss` among the accepted issuers (kJwtIssuerInvalid); `aud` contains the audience
//      (kJwtAudienceInvalid)
//   9. time, with the configured skew: nbf <= now + skew (kJwtNotYetValid), iat <= now + skew
//      (kJwtIssuedInFuture), and unless expiry checking is off, now - skew < exp (kJwtExpired)
//
// Claims are checked only after the signature, so an attacker learns nothing about which claim
// check would have failed on a token they could not sign.
#ifndef TESSERA_TOKEN_JWT_H_
#define TESSERA_TOKEN_JWT_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"

namespace tessera {

// Tokens longer than this are refused before any decoding. A Tessera session JWT with a full 4 KiB
// of custom claims is under 7 KiB.
inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;
// Maximum JSON nesting of a payload: the session claim needs 4 levels, custom claims may use the
// rest (custom claims are themselves limited so that every JWT Tessera mints fits this bound).
inline constexpr std::size_t kMaxJwtPayloadDepth = 16;

struct JwtVerifyOptions {
  // The project id that `aud` must contain. Required.
  std::string audience;
  // Accepted `iss` values, e.g. {"stytch.com/<project_id>"}. Required, at least one.
  std::vector<std::string> issuers;
  // Tolerance for clock differences in the nbf, iat and exp checks. Default: 0 s.
  Seconds clock_skew{0};
  // When false, `exp` is not compared with now: the session-refresh path (spec §3.5), where a JWT
  // past its five minutes is exchanged for a new one while its session lives. Default: true.
  bool check_expiry = true;
};

// A JWT that passed every check.
struct VerifiedJwt {
  JwtAlgorithm alg;
  std::string kid;
  std::string issuer;
  std::string audience;  // The accepted audience (JwtVerifyOptions::audience) that `aud` contained.
  std::string subject;
  std::int64_t issued_at = 0;   // `iat`, Unix seconds.
  std::int64_t not_before = 0;  // `nbf`
  std::int64_t expires_at = 0;  // `exp`
  boost::json::object claims;   // The whole payload, registered claims included.
};

// Verifies `jwt` against `keys` at time `now`. See the file comment for the pipeline.
Result<VerifiedJwt> VerifyJwt(std::string_view jwt, const KeySet& keys,
                              const JwtVerifyOptions& options, TimePoint now);

// The standard issuer for a project: "stytch.com/<project_id>" (spec §3.4).
std::string ProjectIssuer(std::string_view project_id);

}  // namespace tessera

#endif  // TESSERA_TOKEN_JWT_H_
