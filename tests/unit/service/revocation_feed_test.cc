// The node's view of revocation logs, over a real SQLite store, driven with PollOnce (no thread,
// no sleeps) and a fake wall clock.
#include "service/revocation_feed.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fake_clock.h"
#include "fake_random.h"
#include "service/project_registry.h"
#include "status_matchers.h"
#include "tessera/store/sqlite_store.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::FakeRandom;
using Steady = std::chrono::steady_clock;

class RevocationFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-feed-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = OpenSqliteStore({(dir_ / "t.db").string(), 5000, 2});
    ASSERT_OK(store);
    store_ = std::move(*store);
    auto p = CreateProject(*store_, master_, random_, clock_.Now(), "p", false,
                           ProjectSettings{.jwt_algorithm = JwtAlgorithm::kEdDSA});
    ASSERT_OK(p);
    project_ = p->project.project_id;
    feed_ = std::make_unique<RevocationFeed>(*store_, clock_);
  }
  void TearDown() override {
    feed_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A user with a session, revoked: one `session` entry.
  void RevokeOne(const std::string& n) {
    User u;
    u.project_id = project_;
    u.user_id = "user-" + n;
    u.created_at = u.updated_at = clock_.Now();
    ASSERT_OK(store_->CreateUser(u));
    SessionRecord s;
    s.project_id = project_;
    s.session_id = "session-" + n;
    s.user_id = u.user_id;
    s.token_digest.fill(static_cast<std::uint8_t>(n.back()));
    s.token_digest[1] = static_cast<std::uint8_t>(n.size());
    s.started_at = s.last_accessed_at = clock_.Now();
    s.expires_at = clock_.Now() + std::chrono::hours(1);
    ASSERT_OK(store_->CreateSession(s));
    auto revoked = store_->RevokeSession(project_, s.session_id, clock_.Now());
    ASSERT_OK(revoked);
    ASSERT_TRUE(*revoked);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_ = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{5});
  std::unique_ptr<SessionStore> store_;
  std::unique_ptr<RevocationFeed> feed_;
  std::string project_;
};

TEST_F(RevocationFeedTest, FollowReadsTheLogAndPollsKeepItCurrent) {
  RevokeOne("a");
  EXPECT_EQ(feed_->Followed(project_), nullptr);
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  EXPECT_EQ(feed_->Followed(project_), *view);
  RevocationState s = (*view)->After(0, Steady::now(), 100);
  EXPECT_TRUE(s.caught_up_once);
  EXPECT_EQ(s.head, 1);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].session_id, "session-a");

  // A watcher is told of new entries; the view learns them at the next poll.
  int wakes = 0;
  auto token = std::make_shared<int>(0);
  (*view)->Watch(token, [&] { ++wakes; });
  RevokeOne("b");
  RevokeOne("c");
  EXPECT_EQ((*view)->After(0, Steady::now(), 100).head, 1);
  ASSERT_OK(feed_->PollOnce());
  EXPECT_EQ(wakes, 1);
  s = (*view)->After(1, Steady::now(), 100);
  EXPECT_EQ(s.head, 3);
  ASSERT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.entries[0].sequence, 2);
  EXPECT_EQ(s.entries[1].sequence, 3);
  EXPECT_EQ((*view)->After(0, Steady::now(), 1).entries.size(), 1u);  // The limit holds.
  EXPECT_TRUE((*view)->After(3, Steady::now(), 100).entries.empty());
  // Nothing new: no wake.
  ASSERT_OK(feed_->PollOnce());
  EXPECT_EQ(wakes, 1);
  // A watcher whose token died is not called.
  token.reset();
  RevokeOne("d");
  ASSERT_OK(feed_->PollOnce());
  EXPECT_EQ(wakes, 1);
}

