// Session custom claims (spec §3.6): deep merge, null deletes, size and name limits.
#ifndef TESSERA_TOKEN_CUSTOM_CLAIMS_H_
#define TESSERA_TOKEN_CUSTOM_CLAIMS_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>

#include "tessera/result.h"

namespace tessera {

// Serialized (compact JSON) size limit of a session's custom claims.
inline constexpr std::size_t kMaxCustomClaimsBytes = 4096;
// Nesting limit of custom claims: the claims object itself is depth 1. Chosen so that a JWT
// carrying them stays within kMaxJwtPayloadDepth.
inline constexpr std::size_t kMaxCustomClaimsDepth = 8;

// OK when `claims` may be stored on a session and emitted in its JWTs: no registered claim name
// (iss sub aud exp nbf iat jti; kCustomClaimsReserved), nothing under "https://stytch.com/"
// (kCustomClaimsStytchNamespace), at most kMaxCustomClaimsBytes serialized and
// kMaxCustomClaimsDepth deep (kCustomClaimsTooLarge).
Status ValidateCustomClaims(const boost::json::object& claims);

// Merges `update` into `current` and validates the result.
//
// Deep merge: a new key is added; an existing key is replaced; a null value deletes the key (and is
// never stored); when both the existing and the new value are objects, the same rules apply
// recursively. `update` must be an object (kCustomClaimsNotObject) and is itself checked for
// reserved names, so a request that tries to set `iss` fails even if the result would not contain
// it.
Result<boost::json::object> MergeCustomClaims(const boost::json::object& current,
                                              const boost::json::value& update);

}  // namespace tessera

#endif  // TESSERA_TOKEN_CUSTOM_CLAIMS_H_
