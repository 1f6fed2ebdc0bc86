// The RBAC family of the store: each project's roles-and-permissions policy, versioned.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_RBAC_STORE_H_
#define TESSERA_STORE_RBAC_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// A project's policy as stored. The store keeps the text as given; the service layer validates
// and normalizes it before storing (tessera/rbac/policy.h) and parses it when loading.
struct RbacPolicyRecord {
  std::string policy_json;
  std::int64_t version = 0;  // 1 for the first policy set, then +1 for each replacement.
  TimePoint updated_at;
};

class RbacStore {
 public:
  virtual ~RbacStore() = default;

  // The project's policy, or nullopt when none was ever set (also for an unknown project).
  virtual Result<std::optional<RbacPolicyRecord>> GetRbacPolicy(std::string_view project_id) = 0;

  // Replaces the project's policy with `policy_json`, provided its stored version is still
  // `expected_version` (0: no policy stored yet), and moves the config version so that every
  // node reloads the project (tessera/store/project_store.h). Returns the new version.
  // kStoreConflict when another change came first; kProjectNotFound.
  virtual Result<std::int64_t> PutRbacPolicy(std::string_view project_id,
                                             std::string_view policy_json,
                                             std::int64_t expected_version, TimePoint now) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_RBAC_STORE_H_
