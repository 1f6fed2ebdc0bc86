// AuthenticateJwt: local verification first, the API when the JWT cannot be trusted locally
// (spec §3.3). The client's clock is a FakeClock: advancing it makes a JWT expired or too old for
// the client while the server's real clock (and so the session) is untouched, which is exactly
// the situation in which the API must answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::seconds;

class FallbackTest : public ServerTest {
 protected:
  // A new JWT on every authenticate, so "the API answered with a NEW JWT" is observable.
  std::vector<std::string> ServerArgs() const override { return {"--jwt-reuse-seconds", "0"}; }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    clock_ = std::make_shared<FakeClock>();
    transport_ = std::make_shared<ScriptedTransport>(NewCurlTransport());
    ClientOptions o = Options();
    o.clock = clock_;
    o.transport = transport_;
    client_ = NewClient(std::move(o));
    ASSERT_NE(client_, nullptr);
    session_ = SignUp(*client_);
    ASSERT_FALSE(session_.session_jwt.empty());
    // Now, not before the sign-up: a JWT whose iat is after the client's now is refused as
    // "issued in the future".
    clock_->Set(std::chrono::system_clock::now());
  }

  // Asserts that `r` was answered by the API with a new JWT for the fixture's session.
  void ExpectApiAnswer(const Outcome<JwtAuthenticateResult>& r, const std::string& old_jwt) {
    ASSERT_OK(r);
    EXPECT_EQ(r->verified_by, VerifiedBy::kApi);
    ASSERT_TRUE(r->api.has_value());
    EXPECT_NE(r->session_jwt, old_jwt) << "the API path returns the server's fresh JWT";
    EXPECT_EQ(r->session_jwt, r->api->session_jwt);
    EXPECT_GT(JwtIntClaim(r->session_jwt, "iat").value_or(0),
              JwtIntClaim(old_jwt, "iat").value_or(0));
    EXPECT_EQ(r->session->session_id, session_.session->session_id);
    EXPECT_EQ(r->api->session_token, session_.session_token);
    EXPECT_EQ(r->api->user.user_id, session_.user_id);
    EXPECT_FALSE(r->api->request_id.empty());
  }

  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<ScriptedTransport> transport_;
  std::unique_ptr<Client> client_;
  PasswordResponse session_;
};

TEST_F(FallbackTest, FreshJwtIsLocalWithoutApiCall) {
  const auto api_before = transport_->api_requests();
  for (int i = 0; i < 3; ++i) {
    auto r = client_->Sessions().AuthenticateJwt(session_.session_jwt, seconds(60));
    ASSERT_OK(r);
    EXPECT_EQ(r->verified_by, VerifiedBy::kLocal);
    EXPECT_EQ(r->session_jwt, session_.session_jwt);
    EXPECT_FALSE(r->api.has_value());
  }
  EXPECT_EQ(transport_->api_requests(), api_before);
  const ClientStats st = client_->stats();
  EXPECT_EQ(st.api_fallbacks, 0u);
  EXPECT_EQ(st.local_verifications, 3u);
  EXPECT_EQ(st.jwks_fetches, 1u);
}

TEST_F(FallbackTest, ExpiredJwtGoesToTheApi) {
  const std::int64_t iat = JwtIntClaim(session_.session_jwt, "iat").value();
  const std::int64_t exp = JwtIntClaim(session_.session_jwt, "exp").value();
  ASSERT_EQ(exp, iat + 300);
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));  // Fresh: fine.

  // The client's clock past exp and the default clock tolerance; the server's is not, so the
  // session lives.
  const seconds tolerance = ClientOptions().clock_tolerance;
  clock_->Set(FromUnixSeconds(exp + tolerance.count() - 1));
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));  // The last second.
  clock_->Advance(seconds(1));
  auto local = client_->Sessions().AuthenticateJwtLocal(session_.session_jwt);
  EXPECT_ERROR_KIND(local, ErrorKind::kJwtInvalid);
  // The verified-JWT cache must not shortcut the expiry check either.
  EXPECT_EQ(client_->stats().verified_cache_hits, 1u);

  WaitForNextSecond();  // So that the server's new JWT differs from the old one.
  const auto api_before = transport_->api_requests();
  auto r = client_->Sessions().AuthenticateJwt(session_.session_jwt);
  ExpectApiAnswer(r, session_.session_jwt);
  EXPECT_EQ(transport_->api_requests(), api_before + 1);
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);
  // A call's own clock tolerance replaces the client's, either way.
  EXPECT_TRUE(client_->Sessions()
                  .AuthenticateJwtLocal(session_.session_jwt, std::nullopt, tolerance + seconds(1))
                  .ok());
  clock_->Set(FromUnixSeconds(exp));
  EXPECT_ERROR_KIND(
      client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, std::nullopt, seconds(0)),
      ErrorKind::kJwtInvalid);
}

