// Fuzzes VerifyJwt, the first code to touch a token an attacker sends.
//
// Every input is verified as a compact JWT, once with expiry checking and once without, against a
// key set holding one RS256, one ES256 and one EdDSA key. Random bytes almost never carry a valid
// signature, so on their own they exercise only the steps before the signature check; to reach the
// payload parser and the claim checks too, an input that starts with '{' is also taken as a
// payload, signed with the EdDSA key under a fixed header, and verified the same way.
//
// Beyond "no crash, no leak, no UB", the target checks invariants that the pipeline promises
// (tessera/token/jwt.h) and aborts when one breaks:
//   * expiry is the last step, so the two runs agree on everything except kJwtExpired: a token
//     that fails with expiry checking fails the same way without it, unless it failed only on
//     expiry, and a token that passes with it passes without it, with the same result;
//   * a failure leaves nothing on OpenSSL's error queue (STYLE.md habit 6).
#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "fuzz_keys.h"
#include "tessera/token/jwt.h"

namespace tessera::fuzz {
namespace {

[[noreturn]] void Violated(const char* what) {
  std::fprintf(stderr, "jwt_verify_fuzz: invariant violated: %s\n", what);
  std::abort();
}

bool SameResult(const VerifiedJwt& a, const VerifiedJwt& b) {
  return a.alg == b.alg && a.kid == b.kid && a.issuer == b.issuer && a.subject == b.subject &&
         a.issued_at == b.issued_at && a.not_before == b.not_before &&
         a.expires_at == b.expires_at && a.claims == b.claims;
}

void VerifyBothWays(std::string_view jwt) {
  static const JwtVerifyOptions* checked = new JwtVerifyOptions(FuzzOptions(true));
  static const JwtVerifyOptions* unchecked = new JwtVerifyOptions(FuzzOptions(false));
  const TimePoint now = FromUnixSeconds(kVerifyTime);

  const Result<VerifiedJwt> with_expiry = VerifyJwt(jwt, FuzzKeySet(), *checked, now);
  if (ERR_peek_error() != 0) Violated("OpenSSL error queue not drained");
  const Result<VerifiedJwt> without_expiry = VerifyJwt(jwt, FuzzKeySet(), *unchecked, now);
  if (ERR_peek_error() != 0) Violated("OpenSSL error queue not drained");

  if (with_expiry.ok()) {
    if (!without_expiry.ok()) Violated("valid with expiry checking, invalid without");
    if (!SameResult(*with_expiry, *without_expiry)) Violated("the two runs differ");
    return;
  }
  const ErrorCode code = with_expiry.status().code();
  if (code == ErrorCode::kOk) Violated("an error result with an OK code");
  if (code == ErrorCode::kJwtExpired) {
    if (!without_expiry.ok()) Violated("expired, yet invalid for another reason without expiry");
  } else if (without_expiry.ok() || without_expiry.status().code() != code) {
    Violated("expiry checking changed a non-expiry failure");
  }
}

// `payload` signed with the EdDSA fuzz key under the header VerifyJwt expects.
std::string SignedWithFixedHeader(std::string_view payload) {
  const SigningKey& key = FuzzKey(JwtAlgorithm::kEdDSA);
  std::string jwt = Base64UrlEncode(R"({"alg":"EdDSA","kid":"jwk-fuzz-EdDSA","typ":"JWT"})");
  jwt.push_back('.');
  Base64UrlEncodeAppend(AsBytes(payload), jwt);
  auto sig = key.Sign(jwt);
  if (!sig.ok()) Violated("signing with the fixed EdDSA key failed");
  jwt.push_back('.');
  Base64UrlEncodeAppend(AsBytes(*sig), jwt);
  return jwt;
}

}  // namespace
}  // namespace tessera::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  tessera::fuzz::VerifyBothWays(input);
  if (!input.empty() && input.front() == '{') {
    tessera::fuzz::VerifyBothWays(tessera::fuzz::SignedWithFixedHeader(input));
  }
  return 0;
}
