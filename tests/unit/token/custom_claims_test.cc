#include "tessera/token/custom_claims.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "status_matchers.h"

namespace tessera {
namespace {

boost::json::object Obj(std::string_view json) { return boost::json::parse(json).as_object(); }

TEST(CustomClaims, DeepMergeExampleFromTheSpec) {
  auto merged = MergeCustomClaims(Obj(R"({"e":{"nested1":"val1","nested2":"val2"}})"),
                                  boost::json::parse(R"({"e":{"nested1":null,"nested3":"val3"}})"));
  ASSERT_OK(merged);
  EXPECT_EQ(*merged, Obj(R"({"e":{"nested2":"val2","nested3":"val3"}})"));
}

TEST(CustomClaims, AddReplaceDelete) {
  auto merged = MergeCustomClaims(Obj(R"({"a":1,"b":{"x":1},"c":"keep"})"),
                                  boost::json::parse(R"({"a":null,"b":[1],"d":{"n":null,"m":2}})"));
  ASSERT_OK(merged);
  // a deleted; b (object) replaced by an array; c kept; d added without its null member.
  EXPECT_EQ(*merged, Obj(R"({"b":[1],"c":"keep","d":{"m":2}})"));
  auto unchanged = MergeCustomClaims(Obj(R"({"a":1})"), boost::json::parse("{}"));
  ASSERT_OK(unchanged);
  EXPECT_EQ(*unchanged, Obj(R"({"a":1})"));
  auto deleting_missing = MergeCustomClaims(Obj("{}"), boost::json::parse(R"({"gone":null})"));
  ASSERT_OK(deleting_missing);
  EXPECT_TRUE(deleting_missing->empty());
}

TEST(CustomClaims, ReservedAndStytchNamesAreRefused) {
  for (const char* name : {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}) {
    EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse("{\"" + std::string(name) + "\":1}")),
                 ErrorCode::kCustomClaimsReserved)
        << name;
    // Even as a deletion.
    EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse("{\"" + std::string(name) + "\":null}")),
                 ErrorCode::kCustomClaimsReserved);
  }
  EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse(R"({"https://stytch.com/session":{}})")),
               ErrorCode::kCustomClaimsStytchNamespace);
  EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse(R"({"https://stytch.com/anything":1})")),
               ErrorCode::kCustomClaimsStytchNamespace);
  // Similar but not reserved names are fine; nested reserved names are not top-level claims.
  EXPECT_OK(MergeCustomClaims(
      {}, boost::json::parse(R"({"issuer":1,"https://stytch.co/x":1,"o":{"iss":1}})")));
  EXPECT_ERROR(ValidateCustomClaims(Obj(R"({"exp":1})")), ErrorCode::kCustomClaimsReserved);
}

TEST(CustomClaims, SizeLimitIsOnTheSerializedResult) {
  // {"k":"<v>"} is 8 bytes plus the value.
  const std::string at_limit = std::string(kMaxCustomClaimsBytes - 8, 'x');
  EXPECT_OK(MergeCustomClaims({}, boost::json::value{{"k", at_limit}}));
  EXPECT_ERROR(MergeCustomClaims({}, boost::json::value{{"k", at_limit + "x"}}),
               ErrorCode::kCustomClaimsTooLarge);
  // Two updates that are each small but together too large.
  auto first = MergeCustomClaims({}, boost::json::value{{"a", std::string(3000, 'a')}});
  ASSERT_OK(first);
  EXPECT_ERROR(MergeCustomClaims(*first, boost::json::value{{"b", std::string(3000, 'b')}}),
               ErrorCode::kCustomClaimsTooLarge);
}

TEST(CustomClaims, DepthLimit) {
  std::string ok = "1", deep = "1";
  for (std::size_t i = 0; i + 1 < kMaxCustomClaimsDepth; ++i) ok = "{\"n\":" + ok + "}";
  for (std::size_t i = 0; i < kMaxCustomClaimsDepth; ++i) deep = "[" + deep + "]";
  EXPECT_OK(MergeCustomClaims({}, boost::json::parse("{\"v\":" + ok + "}")));
  EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse("{\"v\":" + deep + "}")),
               ErrorCode::kCustomClaimsTooLarge);
}

TEST(CustomClaims, UpdateMustBeAnObject) {
  for (const char* bad : {"[]", "\"x\"", "1", "null", "true"}) {
    EXPECT_ERROR(MergeCustomClaims({}, boost::json::parse(bad)), ErrorCode::kCustomClaimsNotObject)
        << bad;
  }
}

}  // namespace
}  // namespace tessera
