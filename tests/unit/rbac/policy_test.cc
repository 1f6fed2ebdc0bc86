#include "tessera/rbac/policy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "status_matchers.h"

namespace tessera::rbac {
namespace {

using Roles = std::vector<std::string>;

// The policy of stytch-node's test/b2c/rbac_policy.ts, plus a role on a second resource.
constexpr std::string_view kExample = R"({
  "roles": [
    {"role_id": "editor", "description": "Edits documents",
     "permissions": [{"resource_id": "documents", "actions": ["read", "write"]},
                     {"resource_id": "images", "actions": ["create", "read", "delete"]}]},
    {"role_id": "wildcard_role", "description": "",
     "permissions": [{"resource_id": "documents", "actions": ["*"]}]},
    {"role_id": "reader",
     "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
    {"role_id": "stytch_user", "description": "Every user",
     "permissions": [{"resource_id": "public", "actions": ["read"]}]}
  ],
  "resources": [
    {"resource_id": "documents", "description": "", "actions": ["create", "read", "write", "delete"]},
    {"resource_id": "images", "actions": ["create", "read", "delete"]},
    {"resource_id": "public", "actions": ["read"]}
  ],
  "scopes": [
    {"scope": "read:data", "description": "Reads documents and images",
     "permissions": [{"resource_id": "documents", "actions": ["read"]}]}
  ]
})";

Policy Example() {
  auto parsed = ParsePolicy(kExample);
  EXPECT_OK(parsed);
  auto normalized = Normalize(*parsed);
  EXPECT_OK(normalized);
  return *normalized;
}

Roles Grant(const Policy& p, const Roles& subject, std::string resource, std::string action) {
  return GrantingRoles(p, subject, {std::move(resource), std::move(action)});
}

// A policy from JSON, normalized; the error when a rule is broken.
Result<Policy> FromJson(std::string_view json) {
  TESSERA_ASSIGN_OR_RETURN(Policy p, ParsePolicy(json));
  return Normalize(std::move(p));
}

TEST(RbacEvaluate, ExactActionOnExactResource) {
  const Policy p = Example();
  EXPECT_EQ(Grant(p, {"stytch_user", "editor"}, "documents", "write"), Roles{"editor"});
  EXPECT_EQ(Grant(p, {"stytch_user", "editor"}, "images", "delete"), Roles{"editor"});
  EXPECT_EQ(Grant(p, {"stytch_user", "reader"}, "documents", "read"), Roles{"reader"});
}

TEST(RbacEvaluate, ActionNotGrantedIsDenied) {
  const Policy p = Example();
  EXPECT_TRUE(Grant(p, {"stytch_user", "reader"}, "documents", "write").empty());
  EXPECT_TRUE(Grant(p, {"stytch_user", "editor"}, "documents", "delete").empty());
}

TEST(RbacEvaluate, WildcardActionGrantsEveryActionOfItsResourceOnly) {
  const Policy p = Example();
  for (const char* action : {"create", "read", "write", "delete"}) {
    EXPECT_EQ(Grant(p, {"wildcard_role"}, "documents", action), Roles{"wildcard_role"}) << action;
  }
  // Also an action the resource does not (yet) define: "*" is all actions, present and future.
  EXPECT_EQ(Grant(p, {"wildcard_role"}, "documents", "archive"), Roles{"wildcard_role"});
  // Not another resource.
  EXPECT_TRUE(Grant(p, {"wildcard_role"}, "images", "read").empty());
}

TEST(RbacEvaluate, NoWildcardResourceAndNoWildcardInTheCheck) {
  const Policy p = Example();
  // The check's own "*" is an action name like any other: it matches only a "*" permission.
  EXPECT_TRUE(Grant(p, {"reader"}, "documents", "*").empty());
  EXPECT_EQ(Grant(p, {"wildcard_role"}, "documents", "*"), Roles{"wildcard_role"});
  // A resource of "*" names no resource.
  EXPECT_TRUE(Grant(p, {"wildcard_role", "editor"}, "*", "read").empty());
}

TEST(RbacEvaluate, ComparisonsAreCaseSensitiveAndExact) {
  const Policy p = Example();
  EXPECT_TRUE(Grant(p, {"editor"}, "Documents", "write").empty());
  EXPECT_TRUE(Grant(p, {"editor"}, "documents", "WRITE").empty());
  EXPECT_TRUE(Grant(p, {"editor"}, "documents ", "write").empty());
  EXPECT_TRUE(Grant(p, {"editor"}, "document", "write").empty());
  EXPECT_TRUE(Grant(p, {"Editor"}, "documents", "write").empty());
}

TEST(RbacEvaluate, RolesAreAdditiveAndListedInPolicyOrder) {
  const Policy p = Example();
  // The subject lists its roles in another order; the answer follows the policy's.
  EXPECT_EQ(Grant(p, {"reader", "wildcard_role", "editor", "stytch_user"}, "documents", "read"),
            (Roles{"editor", "wildcard_role", "reader"}));
  EXPECT_EQ(Grant(p, {"reader", "wildcard_role"}, "documents", "write"), Roles{"wildcard_role"});
}

TEST(RbacEvaluate, DefaultRoleGrantsOnlyWhatThePolicyGivesIt) {
  const Policy p = Example();
  EXPECT_EQ(Grant(p, {"stytch_user"}, "public", "read"), Roles{"stytch_user"});
  EXPECT_TRUE(Grant(p, {"stytch_user"}, "documents", "read").empty());
  // The function adds nothing: without stytch_user among the subject's roles it does not grant.
  EXPECT_TRUE(Grant(p, {"editor"}, "public", "read").empty());
}

TEST(RbacEvaluate, RoleNotInThePolicyGrantsNothing) {
  const Policy p = Example();
  EXPECT_TRUE(Grant(p, {"admin", "superuser"}, "documents", "read").empty());
  EXPECT_TRUE(Grant(p, {}, "documents", "read").empty());
}

TEST(RbacEvaluate, UnknownResourceIsDenied) {
  const Policy p = Example();
  EXPECT_TRUE(Grant(p, {"stytch_user", "editor", "wildcard_role"}, "videos", "read").empty());
}

TEST(RbacEvaluate, ScopesNeverGrantSessionChecks) {
  const Policy p = Example();
  EXPECT_TRUE(Grant(p, {"read:data"}, "documents", "read").empty());
}

TEST(RbacEvaluate, EmptyPolicyDeniesEverything) {
  auto p = FromJson("{}");
  ASSERT_OK(p);
  EXPECT_TRUE(Grant(*p, {"stytch_user"}, "documents", "read").empty());
}

TEST(RbacPolicy, NormalizeAddsTheDefaultRoleFirst) {
  auto p = FromJson(R"({"resources":[{"resource_id":"d","actions":["r"]}],
                        "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":["r"]}]}]})");
  ASSERT_OK(p);
  ASSERT_EQ(p->roles.size(), 2u);
  EXPECT_EQ(p->roles[0].role_id, "stytch_user");
  EXPECT_TRUE(p->roles[0].permissions.empty());
  EXPECT_EQ(p->roles[1].role_id, "a");
  // A defined stytch_user moves first and keeps its permissions and description.
  const Policy e = Example();
  EXPECT_EQ(e.roles[0].role_id, "stytch_user");
  EXPECT_EQ(e.roles[0].description, "Every user");
  EXPECT_EQ(e.roles[0].permissions.size(), 1u);
  EXPECT_EQ(e.roles[1].role_id, "editor");
  EXPECT_EQ(e.roles[3].role_id, "reader");
}

