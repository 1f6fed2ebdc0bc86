// The API dispatcher over the real services and a real SQLite store: where a request runs (I/O
// thread, worker pool or hashing pool), decided from the route table and the parsed request.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "common/base64.h"
#include "fake_clock.h"
#include "fake_random.h"
#include "server/api.h"
#include "server/http_server.h"
#include "server/routes.h"
#include "service/password_service.h"
#include "status_matchers.h"
#include "tessera/store/sqlite_store.h"

namespace tessera::server {
namespace {

using tessera::testing::FakeClock;
using tessera::testing::FakeRandom;

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-dispatch-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = OpenSqliteStore({(dir_ / "t.db").string(), 5000, 2});
    ASSERT_OK(store);
    store_ = std::move(*store);
    registry_ = std::make_unique<ProjectRegistry>(*store_, master_, clock_);
    ctx_ = std::make_unique<ServiceContext>(ServiceContext{*store_, *registry_, sessions_cache_,
                                                           users_cache_, touches_, master_, clock_,
                                                           random_, ServiceOptions{}});
    sessions_ = std::make_unique<SessionService>(*ctx_);
    users_ = std::make_unique<UserService>(*ctx_);
    auto hasher = PasswordHasher::Create({1, 64},  // Cheap parameters for tests.
                                         std::make_shared<HashLimiter>(2));
    ASSERT_OK(hasher);
    hasher_ = std::make_unique<PasswordHasher>(std::move(*hasher));
    passwords_ = std::make_unique<PasswordService>(*ctx_, *hasher_, *sessions_, *users_);
    metrics_ = std::make_unique<Metrics>(router_.Labels());
    feed_ = std::make_unique<RevocationFeed>(*store_, clock_);
    auto templates = EmailTemplates::Load("");
    ASSERT_OK(templates);
    templates_ = std::make_unique<EmailTemplates>(std::move(*templates));
    email_ = std::make_unique<EmailSignInService>(*ctx_, *sessions_, *users_, *passwords_, *hasher_,
                                                  *templates_, EmailSignInOptions{}, nullptr);
    api_ = std::make_unique<Api>(
        router_, Services{*registry_, *sessions_, *users_, *passwords_, *email_, *feed_, *store_,
                          *metrics_, clock_, random_, ssf_});
    ProjectSettings settings;
    settings.jwt_algorithm = JwtAlgorithm::kES256;  // Fast key generation.
    auto created = CreateProject(*store_, master_, random_, clock_.Now(), "t", false, settings);
    ASSERT_OK(created);
    project_id_ = created->project.project_id;
    authorization_ = "Basic " + Base64Encode(AsBytes(project_id_ + ":" + created->secret));
    PasswordCreateRequest req;
    req.email = "ada@example.com";
    req.password = "tessera unit test passphrase 7";
    req.session.duration_minutes = 60;
    auto project = registry_->Get(project_id_);
    ASSERT_OK(project);
    auto signed_up = passwords_->Create(**project, req, clock_.Now());
    ASSERT_OK(signed_up);
    token_ = signed_up->session->session_token;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The request as the HTTP server hands it over; `body` must outlive the result's use.
  ApiRequest Post(std::string_view path, const std::string& body) {
    ApiRequest r;
    r.method = Method::kPost;
    r.path = path;
    r.authorization = authorization_;
    r.body = body;
    return r;
  }

