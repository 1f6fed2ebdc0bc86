// /v1/rbac: the project's roles-and-permissions policy, which the SDKs cache to authorize
// session JWTs locally (spec §5.1).
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {

// Served from the project's snapshot in memory: the policy is serialized once per reload, always
// complete (`roles`, `resources` and `scopes` present even when empty; the Python SDK requires
// them and the Go SDK dereferences them).
Result<ApiResponse> RbacPolicy(Call& call) {
  Body b(call.request_id);
  b.Raw("policy", call.project().rbac_policy_json);
  return b.Close();
}

}  // namespace tessera::server::handlers
