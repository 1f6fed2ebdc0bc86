// When the server is gone, hung or lying: calls fail fast with a typed error (kTransport,
// kTimeout, kProtocol), never hang or crash, and local verification keeps serving from the last
// good key set.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

double SecondsSince(steady_clock::time_point t0) {
  return std::chrono::duration<double>(steady_clock::now() - t0).count();
}

ClientOptions OfflineOptions(const std::string& base_url) {
  ClientOptions o;
  o.project_id = "project-test-00000000-0000-0000-0000-000000000000";
  o.secret = "secret-test-unused";
  o.base_url = base_url;
  // FEED OFF: these servers serve no revocation feed, and the calls under test are not about it
  // (feed_test.cc has the feed's own failure and shutdown cases).
  o.revocation_feed = false;
  return o;
}

std::unique_ptr<Client> MustCreate(ClientOptions o) {
  auto c = Client::Create(std::move(o));
  if (!c.ok()) {
    ADD_FAILURE() << Describe(c.error());
    return nullptr;
  }
  return std::move(*c);
}

// Nothing listens: the connection is refused at once, far inside the connect timeout.
TEST(ServerDownTest, ClosedPortIsATransportError) {
  const int port = ClosedPort();
  ASSERT_NE(port, 0);
  ClientOptions o = OfflineOptions("http://127.0.0.1:" + std::to_string(port));
  o.connect_timeout = milliseconds(1000);
  auto client = MustCreate(o);
  ASSERT_NE(client, nullptr);

  auto t0 = steady_clock::now();
  auto user = client->Users().Get("user-test-x");
  EXPECT_ERROR_KIND(user, ErrorKind::kTransport);
  if (!user.ok()) {
    EXPECT_EQ(user.error().error_type, "connection_failed");
    EXPECT_EQ(user.error().status_code, 0);
  }
  EXPECT_LT(SecondsSince(t0), 1.0 + 2.0);  // Connect timeout plus generous slack.

  t0 = steady_clock::now();
  EXPECT_ERROR_KIND(client->Sessions().GetJwks(), ErrorKind::kTransport);
  PasswordRequest p{"a@example.com", kStrongPassword, 60, std::nullopt, std::nullopt};
  EXPECT_ERROR_KIND(client->Passwords().Authenticate(p), ErrorKind::kTransport);
  RevokeRequest r;
  r.session_id = "session-test-x";
  EXPECT_ERROR_KIND(client->Sessions().Revoke(r), ErrorKind::kTransport);
  // No key set could ever be fetched: local verification says so; AuthenticateJwt then asks the
  // API, which cannot be reached either. The key set is tried once: within
  // jwks_min_refetch_interval the second call gets the first one's failure.
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwksUnavailable);
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt("a.b.c"), ErrorKind::kTransport);
  EXPECT_LT(SecondsSince(t0), 6 * 1.0 + 4.0);
  EXPECT_EQ(client->stats().jwks_fetches, 0u);
  EXPECT_EQ(client->stats().jwks_fetch_failures, 1u);
}

