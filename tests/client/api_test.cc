// Every SDK call against the real `tessera` binary: concrete values on success, typed errors
// (kind, status, error_type, message, request id) on failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

// |a - b| <= slack.
::testing::AssertionResult Near(TimePoint a, TimePoint b, seconds slack = seconds(5)) {
  const auto d = a > b ? a - b : b - a;
  if (d <= slack) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "times differ by " << std::chrono::duration_cast<seconds>(d).count() << " s";
}

class ApiTest : public ServerTest {
 protected:
  // Every authenticate mints, so a new JWT is observable.
  std::vector<std::string> ServerArgs() const override { return {"--jwt-reuse-seconds", "0"}; }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    transport_ = std::make_shared<ScriptedTransport>(NewCurlTransport());
    ClientOptions o = Options();
    o.transport = transport_;
    client_ = NewClient(std::move(o));
    ASSERT_NE(client_, nullptr);
  }

  std::shared_ptr<ScriptedTransport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(ApiTest, CreateValidatesOptionsWithoutIo) {
  auto transport = std::make_shared<ScriptedTransport>();
  ClientOptions o = Options();
  o.transport = transport;
  ClientOptions bad = o;
  bad.project_id = "";
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad = o;
  bad.secret = "";
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad = o;
  bad.base_url = "127.0.0.1:8080";
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad = o;
  bad.request_timeout = std::chrono::milliseconds(0);
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad = o;
  bad.jwks_refresh_interval = seconds(0);
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad = o;
  bad.clock_tolerance = seconds(-1);
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad.clock_tolerance = seconds(301);
  EXPECT_ERROR_KIND(Client::Create(bad), ErrorKind::kInvalidArgument);
  bad.clock_tolerance = seconds(300);
  ASSERT_OK(Client::Create(bad));
  bad.clock_tolerance = seconds(0);
  ASSERT_OK(Client::Create(bad));
  auto good = Client::Create(o);
  ASSERT_OK(good);
  EXPECT_EQ(transport->requests(), 0u) << "Create must do no I/O";
}

TEST_F(ApiTest, UsersCreateGetDelete) {
  CreateUserRequest req;
  req.email = UniqueEmail();
  req.first_name = "Ada";
  req.last_name = "Lovelace";
  req.trusted_metadata_json = R"({"tier":"gold"})";
  req.external_id = "ext-" + req.email->substr(0, req.email->find('@'));
  auto created = client_->Users().Create(req);
  ASSERT_OK(created);
  EXPECT_TRUE(created->request_id.starts_with("request-id-test-")) << created->request_id;
  EXPECT_TRUE(created->user_id.starts_with("user-test-")) << created->user_id;
  EXPECT_TRUE(created->email_id.starts_with("email-test-")) << created->email_id;
  EXPECT_EQ(created->status, "active");
  const User& u = created->user;
  EXPECT_EQ(u.user_id, created->user_id);
  EXPECT_EQ(u.status, "active");
  ASSERT_EQ(u.emails.size(), 1u);
  EXPECT_EQ(u.emails[0].email, *req.email);
  EXPECT_EQ(u.emails[0].email_id, created->email_id);
  EXPECT_FALSE(u.emails[0].verified);
  EXPECT_EQ(u.roles, std::vector<std::string>{"stytch_user"});
  EXPECT_FALSE(u.has_password);
  EXPECT_FALSE(u.is_locked);
  EXPECT_NE(u.json.find(R"("trusted_metadata":{"tier":"gold"})"), std::string::npos) << u.json;
  EXPECT_NE(u.json.find(R"("first_name":"Ada")"), std::string::npos) << u.json;
  EXPECT_NE(u.json.find("\"external_id\":\"" + *req.external_id + "\""), std::string::npos);

  auto got = client_->Users().Get(created->user_id);
  ASSERT_OK(got);
  EXPECT_EQ(got->user_id, created->user_id);
  ASSERT_EQ(got->emails.size(), 1u);
  EXPECT_EQ(got->emails[0].email, *req.email);
  EXPECT_EQ(got->json.find("request_id"), std::string::npos) << "envelope leaked into the user";

  // The same email again is refused.
  CreateUserRequest dup;
  dup.email = req.email;
  EXPECT_API_ERROR(client_->Users().Create(dup), 400, "duplicate_email");

  auto deleted = client_->Users().Delete(created->user_id);
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, created->user_id);
  EXPECT_API_ERROR(client_->Users().Get(created->user_id), 404, "user_not_found");
  EXPECT_API_ERROR(client_->Users().Delete(created->user_id), 404, "user_not_found");
}