// A server whose clock runs a little ahead of the client's mints JWTs whose iat and nbf lie in the
// client's future. Up to the default clock tolerance (5 s) they are accepted locally, without an
// API call; further ahead they are refused locally.
TEST_F(FallbackTest, JwtFromAServerClockSlightlyAheadIsVerifiedLocally) {
  const std::int64_t iat = JwtIntClaim(session_.session_jwt, "iat").value();
  ASSERT_EQ(JwtIntClaim(session_.session_jwt, "nbf").value_or(iat), iat);
  const auto api_before = transport_->api_requests();

  clock_->Set(FromUnixSeconds(iat - 2));
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));
  auto r = client_->Sessions().AuthenticateJwt(session_.session_jwt);
  ASSERT_OK(r);
  EXPECT_EQ(r->verified_by, VerifiedBy::kLocal);
  EXPECT_EQ(transport_->api_requests(), api_before) << "no API call for a JWT 2 s ahead";
  EXPECT_EQ(client_->stats().api_fallbacks, 0u);

  // The edge, from a signature check and from the verified cache alike: 5 s ahead is accepted,
  // 6 s is not.
  ClientOptions o = Options();
  o.clock = clock_;
  o.verified_cache_capacity = 0;
  auto uncached = NewClient(o);
  ASSERT_NE(uncached, nullptr);
  clock_->Set(FromUnixSeconds(iat - 5));
  EXPECT_TRUE(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt).ok());
  EXPECT_TRUE(uncached->Sessions().AuthenticateJwtLocal(session_.session_jwt).ok());
  clock_->Set(FromUnixSeconds(iat - 6));
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt),
                    ErrorKind::kJwtInvalid);
  EXPECT_ERROR_KIND(uncached->Sessions().AuthenticateJwtLocal(session_.session_jwt),
                    ErrorKind::kJwtInvalid);
}

// The tolerance is an option of the client (5 s by default) and a call may pass its own: with 0,
// a JWT from a server 2 s ahead is refused locally and the API answers for it.
TEST_F(FallbackTest, ClockToleranceIsTheClientsUnlessTheCallSaysOtherwise) {
  EXPECT_EQ(ClientOptions().clock_tolerance, seconds(5));
  const std::int64_t iat = JwtIntClaim(session_.session_jwt, "iat").value();
  clock_->Set(FromUnixSeconds(iat - 2));

  ClientOptions o = Options();
  o.clock = clock_;
  o.transport = transport_;
  o.clock_tolerance = seconds(0);
  auto strict = NewClient(o);
  ASSERT_NE(strict, nullptr);
  EXPECT_ERROR_KIND(strict->Sessions().AuthenticateJwtLocal(session_.session_jwt),
                    ErrorKind::kJwtInvalid);
  ASSERT_OK(
      strict->Sessions().AuthenticateJwtLocal(session_.session_jwt, std::nullopt, seconds(2)));
  WaitForNextSecond();  // So that the server's new JWT differs from the old one.
  const auto api_before = transport_->api_requests();
  ExpectApiAnswer(strict->Sessions().AuthenticateJwt(session_.session_jwt), session_.session_jwt);
  EXPECT_EQ(transport_->api_requests(), api_before + 1);

  EXPECT_ERROR_KIND(
      client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, std::nullopt, seconds(1)),
      ErrorKind::kJwtInvalid);
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));
}

