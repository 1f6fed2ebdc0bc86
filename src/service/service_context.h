// What every service needs: the store, the caches and the injected clock and randomness.
#ifndef TESSERA_SERVICE_SERVICE_CONTEXT_H_
#define TESSERA_SERVICE_SERVICE_CONTEXT_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "service/caches.h"
#include "service/project_registry.h"
#include "tessera/clock.h"
#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/store/store.h"

namespace tessera {

struct ServiceOptions {
  // An authenticate may return the JWT already minted for the same, unchanged session if it is
  // younger than this, instead of signing a new one (docs/api.md, "JWT reuse"). 0 mints on every
  // call. Default: 5 s.
  Seconds jwt_reuse{5};
  // A session JWT whose `iat` is older than this is not refreshed (kJwtExpired): a JWT that
  // leaked into a log stops being a way into its session after this long, while the session
  // token keeps working. 0: no limit, as Stytch. Default: 0.
  Seconds max_refresh_age{0};
  std::size_t session_cache_capacity = 200000;  // 0 caches none. Default: 200 000 sessions.
  std::size_t user_cache_capacity = 100000;     // 0 caches none. Default: 100 000 users.
  // Session JWTs whose signature was checked, remembered so that refreshing the same JWT again
  // costs a lookup instead of a signature check. 0 remembers none. Default: 10 000.
  std::size_t verified_jwt_cache_capacity = 10000;
};

struct ServiceContext {
  SessionStore& store;
  ProjectRegistry& projects;
  SessionCache& sessions;
  UserCache& users;
  TouchQueue& touches;
  const MasterKey& master_key;
  const Clock& clock;
  RandomSource& random;
  ServiceOptions options;
  // Called after a revocation committed (a session revoked, a user deleted), with the project's
  // id: the revocation feed reads the log at once instead of at its next poll. May be empty.
  std::function<void(std::string_view project_id)> on_revocation = {};
};

// The user, from the cache or the store (by id or external id). kUserNotFound.
Result<std::shared_ptr<const CachedUser>> LoadUser(ServiceContext& ctx, std::string_view project_id,
                                                   std::string_view user_id);

}  // namespace tessera

#endif  // TESSERA_SERVICE_SERVICE_CONTEXT_H_
