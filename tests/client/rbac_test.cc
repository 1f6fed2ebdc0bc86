// Authorization checks in the SDK (docs/rbac.md): answered locally from the JWT's roles and the
// cached policy, and by the API whenever the local answer is not a yes, so the server's current
// roles and policy always have the last word. The client's clock is a FakeClock, so the policy's
// refresh is driven by advancing it, never by sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::seconds;

constexpr char kPolicy[] = R"({
  "resources": [{"resource_id": "documents", "actions": ["read", "write", "delete"]}],
  "roles": [
    {"role_id": "editor", "permissions": [{"resource_id": "documents", "actions": ["read", "write"]}]},
    {"role_id": "reader", "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
    {"role_id": "admin", "permissions": [{"resource_id": "documents", "actions": ["*"]}]}
  ]
})";

// As kPolicy, but editors may only read.
constexpr char kEditorsReadOnly[] = R"({
  "resources": [{"resource_id": "documents", "actions": ["read", "write", "delete"]}],
  "roles": [
    {"role_id": "editor", "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
    {"role_id": "reader", "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
    {"role_id": "admin", "permissions": [{"resource_id": "documents", "actions": ["*"]}]}
  ]
})";

const AuthorizationCheck kWrite{"documents", "write"};
const AuthorizationCheck kRead{"documents", "read"};

class RbacTest : public ServerTest {
 protected:
  std::vector<std::string> ServerArgs() const override { return {"--jwt-reuse-seconds", "0"}; }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(SetPolicy(kPolicy));
    clock_ = std::make_shared<FakeClock>();
    transport_ = std::make_shared<ScriptedTransport>(NewCurlTransport());
    ClientOptions o = Options();
    o.clock = clock_;
    o.transport = transport_;
    o.rbac_policy_refresh_interval = seconds(60);
    client_ = NewClient(std::move(o));
    ASSERT_NE(client_, nullptr);
    ASSERT_TRUE(AwaitServedRoles(4));
  }

  // `tessera rbac set` on the fixture's database.
  ::testing::AssertionResult SetPolicy(const std::string& policy) {
    const auto path = dir_->path() / ("policy-" + std::to_string(++policies_) + ".json");
    std::ofstream(path) << policy;
    const CommandResult r = RunTessera({"rbac", "set", "--project", project_.project_id,
                                        "--database", database_url(), "--file", path.string()});
    if (r.exit_code != 0) return ::testing::AssertionFailure() << "rbac set: " << r.err;
    return ::testing::AssertionSuccess();
  }

  // Waits (up to 10 s) until the server serves a policy with `n` roles (it polls the store).
  ::testing::AssertionResult AwaitServedRoles(std::size_t n) {
    for (int i = 0; i < 100; ++i) {
      auto p = client_->Rbac().Policy();
      if (p.ok() && p->role_ids.size() == n) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "the server did not serve the policy in 10 s";
  }

  PasswordResponse SignUpWithRoles(std::vector<std::string> roles) {
    PasswordRequest req;
    req.email = UniqueEmail();
    req.password = kStrongPassword;
    req.session_duration_minutes = 60;
    req.roles = std::move(roles);
    auto r = client_->Passwords().Create(req);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : Describe(r.error()));
    // The client's now after the sign-up, so the JWT is not "issued in the future".
    clock_->Set(std::chrono::system_clock::now());
    return r.ok() ? std::move(*r) : PasswordResponse{};
  }

  // PUT /v1/users/{id} {"roles": [...]}, straight over HTTP (the SDK has no users.update).
  ::testing::AssertionResult SetRoles(const std::string& user_id, const std::string& roles_json) {
    auto transport = NewCurlTransport();
    HttpRequest req;
    req.method = "PUT";
    req.url = server_->base_url() + "/v1/users/" + user_id;
    const std::string creds = project_.project_id + ":" + project_.secret;
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b64;
    for (std::size_t i = 0; i < creds.size(); i += 3) {
      const std::uint32_t n =
          (std::uint32_t(static_cast<unsigned char>(creds[i])) << 16) |
          (i + 1 < creds.size() ? std::uint32_t(static_cast<unsigned char>(creds[i + 1])) << 8
                                : 0) |
          (i + 2 < creds.size() ? std::uint32_t(static_cast<unsigned char>(creds[i + 2])) : 0);
      b64.push_back(kB64[(n >> 18) & 63]);
      b64.push_back(kB64[(n >> 12) & 63]);
      b64.push_back(i + 1 < creds.size() ? kB64[(n >> 6) & 63] : '=');
      b64.push_back(i + 2 < creds.size() ? kB64[n & 63] : '=');
    }
    req.headers = {{"Authorization", "Basic " + b64}, {"Content-Type", "application/json"}};
    req.body = "{\"roles\":" + roles_json + "}";
    req.max_response_bytes = 1 << 20;
    auto res = transport->Send(req);
    if (!res.ok()) return ::testing::AssertionFailure() << Describe(res.error());
    if (res->status != 200) return ::testing::AssertionFailure() << res->status << " " << res->body;
    return ::testing::AssertionSuccess();
  }

  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<ScriptedTransport> transport_;
  std::unique_ptr<Client> client_;
  int policies_ = 0;
};

