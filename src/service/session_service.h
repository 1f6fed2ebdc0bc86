// Sessions: create, authenticate (by token or JWT), list, revoke (spec §2.1-§2.4, §3.5).
#ifndef TESSERA_SERVICE_SESSION_SERVICE_H_
#define TESSERA_SERVICE_SESSION_SERVICE_H_

#include <array>
#include <boost/json/value.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/service_context.h"
#include "tessera/rbac/policy.h"

namespace tessera {

inline constexpr std::int64_t kMinSessionMinutes = 5;
inline constexpr std::int64_t kMaxSessionMinutes = 527040;  // 366 days.

// The session-minting fields common to every authenticate-type call (spec §2.0.4).
struct SessionOptions {
  std::optional<std::int64_t> duration_minutes;
  std::optional<boost::json::value> custom_claims;  // The update to merge (§3.6).
  // sessions/authenticate only: the session's user must hold a role of the project's policy that
  // grants this (rbac::GrantingRoles), or the call fails with kAuthorizationDenied before it
  // changes anything (no extension, no claims merged, no last_accessed_at).
  std::optional<rbac::AuthorizationCheck> authorization_check;
};

// OK when the duration is in range and the claims, if any, are an object. Fails with
// kInvalidSessionDuration / kCustomClaimsNotObject.
Status ValidateSessionOptions(const SessionOptions& options);

struct SessionResult {
  std::shared_ptr<const CachedSession> session;
  TimePoint last_accessed_at;  // What the response reports (the time of this call).
  std::string session_token;
  std::string session_jwt;
  // Set when options.authorization_check was given (and so granted): the granting roles, in the
  // policy's order; never empty then.
  std::optional<std::vector<std::string>> granting_roles;
};

enum class RevokeBy { kSessionId, kSessionToken, kSessionJwt };

class SessionService {
 public:
  explicit SessionService(ServiceContext& ctx)
      : ctx_(ctx), jwts_(ctx.options.verified_jwt_cache_capacity) {}

  // Authenticates by session token. Extends the session when options.duration_minutes is set and
  // merges options.custom_claims; otherwise only last_accessed_at moves (written behind).
  // kSessionTokenMalformed, kSessionNotFound, then kAuthorizationDenied (options).
  Result<SessionResult> AuthenticateToken(const ProjectContext& project, std::string_view token,
                                          const SessionOptions& options, TimePoint now);

  // Authenticates by session JWT, which may be past its `exp` (the refresh path, spec §3.5):
  // signature, issuer and audience are checked against the project's published keys, then the
  // session must be alive. kJwt* errors for a bad JWT, kSessionNotFound for a dead session, then
  // kAuthorizationDenied (options). The roles checked are the user's current roles, not those
  // in the JWT.
  Result<SessionResult> AuthenticateJwt(const ProjectContext& project, std::string_view jwt,
                                        const SessionOptions& options, TimePoint now);

  // A new session for `user` with one factor. `epoch` is the session cache's epoch read before
  // `user` was loaded (SessionCache::epoch()): when the user changed or was deleted since, the
  // new session is not cached (the store refuses it outright when the user is gone:
  // kUserNotFound), so a stale snapshot of the user never outlives the change.
  // REQUIRES: options.duration_minutes is set and valid.
  Result<SessionResult> Create(const ProjectContext& project,
                               std::shared_ptr<const CachedUser> user, boost::json::object factor,
                               const SessionOptions& options, const SessionAttributes& attributes,
                               TimePoint now, std::uint64_t epoch);

  // Adds (or refreshes, by type and delivery method) a factor on an existing session of `user`,
  // found by token or JWT; extends and merges claims as AuthenticateToken does.
  // kSessionNotFound when the session is dead or belongs to another user.
  Result<SessionResult> AttachFactor(const ProjectContext& project,
                                     std::shared_ptr<const CachedUser> user,
                                     std::optional<std::string_view> token,
                                     std::optional<std::string_view> jwt,
                                     boost::json::object factor, const SessionOptions& options,
                                     TimePoint now);

  // The live session named by `token` or `jwt` (one of them), without touching it.
  // kSessionNotFound, kNoSessionArguments, token and JWT errors.
  Result<std::shared_ptr<const CachedSession>> Find(const ProjectContext& project,
                                                    std::optional<std::string_view> token,
                                                    std::optional<std::string_view> jwt,
                                                    TimePoint now);

  // Live sessions of a user (kUserNotFound when there is no such user).
  Result<std::vector<std::shared_ptr<const CachedSession>>> List(const ProjectContext& project,
                                                                 std::string_view user_id,
                                                                 TimePoint now);

  // Revokes one session. Acknowledged (OK) only after the store committed it and this node's
  // cache dropped it. kSessionNotFound when no live session matches.
  Status Revoke(const ProjectContext& project, RevokeBy by, std::string_view value, TimePoint now);

 private:
  // The cached entry for a token or session id, loading it from the store on a miss.
  Result<std::shared_ptr<const CachedSession>> FindByToken(const ProjectContext& project,
                                                           std::string_view token);
  Result<std::shared_ptr<const CachedSession>> FindById(const ProjectContext& project,
                                                        std::string_view session_id);
  Result<std::shared_ptr<const CachedSession>> FindByJwt(const ProjectContext& project,
                                                         std::string_view jwt);
  Result<std::shared_ptr<const CachedSession>> Cache(std::optional<SessionRecord> record,
                                                     std::uint64_t epoch);
  // A cache hit, confirmed against a shared store (see the .cc).
  Result<std::shared_ptr<const CachedSession>> Validate(const ProjectContext& project,
                                                        std::shared_ptr<const CachedSession> hit);

  // Liveness, extension, claims, touch, JWT and token: the common tail of every authenticate.
  Result<SessionResult> Complete(const ProjectContext& project,
                                 std::shared_ptr<const CachedSession> entry,
                                 const SessionOptions& options,
                                 std::optional<boost::json::object> factor, TimePoint now);

  Result<std::string> JwtFor(const ProjectContext& project, const CachedSession& entry,
                             TimePoint now);
  Result<std::string> TokenFor(const CachedSession& entry);

  ServiceContext& ctx_;
  VerifiedJwtCache jwts_;  // JWTs whose signature this node has checked (FindByJwt).
  // Changes to one session made on this node are applied one at a time (striped by session id),
  // each on top of the newest cached version, so parallel requests on one node never race on the
  // version check; the check and its retries remain for other nodes' writes.
  static constexpr std::size_t kUpdateStripes = 64;
  std::array<std::mutex, kUpdateStripes> update_stripes_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_SESSION_SERVICE_H_
