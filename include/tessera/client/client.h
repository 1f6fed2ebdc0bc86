// The Tessera C++ backend SDK.
//
// Talks to a Tessera server (or anything serving the same Stytch-shaped API) and verifies session
// JWTs locally against the project's JWKS, falling back to the API when a JWT cannot be trusted
// locally, as Stytch's backend SDKs do (spec §3.3). Authorization checks (RBAC, docs/rbac.md)
// are answered locally from the JWT's roles and a cached copy of the project's policy, and by
// the API whenever the local answer is not a yes.
//
//   tessera::client::ClientOptions options;
//   options.project_id = "project-test-...";
//   options.secret = "secret-test-...";
//   options.base_url = "http://127.0.0.1:8080";
//   auto client = tessera::client::Client::Create(options);
//   auto result = (*client)->Sessions().AuthenticateJwt(jwt, std::chrono::seconds(60));
//   if (result.ok()) use(result->session->user_id, result->verified_by);
//
// One Client is meant to be shared by every thread of a process: all methods are thread-safe.
// Nothing in these headers depends on Boost.
#ifndef TESSERA_CLIENT_CLIENT_H_
#define TESSERA_CLIENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/client/export.h"
#include "tessera/client/outcome.h"
#include "tessera/client/transport.h"
#include "tessera/clock.h"

namespace tessera::client {

struct ClientOptions {
  std::string project_id;  // Required.
  std::string secret;      // Required.
  // Scheme, host and port, e.g. "http://127.0.0.1:8080"; a trailing slash is ignored. Required.
  std::string base_url;
  std::chrono::milliseconds connect_timeout{2000};  // Default: 2 s.
  std::chrono::milliseconds request_timeout{5000};  // Default: 5 s.
  // The largest API response body accepted: a larger one is cut off as it arrives and the call
  // fails with kResponseTooLarge, so a broken or hostile endpoint cannot fill the process's
  // memory. The largest answer is Sessions().Get's list of a user's live sessions (about 1 KB
  // each): raise this if a user can hold more than about a thousand. The key set has its own
  // fixed limit, 256 KiB (the most the SDK would parse). Must be positive. Default: 1 MiB.
  std::size_t max_response_bytes = kDefaultMaxResponseBytes;
  // The key set is refreshed in the background this often. Default: 5 min.
  std::chrono::seconds jwks_refresh_interval{300};
  // An unknown `kid` triggers a refetch at most this often. Default: 30 s (as jose).
  std::chrono::seconds jwks_min_refetch_interval{30};
  // How far the server's clock may be from this host's when a JWT is checked locally (unless a
  // call passes its own): a JWT is accepted from clock_tolerance before its iat and nbf until
  // clock_tolerance after its exp. Without it, a server whose clock runs a second ahead mints
  // JWTs that look "issued in the future" here. 5 s covers hosts that keep time only roughly
  // (NTP keeps them within milliseconds) and adds at most 5 s to the 5 min a JWT is trusted
  // locally. 0 to 300 s. Default: 5 s.
  std::chrono::seconds clock_tolerance{5};
  // Verified JWTs remembered (a repeat costs a hash lookup, not a signature check). 0 disables.
  // Default: 10 000.
  std::size_t verified_cache_capacity = 10000;
  // The RBAC policy (GET /v1/rbac/policy) is fetched on the first local authorization check and
  // again at the first check after it is this old; a policy this old is never used locally, so
  // a permission taken away stops granting locally within this long (the API always answers
  // with the current policy). A failed fetch is retried at most every
  // jwks_min_refetch_interval. Must be positive. Default: 5 min (as the Node and Go SDKs).
  std::chrono::seconds rbac_policy_refresh_interval{300};

