// The revocation feed as the SDK follows it: against FeedServer (a real HTTP server on a real
// socket, read by the SDK's real libcurl), with JWTs, keys and the API from the real `tessera`
// binary. The client's base_url is the fake feed; its API and key-set requests are redirected to
// the real server by the transport. Both clocks are fakes: freshness and expiry move only when a
// test advances them, so nothing here waits for time to pass, only for events (a frame applied, a
// reconnection), with generous deadlines.
//
// RealServerFeedTest, at the end, follows the real server's feed; it is skipped while the server
// does not serve it (see there).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "feed_server.h"
#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr auto kDeadline = seconds(60);  // For events; the ASan build is slow.

// Polls `pred` until it holds.
template <typename Pred>
::testing::AssertionResult Eventually(Pred pred, const std::string& what,
                                      steady_clock::duration timeout = kDeadline) {
  const auto deadline = steady_clock::now() + timeout;
  while (!pred()) {
    if (steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << what << ": not within the deadline";
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  return ::testing::AssertionSuccess();
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(n >> k) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned n =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// Sends what is meant for `from` (the fake feed's address) to `to` (the real server).
class RedirectTransport final : public Transport {
 public:
  RedirectTransport(std::string from, std::string to)
      : from_(std::move(from)), to_(std::move(to)), inner_(NewCurlTransport()) {}
  Outcome<HttpResponse> Send(const HttpRequest& request) override {
    HttpRequest r = request;
    if (r.url.starts_with(from_)) r.url = to_ + r.url.substr(from_.size());
    return inner_->Send(r);
  }

 private:
  std::string from_, to_;
  std::shared_ptr<Transport> inner_;
};

class FeedTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    feed_ = std::make_unique<FeedServer>();
    ASSERT_TRUE(feed_->ok());
    api_ = NewClient();  // Feed off: signs users up and revokes on the real server.
    ASSERT_NE(api_, nullptr);
  }
  void TearDown() override {
    api_.reset();
    feed_.reset();
    ServerTest::TearDown();
  }

  // A client that follows the fake feed, with both clocks fake. No reconnection on silence unless
  // a test asks for it: tests that freeze the feed watch freshness, not reconnection.
  ClientOptions FeedOptions() const {
    ClientOptions o = Options();
    o.revocation_feed = true;
    o.base_url = feed_->base_url();
    o.transport = std::make_shared<RedirectTransport>(feed_->base_url(), server_->base_url());
    o.clock = wall_;
    o.steady_clock = mono_;
    o.revocation_heartbeat_timeout = seconds(600);
    return o;
  }

  std::int64_t Now() const { return ToUnixSeconds(wall_->Now()); }

  ::testing::AssertionResult AwaitSnapshots(Client& c, std::uint64_t n) {
    return Eventually([&] { return c.stats().revocation_snapshots >= n; },
                      "snapshot " + std::to_string(n) + " applied");
  }
  ::testing::AssertionResult AwaitSequence(Client& c, std::uint64_t n) {
    return Eventually([&] { return c.stats().revocation_sequence >= n; },
                      "entry " + std::to_string(n) + " applied");
  }
  // Every frame the feed has written so far has been applied (one stream, no frame refused).
  ::testing::AssertionResult Synced(Client& c) {
    const std::uint64_t sent = feed_->frames_sent();
    return Eventually([&] { return c.stats().revocation_frames >= sent; },
                      std::to_string(sent) + " frames applied");
  }
  // A frame written after this call (a heartbeat, with nothing else happening) has been applied,
  // so whatever the feed was told before the call has reached the client.
  ::testing::AssertionResult AwaitFreshFrame(Client& c) {
    const std::uint64_t sent = feed_->frames_sent();
    if (!Eventually([&] { return feed_->frames_sent() > sent; }, "a frame written")) {
      return ::testing::AssertionFailure() << "the feed wrote no frame";
    }
    return Synced(c);
  }
  // At least `n` more frames (heartbeats, with nothing else happening) applied from now on. With
  // n >= 2, one of them was read and applied wholly after this call.
  ::testing::AssertionResult AwaitFrames(Client& c, std::uint64_t n) {
    const std::uint64_t start = c.stats().revocation_frames;
    return Eventually([&] { return c.stats().revocation_frames >= start + n; },
                      std::to_string(n) + " more frames applied");
  }

  Outcome<std::shared_ptr<const Session>> Local(Client& c, const std::string& jwt) {
    return c.Sessions().AuthenticateJwtLocal(jwt);
  }

  std::shared_ptr<FakeClock> wall_ = std::make_shared<FakeClock>();
  std::shared_ptr<FakeMonotonicClock> mono_ = std::make_shared<FakeMonotonicClock>();
  std::unique_ptr<FeedServer> feed_;
  std::unique_ptr<Client> api_;
};

// A snapshot's entries, then live revokes, refuse their sessions' JWTs locally, with the typed
// error; other sessions still verify locally; AuthenticateJwt takes a local refusal to the API.
// The stream request carries the project's credentials and asks for text/event-stream.
TEST_F(FeedTest, SnapshotThenRevokesAreApplied) {
  const PasswordResponse a = SignUp(*api_);
  const PasswordResponse b = LogIn(*api_, a.user.emails.at(0).email);
  ASSERT_TRUE(a.session && b.session);
  feed_->RevokeSession(a.session->session_id, a.user_id, Now(), Now() + 300);  // In the snapshot.

  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  auto refused = Local(*client, a.session_jwt);
  EXPECT_ERROR_KIND(refused, ErrorKind::kSessionRevoked);
  if (!refused.ok()) {
    EXPECT_EQ(refused.error().error_type, "session_revoked");
  }
  ASSERT_OK(Local(*client, b.session_jwt));

  feed_->RevokeSession(b.session->session_id, b.user_id, Now(), Now() + 300);  // A revoke frame.
  ASSERT_TRUE(AwaitSequence(*client, 2));
  EXPECT_ERROR_KIND(Local(*client, b.session_jwt), ErrorKind::kSessionRevoked);

  // The real server was not told: asked after the local refusal, it accepts.
  auto fallback = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(fallback);
  EXPECT_EQ(fallback->verified_by, VerifiedBy::kApi);

  const ClientStats s = client->stats();
  EXPECT_EQ(s.revocation_snapshots, 1u);
  EXPECT_EQ(s.revocation_sequence, 2u);
  EXPECT_EQ(s.revoked_sessions, 2u);
  EXPECT_EQ(s.revoked_users, 0u);
  EXPECT_EQ(s.revocation_refusals, 3u);
  EXPECT_EQ(s.revocation_feed_connections, 1u);
  EXPECT_EQ(s.api_fallbacks, 1u);
  EXPECT_EQ(feed_->last_accept(), "text/event-stream");
  EXPECT_EQ(feed_->last_authorization(),
            "Basic " + Base64(project_.project_id + ":" + project_.secret));
  EXPECT_EQ(feed_->last_event_ids(), std::vector<std::string>{""});  // Not a resume.
}

// A JWT verified (and cached) before its session was revoked is refused on the next cache hit.
TEST_F(FeedTest, RevocationReachesAJwtAlreadyCachedAsVerified) {
  const PasswordResponse a = SignUp(*api_);
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));
  ASSERT_OK(Local(*client, a.session_jwt));
  EXPECT_EQ(client->stats().verified_cache_hits, 1u);

  feed_->RevokeSession(a.session->session_id, a.user_id, Now(), Now() + 300);
  ASSERT_TRUE(AwaitSequence(*client, 1));
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kSessionRevoked);
  EXPECT_EQ(client->stats().verified_cache_hits, 1u);  // Not counted as a local acceptance.
  EXPECT_EQ(client->stats().local_verifications, 2u);

  // Revoked on the server too: the API path refuses as well.
  RevokeRequest revoke;
  revoke.session_id = a.session->session_id;
  ASSERT_OK(api_->Sessions().Revoke(revoke));
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt(a.session_jwt), ErrorKind::kApi);
}

