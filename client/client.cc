#include "tessera/client/client.h"
// ^ This file's own header: first, so it must compile alone.

#include <boost/json.hpp>
#include <utility>

#include "client/api_common.h"
#include "client/client_impl.h"
#include "common/json.h"
#include "tessera/rbac/policy.h"
#include "tessera/token/key_set.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

// Past a JWT's whole life (5 min), a tolerance no longer covers clocks but extends expiry.
constexpr std::chrono::seconds kMaxClockTolerance{300};

Error ResponseTooLarge(std::size_t limit) {
  return Error{ErrorKind::kResponseTooLarge, 0, "response_too_large",
               "the response body is larger than the limit of " + std::to_string(limit) + " bytes",
               ""};
}

Session SessionFromClaims(const SessionClaims& c) {
  Session s;
  s.session_id = c.session_id;
  s.user_id = c.user_id;
  s.started_at = c.started_at;
  s.last_accessed_at = c.last_accessed_at;
  s.expires_at = c.expires_at;
  s.ip_address = c.attributes.ip_address;
  s.user_agent = c.attributes.user_agent;
  s.roles = c.roles;
  s.authentication_factors_json = json::serialize(c.authentication_factors);
  s.custom_claims_json = json::serialize(c.custom_claims);
  return s;
}

}  // namespace

// --- Client::Impl
// ---------------------------------------------------------------------------------

