// The session, user and password services over a real SQLite store, with a fake clock and fake
// randomness, so expiry, reuse windows and lockouts are tested without sleeping.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "common/json.h"
#include "crypto/hash.h"
#include "fake_clock.h"
#include "fake_random.h"
#include "faulty_store.h"
#include "service/ids.h"
#include "service/password_service.h"
#include "service/project_registry.h"
#include "service/session_service.h"
#include "service/user_service.h"
#include "status_matchers.h"
#include "store/forwarding_store.h"
#include "tessera/store/sqlite_store.h"
#include "tessera/token/jwt.h"
#include "tessera/token/session_token.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::FakeRandom;
using testing::FaultyStore;

constexpr char kPassword[] = "tessera unit test passphrase 7";

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServiceOptions{}); }

  void Start(ServiceOptions options, ProjectSettings settings = {}) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-svc-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = OpenSqliteStore({(dir_ / "t.db").string(), 5000, 2});
    ASSERT_OK(store);
    sqlite_ = std::move(*store);
    faulty_ = std::make_unique<FaultyStore>(*sqlite_);
    registry_ = std::make_unique<ProjectRegistry>(*faulty_, master_, clock_);
    sessions_cache_ =
        std::make_unique<SessionCache>(std::min<std::size_t>(options.session_cache_capacity, 1000));
    users_cache_ =
        std::make_unique<UserCache>(std::min<std::size_t>(options.user_cache_capacity, 1000));
    ctx_ = std::make_unique<ServiceContext>(ServiceContext{*faulty_, *registry_, *sessions_cache_,
                                                           *users_cache_, touches_, master_, clock_,
                                                           random_, options});
    sessions_ = std::make_unique<SessionService>(*ctx_);
    users_ = std::make_unique<UserService>(*ctx_);
    auto hasher = PasswordHasher::Create({1, 64},  // Cheap parameters for tests.
                                         std::make_shared<HashLimiter>(2));
    ASSERT_OK(hasher);
    hasher_ = std::make_unique<PasswordHasher>(std::move(*hasher));
    passwords_ = std::make_unique<PasswordService>(*ctx_, *hasher_, *sessions_, *users_);
    settings.jwt_algorithm = JwtAlgorithm::kES256;  // Fast key generation.
    auto created = CreateProject(*faulty_, master_, random_, clock_.Now(), "test", false, settings);
    ASSERT_OK(created);
    project_id_ = created->project.project_id;
    secret_ = created->secret;
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::shared_ptr<const ProjectContext> Project() {
    auto p = registry_->Get(project_id_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  // Signs up a password user with a session of `minutes`.
  PasswordResult SignUp(std::string email = "ada@example.com", std::int64_t minutes = 60) {
    PasswordCreateRequest req;
    req.email = std::move(email);
    req.password = kPassword;
    req.session.duration_minutes = minutes;
    auto r = passwords_->Create(*Project(), req, clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  Result<SessionResult> ByToken(const std::string& token, SessionOptions options = {}) {
    return sessions_->AuthenticateToken(*Project(), token, options, clock_.Now());
  }
  Result<SessionResult> ByJwt(const std::string& jwt, SessionOptions options = {}) {
    return sessions_->AuthenticateJwt(*Project(), jwt, options, clock_.Now());
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_ = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{9});
  std::unique_ptr<SessionStore> sqlite_;
  std::unique_ptr<FaultyStore> faulty_;
  std::unique_ptr<ProjectRegistry> registry_;
  std::unique_ptr<SessionCache> sessions_cache_;
  std::unique_ptr<UserCache> users_cache_;
  TouchQueue touches_;
  std::unique_ptr<ServiceContext> ctx_;
  std::unique_ptr<SessionService> sessions_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<PasswordHasher> hasher_;
  std::unique_ptr<PasswordService> passwords_;
  std::string project_id_, secret_;
};

TEST_F(ServiceTest, SessionLivesUntilItsExpiryThenIsNotFound) {
  const PasswordResult up = SignUp("a@example.com", 5);
  ASSERT_TRUE(up.session);
  const std::string token = up.session->session_token;
  clock_.Advance(std::chrono::minutes(5) - std::chrono::seconds(1));
  EXPECT_OK(ByToken(token));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_ERROR(ByToken(token), ErrorCode::kSessionNotFound);
  // Also after the cache dropped it: the store's copy is expired too.
  sessions_cache_->Clear();
  EXPECT_ERROR(ByToken(token), ErrorCode::kSessionNotFound);
}

TEST_F(ServiceTest, ExtensionMovesExpiryAndIsDurable) {
  const PasswordResult up = SignUp("b@example.com", 5);
  const std::string token = up.session->session_token;
  clock_.Advance(std::chrono::minutes(4));
  SessionOptions extend;
  extend.duration_minutes = 10;
  auto extended = ByToken(token, extend);
  ASSERT_OK(extended);
  EXPECT_EQ(extended->session->record.expires_at, clock_.Now() + std::chrono::minutes(10));
  // The extension is in the store, not only in this process's cache.
  sessions_cache_->Clear();
  clock_.Advance(std::chrono::minutes(9));
  EXPECT_OK(ByToken(token));
  EXPECT_ERROR(ByToken(token, SessionOptions{4, std::nullopt, std::nullopt}),
               ErrorCode::kInvalidSessionDuration);
  EXPECT_ERROR(ByToken(token, SessionOptions{527041, std::nullopt, std::nullopt}),
               ErrorCode::kInvalidSessionDuration);
}

TEST_F(ServiceTest, ExpiredJwtRefreshesWhileTheSessionLives) {
  const PasswordResult up = SignUp("c@example.com", 30);
  const std::string jwt = up.session->session_jwt;
  clock_.Advance(std::chrono::minutes(10));  // The JWT expired five minutes ago.
  auto refreshed = ByJwt(jwt);
  ASSERT_OK(refreshed);
  EXPECT_NE(refreshed->session_jwt, jwt);
  EXPECT_EQ(refreshed->session_token, up.session->session_token);  // Recovered from the seal.
  auto keys = Project()->published_keys;
  EXPECT_OK(VerifyJwt(refreshed->session_jwt, *keys, SessionJwtOptions(project_id_), clock_.Now()));
  clock_.Advance(std::chrono::minutes(21));  // Now the session itself has expired.
  EXPECT_ERROR(ByJwt(jwt), ErrorCode::kSessionNotFound);
  // A JWT with a flipped payload byte is a JWT error, not a lookup.
  std::string bad = jwt;
  bad[bad.find('.') + 5] ^= 1;
  EXPECT_FALSE(ByJwt(bad).ok());
}

TEST_F(ServiceTest, JwtIsReusedWithinTheWindowOnlyForUnchangedSessions) {
  const PasswordResult up = SignUp("d@example.com", 60);
  const std::string token = up.session->session_token;
  auto first = ByToken(token);
  ASSERT_OK(first);
  clock_.Advance(std::chrono::seconds(4));
  auto second = ByToken(token);
  ASSERT_OK(second);
  EXPECT_EQ(second->session_jwt, first->session_jwt);  // Within the 5 s window: reused.
  clock_.Advance(std::chrono::seconds(2));
  auto third = ByToken(token);
  ASSERT_OK(third);
  EXPECT_NE(third->session_jwt, first->session_jwt);  // Window passed: minted anew.
  // A change to the session ends reuse at once.
  clock_.Advance(std::chrono::seconds(1));
  SessionOptions claims;
  claims.custom_claims = boost::json::parse(R"({"plan":"pro"})");
  auto changed = ByToken(token, claims);
  ASSERT_OK(changed);
  EXPECT_NE(changed->session_jwt, third->session_jwt);
  EXPECT_EQ(changed->session->record.custom_claims.at("plan").as_string(), "pro");
}

TEST_F(ServiceTest, ReuseDisabledMintsEveryTime) {
  ServiceOptions no_reuse;
  no_reuse.jwt_reuse = Seconds(0);
  TearDown();
  Start(no_reuse);
  const PasswordResult up = SignUp("e@example.com", 60);
  auto a = ByToken(up.session->session_token);
  clock_.Advance(std::chrono::seconds(1));
  auto b = ByToken(up.session->session_token);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(a->session_jwt, b->session_jwt);
}

TEST_F(ServiceTest, RevocationIsImmediateAndSurvivesTheCache) {
  const PasswordResult up = SignUp("f@example.com", 60);
  const std::string token = up.session->session_token;
  ASSERT_OK(ByToken(token));  // Cached now.
  ASSERT_OK(sessions_->Revoke(*Project(), RevokeBy::kSessionToken, token, clock_.Now()));
  EXPECT_ERROR(ByToken(token), ErrorCode::kSessionNotFound);
  EXPECT_ERROR(ByJwt(up.session->session_jwt), ErrorCode::kSessionNotFound);
  EXPECT_ERROR(sessions_->Revoke(*Project(), RevokeBy::kSessionToken, token, clock_.Now()),
               ErrorCode::kSessionNotFound);
  // The revocation is in the project's log.
  auto log = sqlite_->ReadRevocations(project_id_, 0, 10);
  ASSERT_OK(log);
  ASSERT_EQ(log->entries.size(), 1u);
  EXPECT_EQ(log->entries[0].kind, RevocationEntry::Kind::kSession);
  EXPECT_EQ(log->entries[0].session_id, up.session->session->record.session_id);
}

TEST_F(ServiceTest, ARacingReadCannotResurrectARevokedSession) {
  const PasswordResult up = SignUp("g@example.com", 60);
  const SessionRecord record = up.session->session->record;
  sessions_cache_->Clear();
  // A reader notes the epoch and loads the (still live) session...
  const std::uint64_t epoch = sessions_cache_->epoch();
  auto loaded = sqlite_->GetSessionByToken(project_id_, record.token_digest);
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  // ...a revocation completes meanwhile...
  ASSERT_OK(sessions_->Revoke(*Project(), RevokeBy::kSessionId, record.session_id, clock_.Now()));
  // ...and the reader's insert is refused.
  sessions_cache_->Insert(MakeCachedSession(**loaded, up.session->session->user), epoch);
  EXPECT_EQ(sessions_cache_->FindByDigest(project_id_, record.token_digest), nullptr);
  EXPECT_ERROR(ByToken(up.session->session_token), ErrorCode::kSessionNotFound);
}

TEST_F(ServiceTest, TouchesAreQueuedOncePerSecondAndNeverMoveBackwards) {
  const PasswordResult up = SignUp("h@example.com", 60);
  const std::string token = up.session->session_token;
  ASSERT_EQ(touches_.size(), 0u);
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_OK(ByToken(token));
  ASSERT_OK(ByToken(token));  // Same second: one queued touch.
  EXPECT_EQ(touches_.size(), 1u);
  std::vector<SessionTouch> batch = touches_.Drain();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].last_accessed_at, clock_.Now());
  ASSERT_OK(sqlite_->TouchSessions(batch));
  // An older touch (e.g. from a slower node) does not move the stored value back.
  ASSERT_OK(sqlite_->TouchSessions(
      {{project_id_, batch[0].session_id, clock_.Now() - std::chrono::seconds(2)}}));
  auto stored = sqlite_->GetSession(project_id_, batch[0].session_id);
  ASSERT_OK(stored);
  EXPECT_EQ((*stored)->last_accessed_at, clock_.Now());
  // A failed flush is restored and retried.
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_OK(ByToken(token));
  auto failed = touches_.Drain();
  faulty_->Fail({"TouchSessions"});
  EXPECT_ERROR(faulty_->TouchSessions(failed), ErrorCode::kStoreUnavailable);
  touches_.Restore(std::move(failed));
  EXPECT_EQ(touches_.size(), 1u);
}

TEST_F(ServiceTest, StoreFailuresSurfaceAndChangeNothing) {
  const PasswordResult up = SignUp("i@example.com", 60);
  const std::string token = up.session->session_token;
  faulty_->Fail({"UpdateSession"});
  SessionOptions extend;
  extend.duration_minutes = 120;
  EXPECT_ERROR(ByToken(token, extend), ErrorCode::kStoreUnavailable);
  faulty_->Heal();
  auto after = ByToken(token);
  ASSERT_OK(after);
  EXPECT_EQ(after->session->record.expires_at,
            up.session->session->record.expires_at);  // Not extended.

  sessions_cache_->Clear();
  faulty_->Fail({"GetSessionByToken"});
  EXPECT_ERROR(ByToken(token), ErrorCode::kStoreUnavailable);
  faulty_->Fail({"RevokeSession"});
  EXPECT_ERROR(sessions_->Revoke(*Project(), RevokeBy::kSessionId,
                                 up.session->session->record.session_id, clock_.Now()),
               ErrorCode::kStoreUnavailable);
  faulty_->Heal();
  EXPECT_OK(ByToken(token));  // The failed revocation did not revoke.
  faulty_->Fail({"CreateSession"});
  PasswordAuthRequest login{
      "i@example.com", kPassword, SessionOptions{60, std::nullopt, std::nullopt}, {}, {}, {}};
  EXPECT_ERROR(passwords_->Authenticate(*Project(), login, clock_.Now()),
               ErrorCode::kStoreUnavailable);
  EXPECT_GE(faulty_->failures(), 4);
}

TEST_F(ServiceTest, PasswordLockoutWithWindowAndDuration) {
  ProjectSettings settings;
  settings.lock_threshold = 3;
  settings.lock_window = Seconds(600);
  settings.lock_duration = Seconds(900);
  TearDown();
  Start(ServiceOptions{}, settings);
  SignUp("lock@example.com", 60);
  PasswordAuthRequest wrong{"lock@example.com", "not the password", {}, {}, {}, {}};
  PasswordAuthRequest right{"lock@example.com", kPassword, {}, {}, {}, {}};
  // Two failures, then the first one ages out of the window: no lock.
  EXPECT_ERROR(passwords_->Authenticate(*Project(), wrong, clock_.Now()),
               ErrorCode::kPasswordMismatch);
  EXPECT_ERROR(passwords_->Authenticate(*Project(), wrong, clock_.Now()),
               ErrorCode::kPasswordMismatch);
  clock_.Advance(std::chrono::seconds(601));
  EXPECT_ERROR(passwords_->Authenticate(*Project(), wrong, clock_.Now()),
               ErrorCode::kPasswordMismatch);
  EXPECT_OK(passwords_->Authenticate(*Project(), right, clock_.Now()));  // Resets the count.
  for (int i = 0; i < 3; ++i) {
    EXPECT_ERROR(passwords_->Authenticate(*Project(), wrong, clock_.Now()),
                 ErrorCode::kPasswordMismatch);
  }
  EXPECT_ERROR(passwords_->Authenticate(*Project(), right, clock_.Now()), ErrorCode::kUserLocked);
  auto user =
      users_->Get(*Project(), (*sqlite_->GetUserByEmail(project_id_, "lock@example.com"))->user_id);
  ASSERT_OK(user);
  EXPECT_TRUE((*user)->LockedAt(clock_.Now()));
  clock_.Advance(std::chrono::seconds(900));
  EXPECT_OK(passwords_->Authenticate(*Project(), right, clock_.Now()));
}

TEST_F(ServiceTest, UnknownEmailDefaultAndWithEnumerationProtection) {
  PasswordAuthRequest unknown{"nobody@example.com", kPassword, {}, {}, {}, {}};
  EXPECT_ERROR(passwords_->Authenticate(*Project(), unknown, clock_.Now()),
               ErrorCode::kEmailNotFound);
  ProjectSettings protect;
  protect.enumeration_protection = true;
  TearDown();
  Start(ServiceOptions{}, protect);
  EXPECT_ERROR(passwords_->Authenticate(*Project(), unknown, clock_.Now()),
               ErrorCode::kPasswordMismatch);
  SignUp("known@example.com");
  PasswordAuthRequest wrong{"known@example.com", "wrong wrong wrong", {}, {}, {}, {}};
  const Status a = passwords_->Authenticate(*Project(), unknown, clock_.Now()).status();
  const Status b = passwords_->Authenticate(*Project(), wrong, clock_.Now()).status();
  EXPECT_EQ(a, b);  // Same code and message: nothing distinguishes the two.
}

TEST_F(ServiceTest, UnderEnumerationProtectionAnUnknownEmailLocksLikeARealOne) {
  ProjectSettings settings;
  settings.enumeration_protection = true;
  settings.lock_threshold = 3;
  TearDown();
  Start(ServiceOptions{}, settings);
  SignUp("real@example.com");
  for (const char* email : {"real@example.com", "ghost@example.com"}) {
    PasswordAuthRequest wrong{email, "not the password", {}, {}, {}, {}};
    std::vector<Status> answers;
    for (int i = 0; i < 4; ++i) {
      answers.push_back(passwords_->Authenticate(*Project(), wrong, clock_.Now()).status());
    }
    EXPECT_EQ(answers[0].code(), ErrorCode::kPasswordMismatch) << email;
    EXPECT_EQ(answers[2].code(), ErrorCode::kPasswordMismatch) << email;
    EXPECT_EQ(answers[3].code(), ErrorCode::kUserLocked) << email;
    // The same spelling of the address in another case is the same address.
    PasswordAuthRequest upper{"GHOST@example.com", "x", {}, {}, {}, {}};
    if (std::string_view(email) == "ghost@example.com") {
      EXPECT_ERROR(passwords_->Authenticate(*Project(), upper, clock_.Now()),
                   ErrorCode::kUserLocked);
    }
  }
  // What the store keeps of the unknown address: its digest, locked.
  auto state = sqlite_->GetUnknownEmailFailures(project_id_, crypto::Sha256("ghost@example.com"));
  ASSERT_OK(state);
  EXPECT_TRUE(state->locked_until.has_value());
}

// A correct password whose check overlaps the failures that lock the account (other guesses, on
// any node) is refused: the lock is looked at again after the hash, not only before it.
TEST_F(ServiceTest, ACorrectPasswordRacingTheLockIsRefused) {
  ProjectSettings settings;
  settings.lock_threshold = 3;
  TearDown();
  Start(ServiceOptions{}, settings);
  const PasswordResult up = SignUp("racer@example.com");
  const std::string user_id = up.user->user.user_id;
  const LockPolicy policy{3, settings.lock_window, settings.lock_duration};
  faulty_->OnceBefore("GetUser", [&] {
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK(sqlite_->RecordPasswordFailure(project_id_, user_id, clock_.Now(), policy));
    }
  });
  PasswordAuthRequest right{"racer@example.com", kPassword, {}, {}, {}, {}};
  right.session.duration_minutes = 60;
  EXPECT_ERROR(passwords_->Authenticate(*Project(), right, clock_.Now()), ErrorCode::kUserLocked);
}

