// The SSE parser (client/sse_parser.h): frames out of bytes split anywhere, every line ending the
// format allows, the fields the feed uses, and the size bound.
#include "client/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tessera::client {
namespace {

struct Collected {
  std::vector<SseFrame> frames;
  bool ok = true;
};

// Feeds `text` in pieces of `piece` bytes (0: all at once).
Collected Parse(const std::string& text, std::size_t piece = 0, SseLimits limits = {}) {
  SseParser parser(limits);
  Collected out;
  const auto on_frame = [&](SseFrame& f) {
    out.frames.push_back(f);
    return true;
  };
  if (piece == 0) piece = text.size() + 1;
  for (std::size_t at = 0; at < text.size() && out.ok; at += piece) {
    out.ok = parser.Feed(std::string_view(text).substr(at, piece), on_frame);
  }
  return out;
}

const std::string kStream =
    "event: snapshot\nid: 41\ndata: {\"sequence\":41,\"lag_ms\":3,\"entries\":[]}\n\n"
    ": a comment, as proxies' keep-alives are\n\n"
    "event: revoke\r\nid: 42\r\ndata: {\"sequence\":42}\r\n\r\n"
    "event: heartbeat\rdata: {\"sequence\":42,\r"
    "data: \"lag_ms\":2}\r\r";

void ExpectTheStream(const Collected& c) {
  ASSERT_TRUE(c.ok);
  ASSERT_EQ(c.frames.size(), 3u);
  EXPECT_EQ(c.frames[0].event, "snapshot");
  EXPECT_EQ(c.frames[0].id, "41");
  EXPECT_EQ(c.frames[0].data, "{\"sequence\":41,\"lag_ms\":3,\"entries\":[]}");
  EXPECT_EQ(c.frames[1].event, "revoke");
  EXPECT_EQ(c.frames[1].id, "42");
  EXPECT_EQ(c.frames[1].data, "{\"sequence\":42}");
  EXPECT_EQ(c.frames[2].event, "heartbeat");
  EXPECT_FALSE(c.frames[2].id.has_value());
  EXPECT_EQ(c.frames[2].data, "{\"sequence\":42,\n\"lag_ms\":2}");  // Two data lines joined.
}

TEST(SseParserTest, LfCrLfAndCrLineEndsCommentsAndMultiLineData) {
  ExpectTheStream(Parse(kStream));
}

TEST(SseParserTest, SameFramesWhateverTheChunkSize) {
  // Every split point, including between the CR and LF of a pair.
  for (std::size_t piece = 1; piece <= 17; ++piece) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    ExpectTheStream(Parse(kStream, piece));
  }
}

TEST(SseParserTest, ByteOrderMarkAtTheStartIsDropped) {
  const Collected c = Parse(
      "\xEF\xBB\xBF"
      "event: heartbeat\ndata: x\n\n",
      1);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].event, "heartbeat");
}

TEST(SseParserTest, FieldsWithoutSpaceOrValueAndUnknownFields) {
  const Collected c = Parse("event:revoke\nretry: 10\nfoo: bar\ndata\nid\n\n");
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].event, "revoke");
  EXPECT_EQ(c.frames[0].data, "");  // "data" alone: one empty line of data.
  EXPECT_EQ(c.frames[0].id, "");
}

TEST(SseParserTest, FrameWithoutDataIsNotDispatched) {
  const Collected c = Parse("event: heartbeat\nid: 3\n\nevent: revoke\ndata: 1\n\n");
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0].event, "revoke");
  EXPECT_FALSE(c.frames[0].id.has_value());  // The earlier frame's id is not carried over.
}

TEST(SseParserTest, IncompleteFrameIsHeldNotDispatched) {
  const Collected c = Parse("event: revoke\ndata: {\"sequence\":1}\n");
  EXPECT_TRUE(c.ok);
  EXPECT_TRUE(c.frames.empty());
}

TEST(SseParserTest, FrameLargerThanTheLimitFailsBeforeItIsHeld) {
  SseLimits limits;
  limits.max_frame_bytes = 64;
  SseParser parser(limits);
  int frames = 0;
  const auto on_frame = [&](SseFrame&) { return ++frames, true; };
  EXPECT_TRUE(parser.Feed("data: " + std::string(50, 'x') + "\n\n", on_frame));
  EXPECT_EQ(frames, 1);
  // One long line, never ended: refused once it passes the limit, holding no more than it.
  EXPECT_TRUE(parser.Feed("data: " + std::string(50, 'x'), on_frame));
  EXPECT_LE(parser.buffered(), 64u);
  EXPECT_FALSE(parser.Feed(std::string(20, 'x'), on_frame));
  EXPECT_NE(parser.error().find("larger than 64"), std::string::npos);
  EXPECT_FALSE(parser.Feed("\n\n", on_frame));  // Spent.
  EXPECT_EQ(frames, 1);
}

TEST(SseParserTest, ManyLinesAddUpToTheLimit) {
  SseLimits limits;
  limits.max_frame_bytes = 100;
  std::string text;
  for (int i = 0; i < 20; ++i) text += "data: xxxx\n";  // 11 bytes each, no blank line.
  EXPECT_FALSE(Parse(text, 0, limits).ok);
}

TEST(SseParserTest, TheLargeEventGetsTheLargeLimit) {
  SseLimits limits;
  limits.max_frame_bytes = 64;
  limits.large_event = "snapshot";
  limits.max_large_frame_bytes = 1024;
  const std::string big(500, 'x');
  const Collected snapshot = Parse("event: snapshot\ndata: " + big + "\n\n", 7, limits);
  ASSERT_TRUE(snapshot.ok);
  ASSERT_EQ(snapshot.frames.size(), 1u);
  EXPECT_EQ(snapshot.frames[0].data, big);
  EXPECT_FALSE(Parse("event: revoke\ndata: " + big + "\n\n", 7, limits).ok);
  // The event line must come first for the larger limit to apply.
  EXPECT_FALSE(Parse("data: " + big + "\nevent: snapshot\n\n", 7, limits).ok);
  EXPECT_FALSE(Parse("event: snapshot\ndata: " + std::string(1100, 'x') + "\n\n", 7, limits).ok);
}

TEST(SseParserTest, RefusedFrameStopsTheParser) {
  SseParser parser({});
  const auto refuse = [](SseFrame&) { return false; };
  EXPECT_FALSE(parser.Feed("data: 1\n\ndata: 2\n\n", refuse));
  EXPECT_FALSE(parser.error().empty());
}

}  // namespace
}  // namespace tessera::client