TEST_F(ApiTest, UsersCreateRefusesBadMetadataBeforeIo) {
  CreateUserRequest req;
  req.email = UniqueEmail();
  req.trusted_metadata_json = "[1, 2]";
  const auto before = transport_->requests();
  EXPECT_ERROR_KIND(client_->Users().Create(req), ErrorKind::kInvalidArgument);
  EXPECT_EQ(transport_->requests(), before);
}

TEST_F(ApiTest, PasswordsCreateAndAuthenticate) {
  PasswordRequest req;
  req.email = UniqueEmail();
  req.password = kStrongPassword;
  req.session_duration_minutes = 60;
  const auto t0 = system_clock::now();
  auto created = client_->Passwords().Create(req);
  ASSERT_OK(created);
  EXPECT_TRUE(created->user_id.starts_with("user-test-"));
  EXPECT_TRUE(created->email_id.starts_with("email-test-"));
  EXPECT_EQ(created->session_token.size(), 44u) << created->session_token;
  EXPECT_EQ(std::count(created->session_jwt.begin(), created->session_jwt.end(), '.'), 2);
  ASSERT_TRUE(created->session.has_value());
  const Session& s = *created->session;
  EXPECT_TRUE(s.session_id.starts_with("session-test-")) << s.session_id;
  EXPECT_EQ(s.user_id, created->user_id);
  EXPECT_TRUE(Near(s.started_at, t0));
  EXPECT_TRUE(Near(s.expires_at, t0 + minutes(60)));
  EXPECT_EQ(s.roles, std::vector<std::string>{"stytch_user"});
  EXPECT_NE(s.authentication_factors_json.find(R"("type":"password")"), std::string::npos)
      << s.authentication_factors_json;
  EXPECT_EQ(s.custom_claims_json, "{}");
  EXPECT_TRUE(created->user.has_password);
  ASSERT_EQ(created->user.emails.size(), 1u);
  EXPECT_EQ(created->user.emails[0].email, req.email);

  // A login is a new session of the same user.
  req.session_duration_minutes = 30;
  auto login = client_->Passwords().Authenticate(req);
  ASSERT_OK(login);
  EXPECT_EQ(login->user_id, created->user_id);
  ASSERT_TRUE(login->session.has_value());
  EXPECT_NE(login->session->session_id, s.session_id);
  EXPECT_NE(login->session_token, created->session_token);
  EXPECT_TRUE(Near(login->session->expires_at, t0 + minutes(30)));

  // Without session_duration_minutes: no session.
  req.session_duration_minutes.reset();
  auto bare = client_->Passwords().Authenticate(req);
  ASSERT_OK(bare);
  EXPECT_EQ(bare->user_id, created->user_id);
  EXPECT_EQ(bare->session_token, "");
  EXPECT_EQ(bare->session_jwt, "");
  EXPECT_FALSE(bare->session.has_value());

  PasswordRequest wrong = req;
  wrong.password = std::string(kStrongPassword) + "x";
  EXPECT_API_ERROR(client_->Passwords().Authenticate(wrong), 401, "unauthorized_credentials");
  PasswordRequest unknown = req;
  unknown.email = UniqueEmail();
  EXPECT_API_ERROR(client_->Passwords().Authenticate(unknown), 404, "email_not_found");
  PasswordRequest weak;
  weak.email = UniqueEmail();
  weak.password = "password";
  EXPECT_API_ERROR(client_->Passwords().Create(weak), 400, "weak_password");
}

TEST_F(ApiTest, PasswordsCreateWithCustomClaims) {
  PasswordRequest req;
  req.email = UniqueEmail();
  req.password = kStrongPassword;
  req.session_duration_minutes = 60;
  req.session_custom_claims_json = R"({"plan":"team"})";
  auto created = client_->Passwords().Create(req);
  ASSERT_OK(created);
  ASSERT_TRUE(created->session.has_value());
  EXPECT_EQ(created->session->custom_claims_json, R"({"plan":"team"})");
  auto local = client_->Sessions().AuthenticateJwtLocal(created->session_jwt);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->custom_claims_json, R"({"plan":"team"})");
}

TEST_F(ApiTest, SessionsAuthenticateByToken) {
  const PasswordResponse s = SignUp(*client_);
  ASSERT_FALSE(s.session_token.empty());
  WaitForNextSecond();
  AuthenticateRequest req;
  req.session_token = s.session_token;
  auto r = client_->Sessions().Authenticate(req);
  ASSERT_OK(r);
  EXPECT_TRUE(r->request_id.starts_with("request-id-test-"));
  EXPECT_EQ(r->session_token, s.session_token);
  EXPECT_EQ(r->session.session_id, s.session->session_id);
  EXPECT_EQ(r->session.user_id, s.user_id);
  EXPECT_EQ(r->session.started_at, s.session->started_at);
  EXPECT_EQ(r->session.expires_at, s.session->expires_at);
  EXPECT_GT(r->session.last_accessed_at, s.session->last_accessed_at);
  EXPECT_EQ(r->user.user_id, s.user_id);
  EXPECT_NE(r->session_jwt, s.session_jwt) << "a new second, a new JWT";
  EXPECT_NE(JwtSegment(r->session_jwt, 1).find(s.session->session_id), std::string::npos);
}

TEST_F(ApiTest, SessionsAuthenticateExtendsDurationAndMergesCustomClaims) {
  const PasswordResponse s = SignUp(*client_);
  AuthenticateRequest req;
  req.session_token = s.session_token;
  req.session_duration_minutes = 600;
  req.session_custom_claims_json = R"({"plan":"team","seats":3})";
  const auto t0 = system_clock::now();
  auto r = client_->Sessions().Authenticate(req);
  ASSERT_OK(r);
  EXPECT_TRUE(Near(r->session.expires_at, t0 + minutes(600)));
  EXPECT_EQ(r->session.custom_claims_json, R"({"plan":"team","seats":3})");

  // The JWT carries both the new expiry and the claims; local verification reads them back.
  auto local = client_->Sessions().AuthenticateJwtLocal(r->session_jwt);
  ASSERT_OK(local);
  EXPECT_EQ((*local)->session_id, s.session->session_id);
  EXPECT_EQ((*local)->expires_at, r->session.expires_at);
  EXPECT_EQ((*local)->custom_claims_json, R"({"plan":"team","seats":3})");

  // By JWT: merge (seats changed, plan kept).
  AuthenticateRequest by_jwt;
  by_jwt.session_jwt = r->session_jwt;
  by_jwt.session_custom_claims_json = R"({"seats":4})";
  auto merged = client_->Sessions().Authenticate(by_jwt);
  ASSERT_OK(merged);
  EXPECT_EQ(merged->session.custom_claims_json, R"({"plan":"team","seats":4})");
  EXPECT_EQ(merged->session_token, s.session_token);

  req.session_duration_minutes = 4;  // Below the API's 5-minute minimum.
  req.session_custom_claims_json.reset();
  EXPECT_API_ERROR(client_->Sessions().Authenticate(req), 400, "invalid_session_duration_minutes");
}

TEST_F(ApiTest, SessionsAuthenticateByJwtReturnsANewJwt) {
  const PasswordResponse s = SignUp(*client_);
  WaitForNextSecond();
  AuthenticateRequest req;
  req.session_jwt = s.session_jwt;
  auto r = client_->Sessions().Authenticate(req);
  ASSERT_OK(r);
  EXPECT_EQ(r->session.session_id, s.session->session_id);
  EXPECT_EQ(r->session_token, s.session_token);
  EXPECT_NE(r->session_jwt, s.session_jwt);
  EXPECT_GT(JwtIntClaim(r->session_jwt, "iat").value_or(0),
            JwtIntClaim(s.session_jwt, "iat").value_or(0));
  EXPECT_EQ(JwtIntClaim(r->session_jwt, "exp").value_or(0),
            JwtIntClaim(r->session_jwt, "iat").value_or(-1) + 300);
}

TEST_F(ApiTest, SessionsAuthenticateErrors) {
  AuthenticateRequest none;
  EXPECT_ERROR_KIND(client_->Sessions().Authenticate(none), ErrorKind::kInvalidArgument);
  AuthenticateRequest both;
  both.session_token = std::string(44, 'x');
  both.session_jwt = "a.b.c";
  EXPECT_ERROR_KIND(client_->Sessions().Authenticate(both), ErrorKind::kInvalidArgument);
  AuthenticateRequest bad_claims;
  bad_claims.session_token = std::string(44, 'x');
  bad_claims.session_custom_claims_json = "not json";
  EXPECT_ERROR_KIND(client_->Sessions().Authenticate(bad_claims), ErrorKind::kInvalidArgument);
  EXPECT_EQ(transport_->requests(), 0u) << "argument errors are caught before any I/O";

  AuthenticateRequest unknown;
  unknown.session_token = std::string(44, 'x');
  EXPECT_API_ERROR(client_->Sessions().Authenticate(unknown), 404, "session_not_found");
  AuthenticateRequest garbage;
  garbage.session_jwt = "not-a-jwt";
  EXPECT_API_ERROR(client_->Sessions().Authenticate(garbage), 401, "unable_to_parse_session_jwt");
}