TEST_F(FallbackTest, TooOldJwtGoesToTheApi) {
  const std::int64_t iat = JwtIntClaim(session_.session_jwt, "iat").value();
  // 61 s after iat: inside exp, but older than a 60 s max_token_age.
  clock_->Advance(seconds(iat + 61 - ToUnixSeconds(clock_->Now())));
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));  // No age limit.
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, seconds(120)));
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, seconds(60)),
                    ErrorKind::kJwtTooOld);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, seconds(61)),
                    ErrorKind::kJwtTooOld);  // Age >= limit is too old (as Node and Python).

  auto young_enough = client_->Sessions().AuthenticateJwt(session_.session_jwt, seconds(120));
  ASSERT_OK(young_enough);
  EXPECT_EQ(young_enough->verified_by, VerifiedBy::kLocal);

  WaitForNextSecond();
  const auto api_before = transport_->api_requests();
  auto r = client_->Sessions().AuthenticateJwt(session_.session_jwt, seconds(60));
  ExpectApiAnswer(r, session_.session_jwt);
  EXPECT_EQ(transport_->api_requests(), api_before + 1);
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);
}

TEST_F(FallbackTest, MaxTokenAgeZeroAlwaysAsksTheApi) {
  WaitForNextSecond();
  // A perfectly fresh JWT, but 0 means "every JWT is stale": straight to the API, and the key
  // set is not even fetched.
  auto r = client_->Sessions().AuthenticateJwt(session_.session_jwt, seconds(0));
  ExpectApiAnswer(r, session_.session_jwt);
  EXPECT_EQ(transport_->jwks_requests(), 0u);
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);
  EXPECT_EQ(client_->stats().local_verifications, 0u);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt, seconds(0)),
                    ErrorKind::kJwtTooOld);
  EXPECT_EQ(transport_->jwks_requests(), 0u);
}

// A JWT signed by a key the client's cached JWKS does not hold: the client cached the key set
// before two rotations, so the JWT signed by the key that the second rotation activated is
// unknown to it; the clock has not moved since the first fetch, so the rate limit
// (jwks_min_refetch_interval, 30 s) forbids a refetch and the API must answer. Once the limit has
// passed, the same JWT verifies locally after exactly one refetch.
TEST_F(FallbackTest, UnknownKidGoesToTheApiWhileRefetchIsRateLimited) {
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt));
  ASSERT_EQ(client_->stats().jwks_fetches, 1u);
  auto cached = client_->Sessions().GetJwks();  // What the cache holds (same server state).
  ASSERT_OK(cached);

  ASSERT_TRUE(RotateKeys(database_url(), project_.project_id));
  ASSERT_TRUE(RotateKeys(database_url(), project_.project_id));
  // Wait for the server to load the new ring (it polls every second): the JWT it then mints is
  // signed by a key published after the client's fetch.
  PasswordResponse fresh;
  for (int i = 0; i < 100; ++i) {
    fresh = LogIn(*client_, session_.user.emails.at(0).email);
    const std::string kid = JwtKid(fresh.session_jwt);
    if (std::find(cached->kids.begin(), cached->kids.end(), kid) == cached->kids.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string new_kid = JwtKid(fresh.session_jwt);
  ASSERT_EQ(std::find(cached->kids.begin(), cached->kids.end(), new_kid), cached->kids.end())
      << "the server never signed with a key activated after the client's fetch";

  WaitForNextSecond();
  // Real time again (not issued "in the future"), still well inside the 30 s rate limit.
  clock_->Set(std::chrono::system_clock::now());
  auto local_first = client_->Sessions().AuthenticateJwtLocal(fresh.session_jwt);
  ASSERT_FALSE(local_first.ok());
  EXPECT_EQ(local_first.error().kind, ErrorKind::kJwtInvalid);
  EXPECT_NE(local_first.error().error_message.find("jwt_kid_unknown"), std::string::npos)
      << Describe(local_first.error());
  auto r = client_->Sessions().AuthenticateJwt(fresh.session_jwt);
  ASSERT_OK(r);
  EXPECT_EQ(r->verified_by, VerifiedBy::kApi);
  ASSERT_TRUE(r->api.has_value());
  EXPECT_NE(r->session_jwt, fresh.session_jwt);
  EXPECT_EQ(r->session->session_id, fresh.session->session_id);
  EXPECT_EQ(client_->stats().jwks_fetches, 1u) << "refetch within the rate limit";
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);

  clock_->Advance(seconds(31));  // Past jwks_min_refetch_interval; the JWT is still fresh.
  auto local = client_->Sessions().AuthenticateJwt(fresh.session_jwt);
  ASSERT_OK(local);
  EXPECT_EQ(local->verified_by, VerifiedBy::kLocal);
  EXPECT_EQ(client_->stats().jwks_fetches, 2u);
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);
}

