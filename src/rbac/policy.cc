#include "tessera/rbac/policy.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <utility>

#include "common/json.h"

namespace tessera::rbac {
namespace {

namespace json = boost::json;

// A policy is a few levels deep (policy > roles > role > permissions > permission > actions);
// anything deeper is not a policy.
constexpr std::size_t kMaxDepth = 8;
// A policy within the limits of policy.h serializes to well under this.
constexpr std::size_t kMaxPolicyBytes = 4 << 20;

Status Invalid(std::string message) {
  return Error(ErrorCode::kInvalidRbacPolicy, std::move(message));
}

// Appends "what" to a path for messages: "roles[2].permissions[0].actions".
std::string At(std::string_view path, std::string_view member) {
  std::string s(path);
  if (!s.empty()) s.push_back('.');
  s.append(member);
  return s;
}
std::string At(std::string_view path, std::size_t index) {
  std::string s(path);
  s.push_back('[');
  s.append(std::to_string(index));
  s.push_back(']');
  return s;
}

// The member `name` of `o` as a string; "" when absent or null.
Result<std::string> OptString(const json::object& o, std::string_view name, std::string_view path) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return Invalid(At(path, name) + " must be a string");
  return std::string(v->get_string());
}

// The member `name` of `o` as an array; empty when absent or null.
Result<const json::array*> OptArray(const json::object& o, std::string_view name,
                                    std::string_view path) {
  static const json::array kEmpty;
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return &kEmpty;
  if (!v->is_array()) return Invalid(At(path, name) + " must be an array");
  return &v->get_array();
}

Result<const json::object*> ObjectAt(const json::value& v, std::string_view path) {
  if (!v.is_object()) return Invalid(std::string(path) + " must be an object");
  return &v.get_object();
}

Result<std::vector<std::string>> Strings(const json::object& o, std::string_view name,
                                         std::string_view path) {
  TESSERA_ASSIGN_OR_RETURN(const json::array* a, OptArray(o, name, path));
  std::vector<std::string> out;
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string()) return Invalid(At(At(path, name), i) + " must be a string");
    out.emplace_back((*a)[i].get_string());
  }
  return out;
}

Result<std::vector<Permission>> Permissions(const json::object& o, std::string_view path) {
  TESSERA_ASSIGN_OR_RETURN(const json::array* a, OptArray(o, "permissions", path));
  std::vector<Permission> out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string p = At(At(path, "permissions"), i);
    TESSERA_ASSIGN_OR_RETURN(const json::object* po, ObjectAt((*a)[i], p));
    Permission perm;
    TESSERA_ASSIGN_OR_RETURN(perm.resource_id, OptString(*po, "resource_id", p));
    TESSERA_ASSIGN_OR_RETURN(perm.actions, Strings(*po, "actions", p));
    out.push_back(std::move(perm));
  }
  return out;
}

bool IsId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Status CheckId(std::string_view value, const std::string& what) {
  if (!IsId(value)) {
    return Invalid(what + " must be 1 to " + std::to_string(kMaxIdLength) +
                   " printable ASCII characters without spaces");
  }
  return Status::Ok();
}

Status CheckDescription(std::string_view value, const std::string& what) {
  if (value.size() > kMaxDescriptionLength) {
    return Invalid(what + " is longer than " + std::to_string(kMaxDescriptionLength) + " bytes");
  }
  return Status::Ok();
}

// The permissions of one role or scope against the resources defined.
Status CheckPermissions(const std::vector<Permission>& permissions,
                        const std::vector<Resource>& resources, const std::string& path) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < permissions.size(); ++i) {
    const Permission& p = permissions[i];
    const std::string where = At(At(path, "permissions"), i);
    const auto resource = std::find_if(resources.begin(), resources.end(), [&](const Resource& r) {
      return r.resource_id == p.resource_id;
    });
    if (resource == resources.end()) {
      std::string m = where;
      m.append(" names resource \"").append(p.resource_id).append("\", which is not defined");
      return Invalid(std::move(m));
    }
    if (!seen.insert(p.resource_id).second) {
      std::string m = path;
      m.append(" has two permissions on resource \"").append(p.resource_id).append("\"");
      return Invalid(std::move(m));
    }
    if (p.actions.empty()) return Invalid(where + ".actions must not be empty");
    if (p.actions.size() > kMaxActions) {
      return Invalid(where + ".actions has more than " + std::to_string(kMaxActions) + " actions");
    }
    const bool wildcard =
        std::find(p.actions.begin(), p.actions.end(), kAllActions) != p.actions.end();
    if (wildcard && p.actions.size() != 1) {
      return Invalid(where + ".actions: \"*\" grants every action and must stand alone");
    }
    if (wildcard) continue;
    std::set<std::string_view> actions;
    for (const std::string& a : p.actions) {
      if (std::find(resource->actions.begin(), resource->actions.end(), a) ==
          resource->actions.end()) {
        std::string m = where;
        m.append(".actions: \"").append(a).append("\" is not an action of resource \"");
        m.append(p.resource_id).append("\"");
        return Invalid(std::move(m));
      }
      if (!actions.insert(a).second) {
        std::string m = where;
        m.append(".actions lists \"").append(a).append("\" twice");
        return Invalid(std::move(m));
      }
    }
  }
  return Status::Ok();
}