// Every path that hashes (sign-up, sign-in right or wrong, a rehash, and each dummy hash of
// enumeration protection) takes a slot of the hasher's one limiter, and exactly one per request:
// with every slot held here, the request waits for one before it can answer.
class HashLimiterPathsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ProjectSettings settings;
    settings.enumeration_protection = true;
    settings.lock_threshold = 2;
    Start(ServiceOptions{}, settings);
  }

  // Runs `request` on another thread while this one holds every slot; true when the request
  // waited for a slot (it never finishes without one). Its outcome is checked by `request`.
  bool WaitsForAHashSlot(const std::function<void()>& request) {
    HashLimiter& limiter = hasher_->limiter();
    std::vector<HashLimiter::Slot> held;
    for (int i = 0; i < limiter.stats().slots; ++i) held.push_back(limiter.Acquire());
    std::atomic<bool> done{false};
    std::thread t([&] {
      request();
      done = true;
    });
    while (limiter.stats().waiting == 0 && !done) std::this_thread::yield();
    const bool waited = !done && limiter.stats().waiting == 1;
    held.clear();
    t.join();
    return waited;
  }

  // How many hashes `request` ran.
  std::uint64_t Hashes(const std::function<void()>& request) {
    const std::uint64_t before = hasher_->limiter().stats().admitted;
    request();
    return hasher_->limiter().stats().admitted - before;
  }

  Status SignIn(std::string email, std::string password) {
    PasswordAuthRequest req{std::move(email), std::move(password), {}, {}, {}, {}};
    return passwords_->Authenticate(*Project(), req, clock_.Now()).status();
  }
};

