// Decoding the feed's frames (client/revocation_frames.h): what docs/revocation.md specifies is
// read, unknown members are ignored, and anything the SDK would have to guess at is refused.
#include "client/revocation_frames.h"

#include <gtest/gtest.h>

namespace tessera::client {
namespace {

TEST(RevocationFramesTest, SessionAndUserEntriesAsDocumented) {
  auto s = DecodeRevokeFrame(
      R"({"sequence":42,"kind":"session","session_id":"session-test-1","user_id":"user-test-1",)"
      R"("revoked_at":1772375115,"relevant_until":1772375415,"added_later":{"x":[1]}})");
  ASSERT_TRUE(s.ok()) << s.error().error_message;
  EXPECT_EQ(s->sequence, 42u);
  EXPECT_EQ(s->kind, RevocationEntry::Kind::kSession);
  EXPECT_EQ(s->session_id, "session-test-1");
  EXPECT_EQ(s->user_id, "user-test-1");
  EXPECT_EQ(s->relevant_until, 1772375415);

  auto u = DecodeRevokeFrame(
      R"({"sequence":43,"kind":"user","user_id":"user-test-2","not_before":1772375120,)"
      R"("revoked_at":1772375120,"relevant_until":1772375420})");
  ASSERT_TRUE(u.ok()) << u.error().error_message;
  EXPECT_EQ(u->kind, RevocationEntry::Kind::kUser);
  EXPECT_EQ(u->user_id, "user-test-2");
  EXPECT_EQ(u->not_before, 1772375120);
}

TEST(RevocationFramesTest, SnapshotAndHeartbeat) {
  auto snap = DecodeSnapshotFrame(
      R"({"sequence":41,"lag_ms":3,"entries":[)"
      R"({"sequence":40,"kind":"session","session_id":"s","relevant_until":5},)"
      R"({"sequence":41,"kind":"user","user_id":"u","not_before":1,"relevant_until":6}]})");
  ASSERT_TRUE(snap.ok()) << snap.error().error_message;
  EXPECT_EQ(snap->sequence, 41u);
  EXPECT_EQ(snap->lag_ms, 3);
  ASSERT_EQ(snap->entries.size(), 2u);
  EXPECT_EQ(snap->entries[1].user_id, "u");

  auto empty = DecodeSnapshotFrame(R"({"sequence":0,"lag_ms":0,"entries":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());

  auto beat = DecodeHeartbeatFrame(R"({"sequence":42,"lag_ms":2})");
  ASSERT_TRUE(beat.ok());
  EXPECT_EQ(beat->sequence, 42u);
  EXPECT_EQ(beat->lag_ms, 2);
}

TEST(RevocationFramesTest, RefusesWhatItWouldHaveToGuess) {
  const char* const kBadEntries[] = {
      "",
      "[]",
      "{",
      R"({"kind":"session","session_id":"s","relevant_until":5})",                 // No sequence.
      R"({"sequence":-1,"kind":"session","session_id":"s","relevant_until":5})",   // Negative.
      R"({"sequence":1.5,"kind":"session","session_id":"s","relevant_until":5})",  // Not integral.
      R"({"sequence":"1","kind":"session","session_id":"s","relevant_until":5})",
      R"({"sequence":1,"kind":"session","session_id":"","relevant_until":5})",
      R"({"sequence":1,"kind":"session","session_id":7,"relevant_until":5})",
      R"({"sequence":1,"kind":"session","session_id":"s"})",  // No relevant_until.
      R"({"sequence":1,"kind":"session","session_id":"s","relevant_until":"5"})",
      R"({"sequence":1,"kind":"user","user_id":"u","relevant_until":5})",  // No not_before.
      R"({"sequence":1,"kind":"user","not_before":1,"relevant_until":5})",
      R"({"sequence":1,"kind":"project","project_id":"p","relevant_until":5})",  // Unknown kind.
      R"({"sequence":1,"session_id":"s","relevant_until":5})",
  };
  for (const char* text : kBadEntries) {
    auto e = DecodeRevokeFrame(text);
    EXPECT_FALSE(e.ok()) << text;
    if (!e.ok()) {
      EXPECT_EQ(e.error().kind, ErrorKind::kProtocol) << text;
    }
  }
  const char* const kBadSnapshots[] = {
      R"({"lag_ms":0,"entries":[]})",
      R"({"sequence":1,"entries":[]})",
      R"({"sequence":1,"lag_ms":-1,"entries":[]})",
      R"({"sequence":1,"lag_ms":0})",
      R"({"sequence":1,"lag_ms":0,"entries":{}})",
      R"({"sequence":1,"lag_ms":0,"entries":[{"sequence":1,"kind":"nope","relevant_until":1}]})",
      // An entry after the sequence the snapshot claims to be complete up to.
      R"({"sequence":1,"lag_ms":0,"entries":[{"sequence":2,"kind":"session","session_id":"s",)"
      R"("relevant_until":1}]})",
  };
  for (const char* text : kBadSnapshots) EXPECT_FALSE(DecodeSnapshotFrame(text).ok()) << text;
  for (const char* text : {R"({"lag_ms":0})", R"({"sequence":1})", R"({"sequence":1,"lag_ms":-2})",
                           R"([1,2])", R"({"sequence":1,"lag_ms":0.5})"}) {
    EXPECT_FALSE(DecodeHeartbeatFrame(text).ok()) << text;
  }
}

TEST(RevocationFramesTest, HugeLagIsKeptNotWrapped) {
  auto beat = DecodeHeartbeatFrame(R"({"sequence":1,"lag_ms":18446744073709551615})");
  ASSERT_TRUE(beat.ok());
  EXPECT_GT(beat->lag_ms, 0);
}

TEST(RevocationFramesTest, EventIds) {
  EXPECT_EQ(ParseEventId("0"), 0u);
  EXPECT_EQ(ParseEventId("42"), 42u);
  EXPECT_EQ(ParseEventId("1234567890123456789"), 1234567890123456789u);
  for (const char* bad : {"", "-1", "1a", " 1", "12345678901234567890", "0x10"}) {
    EXPECT_FALSE(ParseEventId(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tessera::client
