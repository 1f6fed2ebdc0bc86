// Email sign-in over a real SQLite store with a fake clock: expiry without sleeping, single use,
// passcode replacement, PKCE, the pieces of a message, and the outbox sender against a transport
// that fails on demand.
#include "service/email/email_sign_in.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "common/base64.h"
#include "crypto/hash.h"
#include "fake_clock.h"
#include "fake_random.h"
#include "service/email/email_sender.h"
#include "service/email/mail.h"
#include "service/email/one_time_secrets.h"
#include "service/hash_limiter.h"
#include "status_matchers.h"
#include "tessera/store/sqlite_store.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::FakeRandom;

// Keeps what it was asked to send; fails while `down`.
class RecordingTransport final : public MailTransport {
 public:
  struct Sent {
    std::string to, mime;
  };
  Status Send(const Mailbox&, std::string_view to, std::string_view mime,
              std::string_view) override {
    std::lock_guard lock(mu);
    if (down) return Error(ErrorCode::kStoreUnavailable, "relay down");
    sent.push_back({std::string(to), std::string(mime)});
    return Status::Ok();
  }
  std::string Describe() const override { return "recording"; }

  std::mutex mu;
  bool down = false;       // GUARDED_BY(mu)
  std::vector<Sent> sent;  // GUARDED_BY(mu)
};

class EmailSignInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-email-" + std::to_string(::getpid()) + "-" +
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
    auto hasher = PasswordHasher::Create({1, 64}, std::make_shared<HashLimiter>(2));
    ASSERT_OK(hasher);
    hasher_ = std::make_unique<PasswordHasher>(std::move(*hasher));
    passwords_ = std::make_unique<PasswordService>(*ctx_, *hasher_, *sessions_, *users_);
    auto templates = EmailTemplates::Load("");
    ASSERT_OK(templates);
    templates_ = std::make_unique<EmailTemplates>(std::move(*templates));
    EmailSignInOptions options;
    options.per_address_limit = 0;
    email_ = std::make_unique<EmailSignInService>(*ctx_, *sessions_, *users_, *passwords_, *hasher_,
                                                  *templates_, options, nullptr);
    ProjectSettings settings;
    settings.jwt_algorithm = JwtAlgorithm::kES256;
    settings.lock_threshold = 3;
    auto created = CreateProject(*store_, master_, random_, clock_.Now(), "Unit", false, settings);
    ASSERT_OK(created);
    project_id_ = created->project.project_id;
    for (const RedirectUrlType t : {RedirectUrlType::kLogin, RedirectUrlType::kSignup,
                                    RedirectUrlType::kInvite, RedirectUrlType::kResetPassword}) {
      ASSERT_OK(
          store_->AddRedirectUrl({project_id_, t, "https://app.example/cb", true, clock_.Now()}));
    }
    auto project = registry_->Get(project_id_);
    ASSERT_OK(project);
    project_ = *project;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The messages waiting in the outbox, opened.
  std::vector<MailContent> Outbox() {
    auto claimed = store_->ClaimOutbox(clock_.Now(), Seconds(60), 100, "test");
    EXPECT_TRUE(claimed.ok());
    std::vector<MailContent> out;
    for (const auto& m : *claimed) {
      auto mail = OpenMail(master_, m);
      EXPECT_TRUE(mail.ok());
      out.push_back(*mail);
      EXPECT_TRUE(*store_->CompleteOutbox(m.message_id, "test"));
    }
    return out;
  }

  static std::string TokenIn(const MailContent& m) {
    std::smatch match;
    EXPECT_TRUE(std::regex_search(m.content.text, match, std::regex("token=([A-Za-z0-9_%-]+)")));
    std::string t = match[1];
    return std::regex_replace(t, std::regex("%3D"), "=");
  }
  static std::string CodeIn(const MailContent& m) {
    std::smatch match;
    EXPECT_TRUE(std::regex_search(m.content.text, match, std::regex("\\b([0-9]{6})\\b")));
    return match[1];
  }

  EmailSendRequest Send(std::string email) {
    EmailSendRequest r;
    r.email = std::move(email);
    return r;
  }
  EmailAuthRequest Token(std::string token) {
    EmailAuthRequest r;
    r.token = std::move(token);
    return r;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_ = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{9});
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
  std::unique_ptr<EmailTemplates> templates_;
  std::unique_ptr<EmailSignInService> email_;
  std::string project_id_;
  std::shared_ptr<const ProjectContext> project_;
};