// A user entry refuses that user's JWTs issued at or before its not_before, and no later ones.
TEST_F(FeedTest, UserNotBeforeRefusesOlderJwtsOfThatUserOnly) {
  const PasswordResponse first = SignUp(*api_);
  const std::string email = first.user.emails.at(0).email;
  WaitForNextSecond();
  const PasswordResponse second = LogIn(*api_, email);
  const PasswordResponse other_user = SignUp(*api_);
  const auto iat1 = JwtIntClaim(first.session_jwt, "iat");
  const auto iat2 = JwtIntClaim(second.session_jwt, "iat");
  ASSERT_TRUE(iat1 && iat2);
  ASSERT_LT(*iat1, *iat2);

  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  feed_->RevokeUser(first.user_id, *iat1, Now(), Now() + 300);
  ASSERT_TRUE(AwaitSequence(*client, 1));
  EXPECT_ERROR_KIND(Local(*client, first.session_jwt), ErrorKind::kSessionRevoked);  // iat == nb
  ASSERT_OK(Local(*client, second.session_jwt));                                     // iat > nb
  ASSERT_OK(Local(*client, other_user.session_jwt));
  EXPECT_EQ(client->stats().revoked_users, 1u);

  // A later not_before for the same user supersedes the first.
  feed_->RevokeUser(first.user_id, *iat2, Now(), Now() + 300);
  ASSERT_TRUE(AwaitSequence(*client, 2));
  EXPECT_ERROR_KIND(Local(*client, second.session_jwt), ErrorKind::kSessionRevoked);
  EXPECT_EQ(client->stats().revoked_users, 1u);
  WaitForNextSecond();
  const PasswordResponse third = LogIn(*api_, email);  // Issued after: verifies.
  ASSERT_OK(Local(*client, third.session_jwt));
}