  // --- The revocation feed (docs/revocation.md) ---
  // Follow the server's revocation feed (GET /v1/sessions/revocations, a server-sent event
  // stream) on a background thread, so that local verification refuses the JWTs of revoked
  // sessions (kSessionRevoked) within about 100 ms of the revocation instead of for the rest of
  // their five minutes. Fails closed: whenever the feed cannot vouch for a JWT (see
  // revocation_staleness_bound), local verification answers kFeedStale and AuthenticateJwt asks
  // the API. The stream is read by the SDK's own libcurl connection to base_url, not through
  // `transport`. false: local verification trusts every validly signed JWT until it expires, and
  // no thread is started. Default: true.
  bool revocation_feed = true;
  // How old the feed may be before local verification stops trusting it: the time since the last
  // snapshot or heartbeat arrived (by `steady_clock`) plus the lag_ms the server reported in it.
  // The server heartbeats every 250 ms by default, so a second allows a few lost beats. 100 ms to
  // 60 s. Default: 1 s.
  std::chrono::milliseconds revocation_staleness_bound{1000};
  // A stream that brings no frame for this long (a dead connection, or a node that cannot reach
  // its database and stopped heartbeating) is dropped and the SDK reconnects, perhaps to another
  // node. Local verification has already failed closed by then if this exceeds the staleness
  // bound. Keep it above the server's heartbeat interval (250 ms by default). 100 ms to 10 min.
  // Default: 2 s.
  std::chrono::milliseconds revocation_heartbeat_timeout{2000};
  // Reconnection waits grow from 100 ms, doubling after each attempt that brings no frame, up to
  // this; each wait is drawn between half and all of its step. 100 ms to 10 min. Default: 5 s.
  std::chrono::milliseconds revocation_reconnect_max_backoff{5000};
  // The largest snapshot frame accepted (every live entry, ~200 bytes each): a larger one is a
  // protocol error and the SDK reconnects. Every other frame is limited to 1 MiB. At least 1 MiB.
  // Default: 64 MiB (about 300 000 entries).
  std::size_t revocation_max_snapshot_bytes = std::size_t{64} << 20;

  // Injected for tests; default the system clock, the steady clock and a libcurl transport.
  std::shared_ptr<const Clock> clock;
  std::shared_ptr<const MonotonicClock> steady_clock;
  std::shared_ptr<Transport> transport;
};

// --- Result types (field names follow the API)
// ----------------------------------------------------

struct Session {
  std::string session_id;
  std::string user_id;
  TimePoint started_at;
  TimePoint last_accessed_at;
  TimePoint expires_at;
  std::string ip_address;
  std::string user_agent;
  std::vector<std::string> roles;
  std::string authentication_factors_json;  // JSON array, as the server or JWT carries it.
  std::string custom_claims_json;           // JSON object; "{}" when none.
};

struct UserEmail {
  std::string email_id;
  std::string email;
  bool verified = false;
};

struct User {
  std::string user_id;
  std::string status;
  std::vector<UserEmail> emails;
  std::vector<std::string> roles;
  bool has_password = false;
  bool is_locked = false;
  std::string json;  // The whole user object as the server sent it.
};

// "May this session do `action` on `resource_id`?" (RBAC, docs/rbac.md). Both non-empty.
struct AuthorizationCheck {
  std::string resource_id;
  std::string action;
};

// The server's yes to an authorization check (a no is a 403 error).
struct AuthorizationVerdict {
  bool authorized = false;
  std::vector<std::string> granting_roles;  // In the policy's order; never empty when authorized.
};

// sessions.authenticate, and the session part of every login.
struct AuthenticateResponse {
  std::string request_id;
  Session session;
  std::string session_token;
  std::string session_jwt;
  User user;
  std::optional<AuthorizationVerdict> verdict;  // Set when an authorization check was asked.
};

enum class VerifiedBy {
  kLocal,  // Signature and claims checked against the cached JWKS; no network call.
  kApi,    // The server authenticated it (and returned a fresh JWT).
};

struct JwtAuthenticateResult {
  std::shared_ptr<const Session> session;
  std::string session_jwt;  // The JWT passed in (local) or the fresh one the API returned.
  VerifiedBy verified_by = VerifiedBy::kLocal;
  std::optional<AuthenticateResponse> api;  // Set when the API answered.
  // With an authorization check: the roles that granted it (from the cached policy and the JWT's
  // roles when local, from the API's verdict otherwise). Empty without a check.
  std::vector<std::string> granting_roles;
};

// GET /v1/rbac/policy.
struct RbacPolicy {
  std::string request_id;
  std::string json;                   // The `policy` object as served: roles, resources, scopes.
  std::vector<std::string> role_ids;  // In the order served.
  std::vector<std::string> resource_ids;  // In the order served.
};

struct AuthenticateRequest {
  std::optional<std::string> session_token;  // Exactly one of token and JWT.
  std::optional<std::string> session_jwt;
  std::optional<int> session_duration_minutes;            // 5..527040: extends the session.
  std::optional<std::string> session_custom_claims_json;  // A JSON object to merge.
  // Also check that the session's user holds a role granting this; the server answers 403
  // consumer_session_authorization_error (kApi) otherwise, before changing anything.
  std::optional<AuthorizationCheck> authorization_check;
};

struct RevokeRequest {
  std::optional<std::string> session_id;  // Exactly one of the three.
  std::optional<std::string> session_token;
  std::optional<std::string> session_jwt;
};

struct Jwks {
  std::string json;               // {"keys": [...]} as served.
  std::vector<std::string> kids;  // In the order served.
};

struct CreateUserRequest {
  std::optional<std::string> email;
  std::optional<std::string> phone_number;
  std::optional<std::string> first_name, last_name;
  std::optional<std::string> trusted_metadata_json;  // JSON object.
  std::optional<std::string> external_id;
  std::optional<std::vector<std::string>> roles;  // Assigned RBAC roles (stytch_user is implied).
};

struct CreateUserResponse {
  std::string request_id;
  std::string user_id;
  std::string email_id;
  std::string status;
  User user;
};

struct PasswordRequest {
  std::string email;
  std::string password;
  std::optional<int> session_duration_minutes;  // A session only when set.
  std::optional<std::string> session_custom_claims_json;
  // Create only: the new user's assigned RBAC roles (stytch_user is implied).
  std::optional<std::vector<std::string>> roles;
};

struct PasswordResponse {
  std::string request_id;
  std::string user_id;
  std::string email_id;       // Create only.
  std::string session_token;  // "" when no session was requested.
  std::string session_jwt;
  std::optional<Session> session;
  User user;
};

// --- Endpoints ----------------------------------------------------------------------------------

class Client;

class TESSERA_CLIENT_EXPORT Sessions {
 public:
  // POST /v1/sessions/authenticate.
  Outcome<AuthenticateResponse> Authenticate(const AuthenticateRequest& request);
  // GET /v1/sessions?user_id=: the user's live sessions.
  Outcome<std::vector<Session>> Get(std::string_view user_id);
  // POST /v1/sessions/revoke. Returns the request id.
  Outcome<std::string> Revoke(const RevokeRequest& request);
  // GET /v1/sessions/jwks/{project_id}, fetched now (not the cache).
  Outcome<Jwks> GetJwks();

