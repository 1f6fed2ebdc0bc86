// Security Event Tokens and the compact JWS signer under them: exact bytes of the header and
// payload, signatures that verify with the key's public half (and fail with any bit flipped or
// any byte cut), and no SET that Tessera's own session-JWT verifier would accept.
#include "tessera/token/security_event.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "fake_clock.h"
#include "status_matchers.h"
#include "tessera/token/jws.h"
#include "tessera/token/jwt.h"
#include "tessera/token/session_jwt.h"
#include "test_keys.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::KeySetOf;
using testing::kTestProject;
using testing::TestKey;

struct Parts {
  std::string header, payload, signing_input, signature;
};

Parts Split(const std::string& jwt) {
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = jwt.rfind('.');
  Parts p;
  p.header = Base64UrlDecode(std::string_view(jwt).substr(0, dot1)).value_or("?");
  p.payload =
      Base64UrlDecode(std::string_view(jwt).substr(dot1 + 1, dot2 - dot1 - 1)).value_or("?");
  p.signing_input = jwt.substr(0, dot2);
  p.signature = Base64UrlDecode(std::string_view(jwt).substr(dot2 + 1)).value_or("?");
  return p;
}

bool Verifies(const SigningKey& key, const std::string& input, const std::string& sig) {
  return key.public_key()->Verify(input, AsBytes(sig));
}

// A CAEP session-revoked event (decoded payload as the golden test below expects it):
// {"aud":"project-test-…","events":{"https://schemas.openid.net/secevent/caep/event-type/
//  session-revoked":{"event_timestamp":1772375000}},"iat":1772375115,
//  "iss":"https://auth.example.com/project-test-…","jti":"project-test-….7",
//  "sub_id":{"format":"opaque","id":"session-test-1"},"txn":"t-7"}
SecurityEvent SampleEvent() {
  SecurityEvent e;
  e.issuer = "https://auth.example.com/" + std::string(kTestProject);
  e.audience = std::string(kTestProject);
  e.jti = std::string(kTestProject) + ".7";
  e.txn = "t-7";
  e.subject = {{"format", "opaque"}, {"id", "session-test-1"}};
  e.event_type = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
  e.event = {{"event_timestamp", 1772375000}};
  return e;
}