// Entries leave the set once no JWT the client accepts can name them (relevant_until plus the
// clock tolerance), as the wall clock passes; entries that arrive already irrelevant are never
// held. Memory follows the live window, not the log.
TEST_F(FeedTest, EntriesExpireAsTheClockPassesRelevantUntil) {
  ClientOptions o = FeedOptions();
  o.clock_tolerance = seconds(5);
  const std::int64_t t0 = Now();
  feed_->RevokeSession("session-test-early", "user-test-a", t0, t0 + 100);
  feed_->RevokeSession("session-test-late", "user-test-a", t0, t0 + 300);
  feed_->RevokeUser("user-test-b", t0, t0, t0 + 300);
  feed_->RevokeSession("session-test-stale", "user-test-a", t0 - 400, t0 - 100);  // Irrelevant.
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_TRUE(Synced(*client));
  EXPECT_EQ(client->stats().revoked_sessions, 2u);
  EXPECT_EQ(client->stats().revoked_users, 1u);
  EXPECT_EQ(client->stats().revocation_sequence, 4u);

  // One second before the first entry stops mattering: a few heartbeats later it is still held.
  wall_->Advance(seconds(100 + 5 - 1));
  ASSERT_TRUE(AwaitFrames(*client, 3));
  EXPECT_EQ(client->stats().revoked_sessions, 2u);

  wall_->Advance(seconds(1));  // relevant_until + tolerance: dropped.
  ASSERT_TRUE(Eventually([&] { return client->stats().revoked_sessions == 1; }, "early dropped"));
  EXPECT_EQ(client->stats().revoked_users, 1u);

  wall_->Advance(seconds(200));  // Past the rest.
  ASSERT_TRUE(Eventually(
      [&] { return client->stats().revoked_sessions == 0 && client->stats().revoked_users == 0; },
      "all dropped"));

  // A revoke that is already irrelevant is applied (the sequence moves) but not held.
  feed_->RevokeSession("session-test-old", "user-test-a", Now() - 400, Now() - 10);
  ASSERT_TRUE(AwaitSequence(*client, 5));
  EXPECT_EQ(client->stats().revoked_sessions, 0u);
}

// The server drops the stream and refuses reconnections while a session is revoked: the client
// resumes with Last-Event-ID and gets the entry it missed, without a new snapshot.
TEST_F(FeedTest, ResumesByLastEventIdWithoutMissingARevocation) {
  const PasswordResponse a = SignUp(*api_);
  feed_->RevokeSession("session-test-earlier", "user-test-x", Now(), Now() + 300);
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));

  feed_->RefuseWith(503);
  feed_->DropConnections();
  const std::uint64_t requests = feed_->requests();
  ASSERT_TRUE(feed_->AwaitRequests(requests + 1, kDeadline));                  // A refused attempt.
  feed_->RevokeSession(a.session->session_id, a.user_id, Now(), Now() + 300);  // Missed, for now.
  feed_->RefuseWith(std::nullopt);

  ASSERT_TRUE(AwaitSequence(*client, 2));
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kSessionRevoked);
  const ClientStats s = client->stats();
  EXPECT_EQ(s.revocation_snapshots, 1u);  // Resumed, not resynchronized.
  EXPECT_EQ(s.revoked_sessions, 2u);
  EXPECT_GE(s.revocation_feed_failures, 2u);  // The drop, and at least one 503.
  EXPECT_GE(s.revocation_feed_connections, 2u);
  const std::vector<std::string> ids = feed_->last_event_ids();
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), "");
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], "1") << "request " << i;
}

