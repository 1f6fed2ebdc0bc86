#include "common/time_format.h"

#include <gtest/gtest.h>

#include "status_matchers.h"

namespace tessera {
namespace {

TEST(Rfc3339, FormatsUtcSeconds) {
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(1772375115)), "2026-03-01T14:25:15Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(951782400)), "2000-02-29T00:00:00Z");
  // Sub-second parts are truncated, never rounded up.
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(59) + std::chrono::milliseconds(999)),
            "1970-01-01T00:00:59Z");
}

TEST(Rfc3339, ParsesWhatTheSdksSend) {
  auto t = ParseRfc3339("2026-03-01T14:25:15Z");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixSeconds(*t), 1772375115);
  t = ParseRfc3339("2021-08-28T00:41:58.935673Z");
  ASSERT_OK(t);
  EXPECT_EQ(FormatRfc3339(*t), "2021-08-28T00:41:58Z");
  t = ParseRfc3339("2026-03-01T16:25:15+02:00");
  ASSERT_OK(t);
  EXPECT_EQ(ToUnixSeconds(*t), 1772375115);
}

TEST(Rfc3339, RejectsMalformed) {
  for (const char* bad : {"", "2026-03-01", "2026-03-01 14:25:15Z", "2026-02-30T00:00:00Z",
                          "2026-03-01T24:00:00Z", "2026-03-01T14:25:15", "2026-03-01T14:25:15.Z",
                          "2026-03-01T14:25:15Zjunk", "2026-03-01T14:25:15+0200"}) {
    EXPECT_ERROR(ParseRfc3339(bad), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Regression (integration review): years TimePoint cannot hold are refused, not wrapped.
TEST(Rfc3339, RefusesYearsBeyondTheClock) {
  EXPECT_ERROR(ParseRfc3339("9999-12-31T23:59:59Z"), ErrorCode::kInvalidArgument);
  EXPECT_ERROR(ParseRfc3339("1066-10-14T09:00:00Z"), ErrorCode::kInvalidArgument);
  EXPECT_OK(ParseRfc3339("2199-12-31T23:59:59Z"));
  // Conversions from untrusted seconds saturate instead of overflowing.
  EXPECT_GT(FromUnixSeconds(999999999999), FromUnixSeconds(4000000000));
  EXPECT_LT(FromUnixSeconds(-999999999999), FromUnixSeconds(0));
}

}  // namespace
}  // namespace tessera
