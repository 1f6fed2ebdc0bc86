// Hashes, MACs, key derivation and constant-time comparison.
#ifndef TESSERA_CRYPTO_HASH_H_
#define TESSERA_CRYPTO_HASH_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera::crypto {

using Digest256 = std::array<std::uint8_t, 32>;

Digest256 Sha256(std::span<const std::uint8_t> data);
Digest256 Sha256(std::string_view data);

// HMAC-SHA-256 of `data` under `key`.
Digest256 HmacSha256(std::span<const std::uint8_t> key, std::string_view data);

// HKDF-SHA-256 (RFC 5869) of `ikm` with `salt` and `info`, `out.size()` bytes.
Status HkdfSha256(std::span<const std::uint8_t> ikm, std::string_view salt, std::string_view info,
                  std::span<std::uint8_t> out);

// True when `a` and `b` hold the same bytes. Time depends only on the lengths, never on the
// contents, so comparing a secret leaks nothing through timing. Lengths are not secret.
bool ConstantTimeEquals(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Overwrites `s` with zeros in a way the compiler may not elide.
void Cleanse(std::string& s);

}  // namespace tessera::crypto

#endif  // TESSERA_CRYPTO_HASH_H_