TEST_F(RbacTest, PolicyIsServedComplete) {
  auto p = client_->Rbac().Policy();
  ASSERT_OK(p);
  EXPECT_EQ(p->role_ids, (std::vector<std::string>{"stytch_user", "editor", "reader", "admin"}));
  EXPECT_EQ(p->resource_ids, std::vector<std::string>{"documents"});
  EXPECT_NE(p->json.find("\"scopes\":[]"), std::string::npos) << p->json;
  EXPECT_FALSE(p->request_id.empty());
}

TEST_F(RbacTest, GrantedLocallyWithoutAnApiCall) {
  const PasswordResponse s = SignUpWithRoles({"editor"});
  const auto api_before = transport_->api_requests();
  auto local = client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->user_id, s.user_id);
  for (int i = 0; i < 3; ++i) {
    auto r = client_->Sessions().AuthenticateJwt(s.session_jwt, seconds(60), {}, kWrite);
    ASSERT_OK(r);
    EXPECT_EQ(r->verified_by, VerifiedBy::kLocal);
    EXPECT_EQ(r->granting_roles, std::vector<std::string>{"editor"});
    EXPECT_EQ(r->session_jwt, s.session_jwt);
  }
  // One API request: the policy, fetched once and cached.
  EXPECT_EQ(transport_->api_requests(), api_before + 1);
  const ClientStats st = client_->stats();
  EXPECT_EQ(st.policy_fetches, 1u);
  EXPECT_EQ(st.api_fallbacks, 0u);
  EXPECT_EQ(st.local_permission_denials, 0u);
}

TEST_F(RbacTest, NoCheckFetchesNoPolicy) {
  const PasswordResponse s = SignUpWithRoles({"editor"});
  auto r = client_->Sessions().AuthenticateJwt(s.session_jwt, seconds(60));
  ASSERT_OK(r);
  EXPECT_TRUE(r->granting_roles.empty());
  EXPECT_EQ(client_->stats().policy_fetches, 0u);
}

TEST_F(RbacTest, LocalDenialAsksTheApiWhichDenies) {
  const PasswordResponse s = SignUpWithRoles({"reader"});
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPermissionDenied);
  auto r = client_->Sessions().AuthenticateJwt(s.session_jwt, seconds(60), {}, kWrite);
  EXPECT_API_ERROR(r, 403, "consumer_session_authorization_error");
  const ClientStats st = client_->stats();
  EXPECT_EQ(st.local_permission_denials, 2u);
  EXPECT_EQ(st.api_fallbacks, 1u);
  // The server had the request with the check: its 403 is the answer, not a local one.
  const auto log = transport_->log();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), "POST /v1/sessions/authenticate");
}

TEST_F(RbacTest, LocalNoServerYesAfterARoleChange) {
  const PasswordResponse s = SignUpWithRoles({"reader"});
  ASSERT_TRUE(SetRoles(s.user_id, R"(["editor"])"));
  // The JWT still says reader: locally denied, granted by the server on the current roles.
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPermissionDenied);
  auto r = client_->Sessions().AuthenticateJwt(s.session_jwt, seconds(60), {}, kWrite);
  ASSERT_OK(r);
  EXPECT_EQ(r->verified_by, VerifiedBy::kApi);
  EXPECT_EQ(r->granting_roles, std::vector<std::string>{"editor"});
  ASSERT_TRUE(r->api.has_value());
  ASSERT_TRUE(r->api->verdict.has_value());
  EXPECT_TRUE(r->api->verdict->authorized);
  // The fresh JWT carries the new roles and is granted locally from then on.
  EXPECT_EQ(r->session->roles, (std::vector<std::string>{"stytch_user", "editor"}));
  auto again = client_->Sessions().AuthenticateJwt(r->session_jwt, seconds(60), {}, kWrite);
  ASSERT_OK(again);
  EXPECT_EQ(again->verified_by, VerifiedBy::kLocal);
}

