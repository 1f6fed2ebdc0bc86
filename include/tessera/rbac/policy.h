// Stytch's consumer RBAC policy: resources with their actions, roles with their permissions on
// those resources, and scopes (used by Connected Apps, never by session authorization checks).
//
// One policy per project. The server validates it when it is set, serves it at
// GET /v1/rbac/policy, and enforces `authorization_check` on sessions/authenticate with
// Authorize() below; the C++ SDK parses the served policy and runs the very same Authorize()
// locally. Both sides sharing one function is what keeps the local answer and the server's
// answer identical (the Node SDK re-asks the server when its local check says no, so the
// server's answer is the one that counts).
//
// Nothing here knows about HTTP, the store or time.
#ifndef TESSERA_RBAC_POLICY_H_
#define TESSERA_RBAC_POLICY_H_

#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::rbac {

// The role every user holds without it being assigned. Always present in a validated policy,
// first among the roles.
inline constexpr std::string_view kDefaultRole = "stytch_user";
// In a permission's actions: every action of the resource, including ones added later.
inline constexpr std::string_view kAllActions = "*";

// Limits, checked by Validate. Generous for real policies, small enough that a policy held in
// memory and evaluated on every authenticate stays cheap.
inline constexpr std::size_t kMaxIdLength = 128;            // role_id, resource_id, action, scope.
inline constexpr std::size_t kMaxDescriptionLength = 1024;  // Any description.
inline constexpr std::size_t kMaxRoles = 200;
inline constexpr std::size_t kMaxResources = 200;
inline constexpr std::size_t kMaxScopes = 200;
inline constexpr std::size_t kMaxActions = 100;  // Per resource, and per permission.

struct Permission {
  std::string resource_id;
  std::vector<std::string> actions;  // Actions of the resource, or exactly {"*"}.
};

struct Role {
  std::string role_id;
  std::string description;
  std::vector<Permission> permissions;  // At most one per resource.
};

struct Resource {
  std::string resource_id;
  std::string description;
  std::vector<std::string> actions;
};

struct Scope {
  std::string scope;
  std::string description;
  std::vector<Permission> permissions;
};

struct Policy {
  std::vector<Role> roles;
  std::vector<Resource> resources;
  std::vector<Scope> scopes;
};

// What a caller asks: may the subject do `action` on `resource_id`?
struct AuthorizationCheck {
  std::string resource_id;
  std::string action;
};

// Parses a policy from JSON: either the policy object itself ({"roles": …, "resources": …,
// "scopes": …}) or a GET /v1/rbac/policy response ({"policy": {…}, …}). Absent arrays read as
// empty and absent descriptions as "". Structure only: a member of the wrong JSON type fails
// with kInvalidRbacPolicy naming it; the rules are Validate's.
Result<Policy> ParsePolicy(std::string_view json);

// The policy as the server stores it: Validate()d, and with kDefaultRole added (first, with no
// permissions) when the input does not define it, or moved first when it does. kInvalidRbacPolicy
// with a message naming the first rule broken:
//   * every id (role_id, resource_id, scope, action) is 1..kMaxIdLength characters of printable
//     ASCII without spaces, descriptions at most kMaxDescriptionLength bytes;
//   * role_ids, resource_ids and scopes are unique; actions are unique within their list;
//   * a resource_id does not start with "stytch" (reserved by Stytch), and a resource's
//     actions do not include "*";
//   * a role_id starting with "stytch_" is kDefaultRole (the others are reserved);
//   * a permission names a defined resource, at most once per role or scope, with at least one
//     action, each of them an action of that resource — or exactly ["*"].
// The size limits above apply too.
Result<Policy> Normalize(Policy policy);

// The policy as GET /v1/rbac/policy serves it: an object with `roles`, `resources` and `scopes`
// always present (empty arrays, never null or absent), every `description` a string and every
// `permissions`/`actions` an array, in the policy's order.
std::string ToJson(const Policy& policy);

// The roles among `subject_roles` that grant `check`, in the policy's role order: a role grants
// it when the policy defines it, the subject holds it, and one of its permissions names exactly
// `check.resource_id` with `check.action` or "*" among its actions. Comparisons are exact
// (case-sensitive); there is no wildcard resource, and a role the policy does not define grants
// nothing. Empty means denied. The caller includes kDefaultRole in `subject_roles` when the
// subject is a user (every user holds it); this function adds nothing.
std::vector<std::string> GrantingRoles(const Policy& policy,
                                       const std::vector<std::string>& subject_roles,
                                       const AuthorizationCheck& check);

}  // namespace tessera::rbac

#endif  // TESSERA_RBAC_POLICY_H_
