#include "common/base64.h"

#include <gtest/gtest.h>

#include "status_matchers.h"

namespace tessera {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const std::string enc = Base64UrlEncode(bytes);
    EXPECT_EQ(enc.size(), Base64UrlEncodedSize(bytes.size()));
    EXPECT_EQ(enc.find('='), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_OK(dec);
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
}

TEST(Base64Url, KnownVectors) {
  // RFC 4648 §10, translated to the URL alphabet and without padding.
  EXPECT_EQ(Base64UrlEncode(std::string_view("f")), "Zg");
  EXPECT_EQ(Base64UrlEncode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(Base64UrlEncode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(Base64UrlEncode(std::string_view("foobar")), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode(std::string_view("\xfb\xff", 2)), "-_8");
}

TEST(Base64Url, RejectsEverythingButTheCanonicalForm) {
  EXPECT_ERROR(Base64UrlDecode("Zg=="), ErrorCode::kMalformedBase64);    // padding
  EXPECT_ERROR(Base64UrlDecode("Zm9v\n"), ErrorCode::kMalformedBase64);  // whitespace
  EXPECT_ERROR(Base64UrlDecode("Zm9+"), ErrorCode::kMalformedBase64);    // standard alphabet
  EXPECT_ERROR(Base64UrlDecode("Zm9/"), ErrorCode::kMalformedBase64);
  EXPECT_ERROR(Base64UrlDecode("Z"), ErrorCode::kMalformedBase64);    // length 1 mod 4
  EXPECT_ERROR(Base64UrlDecode("Zh"), ErrorCode::kMalformedBase64);   // non-zero unused bits
  EXPECT_ERROR(Base64UrlDecode("Zm9"), ErrorCode::kMalformedBase64);  // "fo" is Zm8
  EXPECT_ERROR(Base64UrlDecode(std::string_view("Zm\0v", 4)), ErrorCode::kMalformedBase64);
  EXPECT_OK(Base64UrlDecode(""));
}

TEST(Base64, StandardWithPadding) {
  EXPECT_EQ(Base64Encode(AsBytes("fo")), "Zm8=");
  EXPECT_EQ(Base64Encode(AsBytes("\xfb\xff")), "+/8=");
  auto d = Base64Decode("+/8=");
  ASSERT_OK(d);
  EXPECT_EQ(*d, "\xfb\xff");
  EXPECT_ERROR(Base64Decode("Zm8"), ErrorCode::kMalformedBase64);
  EXPECT_ERROR(Base64Decode("Zm-="), ErrorCode::kMalformedBase64);
  EXPECT_ERROR(Base64Decode("Z==="), ErrorCode::kMalformedBase64);
}

TEST(Base64Url, PaddedVariantForThumbprints) {
  std::uint8_t digest[32] = {};
  const std::string s = Base64UrlEncodePadded(digest);
  EXPECT_EQ(s.size(), 44u);
  EXPECT_EQ(s.back(), '=');
}

}  // namespace
}  // namespace tessera