TEST_F(HashLimiterPathsTest, SignUpSignInAndEveryDummyHashTakeASlot) {
  const auto sign_up = [&] { SignUp("limited@example.com"); };
  EXPECT_TRUE(WaitsForAHashSlot(sign_up));
  const auto right = [&] { EXPECT_OK(SignIn("limited@example.com", kPassword)); };
  EXPECT_TRUE(WaitsForAHashSlot(right));
  const auto wrong = [&] {
    EXPECT_ERROR(SignIn("limited@example.com", "not the password"), ErrorCode::kPasswordMismatch);
  };
  EXPECT_TRUE(WaitsForAHashSlot(wrong));
  const auto unknown = [&] {
    EXPECT_ERROR(SignIn("nobody@example.com", kPassword), ErrorCode::kPasswordMismatch);
  };
  EXPECT_TRUE(WaitsForAHashSlot(unknown));
  EXPECT_TRUE(WaitsForAHashSlot(wrong));  // The second failure locks (threshold 2).
  const auto locked = [&] {
    EXPECT_ERROR(SignIn("limited@example.com", kPassword), ErrorCode::kUserLocked);
  };
  EXPECT_TRUE(WaitsForAHashSlot(locked));
  UserFields no_password_user;
  no_password_user.email = "nopassword@example.com";
  ASSERT_OK(users_->Create(*Project(), no_password_user, clock_.Now()));
  const auto no_password = [&] {
    EXPECT_ERROR(SignIn("nopassword@example.com", kPassword), ErrorCode::kPasswordMismatch);
  };
  EXPECT_TRUE(WaitsForAHashSlot(no_password));
}

TEST_F(HashLimiterPathsTest, EachRequestHashesOnce) {
  EXPECT_EQ(Hashes([&] { SignUp("once@example.com"); }), 1u);
  EXPECT_EQ(Hashes([&] { EXPECT_OK(SignIn("once@example.com", kPassword)); }), 1u);
  EXPECT_EQ(Hashes([&] { (void)SignIn("once@example.com", "not the password"); }), 1u);
  EXPECT_EQ(Hashes([&] { (void)SignIn("nobody@example.com", kPassword); }), 1u);
  EXPECT_EQ(hasher_->limiter().stats().on_io_thread, 0u);
}

