// The JWKS cache and the verified-JWT cache, observed through ClientStats and a counting
// transport: one fetch serves every verification, an unknown kid refetches at most once per
// jwks_min_refetch_interval (timed by the injected clock), and repeats are cache hits.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <thread>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::seconds;

class JwksCacheTest : public ServerTest {
 protected:
  // `n` JWTs of distinct sessions (distinct bytes), signed up and logged in by a helper client.
  std::vector<std::string> DistinctJwts(int n) {
    auto helper = NewClient();
    std::vector<std::string> jwts;
    if (helper == nullptr) return jwts;
    std::string email;
    for (int i = 0; i < n; ++i) {
      if (i % 5 == 0) {
        const PasswordResponse s = SignUp(*helper);
        if (s.user.emails.empty()) return jwts;
        email = s.user.emails[0].email;
        jwts.push_back(s.session_jwt);
      } else {
        jwts.push_back(LogIn(*helper, email).session_jwt);
      }
    }
    return jwts;
  }

  std::shared_ptr<ScriptedTransport> transport_ =
      std::make_shared<ScriptedTransport>(NewCurlTransport());
};

TEST_F(JwksCacheTest, OneFetchServesAThousandVerifications) {
  const std::vector<std::string> jwts = DistinctJwts(50);
  ASSERT_EQ(jwts.size(), 50u);
  ClientOptions o = Options();
  o.transport = transport_;
  o.verified_cache_capacity = 0;  // Each verification is a full signature check.
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(transport_->requests(), 0u) << "Create fetches nothing";

  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwts[0]));
  EXPECT_EQ(client->stats().jwks_fetches, 1u);
  EXPECT_EQ(transport_->jwks_requests(), 1u);

  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string& jwt = jwts[static_cast<std::size_t>(i) % jwts.size()];
    auto r = client->Sessions().AuthenticateJwtLocal(jwt);
    if (!r.ok()) {
      if (++failures < 5) ADD_FAILURE() << "verification " << i << ": " << Describe(r.error());
    }
  }
  EXPECT_EQ(failures, 0);
  const ClientStats st = client->stats();
  EXPECT_EQ(st.jwks_fetches, 1u);
  EXPECT_EQ(st.jwks_fetch_failures, 0u);
  EXPECT_EQ(st.local_verifications, 1001u);
  EXPECT_EQ(st.verified_cache_hits, 0u);
  EXPECT_EQ(st.api_fallbacks, 0u);
  EXPECT_EQ(transport_->requests(), 1u) << "no request besides the single JWKS fetch";
}

TEST_F(JwksCacheTest, ConcurrentFirstUseSharesOneFetch) {
  const std::vector<std::string> jwts = DistinctJwts(8);
  ASSERT_EQ(jwts.size(), 8u);
  ClientOptions o = Options();
  o.transport = transport_;
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  std::barrier start(8);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      if (client->Sessions().AuthenticateJwtLocal(jwts[static_cast<std::size_t>(t)]).ok()) {
        ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(client->stats().jwks_fetches, 1u);
  EXPECT_EQ(transport_->jwks_requests(), 1u);
}

TEST_F(JwksCacheTest, RepeatsAreVerifiedCacheHits) {
  const std::vector<std::string> jwts = DistinctJwts(20);
  ASSERT_EQ(jwts.size(), 20u);
  ClientOptions o = Options();
  o.transport = transport_;
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  for (const auto& jwt : jwts) ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwt));
  EXPECT_EQ(client->stats().verified_cache_hits, 0u);
  for (int round = 0; round < 3; ++round) {
    for (const auto& jwt : jwts) {
      auto r = client->Sessions().AuthenticateJwtLocal(jwt);
      ASSERT_OK(r);
      EXPECT_EQ(JwtSegment(jwt, 1).find((*r)->session_id) != std::string::npos, true);
    }
    EXPECT_EQ(client->stats().verified_cache_hits, 20u * (round + 1));
  }
  // A hit still applies the caller's limits: max_token_age 0 refuses even a cached JWT.
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(jwts[0], seconds(0)),
                    ErrorKind::kJwtTooOld);
  EXPECT_EQ(client->stats().local_verifications, 80u);
  EXPECT_EQ(client->stats().jwks_fetches, 1u);

  // A prefix or an extension of a cached JWT is not a hit (the whole token must match).
  const std::string& jwt = jwts[1];
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(jwt.substr(0, jwt.size() - 1)),
                    ErrorKind::kJwtInvalid);
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(jwt + "A"), ErrorKind::kJwtInvalid);
  EXPECT_EQ(client->stats().verified_cache_hits, 60u);
}

// A verified-cache hit is only as good as the key that verified it: once a refreshed key set no
// longer publishes that key, the cached JWT is refused; an unchanged refresh keeps the hits.
TEST_F(JwksCacheTest, CacheHitRequiresItsKeyStillPublished) {
  const std::vector<std::string> jwts = DistinctJwts(1);
  ASSERT_EQ(jwts.size(), 1u);
  ClientOptions o = Options();
  o.transport = transport_;
  o.jwks_refresh_interval = seconds(1);
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwts[0]));
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwts[0]));
  EXPECT_EQ(client->stats().verified_cache_hits, 1u);

  // Wait for background refreshes: the same document comes back, hits continue.
  auto wait_for_fetches = [&](std::uint64_t n) {
    for (int i = 0; i < 100 && client->stats().jwks_fetches < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return client->stats().jwks_fetches >= n;
  };
  ASSERT_TRUE(wait_for_fetches(2));
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwts[0]));
  EXPECT_EQ(client->stats().verified_cache_hits, 2u);

  // The key withdrawn (a valid, empty key set): the cached JWT must not be accepted any more.
  transport_->RespondWith(200, R"({"keys":[]})");
  ASSERT_TRUE(wait_for_fetches(client->stats().jwks_fetches + 1));
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(jwts[0]), ErrorKind::kJwtInvalid);
  EXPECT_EQ(client->stats().verified_cache_hits, 2u);

  // Published again: accepted again.
  transport_->PassThrough();
  ASSERT_TRUE(wait_for_fetches(client->stats().jwks_fetches + 1));
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(jwts[0]));
}

