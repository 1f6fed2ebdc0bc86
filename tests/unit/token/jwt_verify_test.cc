#include <gtest/gtest.h>

#include "common/base64.h"
#include "fake_clock.h"
#include "status_matchers.h"
#include "tessera/token/jwt.h"
#include "tessera/token/session_jwt.h"
#include "test_keys.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::HeaderFor;
using testing::KeySetOf;
using testing::kTestProject;
using testing::SignRaw;
using testing::TestKey;

constexpr std::int64_t kIat = FakeClock::kDefaultStart;

// A minimal valid payload at kIat:
// {"aud":["project-test-…"],"exp":kIat+300,"iat":kIat,"iss":"stytch.com/project-test-…",
//  "nbf":kIat,"sub":"user-test-1"}
std::string Payload(std::string_view overrides = "") {
  std::string p = "{\"aud\":[\"" + std::string(kTestProject) +
                  "\"],\"exp\":" + std::to_string(kIat + 300) + ",\"iat\":" + std::to_string(kIat) +
                  ",\"iss\":\"stytch.com/" + std::string(kTestProject) +
                  "\",\"nbf\":" + std::to_string(kIat) + ",\"sub\":\"user-test-1\"";
  if (!overrides.empty()) {
    p += ",";
    p += overrides;
  }
  return p + "}";
}

// A payload built from explicit members only.
std::string PayloadOf(std::string_view members) { return "{" + std::string(members) + "}"; }

class JwtVerifyTest : public ::testing::TestWithParam<JwtAlgorithm> {
 protected:
  JwtVerifyTest()
      : key_(TestKey(GetParam())),
        keys_(KeySetOf({&TestKey(JwtAlgorithm::kRS256), &TestKey(JwtAlgorithm::kES256),
                        &TestKey(JwtAlgorithm::kEdDSA)})),
        options_(SessionJwtOptions(kTestProject)) {}

  Result<VerifiedJwt> Verify(std::string_view jwt) {
    return VerifyJwt(jwt, *keys_, options_, clock_.Now());
  }