// When the server answers a resume with a snapshot (the client's position is older than its
// retention), the snapshot replaces the whole set: entries it no longer lists are forgotten.
TEST_F(FeedTest, ASnapshotAnsweringAResumeReplacesTheSet) {
  const PasswordResponse a = SignUp(*api_);
  const PasswordResponse b = LogIn(*api_, a.user.emails.at(0).email);
  feed_->RevokeSession(b.session->session_id, b.user_id, Now(), Now() + 300);  // 1
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  EXPECT_ERROR_KIND(Local(*client, b.session_jwt), ErrorKind::kSessionRevoked);
  ASSERT_OK(Local(*client, a.session_jwt));

  feed_->RefuseWith(503);
  feed_->DropConnections();
  feed_->RevokeSession(a.session->session_id, a.user_id, Now(), Now() + 300);  // 2
  feed_->RemoveFromSnapshot(1);
  feed_->ResumeWithSnapshot(true);
  feed_->RefuseWith(std::nullopt);

  ASSERT_TRUE(AwaitSnapshots(*client, 2));
  EXPECT_EQ(client->stats().revocation_sequence, 2u);
  EXPECT_EQ(client->stats().revoked_sessions, 1u);
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kSessionRevoked);
  ASSERT_OK(Local(*client, b.session_jwt));  // Not in the new snapshot: replaced, not merged.
  EXPECT_EQ(feed_->last_event_ids().back(), "1");
}

// Heartbeats stop (the server freezes with its connection open): once the last frame is older
// than the bound, local verification answers kFeedStale (a cache hit too) and AuthenticateJwt asks
// the API. When frames flow again, so does local verification, and what was revoked meanwhile is
// refused.
TEST_F(FeedTest, FailsClosedWhenHeartbeatsStopAndRecovers) {
  const PasswordResponse a = SignUp(*api_);
  const PasswordResponse b = LogIn(*api_, a.user.emails.at(0).email);
  ClientOptions o = FeedOptions();
  o.revocation_staleness_bound = milliseconds(1000);
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));

  feed_->Freeze();
  ASSERT_TRUE(Synced(*client));        // Every frame written before the freeze has been applied.
  mono_->Advance(milliseconds(1000));  // Exactly the bound: still trusted.
  ASSERT_OK(Local(*client, a.session_jwt));
  mono_->Advance(milliseconds(1));
  auto stale = Local(*client, a.session_jwt);  // A verified-cache hit.
  EXPECT_ERROR_KIND(stale, ErrorKind::kFeedStale);
  if (!stale.ok()) {
    EXPECT_EQ(stale.error().error_type, "feed_stale");
  }
  EXPECT_ERROR_KIND(Local(*client, b.session_jwt), ErrorKind::kFeedStale);  // Not cached.
  auto fallback = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(fallback);
  EXPECT_EQ(fallback->verified_by, VerifiedBy::kApi);
  EXPECT_EQ(client->stats().feed_stale_refusals, 3u);

  feed_->RevokeSession(b.session->session_id, b.user_id, Now(), Now() + 300);  // Owed.
  feed_->Thaw();
  ASSERT_TRUE(AwaitSequence(*client, 1));
  ASSERT_TRUE(AwaitFrames(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));
  EXPECT_ERROR_KIND(Local(*client, b.session_jwt), ErrorKind::kSessionRevoked);
  EXPECT_EQ(client->stats().revocation_feed_connections, 1u);  // Same stream throughout.
}

// A node that reports lag (it cannot confirm it has every entry) is trusted only for what is
// left of the bound: lag beyond it fails closed at once, whatever the local clock says.
TEST_F(FeedTest, FailsClosedWhenLagExceedsTheBoundAndRecovers) {
  const PasswordResponse a = SignUp(*api_);
  ClientOptions o = FeedOptions();
  o.revocation_staleness_bound = milliseconds(1000);
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));

  feed_->SetLagMs(1001);
  ASSERT_TRUE(AwaitFreshFrame(*client));
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kFeedStale);
  auto fallback = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(fallback);
  EXPECT_EQ(fallback->verified_by, VerifiedBy::kApi);

  feed_->SetLagMs(600);  // Trusted for 400 ms more of the (fake) clock.
  ASSERT_TRUE(AwaitFreshFrame(*client));
  ASSERT_OK(Local(*client, a.session_jwt));
  feed_->Freeze();
  ASSERT_TRUE(Synced(*client));
  mono_->Advance(milliseconds(400));
  ASSERT_OK(Local(*client, a.session_jwt));
  mono_->Advance(milliseconds(1));
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kFeedStale);
  feed_->SetLagMs(2);
  feed_->Thaw();
  ASSERT_TRUE(AwaitFreshFrame(*client));
  ASSERT_OK(Local(*client, a.session_jwt));
}

