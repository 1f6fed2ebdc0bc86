#include "tessera/token/session_jwt.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "common/time_format.h"
#include "fake_clock.h"
#include "status_matchers.h"
#include "test_keys.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::KeySetOf;
using testing::kTestProject;
using testing::TestKey;

SessionClaims SampleClaims() {
  SessionClaims c;
  c.project_id = std::string(kTestProject);
  c.user_id = "user-test-3cf138f5-d77f-44eb-8a02-acae8a734706";
  c.session_id = "session-test-1682d7d5-b952-44d6-95e0-718144fed722";
  c.started_at = FromUnixSeconds(FakeClock::kDefaultStart);
  c.last_accessed_at = FromUnixSeconds(FakeClock::kDefaultStart);
  c.expires_at = FromUnixSeconds(FakeClock::kDefaultStart + 600);
  // API form of a factor: created_at/updated_at and an empty sub-field that the claim omits.
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "magic_link", "delivery_method": "email",
      "last_authenticated_at": "2026-03-01T14:25:15Z",
      "created_at": "2026-03-01T14:25:15Z", "updated_at": "2026-03-01T14:25:15Z",
      "email_factor": {"email_id": "email-test-1", "email_address": ""}})"));
  c.roles = {"stytch_user"};
  c.custom_claims =
      boost::json::parse(R"({"id": "c_gPAWHhTLLpicnmZfKP9pPG", "zz": [1, {"a": null}]})")
          .as_object();
  return c;
}

std::string Segment(const std::string& jwt, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = jwt.find('.', start) + 1;
  const std::size_t end = jwt.find('.', start);
  auto decoded = Base64UrlDecode(std::string_view(jwt).substr(start, end - start));
  EXPECT_TRUE(decoded.ok());
  return decoded.value_or("");
}

TEST(SessionJwt, MintsExactlyTheStytchShape) {
  const SigningKey& key = TestKey(JwtAlgorithm::kRS256);
  FakeClock clock;
  auto jwt = MintSessionJwt(key, SampleClaims(), clock.Now());
  ASSERT_OK(jwt);
  EXPECT_EQ(Segment(*jwt, 0), R"({"alg":"RS256","kid":")" + key.kid() + R"(","typ":"JWT"})");
  // Golden payload: top-level keys sorted (custom claims among them), session claim members in the
  // documented order, factor without created_at/updated_at or empty strings, no jti.
  const std::string expected =
      R"({"aud":["project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b"],"exp":1772375415,)"
      R"("https://stytch.com/session":{"id":"session-test-1682d7d5-b952-44d6-95e0-718144fed722",)"
      R"("started_at":"2026-03-01T14:25:15Z","last_accessed_at":"2026-03-01T14:25:15Z",)"
      R"("expires_at":"2026-03-01T14:35:15Z","attributes":{"user_agent":"","ip_address":""},)"
      R"("authentication_factors":[{"type":"magic_link","delivery_method":"email",)"
      R"("last_authenticated_at":"2026-03-01T14:25:15Z","email_factor":{"email_id":"email-test-1"}}],)"
      R"("roles":["stytch_user"]},"iat":1772375115,"id":"c_gPAWHhTLLpicnmZfKP9pPG",)"
      R"("iss":"stytch.com/project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b","nbf":1772375115,)"
      R"("sub":"user-test-3cf138f5-d77f-44eb-8a02-acae8a734706","zz":[1,{"a":null}]})";
  EXPECT_EQ(Segment(*jwt, 1), expected);
}

