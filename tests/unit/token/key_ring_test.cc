#include "tessera/token/key_ring.h"

#include <gtest/gtest.h>

#include <map>

#include "fake_clock.h"
#include "fake_random.h"
#include "status_matchers.h"
#include "test_keys.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::FakeRandom;
using testing::kTestProject;

class KeyRingTest : public ::testing::Test {
 protected:
  KeyRingTest() : master_(*MasterKey::FromBytes(std::array<std::uint8_t, 32>{7})) {}

  KeyRecord NewKey(JwtAlgorithm alg = JwtAlgorithm::kES256) {
    auto r = NewKeyRecord(kTestProject, alg, false, master_, random_, clock_.Now());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  // A ring as a new project gets it: one active key, one next key.
  KeyRing Bootstrap() {
    KeyRing ring;
    KeyRecord first = NewKey();
    const std::string kid = first.kid;
    EXPECT_OK(ring.AddNext(std::move(first)));
    EXPECT_OK(ring.Activate(kid, clock_.Now()));
    EXPECT_OK(ring.AddNext(NewKey()));
    return ring;
  }

  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_;
};

TEST_F(KeyRingTest, NewKeyRecordSealsThePrivateKeyAndPublishesACertificate) {
  KeyRecord r = NewKey(JwtAlgorithm::kRS256);
  EXPECT_TRUE(r.kid.starts_with("jwk-test-"));
  EXPECT_EQ(r.kid.size(), std::string("jwk-test-").size() + 36);
  EXPECT_EQ(r.state, KeyState::kNext);
  auto key = OpenSigningKey(r, master_);
  ASSERT_OK(key);
  auto pub = PublicKeyOf(r);
  ASSERT_OK(pub);
  auto sig = key->Sign("x");
  ASSERT_OK(sig);
  EXPECT_TRUE((*pub)->Verify("x", AsBytes(*sig)));
  EXPECT_TRUE((*pub)->jwk().contains("x5c"));
  // Another master key cannot open it.
  auto other = MasterKey::FromBytes(std::array<std::uint8_t, 32>{8});
  EXPECT_ERROR(OpenSigningKey(r, *other), ErrorCode::kDecryptionFailed);
  // The kid is bound to the sealed key: a record whose kid was swapped does not open.
  KeyRecord swapped = r;
  swapped.kid = "jwk-test-00000000-0000-4000-8000-000000000000";
  EXPECT_ERROR(OpenSigningKey(swapped, master_), ErrorCode::kDecryptionFailed);
  auto live =
      NewKeyRecord(kTestProject, JwtAlgorithm::kEdDSA, true, master_, random_, clock_.Now());
  ASSERT_OK(live);
  EXPECT_TRUE(live->kid.starts_with("jwk-live-"));
}

TEST_F(KeyRingTest, TransitionsFollowTheStateMachine) {
  KeyRing ring = Bootstrap();
  const KeyRecord* active = ring.Active();
  ASSERT_NE(active, nullptr);
  const std::string first = active->kid;
  EXPECT_ERROR(ring.Retire(first, clock_.Now()), ErrorCode::kKeyStateInvalid);
  EXPECT_ERROR(ring.Activate(first, clock_.Now()), ErrorCode::kKeyStateInvalid);
  EXPECT_ERROR(ring.Activate("jwk-test-missing", clock_.Now()), ErrorCode::kKeyNotFound);
  EXPECT_ERROR(ring.Retire("jwk-test-missing", clock_.Now()), ErrorCode::kKeyNotFound);
  KeyRecord dup = ring.records()[0];
  dup.state = KeyState::kNext;
  EXPECT_ERROR(ring.AddNext(dup), ErrorCode::kInvalidArgument);
  KeyRecord active_state = NewKey();
  active_state.state = KeyState::kActive;
  EXPECT_ERROR(ring.AddNext(active_state), ErrorCode::kKeyStateInvalid);

  // Withdrawing the next key unpublishes it at once (it never signed).
  std::string next;
  for (const auto& r : ring.records()) {
    if (r.state == KeyState::kNext) next = r.kid;
  }
  EXPECT_EQ(ring.Published(clock_.Now()).size(), 2u);
  ASSERT_OK(ring.Retire(next, clock_.Now()));
  EXPECT_EQ(ring.Published(clock_.Now()).size(), 1u);
  EXPECT_ERROR(ring.Retire(next, clock_.Now()), ErrorCode::kKeyStateInvalid);
  EXPECT_ERROR(ring.Activate(next, clock_.Now()), ErrorCode::kKeyStateInvalid);
  // With no next key, rotation refuses rather than sign with an unpublished key.
  EXPECT_ERROR(ring.Rotate(NewKey(), clock_.Now()), ErrorCode::kKeyStateInvalid);
  EXPECT_EQ(ring.Active()->kid, first);
}

TEST(KeyStateTest, OnlyTheDrawnMovesAreAllowed) {
  using S = KeyState;
  EXPECT_TRUE(KeyStateMayBecome(S::kNext, S::kNext));
  EXPECT_TRUE(KeyStateMayBecome(S::kNext, S::kActive));
  EXPECT_TRUE(KeyStateMayBecome(S::kNext, S::kRetired));
  EXPECT_TRUE(KeyStateMayBecome(S::kActive, S::kActive));
  EXPECT_TRUE(KeyStateMayBecome(S::kActive, S::kRetired));
  EXPECT_TRUE(KeyStateMayBecome(S::kRetired, S::kRetired));
  // Never back: a key that stopped signing, or never may, does not start again.
  EXPECT_FALSE(KeyStateMayBecome(S::kActive, S::kNext));
  EXPECT_FALSE(KeyStateMayBecome(S::kRetired, S::kNext));
  EXPECT_FALSE(KeyStateMayBecome(S::kRetired, S::kActive));
}

TEST_F(KeyRingTest, RetiredKeyStaysPublishedOneJwtLifetimePlusMargin) {
  KeyRing ring = Bootstrap();
  const std::string first = ring.Active()->kid;
  ASSERT_OK(ring.Rotate(NewKey(), clock_.Now()));
  EXPECT_NE(ring.Active()->kid, first);
  const KeyRecord* old = ring.Find(first);
  ASSERT_EQ(old->state, KeyState::kRetired);
  const Seconds window = ring.policy().jwt_lifetime + ring.policy().publish_margin;
  EXPECT_TRUE(ring.IsPublished(*old, clock_.Now() + window - Seconds(1)));
  EXPECT_FALSE(ring.IsPublished(*old, clock_.Now() + window));
}

// The rotation guarantee, end to end with a fake clock: JWTs are minted every 7 seconds while the
// ring rotates every 100 seconds. Every JWT must verify at every second of its life against the
// JWKS published at that second, and also against any JWKS a verifier fetched after the previous
// rotation (a cached copy), which holds the next key before it signs.
TEST_F(KeyRingTest, NoValidJwtFailsToVerifyDuringRotations) {
  KeyRing ring = Bootstrap();
  const TimePoint start = clock_.Now();
  struct Minted {
    std::string jwt;
    TimePoint iat;
  };
  std::vector<Minted> minted;
  std::map<std::int64_t, std::shared_ptr<const KeySet>> published_at;  // Second -> JWKS then.
  std::shared_ptr<const KeySet> cached_since_last_rotation;
  int failures = 0, checks = 0;

  for (int second = 0; second <= 1000; ++second) {
    clock_.Set(start + Seconds(second));
    const TimePoint now = clock_.Now();
    if (second > 0 && second % 100 == 0) {
      ASSERT_OK(ring.Rotate(NewKey(), now));
    }
    auto jwks = ring.PublishedKeySet(now);
    ASSERT_OK(jwks);
    published_at[second] = *jwks;
    if (second % 100 == 0) cached_since_last_rotation = *jwks;

    if (second % 7 == 0) {
      auto key = OpenSigningKey(*ring.Active(), master_);
      ASSERT_OK(key);
      SessionClaims c;
      c.project_id = std::string(kTestProject);
      c.user_id = "user-test-1";
      c.session_id = "session-test-1";
      c.started_at = c.last_accessed_at = now;
      c.expires_at = now + Seconds(3600);
      auto jwt = MintSessionJwt(*key, c, now);
      ASSERT_OK(jwt);
      minted.push_back({*jwt, now});
    }
    // Every second around a rotation, every fifth second elsewhere (keeps the test fast).
    const int phase = second % 100;
    if (phase > 3 && phase < 97 && second % 5 != 0) continue;
    for (const Minted& m : minted) {
      if (now >= m.iat + kSessionJwtLifetime) continue;  // Expired: not our concern.
      ++checks;
      if (!VerifyJwt(m.jwt, **jwks, SessionJwtOptions(kTestProject), now).ok()) ++failures;
      if (m.iat >= start + Seconds((second / 100) * 100) &&
          !VerifyJwt(m.jwt, *cached_since_last_rotation, SessionJwtOptions(kTestProject), now)
               .ok()) {
        ++failures;
      }
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(checks, 2000);
  // Old keys do leave: at the end the active and next keys are published, plus the keys retired
  // within the last 360 s (300 s JWT lifetime + 60 s margin), i.e. at 700, 800, 900 and 1000.
  EXPECT_EQ(ring.Published(clock_.Now()).size(), 6u);
  clock_.Advance(Seconds(360));
  EXPECT_EQ(ring.Published(clock_.Now()).size(), 2u);
  EXPECT_EQ(ring.records().size(), 12u);
}

}  // namespace
}  // namespace tessera