// Until the first snapshot arrives, nothing is vouched for: local verification answers
// kFeedStale, AuthenticateJwt asks the API, and the reason is in the stats (never the secret).
TEST_F(FeedTest, NoSnapshotYetFailsClosed) {
  const PasswordResponse a = SignUp(*api_);
  feed_->RefuseWith(401);
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(Eventually([&] { return client->stats().revocation_feed_failures >= 2; },
                         "two refused attempts"));
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kFeedStale);
  auto fallback = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(fallback);
  EXPECT_EQ(fallback->verified_by, VerifiedBy::kApi);
  const std::string error = client->stats().revocation_feed_last_error;
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
  EXPECT_EQ(error.find(project_.secret), std::string::npos);

  feed_->RefuseWith(std::nullopt);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));
  EXPECT_EQ(feed_->last_event_ids().back(), "");  // Nothing to resume from.
}

// A stream that brings no frame for revocation_heartbeat_timeout is dropped and replaced, and the
// new stream resumes where the old one stopped.
TEST_F(FeedTest, ReconnectsWhenTheStreamFallsSilent) {
  ClientOptions o = FeedOptions();
  o.revocation_heartbeat_timeout = milliseconds(300);
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  feed_->RevokeSession("session-test-x", "user-test-x", Now(), Now() + 300);
  ASSERT_TRUE(AwaitSequence(*client, 1));

  feed_->Freeze();
  ASSERT_TRUE(feed_->AwaitRequests(2, kDeadline));  // The client gave up on the silent stream.
  EXPECT_NE(client->stats().revocation_feed_last_error.find("no frame for 300 ms"),
            std::string::npos)
      << client->stats().revocation_feed_last_error;
  feed_->Thaw();
  ASSERT_TRUE(Eventually([&] { return client->stats().revocation_feed_connections >= 2; },
                         "a second stream"));
  EXPECT_EQ(feed_->last_event_ids().at(1), "1");
  EXPECT_EQ(client->stats().revocation_snapshots, 1u);
}

// Frames the client cannot trust: each ends the stream, fails closed at once (the set is known
// to be incomplete, so the bound is not waited for), and the client resumes from the last entry
// it applied. The feed refuses reconnections until the test has seen the client stale.
struct BadFrame {
  const char* name;
  std::string bytes;
  const char* error;  // Expected in revocation_feed_last_error.
};

void PrintTo(const BadFrame& frame, std::ostream* os) { *os << frame.name; }

class FeedProtocolTest : public FeedTest, public ::testing::WithParamInterface<BadFrame> {};

TEST_P(FeedProtocolTest, FailsClosedAtOnceAndResumes) {
  const PasswordResponse a = SignUp(*api_);
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  feed_->RevokeSession("session-test-x", "user-test-x", Now(), Now() + 300);
  ASSERT_TRUE(AwaitSequence(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));

  feed_->RefuseWith(503);
  feed_->SendRaw(GetParam().bytes);
  ASSERT_TRUE(Eventually(
      [&] {
        return client->stats().revocation_feed_last_error.find(GetParam().error) !=
               std::string::npos;
      },
      std::string("the error \"") + GetParam().error + "\""))
      << client->stats().revocation_feed_last_error;
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kFeedStale);  // The clock stood.

  feed_->RefuseWith(std::nullopt);
  ASSERT_TRUE(
      Eventually([&] { return client->stats().revocation_feed_connections >= 2; }, "a new stream"));
  ASSERT_TRUE(AwaitFrames(*client, 1));
  ASSERT_OK(Local(*client, a.session_jwt));
  EXPECT_EQ(feed_->last_event_ids().back(), "1");
  EXPECT_EQ(client->stats().revocation_sequence, 1u);
}

std::string Revoke(int sequence, const std::string& kind_and_ids) {
  return "event: revoke\nid: " + std::to_string(sequence) +
         "\ndata: {\"sequence\":" + std::to_string(sequence) + "," + kind_and_ids +
         ",\"relevant_until\":9999999999}\n\n";
}