  const SigningKey& key_;
  std::shared_ptr<const KeySet> keys_;
  JwtVerifyOptions options_;
  FakeClock clock_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, JwtVerifyTest,
                         ::testing::Values(JwtAlgorithm::kRS256, JwtAlgorithm::kES256,
                                           JwtAlgorithm::kEdDSA),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

TEST_P(JwtVerifyTest, AcceptsAValidToken) {
  auto v = Verify(SignRaw(key_, HeaderFor(key_), Payload(R"("role":"admin")")));
  ASSERT_OK(v);
  EXPECT_EQ(v->alg, GetParam());
  EXPECT_EQ(v->kid, key_.kid());
  EXPECT_EQ(v->subject, "user-test-1");
  EXPECT_EQ(v->issuer, "stytch.com/" + std::string(kTestProject));
  EXPECT_EQ(v->issued_at, kIat);
  EXPECT_EQ(v->not_before, kIat);
  EXPECT_EQ(v->expires_at, kIat + 300);
  EXPECT_EQ(v->claims.at("role").as_string(), "admin");
}

// Generated negatives (STYLE.md habit 7): every single-bit change of the signature and every
// truncation of the token must fail.
TEST_P(JwtVerifyTest, EveryFlippedSignatureBitAndEveryTruncationFails) {
  const std::string jwt = SignRaw(key_, HeaderFor(key_), Payload());
  ASSERT_OK(Verify(jwt));
  const std::size_t dot2 = jwt.rfind('.');
  auto sig = Base64UrlDecode(std::string_view(jwt).substr(dot2 + 1));
  ASSERT_OK(sig);
  for (std::size_t bit = 0; bit < sig->size() * 8; ++bit) {
    std::string flipped = *sig;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    const std::string bad = jwt.substr(0, dot2 + 1) + Base64UrlEncode(flipped);
    EXPECT_ERROR(Verify(bad), ErrorCode::kJwtSignatureInvalid) << "bit " << bit;
  }
  for (std::size_t len = 0; len < jwt.size(); ++len) {
    EXPECT_FALSE(Verify(jwt.substr(0, len)).ok()) << "length " << len;
  }
  // Signature cut by whole bytes (always valid base64url): wrong length, must fail as a signature.
  for (std::size_t n = 0; n < sig->size(); ++n) {
    const std::string bad = jwt.substr(0, dot2 + 1) + Base64UrlEncode(sig->substr(0, n));
    EXPECT_FALSE(Verify(bad).ok()) << "signature bytes " << n;
  }
  // An extra byte appended to the signature.
  EXPECT_ERROR(Verify(jwt.substr(0, dot2 + 1) + Base64UrlEncode(*sig + "A")),
               ErrorCode::kJwtSignatureInvalid);
}

TEST_P(JwtVerifyTest, PayloadOrHeaderChangedAfterSigningFails) {
  const std::string jwt = SignRaw(key_, HeaderFor(key_), Payload());
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = jwt.rfind('.');
  const std::string other_payload = Base64UrlEncode(Payload(R"("admin":true)"));
  EXPECT_ERROR(Verify(jwt.substr(0, dot1 + 1) + other_payload + jwt.substr(dot2)),
               ErrorCode::kJwtSignatureInvalid);
}

TEST_P(JwtVerifyTest, SignatureFromAnotherKeyWithTheSameKidFails) {
  // Same kid as the trusted key, signed by a different key of the same type.
  const SigningKey& other = TestKey(GetParam(), /*second=*/true);
  std::string header = HeaderFor(other);
  const std::string from = other.kid(), to = key_.kid();
  header.replace(header.find(from), from.size(), to);
  EXPECT_ERROR(Verify(SignRaw(other, header, Payload())), ErrorCode::kJwtSignatureInvalid);
}

TEST(JwtVerify, StructureErrors) {
  FakeClock clock;
  const auto& key = TestKey(JwtAlgorithm::kRS256);
  auto keys = KeySetOf({&key});
  const auto opts = SessionJwtOptions(kTestProject);
  const auto verify = [&](std::string_view jwt) {
    return VerifyJwt(jwt, *keys, opts, clock.Now());
  };
  const std::string good = SignRaw(key, HeaderFor(key), Payload());
  EXPECT_ERROR(verify(""), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify("abc"), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify("a.b"), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify(good + ".x"), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify(".b.c"), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify("a..c"), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify("a.b."), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(verify(std::string(kMaxJwtBytes + 1, 'a')), ErrorCode::kInputTooLarge);
  // A JWE-like five-part token.
  EXPECT_ERROR(verify("a.b.c.d.e"), ErrorCode::kJwtMalformed);
  // Padding or the standard alphabet in the header.
  const std::size_t dot1 = good.find('.');
  EXPECT_ERROR(verify(good.substr(0, dot1) + "=" + good.substr(dot1)), ErrorCode::kMalformedBase64);
  EXPECT_ERROR(verify("e+J." + good.substr(dot1 + 1)), ErrorCode::kMalformedBase64);
}

class JwtHeaderTest : public ::testing::Test {
 protected:
  Result<VerifiedJwt> VerifyWithHeader(std::string_view header,
                                       const SigningKey* signer = nullptr) {
    const SigningKey& k = signer ? *signer : key_;
    return VerifyJwt(SignRaw(k, header, Payload()), *keys_, SessionJwtOptions(kTestProject),
                     clock_.Now());
  }
  std::string Kid() const { return "\"kid\":\"" + key_.kid() + "\""; }

  const SigningKey& key_ = TestKey(JwtAlgorithm::kRS256);
  std::shared_ptr<const KeySet> keys_ =
      KeySetOf({&TestKey(JwtAlgorithm::kRS256), &TestKey(JwtAlgorithm::kES256)});
  FakeClock clock_;
};

TEST_F(JwtHeaderTest, AllowListOfAlgorithms) {
  for (const char* alg : {"none", "None", "HS256", "HS384", "HS512", "RS384", "RS512", "PS256",
                          "ES384", "ES512", "ES256K", "", "rs256"}) {
    EXPECT_ERROR(
        VerifyWithHeader("{\"alg\":\"" + std::string(alg) + "\"," + Kid() + ",\"typ\":\"JWT\"}"),
        ErrorCode::kJwtAlgorithmNotAllowed)
        << alg;
  }
  EXPECT_ERROR(VerifyWithHeader("{" + Kid() + ",\"typ\":\"JWT\"}"), ErrorCode::kJwtHeaderInvalid);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":256," + Kid() + ",\"typ\":\"JWT\"}"),
               ErrorCode::kJwtHeaderInvalid);
}

