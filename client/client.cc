#include "tessera/client/client.h"

#include <sched.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>

#include "client/jwks_cache.h"
#include "client/policy_cache.h"
#include "client/revocation_feed.h"
#include "client/verified_cache.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/time_format.h"
#include "tessera/rbac/policy.h"
#include "tessera/token/jwt.h"
#include "tessera/token/key_set.h"
#include "tessera/token/session_jwt.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxResponseDepth = 64;
// Past a JWT's whole life (5 min), a tolerance no longer covers clocks but extends expiry.
constexpr std::chrono::seconds kMaxClockTolerance{300};
// The revocation feed's frames other than the snapshot.
constexpr std::size_t kMaxFeedFrameBytes = std::size_t{1} << 20;

Error ArgumentError(std::string message) {
  return Error{ErrorKind::kInvalidArgument, 0, "invalid_argument", std::move(message), ""};
}

Error ProtocolError(std::string message) {
  return Error{ErrorKind::kProtocol, 0, "unexpected_response", std::move(message), ""};
}

Error ResponseTooLarge(std::size_t limit) {
  return Error{ErrorKind::kResponseTooLarge, 0, "response_too_large",
               "the response body is larger than the limit of " + std::to_string(limit) + " bytes",
               ""};
}

std::string StringMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

TimePoint TimeMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return TimePoint();
  auto t = ParseRfc3339(v->get_string());
  return t.ok() ? *t : TimePoint();
}

std::vector<std::string> StringArray(const json::object& o, std::string_view name) {
  std::vector<std::string> out;
  if (const auto* v = o.if_contains(name); v != nullptr && v->is_array()) {
    for (const auto& e : v->get_array()) {
      if (e.is_string()) out.emplace_back(e.get_string());
    }
  }
  return out;
}

Session SessionFromApi(const json::object& o) {
  Session s;
  s.session_id = StringMember(o, "session_id");
  s.user_id = StringMember(o, "user_id");
  s.started_at = TimeMember(o, "started_at");
  s.last_accessed_at = TimeMember(o, "last_accessed_at");
  s.expires_at = TimeMember(o, "expires_at");
  if (const auto* a = o.if_contains("attributes"); a != nullptr && a->is_object()) {
    s.ip_address = StringMember(a->get_object(), "ip_address");
    s.user_agent = StringMember(a->get_object(), "user_agent");
  }
  s.roles = StringArray(o, "roles");
  const auto* f = o.if_contains("authentication_factors");
  s.authentication_factors_json = f != nullptr ? json::serialize(*f) : "[]";
  const auto* c = o.if_contains("custom_claims");
  s.custom_claims_json = c != nullptr && c->is_object() ? json::serialize(*c) : "{}";
  return s;
}

User UserFromApi(const json::object& o) {
  User u;
  u.user_id = StringMember(o, "user_id");
  u.status = StringMember(o, "status");
  if (const auto* e = o.if_contains("emails"); e != nullptr && e->is_array()) {
    for (const auto& v : e->get_array()) {
      if (!v.is_object()) continue;
      const auto& eo = v.get_object();
      const auto* verified = eo.if_contains("verified");
      u.emails.push_back({StringMember(eo, "email_id"), StringMember(eo, "email"),
                          verified != nullptr && verified->is_bool() && verified->get_bool()});
    }
  }
  u.roles = StringArray(o, "roles");
  const auto* p = o.if_contains("password");
  u.has_password = p != nullptr && p->is_object();
  const auto* locked = o.if_contains("is_locked");
  u.is_locked = locked != nullptr && locked->is_bool() && locked->get_bool();
  u.json = json::serialize(o);
  return u;
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

Outcome<json::value> ParseClaimsJson(const std::optional<std::string>& text,
                                     std::string_view name) {
  auto v = ParseJson(*text, 16);
  if (!v.ok() || !v->is_object()) {
    return ArgumentError(std::string(name) + " must be a JSON object");
  }
  return std::move(*v);
}

json::array ToJsonArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A counter that threads on different CPUs add to without sharing a cache line: a verified-cache
// hit costs ~100 ns, and one shared counter bouncing between cores would be a sizeable part of
// it. Each add goes to the cell of the CPU the thread runs on (sched_getcpu is a read of the
// kernel-maintained rseq area); a thread that migrates meanwhile just adds to another cell.
class StripedCounter {
 public:
  void Add() {
    const int cpu = sched_getcpu();
    cells_[static_cast<unsigned>(cpu < 0 ? 0 : cpu) % kCells].n.fetch_add(
        1, std::memory_order_relaxed);
  }
  std::uint64_t Load() const {
    std::uint64_t sum = 0;
    for (const Cell& c : cells_) sum += c.n.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kCells = 16;
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> n{0};
  };
  std::array<Cell, kCells> cells_;
};

}  // namespace

// --- Client::Impl
// ---------------------------------------------------------------------------------

class Client::Impl {
 public:
  explicit Impl(ClientOptions o)
      : options_(std::move(o)),
        clock_(options_.clock ? options_.clock
                              : std::shared_ptr<const Clock>(&SystemClock(), [](const Clock*) {})),
        transport_(options_.transport
                       ? options_.transport
                       : NewCurlTransport({options_.connect_timeout, options_.request_timeout})),
        base_url_(options_.base_url),
        authorization_("Basic " +
                       Base64Encode(AsBytes(options_.project_id + ":" + options_.secret))),
        // Coarse by default: it is read on every local verification, and a precise read costs
        // tens of nanoseconds in a VM; the feed takes its resolution off the bound.
        steady_clock_(options_.steady_clock
                          ? options_.steady_clock
                          : std::shared_ptr<const MonotonicClock>(&CoarseSteadyClock(),
                                                                  [](const MonotonicClock*) {})),
        jwks_([this] { return FetchJwksText(); }, *clock_, options_.jwks_refresh_interval,
              options_.jwks_min_refetch_interval),
        policy_([this] { return FetchPolicyText(); }, *clock_,
                options_.rbac_policy_refresh_interval, options_.jwks_min_refetch_interval),
        verified_(options_.verified_cache_capacity) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    // The client's tolerance is built in, so that the usual call copies no options.
    verify_options_ = SessionJwtOptions(options_.project_id, {base_url_}, options_.clock_tolerance);
    if (options_.revocation_feed) {
      RevocationFeedOptions f;
      f.url = base_url_ + "/v1/sessions/revocations";
      f.authorization = authorization_;
      f.staleness_bound = options_.revocation_staleness_bound;
      f.heartbeat_timeout = options_.revocation_heartbeat_timeout;
      f.connect_timeout = options_.connect_timeout;
      f.max_backoff = options_.revocation_reconnect_max_backoff;
      f.clock_tolerance = options_.clock_tolerance;
      f.max_frame_bytes = kMaxFeedFrameBytes;
      f.max_snapshot_bytes = options_.revocation_max_snapshot_bytes;
      feed_ = std::make_unique<RevocationFeed>(std::move(f), *clock_, *steady_clock_);
      feed_->Start();
    }
  }

  // One API call: JSON in, JSON object out, errors typed.
  Outcome<json::object> Call(const std::string& method, const std::string& path,
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

  Outcome<std::string> FetchJwksText() {
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

  // The body of GET /v1/rbac/policy (a 200), or the error it answered.
  Outcome<std::string> FetchPolicyText() {
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

  // The roles among `session`'s (as its JWT carried them) that grant `check` under the cached
  // policy; kPermissionDenied when none does, kPolicyUnavailable without a usable policy.
  Outcome<std::vector<std::string>> AuthorizeLocal(const Session& session,
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

  // Sends `req` allowing at most `limit` bytes of response body. The transport stops a longer
  // body as it arrives; the check here holds the limit for an application's own transport too.
  Outcome<HttpResponse> Send(HttpRequest& req, std::size_t limit) {
    req.max_response_bytes = limit;
    auto res = transport_->Send(req);
    if (res.ok() && res->body.size() > limit) return ResponseTooLarge(limit);
    return res;
  }

  // The time checks that apply to a verified JWT on every use, cached or not.
  Outcome<bool> CheckTimes(std::int64_t iat, std::int64_t nbf, std::int64_t exp,
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

  static Error JwtError(std::string type, std::string message) {
    return Error{ErrorKind::kJwtInvalid, 0, std::move(type), std::move(message), ""};
  }

  // The revocation feed's verdict on a JWT that passed every other check; nullopt to accept.
  std::optional<Error> CheckRevocation(const Session& session, std::uint64_t session_hash,
                                       std::uint64_t user_hash, std::int64_t iat, std::int64_t exp,
                                       TimePoint now) {
    const RevocationVerdict verdict =
        feed_->Check({session.session_id, session_hash, session.user_id, user_hash}, iat, exp,
                     ToUnixSeconds(now));
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

  Outcome<std::shared_ptr<const Session>> VerifyLocal(
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

  ClientOptions options_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Transport> transport_;
  std::string base_url_;
  std::string authorization_;
  std::shared_ptr<const MonotonicClock> steady_clock_;
  JwtVerifyOptions verify_options_;
  JwksCache jwks_;
  PolicyCache policy_;
  VerifiedCache verified_;
  // Local acceptances are counted once each, as a miss or as a hit (one add per call).
  StripedCounter local_misses_;
  StripedCounter verified_cache_hits_;
  std::atomic<std::uint64_t> api_fallbacks_{0};
  std::atomic<std::uint64_t> local_permission_denials_{0};
  std::atomic<std::uint64_t> revocation_refusals_{0};
  std::atomic<std::uint64_t> feed_stale_refusals_{0};
  // Last, so that it is destroyed first: its thread stops before anything it uses goes away.
  std::unique_ptr<RevocationFeed> feed_;
};

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

// --- Sessions
// -------------------------------------------------------------------------------------

Outcome<AuthenticateResponse> Sessions::Authenticate(const AuthenticateRequest& r) {
  if (r.session_token.has_value() == r.session_jwt.has_value()) {
    return ArgumentError("exactly one of session_token and session_jwt is required");
  }
  json::object body;
  if (r.session_token) body["session_token"] = *r.session_token;
  if (r.session_jwt) body["session_jwt"] = *r.session_jwt;
  if (r.session_duration_minutes) body["session_duration_minutes"] = *r.session_duration_minutes;
  if (r.session_custom_claims_json) {
    auto claims = ParseClaimsJson(r.session_custom_claims_json, "session_custom_claims_json");
    if (!claims.ok()) return claims.error();
    body["session_custom_claims"] = std::move(*claims);
  }
  if (r.authorization_check) {
    body["authorization_check"] = json::object{{"resource_id", r.authorization_check->resource_id},
                                               {"action", r.authorization_check->action}};
  }
  auto o = c_.impl().Call("POST", "/v1/sessions/authenticate", body);
  if (!o.ok()) return o.error();
  const auto* session = o->if_contains("session");
  const auto* user = o->if_contains("user");
  if (session == nullptr || !session->is_object() || user == nullptr || !user->is_object()) {
    return ProtocolError("authenticate answered without session or user");
  }
  AuthenticateResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.session = SessionFromApi(session->get_object());
  out.session_token = StringMember(*o, "session_token");
  out.session_jwt = StringMember(*o, "session_jwt");
  out.user = UserFromApi(user->get_object());
  if (const auto* v = o->if_contains("verdict"); v != nullptr && v->is_object()) {
    AuthorizationVerdict verdict;
    const auto* authorized = v->get_object().if_contains("authorized");
    verdict.authorized = authorized != nullptr && authorized->is_bool() && authorized->get_bool();
    verdict.granting_roles = StringArray(v->get_object(), "granting_roles");
    out.verdict = std::move(verdict);
  }
  if (r.authorization_check &&
      (!out.verdict || !out.verdict->authorized || out.verdict->granting_roles.empty())) {
    // A server that ignored the check must not read as a yes.
    return ProtocolError("authenticate with an authorization check answered without a verdict");
  }
  return out;
}

Outcome<std::vector<Session>> Sessions::Get(std::string_view user_id) {
  auto o = c_.impl().Call("GET", "/v1/sessions?user_id=" + UrlEncode(user_id), std::nullopt);
  if (!o.ok()) return o.error();
  std::vector<Session> out;
  if (const auto* list = o->if_contains("sessions"); list != nullptr && list->is_array()) {
    for (const auto& s : list->get_array()) {
      if (s.is_object()) out.push_back(SessionFromApi(s.get_object()));
    }
  }
  return out;
}

Outcome<std::string> Sessions::Revoke(const RevokeRequest& r) {
  const int given = int{r.session_id.has_value()} + int{r.session_token.has_value()} +
                    int{r.session_jwt.has_value()};
  if (given != 1) {
    return ArgumentError("exactly one of session_id, session_token and session_jwt is required");
  }
  json::object body;
  if (r.session_id) body["session_id"] = *r.session_id;
  if (r.session_token) body["session_token"] = *r.session_token;
  if (r.session_jwt) body["session_jwt"] = *r.session_jwt;
  auto o = c_.impl().Call("POST", "/v1/sessions/revoke", body);
  if (!o.ok()) return o.error();
  return StringMember(*o, "request_id");
}

Outcome<Jwks> Sessions::GetJwks() {
  auto text = c_.impl().FetchJwksText();
  if (!text.ok()) return text.error();
  auto parsed = ParseJson(*text, kMaxResponseDepth);
  if (!parsed.ok() || !parsed->is_object()) return ProtocolError("the JWKS is not a JSON object");
  Jwks out;
  const auto* keys = parsed->get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return ProtocolError("the JWKS has no keys array");
  for (const auto& k : keys->get_array()) {
    if (k.is_object()) out.kids.push_back(StringMember(k.get_object(), "kid"));
  }
  out.json = json::serialize(json::object{{"keys", *keys}});
  return out;
}

Outcome<std::shared_ptr<const Session>> Sessions::AuthenticateJwtLocal(
    std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
    std::optional<std::chrono::seconds> clock_tolerance,
    const std::optional<AuthorizationCheck>& authorization_check) {
  auto local = c_.impl().VerifyLocal(jwt, max_token_age, clock_tolerance);
  if (!local.ok() || !authorization_check) return local;
  // Authorized after verification: an invalid JWT is reported as such, whatever its roles.
  auto granting = c_.impl().AuthorizeLocal(**local, *authorization_check);
  if (!granting.ok()) return granting.error();
  return local;
}

Outcome<JwtAuthenticateResult> Sessions::AuthenticateJwt(
    std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
    std::optional<std::chrono::seconds> clock_tolerance,
    const std::optional<AuthorizationCheck>& authorization_check) {
  if (jwt.empty()) return ArgumentError("the JWT is empty");
  if (authorization_check &&
      (authorization_check->resource_id.empty() || authorization_check->action.empty())) {
    return ArgumentError("authorization_check needs a resource_id and an action");
  }
  if (!max_token_age || max_token_age->count() > 0) {
    auto local = c_.impl().VerifyLocal(jwt, max_token_age, clock_tolerance);
    if (local.ok()) {
      if (!authorization_check) {
        return JwtAuthenticateResult{
            *local, std::string(jwt), VerifiedBy::kLocal, std::nullopt, {}};
      }
      auto granting = c_.impl().AuthorizeLocal(**local, *authorization_check);
      if (granting.ok()) {
        return JwtAuthenticateResult{*local, std::string(jwt), VerifiedBy::kLocal, std::nullopt,
                                     std::move(*granting)};
      }
    }
  }
  // Any local failure (a local "no" included), or max_token_age 0: the server decides, with
  // the current roles and policy (spec §3.3, §5.3).
  c_.impl().api_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  AuthenticateRequest req;
  req.session_jwt = std::string(jwt);
  req.authorization_check = authorization_check;
  auto remote = Authenticate(req);
  if (!remote.ok()) return remote.error();
  JwtAuthenticateResult out;
  out.session = std::make_shared<const Session>(remote->session);
  out.session_jwt = remote->session_jwt;
  out.verified_by = VerifiedBy::kApi;
  if (remote->verdict) out.granting_roles = remote->verdict->granting_roles;
  out.api = std::move(*remote);
  return out;
}

// --- Rbac
// -----------------------------------------------------------------------------------------

Outcome<RbacPolicy> Rbac::Policy() {
  auto o = c_.impl().Call("GET", "/v1/rbac/policy", std::nullopt);
  if (!o.ok()) return o.error();
  const auto* policy = o->if_contains("policy");
  if (policy == nullptr || !policy->is_object()) {
    return ProtocolError("rbac/policy answered without a policy object");
  }
  RbacPolicy out;
  out.request_id = StringMember(*o, "request_id");
  out.json = json::serialize(*policy);
  const auto ids = [&](std::string_view list, std::string_view id) {
    std::vector<std::string> v;
    if (const auto* a = policy->get_object().if_contains(list); a != nullptr && a->is_array()) {
      for (const auto& e : a->get_array()) {
        if (e.is_object()) v.push_back(StringMember(e.get_object(), id));
      }
    }
    return v;
  };
  out.role_ids = ids("roles", "role_id");
  out.resource_ids = ids("resources", "resource_id");
  return out;
}

// --- Users
// ----------------------------------------------------------------------------------------

Outcome<CreateUserResponse> Users::Create(const CreateUserRequest& r) {
  json::object body;
  if (r.email) body["email"] = *r.email;
  if (r.phone_number) body["phone_number"] = *r.phone_number;
  if (r.first_name || r.last_name) {
    json::object name;
    if (r.first_name) name["first_name"] = *r.first_name;
    if (r.last_name) name["last_name"] = *r.last_name;
    body["name"] = std::move(name);
  }
  if (r.trusted_metadata_json) {
    auto meta = ParseClaimsJson(r.trusted_metadata_json, "trusted_metadata_json");
    if (!meta.ok()) return meta.error();
    body["trusted_metadata"] = std::move(*meta);
  }
  if (r.external_id) body["external_id"] = *r.external_id;
  if (r.roles) body["roles"] = ToJsonArray(*r.roles);
  auto o = c_.impl().Call("POST", "/v1/users", body);
  if (!o.ok()) return o.error();
  const auto* user = o->if_contains("user");
  if (user == nullptr || !user->is_object()) return ProtocolError("users.create without user");
  CreateUserResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.user_id = StringMember(*o, "user_id");
  out.email_id = StringMember(*o, "email_id");
  out.status = StringMember(*o, "status");
  out.user = UserFromApi(user->get_object());
  return out;
}

Outcome<User> Users::Get(std::string_view user_id) {
  auto o = c_.impl().Call("GET", "/v1/users/" + UrlEncode(user_id), std::nullopt);
  if (!o.ok()) return o.error();
  o->erase("request_id");
  o->erase("status_code");
  return UserFromApi(*o);
}

Outcome<std::string> Users::Delete(std::string_view user_id) {
  auto o = c_.impl().Call("DELETE", "/v1/users/" + UrlEncode(user_id), json::object{});
  if (!o.ok()) return o.error();
  return StringMember(*o, "user_id");
}

// --- Passwords
// ------------------------------------------------------------------------------------

namespace {

Outcome<PasswordResponse> PasswordCall(Client& c, const std::string& path,
                                       const PasswordRequest& r) {
  json::object body{{"email", r.email}, {"password", r.password}};
  if (r.session_duration_minutes) body["session_duration_minutes"] = *r.session_duration_minutes;
  if (r.session_custom_claims_json) {
    auto claims = ParseClaimsJson(r.session_custom_claims_json, "session_custom_claims_json");
    if (!claims.ok()) return claims.error();
    body["session_custom_claims"] = std::move(*claims);
  }
  if (r.roles) body["roles"] = ToJsonArray(*r.roles);
  auto o = c.impl().Call("POST", path, body);
  if (!o.ok()) return o.error();
  const auto* user = o->if_contains("user");
  if (user == nullptr || !user->is_object())
    return ProtocolError("passwords answered without user");
  PasswordResponse out;
  out.request_id = StringMember(*o, "request_id");
  out.user_id = StringMember(*o, "user_id");
  out.email_id = StringMember(*o, "email_id");
  out.session_token = StringMember(*o, "session_token");
  out.session_jwt = StringMember(*o, "session_jwt");
  if (const auto* s = o->if_contains("session"); s != nullptr && s->is_object()) {
    out.session = SessionFromApi(s->get_object());
  }
  out.user = UserFromApi(user->get_object());
  return out;
}

}  // namespace

Outcome<PasswordResponse> Passwords::Create(const PasswordRequest& r) {
  return PasswordCall(c_, "/v1/passwords", r);
}

Outcome<PasswordResponse> Passwords::Authenticate(const PasswordRequest& r) {
  return PasswordCall(c_, "/v1/passwords/authenticate", r);
}

}  // namespace tessera::client