Status Validate(const Policy& policy) {
  if (policy.resources.size() > kMaxResources) {
    return Invalid("more than " + std::to_string(kMaxResources) + " resources");
  }
  if (policy.roles.size() > kMaxRoles) {
    return Invalid("more than " + std::to_string(kMaxRoles) + " roles");
  }
  if (policy.scopes.size() > kMaxScopes) {
    return Invalid("more than " + std::to_string(kMaxScopes) + " scopes");
  }
  std::set<std::string_view> resource_ids;
  for (std::size_t i = 0; i < policy.resources.size(); ++i) {
    const Resource& r = policy.resources[i];
    const std::string path = At("resources", i);
    TESSERA_RETURN_IF_ERROR(CheckId(r.resource_id, At(path, "resource_id")));
    TESSERA_RETURN_IF_ERROR(CheckDescription(r.description, At(path, "description")));
    if (r.resource_id.starts_with("stytch")) {
      return Invalid(At(path, "resource_id") + ": ids starting with \"stytch\" are reserved");
    }
    if (!resource_ids.insert(r.resource_id).second) {
      std::string m = "resource \"";
      m.append(r.resource_id).append("\" is defined twice");
      return Invalid(std::move(m));
    }
    if (r.actions.size() > kMaxActions) {
      return Invalid(At(path, "actions") + " has more than " + std::to_string(kMaxActions) +
                     " actions");
    }
    std::set<std::string_view> actions;
    for (std::size_t j = 0; j < r.actions.size(); ++j) {
      const std::string where = At(At(path, "actions"), j);
      TESSERA_RETURN_IF_ERROR(CheckId(r.actions[j], where));
      if (r.actions[j] == kAllActions) {
        return Invalid(where + ": \"*\" is the wildcard of permissions, not an action");
      }
      if (!actions.insert(r.actions[j]).second) {
        std::string m = At(path, "actions");
        m.append(" lists \"").append(r.actions[j]).append("\" twice");
        return Invalid(std::move(m));
      }
    }
  }
  std::set<std::string_view> role_ids;
  for (std::size_t i = 0; i < policy.roles.size(); ++i) {
    const Role& r = policy.roles[i];
    const std::string path = At("roles", i);
    TESSERA_RETURN_IF_ERROR(CheckId(r.role_id, At(path, "role_id")));
    TESSERA_RETURN_IF_ERROR(CheckDescription(r.description, At(path, "description")));
    if (r.role_id.starts_with("stytch_") && r.role_id != kDefaultRole) {
      return Invalid(At(path, "role_id") + ": ids starting with \"stytch_\" are reserved");
    }
    if (!role_ids.insert(r.role_id).second) {
      std::string m = "role \"";
      m.append(r.role_id).append("\" is defined twice");
      return Invalid(std::move(m));
    }
    TESSERA_RETURN_IF_ERROR(CheckPermissions(r.permissions, policy.resources, path));
  }
  std::set<std::string_view> scopes;
  for (std::size_t i = 0; i < policy.scopes.size(); ++i) {
    const Scope& s = policy.scopes[i];
    const std::string path = At("scopes", i);
    TESSERA_RETURN_IF_ERROR(CheckId(s.scope, At(path, "scope")));
    TESSERA_RETURN_IF_ERROR(CheckDescription(s.description, At(path, "description")));
    if (!scopes.insert(s.scope).second) {
      std::string m = "scope \"";
      m.append(s.scope).append("\" is defined twice");
      return Invalid(std::move(m));
    }
    TESSERA_RETURN_IF_ERROR(CheckPermissions(s.permissions, policy.resources, path));
  }
  return Status::Ok();
}

void AppendStrings(const std::vector<std::string>& v, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(v[i], out);
  }
  out.push_back(']');
}

