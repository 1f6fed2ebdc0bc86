// Compact JWS signing (RFC 7515 §7.1): the one place where a token's JOSE header is written and its
// signature appended, for every kind of JWT Tessera mints (session JWTs, Security Event Tokens).
#ifndef TESSERA_TOKEN_JWS_H_
#define TESSERA_TOKEN_JWS_H_

#include <string>
#include <string_view>

#include "tessera/result.h"
#include "tessera/token/keys.h"

namespace tessera {

// Signs `payload` with `key` as a compact JWS: BASE64URL(header) "." BASE64URL(payload) "."
// BASE64URL(signature), where header is {"alg":<the key's algorithm>,"kid":<the key's id>,
// "typ":<typ>} in this order, compact JSON. `typ` is the token's media type (RFC 7515 §4.1.9):
// "JWT" for session JWTs, "secevent+jwt" for Security Event Tokens (RFC 8417 §2.3); it is escaped
// as JSON requires. REQUIRES: `payload` is the serialized JSON object the token carries (it is
// signed as given, never parsed).
//
// Fails with kInputTooLarge when the token would be longer than kMaxJwtBytes (16 KiB: no
// verifier of Tessera's would accept it), kCryptoFailure when OpenSSL cannot sign.
Result<std::string> SignCompactJws(const SigningKey& key, std::string_view typ,
                                   std::string_view payload);

}  // namespace tessera

#endif  // TESSERA_TOKEN_JWS_H_