TEST_F(EmailSignInTest, MagicLinkExpiresWithTheClockAndWorksOnce) {
  ASSERT_OK(email_->MagicLinkLoginOrCreate(*project_, Send("ada@example.com"), clock_.Now()));
  auto mails = Outbox();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].to, "ada@example.com");
  EXPECT_NE(mails[0].content.subject.find("Unit"), std::string::npos);
  const std::string token = TokenIn(mails[0]);
  // A sign-up link lasts a week: still good a minute before, dead at the end.
  clock_.Advance(std::chrono::minutes(10080) - std::chrono::minutes(1));
  ASSERT_OK(email_->MagicLinkAuthenticate(*project_, Token(token), clock_.Now()));
  EXPECT_ERROR(email_->MagicLinkAuthenticate(*project_, Token(token), clock_.Now()),
               ErrorCode::kUnableToAuthMagicLink);

  ASSERT_OK(email_->MagicLinkSend(*project_, Send("ada@example.com"), clock_.Now()));
  const std::string login = TokenIn(Outbox().at(0));
  clock_.Advance(std::chrono::minutes(60));  // A login link lasts an hour.
  EXPECT_ERROR(email_->MagicLinkAuthenticate(*project_, Token(login), clock_.Now()),
               ErrorCode::kUnableToAuthMagicLink);
  EXPECT_ERROR(email_->MagicLinkAuthenticate(*project_, Token("nope"), clock_.Now()),
               ErrorCode::kMagicLinkNotFound);
}

TEST_F(EmailSignInTest, PasscodesExpireAndANewOneReplacesTheLast) {
  auto sent = email_->OtpLoginOrCreate(*project_, Send("bo@example.com"), clock_.Now());
  ASSERT_OK(sent);
  const std::string first = CodeIn(Outbox().at(0));
  ASSERT_OK(email_->OtpSend(*project_, Send("bo@example.com"), clock_.Now()));
  const std::string second = CodeIn(Outbox().at(0));
  EmailAuthRequest r;
  r.method_id = sent->email_id;
  if (first != second) {
    r.code = first;
    EXPECT_ERROR(email_->OtpAuthenticate(*project_, r, clock_.Now()),
                 ErrorCode::kUnableToAuthOtpCode);
  }
  r.code = second;
  clock_.Advance(std::chrono::minutes(2));  // The default lifetime.
  EXPECT_ERROR(email_->OtpAuthenticate(*project_, r, clock_.Now()),
               ErrorCode::kUnableToAuthOtpCode);
  EmailSendRequest ten = Send("bo@example.com");
  ten.minutes = 10;
  ASSERT_OK(email_->OtpSend(*project_, ten, clock_.Now()));
  r.code = CodeIn(Outbox().at(0));
  clock_.Advance(std::chrono::minutes(9));
  auto ok = email_->OtpAuthenticate(*project_, r, clock_.Now());
  ASSERT_OK(ok);
  EXPECT_TRUE(ok->user->user.emails[0].verified);
  ten.minutes = 11;
  EXPECT_ERROR(email_->OtpSend(*project_, ten, clock_.Now()), ErrorCode::kInvalidExpirationOtp);
}

TEST_F(EmailSignInTest, DigestsAreKeyedAndBoundToTheMethod) {
  EXPECT_NE(DigestOtpCode(master_, "email-a", "123456"),
            DigestOtpCode(master_, "email-b", "123456"));
  const auto other = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{8});
  EXPECT_NE(DigestOtpCode(master_, "email-a", "123456"), DigestOtpCode(other, "email-a", "123456"));
  EXPECT_NE(DigestMagicToken(master_, "abc"), crypto::Sha256("abc"));
  for (int i = 0; i < 200; ++i) {
    auto code = GenerateOtpCode(random_);
    ASSERT_OK(code);
    EXPECT_TRUE(IsOtpCodeShape(*code)) << *code;
    auto token = GenerateMagicToken(random_);
    ASSERT_OK(token);
    EXPECT_EQ(token->size(), 44u);
    EXPECT_EQ(token->back(), '=');
  }
}

TEST_F(EmailSignInTest, Pkce) {
  const std::string verifier = "0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string challenge = Base64UrlEncode(crypto::Sha256(verifier));
  EXPECT_OK(CheckPkce(challenge, verifier));
  EXPECT_OK(CheckPkce(challenge + "=", verifier));  // Padded challenges too.
  EXPECT_OK(CheckPkce("", ""));
  EXPECT_ERROR(CheckPkce(challenge, ""), ErrorCode::kPkceExpectedCodeVerifier);
  EXPECT_ERROR(CheckPkce("", verifier), ErrorCode::kPkceDidNotExpectCodeVerifier);
  EXPECT_ERROR(CheckPkce(challenge, verifier + "x"), ErrorCode::kPkceMismatch);
}

