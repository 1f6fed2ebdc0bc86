// The revocation set (client/revocation_set.h): exact lookups, merging, pruning by
// relevant_until, and derived sets that share what they did not change.
#include "client/revocation_set.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::client {
namespace {

// "<prefix><n>", built so that GCC 12's -Wrestrict false positive on `"literal" + to_string(n)`
// stays quiet.
std::string Id(std::string prefix, int n) { return prefix.append(std::to_string(n)); }

class RevocationSetTest : public ::testing::Test {
 protected:
  bool Revoked(const RevocationSet& set, const std::string& id) const {
    return set.SessionRevoked(id, hasher_(id));
  }
  std::optional<std::int64_t> NotBefore(const RevocationSet& set, const std::string& id) const {
    return set.UserNotBefore(id, hasher_(id));
  }
  IdHasher hasher_;
};

TEST_F(RevocationSetTest, EmptySetRefusesNothing) {
  const RevocationSet empty;
  EXPECT_FALSE(Revoked(empty, "session-test-1"));
  EXPECT_FALSE(NotBefore(empty, "user-test-1").has_value());
  EXPECT_EQ(empty.sessions(), 0u);
  EXPECT_EQ(empty.users(), 0u);
}

TEST_F(RevocationSetTest, ExactMembershipAtScale) {
  RevocationSetBuilder b(hasher_, nullptr);
  for (int i = 0; i < 20000; ++i) b.AddSession(Id("session-test-", i), 1000 + i);
  for (int i = 0; i < 3000; ++i) b.AddUser(Id("user-test-", i), 500 + i, 2000);
  const auto set = b.Build();
  EXPECT_EQ(set->sessions(), 20000u);
  EXPECT_EQ(set->users(), 3000u);
  EXPECT_EQ(set->earliest_relevant_until(), 1000);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(Revoked(*set, Id("session-test-", i))) << i;
    ASSERT_FALSE(Revoked(*set, Id("session-test-x", i))) << i;
  }
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(NotBefore(*set, Id("user-test-", i)), 500 + i);
  }
  EXPECT_FALSE(NotBefore(*set, "user-test-3000").has_value());
  EXPECT_FALSE(Revoked(*set, "user-test-1"));  // The kinds are separate.
}

TEST_F(RevocationSetTest, DuplicatesMergeToTheLatest) {
  RevocationSetBuilder b(hasher_, nullptr);
  b.AddUser("u", 100, 400);
  b.AddUser("u", 90, 500);
  b.AddSession("s", 300);
  b.AddSession("s", 200);
  auto set = b.Build();
  EXPECT_EQ(set->users(), 1u);
  EXPECT_EQ(set->sessions(), 1u);
  EXPECT_EQ(NotBefore(*set, "u"), 100);
  // Merged across sets too: the entry keeps the latest of each time.
  RevocationSetBuilder next(hasher_, set);
  next.AddUser("u", 150, 450);
  set = next.Build();
  EXPECT_EQ(set->users(), 1u);
  EXPECT_EQ(NotBefore(*set, "u"), 150);
  RevocationSetBuilder prune(hasher_, set);
  prune.Prune(499);
  EXPECT_EQ(prune.Build()->users(), 1u);  // relevant_until stayed 500.
}

TEST_F(RevocationSetTest, PruneDropsWhatIsNoLongerRelevant) {
  RevocationSetBuilder b(hasher_, nullptr);
  for (int i = 0; i < 1000; ++i) b.AddSession(Id("s", i), i);
  b.AddUser("u-early", 1, 10);
  b.AddUser("u-late", 1, 5000);
  auto set = b.Build();
  RevocationSetBuilder p(hasher_, set);
  p.Prune(499);  // Drops relevant_until <= 499.
  EXPECT_TRUE(p.changed());
  auto pruned = p.Build();
  EXPECT_EQ(pruned->sessions(), 500u);
  EXPECT_EQ(pruned->users(), 1u);
  EXPECT_EQ(pruned->earliest_relevant_until(), 500);
  EXPECT_FALSE(Revoked(*pruned, "s499"));
  EXPECT_TRUE(Revoked(*pruned, "s500"));
  EXPECT_TRUE(Revoked(*set, "s499"));  // The old set is untouched.
  RevocationSetBuilder none(hasher_, pruned);
  none.Prune(100);
  EXPECT_FALSE(none.changed());
  RevocationSetBuilder all(hasher_, pruned);
  all.Prune(10000);
  auto empty = all.Build();
  EXPECT_EQ(empty->sessions() + empty->users(), 0u);
  EXPECT_EQ(empty->earliest_relevant_until(), std::numeric_limits<std::int64_t>::max());
}

TEST_F(RevocationSetTest, ClearReplacesEverything) {
  RevocationSetBuilder b(hasher_, nullptr);
  b.AddSession("old", 100);
  auto set = b.Build();
  RevocationSetBuilder snapshot(hasher_, set);
  snapshot.Clear();
  snapshot.AddSession("new", 100);
  auto replaced = snapshot.Build();
  EXPECT_FALSE(Revoked(*replaced, "old"));
  EXPECT_TRUE(Revoked(*replaced, "new"));
  EXPECT_EQ(replaced->sessions(), 1u);
}

TEST_F(RevocationSetTest, HashIsKeyedAndNeverZero) {
  const IdHasher a(1), b(2);
  EXPECT_NE(a("session-test-1"), b("session-test-1"));
  EXPECT_NE(a("session-test-1"), a("session-test-2"));
  EXPECT_EQ(a("session-test-1"), IdHasher(1)("session-test-1"));
  for (int i = 0; i < 10000; ++i) ASSERT_NE(a(std::to_string(i)), 0u);
  EXPECT_NE(a(""), 0u);
}

}  // namespace
}  // namespace tessera::client