TEST(RbacPolicy, ToJsonIsAlwaysComplete) {
  auto empty = FromJson("{}");
  ASSERT_OK(empty);
  const auto v = boost::json::parse(ToJson(*empty)).as_object();
  ASSERT_TRUE(v.at("roles").is_array());
  ASSERT_TRUE(v.at("resources").is_array());
  ASSERT_TRUE(v.at("scopes").is_array());
  EXPECT_TRUE(v.at("resources").as_array().empty());
  EXPECT_TRUE(v.at("scopes").as_array().empty());
  const auto& role = v.at("roles").as_array().at(0).as_object();
  EXPECT_EQ(role.at("role_id"), "stytch_user");
  EXPECT_TRUE(role.at("description").is_string());
  EXPECT_TRUE(role.at("permissions").is_array());

  // Absent descriptions are "" and every member is there.
  const auto full = boost::json::parse(ToJson(Example())).as_object();
  for (const auto& r : full.at("roles").as_array()) {
    EXPECT_TRUE(r.as_object().at("description").is_string());
    for (const auto& perm : r.as_object().at("permissions").as_array()) {
      EXPECT_TRUE(perm.as_object().at("resource_id").is_string());
      EXPECT_TRUE(perm.as_object().at("actions").is_array());
    }
  }
  EXPECT_EQ(full.at("resources").as_array().at(1).as_object().at("description"), "");
  EXPECT_EQ(full.at("scopes").as_array().at(0).as_object().at("scope"), "read:data");
}

TEST(RbacPolicy, JsonRoundTrips) {
  const Policy p = Example();
  auto again = FromJson(ToJson(p));
  ASSERT_OK(again);
  EXPECT_EQ(ToJson(*again), ToJson(p));
  // A GET /v1/rbac/policy response parses to the same policy.
  std::string response = R"({"status_code":200,"request_id":"r","policy":)";
  response.append(ToJson(p)).append("}");
  auto from_response = FromJson(response);
  ASSERT_OK(from_response);
  EXPECT_EQ(ToJson(*from_response), ToJson(p));
}