TEST_F(RbacTest, PolicyIsRefetchedOnceItIsAsOldAsTheInterval) {
  const PasswordResponse s = SignUpWithRoles({"editor"});
  auto first = client_->Sessions().AuthenticateJwt(s.session_jwt, {}, {}, kWrite);
  ASSERT_OK(first);
  EXPECT_EQ(first->verified_by, VerifiedBy::kLocal);
  ASSERT_TRUE(SetPolicy(kEditorsReadOnly));
  // Wait for the server to serve the new policy (fetched directly, not through the cache).
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    auto p = client_->Rbac().Policy();
    served =
        p.ok() &&
        p->json.find(
            R"("role_id":"editor","description":"","permissions":[{"resource_id":"documents","actions":["read"]}])") !=
            std::string::npos;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(served);
  // Within the interval the cached policy still grants locally.
  clock_->Advance(seconds(59));
  auto cached = client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite);
  ASSERT_OK(cached);
  EXPECT_EQ(client_->stats().policy_fetches, 1u);
  // At the interval it is refetched: denied locally, and by the server.
  clock_->Advance(seconds(1));
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPermissionDenied);
  EXPECT_EQ(client_->stats().policy_fetches, 2u);
  EXPECT_API_ERROR(client_->Sessions().AuthenticateJwt(s.session_jwt, {}, {}, kWrite), 403,
                   "consumer_session_authorization_error");
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kRead));
}

TEST_F(RbacTest, NoPolicyNoLocalYes) {
  const PasswordResponse s = SignUpWithRoles({"editor"});
  // The key set is cached first; then every request fails.
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(s.session_jwt));
  transport_->FailWith(ErrorKind::kTransport);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPolicyUnavailable);
  // The failure is remembered for the refetch interval: no second attempt meanwhile.
  const auto requests = transport_->requests();
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPolicyUnavailable);
  EXPECT_EQ(transport_->requests(), requests);
  EXPECT_EQ(client_->stats().policy_fetch_failures, 1u);
  // AuthenticateJwt asks the API, which cannot be reached either: no yes anywhere.
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwt(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kTransport);
  // A policy held past its interval is not used when the refetch fails.
  transport_->PassThrough();
  clock_->Advance(seconds(31));  // Past the failure's refetch interval (30 s).
  ASSERT_OK(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite));
  transport_->FailWith(ErrorKind::kTransport);
  clock_->Advance(seconds(60));
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(s.session_jwt, {}, {}, kWrite),
                    ErrorKind::kPolicyUnavailable);
}

TEST_F(RbacTest, AServerThatIgnoresTheCheckIsNotAYes) {
  const PasswordResponse s = SignUpWithRoles({"reader"});
  transport_->RespondWith(
      200, R"({"status_code":200,"request_id":"r","session":{},"user":{},"session_jwt":"x"})");
  AuthenticateRequest req;
  req.session_jwt = s.session_jwt;
  req.authorization_check = kWrite;
  EXPECT_ERROR_KIND(client_->Sessions().Authenticate(req), ErrorKind::kProtocol);
}

TEST_F(RbacTest, ApiAuthenticateWithCheck) {
  const PasswordResponse s = SignUpWithRoles({"admin", "reader"});
  AuthenticateRequest req;
  req.session_token = s.session_token;
  req.authorization_check = kRead;
  auto r = client_->Sessions().Authenticate(req);
  ASSERT_OK(r);
  ASSERT_TRUE(r->verdict.has_value());
  EXPECT_TRUE(r->verdict->authorized);
  EXPECT_EQ(r->verdict->granting_roles, (std::vector<std::string>{"reader", "admin"}));
  req.authorization_check = AuthorizationCheck{"documents", "delete"};
  r = client_->Sessions().Authenticate(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->verdict->granting_roles, std::vector<std::string>{"admin"});
  req.authorization_check = AuthorizationCheck{"images", "read"};
  EXPECT_API_ERROR(client_->Sessions().Authenticate(req), 403,
                   "consumer_session_authorization_error");
}

}  // namespace
}  // namespace tessera::client::testing
