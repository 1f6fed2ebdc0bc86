// Projects as the server uses them: settings, credentials and the current key material, cached in
// memory as immutable snapshots and reloaded when the store says something changed.
#ifndef TESSERA_SERVICE_PROJECT_REGISTRY_H_
#define TESSERA_SERVICE_PROJECT_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/string_hash.h"
#include "tessera/clock.h"
#include "tessera/crypto/master_key.h"
#include "tessera/rbac/policy.h"
#include "tessera/store/store.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"

namespace tessera {

// Clock difference tolerated between nodes on the refresh path: a JWT whose `iat`/`nbf` is up to
// this far in the future (minted by a node whose clock runs ahead) is accepted.
inline constexpr Seconds kRefreshClockSkew{5};

// One project's state at one moment. Immutable; replaced as a whole on reload.
struct ProjectContext {
  Project project;
  std::shared_ptr<const KeySet> published_keys;   // What the JWKS serves; verifies refreshes.
  std::string jwks_keys_json;                     // The JWKS `keys` array, serialized.
  std::shared_ptr<const SigningKey> signing_key;  // The active key; null if the ring has none.
  JwtVerifyOptions refresh_options;               // aud/iss of this project, expiry not checked.
  std::vector<std::string> sdk_origins;           // Origins allowed to use the frontend SDK.
  // The RBAC policy (normalized: stytch_user always defined), the default one when none was set.
  std::shared_ptr<const rbac::Policy> rbac_policy;
  std::string rbac_policy_json;  // rbac::ToJson(*rbac_policy), as GET /v1/rbac/policy serves it.
  std::int64_t rbac_policy_version = 0;  // 0 while no policy was ever set.
  std::uint64_t generation = 0;          // Differs between any two loaded snapshots.
};

class ProjectRegistry {
 public:
  // `store`, `master_key` and `clock` must outlive the registry.
  ProjectRegistry(SessionStore& store, const MasterKey& master_key, const Clock& clock);

  // The project's current snapshot, loaded from the store on first use. kProjectNotFound. An id
  // the store did not know is remembered as unknown (a bounded set, forgotten whenever the
  // store's configuration version moves, e.g. when a project is created), so made-up ids cost
  // one store read, not one each.
  Result<std::shared_ptr<const ProjectContext>> Get(std::string_view project_id);

  // As Get, from memory only: the snapshot, kProjectNotFound for an id known to be unknown, or
  // a null pointer when only the store can tell (then call Get where blocking is allowed).
  Result<std::shared_ptr<const ProjectContext>> GetCached(std::string_view project_id);

  // The snapshot when `secret` is one of the project's secrets (compared with each of them in
  // constant time). kUnauthorizedCredentials for an unknown project or a wrong secret, without
  // saying which. A secret added or deleted since the snapshot was loaded counts from the next
  // Refresh (or, on a shared store, the change notice).
  Result<std::shared_ptr<const ProjectContext>> Authorize(std::string_view project_id,
                                                          std::string_view secret);
  // As Authorize, from memory only: a null pointer when only the store can tell.
  Result<std::shared_ptr<const ProjectContext>> AuthorizeCached(std::string_view project_id,
                                                                std::string_view secret);

  // The snapshot of the project whose public token this is, provided `origin` (the calling page's
  // Origin) is one of the project's allowed origins, compared byte for byte. May read the store.
  // kUnauthorizedCredentials for a token no project has; kSdkOriginNotAllowed for an origin not
  // on the list (also an empty one). A token the store did not know is remembered as unknown
  // like an unknown project id (bounded, forgotten whenever a project changes), so made-up public
  // tokens cost one store read in all, not one each.
  Result<std::shared_ptr<const ProjectContext>> AuthorizePublicToken(std::string_view public_token,
                                                                     std::string_view origin);

  // Reloads every cached project when the store's config version moved (a rotation or settings
  // change by the CLI or another node), or unconditionally with `force` (the published key set
  // also changes with time, as retired keys age out). Called periodically by the server.
  Status Refresh(bool force = false);

  // Drops one project's snapshot so the next Get reloads it.
  void Invalidate(std::string_view project_id);

 private:
  // Ids, and public tokens, remembered as unknown: at most this many of each (then the set
  // starts over).
  static constexpr std::size_t kMaxUnknown = 10000;