// An unknown kid (here: a JWT of another project, whose keys this project never publishes)
// refetches the key set at most once per jwks_min_refetch_interval (default 30 s), measured on
// the client's clock; within the interval, no amount of unknown kids causes another fetch.
TEST_F(JwksCacheTest, UnknownKidRefetchesOncePerInterval) {
  Project other;
  ASSERT_TRUE(CreateProject(database_url(), other));
  auto other_client = NewClient(Options(&other));
  ASSERT_NE(other_client, nullptr);
  const std::string foreign = SignUp(*other_client).session_jwt;
  ASSERT_FALSE(foreign.empty());
  const std::vector<std::string> own = DistinctJwts(1);
  ASSERT_EQ(own.size(), 1u);

  auto clock = std::make_shared<FakeClock>();
  ClientOptions o = Options();
  o.transport = transport_;
  o.clock = clock;
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(own[0]));
  ASSERT_EQ(client->stats().jwks_fetches, 1u);

  // Same instant as the first fetch: inside the interval, no refetch.
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(foreign), ErrorKind::kJwtInvalid);
  EXPECT_EQ(client->stats().jwks_fetches, 1u);

  clock->Advance(seconds(31));
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal(foreign), ErrorKind::kJwtInvalid);
  EXPECT_EQ(client->stats().jwks_fetches, 2u) << "exactly one refetch";
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(client->Sessions().AuthenticateJwtLocal(foreign).ok());
  }
  clock->Advance(seconds(29));  // 29 s after the refetch: still inside.
  EXPECT_FALSE(client->Sessions().AuthenticateJwtLocal(foreign).ok());
  EXPECT_EQ(client->stats().jwks_fetches, 2u);
  EXPECT_EQ(transport_->jwks_requests(), 2u);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(own[0]));  // Known keys unaffected.

  // Many threads hitting unknown kids once the interval has passed: still one fetch.
  clock->Advance(seconds(2));
  std::barrier start(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < 20; ++i) (void)client->Sessions().AuthenticateJwtLocal(foreign);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(client->stats().jwks_fetches, 3u);
  EXPECT_EQ(transport_->jwks_requests(), 3u);
  EXPECT_EQ(transport_->api_requests(), 0u);
}

// Before any key set has arrived, the first fetch is shared whatever its outcome: callers that
// arrive while it is in flight wait for it and get its failure, none repeats it, and later calls
// get that failure at once, without a fetch, until jwks_min_refetch_interval has passed on the
// client's clock. No server: the transport fails every request.
TEST(JwksFirstFetchTest, ConcurrentCallersShareOneFailedFetch) {
  auto transport = std::make_shared<ScriptedTransport>();
  transport->FailWith(ErrorKind::kTimeout);
  auto clock = std::make_shared<FakeClock>();
  ClientOptions o;
  o.project_id = "project-test-00000000-0000-0000-0000-000000000000";
  o.secret = "secret-test-unused";
  o.base_url = "http://127.0.0.1:1";
  o.transport = transport;
  o.clock = clock;
  o.revocation_feed = false;  // FEED OFF: nothing serves it; this is about the key set.
  auto created = Client::Create(o);
  ASSERT_OK(created);
  Client& client = **created;

  // One caller's fetch is held in flight while the others arrive; then it fails.
  constexpr int kCallers = 8;
  transport->Hold();
  std::atomic<int> shared_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kCallers; ++t) {
    threads.emplace_back([&] {
      auto r = client.Sessions().AuthenticateJwtLocal("a.b.c");
      if (!r.ok() && r.error().kind == ErrorKind::kJwksUnavailable &&
          r.error().error_type == "timeout") {
        shared_failures.fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(transport->AwaitHeld(1));
  transport->Release();
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared_failures.load(), kCallers) << "every caller gets the fetch's failure";
  EXPECT_EQ(transport->jwks_requests(), 1u) << "one fetch for all callers";
  EXPECT_EQ(client.stats().jwks_fetch_failures, 1u);

  // Within jwks_min_refetch_interval (30 s) of that attempt: the same failure, no fetch.
  EXPECT_ERROR_KIND(client.Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwksUnavailable);
  clock->Advance(std::chrono::seconds(29));
  EXPECT_ERROR_KIND(client.Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwksUnavailable);
  EXPECT_EQ(transport->jwks_requests(), 1u);

  // Past it, the next call fetches again, and this time a (valid, empty) key set arrives: the JWT
  // is then refused for itself, not for want of keys.
  clock->Advance(std::chrono::seconds(2));
  transport->RespondWith(200, R"({"keys":[]})");
  EXPECT_ERROR_KIND(client.Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwtInvalid);
  EXPECT_EQ(transport->jwks_requests(), 2u);
  EXPECT_EQ(client.stats().jwks_fetches, 1u);
  EXPECT_EQ(client.stats().jwks_fetch_failures, 1u);
}

}  // namespace
}  // namespace tessera::client::testing
