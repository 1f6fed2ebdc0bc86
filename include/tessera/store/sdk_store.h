// The frontend SDK family of the store: which web origins may call a project's /sdk/v1 API with
// its public token, and finding a project by that token. The token itself is part of the project
// record (Project::public_token, tessera/store/project_store.h) so that it is written with it.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_SDK_STORE_H_
#define TESSERA_STORE_SDK_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// A web origin allowed to use the project's frontend SDK API.
struct SdkOrigin {
  // Normalized (NormalizeSdkOrigin in service/sdk_origins.h): "https://app.example.com",
  // "http://127.0.0.1:5173"; compared byte for byte with a request's Origin header.
  std::string origin;
  TimePoint created_at;
};

// The most origins a project may allow.
inline constexpr std::size_t kMaxSdkOrigins = 100;

class SdkStore {
 public:
  virtual ~SdkStore() = default;

  // The id of the project whose public token this is, or nullopt.
  virtual Result<std::optional<std::string>> FindProjectByPublicToken(
      std::string_view public_token) = 0;

  // The project's allowed origins, oldest first (empty for an unknown project).
  virtual Result<std::vector<SdkOrigin>> ListSdkOrigins(std::string_view project_id) = 0;
  // Allows `origin` for the project and moves the config version, so running servers reload
  // it. Adding an origin already on the list changes nothing and is OK. kProjectNotFound;
  // kInvalidArgument when the project already allows kMaxSdkOrigins origins.
  virtual Status AddSdkOrigin(std::string_view project_id, const SdkOrigin& origin) = 0;
  // Removes `origin` from the project's list and moves the config version. kProjectNotFound;
  // kSdkOriginNotFound.
  virtual Status RemoveSdkOrigin(std::string_view project_id, std::string_view origin) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_SDK_STORE_H_