INSTANTIATE_TEST_SUITE_P(
    BadFrames, FeedProtocolTest,
    ::testing::Values(
        BadFrame{"Gap", Revoke(3, R"("kind":"session","session_id":"session-test-y")"),
                 "revoke 3 after 1"},
        BadFrame{"UnknownKind", Revoke(2, R"("kind":"project","project_id":"project-test-y")"),
                 "unknown kind"},
        BadFrame{"SessionWithoutId", Revoke(2, R"("kind":"session")"), "no session_id"},
        BadFrame{"IdNotItsSequence",
                 "event: revoke\nid: 7\ndata: {\"sequence\":2,\"kind\":\"session\","
                 "\"session_id\":\"s\",\"relevant_until\":9999999999}\n\n",
                 "id is not its sequence"},
        BadFrame{"HeartbeatAhead", "event: heartbeat\ndata: {\"sequence\":5,\"lag_ms\":0}\n\n",
                 "heartbeat at 5 after revoke 1"},
        BadFrame{"NegativeLag", "event: heartbeat\ndata: {\"sequence\":1,\"lag_ms\":-5}\n\n",
                 "no valid lag_ms"},
        BadFrame{"NotJson", "event: heartbeat\ndata: {\"sequence\":1,\n\n", "not a JSON object"},
        BadFrame{"UnknownEvent", "event: surprise\ndata: {}\n\n", "unknown type"},
        BadFrame{"OversizedFrame",
                 "event: heartbeat\ndata: {\"pad\":\"" + std::string(std::size_t{1} << 20, 'x'),
                 "larger than 1048576 bytes"}),
    [](const ::testing::TestParamInfo<BadFrame>& param) { return std::string(param.param.name); });

// A snapshot larger than revocation_max_snapshot_bytes is refused as it arrives: no snapshot is
// ever applied, so nothing is vouched for.
TEST_F(FeedTest, OversizedSnapshotIsRefused) {
  feed_->AddSessions(8000, Now(), Now() + 300);  // About 1.2 MB of entries.
  ClientOptions o = FeedOptions();
  o.revocation_max_snapshot_bytes = std::size_t{1} << 20;
  auto client = NewClient(o);
  ASSERT_TRUE(Eventually([&] { return client->stats().revocation_feed_failures >= 2; },
                         "two refused snapshots"));
  EXPECT_NE(client->stats().revocation_feed_last_error.find("larger than 1048576"),
            std::string::npos)
      << client->stats().revocation_feed_last_error;
  EXPECT_EQ(client->stats().revocation_snapshots, 0u);
  EXPECT_EQ(client->stats().revoked_sessions, 0u);
}

// revocation_feed = false: no stream is opened and local verification is what it was before the
// feed existed (a revoked session's JWT verifies locally until it expires).
TEST_F(FeedTest, FeedOffIsTheOldBehaviour) {
  const PasswordResponse a = SignUp(*api_);
  feed_->RevokeSession(a.session->session_id, a.user_id, Now(), Now() + 300);
  ClientOptions o = FeedOptions();
  o.revocation_feed = false;
  auto client = NewClient(o);
  ASSERT_OK(Local(*client, a.session_jwt));
  ASSERT_OK(Local(*client, a.session_jwt));
  auto r = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(r);
  EXPECT_EQ(r->verified_by, VerifiedBy::kLocal);
  mono_->Advance(seconds(3600));  // No freshness to lose.
  ASSERT_OK(Local(*client, a.session_jwt));
  const ClientStats s = client->stats();
  EXPECT_EQ(s.revocation_feed_connections, 0u);
  EXPECT_EQ(s.revocation_feed_failures, 0u);
  EXPECT_EQ(s.feed_stale_refusals, 0u);
  EXPECT_EQ(s.revocation_refusals, 0u);
  EXPECT_EQ(s.local_verifications, 4u);
  EXPECT_EQ(feed_->requests(), 0u);
}

// A call's own clock tolerance larger than the client's would accept a JWT past the point where
// its revocation may have been dropped from the set: the feed does not vouch for it.
TEST_F(FeedTest, ToleranceBeyondTheClientsIsNotVouchedFor) {
  const PasswordResponse a = SignUp(*api_);
  ClientOptions o = FeedOptions();
  o.clock_tolerance = seconds(5);
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  const auto exp = JwtIntClaim(a.session_jwt, "exp");
  ASSERT_TRUE(exp);
  wall_->Set(FromUnixSeconds(*exp + 10));
  auto r = client->Sessions().AuthenticateJwtLocal(a.session_jwt, std::nullopt, seconds(60));
  EXPECT_ERROR_KIND(r, ErrorKind::kFeedStale);
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kJwtInvalid);  // Expired.
}