TEST_F(RevocationFeedTest, SnapshotHoldsWhatAJwtCanStillName) {
  RevokeOne("a");
  clock_.Advance(std::chrono::seconds(400));
  RevokeOne("b");
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  // At +400 s both count: a's JWTs lived until +300 s, plus up to 300 s of verifier tolerance.
  RevocationState s = (*view)->Relevant(clock_.Now(), Steady::now(), Seconds(300), Seconds(300));
  EXPECT_EQ(s.entries.size(), 2u);
  EXPECT_EQ(s.head, 2);
  clock_.Advance(std::chrono::seconds(201));  // a: revoked 601 s ago.
  s = (*view)->Relevant(clock_.Now(), Steady::now(), Seconds(300), Seconds(300));
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].session_id, "session-b");
  EXPECT_EQ(s.head, 2);  // The snapshot is still complete up to 2.
}

TEST_F(RevocationFeedTest, RetentionPrunesTheStoreAndTheView) {
  RevokeOne("a");
  RevokeOne("b");
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  clock_.Advance(std::chrono::seconds(901));
  RevokeOne("c");
  ASSERT_OK(feed_->Prune());
  ASSERT_OK(feed_->PollOnce());
  RevocationState s = (*view)->After(0, Steady::now(), 100);
  EXPECT_EQ(s.head, 3);
  EXPECT_EQ(s.first_kept, 3);  // A cursor below 2 has missed entries: the feed sends a snapshot.
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].sequence, 3);
  // A node that starts following after the pruning sees the same bounds.
  RevocationFeed other(*store_, clock_);
  auto fresh = other.Follow(project_);
  ASSERT_OK(fresh);
  EXPECT_EQ((*fresh)->After(0, Steady::now(), 100).first_kept, 3);
}

TEST_F(RevocationFeedTest, LagGrowsWhileTheStoreCannotBeRead) {
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  const auto now = Steady::now();
  EXPECT_LT((*view)->After(0, now, 1).lag, std::chrono::milliseconds(1000));
  // Without successful reads the confirmation ages with the steady clock.
  EXPECT_GE((*view)->After(0, now + std::chrono::seconds(5), 1).lag, std::chrono::seconds(4));
  ASSERT_OK(feed_->PollOnce());
  EXPECT_LT((*view)->After(0, Steady::now(), 1).lag, std::chrono::milliseconds(1000));
}

TEST_F(RevocationFeedTest, UserDeletionIsOneEntry) {
  User u;
  u.project_id = project_;
  u.user_id = "user-many";
  u.created_at = u.updated_at = clock_.Now();
  ASSERT_OK(store_->CreateUser(u));
  for (int i = 0; i < 3; ++i) {
    SessionRecord s;
    s.project_id = project_;
    s.session_id = "session-many-" + std::to_string(i);
    s.user_id = u.user_id;
    s.token_digest.fill(static_cast<std::uint8_t>(100 + i));
    s.started_at = s.last_accessed_at = clock_.Now();
    s.expires_at = clock_.Now() + std::chrono::hours(1);
    ASSERT_OK(store_->CreateSession(s));
  }
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  ASSERT_OK(store_->DeleteUser(project_, u.user_id, clock_.Now()));
  ASSERT_OK(feed_->PollOnce());
  RevocationState s = (*view)->After(0, Steady::now(), 100);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].kind, RevocationEntry::Kind::kUser);
  EXPECT_EQ(s.entries[0].user_id, "user-many");
  EXPECT_EQ(s.entries[0].revoked_at, clock_.Now());
}

TEST_F(RevocationFeedTest, WakeOnlyConcernsFollowedProjects) {
  feed_->Wake(project_);  // Not followed: nothing to do, nothing breaks.
  EXPECT_EQ(feed_->Followed(project_), nullptr);
  feed_->Start();
  auto view = feed_->Follow(project_);
  ASSERT_OK(view);
  RevokeOne("a");
  feed_->Wake(project_);
  // The follower thread reads it; wait for the view, bounded, without a fixed sleep.
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  while ((*view)->After(0, Steady::now(), 10).head < 1 && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ((*view)->After(0, Steady::now(), 10).head, 1);
}

}  // namespace
}  // namespace tessera