TEST_F(JwtHeaderTest, UnsignedTokenIsRefused) {
  // {"alg":"none","typ":"JWT"} with an empty signature: refused as malformed before anything else,
  // and with a junk signature refused by the algorithm allow-list.
  const std::string input =
      Base64UrlEncode(std::string_view("{\"alg\":\"none\",\"typ\":\"JWT\"}")) + "." +
      Base64UrlEncode(Payload());
  const auto opts = SessionJwtOptions(kTestProject);
  EXPECT_ERROR(VerifyJwt(input + ".", *keys_, opts, clock_.Now()), ErrorCode::kJwtMalformed);
  EXPECT_ERROR(VerifyJwt(input + ".AAAA", *keys_, opts, clock_.Now()),
               ErrorCode::kJwtAlgorithmNotAllowed);
}

TEST_F(JwtHeaderTest, HmacWithThePublicKeyAsSecretIsRefused) {
  // The classic confusion attack: HS256 keyed with the RSA public key's JWK text. Refused at the
  // algorithm step, before any key is used.
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"HS256\"," + Kid() + ",\"typ\":\"JWT\"}"),
               ErrorCode::kJwtAlgorithmNotAllowed);
}

TEST_F(JwtHeaderTest, CriticalAndEmbeddedKeysAreRefused) {
  const std::string base = "\"alg\":\"RS256\"," + Kid() + ",\"typ\":\"JWT\"";
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"crit\":[\"exp\"]}"),
               ErrorCode::kJwtCriticalUnsupported);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"crit\":[]}"), ErrorCode::kJwtCriticalUnsupported);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"jwk\":{\"kty\":\"RSA\"}}"),
               ErrorCode::kJwtEmbeddedKey);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"jku\":\"https://evil.example/jwks\"}"),
               ErrorCode::kJwtEmbeddedKey);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"x5u\":\"https://evil.example/cert\"}"),
               ErrorCode::kJwtEmbeddedKey);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"x5c\":[\"MIIB\"]}"), ErrorCode::kJwtEmbeddedKey);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"zip\":\"DEF\"}"), ErrorCode::kJwtHeaderInvalid);
  EXPECT_ERROR(VerifyWithHeader("{" + base + ",\"b64\":false}"), ErrorCode::kJwtHeaderInvalid);
}

TEST_F(JwtHeaderTest, TypKidAndKeyMatching) {
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\"," + Kid() + "}"), ErrorCode::kJwtTypeInvalid);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\"," + Kid() + ",\"typ\":\"at+jwt\"}"),
               ErrorCode::kJwtTypeInvalid);
  EXPECT_OK(VerifyWithHeader("{\"alg\":\"RS256\"," + Kid() + ",\"typ\":\"jwt\"}"));
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"), ErrorCode::kJwtKidMissing);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\",\"kid\":\"jwk-test-unknown\",\"typ\":\"JWT\"}"),
               ErrorCode::kJwtKidUnknown);
  // An ES256 header naming the RSA key, signed by the EC key: the key type decides, not the header.
  const SigningKey& ec = TestKey(JwtAlgorithm::kES256);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"ES256\"," + Kid() + ",\"typ\":\"JWT\"}", &ec),
               ErrorCode::kJwtKeyMismatch);
  // An RS256 header naming the EC key.
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\",\"kid\":\"" + ec.kid() + "\",\"typ\":\"JWT\"}"),
               ErrorCode::kJwtKeyMismatch);
}

TEST_F(JwtHeaderTest, HeaderMustBeASmallJsonObject) {
  EXPECT_ERROR(VerifyWithHeader("[\"alg\",\"RS256\"]"), ErrorCode::kJwtHeaderInvalid);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\""), ErrorCode::kMalformedJson);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\",\"x\":[[[1]]]}"), ErrorCode::kJsonTooDeep);
  EXPECT_ERROR(VerifyWithHeader("{\"alg\":\"RS256\",\"pad\":\"" + std::string(2000, 'a') + "\"}"),
               ErrorCode::kJwtHeaderInvalid);
}