// Destroying the client while its stream is open and silent returns at once: the feed thread is
// woken, not left to notice at the next heartbeat (there is none) or timeout (ten minutes).
TEST_F(FeedTest, ShutdownIsPromptWhileConnected) {
  auto client = NewClient(FeedOptions());
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  feed_->Freeze();
  const auto t0 = steady_clock::now();
  client.reset();
  EXPECT_LT(steady_clock::now() - t0, seconds(5));
}

// ... and while it waits for a connection that never answers,
TEST(FeedShutdownTest, ShutdownIsPromptWhileConnecting) {
  BlackHoleListener hole;
  ASSERT_NE(hole.port(), 0);
  ClientOptions o;
  o.project_id = "project-test-00000000-0000-0000-0000-000000000000";
  o.secret = "secret-test-unused";
  o.base_url = "http://127.0.0.1:" + std::to_string(hole.port());
  o.connect_timeout = milliseconds(600'000);
  o.revocation_heartbeat_timeout = milliseconds(600'000);
  auto created = Client::Create(o);
  ASSERT_OK(created);
  std::unique_ptr<Client> client = std::move(*created);
  std::this_thread::sleep_for(milliseconds(200));  // Let it connect (to the backlog).
  const auto t0 = steady_clock::now();
  client.reset();
  EXPECT_LT(steady_clock::now() - t0, seconds(5));
}

// ... and while it waits to reconnect. After five refused attempts the next wait is drawn from
// 1.6 to 3.2 s; destruction must not sit it out.
TEST_F(FeedTest, ShutdownIsPromptWhileWaitingToReconnect) {
  feed_->RefuseWith(503);
  ClientOptions o = FeedOptions();
  o.revocation_reconnect_max_backoff = milliseconds(600'000);
  auto client = NewClient(o);
  ASSERT_TRUE(Eventually([&] { return client->stats().revocation_feed_failures >= 5; },
                         "five refused attempts"));
  const auto t0 = steady_clock::now();
  client.reset();
  EXPECT_LT(steady_clock::now() - t0, milliseconds(1500));
}

// Many threads verify (cache hits and signature checks) while sets are replaced under them by a
// stream of revocations; the last revocation reaches all of them. For the sanitizer build.
TEST_F(FeedTest, ConcurrentVerificationWhileTheSetChanges) {
  const PasswordResponse a = SignUp(*api_);
  const PasswordResponse b = LogIn(*api_, a.user.emails.at(0).email);
  ClientOptions o = FeedOptions();
  o.verified_cache_capacity = 1;  // Mostly misses: both paths run.
  auto client = NewClient(o);
  ASSERT_TRUE(AwaitSnapshots(*client, 1));
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string& jwt = t % 2 == 0 ? a.session_jwt : b.session_jwt;
      while (!stop.load()) {
        if (!client->Sessions().AuthenticateJwtLocal(jwt).ok()) failures.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    feed_->RevokeSession("session-test-other-" + std::to_string(i), "user-test-other", Now(),
                         Now() + 300);
  }
  ASSERT_TRUE(AwaitSequence(*client, 300));
  EXPECT_EQ(failures.load(), 0u);
  const auto iat_a = JwtIntClaim(a.session_jwt, "iat");
  const auto iat_b = JwtIntClaim(b.session_jwt, "iat");
  ASSERT_TRUE(iat_a && iat_b);
  feed_->RevokeUser(a.user_id, std::max(*iat_a, *iat_b), Now(), Now() + 300);  // Both JWTs.
  ASSERT_TRUE(AwaitSequence(*client, 301));
  const std::uint64_t before = failures.load();
  ASSERT_TRUE(Eventually([&] { return failures.load() >= before + 100; }, "refusals"));
  stop.store(true);
  for (auto& t : threads) t.join();
  EXPECT_ERROR_KIND(Local(*client, a.session_jwt), ErrorKind::kSessionRevoked);
  EXPECT_ERROR_KIND(Local(*client, b.session_jwt), ErrorKind::kSessionRevoked);
  EXPECT_EQ(client->stats().revoked_sessions, 300u);
}

// The documented defaults, and Create refusing each option outside its range without I/O.
TEST(FeedOptionsTest, DefaultsAndValidation) {
  const ClientOptions defaults;
  EXPECT_TRUE(defaults.revocation_feed);
  EXPECT_EQ(defaults.revocation_staleness_bound, milliseconds(1000));
  EXPECT_EQ(defaults.revocation_heartbeat_timeout, milliseconds(2000));
  EXPECT_EQ(defaults.revocation_reconnect_max_backoff, milliseconds(5000));
  EXPECT_EQ(defaults.revocation_max_snapshot_bytes, std::size_t{64} << 20);
  EXPECT_EQ(defaults.steady_clock, nullptr);

  ClientOptions o;
  o.project_id = "project-test-00000000-0000-0000-0000-000000000000";
  o.secret = "secret-test-unused";
  o.base_url = "http://127.0.0.1:1";
  o.revocation_feed = false;  // Validated whether on or off; no thread for these.
  const auto refused = [&](auto set) {
    ClientOptions bad = o;
    set(bad);
    auto c = Client::Create(bad);
    if (c.ok()) return false;
    return c.error().kind == ErrorKind::kInvalidArgument &&
           c.error().error_message.find("revocation_") != std::string::npos;
  };
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_staleness_bound = milliseconds(99); }));
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_staleness_bound = seconds(61); }));
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_heartbeat_timeout = milliseconds(99); }));
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_heartbeat_timeout = seconds(601); }));
  EXPECT_TRUE(
      refused([](ClientOptions& b) { b.revocation_reconnect_max_backoff = milliseconds(99); }));
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_reconnect_max_backoff = seconds(601); }));
  EXPECT_TRUE(refused([](ClientOptions& b) { b.revocation_max_snapshot_bytes = (1 << 20) - 1; }));
  for (const auto edge : {milliseconds(100), milliseconds(60'000)}) {
    ClientOptions ok = o;
    ok.revocation_staleness_bound = edge;
    EXPECT_TRUE(Client::Create(ok).ok());
  }
  ClientOptions ok = o;
  ok.revocation_heartbeat_timeout = milliseconds(600'000);
  ok.revocation_reconnect_max_backoff = milliseconds(100);
  ok.revocation_max_snapshot_bytes = std::size_t{1} << 20;
  EXPECT_TRUE(Client::Create(ok).ok());
}

// --- The real server -----------------------------------------------------------------------------

// WRITTEN FOR THE REAL FEED: these follow `tessera serve`'s own GET /v1/sessions/revocations and
// are skipped while the server answers it 404 (the endpoint is being built). Once it is served,
// they check end to end that a revocation through the API reaches local verification.
class RealServerFeedTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    HttpRequest probe;
    probe.method = "GET";
    probe.url = server_->base_url() + "/v1/sessions/revocations?wait=0";
    probe.headers = {
        {"Authorization", "Basic " + Base64(project_.project_id + ":" + project_.secret)}};
    auto res = NewCurlTransport()->Send(probe);
    ASSERT_OK(res);
    if (res->status == 404) GTEST_SKIP() << "tessera serve does not serve the revocation feed yet";
  }
};