TEST(SessionJwt, RoundTripsThroughVerification) {
  for (const JwtAlgorithm alg :
       {JwtAlgorithm::kRS256, JwtAlgorithm::kES256, JwtAlgorithm::kEdDSA}) {
    const SigningKey& key = TestKey(alg);
    FakeClock clock;
    SessionClaims in = SampleClaims();
    in.attributes = {"203.0.113.9", "Mozilla/5.0 \"quoted\"\n"};
    in.roles = {"stytch_user", "admin"};
    auto jwt = MintSessionJwt(key, in, clock.Now());
    ASSERT_OK(jwt);
    auto keys = KeySetOf({&key});
    auto verified = VerifyJwt(*jwt, *keys, SessionJwtOptions(kTestProject), clock.Now());
    ASSERT_OK(verified);
    EXPECT_EQ(verified->expires_at, verified->issued_at + 300);
    EXPECT_EQ(verified->not_before, verified->issued_at);
    EXPECT_FALSE(verified->claims.contains("jti"));
    auto out = SessionClaimsFromJwt(*verified);
    ASSERT_OK(out);
    EXPECT_EQ(out->project_id, in.project_id);
    EXPECT_EQ(out->user_id, in.user_id);
    EXPECT_EQ(out->session_id, in.session_id);
    EXPECT_EQ(out->started_at, in.started_at);
    EXPECT_EQ(out->last_accessed_at, in.last_accessed_at);
    EXPECT_EQ(out->expires_at, in.expires_at);
    EXPECT_EQ(out->attributes.ip_address, in.attributes.ip_address);
    EXPECT_EQ(out->attributes.user_agent, in.attributes.user_agent);
    EXPECT_EQ(out->roles, in.roles);
    EXPECT_EQ(out->custom_claims, in.custom_claims);
    ASSERT_EQ(out->authentication_factors.size(), 1u);
    EXPECT_FALSE(out->authentication_factors[0].as_object().contains("created_at"));

    // Five minutes later the JWT has expired, but the refresh path still accepts it.
    clock.Advance(std::chrono::seconds(300));
    EXPECT_ERROR(VerifyJwt(*jwt, *keys, SessionJwtOptions(kTestProject), clock.Now()),
                 ErrorCode::kJwtExpired);
    auto refresh = SessionJwtOptions(kTestProject);
    refresh.check_expiry = false;
    EXPECT_OK(VerifyJwt(*jwt, *keys, refresh, clock.Now()));
  }
}

TEST(SessionJwt, MissingOrMalformedSessionClaimIsATypedError) {
  const SigningKey& key = TestKey(JwtAlgorithm::kRS256);
  FakeClock clock;
  auto keys = KeySetOf({&key});
  const std::string base =
      R"("aud":["project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b"],)"
      R"("iss":"stytch.com/project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b",)"
      R"("sub":"u","iat":1772375115,"nbf":1772375115,"exp":1772375415)";
  const auto claims_of = [&](const std::string& extra) {
    auto v = VerifyJwt(testing::SignRaw(key, testing::HeaderFor(key), "{" + base + extra + "}"),
                       *keys, SessionJwtOptions(kTestProject), clock.Now());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return SessionClaimsFromJwt(*v);
  };
  EXPECT_ERROR(claims_of(""), ErrorCode::kJwtSessionClaimInvalid);
  EXPECT_ERROR(claims_of(R"(,"https://stytch.com/session":[])"),
               ErrorCode::kJwtSessionClaimInvalid);
  EXPECT_ERROR(claims_of(R"(,"https://stytch.com/session":{"id":"s"})"),
               ErrorCode::kJwtSessionClaimInvalid);
  EXPECT_ERROR(
      claims_of(R"(,"https://stytch.com/session":{"id":"s","started_at":"yesterday",)"
                R"("last_accessed_at":"2026-03-01T14:25:15Z","expires_at":"2026-03-01T14:25:15Z",)"
                R"("attributes":{},"authentication_factors":[]})"),
      ErrorCode::kJwtSessionClaimInvalid);
  // A pre-2025 token without roles reads as no roles.
  auto old =
      claims_of(R"(,"https://stytch.com/session":{"id":"s","started_at":"2026-03-01T14:25:15Z",)"
                R"("last_accessed_at":"2026-03-01T14:25:15Z","expires_at":"2026-03-01T14:25:15Z",)"
                R"("attributes":{"user_agent":"","ip_address":""},"authentication_factors":[]})");
  ASSERT_OK(old);
  EXPECT_TRUE(old->roles.empty());
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Regression (interop review): the project comes from the audience that verification matched.
TEST(SessionJwt, ProjectIsTheVerifiedAudienceNotTheFirstListed) {
  const SigningKey& key = TestKey(JwtAlgorithm::kRS256);
  FakeClock clock;
  auto keys = KeySetOf({&key});
  const std::string payload =
      R"({"aud":["project-test-b","project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b"],)"
      R"("iss":"stytch.com/project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b","sub":"u",)"
      R"("iat":1772375115,"nbf":1772375115,"exp":1772375415,"https://stytch.com/session":)"
      R"({"id":"s","started_at":"2026-03-01T14:25:15Z","last_accessed_at":"2026-03-01T14:25:15Z",)"
      R"("expires_at":"2026-03-01T14:25:15Z","attributes":{},"authentication_factors":[]}})";
  auto v = VerifyJwt(testing::SignRaw(key, testing::HeaderFor(key), payload), *keys,
                     SessionJwtOptions(kTestProject), clock.Now());
  ASSERT_OK(v);
  auto claims = SessionClaimsFromJwt(*v);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->project_id, kTestProject);
}

}  // namespace
}  // namespace tessera