class JwtClaimsTest : public ::testing::Test {
 protected:
  Result<VerifiedJwt> VerifyPayload(std::string_view payload) {
    return VerifyJwt(SignRaw(key_, HeaderFor(key_), payload), *keys_, options_, clock_.Now());
  }
  std::string Iss() const { return "\"iss\":\"stytch.com/" + std::string(kTestProject) + "\""; }
  std::string Aud() const { return "\"aud\":[\"" + std::string(kTestProject) + "\"]"; }
  std::string Times(std::int64_t iat, std::int64_t nbf, std::int64_t exp) const {
    return "\"iat\":" + std::to_string(iat) + ",\"nbf\":" + std::to_string(nbf) +
           ",\"exp\":" + std::to_string(exp);
  }

  const SigningKey& key_ = TestKey(JwtAlgorithm::kRS256);
  std::shared_ptr<const KeySet> keys_ = KeySetOf({&key_});
  JwtVerifyOptions options_ = SessionJwtOptions(kTestProject);
  FakeClock clock_;
};

TEST_F(JwtClaimsTest, IssuerAndAudience) {
  const std::string t = Times(kIat, kIat, kIat + 300);
  const std::string sub = "\"sub\":\"u\"";
  EXPECT_OK(VerifyPayload(PayloadOf(Iss() + "," + Aud() + "," + t + "," + sub)));
  EXPECT_ERROR(VerifyPayload(PayloadOf("\"iss\":\"stytch.com/project-test-other\"," + Aud() + "," +
                                       t + "," + sub)),
               ErrorCode::kJwtIssuerInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf("\"iss\":\"stytch.com/" + std::string(kTestProject) +
                                       "/\"," + Aud() + "," + t + "," + sub)),
               ErrorCode::kJwtIssuerInvalid);
  // aud as a plain string is fine (RFC 7519 §4.1.3).
  EXPECT_OK(VerifyPayload(
      PayloadOf(Iss() + ",\"aud\":\"" + std::string(kTestProject) + "\"," + t + "," + sub)));
  EXPECT_OK(VerifyPayload(PayloadOf(Iss() + ",\"aud\":[\"other\",\"" + std::string(kTestProject) +
                                    "\"]," + t + "," + sub)));
  EXPECT_ERROR(
      VerifyPayload(PayloadOf(Iss() + ",\"aud\":[\"project-test-other\"]," + t + "," + sub)),
      ErrorCode::kJwtAudienceInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(Iss() + ",\"aud\":[]," + t + "," + sub)),
               ErrorCode::kJwtAudienceInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(Iss() + ",\"aud\":42," + t + "," + sub)),
               ErrorCode::kJwtClaimsInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(Iss() + ",\"aud\":[42]," + t + "," + sub)),
               ErrorCode::kJwtClaimsInvalid);
  // Extra accepted issuer (the base URL, spec §3.4).
  options_.issuers.push_back("http://127.0.0.1:8080");
  EXPECT_OK(
      VerifyPayload(PayloadOf("\"iss\":\"http://127.0.0.1:8080\"," + Aud() + "," + t + "," + sub)));
}

TEST_F(JwtClaimsTest, RegisteredClaimsAreRequiredAndTyped) {
  const std::string all[] = {Iss(),
                             Aud(),
                             "\"iat\":" + std::to_string(kIat),
                             "\"nbf\":" + std::to_string(kIat),
                             "\"exp\":" + std::to_string(kIat + 300),
                             "\"sub\":\"u\""};
  for (std::size_t skip = 0; skip < std::size(all); ++skip) {
    std::string members;
    for (std::size_t i = 0; i < std::size(all); ++i) {
      if (i == skip) continue;
      if (!members.empty()) members += ",";
      members += all[i];
    }
    EXPECT_ERROR(VerifyPayload(PayloadOf(members)), ErrorCode::kJwtClaimsInvalid) << all[skip];
  }
  const std::string rest = Iss() + "," + Aud() + ",\"sub\":\"u\"";
  EXPECT_ERROR(VerifyPayload(PayloadOf(rest + ",\"iat\":\"" + std::to_string(kIat) +
                                       "\",\"nbf\":1,\"exp\":" + std::to_string(kIat + 300))),
               ErrorCode::kJwtClaimsInvalid);
  EXPECT_ERROR(
      VerifyPayload(PayloadOf(Aud() + ",\"iss\":7,\"sub\":\"u\"," + Times(kIat, kIat, kIat + 300))),
      ErrorCode::kJwtClaimsInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(Iss() + "," + Aud() + ",\"sub\":null," +
                                       Times(kIat, kIat, kIat + 300))),
               ErrorCode::kJwtClaimsInvalid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(rest + ",\"iat\":1e300,\"nbf\":1,\"exp\":2")),
               ErrorCode::kJwtClaimsInvalid);
  // Fractional NumericDates are accepted (RFC 7519 §2), truncated to seconds.
  auto v = VerifyPayload(PayloadOf(rest + ",\"iat\":" + std::to_string(kIat) +
                                   ".5,\"nbf\":" + std::to_string(kIat) +
                                   ",\"exp\":" + std::to_string(kIat + 300) + ".9"));
  ASSERT_OK(v);
  EXPECT_EQ(v->expires_at, kIat + 300);
  EXPECT_ERROR(VerifyPayload("[1,2,3]"), ErrorCode::kJwtClaimsInvalid);
  EXPECT_ERROR(VerifyPayload("{\"iss\":"), ErrorCode::kMalformedJson);
}