  Result<std::shared_ptr<const ProjectContext>> Load(std::string_view project_id);
  // The secret check shared by Authorize and AuthorizeCached.
  static Result<std::shared_ptr<const ProjectContext>> CheckSecret(
      Result<std::shared_ptr<const ProjectContext>> ctx, std::string_view secret);

  SessionStore& store_;
  const MasterKey& master_key_;
  const Clock& clock_;
  std::mutex mu_;
  StringMap<std::shared_ptr<const ProjectContext>> projects_;  // GUARDED_BY(mu_)
  StringMap<bool> unknown_;                                    // GUARDED_BY(mu_)
  StringMap<bool> unknown_public_tokens_;                      // GUARDED_BY(mu_)
  StringMap<std::string> by_public_token_;  // Public token -> project id. GUARDED_BY(mu_)
  // Moves whenever unknown_ and unknown_public_tokens_ are cleared: a store read that began
  // before must not add to them.
  std::uint64_t unknown_epoch_ = 0;    // GUARDED_BY(mu_)
  std::int64_t seen_version_ = -1;     // GUARDED_BY(mu_)
  std::uint64_t next_generation_ = 1;  // GUARDED_BY(mu_)
};

// Administrative operations shared by the CLI and tests.
struct NewProject {
  Project project;     // With its one secret's record and its public token.
  std::string secret;  // Shown once; only its digest is stored.
};
Result<NewProject> CreateProject(SessionStore& store, const MasterKey& master_key,
                                 RandomSource& random, TimePoint now, std::string name, bool live,
                                 const ProjectSettings& settings);

struct NewSecret {
  ProjectSecret record;
  std::string secret;  // "secret-test-…" / "secret-live-…". Shown once; only its digest is stored.
};
// A new secret for the project, beside the one it has (a project holds at most
// kMaxProjectSecrets). kProjectNotFound; kTooManySecrets: delete one first.
Result<NewSecret> CreateProjectSecret(SessionStore& store, RandomSource& random,
                                      std::string_view project_id, TimePoint now);

// How many times a key-ring change is tried when other changes of the same ring keep coming
// first (each try reads the ring afresh). Then it fails with kStoreConflict.
inline constexpr int kKeyRingAttempts = 5;

// One rotation of the project's ring (tessera/token/key_ring.h): the next key becomes active and a
// fresh next key is published; with no next key left (all withdrawn), only the fresh one is
// published. Returns the new ring. Safe beside other changes of the ring, by any process: the
// rotation applies to the ring as stored when it is saved (SaveKeys' compare-and-swap, retried).
// kProjectNotFound.
Result<KeyRing> RotateProjectKeys(SessionStore& store, const MasterKey& master_key,
                                  RandomSource& random, std::string_view project_id, TimePoint now);

// Withdraws the next key `kid` (KeyRing::Retire), as safely beside other changes as
// RotateProjectKeys. Returns the new ring. kProjectNotFound, kKeyNotFound, kKeyStateInvalid (e.g.
// the key became active first).
Result<KeyRing> RetireProjectKey(SessionStore& store, std::string_view project_id,
                                 std::string_view kid, TimePoint now);

// The project's RBAC policy as stored, parsed and normalized, with its version (0 and the default
// policy, only stytch_user, when none was ever set). kStoreCorrupt when the stored text is not a
// valid policy (it was validated when set).
struct LoadedRbacPolicy {
  rbac::Policy policy;
  std::int64_t version = 0;
  TimePoint updated_at;
};
Result<LoadedRbacPolicy> LoadRbacPolicy(SessionStore& store, std::string_view project_id);

// Validates and normalizes `policy` (rbac::Normalize) and stores it as the project's policy,
// provided the stored version is still `expected_version` (see RbacStore::PutRbacPolicy). Every
// server reloads the project within its config poll interval (at once on PostgreSQL, where the
// change is notified). Returns the stored policy and its new version. kInvalidRbacPolicy,
// kProjectNotFound, kStoreConflict.
Result<LoadedRbacPolicy> SetRbacPolicy(SessionStore& store, std::string_view project_id,
                                       rbac::Policy policy, std::int64_t expected_version,
                                       TimePoint now);

// SHA-256 of a project secret, as stored.
std::string SecretDigest(std::string_view secret);

}  // namespace tessera

#endif  // TESSERA_SERVICE_PROJECT_REGISTRY_H_
