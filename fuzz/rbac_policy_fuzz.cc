// Fuzzes rbac::ParsePolicy and Normalize, which read policy files given to `tessera rbac set` and,
// in the C++ SDK, the policy a server serves (GET /v1/rbac/policy), and GrantingRoles on what they
// accept.
//
// Beyond "no crash, no leak, no UB", the target aborts when one of these breaks:
//   * every failure is kInvalidRbacPolicy, the only code the contract names
//     (tessera/rbac/policy.h);
//   * a normalized policy is a fixed point: its ToJson parses and normalizes again to the same
//     text, with stytch_user first;
//   * GrantingRoles answers only roles the subject holds, each once, in the policy's order, and a
//     subject holding no role is granted nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/rbac/policy.h"

namespace {

[[noreturn]] void Violated(const char* what) {
  std::fprintf(stderr, "rbac_policy_fuzz: invariant violated: %s\n", what);
  std::abort();
}

void CheckGrant(const tessera::rbac::Policy& p, const std::vector<std::string>& subject,
                const tessera::rbac::AuthorizationCheck& check) {
  const std::vector<std::string> granting = tessera::rbac::GrantingRoles(p, subject, check);
  std::size_t next = 0;  // Position in p.roles: the answer follows the policy's order.
  for (const std::string& role : granting) {
    bool held = false;
    for (const std::string& s : subject) held = held || s == role;
    if (!held) Violated("granted a role the subject does not hold");
    while (next < p.roles.size() && p.roles[next].role_id != role) ++next;
    if (next == p.roles.size()) Violated("granting roles out of the policy's order, or repeated");
    ++next;
  }
  if (!tessera::rbac::GrantingRoles(p, {}, check).empty()) Violated("granted to no role");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tessera::ErrorCode;
  namespace rbac = tessera::rbac;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = rbac::ParsePolicy(input);
  if (!parsed.ok()) {
    if (parsed.status().code() != ErrorCode::kInvalidRbacPolicy) Violated("parse failure code");
    return 0;
  }
  // The SDK evaluates what the server served without normalizing it: that must be safe too.
  std::vector<std::string> every_role;
  for (const auto& r : parsed->roles) every_role.push_back(r.role_id);
  for (const auto& r : parsed->roles) {
    for (const auto& perm : r.permissions) {
      for (const auto& a : perm.actions) CheckGrant(*parsed, every_role, {perm.resource_id, a});
    }
  }
  auto normalized = rbac::Normalize(*std::move(parsed));
  if (!normalized.ok()) {
    if (normalized.status().code() != ErrorCode::kInvalidRbacPolicy) Violated("normalize code");
    return 0;
  }
  if (normalized->roles.empty() || normalized->roles[0].role_id != rbac::kDefaultRole) {
    Violated("stytch_user is not the first role");
  }
  const std::string text = rbac::ToJson(*normalized);
  auto again = rbac::ParsePolicy(text);
  if (!again.ok()) Violated("ToJson does not parse");
  auto renormalized = rbac::Normalize(*std::move(again));
  if (!renormalized.ok()) Violated("a normalized policy does not normalize again");
  if (rbac::ToJson(*renormalized) != text) Violated("normalization is not a fixed point");
  std::vector<std::string> subject{"stytch_user"};
  for (std::size_t i = 0; i < normalized->roles.size(); i += 2) {
    subject.push_back(normalized->roles[i].role_id);
  }
  for (const auto& res : normalized->resources) {
    CheckGrant(*normalized, subject, {res.resource_id, "*"});
    for (const auto& a : res.actions) CheckGrant(*normalized, subject, {res.resource_id, a});
  }
  return 0;
}
