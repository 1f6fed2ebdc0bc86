#include "service/sdk_origins.h"

#include <gtest/gtest.h>

#include "status_matchers.h"

namespace tessera {
namespace {

// What `tessera sdk-origins add` stores must be byte for byte what a browser sends in Origin.
TEST(SdkOrigins, NormalizesToTheBrowsersForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://127.0.0.1:5173", "http://127.0.0.1:5173"},
      {"HTTP://127.0.0.1:5173/", "http://127.0.0.1:5173"},
      {"https://App.Example.COM", "https://app.example.com"},
      {"https://app.example.com:443", "https://app.example.com"},
      {"http://app.example.com:80", "http://app.example.com"},
      {"http://app.example.com:443", "http://app.example.com:443"},
      {"https://app.example.com:8443", "https://app.example.com:8443"},
      {"http://[::1]:3000", "http://[::1]:3000"},
      {"https://xn--bcher-kva.example", "https://xn--bcher-kva.example"},
  };
  for (const auto& [in, want] : cases) {
    auto got = NormalizeSdkOrigin(in);
    ASSERT_OK(got) << in;
    EXPECT_EQ(*got, want) << in;
  }
}

TEST(SdkOrigins, RefusesWhatIsNotAnOrigin) {
  for (const char* bad :
       {"", "null", "127.0.0.1:5173", "ftp://example.com", "file:///tmp/x.html",
        "https://app.example.com/path", "https://app.example.com/?q", "https://app.example.com#f",
        "https://user@app.example.com", "https://*.example.com", "https://app.example.com:0",
        "https://app.example.com:65536", "https://app.example.com:", "https://app.example.com:08",
        "https://", "https://:443", "http://[::1", "https://app example.com",
        "https://app.example.com//"}) {
    EXPECT_ERROR(NormalizeSdkOrigin(bad), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_ERROR(NormalizeSdkOrigin("https://" + std::string(300, 'a') + ".com"),
               ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera
