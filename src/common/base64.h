// Base64 and base64url codecs.
//
// JOSE needs base64url without padding (RFC 7515 §2) and decoding must be strict: a verifier that
// accepts several spellings of the same bytes invites signature-malleability bugs. So the decoder
// rejects padding, whitespace, characters outside the alphabet, a length of 1 mod 4 and non-zero
// unused bits in the last character.
#ifndef TESSERA_COMMON_BASE64_H_
#define TESSERA_COMMON_BASE64_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera {

// Length of the unpadded base64url text for `n` bytes.
constexpr std::size_t Base64UrlEncodedSize(std::size_t n) { return (n * 8 + 5) / 6; }
// Upper bound of the decoded length of `n` base64url characters.
constexpr std::size_t Base64UrlMaxDecodedSize(std::size_t n) { return n * 3 / 4 + 2; }

// Unpadded base64url.
std::string Base64UrlEncode(std::span<const std::uint8_t> in);
std::string Base64UrlEncode(std::string_view in);
void Base64UrlEncodeAppend(std::span<const std::uint8_t> in, std::string& out);

// Strict unpadded base64url decode into `out`, which must hold Base64UrlMaxDecodedSize(in.size())
// bytes. Returns the number of bytes written, or -1 when `in` is not strict base64url.
std::ptrdiff_t Base64UrlDecodeInto(std::string_view in, std::uint8_t* out);

// Strict unpadded base64url decode. Fails with kMalformedBase64.
Result<std::string> Base64UrlDecode(std::string_view in);

// Standard base64 with '=' padding (RFC 4648 §4), as used by the JWK `x5c` member.
std::string Base64Encode(std::span<const std::uint8_t> in);
// Strict padded standard base64 decode. Fails with kMalformedBase64.
Result<std::string> Base64Decode(std::string_view in);

// Standard base64 without padding: the spelling of PHC strings ("$argon2id$...$salt$hash").
std::string Base64EncodeUnpadded(std::span<const std::uint8_t> in);

// base64url WITH '=' padding: the spelling of Stytch's `x5tS256` member.
std::string Base64UrlEncodePadded(std::span<const std::uint8_t> in);

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsStringView(std::span<const std::uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace tessera

#endif  // TESSERA_COMMON_BASE64_H_