TEST_F(ApiTest, SessionsGetListsLiveSessions) {
  const PasswordResponse s = SignUp(*client_);
  const std::string email = s.user.emails.at(0).email;
  const PasswordResponse second = LogIn(*client_, email);
  auto listed = client_->Sessions().Get(s.user_id);
  ASSERT_OK(listed);
  std::set<std::string> ids;
  for (const Session& x : *listed) {
    ids.insert(x.session_id);
    EXPECT_EQ(x.user_id, s.user_id);
    EXPECT_EQ(x.roles, std::vector<std::string>{"stytch_user"});
  }
  EXPECT_EQ(ids, (std::set<std::string>{s.session->session_id, second.session->session_id}));

  RevokeRequest revoke;
  revoke.session_id = second.session->session_id;
  ASSERT_OK(client_->Sessions().Revoke(revoke));
  listed = client_->Sessions().Get(s.user_id);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->at(0).session_id, s.session->session_id);

  CreateUserRequest u;
  u.email = UniqueEmail();
  auto lonely = client_->Users().Create(u);
  ASSERT_OK(lonely);
  listed = client_->Sessions().Get(lonely->user_id);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());

  EXPECT_API_ERROR(client_->Sessions().Get("user-test-00000000-0000-0000-0000-000000000000"), 404,
                   "user_not_found");
}

TEST_F(ApiTest, SessionsRevokeByIdTokenAndJwt) {
  const PasswordResponse s = SignUp(*client_);
  const std::string email = s.user.emails.at(0).email;
  const PasswordResponse by_token = LogIn(*client_, email);
  const PasswordResponse by_jwt = LogIn(*client_, email);
  const PasswordResponse survivor = LogIn(*client_, email);

  RevokeRequest r1;
  r1.session_id = s.session->session_id;
  auto id1 = client_->Sessions().Revoke(r1);
  ASSERT_OK(id1);
  EXPECT_TRUE(id1->starts_with("request-id-test-")) << *id1;
  RevokeRequest r2;
  r2.session_token = by_token.session_token;
  ASSERT_OK(client_->Sessions().Revoke(r2));
  RevokeRequest r3;
  r3.session_jwt = by_jwt.session_jwt;
  ASSERT_OK(client_->Sessions().Revoke(r3));

  for (const PasswordResponse* dead : {&s, &by_token, &by_jwt}) {
    AuthenticateRequest a;
    a.session_token = dead->session_token;
    EXPECT_API_ERROR(client_->Sessions().Authenticate(a), 404, "session_not_found");
  }
  AuthenticateRequest alive;
  alive.session_token = survivor.session_token;
  ASSERT_OK(client_->Sessions().Authenticate(alive));

  EXPECT_API_ERROR(client_->Sessions().Revoke(r1), 404, "session_not_found");
  RevokeRequest none;
  EXPECT_ERROR_KIND(client_->Sessions().Revoke(none), ErrorKind::kInvalidArgument);
  RevokeRequest two = r1;
  two.session_token = by_token.session_token;
  EXPECT_ERROR_KIND(client_->Sessions().Revoke(two), ErrorKind::kInvalidArgument);
}

TEST_F(ApiTest, GetJwksFetchesNowAndListsKids) {
  auto jwks = client_->Sessions().GetJwks();
  ASSERT_OK(jwks);
  // A new project publishes its active key and its next key.
  ASSERT_EQ(jwks->kids.size(), 2u) << jwks->json;
  for (const std::string& kid : jwks->kids) {
    EXPECT_TRUE(kid.starts_with("jwk-test-")) << kid;
    EXPECT_NE(jwks->json.find("\"kid\":\"" + kid + "\""), std::string::npos);
  }
  EXPECT_TRUE(jwks->json.starts_with(R"({"keys":[)")) << jwks->json.substr(0, 40);
  EXPECT_NE(jwks->json.find(R"("alg":"RS256")"), std::string::npos);
  const PasswordResponse s = SignUp(*client_);
  EXPECT_NE(std::find(jwks->kids.begin(), jwks->kids.end(), JwtKid(s.session_jwt)),
            jwks->kids.end());

  // GetJwks is not the cache: each call fetches.
  const auto before = transport_->jwks_requests();
  ASSERT_OK(client_->Sessions().GetJwks());
  ASSERT_OK(client_->Sessions().GetJwks());
  EXPECT_EQ(transport_->jwks_requests(), before + 2);
  EXPECT_EQ(client_->stats().jwks_fetches, 0u) << "GetJwks does not feed the verification cache";

  // A rotation publishes a third key (the old active one stays while its JWTs live).
  ASSERT_TRUE(RotateKeys(database_url(), project_.project_id));
  std::vector<std::string> kids;
  for (int i = 0; i < 100 && kids.size() != 3; ++i) {  // The server polls every second.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto again = client_->Sessions().GetJwks();
    ASSERT_OK(again);
    kids = again->kids;
  }
  EXPECT_EQ(kids.size(), 3u);
}