  // Verifies `jwt` locally: signature against the cached JWKS (kid, alg and key type must match),
  // typ "JWT", issuer "stytch.com/<project_id>" or the base URL, audience = the project, iat, nbf
  // and exp with `clock_tolerance` (default: ClientOptions::clock_tolerance). With
  // `max_token_age`, a JWT whose iat is that old or older fails with kJwtTooOld; 0 makes every
  // JWT too old. With the revocation feed on, a JWT that passes all that (a verified-JWT cache hit
  // too) is refused with kSessionRevoked when the feed lists its session (or its user, up to its
  // iat), and with kFeedStale whenever the feed cannot vouch for it. Never calls the API (but may
  // fetch the JWKS on first use or for an unknown kid, at most every jwks_min_refetch_interval).
  // The session is shared with the verified-JWT cache (immutable), so a repeat costs no copy.
  // With `authorization_check`, a JWT that passes all that must also carry a role (its `roles`
  // claim, as minted) that the cached policy says grants the check (exact resource, exact action
  // or "*"), else kPermissionDenied; kPolicyUnavailable when no policy can be had (see
  // ClientOptions::rbac_policy_refresh_interval). The policy is fetched only for calls with a
  // check.
  Outcome<std::shared_ptr<const Session>> AuthenticateJwtLocal(
      std::string_view jwt, std::optional<std::chrono::seconds> max_token_age = {},
      std::optional<std::chrono::seconds> clock_tolerance = {},
      const std::optional<AuthorizationCheck>& authorization_check = {});