void AppendPermissions(const std::vector<Permission>& permissions, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < permissions.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("{\"resource_id\":");
    AppendJsonString(permissions[i].resource_id, out);
    out.append(",\"actions\":");
    AppendStrings(permissions[i].actions, out);
    out.push_back('}');
  }
  out.push_back(']');
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) return Invalid("the policy is larger than 4 MiB");
  auto parsed = ParseJson(text, kMaxDepth);
  if (!parsed.ok()) return Invalid("the policy is not JSON: " + parsed.status().message());
  TESSERA_ASSIGN_OR_RETURN(const json::object* root, ObjectAt(*parsed, "the policy"));
  // A GET /v1/rbac/policy response carries the policy in `policy`.
  if (const json::value* inner = root->if_contains("policy")) {
    TESSERA_ASSIGN_OR_RETURN(root, ObjectAt(*inner, "policy"));
  }
  Policy policy;
  TESSERA_ASSIGN_OR_RETURN(const json::array* resources, OptArray(*root, "resources", ""));
  for (std::size_t i = 0; i < resources->size(); ++i) {
    const std::string path = At("resources", i);
    TESSERA_ASSIGN_OR_RETURN(const json::object* o, ObjectAt((*resources)[i], path));
    Resource r;
    TESSERA_ASSIGN_OR_RETURN(r.resource_id, OptString(*o, "resource_id", path));
    TESSERA_ASSIGN_OR_RETURN(r.description, OptString(*o, "description", path));
    TESSERA_ASSIGN_OR_RETURN(r.actions, Strings(*o, "actions", path));
    policy.resources.push_back(std::move(r));
  }
  TESSERA_ASSIGN_OR_RETURN(const json::array* roles, OptArray(*root, "roles", ""));
  for (std::size_t i = 0; i < roles->size(); ++i) {
    const std::string path = At("roles", i);
    TESSERA_ASSIGN_OR_RETURN(const json::object* o, ObjectAt((*roles)[i], path));
    Role r;
    TESSERA_ASSIGN_OR_RETURN(r.role_id, OptString(*o, "role_id", path));
    TESSERA_ASSIGN_OR_RETURN(r.description, OptString(*o, "description", path));
    TESSERA_ASSIGN_OR_RETURN(r.permissions, Permissions(*o, path));
    policy.roles.push_back(std::move(r));
  }
  TESSERA_ASSIGN_OR_RETURN(const json::array* scopes, OptArray(*root, "scopes", ""));
  for (std::size_t i = 0; i < scopes->size(); ++i) {
    const std::string path = At("scopes", i);
    TESSERA_ASSIGN_OR_RETURN(const json::object* o, ObjectAt((*scopes)[i], path));
    Scope s;
    TESSERA_ASSIGN_OR_RETURN(s.scope, OptString(*o, "scope", path));
    TESSERA_ASSIGN_OR_RETURN(s.description, OptString(*o, "description", path));
    TESSERA_ASSIGN_OR_RETURN(s.permissions, Permissions(*o, path));
    policy.scopes.push_back(std::move(s));
  }
  return policy;
}

Result<Policy> Normalize(Policy policy) {
  TESSERA_RETURN_IF_ERROR(Validate(policy));
  auto it = std::find_if(policy.roles.begin(), policy.roles.end(),
                         [](const Role& r) { return r.role_id == kDefaultRole; });
  if (it == policy.roles.end()) {
    Role user;
    user.role_id = std::string(kDefaultRole);
    user.description = "The role every user holds.";
    policy.roles.insert(policy.roles.begin(), std::move(user));
  } else {
    std::rotate(policy.roles.begin(), it, it + 1);
  }
  return policy;
}

std::string ToJson(const Policy& policy) {
  std::string out;
  out.reserve(256);
  out.append("{\"roles\":[");
  for (std::size_t i = 0; i < policy.roles.size(); ++i) {
    const Role& r = policy.roles[i];
    if (i > 0) out.push_back(',');
    out.append("{\"role_id\":");
    AppendJsonString(r.role_id, out);
    out.append(",\"description\":");
    AppendJsonString(r.description, out);
    out.append(",\"permissions\":");
    AppendPermissions(r.permissions, out);
    out.push_back('}');
  }
  out.append("],\"resources\":[");
  for (std::size_t i = 0; i < policy.resources.size(); ++i) {
    const Resource& r = policy.resources[i];
    if (i > 0) out.push_back(',');
    out.append("{\"resource_id\":");
    AppendJsonString(r.resource_id, out);
    out.append(",\"description\":");
    AppendJsonString(r.description, out);
    out.append(",\"actions\":");
    AppendStrings(r.actions, out);
    out.push_back('}');
  }
  out.append("],\"scopes\":[");
  for (std::size_t i = 0; i < policy.scopes.size(); ++i) {
    const Scope& s = policy.scopes[i];
    if (i > 0) out.push_back(',');
    out.append("{\"scope\":");
    AppendJsonString(s.scope, out);
    out.append(",\"description\":");
    AppendJsonString(s.description, out);
    out.append(",\"permissions\":");
    AppendPermissions(s.permissions, out);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

std::vector<std::string> GrantingRoles(const Policy& policy,
                                       const std::vector<std::string>& subject_roles,
                                       const AuthorizationCheck& check) {
  std::vector<std::string> granting;
  for (const Role& role : policy.roles) {
    if (std::find(subject_roles.begin(), subject_roles.end(), role.role_id) ==
        subject_roles.end()) {
      continue;
    }
    const bool grants =
        std::any_of(role.permissions.begin(), role.permissions.end(), [&](const Permission& p) {
          if (p.resource_id != check.resource_id) return false;
          return std::any_of(p.actions.begin(), p.actions.end(), [&](const std::string& a) {
            return a == check.action || a == kAllActions;
          });
        });
    if (grants) granting.push_back(role.role_id);
  }
  return granting;
}

}  // namespace tessera::rbac
