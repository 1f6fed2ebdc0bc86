#include "service/email/one_time_secrets.h"

#include <array>
#include <cstdint>

#include "common/base64.h"
#include "crypto/hash.h"

namespace tessera {

Result<std::string> GenerateMagicToken(RandomSource& random) {
  std::array<std::uint8_t, 32> bytes{};
  TESSERA_RETURN_IF_ERROR(random.Fill(bytes));
  return Base64UrlEncodePadded(bytes);
}

Result<std::string> GenerateOtpCode(RandomSource& random) {
  // 2^32 - (2^32 mod 10^6) is the largest multiple of 10^6 that fits: values at or above it
  // would favour small codes, so they are drawn again.
  constexpr std::uint64_t kCodes = 1000000;
  constexpr std::uint64_t kLimit = (std::uint64_t{1} << 32) - ((std::uint64_t{1} << 32) % kCodes);
  for (;;) {
    std::array<std::uint8_t, 4> b{};
    TESSERA_RETURN_IF_ERROR(random.Fill(b));
    const std::uint64_t v = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) |
                            (std::uint64_t{b[2]} << 8) | std::uint64_t{b[3]};
    if (v >= kLimit) continue;
    std::string code = std::to_string(v % kCodes);
    return std::string(6 - code.size(), '0') + code;
  }
}

bool IsOtpCodeShape(std::string_view code) {
  if (code.size() != 6) return false;
  for (const char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

OneTimeDigest DigestMagicToken(const MasterKey& key, std::string_view token) {
  return key.OneTimeDigest(std::string("token\n") + std::string(token));
}

OneTimeDigest DigestOtpCode(const MasterKey& key, std::string_view method_id,
                            std::string_view code) {
  return key.OneTimeDigest("otp\n" + std::string(method_id) + "\n" + std::string(code));
}

Status CheckPkce(std::string_view code_challenge, std::string_view code_verifier) {
  if (code_challenge.empty() && code_verifier.empty()) return Status::Ok();
  if (code_verifier.empty()) {
    return Error(ErrorCode::kPkceExpectedCodeVerifier,
                 "This flow was started using a code_challenge but the authentication call is "
                 "missing the corresponding code_verifier.");
  }
  if (code_challenge.empty()) {
    return Error(ErrorCode::kPkceDidNotExpectCodeVerifier,
                 "A code_verifier was passed, but this flow was not started with a "
                 "code_challenge.");
  }
  while (code_challenge.ends_with('=')) code_challenge.remove_suffix(1);
  const crypto::Digest256 h = crypto::Sha256(code_verifier);
  const std::string expected = Base64UrlEncode(h);
  if (!crypto::ConstantTimeEquals(expected, code_challenge)) {
    return Error(ErrorCode::kPkceMismatch,
                 "The submitted code_verifier does not match the code_challenge sent at the start "
                 "of the flow.");
  }
  return Status::Ok();
}

}  // namespace tessera
