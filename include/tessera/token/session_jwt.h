// Session JWTs: minting (spec §3.1, §3.2, §3.5) and reading the session out of a verified one.
#ifndef TESSERA_TOKEN_SESSION_JWT_H_
#define TESSERA_TOKEN_SESSION_JWT_H_

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/jwt.h"
#include "tessera/token/keys.h"

namespace tessera {

// Every session JWT lives exactly this long: exp = iat + 300 (spec §3.2).
inline constexpr Seconds kSessionJwtLifetime{300};

// The name of the session claim.
inline constexpr std::string_view kSessionClaimName = "https://stytch.com/session";

struct SessionAttributes {
  std::string ip_address;  // "" when unknown.
  std::string user_agent;  // "" when unknown.
};

// What a session JWT says about its session.
struct SessionClaims {
  std::string project_id;  // -> aud: [project_id], iss: "stytch.com/<project_id>"
  std::string user_id;     // -> sub
  std::string session_id;  // -> session claim `id`
  TimePoint started_at;
  TimePoint last_accessed_at;
  TimePoint expires_at;  // The session's expiry, not the JWT's.
  SessionAttributes attributes;
  // Authentication factors as the API object carries them. Minting writes each without
  // `created_at`/`updated_at` and without empty-string members of its typed sub-object, as real
  // session JWTs do; both forms are accepted.
  boost::json::array authentication_factors;
  std::vector<std::string> roles;  // Always emitted, even when empty.
  // Top-level custom claims. REQUIRES: valid per ValidateCustomClaims
  // (tessera/token/custom_claims.h) so that no custom claim can shadow a registered one.
  boost::json::object custom_claims;
};

// Mints a session JWT signed by `key` at time `now`: header {alg, kid, typ:"JWT"}; claims aud, exp
// (= iat + 300), the session claim, iat, iss, nbf (= iat), sub and the custom claims, top-level
// keys in alphabetical order, compact JSON, no `jti`.
Result<std::string> MintSessionJwt(const SigningKey& key, const SessionClaims& claims,
                                   TimePoint now);

// The session described by a verified session JWT. Fails with kJwtSessionClaimInvalid when the
// session claim is missing or malformed (Tessera never mints such a token, so this means another
// issuer's JWT slipped past the issuer check, or a bug).
Result<SessionClaims> SessionClaimsFromJwt(const VerifiedJwt& jwt);

// Standard verification options for a project's session JWTs: audience = project id, issuer =
// "stytch.com/<project_id>" plus `extra_issuers` (e.g. the server's base URL, spec §3.4).
JwtVerifyOptions SessionJwtOptions(std::string_view project_id,
                                   std::vector<std::string> extra_issuers = {},
                                   Seconds clock_skew = Seconds(0));

}  // namespace tessera

#endif  // TESSERA_TOKEN_SESSION_JWT_H_