TEST_F(RealServerFeedTest, RevocationThroughTheApiReachesLocalVerification) {
  auto api = NewClient();
  const PasswordResponse a = SignUp(*api);
  const PasswordResponse b = LogIn(*api, a.user.emails.at(0).email);
  ClientOptions o = Options();
  o.revocation_feed = true;  // The default, against the real server.
  auto client = NewClient(o);
  ASSERT_TRUE(
      Eventually([&] { return client->Sessions().AuthenticateJwtLocal(a.session_jwt).ok(); },
                 "local verification with the feed fresh"));
  auto before = client->Sessions().AuthenticateJwt(a.session_jwt);
  ASSERT_OK(before);
  EXPECT_EQ(before->verified_by, VerifiedBy::kLocal);

  RevokeRequest revoke;
  revoke.session_id = a.session->session_id;
  ASSERT_OK(api->Sessions().Revoke(revoke));
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = client->Sessions().AuthenticateJwtLocal(a.session_jwt);
        return !r.ok() && r.error().kind == ErrorKind::kSessionRevoked;
      },
      "kSessionRevoked", seconds(5)));
  ASSERT_OK(client->Sessions().AuthenticateJwtLocal(b.session_jwt));

  // Deleting the user revokes all of its sessions at once (a user entry).
  ASSERT_OK(api->Users().Delete(a.user_id));
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = client->Sessions().AuthenticateJwtLocal(b.session_jwt);
        return !r.ok() && r.error().kind == ErrorKind::kSessionRevoked;
      },
      "kSessionRevoked for the deleted user", seconds(5)));
  EXPECT_ERROR_KIND(client->Sessions().AuthenticateJwt(b.session_jwt), ErrorKind::kApi);
}

}  // namespace
}  // namespace tessera::client::testing
