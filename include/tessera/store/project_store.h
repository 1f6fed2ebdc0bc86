// The project family of the store: projects, their secrets, their settings, their signing keys,
// and the configuration version that tells pollers when any of those changed.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_PROJECT_STORE_H_
#define TESSERA_STORE_PROJECT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/token/key_ring.h"
#include "tessera/token/keys.h"

namespace tessera {

// --- Records ----------------------------------------------------------------------------------

enum class PasswordPolicy {
  kZxcvbn,  // zxcvbn estimate; valid at score >= 3 (Stytch's default).
  kLuds,    // Minimum length and number of character classes.
};

// Per-project settings, stored as JSON with the project. Defaults are Stytch's behaviour.
struct ProjectSettings {
  PasswordPolicy password_policy = PasswordPolicy::kZxcvbn;
  int luds_min_length = 8;      // Default: 8 characters (LUDS only).
  int luds_min_complexity = 4;  // Default: all 4 of lower, upper, digit, symbol (LUDS only).
  // When true, passwords/authenticate answers an unknown email exactly like a wrong password, after
  // the same hashing work, so accounts cannot be enumerated. Default: false (`email_not_found`).
  bool enumeration_protection = false;
  int lock_threshold = 10;      // Failed password attempts before a lock. Default: 10.
  Seconds lock_window{3600};    // Failures older than this are forgotten. Default: 1 h.
  Seconds lock_duration{3600};  // How long a lock lasts. Default: 1 h.
  JwtAlgorithm jwt_algorithm = JwtAlgorithm::kRS256;  // Algorithm of new signing keys.
};

// One of a project's API secrets as stored: the secret itself never is.
struct ProjectSecret {
  // "secret-id-test-<uuid>" / "secret-id-live-<uuid>": names the secret (to delete it), reveals
  // nothing of it.
  std::string secret_id;
  std::string digest;  // SHA-256 of the secret (32 bytes).
  TimePoint created_at;
};

// The most secrets a project holds at once: two, so that a secret can be replaced without
// downtime (create the new one, move every caller to it, delete the old one).
inline constexpr std::size_t kMaxProjectSecrets = 2;

struct Project {
  std::string project_id;  // "project-test-<uuid>" / "project-live-<uuid>"
  std::string name;
  bool live = false;
  // "public-token-test-<uuid>" / "public-token-live-<uuid>": identifies the project to the
  // frontend SDK (/sdk/v1). Not a secret: it is in every page that uses the SDK. Unique across
  // projects; may be empty only in records built by hand (CreateProject stores none then).
  std::string public_token;
  // One to kMaxProjectSecrets secrets, by creation time (ties, within a second, by id); each of
  // them authorizes API calls.
  std::vector<ProjectSecret> secrets;
  ProjectSettings settings;
  TimePoint created_at;
};

// A project's signing keys with the version of its key ring when they were read. The version
// moves with every SaveKeys of the project, so a writer can tell whether the ring it changed is
// still the ring in the store.
struct KeyRingSnapshot {
  std::vector<KeyRecord> records;  // Oldest first.
  std::int64_t version = 0;
};

// --- The interface ----------------------------------------------------------------------------

class ProjectStore {
 public:
  virtual ~ProjectStore() = default;

  // Creates a project with its secrets and its initial key ring. kInvalidArgument if the id
  // exists, or unless it has one to kMaxProjectSecrets secrets.
  virtual Status CreateProject(const Project& project, const std::vector<KeyRecord>& keys) = 0;
  // The project with its secrets, or nullopt.
  virtual Result<std::optional<Project>> GetProject(std::string_view project_id) = 0;
  virtual Result<std::vector<Project>> ListProjects() = 0;
  // Replaces the stored settings of a project. kProjectNotFound.
  virtual Status UpdateProjectSettings(std::string_view project_id,
                                       const ProjectSettings& settings) = 0;

  // Adds `secret` to the project's secrets and moves the config version. kProjectNotFound;
  // kTooManySecrets when the project already has kMaxProjectSecrets; kInvalidArgument when the
  // project has a secret with that id. Concurrent calls never leave more than the maximum.
  virtual Status AddSecret(std::string_view project_id, const ProjectSecret& secret) = 0;
  // Deletes the project's secret `secret_id` and moves the config version. kProjectNotFound;
  // kSecretNotFound; kLastSecret when it is the project's only secret: a project always keeps
  // one, also under concurrent calls.
  virtual Status DeleteSecret(std::string_view project_id, std::string_view secret_id) = 0;

  // The project's signing keys, oldest first (empty for an unknown project).
  virtual Result<std::vector<KeyRecord>> ListKeys(std::string_view project_id) = 0;
  // The project's signing keys and the key-ring version they were read at: the start of every
  // change of the ring (read, change in memory, SaveKeys). kProjectNotFound.
  virtual Result<KeyRingSnapshot> ReadKeyRing(std::string_view project_id) = 0;
  // Writes `records` (insert or update by kid) and moves the ring's version and the config
  // version, in one transaction, provided the ring is still at `read_version`, the version of the
  // ReadKeyRing the records were derived from. Otherwise another change came first and nothing
  // is written: kStoreConflict, and the caller reads the ring again and redoes its change on
  // what it finds. Also refused, whatever the version: a record that moves a stored key against
  // the state machine (KeyStateMayBecome; kKeyStateInvalid), a ring left with two active keys
  // (kKeyStateInvalid), a record of another project (kInvalidArgument). kProjectNotFound.
  virtual Status SaveKeys(std::string_view project_id, const std::vector<KeyRecord>& records,
                          std::int64_t read_version) = 0;
  // A number that changes whenever any project's keys, secrets or settings change: pollers
  // reload when it differs from what they last saw.
  virtual Result<std::int64_t> ConfigVersion() = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_PROJECT_STORE_H_
