// GoogleTest helpers that name the expected error, never just "not ok".
#ifndef TESSERA_TESTS_LIB_STATUS_MATCHERS_H_
#define TESSERA_TESTS_LIB_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>

#include "tessera/result.h"

namespace tessera {
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
}  // namespace tessera

namespace tessera::testing {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  *result_listener << arg.ToString();
  return arg.ok();
}

MATCHER_P(StatusIs, code, "has error code " + std::string(::tessera::ErrorCodeName(code))) {
  *result_listener << "which is " << arg.ToString();
  return arg.code() == code;
}

}  // namespace tessera::testing

// Each accepts a Status or a Result and allows `<< "context"`.
#define ASSERT_OK(expr) \
  ASSERT_THAT(::tessera::testing::ToStatus((expr)), ::tessera::testing::IsOk())
#define EXPECT_OK(expr) \
  EXPECT_THAT(::tessera::testing::ToStatus((expr)), ::tessera::testing::IsOk())
#define EXPECT_ERROR(expr, expected_code) \
  EXPECT_THAT(::tessera::testing::ToStatus((expr)), ::tessera::testing::StatusIs((expected_code)))

#endif  // TESSERA_TESTS_LIB_STATUS_MATCHERS_H_
