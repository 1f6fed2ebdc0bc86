// The router over a small table and over the API's own table: 404, 405 with Allow, parameter
// decoding, precedence of literal segments, HEAD as GET, and labels.
#include "server/router.h"

#include <gtest/gtest.h>

#include <set>

#include "server/routes.h"

namespace tessera::server {
namespace {

Result<ApiResponse> Nop(Call&) { return ApiResponse{}; }

using enum Method;
constexpr RouteDef kTable[] = {
    {kGet, "/healthz", Access::kAnyone, Blocking::kNo, Nop},
    {kPost, "/v1/things", Access::kProjectSecret, Blocking::kYes, Nop},
    {kPost, "/v1/things/search", Access::kProjectSecret, Blocking::kYes, Nop},
    {kGet, "/v1/things/{thing_id}", Access::kProjectSecret, Blocking::kYes, Nop},
    {kPut, "/v1/things/{thing_id}", Access::kProjectSecret, Blocking::kYes, Nop},
    {kDelete, "/v1/things/{thing_id}", Access::kProjectSecret, Blocking::kYes, Nop},
    {kGet, "/v1/things/{thing_id}/parts/{part}", Access::kProjectSecret, Blocking::kNo, Nop},
};

TEST(RouterTest, LiteralPathsMatchTheirMethod) {
  const Router router(kTable);
  const RouteMatch m = router.Match(kPost, "/v1/things");
  ASSERT_TRUE(m.error.ok());
  EXPECT_EQ(m.route, &kTable[1]);
  EXPECT_EQ(m.id, 1u);
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(router.Label(m.id), "POST /v1/things");
}

TEST(RouterTest, ParametersAreDecodedAndNamed) {
  const Router router(kTable);
  RouteMatch m = router.Match(kPut, "/v1/things/a%20b%2Fc");
  ASSERT_TRUE(m.error.ok());
  EXPECT_EQ(m.route, &kTable[4]);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], "a b/c");
  ASSERT_EQ(router.ParamNames(m.id).size(), 1u);
  EXPECT_EQ(router.ParamNames(m.id)[0], "thing_id");

  m = router.Match(kGet, "/v1/things/t1/parts/p%2B2");
  ASSERT_TRUE(m.error.ok());
  EXPECT_EQ(m.route, &kTable[6]);
  EXPECT_EQ(m.params, (std::vector<std::string>{"t1", "p+2"}));
  EXPECT_EQ(router.ParamNames(m.id)[1], "part");
}

TEST(RouterTest, UnknownPathsAre404) {
  const Router router(kTable);
  for (const char* path : {"/", "", "/v1", "/v1/things/", "/v1/things/x/y", "/v1//things",
                           "/v1/things/x/parts/", "/healthz/", "/HEALTHZ", "v1/things"}) {
    const RouteMatch m = router.Match(kGet, path);
    EXPECT_EQ(m.error.code(), ErrorCode::kRouteNotFound) << path;
    EXPECT_EQ(m.route, nullptr) << path;
    EXPECT_EQ(m.id, router.unmatched()) << path;
    EXPECT_EQ(router.Label(m.id), "unmatched");
  }
}

TEST(RouterTest, MalformedEscapesInAParameterAre404) {
  const Router router(kTable);
  for (const char* path : {"/v1/things/%", "/v1/things/%4", "/v1/things/%zz", "/v1/things/a%g1"}) {
    const RouteMatch m = router.Match(kGet, path);
    EXPECT_EQ(m.error.code(), ErrorCode::kRouteNotFound) << path;
    EXPECT_EQ(m.error.message(), "The path is not valid.") << path;
    EXPECT_TRUE(m.params.empty());
  }
}

TEST(RouterTest, KnownPathWithAnotherMethodIs405WithAllow) {
  const Router router(kTable);
  RouteMatch m = router.Match(kPatch, "/v1/things/t1");
  EXPECT_EQ(m.error.code(), ErrorCode::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, PUT, DELETE");
  EXPECT_EQ(m.error.message(),
            "This route does not accept this method; allowed: GET, PUT, DELETE.");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.id, router.unmatched());

  m = router.Match(kDelete, "/healthz");
  EXPECT_EQ(m.error.code(), ErrorCode::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET");
}

TEST(RouterTest, LiteralSegmentsWinOverParameters) {
  const Router router(kTable);
  // "/v1/things/search" is its own route: GET there is a 405, not a lookup of thing "search".
  RouteMatch m = router.Match(kGet, "/v1/things/search");
  EXPECT_EQ(m.error.code(), ErrorCode::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
  m = router.Match(kPost, "/v1/things/search");
  EXPECT_EQ(m.route, &kTable[2]);
}

TEST(RouterTest, HeadIsServedAsGet) {
  const Router router(kTable);
  const RouteMatch m = router.Match(kHead, "/healthz");
  ASSERT_TRUE(m.error.ok());
  EXPECT_EQ(m.route, &kTable[0]);
  EXPECT_EQ(router.Match(kHead, "/v1/things").error.code(), ErrorCode::kMethodNotAllowed);
}

TEST(RouterTest, ApiTableIsWellFormedAndLabelsAreUnique) {
  const Router router(ApiRoutes());
  EXPECT_EQ(router.size(), ApiRoutes().size() + 1);
  std::set<std::string> labels(router.Labels().begin(), router.Labels().end());
  EXPECT_EQ(labels.size(), router.size());
  // Each row is reachable by its own method and path (parameters filled in).
  for (std::size_t i = 0; i < ApiRoutes().size(); ++i) {
    const RouteDef& r = ApiRoutes()[i];
    std::string path;
    bool in_param = false;
    for (const char c : r.path) {
      if (c == '{') path.push_back('x');
      if (c == '{' || c == '}') {
        in_param = c == '{';
      } else if (!in_param) {
        path.push_back(c);
      }
    }
    const RouteMatch m = router.Match(r.method, path);
    EXPECT_EQ(m.route, &r) << router.Label(static_cast<RouteId>(i));
  }
}

TEST(RouterDeathTest, MalformedTablesAbortAtStartUp) {
  static constexpr RouteDef kTwice[] = {{kGet, "/a", Access::kAnyone, Blocking::kNo, Nop},
                                        {kGet, "/a", Access::kAnyone, Blocking::kNo, Nop}};
  EXPECT_DEATH(Router{kTwice}, "a method appears twice");
  static constexpr RouteDef kPartial[] = {{kGet, "/a/x{id}", Access::kAnyone, Blocking::kNo, Nop}};
  EXPECT_DEATH(Router{kPartial}, "a parameter is a whole segment");
}

TEST(QueryParamTest, DecodesPlusAndEscapes) {
  EXPECT_EQ(QueryParam("a=1&user_id=u%2D1+x", "user_id"), "u-1 x");
  EXPECT_EQ(QueryParam("user_id", "user_id"), "");
  EXPECT_EQ(QueryParam("a=1", "user_id"), std::nullopt);
  EXPECT_EQ(QueryParam("user_id=%zz", "user_id"), std::nullopt);
}

}  // namespace
}  // namespace tessera::server