// A server that accepts connections and never answers: every call ends at request_timeout with
// kTimeout. Only upper bounds on the time are asserted (the machine may be slow, never fast).
TEST(ServerDownTest, BlackHoleServerTimesOut) {
  BlackHoleListener hole;
  ASSERT_NE(hole.port(), 0);
  ClientOptions o = OfflineOptions("http://127.0.0.1:" + std::to_string(hole.port()));
  o.request_timeout = milliseconds(500);
  auto client = MustCreate(o);
  ASSERT_NE(client, nullptr);

  auto t0 = steady_clock::now();
  auto user = client->Users().Get("user-test-x");
  const double elapsed = SecondsSince(t0);
  EXPECT_ERROR_KIND(user, ErrorKind::kTimeout);
  if (!user.ok()) {
    EXPECT_EQ(user.error().error_type, "timeout");
  }
  EXPECT_LT(elapsed, 2.0) << "request_timeout is 500 ms";

  t0 = steady_clock::now();
  AuthenticateRequest a;
  a.session_token = std::string(44, 'x');
  EXPECT_ERROR_KIND(client->Sessions().Authenticate(a), ErrorKind::kTimeout);
  EXPECT_LT(SecondsSince(t0), 2.0);

  // Key set fetch and API call both time out: two timeouts, not more.
  t0 = steady_clock::now();
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt("a.b.c"), ErrorKind::kTimeout);
  EXPECT_LT(SecondsSince(t0), 3.5);

  // Many threads at once: each still ends in time (no serialisation behind one hung call).
  t0 = steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> timeouts{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = client->Users().Get("user-test-x");
      if (!r.ok() && r.error().kind == ErrorKind::kTimeout) timeouts.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(timeouts.load(), 4);
  EXPECT_LT(SecondsSince(t0), 2.5);
}

class ServerDiesTest : public ServerTest {};

// The server dies after the client cached its key set: API calls fail with kTransport, the
// background refresh fails, and local verification keeps working from the last good set.
TEST_F(ServerDiesTest, LocalVerificationOutlivesTheServer) {
  auto helper = NewClient();
  ASSERT_NE(helper, nullptr);
  const PasswordResponse first = SignUp(*helper);
  const PasswordResponse second = SignUp(*helper);

  ClientOptions o = Options();
  o.jwks_refresh_interval = seconds(1);
  o.jwks_min_refetch_interval = seconds(1);
  o.verified_cache_capacity = 0;  // Every verification checks the signature against the set.
  o.connect_timeout = milliseconds(1000);
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(first.session_jwt));
  const std::uint64_t fetched = client->stats().jwks_fetches;
  ASSERT_GE(fetched, 1u);

  ASSERT_TRUE(server_->Stop());

  const auto t0 = steady_clock::now();
  EXPECT_ERROR_KIND(client->Users().Get(first.user_id), ErrorKind::kTransport);
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt(first.session_jwt, seconds(0)),
                    ErrorKind::kTransport);
  EXPECT_LT(SecondsSince(t0), 2 * 1.0 + 3.0);

  // Wait (real time: the refresh is paced by it) until a background refresh has failed.
  for (int i = 0; i < 100 && client->stats().jwks_fetch_failures == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_GE(client->stats().jwks_fetch_failures, 1u);

  // A JWT this client never verified, checked against the last good key set.
  auto local = client->Sessions().AuthenticateJwtLocal(second.session_jwt);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->user_id, second.user_id);
  auto preferred = client->Sessions().AuthenticateJwt(first.session_jwt);
  ASSERT_OK(preferred);
  EXPECT_EQ(preferred->verified_by, VerifiedBy::kLocal);
  // An unknown kid cannot be fetched now: local fails, the fallback reports the dead server.
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwtLocal("eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUi"
                                                            "LCJ0eXAiOiJKV1QifQ.e30.AAAA"),
                    ErrorKind::kJwtInvalid);
  EXPECT_EQ(client->stats().jwks_fetches, fetched) << "no fetch can have succeeded";
}

// --- Oversized answers ---------------------------------------------------------------------------

constexpr std::uint64_t kMiB = 1024 * 1024;

// Asserts that `outcome` failed because the body was over the limit.
#define EXPECT_TOO_LARGE(outcome, expected_kind)                     \
  do {                                                               \
    const auto& too_large_ = (outcome);                              \
    EXPECT_ERROR_KIND(too_large_, expected_kind);                    \
    if (!too_large_.ok()) {                                          \
      EXPECT_EQ(too_large_.error().error_type, "response_too_large") \
          << Describe(too_large_.error());                           \
    }                                                                \
  } while (0)

// A server that streams a body without end (64 MiB stands for it) and announces no length: the
// SDK stops reading at its limit, 1 MiB for API answers and 256 KiB for the key set, and says so.
// Before the limit existed, the whole stream landed in memory.
TEST(ResponseLimitTest, EndlessBodyIsCutOffAtTheLimit) {
  StreamingServer server(64 * kMiB);
  ASSERT_NE(server.port(), 0);
  ClientOptions o = OfflineOptions(server.base_url());
  o.request_timeout = seconds(60);  // The limit must end the transfer, not the timeout.
  auto client = MustCreate(o);
  ASSERT_NE(client, nullptr);

  EXPECT_TOO_LARGE(client->Users().Get("user-test-x"), ErrorKind::kResponseTooLarge);
  AuthenticateRequest a;
  a.session_token = std::string(44, 'x');
  EXPECT_TOO_LARGE(client->Sessions().Authenticate(a), ErrorKind::kResponseTooLarge);
  EXPECT_TOO_LARGE(client->Sessions().GetJwks(), ErrorKind::kResponseTooLarge);
  // Local verification reports the missing key set; AuthenticateJwt then asks the API, whose
  // answer is cut off too.
  EXPECT_TOO_LARGE(client->Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwksUnavailable);
  EXPECT_TOO_LARGE(client->Sessions().AuthenticateJwt("a.b.c"), ErrorKind::kResponseTooLarge);
  EXPECT_EQ(client->stats().jwks_fetches, 0u);
  EXPECT_GE(server.requests(), 5u);
}

// A Content-Length over the limit is refused before any of the body is read.
TEST(ResponseLimitTest, AnnouncedOversizeIsRefused) {
  StreamingServer server(4 * kMiB, /*content_length=*/1024 * kMiB);
  ASSERT_NE(server.port(), 0);
  auto client = MustCreate(OfflineOptions(server.base_url()));
  ASSERT_NE(client, nullptr);
  EXPECT_TOO_LARGE(client->Users().Get("user-test-x"), ErrorKind::kResponseTooLarge);
  EXPECT_TOO_LARGE(client->Sessions().GetJwks(), ErrorKind::kResponseTooLarge);
}

// A 300 KiB JSON object: an API answer may be that large, a key set may not (256 KiB). The API
// limit is ClientOptions::max_response_bytes.
TEST(ResponseLimitTest, KeySetLimitIsSmallerAndApiLimitIsAnOption) {
  StreamingServer server(300 * 1024, /*content_length=*/300 * 1024);
  ASSERT_NE(server.port(), 0);
  auto client = MustCreate(OfflineOptions(server.base_url()));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(ClientOptions().max_response_bytes, 1 * kMiB);
  ASSERT_OK(client->Users().Get("user-test-x"));
  EXPECT_TOO_LARGE(client->Sessions().GetJwks(), ErrorKind::kResponseTooLarge);

  ClientOptions o = OfflineOptions(server.base_url());
  o.max_response_bytes = 300 * 1024 - 1;
  auto strict = MustCreate(o);
  ASSERT_NE(strict, nullptr);
  EXPECT_TOO_LARGE(strict->Users().Get("user-test-x"), ErrorKind::kResponseTooLarge);
  o.max_response_bytes = 300 * 1024;
  auto exact = MustCreate(o);
  ASSERT_NE(exact, nullptr);
  ASSERT_OK(exact->Users().Get("user-test-x"));

  o.max_response_bytes = 0;
  EXPECT_ERROR_KIND(Client::Create(o), ErrorKind::kInvalidArgument);
}

// The libcurl transport itself stops at HttpRequest::max_response_bytes, with or without a
// Content-Length, rather than handing over a body for someone else to measure. A body of exactly
// the limit passes.
TEST(ResponseLimitTest, CurlTransportStopsAtTheLimit) {
  constexpr std::size_t kBody = 300 * 1024;
  StreamingServer unannounced(kBody);
  StreamingServer announced(kBody, /*content_length=*/kBody);
  StreamingServer endless(64 * kMiB);
  ASSERT_NE(unannounced.port(), 0);
  ASSERT_NE(announced.port(), 0);
  ASSERT_NE(endless.port(), 0);
  auto transport = NewCurlTransport();
  HttpRequest req;
  req.method = "GET";
  EXPECT_EQ(req.max_response_bytes, 1 * kMiB);
  for (const StreamingServer* server : {&unannounced, &announced}) {
    SCOPED_TRACE(server == &announced ? "with Content-Length" : "without Content-Length");
    req.url = server->base_url() + "/v1/users/user-test-x";
    req.max_response_bytes = kBody;
    auto whole = transport->Send(req);
    ASSERT_OK(whole);
    EXPECT_EQ(whole->status, 200);
    EXPECT_EQ(whole->body.size(), kBody);
    req.max_response_bytes = kBody - 1;
    EXPECT_TOO_LARGE(transport->Send(req), ErrorKind::kResponseTooLarge);
  }
  req.url = endless.base_url() + "/v1/users/user-test-x";
  req.max_response_bytes = 1 * kMiB;
  EXPECT_TOO_LARGE(transport->Send(req), ErrorKind::kResponseTooLarge);
}

// A transport of the application's own that ignores HttpRequest::max_response_bytes still cannot
// hand the client a larger body.
TEST(ResponseLimitTest, ClientEnforcesTheLimitOnAnyTransport) {
  auto transport = std::make_shared<ScriptedTransport>();
  ClientOptions o = OfflineOptions("http://127.0.0.1:1");
  o.transport = transport;
  o.max_response_bytes = 1000;
  auto client = MustCreate(o);
  ASSERT_NE(client, nullptr);
  transport->RespondWith(200, R"({"user_id":")" + std::string(1000, 'a') + R"("})");
  EXPECT_TOO_LARGE(client->Users().Get("user-test-x"), ErrorKind::kResponseTooLarge);
  transport->RespondWith(200, R"({"keys":[],"pad":")" + std::string(256 * 1024, 'a') + R"("})");
  EXPECT_TOO_LARGE(client->Sessions().GetJwks(), ErrorKind::kResponseTooLarge);
  transport->RespondWith(200, R"({"user_id":"user-test-x"})");
  ASSERT_OK(client->Users().Get("user-test-x"));
}

// --- Transport failure injection ---------------------------------------------------------------

class InjectedTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transport_ = std::make_shared<ScriptedTransport>();
    ClientOptions o = OfflineOptions("http://127.0.0.1:1");
    o.transport = transport_;
    client_ = MustCreate(o);
    ASSERT_NE(client_, nullptr);
  }

  // Runs every call once and checks that each fails with `kind` (the JWKS-based local path
  // fails with kJwksUnavailable instead, since it reports the missing key set).
  void ExpectEveryCallFails(ErrorKind kind) {
    AuthenticateRequest a;
    a.session_token = std::string(44, 'x');
    EXPECT_ERROR_KIND(client_->Sessions().Authenticate(a), kind);
    EXPECT_ERROR_KIND(client_->Sessions().Get("user-test-x"), kind);
    RevokeRequest r;
    r.session_id = "session-test-x";
    EXPECT_ERROR_KIND(client_->Sessions().Revoke(r), kind);
    CreateUserRequest u;
    u.email = "a@example.com";
    EXPECT_ERROR_KIND(client_->Users().Create(u), kind);
    EXPECT_ERROR_KIND(client_->Users().Get("user-test-x"), kind);
    EXPECT_ERROR_KIND(client_->Users().Delete("user-test-x"), kind);
    PasswordRequest p{"a@example.com", kStrongPassword, 60, std::nullopt, std::nullopt};
    EXPECT_ERROR_KIND(client_->Passwords().Create(p), kind);
    EXPECT_ERROR_KIND(client_->Passwords().Authenticate(p), kind);
    EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal("a.b.c"),
                      ErrorKind::kJwksUnavailable);
    EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwt("a.b.c"), kind);
  }

  std::shared_ptr<ScriptedTransport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(InjectedTransportTest, FailuresPassThroughTyped) {
  transport_->FailWith(ErrorKind::kTransport);
  ExpectEveryCallFails(ErrorKind::kTransport);
  EXPECT_ERROR_KIND(client_->Sessions().GetJwks(), ErrorKind::kTransport);
  transport_->FailWith(ErrorKind::kTimeout);
  ExpectEveryCallFails(ErrorKind::kTimeout);
  EXPECT_EQ(client_->stats().jwks_fetches, 0u);
}

TEST_F(InjectedTransportTest, NonJsonSuccessIsAProtocolError) {
  transport_->RespondWith(200, "hello, I am not JSON");
  ExpectEveryCallFails(ErrorKind::kProtocol);
  EXPECT_ERROR_KIND(client_->Sessions().GetJwks(), ErrorKind::kProtocol);
}

TEST_F(InjectedTransportTest, HtmlBadGatewayIsAProtocolError) {
  transport_->RespondWith(502, "<html><body><h1>502 Bad Gateway</h1></body></html>");
  ExpectEveryCallFails(ErrorKind::kProtocol);
  auto user = client_->Users().Get("user-test-x");
  ASSERT_FALSE(user.ok());
  EXPECT_NE(user.error().error_message.find("502"), std::string::npos) << Describe(user.error());
  // GetJwks does not read error bodies: any non-200 is reported as kApi with the status and
  // the SDK's own error_type (no server request_id), whatever the body.
  auto jwks = client_->Sessions().GetJwks();
  ASSERT_FALSE(jwks.ok());
  EXPECT_EQ(jwks.error().kind, ErrorKind::kApi) << Describe(jwks.error());
  EXPECT_EQ(jwks.error().status_code, 502);
  EXPECT_EQ(jwks.error().error_type, "jwks_unavailable");
}

TEST_F(InjectedTransportTest, WrongJsonShapesAreProtocolErrors) {
  for (const char* body : {"", "[]", "null", "42", "\"str\"", "{\"user_id\":", "{} trailing"}) {
    SCOPED_TRACE(body);
    transport_->RespondWith(200, body);
    ExpectEveryCallFails(ErrorKind::kProtocol);
  }
  // A JSON object without what the call needs.
  transport_->RespondWith(200, R"({"request_id":"r","status_code":200})");
  AuthenticateRequest a;
  a.session_token = std::string(44, 'x');
  EXPECT_ERROR_KIND(client_->Sessions().Authenticate(a), ErrorKind::kProtocol);
  CreateUserRequest u;
  u.email = "a@example.com";
  EXPECT_ERROR_KIND(client_->Users().Create(u), ErrorKind::kProtocol);
  PasswordRequest p{"a@example.com", kStrongPassword, 60, std::nullopt, std::nullopt};
  EXPECT_ERROR_KIND(client_->Passwords().Authenticate(p), ErrorKind::kProtocol);
  EXPECT_ERROR_KIND(client_->Sessions().GetJwks(), ErrorKind::kProtocol);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwksUnavailable);
  // Nesting far beyond any real response is refused, not recursed into.
  transport_->RespondWith(200, std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_ERROR_KIND(client_->Users().Get("user-test-x"), ErrorKind::kProtocol);
}