TEST(RbacPolicy, StructuralErrorsAreNamed) {
  struct Case {
    const char* json;
    const char* message_part;
  };
  const Case cases[] = {
      {"[]", "must be an object"},
      {"not json", "not JSON"},
      {R"({"roles":{}})", "roles must be an array"},
      {R"({"roles":[1]})", "roles[0] must be an object"},
      {R"({"roles":[{"role_id":7}]})", "roles[0].role_id must be a string"},
      {R"({"resources":[{"resource_id":"d","actions":[1]}]})", "resources[0].actions[0]"},
      {R"({"policy":[]})", "policy must be an object"},
  };
  for (const auto& c : cases) {
    auto p = ParsePolicy(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().code(), ErrorCode::kInvalidRbacPolicy) << c.json;
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << c.json << " -> " << p.status().message();
  }
}

TEST(RbacPolicy, EveryRuleIsEnforced) {
  struct Case {
    const char* json;
    const char* message_part;
  };
  const std::string long_id(kMaxIdLength + 1, 'x');
  const std::string long_role = R"({"roles":[{"role_id":")" + long_id + R"("}]})";
  const std::string long_desc = R"({"roles":[{"role_id":"a","description":")" +
                                std::string(kMaxDescriptionLength + 1, 'd') + R"("}]})";
  const Case cases[] = {
      {R"({"roles":[{"role_id":""}]})", "roles[0].role_id must be 1 to"},
      {R"({"roles":[{"role_id":"has space"}]})", "roles[0].role_id must be 1 to"},
      {long_role.c_str(), "roles[0].role_id must be 1 to"},
      {long_desc.c_str(), "roles[0].description is longer"},
      {R"({"roles":[{"role_id":"a"},{"role_id":"a"}]})", "role \"a\" is defined twice"},
      {R"({"roles":[{"role_id":"stytch_admin"}]})", "reserved"},
      {R"({"resources":[{"resource_id":"stytch.files","actions":["r"]}]})", "reserved"},
      {R"({"resources":[{"resource_id":"d","actions":["r"]},{"resource_id":"d"}]})",
       "resource \"d\" is defined twice"},
      {R"({"resources":[{"resource_id":"d","actions":["*"]}]})", "not an action"},
      {R"({"resources":[{"resource_id":"d","actions":["r","r"]}]})", "lists \"r\" twice"},
      {R"({"resources":[{"resource_id":"d","actions":[""]}]})", "resources[0].actions[0]"},
      {R"({"roles":[{"role_id":"a","permissions":[{"resource_id":"x","actions":["r"]}]}]})",
       "names resource \"x\", which is not defined"},
      {R"({"resources":[{"resource_id":"d","actions":["r"]}],
           "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":["w"]}]}]})",
       "\"w\" is not an action of resource \"d\""},
      {R"({"resources":[{"resource_id":"d","actions":["r"]}],
           "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":[]}]}]})",
       "must not be empty"},
      {R"({"resources":[{"resource_id":"d","actions":["r"]}],
           "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":["*","r"]}]}]})",
       "must stand alone"},
      {R"({"resources":[{"resource_id":"d","actions":["r"]}],
           "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":["r","r"]}]}]})",
       "lists \"r\" twice"},
      {R"({"resources":[{"resource_id":"d","actions":["r"]}],
           "roles":[{"role_id":"a","permissions":[{"resource_id":"d","actions":["r"]},
                                                   {"resource_id":"d","actions":["*"]}]}]})",
       "two permissions on resource \"d\""},
      {R"({"scopes":[{"scope":"s"},{"scope":"s"}]})", "scope \"s\" is defined twice"},
      {R"({"scopes":[{"scope":"s","permissions":[{"resource_id":"x","actions":["r"]}]}]})",
       "scopes[0].permissions[0] names resource \"x\""},
  };
  for (const auto& c : cases) {
    auto p = FromJson(c.json);
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.status().code(), ErrorCode::kInvalidRbacPolicy) << c.json;
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << c.json << " -> " << p.status().message();
  }
}

TEST(RbacPolicy, SizeLimits) {
  std::string roles = R"({"roles":[)";
  for (std::size_t i = 0; i <= kMaxRoles; ++i) {
    if (i > 0) roles.push_back(',');
    roles.append(R"({"role_id":"r)").append(std::to_string(i)).append(R"("})");
  }
  roles.append("]}");
  auto p = FromJson(roles);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), ErrorCode::kInvalidRbacPolicy);
}

TEST(RbacPolicy, DefaultRoleMayBeDefinedWithPermissions) {
  auto p = FromJson(R"({"resources":[{"resource_id":"d","actions":["r"]}],
                        "roles":[{"role_id":"stytch_user",
                                  "permissions":[{"resource_id":"d","actions":["*"]}]}]})");
  ASSERT_OK(p);
  EXPECT_EQ(Grant(*p, {"stytch_user"}, "d", "r"), Roles{"stytch_user"});
}

}  // namespace
}  // namespace tessera::rbac