TEST_F(HashLimiterPathsTest, ConcurrentSignInsNeverHashMoreAtOnceThanTheSlots) {
  SignUp("many@example.com");
  const std::uint64_t before = hasher_->limiter().stats().admitted;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_OK(SignIn("many@example.com", kPassword));
    });
  }
  for (auto& t : threads) t.join();
  const HashLimiter::Stats s = hasher_->limiter().stats();
  EXPECT_EQ(s.admitted - before, 30u);
  EXPECT_LE(s.peak_in_flight, s.slots);
  EXPECT_EQ(s.in_flight, 0);
}

TEST_F(ServiceTest, WeakPasswordsAndDuplicatesAreRefused) {
  PasswordCreateRequest weak;
  weak.email = "w@example.com";
  weak.password = "password";
  EXPECT_ERROR(passwords_->Create(*Project(), weak, clock_.Now()), ErrorCode::kWeakPassword);
  SignUp("dup@example.com");
  PasswordCreateRequest dup;
  dup.email = "DUP@example.com";  // Case-insensitive.
  dup.password = kPassword;
  EXPECT_ERROR(passwords_->Create(*Project(), dup, clock_.Now()), ErrorCode::kDuplicateEmail);
  PasswordCreateRequest bad_email;
  bad_email.email = "not-an-email";
  bad_email.password = kPassword;
  EXPECT_ERROR(passwords_->Create(*Project(), bad_email, clock_.Now()), ErrorCode::kInvalidEmail);
}

TEST_F(ServiceTest, DeletingAUserRevokesItsSessions) {
  const PasswordResult up = SignUp("del@example.com", 60);
  ASSERT_OK(ByToken(up.session->session_token));
  ASSERT_OK(users_->Delete(*Project(), up.user->user.user_id, clock_.Now()));
  EXPECT_ERROR(ByToken(up.session->session_token), ErrorCode::kSessionNotFound);
  EXPECT_ERROR(users_->Get(*Project(), up.user->user.user_id), ErrorCode::kUserNotFound);
  auto log = sqlite_->ReadRevocations(project_id_, 0, 10);
  ASSERT_OK(log);
  ASSERT_EQ(log->entries.size(), 1u);
  EXPECT_EQ(log->entries[0].kind, RevocationEntry::Kind::kUser);
  EXPECT_EQ(log->entries[0].user_id, up.user->user.user_id);
}

// A login whose session write lands right after the user's deletion committed (the interleaving
// forced with a hook, no sleeps): the login fails and no session of the deleted user survives.
TEST_F(ServiceTest, ALoginRacingTheUsersDeletionLeavesNoSession) {
  const PasswordResult up = SignUp("race@example.com", 60);
  const std::string user_id = up.user->user.user_id;
  ASSERT_OK(ByToken(up.session->session_token));  // The user is in the cache.
  faulty_->OnceBefore("CreateSession",
                      [&] { ASSERT_OK(users_->Delete(*Project(), user_id, clock_.Now())); });
  PasswordAuthRequest login{"race@example.com", kPassword, {}, {}, {}, {}};
  login.session.duration_minutes = 60;
  EXPECT_ERROR(passwords_->Authenticate(*Project(), login, clock_.Now()), ErrorCode::kUserNotFound);
  auto sessions = sqlite_->ListSessions(project_id_, user_id, clock_.Now());
  ASSERT_OK(sessions);
  EXPECT_TRUE(sessions->empty());
  EXPECT_ERROR(ByToken(up.session->session_token), ErrorCode::kSessionNotFound);
}

// The other order: the session is written, then the user is deleted before the login caches it.
TEST_F(ServiceTest, ASessionWrittenJustBeforeTheDeletionDiesWithTheUser) {
  const PasswordResult up = SignUp("race2@example.com", 60);
  const std::string user_id = up.user->user.user_id;
  PasswordAuthRequest login{"race2@example.com", kPassword, {}, {}, {}, {}};
  login.session.duration_minutes = 60;
  auto in = passwords_->Authenticate(*Project(), login, clock_.Now());
  ASSERT_OK(in);
  ASSERT_OK(users_->Delete(*Project(), user_id, clock_.Now()));
  EXPECT_ERROR(ByToken(in->session->session_token), ErrorCode::kSessionNotFound);
}

TEST_F(ServiceTest, EvictingAUserDropsExactlyItsSessions) {
  const PasswordResult a1 = SignUp("a@example.com", 60);
  const PasswordResult b1 = SignUp("b@example.com", 60);
  PasswordAuthRequest login{"a@example.com", kPassword, {}, {}, {}, {}};
  login.session.duration_minutes = 60;
  auto a2 = passwords_->Authenticate(*Project(), login, clock_.Now());
  ASSERT_OK(a2);
  ASSERT_EQ(sessions_cache_->size(), 3u);
  // A new version of a cached session keeps it indexed under its user.
  SessionOptions extend;
  extend.duration_minutes = 120;
  ASSERT_OK(ByToken(a1.session->session_token, extend));
  ASSERT_EQ(sessions_cache_->size(), 3u);
  sessions_cache_->EvictUser(project_id_, a1.user->user.user_id);
  EXPECT_EQ(sessions_cache_->size(), 1u);
  EXPECT_EQ(sessions_cache_->FindById(project_id_, a1.session->session->record.session_id),
            nullptr);
  EXPECT_EQ(sessions_cache_->FindById(project_id_, a2->session->session->record.session_id),
            nullptr);
  EXPECT_NE(sessions_cache_->FindById(project_id_, b1.session->session->record.session_id),
            nullptr);
  // Another project's user of the same id is not touched; evicting twice is harmless.
  sessions_cache_->EvictUser("project-test-other", b1.user->user.user_id);
  sessions_cache_->EvictUser(project_id_, a1.user->user.user_id);
  EXPECT_EQ(sessions_cache_->size(), 1u);
}

TEST_F(ServiceTest, CacheSizeZeroCachesNothingAndStillServes) {
  ServiceOptions none;
  none.session_cache_capacity = 0;
  none.user_cache_capacity = 0;
  TearDown();
  Start(none);
  const PasswordResult up = SignUp("nocache@example.com", 60);
  EXPECT_EQ(sessions_cache_->size(), 0u);
  ASSERT_OK(ByToken(up.session->session_token));
  ASSERT_OK(ByJwt(up.session->session_jwt));
  ASSERT_OK(sessions_->Revoke(*Project(), RevokeBy::kSessionId,
                              up.session->session->record.session_id, clock_.Now()));
  EXPECT_ERROR(ByToken(up.session->session_token), ErrorCode::kSessionNotFound);
}

TEST_F(ServiceTest, UpdatingAnIdNoStoreCanHoldIsNotFound) {
  UserFields f;
  f.first_name = "x";
  for (const std::string& id : {std::string("user-\xff"), std::string("user-a\0junk", 11)}) {
    EXPECT_ERROR(users_->Update(*Project(), id, f, clock_.Now()), ErrorCode::kUserNotFound);
  }
}

TEST_F(ServiceTest, RefreshToleratesAFewSecondsOfClockDifference) {
  const PasswordResult up = SignUp("skew@example.com", 60);
  // A node whose clock is 3 s behind the node that minted the JWT.
  clock_.Advance(-std::chrono::seconds(3));
  EXPECT_OK(ByJwt(up.session->session_jwt));
  // Beyond the tolerance the JWT is refused as not yet valid (nbf, then iat).
  clock_.Advance(-std::chrono::seconds(10));
  EXPECT_ERROR(ByJwt(up.session->session_jwt), ErrorCode::kJwtNotYetValid);
}

