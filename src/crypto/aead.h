// AES-256-GCM sealing with a random 96-bit nonce.
//
// Sealed format: nonce (12 bytes) || ciphertext || tag (16 bytes). With random nonces a single key
// may seal about 2^32 messages before the collision risk becomes meaningful (NIST SP 800-38D §8.3);
// Tessera seals one message per signing key and per session, far below that.
#ifndef TESSERA_CRYPTO_AEAD_H_
#define TESSERA_CRYPTO_AEAD_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/random.h"
#include "tessera/result.h"

namespace tessera::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadNonceBytes = 12;
inline constexpr std::size_t kAeadTagBytes = 16;

using AeadKey = std::array<std::uint8_t, kAeadKeyBytes>;

// Encrypts and authenticates `plaintext`, binding `aad` (authenticated, not encrypted).
Result<std::string> AeadSeal(const AeadKey& key, std::string_view plaintext, std::string_view aad,
                             RandomSource& random);

// Opens what AeadSeal produced. Fails with kDecryptionFailed when the key or `aad` differ or any
// byte was changed.
Result<std::string> AeadOpen(const AeadKey& key, std::string_view sealed, std::string_view aad);

}  // namespace tessera::crypto

#endif  // TESSERA_CRYPTO_AEAD_H_