TEST_F(JwtClaimsTest, DeepPayloadIsRefusedWhileParsing) {
  std::string deep = "1";
  for (int i = 0; i < 40; ++i) deep = "[" + deep + "]";
  EXPECT_ERROR(VerifyPayload(Payload("\"x\":" + deep)), ErrorCode::kJsonTooDeep);
  std::string ok = "1";
  for (int i = 0; i < 10; ++i) ok = "[" + ok + "]";
  EXPECT_OK(VerifyPayload(Payload("\"x\":" + ok)));
}

TEST_F(JwtClaimsTest, TimeChecksUseTheInjectedClockAndSkew) {
  const std::string base = Iss() + "," + Aud() + ",\"sub\":\"u\",";
  const std::string jwt_payload = PayloadOf(base + Times(kIat, kIat, kIat + 300));
  clock_.Set(FromUnixSeconds(kIat + 299));
  EXPECT_OK(VerifyPayload(jwt_payload));
  clock_.Set(FromUnixSeconds(kIat + 300));  // exp <= now: expired.
  EXPECT_ERROR(VerifyPayload(jwt_payload), ErrorCode::kJwtExpired);
  options_.clock_skew = Seconds(5);
  EXPECT_OK(VerifyPayload(jwt_payload));
  clock_.Set(FromUnixSeconds(kIat + 305));
  EXPECT_ERROR(VerifyPayload(jwt_payload), ErrorCode::kJwtExpired);

  // The refresh path ignores exp and nothing else.
  options_.check_expiry = false;
  clock_.Set(FromUnixSeconds(kIat + 86400));
  EXPECT_OK(VerifyPayload(jwt_payload));
  EXPECT_ERROR(VerifyPayload(PayloadOf("\"iss\":\"x\"," + Aud() + ",\"sub\":\"u\"," +
                                       Times(kIat, kIat, kIat + 300))),
               ErrorCode::kJwtIssuerInvalid);
  options_.check_expiry = true;

  options_.clock_skew = Seconds(0);
  clock_.Set(FromUnixSeconds(kIat));
  EXPECT_ERROR(VerifyPayload(PayloadOf(base + Times(kIat, kIat + 1, kIat + 300))),
               ErrorCode::kJwtNotYetValid);
  EXPECT_ERROR(VerifyPayload(PayloadOf(base + Times(kIat + 1, kIat, kIat + 300))),
               ErrorCode::kJwtIssuedInFuture);
  options_.clock_skew = Seconds(1);
  EXPECT_OK(VerifyPayload(PayloadOf(base + Times(kIat + 1, kIat + 1, kIat + 300))));
}

TEST_F(JwtClaimsTest, SignatureIsCheckedBeforeClaims) {
  // An expired token with a bad signature reports the signature, not the expiry.
  clock_.Set(FromUnixSeconds(kIat + 1000));
  std::string jwt = SignRaw(key_, HeaderFor(key_), Payload());
  jwt[jwt.size() - 5] = jwt[jwt.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_ERROR(VerifyJwt(jwt, *keys_, options_, clock_.Now()), ErrorCode::kJwtSignatureInvalid);
}

}  // namespace
}  // namespace tessera
