// Session tokens (spec §4): 44 characters of unpadded base64url, 33 bytes from the CSPRNG.
//
// The store never holds a usable token. It indexes sessions by SHA-256 of the token (the token has
// 264 bits of entropy, so an unsalted fast hash is not guessable), and keeps the token itself only
// sealed under the master key, bound to its session id, so that a JWT-based authenticate can hand
// the same token back (spec §2.1). docs/token_format.md gives the reasoning.
#ifndef TESSERA_TOKEN_SESSION_TOKEN_H_
#define TESSERA_TOKEN_SESSION_TOKEN_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/result.h"

namespace tessera {

inline constexpr std::size_t kSessionTokenBytes = 33;
inline constexpr std::size_t kSessionTokenLength = 44;

using TokenDigest = std::array<std::uint8_t, 32>;

// A fresh session token.
Result<std::string> GenerateSessionToken(RandomSource& random);

// True when `token` has the shape of a session token: exactly 44 base64url characters. Checked
// before any lookup so malformed input is rejected cheaply and consistently.
bool IsWellFormedSessionToken(std::string_view token);

// The lookup key of a token: SHA-256 of its text.
TokenDigest DigestSessionToken(std::string_view token);

// The token sealed under the master key's session-token subkey, bound to `session_id`.
Result<std::string> SealSessionToken(const MasterKey& key, std::string_view session_id,
                                     std::string_view token, RandomSource& random);

// The token back from SealSessionToken's output. kDecryptionFailed under another master key, for
// another session id, or when tampered with.
Result<std::string> OpenSessionToken(const MasterKey& key, std::string_view session_id,
                                     std::string_view sealed);

}  // namespace tessera

#endif  // TESSERA_TOKEN_SESSION_TOKEN_H_