class SecurityEventTest : public ::testing::TestWithParam<JwtAlgorithm> {
 protected:
  const SigningKey& key_ = TestKey(GetParam());
  FakeClock clock_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, SecurityEventTest,
                         ::testing::Values(JwtAlgorithm::kRS256, JwtAlgorithm::kES256,
                                           JwtAlgorithm::kEdDSA),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

TEST_P(SecurityEventTest, MintsTheSsfProfile) {
  auto set = MintSecurityEventToken(key_, SampleEvent(), clock_.Now());
  ASSERT_OK(set);
  const Parts p = Split(*set);
  EXPECT_EQ(p.header, "{\"alg\":\"" + std::string(AlgorithmName(GetParam())) + "\",\"kid\":\"" +
                          key_.kid() + "\",\"typ\":\"secevent+jwt\"}");
  const std::string pid(kTestProject);
  EXPECT_EQ(
      p.payload,
      "{\"aud\":\"" + pid +
          "\",\"events\":{\"https://schemas.openid.net/secevent/caep/event-type/"
          "session-revoked\":{\"event_timestamp\":1772375000}},\"iat\":" +
          std::to_string(FakeClock::kDefaultStart) + ",\"iss\":\"https://auth.example.com/" + pid +
          "\",\"jti\":\"" + pid +
          ".7\",\"sub_id\":{\"format\":\"opaque\",\"id\":\"session-test-1\"},\"txn\":\"t-7\"}");
  EXPECT_TRUE(Verifies(key_, p.signing_input, p.signature));
  // SSF §4.1.2 and §4.1.7: never sub, never exp.
  const auto payload = boost::json::parse(p.payload).as_object();
  EXPECT_FALSE(payload.contains("sub"));
  EXPECT_FALSE(payload.contains("exp"));
}

TEST_P(SecurityEventTest, TxnIsOmittedWhenEmpty) {
  SecurityEvent e = SampleEvent();
  e.txn.clear();
  auto set = MintSecurityEventToken(key_, e, clock_.Now());
  ASSERT_OK(set);
  EXPECT_FALSE(boost::json::parse(Split(*set).payload).as_object().contains("txn"));
}

// Generated negatives (STYLE.md habit 7).
TEST_P(SecurityEventTest, EveryFlippedSignatureBitAndEveryTruncationFails) {
  auto set = MintSecurityEventToken(key_, SampleEvent(), clock_.Now());
  ASSERT_OK(set);
  const Parts p = Split(*set);
  ASSERT_TRUE(Verifies(key_, p.signing_input, p.signature));
  for (std::size_t bit = 0; bit < p.signature.size() * 8; ++bit) {
    std::string flipped = p.signature;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(Verifies(key_, p.signing_input, flipped)) << "bit " << bit;
  }
  for (std::size_t n = 0; n < p.signature.size(); ++n) {
    EXPECT_FALSE(Verifies(key_, p.signing_input, p.signature.substr(0, n))) << "bytes " << n;
  }
  for (std::size_t n = 0; n < p.signing_input.size(); ++n) {
    EXPECT_FALSE(Verifies(key_, p.signing_input.substr(0, n), p.signature)) << "input " << n;
  }
  // Another key of the same type does not verify it.
  EXPECT_FALSE(Verifies(TestKey(GetParam(), /*second=*/true), p.signing_input, p.signature));
}

TEST_P(SecurityEventTest, ASessionJwtVerifierRefusesASet) {
  // Even with the session JWT's own issuer and audience, a SET is no session JWT: its typ is
  // not JWT (and it has neither sub nor exp).
  SecurityEvent e = SampleEvent();
  e.issuer = ProjectIssuer(kTestProject);
  auto set = MintSecurityEventToken(key_, e, clock_.Now());
  ASSERT_OK(set);
  const auto keys = KeySetOf({&key_});
  EXPECT_ERROR(VerifyJwt(*set, *keys, SessionJwtOptions(kTestProject), clock_.Now()),
               ErrorCode::kJwtTypeInvalid);
}

TEST(SecurityEvent, RefusesMissingRequiredMembers) {
  const SigningKey& key = TestKey(JwtAlgorithm::kES256);
  const TimePoint now = FakeClock().Now();
  for (int which = 0; which < 5; ++which) {
    SecurityEvent e = SampleEvent();
    switch (which) {
      case 0:
        e.issuer.clear();
        break;
      case 1:
        e.audience.clear();
        break;
      case 2:
        e.jti.clear();
        break;
      case 3:
        e.event_type.clear();
        break;
      case 4:
        e.subject.clear();
        break;
    }
    EXPECT_ERROR(MintSecurityEventToken(key, e, now), ErrorCode::kInvalidArgument) << which;
  }
  // An empty event object is a valid event (session-revoked has no required claims).
  SecurityEvent e = SampleEvent();
  e.event.clear();
  EXPECT_OK(MintSecurityEventToken(key, e, now));
}

TEST(CompactJws, HeaderEscapesTypAndLimitsSize) {
  const SigningKey& key = TestKey(JwtAlgorithm::kES256);
  auto jws = SignCompactJws(key, "a\"b", "{}");
  ASSERT_OK(jws);
  const Parts p = Split(*jws);
  EXPECT_EQ(p.header, "{\"alg\":\"ES256\",\"kid\":\"" + key.kid() + "\",\"typ\":\"a\\\"b\"}");
  EXPECT_EQ(p.payload, "{}");
  EXPECT_TRUE(Verifies(key, p.signing_input, p.signature));
  // Refused before signing when the token could not be verified anywhere (16 KiB).
  const std::string big = "{\"x\":\"" + std::string(kMaxJwtBytes, 'a') + "\"}";
  EXPECT_ERROR(SignCompactJws(key, "JWT", big), ErrorCode::kInputTooLarge);
}

}  // namespace
}  // namespace tessera