TEST_F(InjectedTransportTest, JsonErrorBodyIsAnApiError) {
  transport_->RespondWith(503, R"({"status_code":503,"request_id":"request-id-test-1",)"
                               R"("error_type":"service_unavailable","error_message":"later"})");
  auto r = client_->Users().Get("user-test-x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kApi);
  EXPECT_EQ(r.error().status_code, 503);
  EXPECT_EQ(r.error().error_type, "service_unavailable");
  EXPECT_EQ(r.error().error_message, "later");
  EXPECT_EQ(r.error().request_id, "request-id-test-1");
}

// Random statuses and bodies, some JSON-ish: every call returns an error or a value, nothing
// crashes (the sanitizer build checks for memory errors on the way).
TEST_F(InjectedTransportTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20261125);
  const std::vector<std::string> fragments = {"{",
                                              "}",
                                              "[",
                                              "]",
                                              "\"",
                                              ":",
                                              ",",
                                              "\"keys\"",
                                              "\"session\"",
                                              "\"user\"",
                                              "\"user_id\"",
                                              "\"emails\"",
                                              "null",
                                              "true",
                                              "1e999",
                                              "-0",
                                              "\"\\u0000\"",
                                              "{\"kty\":\"RSA\"}",
                                              "\"session_jwt\"",
                                              "\"started_at\"",
                                              "\"2026-13-45T99:99:99Z\"",
                                              "\xff\xfe",
                                              " "};
  const int statuses[] = {200, 200, 200, 400, 401, 404, 500, 502, 0, 999};
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    const int parts = static_cast<int>(rng() % 24);
    for (int j = 0; j < parts; ++j) body += fragments[rng() % fragments.size()];
    transport_->RespondWith(statuses[rng() % std::size(statuses)], body);
    switch (i % 6) {
      case 0: {
        AuthenticateRequest a;
        a.session_token = std::string(44, 'x');
        (void)client_->Sessions().Authenticate(a);
        break;
      }
      case 1:
        (void)client_->Sessions().Get("u");
        break;
      case 2:
        (void)client_->Sessions().GetJwks();
        break;
      case 3:
        (void)client_->Users().Get("u");
        break;
      case 4: {
        PasswordRequest p{"a@example.com", kStrongPassword, 60, std::nullopt, std::nullopt};
        (void)client_->Passwords().Authenticate(p);
        break;
      }
      default:
        (void)client_->Sessions().AuthenticateJwt("a.b.c");
        break;
    }
  }
  // Valid-looking user objects with wrong member types are read defensively.
  transport_->RespondWith(200, R"({"user_id":5,"status":[],"emails":[1,{"email":2}],)"
                               R"("roles":{"a":1},"password":"x","is_locked":"yes"})");
  auto user = client_->Users().Get("u");
  ASSERT_OK(user);
  EXPECT_EQ(user->user_id, "");
  ASSERT_EQ(user->emails.size(), 1u);
  EXPECT_EQ(user->emails[0].email, "");
  EXPECT_TRUE(user->roles.empty());
  EXPECT_FALSE(user->has_password);
  EXPECT_FALSE(user->is_locked);
}

// A garbage key set after a good one: the good one keeps serving (the injected transport here
// sits in front of the real server).
class GarbageAfterGoodTest : public ServerTest {};

TEST_F(GarbageAfterGoodTest, LastGoodKeySetServes) {
  auto transport = std::make_shared<ScriptedTransport>(NewCurlTransport());
  ClientOptions o = Options();
  o.transport = transport;
  o.jwks_refresh_interval = seconds(1);
  o.verified_cache_capacity = 0;
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);
  const PasswordResponse a = SignUp(*client);
  const PasswordResponse b = SignUp(*client);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(a.session_jwt));

  transport->RespondWith(200, R"({"keys":[{"kty":"RSA","kid":"x","n":"!!","e":"AQAB"}]})");
  for (int i = 0; i < 100 && client->stats().jwks_fetch_failures == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(client->stats().jwks_fetch_failures, 1u);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(b.session_jwt));
  transport->RespondWith(502, "<html>Bad Gateway</html>");
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt(a.session_jwt, seconds(0)),
                    ErrorKind::kProtocol);
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(a.session_jwt));
}

}  // namespace
}  // namespace tessera::client::testing