TEST_F(ApiTest, AuthenticateJwtLocalReadsTheSession) {
  const PasswordResponse s = SignUp(*client_);
  const auto api_calls = transport_->api_requests();
  auto local = client_->Sessions().AuthenticateJwtLocal(s.session_jwt);
  ASSERT_OK(local);
  const Session& l = **local;
  EXPECT_EQ(l.session_id, s.session->session_id);
  EXPECT_EQ(l.user_id, s.user_id);
  EXPECT_EQ(l.started_at, s.session->started_at);
  EXPECT_EQ(l.last_accessed_at, s.session->last_accessed_at);
  EXPECT_EQ(l.expires_at, s.session->expires_at);
  EXPECT_EQ(l.roles, std::vector<std::string>{"stytch_user"});
  EXPECT_NE(l.authentication_factors_json.find(R"("type":"password")"), std::string::npos);
  EXPECT_EQ(l.custom_claims_json, "{}");
  EXPECT_EQ(transport_->api_requests(), api_calls) << "local verification calls no API";
  EXPECT_EQ(transport_->jwks_requests(), 1u);
  EXPECT_EQ(client_->stats().local_verifications, 1u);

  // Tampering is caught locally.
  std::string forged = s.session_jwt;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(forged), ErrorKind::kJwtInvalid);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal("a.b.c"), ErrorKind::kJwtInvalid);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwtLocal(""), ErrorKind::kJwtInvalid);
}

TEST_F(ApiTest, AuthenticateJwtFreshIsLocal) {
  const PasswordResponse s = SignUp(*client_);
  const auto api_calls = transport_->api_requests();
  auto r = client_->Sessions().AuthenticateJwt(s.session_jwt, seconds(60));
  ASSERT_OK(r);
  EXPECT_EQ(r->verified_by, VerifiedBy::kLocal);
  EXPECT_EQ(r->session_jwt, s.session_jwt);
  EXPECT_FALSE(r->api.has_value());
  EXPECT_EQ(r->session->session_id, s.session->session_id);
  EXPECT_EQ(transport_->api_requests(), api_calls);
  EXPECT_EQ(client_->stats().api_fallbacks, 0u);
  EXPECT_ERROR_KIND(client_->Sessions().AuthenticateJwt(""), ErrorKind::kInvalidArgument);
}

TEST_F(ApiTest, WrongSecretIsUnauthorized) {
  ClientOptions o = Options();
  o.secret = project_.secret + "x";
  auto bad = NewClient(o);
  ASSERT_NE(bad, nullptr);
  EXPECT_API_ERROR(bad->Users().Get("user-test-00000000-0000-0000-0000-000000000000"), 401,
                   "unauthorized_credentials");
  CreateUserRequest u;
  u.email = UniqueEmail();
  EXPECT_API_ERROR(bad->Users().Create(u), 401, "unauthorized_credentials");
  PasswordRequest p;
  p.email = UniqueEmail();
  p.password = kStrongPassword;
  EXPECT_API_ERROR(bad->Passwords().Create(p), 401, "unauthorized_credentials");
  AuthenticateRequest a;
  a.session_token = std::string(44, 'x');
  EXPECT_API_ERROR(bad->Sessions().Authenticate(a), 401, "unauthorized_credentials");

  // The JWKS is public, so local verification does not need the secret; the API fallback does.
  const PasswordResponse s = SignUp(*client_);
  ASSERT_OK(bad->Sessions().AuthenticateJwtLocal(s.session_jwt));
  EXPECT_API_ERROR(bad->Sessions().AuthenticateJwt(s.session_jwt, seconds(0)), 401,
                   "unauthorized_credentials");

  // An unknown project is refused the same way (no hint that the project does not exist).
  o = Options();
  o.project_id = "project-test-00000000-0000-0000-0000-000000000000";
  auto stranger = NewClient(o);
  ASSERT_NE(stranger, nullptr);
  EXPECT_API_ERROR(stranger->Users().Get("x"), 401, "unauthorized_credentials");
}

}  // namespace
}  // namespace tessera::client::testing