Outcome<json::object> Client::Impl::Call(const std::string& method, const std::string& path,
                                         const std::optional<json::object>& body) {
  HttpRequest req;
  req.method = method;
  req.url = base_url_ + path;
  req.headers = {{"Authorization", authorization_},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  if (body) req.body = json::serialize(*body);
  auto res = Send(req, options_.max_response_bytes);
  if (!res.ok()) return res.error();
  auto parsed = ParseJson(res->body, kMaxResponseDepth);
  if (!parsed.ok() || !parsed->is_object()) {
    return ProtocolError("HTTP " + std::to_string(res->status) +
                         " with a body that is not a "
                         "JSON object");
  }
  json::object& o = parsed->get_object();
  if (res->status != 200) {
    Error e;
    e.kind = ErrorKind::kApi;
    e.status_code = res->status;
    e.error_type = StringMember(o, "error_type");
    e.error_message = StringMember(o, "error_message");
    e.request_id = StringMember(o, "request_id");
    return e;
  }
  return std::move(o);
}

Outcome<std::string> Client::Impl::FetchJwksText() {
  HttpRequest req;
  req.method = "GET";
  req.url = base_url_ + "/v1/sessions/jwks/" + UrlEncode(options_.project_id);
  // No larger than KeySet would parse: a bigger document is refused before it is all in memory.
  auto res = Send(req, kMaxJwksBytes);
  if (!res.ok()) return res.error();
  if (res->status != 200) {
    return Error{ErrorKind::kApi, res->status, "jwks_unavailable",
                 "GET JWKS answered HTTP " + std::to_string(res->status), ""};
  }
  return std::move(res->body);
}

Outcome<std::string> Client::Impl::FetchPolicyText() {
  HttpRequest req;
  req.method = "GET";
  req.url = base_url_ + "/v1/rbac/policy";
  req.headers = {{"Authorization", authorization_},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  auto res = Send(req, options_.max_response_bytes);
  if (!res.ok()) return res.error();
  if (res->status != 200) {
    return Error{ErrorKind::kApi, res->status, "policy_unavailable",
                 "GET /v1/rbac/policy answered HTTP " + std::to_string(res->status), ""};
  }
  return std::move(res->body);
}

Outcome<std::vector<std::string>> Client::Impl::AuthorizeLocal(const Session& session,
                                                               const AuthorizationCheck& check) {
  if (check.resource_id.empty() || check.action.empty()) {
    return ArgumentError("authorization_check needs a resource_id and an action");
  }
  auto policy = policy_.Get();
  if (!policy.ok()) return policy.error();
  std::vector<std::string> granting =
      rbac::GrantingRoles(**policy, session.roles, {check.resource_id, check.action});
  if (granting.empty()) {
    local_permission_denials_.fetch_add(1, std::memory_order_relaxed);
    return Error{ErrorKind::kPermissionDenied, 0, "invalid_permissions",
                 "User does not have permission to perform the requested action", ""};
  }
  return granting;
}

Outcome<HttpResponse> Client::Impl::Send(HttpRequest& req, std::size_t limit) {
  req.max_response_bytes = limit;
  auto res = transport_->Send(req);
  if (res.ok() && res->body.size() > limit) return ResponseTooLarge(limit);
  return res;
}

Outcome<bool> Client::Impl::CheckTimes(std::int64_t iat, std::int64_t nbf, std::int64_t exp,
                                       std::optional<std::chrono::seconds> max_token_age,
                                       std::chrono::seconds tolerance, TimePoint now) {
  const std::int64_t now_s = ToUnixSeconds(now);
  const std::int64_t tol = tolerance.count();
  if (exp <= now_s - tol) return JwtError("jwt_invalid", "the JWT has expired");
  if (nbf > now_s + tol) return JwtError("jwt_invalid", "the JWT is not valid yet");
  if (iat > now_s + tol) return JwtError("jwt_invalid", "the JWT was issued in the future");
  if (max_token_age && now_s - iat >= max_token_age->count()) {
    return Error{ErrorKind::kJwtTooOld, 0, "jwt_too_old", "the JWT is older than max_token_age",
                 ""};
  }
  return true;
}

Error Client::Impl::JwtError(std::string type, std::string message) {
  return Error{ErrorKind::kJwtInvalid, 0, std::move(type), std::move(message), ""};
}

std::optional<Error> Client::Impl::CheckRevocation(const Session& session,
                                                   std::uint64_t session_hash,
                                                   std::uint64_t user_hash, std::int64_t iat,
                                                   std::int64_t exp, TimePoint now) {
  const RevocationVerdict verdict = feed_->Check(
      {session.session_id, session_hash, session.user_id, user_hash}, iat, exp, ToUnixSeconds(now));
  const auto revoked = [this](std::string message) {
    revocation_refusals_.fetch_add(1, std::memory_order_relaxed);
    return Error{ErrorKind::kSessionRevoked, 0, "session_revoked", std::move(message), ""};
  };
  const auto stale = [this](std::string message) {
    feed_stale_refusals_.fetch_add(1, std::memory_order_relaxed);
    return Error{ErrorKind::kFeedStale, 0, "feed_stale", std::move(message), ""};
  };
  switch (verdict) {
    case RevocationVerdict::kAccept:
      return std::nullopt;
    case RevocationVerdict::kSessionRevoked:
      return revoked("the session was revoked");
    case RevocationVerdict::kUserRevoked:
      return revoked("the user's sessions up to this JWT's issue time were revoked");
    case RevocationVerdict::kNoSnapshot:
      return stale("the revocation feed has not delivered its snapshot yet");
    case RevocationVerdict::kStale:
      return stale("the revocation feed is older than its staleness bound");
    case RevocationVerdict::kBeyondTolerance:
      return stale(
          "the JWT is past its expiry by more than the client's clock tolerance: the "
          "revocation feed no longer vouches for it");
  }
  return stale("unknown revocation verdict");
}

Outcome<std::shared_ptr<const Session>> Client::Impl::VerifyLocal(
    std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
    std::optional<std::chrono::seconds> call_tolerance) {
  const std::chrono::seconds tolerance = call_tolerance.value_or(options_.clock_tolerance);
  if (max_token_age && max_token_age->count() <= 0) {
    return Error{ErrorKind::kJwtTooOld, 0, "jwt_too_old",
                 "max_token_age 0: every JWT counts as too old", ""};
  }
  const TimePoint now = clock_->Now();

  // A JWT verified before: its key must still be published. While the key set is the one it
  // was verified against (same generation, one atomic load) that holds without a lookup; after
  // a change, look the kid up in the new set.
  if (auto hit = verified_.Find(jwt, jwks_.generation())) {
    bool published = true;
    if (hit->kid_to_check) {
      auto keys = jwks_.Get();
      published = keys.ok() && keys->keys->Find(*hit->kid_to_check) != nullptr;
    }
    if (published) {
      auto times = CheckTimes(hit->issued_at, hit->not_before, hit->expires_at, max_token_age,
                              tolerance, now);
      if (!times.ok()) return times.error();
      if (feed_) {
        if (auto refused = CheckRevocation(*hit->session, hit->session_hash, hit->user_hash,
                                           hit->issued_at, hit->expires_at, now)) {
          return *std::move(refused);
        }
      }
      verified_cache_hits_.Add();
      return std::move(hit->session);
    }
  }

  auto keys = jwks_.Get();
  if (!keys.ok()) return keys.error();
  JwksSnapshot snapshot = std::move(*keys);
  // The options are copied (strings and all) only for a tolerance other than the client's.
  std::optional<JwtVerifyOptions> custom;
  if (tolerance != verify_options_.clock_skew) {
    custom = verify_options_;
    custom->clock_skew = tolerance;
  }
  const JwtVerifyOptions& opts = custom ? *custom : verify_options_;
  auto verified = VerifyJwt(jwt, *snapshot.keys, opts, now);
  if (!verified.ok() && verified.status().code() == ErrorCode::kJwtKidUnknown) {
    // Perhaps a key published after our last fetch: one rate-limited refetch, then retry.
    JwksSnapshot fresh = jwks_.RefreshForUnknownKid(snapshot);
    if (fresh.generation != snapshot.generation) {
      snapshot = std::move(fresh);
      verified = VerifyJwt(jwt, *snapshot.keys, opts, now);
    }
  }
  if (!verified.ok()) {
    return JwtError("jwt_invalid", "could not verify the JWT: " +
                                       std::string(ErrorCodeName(verified.status().code())));
  }
  auto claims = SessionClaimsFromJwt(*verified);
  if (!claims.ok()) return JwtError("jwt_invalid", claims.status().message());
  auto session = std::make_shared<const Session>(SessionFromClaims(*claims));
  std::uint64_t session_hash = 0, user_hash = 0;
  if (feed_) {
    session_hash = feed_->hasher()(session->session_id);
    user_hash = feed_->hasher()(session->user_id);
  }
  auto times = CheckTimes(verified->issued_at, verified->not_before, verified->expires_at,
                          max_token_age, tolerance, now);
  if (verified_.enabled()) {  // Cached even when too old for *this* caller's limit.
    auto entry = std::make_shared<VerifiedJwtEntry>();
    entry->token = std::string(jwt);
    entry->kid = verified->kid;
    entry->jwks_generation = snapshot.generation;
    entry->issued_at = verified->issued_at;
    entry->not_before = verified->not_before;
    entry->expires_at = verified->expires_at;
    entry->session = session;
    entry->session_hash = session_hash;
    entry->user_hash = user_hash;
    verified_.Insert(std::move(entry));
  }
  if (!times.ok()) return times.error();
  if (feed_) {
    if (auto refused = CheckRevocation(*session, session_hash, user_hash, verified->issued_at,
                                       verified->expires_at, now)) {
      return *std::move(refused);
    }
  }
  local_misses_.Add();
  return session;
}

// --- Client
// ---------------------------------------------------------------------------------------

Outcome<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.project_id.empty()) return ArgumentError("project_id is required");
  if (options.secret.empty()) return ArgumentError("secret is required");
  if (!options.base_url.starts_with("http://") && !options.base_url.starts_with("https://")) {
    return ArgumentError("base_url must start with http:// or https://");
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return ArgumentError("timeouts must be positive");
  }
  if (options.jwks_refresh_interval.count() <= 0) {
    return ArgumentError("jwks_refresh_interval must be positive");
  }
  if (options.rbac_policy_refresh_interval.count() <= 0) {
    return ArgumentError("rbac_policy_refresh_interval must be positive");
  }
  if (options.max_response_bytes == 0) return ArgumentError("max_response_bytes must be positive");
  if (options.clock_tolerance < std::chrono::seconds(0) ||
      options.clock_tolerance > kMaxClockTolerance) {
    return ArgumentError("clock_tolerance must be between 0 and 300 s");
  }
  const auto within = [](std::chrono::milliseconds v, std::chrono::milliseconds lo,
                         std::chrono::milliseconds hi) { return v >= lo && v <= hi; };
  using std::chrono::milliseconds;
  if (!within(options.revocation_staleness_bound, milliseconds(100), milliseconds(60'000))) {
    return ArgumentError("revocation_staleness_bound must be between 100 ms and 60 s");
  }
  if (!within(options.revocation_heartbeat_timeout, milliseconds(100), milliseconds(600'000))) {
    return ArgumentError("revocation_heartbeat_timeout must be between 100 ms and 10 min");
  }
  if (!within(options.revocation_reconnect_max_backoff, milliseconds(100), milliseconds(600'000))) {
    return ArgumentError("revocation_reconnect_max_backoff must be between 100 ms and 10 min");
  }
  if (options.revocation_max_snapshot_bytes < kMaxFeedFrameBytes) {
    return ArgumentError("revocation_max_snapshot_bytes must be at least 1 MiB");
  }
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(options))));
}

Client::Client(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), sessions_(*this), users_(*this), passwords_(*this), rbac_(*this) {}

Client::~Client() = default;

ClientStats Client::stats() const {
  ClientStats s;
  s.jwks_fetches = impl_->jwks_.fetches();
  s.jwks_fetch_failures = impl_->jwks_.failures();
  s.verified_cache_hits = impl_->verified_cache_hits_.Load();
  s.local_verifications = impl_->local_misses_.Load() + s.verified_cache_hits;
  s.api_fallbacks = impl_->api_fallbacks_.load();
  s.policy_fetches = impl_->policy_.fetches();
  s.policy_fetch_failures = impl_->policy_.failures();
  s.local_permission_denials = impl_->local_permission_denials_.load();
  s.revocation_refusals = impl_->revocation_refusals_.load();
  s.feed_stale_refusals = impl_->feed_stale_refusals_.load();
  if (impl_->feed_) {
    RevocationFeedStats f = impl_->feed_->stats();
    s.revocation_feed_connections = f.connections;
    s.revocation_feed_failures = f.failures;
    s.revocation_snapshots = f.snapshots;
    s.revocation_frames = f.frames;
    s.revocation_sequence = f.sequence;
    s.revoked_sessions = f.sessions;
    s.revoked_users = f.users;
    s.revocation_feed_last_error = std::move(f.last_error);
  }
  return s;
}

}  // namespace tessera::client