TEST_F(EmailSignInTest, LinksTemplatesAndMime) {
  EXPECT_EQ(LinkWithToken("https://a.example/cb", "magic_links", "ab-_="),
            "https://a.example/cb?stytch_token_type=magic_links&token=ab-_%3D");
  EXPECT_EQ(LinkWithToken("https://a.example/cb?x=1#f", "login", "t"),
            "https://a.example/cb?x=1&stytch_token_type=login&token=t#f");
  EmailValues v;
  v.project_name = "A <b> & c";
  v.link = "https://x.example/?a=1&b=2";
  v.expiration_minutes = 5;
  auto content = templates_->Render(EmailKind::kMagicLinkLogin, std::nullopt, v);
  ASSERT_OK(content);
  EXPECT_NE(content->text.find("https://x.example/?a=1&b=2"), std::string::npos);
  EXPECT_NE(content->html.find("A &lt;b&gt; &amp; c"), std::string::npos);
  EXPECT_EQ(content->html.find("<b>"), std::string::npos);
  EXPECT_ERROR(templates_->Render(EmailKind::kInvite, "missing", v),
               ErrorCode::kEmailTemplateNotFound);
  auto reset = templates_->Render(EmailKind::kResetPassword, std::nullopt, v);
  ASSERT_OK(reset);
  EXPECT_EQ(reset->text.find("without a password"), std::string::npos);  // No login link.
  auto from = ParseMailbox("Acme Login <login@acme.example>");
  ASSERT_OK(from);
  EXPECT_EQ(from->address, "login@acme.example");
  EXPECT_ERROR(ParseMailbox("nobody"), ErrorCode::kInvalidArgument);
  const std::string mime =
      BuildMime(*from, {"ada@example.com", *content}, "message-1", clock_.Now());
  EXPECT_NE(mime.find("From: \"Acme Login\" <login@acme.example>\r\n"), std::string::npos);
  EXPECT_NE(mime.find("Message-ID: <message-1@acme.example>\r\n"), std::string::npos);
  EXPECT_NE(mime.find("multipart/alternative"), std::string::npos);
  EXPECT_NE(mime.find("https://x.example/?a=1&b=2"), std::string::npos);  // 7bit, readable.
}

TEST_F(EmailSignInTest, SenderRetriesUntilTheRelayIsBackAndGivesUpOnExpiredMessages) {
  auto transport = std::make_unique<RecordingTransport>();
  RecordingTransport* relay = transport.get();
  relay->down = true;
  EmailSenderOptions options;
  options.poll_interval = std::chrono::milliseconds(10);
  options.retry_base = Seconds(2);
  EmailSender sender(*store_, master_, clock_, random_, std::move(transport), options);
  ASSERT_OK(email_->MagicLinkLoginOrCreate(*project_, Send("cy@example.com"), clock_.Now()));
  sender.Start();
  const auto wait_for = [&](auto done) {
    for (int i = 0; i < 500 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return sender.attempt_failures() >= 1; }));
  {
    std::lock_guard lock(relay->mu);
    relay->down = false;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sender.sent(), 0u);  // Not before its retry time, which the fake clock holds back.
  clock_.Advance(Seconds(2));
  ASSERT_TRUE(wait_for([&] { return sender.sent() == 1; }));
  {
    std::lock_guard lock(relay->mu);
    ASSERT_EQ(relay->sent.size(), 1u);
    EXPECT_EQ(relay->sent[0].to, "cy@example.com");
    EXPECT_NE(relay->sent[0].mime.find("stytch_token_type=magic_links"), std::string::npos);
  }
  // A message whose token died before any attempt worked is abandoned, not sent.
  {
    std::lock_guard lock(relay->mu);
    relay->down = true;
  }
  EmailSendRequest r = Send("cy@example.com");
  ASSERT_OK(email_->MagicLinkSend(*project_, r, clock_.Now()));
  sender.Wake();
  ASSERT_TRUE(wait_for([&] { return sender.attempt_failures() >= 2; }));
  clock_.Advance(std::chrono::minutes(61));
  sender.Wake();
  ASSERT_TRUE(wait_for([&] { return sender.abandoned() == 1; }));
  sender.Stop();
  auto stats = store_->GetOutboxStats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->pending, 0);
  EXPECT_EQ(stats->failed, 1);
}

TEST_F(EmailSignInTest, ClaimsExcludeEachOtherUntilTheLeaseEnds) {
  ASSERT_OK(email_->MagicLinkLoginOrCreate(*project_, Send("di@example.com"), clock_.Now()));
  auto a = store_->ClaimOutbox(clock_.Now(), Seconds(60), 10, "a");
  ASSERT_OK(a);
  ASSERT_EQ(a->size(), 1u);
  auto b = store_->ClaimOutbox(clock_.Now(), Seconds(60), 10, "b");
  ASSERT_OK(b);
  EXPECT_TRUE(b->empty());
  clock_.Advance(Seconds(60));
  b = store_->ClaimOutbox(clock_.Now(), Seconds(60), 10, "b");
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 1u);
  // The first claimant lost it: it can neither complete nor retry it.
  EXPECT_FALSE(*store_->CompleteOutbox((*a)[0].message_id, "a"));
  EXPECT_FALSE(*store_->RetryOutbox((*a)[0].message_id, "a", clock_.Now(), "x"));
  EXPECT_TRUE(*store_->CompleteOutbox((*b)[0].message_id, "b"));
}

}  // namespace
}  // namespace tessera