  // Local verification first (with the authorization check, if any); on any local failure
  // (expired, too old, unknown key, bad signature, no JWKS, revoked, feed stale, permission
  // denied locally, no policy) the API decides (POST /v1/sessions/authenticate with the JWT and
  // the check), as the Stytch SDKs do: a local "no" is never final, since the JWT's roles and
  // the cached policy may both be older than the server's. A max_token_age of 0 goes straight to
  // the API. `verified_by` says which path answered; a check the API denies is the API's 403.
  Outcome<JwtAuthenticateResult> AuthenticateJwt(
      std::string_view jwt, std::optional<std::chrono::seconds> max_token_age = {},
      std::optional<std::chrono::seconds> clock_tolerance = {},
      const std::optional<AuthorizationCheck>& authorization_check = {});

 private:
  friend class Client;
  explicit Sessions(Client& c) : c_(c) {}
  Client& c_;
};

class TESSERA_CLIENT_EXPORT Rbac {
 public:
  // GET /v1/rbac/policy, fetched now (not the cache local checks use).
  Outcome<RbacPolicy> Policy();

 private:
  friend class Client;
  explicit Rbac(Client& c) : c_(c) {}
  Client& c_;
};

class TESSERA_CLIENT_EXPORT Users {
 public:
  Outcome<CreateUserResponse> Create(const CreateUserRequest& request);  // POST /v1/users
  Outcome<User> Get(std::string_view user_id);                           // GET /v1/users/{id}
  Outcome<std::string> Delete(std::string_view user_id);  // DELETE; returns the user id.

 private:
  friend class Client;
  explicit Users(Client& c) : c_(c) {}
  Client& c_;
};

class TESSERA_CLIENT_EXPORT Passwords {
 public:
  Outcome<PasswordResponse> Create(const PasswordRequest& request);        // POST /v1/passwords
  Outcome<PasswordResponse> Authenticate(const PasswordRequest& request);  // .../authenticate

 private:
  friend class Client;
  explicit Passwords(Client& c) : c_(c) {}
  Client& c_;
};

// Counters for tests and monitoring.
struct ClientStats {
  std::uint64_t jwks_fetches = 0;  // Successful key-set fetches.
  std::uint64_t jwks_fetch_failures = 0;
  std::uint64_t local_verifications = 0;  // JWTs accepted locally (cache hits included).
  std::uint64_t verified_cache_hits = 0;
  std::uint64_t api_fallbacks = 0;   // AuthenticateJwt calls answered by the API.
  std::uint64_t policy_fetches = 0;  // Successful RBAC policy fetches.
  std::uint64_t policy_fetch_failures = 0;
  std::uint64_t local_permission_denials = 0;  // Local checks answered kPermissionDenied.

  // The revocation feed (all 0 when it is off).
  std::uint64_t revocation_refusals = 0;  // Local verifications refused with kSessionRevoked.
  std::uint64_t feed_stale_refusals = 0;  // Local verifications refused with kFeedStale.
  std::uint64_t revocation_feed_connections = 0;  // Streams that answered 200 text/event-stream.
  std::uint64_t revocation_feed_failures = 0;     // Attempts and streams that ended in an error.
  std::uint64_t revocation_snapshots = 0;         // Snapshots applied.
  std::uint64_t revocation_frames = 0;    // Frames applied: snapshots, revokes and heartbeats.
  std::uint64_t revocation_sequence = 0;  // The last log entry applied.
  std::uint64_t revoked_sessions = 0;     // Entries held now.
  std::uint64_t revoked_users = 0;
  // Why the last connection attempt or stream ended ("the feed answered HTTP 401", "no frame for
  // 2000 ms", ...); "" if none has. Never holds a secret or a token.
  std::string revocation_feed_last_error;
};

class TESSERA_CLIENT_EXPORT Client {
 public:
  // Checks the options (kInvalidArgument naming the bad one). Does no I/O on the calling thread:
  // the JWKS is fetched on first local verification, and with revocation_feed the feed's thread
  // starts connecting at once. Destroying the Client stops that thread promptly.
  static Outcome<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  class Sessions& Sessions() {
    return sessions_;
  }
  class Users& Users() {
    return users_;
  }
  class Passwords& Passwords() {
    return passwords_;
  }
  class Rbac& Rbac() {
    return rbac_;
  }

  ClientStats stats() const;

  class Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  class Sessions sessions_;
  class Users users_;
  class Passwords passwords_;
  class Rbac rbac_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_CLIENT_H_