TEST_F(ServiceTest, MaxRefreshAgeBoundsHowOldARefreshableJwtMayBe) {
  ServiceOptions bounded;
  bounded.max_refresh_age = Seconds(3600);
  bounded.jwt_reuse = Seconds(0);
  TearDown();
  Start(bounded);
  const PasswordResult up = SignUp("age@example.com", 24 * 60);
  clock_.Advance(std::chrono::minutes(59));
  EXPECT_OK(ByJwt(up.session->session_jwt));
  clock_.Advance(std::chrono::minutes(2));
  EXPECT_ERROR(ByJwt(up.session->session_jwt), ErrorCode::kJwtExpired);
  // The session itself lives on: its token still works and yields a fresh JWT.
  auto fresh = ByToken(up.session->session_token);
  ASSERT_OK(fresh);
  EXPECT_OK(ByJwt(fresh->session_jwt));
}

TEST_F(ServiceTest, UnknownProjectIdsCostOneStoreRead) {
  int reads = 0;
  for (int i = 0; i < 5; ++i) {
    faulty_->OnceBefore("GetProject", [&] { ++reads; });
    EXPECT_ERROR(registry_->Get("project-test-00000000-0000-4000-8000-000000000000"),
                 ErrorCode::kProjectNotFound);
  }
  EXPECT_EQ(reads, 1);
  auto cached = registry_->GetCached("project-test-00000000-0000-4000-8000-000000000001");
  ASSERT_OK(cached);
  EXPECT_EQ(*cached, nullptr);  // Never looked up: only the store can tell.
  // A project created afterwards is found once the configuration version moves.
  auto created = CreateProject(*faulty_, master_, random_, clock_.Now(), "late", false,
                               ProjectSettings{.jwt_algorithm = JwtAlgorithm::kES256});
  ASSERT_OK(created);
  ASSERT_OK(registry_->Get(created->project.project_id));
  ASSERT_OK(registry_->Refresh());
  EXPECT_ERROR(registry_->AuthorizeCached(created->project.project_id, "wrong"),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_OK(registry_->AuthorizeCached(created->project.project_id, created->secret));
}

TEST_F(ServiceTest, UnknownPublicTokensCostOneStoreRead) {
  constexpr char kOrigin[] = "http://127.0.0.1:5173";
  constexpr char kMadeUp[] = "public-token-test-00000000-0000-4000-8000-000000000000";
  int reads = 0;
  const auto count_reads = [&] {
    faulty_->OnceBefore("FindProjectByPublicToken", [&] { ++reads; });
  };
  for (int i = 0; i < 5; ++i) {
    count_reads();
    EXPECT_ERROR(registry_->AuthorizePublicToken(kMadeUp, kOrigin),
                 ErrorCode::kUnauthorizedCredentials);
  }
  EXPECT_EQ(reads, 1);

  // A real token is never taken for an unknown one: refused for its origin, then allowed.
  const std::string token = Project()->project.public_token;
  EXPECT_ERROR(registry_->AuthorizePublicToken(token, kOrigin), ErrorCode::kSdkOriginNotAllowed);
  ASSERT_OK(faulty_->AddSdkOrigin(project_id_, SdkOrigin{kOrigin, clock_.Now()}));
  registry_->Invalidate(project_id_);
  EXPECT_OK(registry_->AuthorizePublicToken(token, kOrigin));

  // Forgotten when a project changes (Invalidate above, a moved configuration version here):
  // a project created meanwhile might hold the token.
  reads = 0;
  count_reads();
  EXPECT_ERROR(registry_->AuthorizePublicToken(kMadeUp, kOrigin),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_EQ(reads, 1);
  ASSERT_OK(CreateProject(*faulty_, master_, random_, clock_.Now(), "late", false,
                          ProjectSettings{.jwt_algorithm = JwtAlgorithm::kES256}));
  ASSERT_OK(registry_->Refresh());
  count_reads();
  EXPECT_ERROR(registry_->AuthorizePublicToken(kMadeUp, kOrigin),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_EQ(reads, 2);

  // Bounded: after 10000 more made-up tokens the set starts over.
  for (int i = 0; i < 10000; ++i) {
    std::string other = "public-token-test-made-up-";
    other.append(std::to_string(i));
    EXPECT_ERROR(registry_->AuthorizePublicToken(other, kOrigin),
                 ErrorCode::kUnauthorizedCredentials);
  }
  count_reads();
  EXPECT_ERROR(registry_->AuthorizePublicToken(kMadeUp, kOrigin),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_EQ(reads, 3);
}

// A JWT whose signature was checked once is remembered, but never beyond what the token path
// would allow: the session is looked up on every use, the signer must still be published, and a
// JWT of another project is checked in full (and refused).
TEST_F(ServiceTest, ARememberedJwtHonoursRevocationRotationAndProjects) {
  const PasswordResult a = SignUp("jwt-a@example.com", 60);
  const PasswordResult b = SignUp("jwt-b@example.com", 60);
  ASSERT_OK(ByJwt(a.session->session_jwt));  // Checked and remembered.
  ASSERT_OK(ByJwt(a.session->session_jwt));
  ASSERT_OK(ByJwt(b.session->session_jwt));
  // Revoked: refused although the JWT is remembered.
  ASSERT_OK(sessions_->Revoke(*Project(), RevokeBy::kSessionId,
                              a.session->session->record.session_id, clock_.Now()));
  EXPECT_ERROR(ByJwt(a.session->session_jwt), ErrorCode::kSessionNotFound);
  // Another project never accepts it, remembered or not.
  auto other = CreateProject(*faulty_, master_, random_, clock_.Now(), "o", false,
                             ProjectSettings{.jwt_algorithm = JwtAlgorithm::kES256});
  ASSERT_OK(other);
  auto other_ctx = registry_->Get(other->project.project_id);
  ASSERT_OK(other_ctx);
  EXPECT_ERROR(sessions_->AuthenticateJwt(**other_ctx, b.session->session_jwt, {}, clock_.Now()),
               ErrorCode::kJwtKidUnknown);
  // Two rotations, then the retired signer ages out of the JWKS: the remembered JWT goes with it.
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK(RotateProjectKeys(*faulty_, master_, random_, project_id_, clock_.Now()));
    ASSERT_OK(registry_->Refresh(/*force=*/true));
  }
  clock_.Advance(std::chrono::hours(1));
  ASSERT_OK(registry_->Refresh(/*force=*/true));
  EXPECT_ERROR(ByJwt(b.session->session_jwt), ErrorCode::kJwtKidUnknown);
}

TEST_F(ServiceTest, UserUpdateChangesRolesInTheNextJwt) {
  const PasswordResult up = SignUp("roles@example.com", 60);
  UserFields f;
  f.roles = std::vector<std::string>{"admin"};
  ASSERT_OK(users_->Update(*Project(), up.user->user.user_id, f, clock_.Now()));
  auto after = ByToken(up.session->session_token);
  ASSERT_OK(after);
  EXPECT_EQ(after->session->user->roles, (std::vector<std::string>{"stytch_user", "admin"}));
  auto verified = VerifyJwt(after->session_jwt, *Project()->published_keys,
                            SessionJwtOptions(project_id_), clock_.Now());
  ASSERT_OK(verified);
  EXPECT_EQ(boost::json::serialize(
                verified->claims.at("https://stytch.com/session").as_object().at("roles")),
            R"(["stytch_user","admin"])");
}

TEST_F(ServiceTest, RotationThroughTheRegistry) {
  const PasswordResult up = SignUp("rot@example.com", 60);
  const std::string old_kid = Project()->signing_key->kid();
  auto ring = RotateProjectKeys(*faulty_, master_, random_, project_id_, clock_.Now());
  ASSERT_OK(ring);
  ASSERT_OK(registry_->Refresh());
  const std::string new_kid = Project()->signing_key->kid();
  EXPECT_NE(new_kid, old_kid);
  clock_.Advance(std::chrono::seconds(10));
  auto fresh = ByToken(up.session->session_token);
  ASSERT_OK(fresh);
  auto v = VerifyJwt(fresh->session_jwt, *Project()->published_keys, SessionJwtOptions(project_id_),
                     clock_.Now());
  ASSERT_OK(v);
  EXPECT_EQ(v->kid, new_kid);
  // The JWT signed before the rotation still verifies against the published set.
  EXPECT_OK(VerifyJwt(up.session->session_jwt, *Project()->published_keys,
                      SessionJwtOptions(project_id_), clock_.Now()));
}

// A store on which, right after the next read of a key ring, another writer (an operator's
// `keys retire` in another process) withdraws that ring's next key, before the reader can save.
class RetireAfterRead final : public ForwardingStore {
 public:
  RetireAfterRead(SessionStore& target, TimePoint now) : ForwardingStore(target), now_(now) {}

  Result<KeyRingSnapshot> ReadKeyRing(std::string_view project_id) override {
    auto read = ForwardingStore::ReadKeyRing(project_id);
    if (read.ok() && armed_) {
      armed_ = false;
      for (const auto& r : read->records) {
        if (r.state == KeyState::kNext) withdrawn_ = r.kid;
      }
      KeyRing ring(read->records);
      interference_ = ring.Retire(withdrawn_, now_);
      if (interference_.ok()) {
        interference_ = target().SaveKeys(project_id, ring.records(), read->version);
      }
    }
    return read;
  }

  const std::string& withdrawn() const { return withdrawn_; }
  const Status& interference() const { return interference_; }

 private:
  TimePoint now_;
  bool armed_ = true;
  std::string withdrawn_;
  Status interference_;
};

TEST_F(ServiceTest, ARotationRacingARetireKeepsTheWithdrawnKeyWithdrawn) {
  const std::string active = Project()->signing_key->kid();
  RetireAfterRead racing(*sqlite_, clock_.Now());
  auto ring = RotateProjectKeys(racing, master_, random_, project_id_, clock_.Now());
  ASSERT_OK(racing.interference());
  ASSERT_FALSE(racing.withdrawn().empty());
  // The rotation read a ring whose next key was withdrawn before it saved: it starts over from
  // the ring as it now is, where no published next key is left to activate, so it publishes a
  // fresh one and the active key keeps signing.
  ASSERT_OK(ring);
  auto stored = sqlite_->ListKeys(project_id_);
  ASSERT_OK(stored);
  const KeyRing now(*stored);
  ASSERT_NE(now.Find(racing.withdrawn()), nullptr);
  EXPECT_EQ(KeyStateName(now.Find(racing.withdrawn())->state), "retired");
  ASSERT_NE(now.Active(), nullptr);
  EXPECT_EQ(now.Active()->kid, active);
  int next = 0;
  for (const auto& r : now.records()) next += r.state == KeyState::kNext ? 1 : 0;
  EXPECT_EQ(next, 1);
  ASSERT_OK(registry_->Refresh());
  EXPECT_EQ(Project()->signing_key->kid(), active);
  // The ring the rotation returned is the one it saved.
  ASSERT_NE(ring->Active(), nullptr);
  EXPECT_EQ(ring->Active()->kid, active);
  EXPECT_EQ(ring->records().size(), stored->size());
}

// The operator's withdrawal, racing a rotation that activates the key first, fails with the reason
// instead of overwriting the rotation.
TEST_F(ServiceTest, RetiringAKeyThatARotationActivatedFirstFails) {
  auto read = sqlite_->ReadKeyRing(project_id_);
  ASSERT_OK(read);
  std::string next;
  for (const auto& r : read->records) {
    if (r.state == KeyState::kNext) next = r.kid;
  }
  ASSERT_OK(RotateProjectKeys(*faulty_, master_, random_, project_id_, clock_.Now()));
  EXPECT_ERROR(RetireProjectKey(*faulty_, project_id_, next, clock_.Now()),
               ErrorCode::kKeyStateInvalid);
  ASSERT_OK(registry_->Refresh());
  EXPECT_EQ(Project()->signing_key->kid(), next);
  EXPECT_ERROR(RetireProjectKey(*faulty_, "project-test-missing", next, clock_.Now()),
               ErrorCode::kProjectNotFound);
}

TEST_F(ServiceTest, ProjectsAreIsolated) {
  const PasswordResult up = SignUp("iso@example.com", 60);
  auto other = CreateProject(*faulty_, master_, random_, clock_.Now(), "other", false,
                             ProjectSettings{.jwt_algorithm = JwtAlgorithm::kES256});
  ASSERT_OK(other);
  auto b = registry_->Get(other->project.project_id);
  ASSERT_OK(b);
  EXPECT_ERROR(sessions_->AuthenticateToken(**b, up.session->session_token, {}, clock_.Now()),
               ErrorCode::kSessionNotFound);
  EXPECT_FALSE(sessions_->AuthenticateJwt(**b, up.session->session_jwt, {}, clock_.Now()).ok());
  EXPECT_ERROR(users_->Get(**b, up.user->user.user_id), ErrorCode::kUserNotFound);
  EXPECT_ERROR(registry_->Authorize(project_id_, other->secret),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_OK(registry_->Authorize(project_id_, secret_));
  EXPECT_ERROR(registry_->Authorize("project-test-nope", secret_),
               ErrorCode::kUnauthorizedCredentials);
}

TEST_F(ServiceTest, EverySecretAuthorizesUntilItIsDeleted) {
  const std::string first_id = Project()->project.secrets.at(0).secret_id;
  auto second = CreateProjectSecret(*faulty_, random_, project_id_, clock_.Now());
  ASSERT_OK(second);
  EXPECT_EQ(second->secret.rfind("secret-test-", 0), 0u);
  EXPECT_NE(second->secret, secret_);
  EXPECT_TRUE(IsIdOfKind(second->record.secret_id, "secret-id")) << second->record.secret_id;
  // The running registry takes it on its next reload, as the server's poll does.
  EXPECT_ERROR(registry_->Authorize(project_id_, second->secret),
               ErrorCode::kUnauthorizedCredentials);
  ASSERT_OK(registry_->Refresh());
  EXPECT_OK(registry_->Authorize(project_id_, secret_));
  EXPECT_OK(registry_->Authorize(project_id_, second->secret));
  auto cached = registry_->AuthorizeCached(project_id_, second->secret);
  ASSERT_OK(cached);
  EXPECT_NE(*cached, nullptr);
  EXPECT_ERROR(registry_->Authorize(project_id_, second->secret + "x"),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_ERROR(CreateProjectSecret(*faulty_, random_, project_id_, clock_.Now()),
               ErrorCode::kTooManySecrets);

  ASSERT_OK(faulty_->DeleteSecret(project_id_, first_id));
  ASSERT_OK(registry_->Refresh());
  EXPECT_ERROR(registry_->Authorize(project_id_, secret_), ErrorCode::kUnauthorizedCredentials);
  EXPECT_ERROR(registry_->AuthorizeCached(project_id_, secret_),
               ErrorCode::kUnauthorizedCredentials);
  EXPECT_OK(registry_->Authorize(project_id_, second->secret));
  EXPECT_ERROR(faulty_->DeleteSecret(project_id_, second->record.secret_id),
               ErrorCode::kLastSecret);
  EXPECT_ERROR(CreateProjectSecret(*faulty_, random_, "project-test-missing", clock_.Now()),
               ErrorCode::kProjectNotFound);
}

TEST_F(ServiceTest, SearchPagesWithACursor) {
  for (int i = 0; i < 7; ++i) {
    UserFields f;
    f.email = "s" + std::to_string(i) + "@example.com";
    ASSERT_OK(users_->Create(*Project(), f, clock_.Now()));
    clock_.Advance(std::chrono::seconds(1));
  }
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto result = users_->Search(*Project(), {}, cursor, 3);
    ASSERT_OK(result);
    EXPECT_EQ(result->total, 7);
    for (const auto& u : result->users) seen.push_back(u.emails[0].email);
    if (!result->next) break;
    cursor = UserService::EncodeCursor(*result->next);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen.front(), "s0@example.com");
  EXPECT_EQ(seen.back(), "s6@example.com");
  EXPECT_ERROR(users_->Search(*Project(), {}, "garbage!", 3), ErrorCode::kInvalidCursor);
  UserQuery q;
  q.filters.push_back({UserFilter::Kind::kEmailAddress, {"S3@EXAMPLE.com"}, {}, {}, false});
  auto one = users_->Search(*Project(), q, "", 10);
  ASSERT_OK(one);
  ASSERT_EQ(one->users.size(), 1u);
  EXPECT_EQ(one->users[0].emails[0].email, "s3@example.com");
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Two "nodes" over one store that says it is shared: each has its own caches, as two processes
// would. A revocation or change on one must be seen by the other on its very next request.
// A store other nodes write, whose caches nothing vouches for (no lease): every use of a cached
// session is confirmed against the store.
class SharedView final : public ForwardingStore {
 public:
  explicit SharedView(SessionStore& target) : ForwardingStore(target) {}
  bool shared() const override { return true; }
  bool caches_current() const override { return false; }
};

struct Node {
  Node(SessionStore& store, const MasterKey& key, const Clock& clock, RandomSource& random)
      : registry(store, key, clock),
        sessions_cache(1000),
        users_cache(1000),
        ctx{store, registry, sessions_cache, users_cache, touches, key, clock, random, {}},
        sessions(ctx),
        users(ctx) {}
  ProjectRegistry registry;
  SessionCache sessions_cache;
  UserCache users_cache;
  TouchQueue touches;
  ServiceContext ctx;
  SessionService sessions;
  UserService users;
};

TEST_F(ServiceTest, NodesSharingAStoreSeeEachOthersRevocationsOnTheNextRequest) {
  SharedView shared(*sqlite_);
  Node a(shared, master_, clock_, random_), b(shared, master_, clock_, random_);
  const PasswordResult up = SignUp("nodes@example.com", 60);
  const std::string token = up.session->session_token;
  auto pa = a.registry.Get(project_id_);
  auto pb = b.registry.Get(project_id_);
  ASSERT_OK(pa);
  ASSERT_OK(pb);
  ASSERT_OK(a.sessions.AuthenticateToken(**pa, token, {}, clock_.Now()));
  ASSERT_OK(b.sessions.AuthenticateToken(**pb, token, {}, clock_.Now()));  // Both cached now.

  // An extension on A is visible on B (B rebuilds its entry from the store).
  SessionOptions extend;
  extend.duration_minutes = 600;
  auto extended = a.sessions.AuthenticateToken(**pa, token, extend, clock_.Now());
  ASSERT_OK(extended);
  auto seen = b.sessions.AuthenticateToken(**pb, token, {}, clock_.Now());
  ASSERT_OK(seen);
  EXPECT_EQ(seen->session->record.expires_at, extended->session->record.expires_at);

  // A role change through A shows in B's next JWT.
  UserFields roles;
  roles.roles = std::vector<std::string>{"auditor"};
  ASSERT_OK(a.users.Update(**pa, up.user->user.user_id, roles, clock_.Now()));
  auto after_roles = b.sessions.AuthenticateToken(**pb, token, {}, clock_.Now());
  ASSERT_OK(after_roles);
  EXPECT_EQ(after_roles->session->user->roles,
            (std::vector<std::string>{"stytch_user", "auditor"}));

  // Revoked on A: B refuses the very next request although its cache still holds the session.
  ASSERT_OK(a.sessions.Revoke(**pa, RevokeBy::kSessionToken, token, clock_.Now()));
  ASSERT_NE(b.sessions_cache.FindByDigest(project_id_, DigestSessionToken(token)), nullptr);
  EXPECT_ERROR(b.sessions.AuthenticateToken(**pb, token, {}, clock_.Now()),
               ErrorCode::kSessionNotFound);
  EXPECT_ERROR(b.sessions.AuthenticateJwt(**pb, up.session->session_jwt, {}, clock_.Now()),
               ErrorCode::kSessionNotFound);
  EXPECT_EQ(b.sessions_cache.FindByDigest(project_id_, DigestSessionToken(token)), nullptr);
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Regression (integration review): parallel claim merges on one session must not lose updates.
TEST_F(ServiceTest, ConcurrentClaimMergesAreAllKept) {
  const PasswordResult up = SignUp("merge@example.com", 60);
  const std::string token = up.session->session_token;
  auto project = Project();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        SessionOptions o;
        // Keys "a".."h" by thread, 0..4 by iteration: 40 distinct claims.
        const char key[3] = {static_cast<char>('a' + t), static_cast<char>('0' + i), '\0'};
        o.custom_claims = boost::json::value{{key, i}};
        if (!sessions_->AuthenticateToken(*project, token, o, clock_.Now()).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // Both what the cache serves and what the store holds.
  auto cached = ByToken(token);
  ASSERT_OK(cached);
  EXPECT_EQ(cached->session->record.custom_claims.size(), 40u);
  sessions_cache_->Clear();
  auto after = ByToken(token);
  ASSERT_OK(after);
  EXPECT_EQ(after->session->record.custom_claims.size(), 40u);
}

// Regression (clean-clone CI): two writers of one session inserted their results in the order
// their threads ran, so the cache could keep the older version (the store was right) and serve
// claims without the later merge until the next change.
TEST_F(ServiceTest, AnOlderVersionNeverReplacesANewerOneInTheCache) {
  const PasswordResult up = SignUp("order@example.com", 60);
  const std::string token = up.session->session_token;
  auto project = Project();
  const auto older = up.session->session;
  SessionOptions o;
  o.custom_claims = boost::json::value{{"newer", true}};
  auto newer = sessions_->AuthenticateToken(*project, token, o, clock_.Now());
  ASSERT_OK(newer);
  ASSERT_GT(newer->session->record.version, older->record.version);
  // The slower writer (or reader) of the older version inserts last.
  sessions_cache_->Insert(MakeCachedSession(older->record, older->user), sessions_cache_->epoch());
  auto hit = sessions_cache_->FindByDigest(project_id_, older->record.token_digest);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->record.version, newer->session->record.version);
  EXPECT_TRUE(hit->record.custom_claims.contains("newer"));
}

// A reader that loaded a session before it was changed must not put its copy back after the
// newer version was dropped to make room.
TEST_F(ServiceTest, DroppingAnEntryForRoomRefusesOlderReadsStartedBefore) {
  SessionCache small(1);
  const PasswordResult a = SignUp("room-a@example.com", 60);
  const PasswordResult b = SignUp("room-b@example.com", 60);
  const std::uint64_t before = small.epoch();
  small.Insert(MakeCachedSession(a.session->session->record, a.session->session->user), before);
  ASSERT_NE(small.FindById(project_id_, a.session->session->record.session_id), nullptr);
  // b takes the only slot, dropping a ...
  small.Insert(MakeCachedSession(b.session->session->record, b.session->session->user), before);
  EXPECT_EQ(small.FindById(project_id_, a.session->session->record.session_id), nullptr);
  ASSERT_NE(small.FindById(project_id_, b.session->session->record.session_id), nullptr);
  // ... and a's slow reader, which noted the epoch before the drop, is refused.
  small.Insert(MakeCachedSession(a.session->session->record, a.session->session->user), before);
  EXPECT_EQ(small.FindById(project_id_, a.session->session->record.session_id), nullptr);
}

// Regression (integration review): 1e400 is not a JSON number Tessera can write back.
TEST_F(ServiceTest, NonFiniteNumbersAreRefusedAtParse) {
  EXPECT_ERROR(ParseJson(R"({"x":1e400})", 8), ErrorCode::kMalformedJson);
  EXPECT_ERROR(ParseJson(R"([[-1e999]])", 8), ErrorCode::kMalformedJson);
  EXPECT_OK(ParseJson(R"({"x":1e300})", 8));
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// authorization_check in the session service: the user's current roles against the project's
// policy as the registry loaded it; a denial changes nothing.
class RbacServiceTest : public ServiceTest {
 protected:
  void SetPolicy(std::string_view json) {
    auto parsed = rbac::ParsePolicy(json);
    ASSERT_OK(parsed);
    auto current = LoadRbacPolicy(*faulty_, project_id_);
    ASSERT_OK(current);
    ASSERT_OK(
        SetRbacPolicy(*faulty_, project_id_, std::move(*parsed), current->version, clock_.Now()));
    // The config version moved: the registry reloads the project.
    ASSERT_OK(registry_->Refresh());
  }

  PasswordResult SignUpWithRoles(std::string email, std::vector<std::string> roles) {
    PasswordCreateRequest req;
    req.email = std::move(email);
    req.password = kPassword;
    req.session.duration_minutes = 60;
    req.user.roles = std::move(roles);
    auto r = passwords_->Create(*Project(), req, clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  static SessionOptions Check(std::string resource, std::string action) {
    SessionOptions o;
    o.authorization_check = rbac::AuthorizationCheck{std::move(resource), std::move(action)};
    return o;
  }
};

constexpr std::string_view kDocsPolicy = R"({
  "resources": [{"resource_id": "documents", "actions": ["read", "write"]}],
  "roles": [{"role_id": "editor",
             "permissions": [{"resource_id": "documents", "actions": ["read", "write"]}]},
            {"role_id": "reader", "permissions": [{"resource_id": "documents", "actions": ["read"]}]}]
})";

TEST_F(RbacServiceTest, GrantsWithTheRolesThatGrantAndDeniesOtherwise) {
  SetPolicy(kDocsPolicy);
  const PasswordResult up = SignUpWithRoles("r1@example.com", {"reader", "editor"});
  auto granted = ByToken(up.session->session_token, Check("documents", "read"));
  ASSERT_OK(granted);
  ASSERT_TRUE(granted->granting_roles.has_value());
  EXPECT_EQ(*granted->granting_roles, (std::vector<std::string>{"editor", "reader"}));
  auto by_jwt = ByJwt(up.session->session_jwt, Check("documents", "write"));
  ASSERT_OK(by_jwt);
  EXPECT_EQ(*by_jwt->granting_roles, std::vector<std::string>{"editor"});
  EXPECT_ERROR(ByToken(up.session->session_token, Check("documents", "delete")),
               ErrorCode::kAuthorizationDenied);
  EXPECT_ERROR(ByToken(up.session->session_token, Check("images", "read")),
               ErrorCode::kAuthorizationDenied);
  // No check, no verdict.
  auto plain = ByToken(up.session->session_token);
  ASSERT_OK(plain);
  EXPECT_FALSE(plain->granting_roles.has_value());
}

TEST_F(RbacServiceTest, WithoutAPolicyEverythingIsDenied) {
  const PasswordResult up = SignUpWithRoles("r2@example.com", {"editor"});
  EXPECT_EQ(Project()->rbac_policy_version, 0);
  EXPECT_ERROR(ByToken(up.session->session_token, Check("documents", "read")),
               ErrorCode::kAuthorizationDenied);
}

TEST_F(RbacServiceTest, UnknownSessionIsNotFoundBeforeAnyCheck) {
  SetPolicy(kDocsPolicy);
  EXPECT_ERROR(ByToken(std::string(44, 'A'), Check("documents", "read")),
               ErrorCode::kSessionNotFound);
}

TEST_F(RbacServiceTest, DenialNeitherExtendsNorMergesClaims) {
  SetPolicy(kDocsPolicy);
  const PasswordResult up = SignUpWithRoles("r3@example.com", {"reader"});
  const std::string token = up.session->session_token;
  const TimePoint expires = up.session->session->record.expires_at;
  clock_.Advance(std::chrono::minutes(1));
  SessionOptions o = Check("documents", "write");
  o.duration_minutes = 600;
  o.custom_claims = boost::json::parse(R"({"tier":"gold"})");
  EXPECT_ERROR(ByToken(token, o), ErrorCode::kAuthorizationDenied);
  sessions_cache_->Clear();  // What the store holds.
  auto after = ByToken(token);
  ASSERT_OK(after);
  EXPECT_EQ(after->session->record.expires_at, expires);
  EXPECT_TRUE(after->session->record.custom_claims.empty());
  // Granted with the same options: extended and merged.
  o.authorization_check = rbac::AuthorizationCheck{"documents", "read"};
  auto granted = ByToken(token, o);
  ASSERT_OK(granted);
  EXPECT_EQ(granted->session->record.expires_at,
            std::chrono::floor<Seconds>(clock_.Now()) + std::chrono::minutes(600));
  EXPECT_EQ(granted->session->record.custom_claims.at("tier").as_string(), "gold");
}

TEST_F(RbacServiceTest, RoleChangeCountsFromTheNextAuthenticate) {
  SetPolicy(kDocsPolicy);
  const PasswordResult up = SignUpWithRoles("r4@example.com", {"reader"});
  EXPECT_ERROR(ByJwt(up.session->session_jwt, Check("documents", "write")),
               ErrorCode::kAuthorizationDenied);
  UserFields f;
  f.roles = std::vector<std::string>{"editor"};
  ASSERT_OK(users_->Update(*Project(), up.user->user.user_id, f, clock_.Now()));
  auto granted = ByJwt(up.session->session_jwt, Check("documents", "write"));
  ASSERT_OK(granted);
  EXPECT_EQ(*granted->granting_roles, std::vector<std::string>{"editor"});
  EXPECT_EQ(granted->session->user->roles, (std::vector<std::string>{"stytch_user", "editor"}));
}

TEST_F(RbacServiceTest, PolicyChangeCountsOnceTheRegistryReloads) {
  SetPolicy(kDocsPolicy);
  const PasswordResult up = SignUpWithRoles("r5@example.com", {"editor"});
  ASSERT_OK(ByToken(up.session->session_token, Check("documents", "write")));
  SetPolicy(R"({"resources": [{"resource_id": "documents", "actions": ["read", "write"]}],
                "roles": [{"role_id": "editor",
                           "permissions": [{"resource_id": "documents", "actions": ["read"]}]}]})");
  EXPECT_EQ(Project()->rbac_policy_version, 2);
  EXPECT_ERROR(ByToken(up.session->session_token, Check("documents", "write")),
               ErrorCode::kAuthorizationDenied);
}

}  // namespace
}  // namespace tessera