// A JWT of another project: its kid is unknown here and it names another audience, so local
// verification fails and the API (with this project's credentials) refuses it too. The other
// project's own client accepts it locally.
TEST_F(FallbackTest, JwtOfAnotherProjectIsRefusedLocallyAndByTheApi) {
  Project other;
  ASSERT_TRUE(CreateProject(database_url(), other));
  auto other_client = NewClient(Options(&other));
  ASSERT_NE(other_client, nullptr);
  const PasswordResponse theirs = SignUp(*other_client);
  ASSERT_FALSE(theirs.session_jwt.empty());

  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(theirs.session_jwt),
                    ErrorKind::kJwtInvalid);
  const auto api_before = transport_->api_requests();
  EXPECT_API_ERROR(client_->Sessions().AuthenticateJwt(theirs.session_jwt), 401,
                   "unable_to_parse_session_jwt");
  EXPECT_EQ(transport_->api_requests(), api_before + 1);
  EXPECT_EQ(client_->stats().api_fallbacks, 1u);

  auto mine = other_client->Sessions().AuthenticateJwt(theirs.session_jwt);
  ASSERT_OK(mine);
  EXPECT_EQ(mine->verified_by, VerifiedBy::kLocal);
  EXPECT_EQ(mine->session->user_id, theirs.user_id);
}

// Revocation is visible only to the API path. A JWT verified locally stays valid until its exp
// (plus the clock tolerance) even after its session was revoked: that is the documented Stytch
// semantics (spec §3.3: "a locally valid JWT (<= 5 min old) is accepted without any server call,
// even if the session was revoked meanwhile"), and callers who cannot accept it pass max_token_age
// 0.
TEST_F(FallbackTest, RevokedSessionIsRefusedOnlyByTheApiPath) {
  auto before = client_->Sessions().AuthenticateJwt(session_.session_jwt);
  ASSERT_OK(before);
  EXPECT_EQ(before->verified_by, VerifiedBy::kLocal);

  RevokeRequest revoke;
  revoke.session_jwt = session_.session_jwt;
  ASSERT_OK(client_->Sessions().Revoke(revoke));

  EXPECT_API_ERROR(client_->Sessions().AuthenticateJwt(session_.session_jwt, seconds(0)), 404,
                   "session_not_found");

  // Locally still valid: from the verified cache, and from a fresh signature check too.
  auto local = client_->Sessions().AuthenticateJwtLocal(session_.session_jwt);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->session_id, session_.session->session_id);
  auto preferred = client_->Sessions().AuthenticateJwt(session_.session_jwt);
  ASSERT_OK(preferred);
  EXPECT_EQ(preferred->verified_by, VerifiedBy::kLocal);
  ClientOptions o = Options();
  o.clock = clock_;
  o.verified_cache_capacity = 0;
  auto uncached = NewClient(o);
  ASSERT_NE(uncached, nullptr);
  EXPECT_TRUE(uncached->Sessions().AuthenticateJwtLocal(session_.session_jwt).ok());

  // Until exp and the clock tolerance: then local verification fails and the API says the
  // session is gone.
  const std::int64_t exp = JwtIntClaim(session_.session_jwt, "exp").value();
  clock_->Set(FromUnixSeconds(exp + ClientOptions().clock_tolerance.count() + 1));
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(session_.session_jwt),
                    ErrorKind::kJwtInvalid);
  EXPECT_API_ERROR(client_->Sessions().AuthenticateJwt(session_.session_jwt), 404,
                   "session_not_found");
}

}  // namespace
}  // namespace tessera::client::testing
