#include "tessera/result.h"

#include <gtest/gtest.h>

#include <memory>

#include "status_matchers.h"

namespace tessera {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error(ErrorCode::kInvalidArgument, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  TESSERA_ASSIGN_OR_RETURN(int h, Half(x));
  TESSERA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  TESSERA_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(Result, CarriesValueOrError) {
  auto r = Quarter(12);
  ASSERT_OK(r);
  EXPECT_EQ(*r, 3);
  EXPECT_ERROR(Quarter(6), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_OK(CheckEven(4));
  EXPECT_ERROR(CheckEven(5), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Quarter(5).value_or(-1), -1);
}

TEST(Result, HoldsMoveOnlyTypes) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_OK(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(Status, EveryCodeHasANameAndCategory) {
  for (int c = 0; c <= static_cast<int>(kLastErrorCode); ++c) {
    const auto code = static_cast<ErrorCode>(c);
    EXPECT_NE(ErrorCodeName(code), "unknown") << c;
    EXPECT_EQ(CategoryOf(code) == ErrorCategory::kOk, code == ErrorCode::kOk) << c;
  }
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH({ (void)*Half(1); }, "");
}

}  // namespace
}  // namespace tessera