  // Runs the request as the HTTP server does: on the I/O thread first unless the route starts
  // on the worker pool. Returns where it ended up.
  bool RanOnWorker(const ApiRequest& req, ApiResponse& response) {
    const RouteMatch m = api_->Resolve(req);
    std::optional<ApiResponse> r;
    if (api_->StartPool(m) == Pool::kIo) r = api_->Handle(req, m, false);
    if (r) {
      response = std::move(*r);
      return false;
    }
    r = api_->Handle(req, m, true);
    EXPECT_TRUE(r.has_value());
    response = std::move(*r);
    return true;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_ = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{7});
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<ProjectRegistry> registry_;
  SessionCache sessions_cache_{1000};
  UserCache users_cache_{1000};
  TouchQueue touches_;
  std::unique_ptr<ServiceContext> ctx_;
  std::unique_ptr<SessionService> sessions_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<PasswordService> passwords_;
  const Router router_{ApiRoutes()};
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<RevocationFeed> feed_;
  SsfOptions ssf_;
  std::unique_ptr<EmailTemplates> templates_;
  std::unique_ptr<EmailSignInService> email_;
  std::unique_ptr<Api> api_;
  std::string project_id_, authorization_, token_;
};

TEST_F(DispatchTest, PlainAuthenticateStaysOnTheIoThread) {
  const std::string body = R"({"session_token":")" + token_ + R"("})";
  ApiResponse r;
  EXPECT_FALSE(RanOnWorker(Post("/v1/sessions/authenticate", body), r));
  EXPECT_EQ(r.status, 200u) << r.body;
  // null reads as "not provided": nothing to write.
  const std::string with_null =
      R"({"session_token":")" + token_ + R"(","session_duration_minutes":null})";
  EXPECT_FALSE(RanOnWorker(Post("/v1/sessions/authenticate", with_null), r));
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST_F(DispatchTest, AuthenticateThatWritesMovesToTheWorkerPool) {
  for (const std::string members :
       {R"("session_duration_minutes":30)", R"("session\u005fduration_minutes":30)",
        R"("session_custom_claims":{"a":1})", R"("\u0073ession_custom_claims":{"a":1})"}) {
    const std::string body = R"({"session_token":")" + token_ + R"(",)" + members + "}";
    ApiResponse r;
    EXPECT_TRUE(RanOnWorker(Post("/v1/sessions/authenticate", body), r)) << members;
    EXPECT_EQ(r.status, 200u) << r.body;
  }
}

TEST_F(DispatchTest, InvalidRequestsAreAnsweredWhereTheyAreParsed) {
  ApiResponse r;
  EXPECT_FALSE(RanOnWorker(Post("/v1/sessions/authenticate", R"({"session_token":1})"), r));
  EXPECT_EQ(r.status, 400u);
  EXPECT_FALSE(RanOnWorker(Post("/v1/nothing", "{}"), r));
  EXPECT_EQ(r.status, 404u);
}

TEST_F(DispatchTest, PasswordRoutesAlwaysStartOffTheIoThread) {
  const std::string body = R"({"email":"ada@example.com","password":"x"})";
  ApiResponse r;
  EXPECT_TRUE(RanOnWorker(Post("/v1/passwords/authenticate", body), r));
  EXPECT_EQ(r.status, 401u) << r.body;
}

// The routes that hash start on the hashing pool, and only they: a storm of sign-ins never holds
// up the worker pool's store writes, and a hash never runs on an I/O thread.
TEST_F(DispatchTest, OnlyRoutesThatHashStartOnTheHashingPool) {
  for (const RouteDef& route : ApiRoutes()) {
    // Sign-up, sign-in (for the backend and the frontend SDK) and the resets that set a password.
    static const std::set<std::string_view> kHashing = {
        "/v1/passwords",
        "/v1/passwords/authenticate",
        "/v1/passwords/email/reset",
        "/v1/passwords/existing_password/reset",
        "/v1/passwords/session/reset",
        "/sdk/v1/passwords",
        "/sdk/v1/passwords/authenticate",
    };
    const bool hashes = kHashing.contains(route.path);
    const Pool pool = api_->StartPool(router_.Match(route.method, route.path));
    EXPECT_EQ(pool == Pool::kHashers, hashes) << route.path;
  }
  EXPECT_EQ(api_->StartPool(router_.Match(Method::kPost, "/v1/passwords/strength_check")),
            Pool::kWorkers);
  EXPECT_EQ(api_->StartPool(router_.Match(Method::kPost, "/v1/users")), Pool::kWorkers);
  EXPECT_EQ(api_->StartPool(router_.Match(Method::kGet, "/healthz")), Pool::kIo);
  EXPECT_EQ(api_->StartPool(router_.Match(Method::kGet, "/nothing")), Pool::kIo);
}

TEST(HttpServerOptionsTest, HashConcurrencyIsValidated) {
  HttpServerOptions options;
  EXPECT_OK(ValidateHttpServerOptions(options));  // 0: one per core.
  for (const int good : {1, 2, 256}) {
    options.hash_concurrency = good;
    EXPECT_OK(ValidateHttpServerOptions(options)) << good;
  }
  for (const int bad : {-1, 257}) {
    options.hash_concurrency = bad;
    const Status s = ValidateHttpServerOptions(options);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "--hash-concurrency must be between 0 and 256") << bad;
  }
}

TEST_F(DispatchTest, MethodNotAllowedCarriesAllow) {
  ApiRequest req = Post("/v1/users/user-test-x", "");
  req.method = Method::kPatch;
  ApiResponse r;
  EXPECT_FALSE(RanOnWorker(req, r));
  EXPECT_EQ(r.status, 405u);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, PUT, DELETE"}));
}

}  // namespace
}  // namespace tessera::server
