#include "service/session_service.h"

#include <functional>

#include "common/text.h"
#include "common/time_format.h"
#include "service/ids.h"
#include "tessera/token/custom_claims.h"
#include "tessera/token/jwt.h"
#include "tessera/token/session_jwt.h"
#include "tessera/token/session_token.h"

namespace tessera {
namespace {

Status NotFound() { return Error(ErrorCode::kSessionNotFound, "Session could not be found."); }

// Replaces the factor of the same type and delivery method, or appends `factor`.
void MergeFactor(boost::json::array& factors, boost::json::object factor) {
  for (auto& f : factors) {
    if (!f.is_object()) continue;
    auto& existing = f.get_object();
    if (existing["type"] == factor["type"] &&
        existing["delivery_method"] == factor["delivery_method"]) {
      if (auto it = existing.find("created_at"); it != existing.end()) {
        factor["created_at"] = it->value();  // Keep when the factor was first used.
      }
      existing = std::move(factor);
      return;
    }
  }
  factors.emplace_back(std::move(factor));
}

}  // namespace

Status ValidateSessionOptions(const SessionOptions& options) {
  if (options.duration_minutes && (*options.duration_minutes < kMinSessionMinutes ||
                                   *options.duration_minutes > kMaxSessionMinutes)) {
    return Error(ErrorCode::kInvalidSessionDuration,
                 "session_duration_minutes must be between 5 and 527040.");
  }
  if (options.custom_claims && !options.custom_claims->is_object()) {
    return Error(ErrorCode::kCustomClaimsNotObject, "session_custom_claims must be a JSON object.");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const CachedSession>> SessionService::Cache(
    std::optional<SessionRecord> record, std::uint64_t epoch) {
  if (!record) return NotFound();
  TESSERA_ASSIGN_OR_RETURN(auto user, LoadUser(ctx_, record->project_id, record->user_id));
  auto entry = MakeCachedSession(std::move(*record), std::move(user));
  ctx_.sessions.Insert(entry, epoch);
  return entry;
}

Result<std::shared_ptr<const CachedSession>> SessionService::Validate(
    const ProjectContext& project, std::shared_ptr<const CachedSession> hit) {
  // The cache is the truth while the store vouches for it: no other node writes (SQLite), or
  // this node holds a live lease and has applied every change any node acknowledged (a write
  // on any node waits for that before it answers). Otherwise one indexed read per use checks
  // that the session still exists and that neither it nor its user changed on another node, so
  // a revocation anywhere is refused here on the very next request either way.
  if (ctx_.store.caches_current()) return hit;
  const std::string& pid = project.project.project_id;
  const std::string& sid = hit->record.session_id;
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(std::optional<SessionStamp> stamp, ctx_.store.GetSessionStamp(pid, sid));
  if (!stamp) {
    ctx_.sessions.EvictSession(pid, sid);
    return NotFound();
  }
  if (stamp->session_version == hit->record.version &&
      stamp->user_version == hit->user->user.version) {
    return hit;
  }
  TESSERA_ASSIGN_OR_RETURN(auto record, ctx_.store.GetSession(pid, sid));
  TESSERA_ASSIGN_OR_RETURN(auto fresh, Cache(std::move(record), epoch));
  std::lock_guard lock(hit->mu);
  if (hit->token) {
    std::lock_guard fresh_lock(fresh->mu);
    fresh->token = hit->token;
  }
  return fresh;
}

Result<std::shared_ptr<const CachedSession>> SessionService::FindByToken(
    const ProjectContext& project, std::string_view token) {
  if (!IsWellFormedSessionToken(token)) {
    return Error(ErrorCode::kSessionTokenMalformed, "session_token is not a valid session token.");
  }
  const TokenDigest digest = DigestSessionToken(token);
  const std::string& pid = project.project.project_id;
  if (auto hit = ctx_.sessions.FindByDigest(pid, digest)) return Validate(project, std::move(hit));
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(auto record, ctx_.store.GetSessionByToken(pid, digest));
  TESSERA_ASSIGN_OR_RETURN(auto entry, Cache(std::move(record), epoch));
  std::lock_guard lock(entry->mu);
  entry->token = std::string(token);
  return entry;
}

Result<std::shared_ptr<const CachedSession>> SessionService::FindById(const ProjectContext& project,
                                                                      std::string_view session_id) {
  const std::string& pid = project.project.project_id;
  if (auto hit = ctx_.sessions.FindById(pid, session_id)) return Validate(project, std::move(hit));
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(auto record, ctx_.store.GetSession(pid, session_id));
  return Cache(std::move(record), epoch);
}

Result<std::shared_ptr<const CachedSession>> SessionService::FindByJwt(
    const ProjectContext& project, std::string_view jwt) {
  const TimePoint now = ctx_.clock.Now();
  const std::int64_t now_s = ToUnixSeconds(now);
  const std::int64_t skew = project.refresh_options.clock_skew.count();
  // A JWT checked before needs no second signature check, unless it was another project's, its
  // signer is no longer published (retired keys leave the JWKS), or it is not yet valid: those
  // go through the full check again, which answers the precise error.
  std::shared_ptr<const CheckedJwt> checked = jwts_.Find(jwt);
  if (checked && (checked->project_id != project.project.project_id ||
                  project.published_keys->Find(checked->kid) == nullptr ||
                  checked->not_before > now_s + skew || checked->issued_at > now_s + skew)) {
    checked.reset();
  }
  if (!checked) {
    // Expiry is not checked: an expired JWT of a live session is exchanged for a fresh one.
    auto verified = VerifyJwt(jwt, *project.published_keys, project.refresh_options, now);
    if (!verified.ok()) {
      // Every JWT failure is a JWT error for the caller: the generic decoding codes (base64,
      // JSON, size, depth) become "malformed JWT", their message kept.
      if (verified.status().category() != ErrorCategory::kUnauthenticated) {
        return Error(ErrorCode::kJwtMalformed,
                     "session_jwt could not be parsed: " + verified.status().message());
      }
      return verified.status();
    }
    // Only the session id is needed: the stored session, not the JWT, is the truth about it.
    const auto claim = verified->claims.find(kSessionClaimName);
    const boost::json::value* id = nullptr;
    if (claim != verified->claims.end() && claim->value().is_object()) {
      id = claim->value().get_object().if_contains("id");
    }
    if (id == nullptr || !id->is_string() || id->get_string().empty()) {
      return Error(ErrorCode::kJwtSessionClaimInvalid, "the JWT has no session id");
    }
    auto entry = std::make_shared<CheckedJwt>();
    entry->jwt = std::string(jwt);
    entry->project_id = project.project.project_id;
    entry->kid = verified->kid;
    entry->session_id = std::string(id->get_string());
    entry->subject = verified->subject;
    entry->issued_at = verified->issued_at;
    entry->not_before = verified->not_before;
    jwts_.Insert(entry);
    checked = std::move(entry);
  }
  if (ctx_.options.max_refresh_age.count() > 0 &&
      now_s - checked->issued_at > ctx_.options.max_refresh_age.count()) {
    return Error(ErrorCode::kJwtExpired,
                 "session_jwt is older than this server's maximum refresh age; authenticate with "
                 "the session token instead.");
  }
  TESSERA_ASSIGN_OR_RETURN(auto entry, FindById(project, checked->session_id));
  if (entry->record.user_id != checked->subject) return NotFound();
  return entry;
}

Result<std::string> SessionService::TokenFor(const CachedSession& entry) {
  {
    std::lock_guard lock(entry.mu);
    if (entry.token) return *entry.token;
  }
  TESSERA_ASSIGN_OR_RETURN(
      std::string token,
      OpenSessionToken(ctx_.master_key, entry.record.session_id, entry.record.token_sealed));
  std::lock_guard lock(entry.mu);
  entry.token = token;
  return token;
}

Result<std::string> SessionService::JwtFor(const ProjectContext& project,
                                           const CachedSession& entry, TimePoint now) {
  if (!project.signing_key) {
    return Error(ErrorCode::kNoActiveKey, "the project has no active signing key");
  }
  if (ctx_.options.jwt_reuse.count() > 0) {
    std::lock_guard lock(entry.mu);
    // Reuse only a JWT of this very snapshot of the session (any change makes a new entry), signed
    // by the current key, minted at most jwt_reuse ago and not in the future.
    if (!entry.jwt.empty() && entry.jwt_minted_at <= now &&
        now - entry.jwt_minted_at < ctx_.options.jwt_reuse &&
        entry.jwt_signer == project.signing_key) {
      return entry.jwt;
    }
  }
  SessionClaims c;
  c.project_id = entry.record.project_id;
  c.user_id = entry.record.user_id;
  c.session_id = entry.record.session_id;
  c.started_at = entry.record.started_at;
  c.last_accessed_at = now;
  c.expires_at = entry.record.expires_at;
  c.attributes = entry.record.attributes;
  c.authentication_factors = entry.record.authentication_factors;
  c.roles = entry.user->roles;
  c.custom_claims = entry.record.custom_claims;
  TESSERA_ASSIGN_OR_RETURN(std::string jwt, MintSessionJwt(*project.signing_key, c, now));
  std::lock_guard lock(entry.mu);
  entry.jwt = jwt;
  entry.jwt_minted_at = now;
  entry.jwt_signer = project.signing_key;
  return jwt;
}

Result<SessionResult> SessionService::Complete(const ProjectContext& project,
                                               std::shared_ptr<const CachedSession> entry,
                                               const SessionOptions& options,
                                               std::optional<boost::json::object> factor,
                                               TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  if (entry->record.expires_at <= now) {
    ctx_.sessions.EvictSession(entry->record.project_id, entry->record.session_id);
    return NotFound();
  }
  // Authorization comes after authentication (an unknown session is still session_not_found)
  // and before any change, so a denied call leaves the session as it was.
  std::optional<std::vector<std::string>> granting;
  if (options.authorization_check) {
    // A context built without a policy (never by the registry) grants nothing.
    granting = project.rbac_policy ? rbac::GrantingRoles(*project.rbac_policy, entry->user->roles,
                                                         *options.authorization_check)
                                   : std::vector<std::string>();
    if (granting->empty()) {
      return Error(ErrorCode::kAuthorizationDenied,
                   "The User is not authorized to perform the requested action on that resource.");
    }
  }
  if (options.duration_minutes || options.custom_claims || factor) {
    // A change to the session itself: written through (durable) before we answer. Changes made
    // on this node are serialized per session and start from the newest cached version. The
    // write is conditional on the version it was computed from; when another node changed the
    // session first, re-read it and apply this change on top, so no update is lost.
    const std::string sid = entry->record.session_id;
    std::lock_guard stripe(update_stripes_[std::hash<std::string>{}(sid) % kUpdateStripes]);
    if (auto newest = ctx_.sessions.FindById(entry->record.project_id, sid);
        newest && newest->record.version > entry->record.version) {
      entry = std::move(newest);
    }
    SessionRecord base = entry->record;
    std::shared_ptr<const CachedUser> user = entry->user;
    for (int attempt = 0;; ++attempt) {
      SessionRecord updated = base;
      if (options.duration_minutes) {
        updated.expires_at = now + std::chrono::minutes(*options.duration_minutes);
      }
      if (options.custom_claims) {
        TESSERA_ASSIGN_OR_RETURN(updated.custom_claims,
                                 MergeCustomClaims(updated.custom_claims, *options.custom_claims));
      }
      if (factor) MergeFactor(updated.authentication_factors, *factor);
      updated.last_accessed_at = now;
      const std::uint64_t epoch = ctx_.sessions.epoch();
      auto version = ctx_.store.UpdateSession(updated);
      if (version.ok()) {
        updated.version = *version;
        auto fresh = MakeCachedSession(std::move(updated), user);
        {
          std::lock_guard lock(entry->mu);
          fresh->token = entry->token;
        }
        ctx_.sessions.Insert(fresh, epoch);
        entry = std::move(fresh);
        break;
      }
      if (version.status().code() != ErrorCode::kStoreConflict || attempt + 1 >= 8) {
        if (version.status().code() == ErrorCode::kSessionNotFound) {
          ctx_.sessions.EvictSession(base.project_id, base.session_id);
        }
        return version.status();
      }
      TESSERA_ASSIGN_OR_RETURN(auto latest,
                               ctx_.store.GetSession(base.project_id, base.session_id));
      if (!latest) {
        ctx_.sessions.EvictSession(base.project_id, base.session_id);
        return NotFound();
      }
      if (latest->expires_at <= now) return NotFound();
      base = std::move(*latest);
    }
  } else {
    // Only last_accessed_at moves: queued for the write-behind flusher, at most once per second
    // per session, so the hot path never waits for the disk.
    const std::int64_t second = ToUnixSeconds(now);
    std::int64_t last = entry->last_touch_second.load(std::memory_order_relaxed);
    if (second > last &&
        entry->last_touch_second.compare_exchange_strong(last, second, std::memory_order_relaxed)) {
      ctx_.touches.Touch(entry->record.project_id, entry->record.session_id, now);
    }
  }
  SessionResult result;
  result.last_accessed_at = now;
  TESSERA_ASSIGN_OR_RETURN(result.session_jwt, JwtFor(project, *entry, now));
  TESSERA_ASSIGN_OR_RETURN(result.session_token, TokenFor(*entry));
  result.session = std::move(entry);
  result.granting_roles = std::move(granting);
  return result;
}

Result<SessionResult> SessionService::AuthenticateToken(const ProjectContext& project,
                                                        std::string_view token,
                                                        const SessionOptions& options,
                                                        TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(options));
  TESSERA_ASSIGN_OR_RETURN(auto entry, FindByToken(project, token));
  return Complete(project, std::move(entry), options, std::nullopt, now);
}

Result<SessionResult> SessionService::AuthenticateJwt(const ProjectContext& project,
                                                      std::string_view jwt,
                                                      const SessionOptions& options,
                                                      TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(options));
  TESSERA_ASSIGN_OR_RETURN(auto entry, FindByJwt(project, jwt));
  return Complete(project, std::move(entry), options, std::nullopt, now);
}

Result<SessionResult> SessionService::Create(const ProjectContext& project,
                                             std::shared_ptr<const CachedUser> user,
                                             boost::json::object factor,
                                             const SessionOptions& options,
                                             const SessionAttributes& attributes, TimePoint now,
                                             std::uint64_t epoch) {
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(options));
  if (!options.duration_minutes) {
    return Error(ErrorCode::kInternal, "a session needs a duration");
  }
  now = std::chrono::floor<Seconds>(now);
  const bool live = project.project.live;
  SessionRecord r;
  r.project_id = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(r.session_id, NewId("session", live, ctx_.random));
  r.user_id = user->user.user_id;
  TESSERA_ASSIGN_OR_RETURN(std::string token, GenerateSessionToken(ctx_.random));
  r.token_digest = DigestSessionToken(token);
  TESSERA_ASSIGN_OR_RETURN(r.token_sealed,
                           SealSessionToken(ctx_.master_key, r.session_id, token, ctx_.random));
  r.started_at = now;
  r.last_accessed_at = now;
  r.expires_at = now + std::chrono::minutes(*options.duration_minutes);
  r.attributes = attributes;
  r.authentication_factors.emplace_back(std::move(factor));
  if (options.custom_claims) {
    TESSERA_ASSIGN_OR_RETURN(r.custom_claims, MergeCustomClaims({}, *options.custom_claims));
  }
  TESSERA_RETURN_IF_ERROR(ctx_.store.CreateSession(r));
  auto entry = MakeCachedSession(std::move(r), std::move(user));
  {
    std::lock_guard lock(entry->mu);
    entry->token = token;
  }
  ctx_.sessions.Insert(entry, epoch);
  SessionResult result;
  result.last_accessed_at = now;
  TESSERA_ASSIGN_OR_RETURN(result.session_jwt, JwtFor(project, *entry, now));
  result.session_token = std::move(token);
  result.session = std::move(entry);
  return result;
}

Result<SessionResult> SessionService::AttachFactor(const ProjectContext& project,
                                                   std::shared_ptr<const CachedUser> user,
                                                   std::optional<std::string_view> token,
                                                   std::optional<std::string_view> jwt,
                                                   boost::json::object factor,
                                                   const SessionOptions& options, TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(options));
  std::shared_ptr<const CachedSession> entry;
  if (token) {
    TESSERA_ASSIGN_OR_RETURN(entry, FindByToken(project, *token));
  } else if (jwt) {
    TESSERA_ASSIGN_OR_RETURN(entry, FindByJwt(project, *jwt));
  } else {
    return Error(ErrorCode::kNoSessionArguments, "no session to attach the factor to");
  }
  if (entry->record.user_id != user->user.user_id) return NotFound();
  return Complete(project, std::move(entry), options, std::move(factor), now);
}

Result<std::shared_ptr<const CachedSession>> SessionService::Find(
    const ProjectContext& project, std::optional<std::string_view> token,
    std::optional<std::string_view> jwt, TimePoint now) {
  std::shared_ptr<const CachedSession> entry;
  if (token) {
    TESSERA_ASSIGN_OR_RETURN(entry, FindByToken(project, *token));
  } else if (jwt) {
    TESSERA_ASSIGN_OR_RETURN(entry, FindByJwt(project, *jwt));
  } else {
    return Error(ErrorCode::kNoSessionArguments,
                 "One of session_token or session_jwt is required.");
  }
  if (entry->record.expires_at <= now) return NotFound();
  return entry;
}

Result<std::vector<std::shared_ptr<const CachedSession>>> SessionService::List(
    const ProjectContext& project, std::string_view user_id, TimePoint now) {
  const std::string& pid = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(auto user, LoadUser(ctx_, pid, user_id));
  TESSERA_ASSIGN_OR_RETURN(std::vector<SessionRecord> records,
                           ctx_.store.ListSessions(pid, user->user.user_id, now));
  std::vector<std::shared_ptr<const CachedSession>> out;
  out.reserve(records.size());
  for (auto& r : records) {
    // The in-memory last_accessed_at may be ahead of the store's (written behind).
    if (auto cached = ctx_.sessions.FindById(pid, r.session_id)) {
      const std::int64_t touched = cached->last_touch_second.load(std::memory_order_relaxed);
      if (touched > ToUnixSeconds(r.last_accessed_at))
        r.last_accessed_at = FromUnixSeconds(touched);
    }
    out.push_back(MakeCachedSession(std::move(r), user));
  }
  return out;
}

Status SessionService::Revoke(const ProjectContext& project, RevokeBy by, std::string_view value,
                              TimePoint now) {
  const std::string& pid = project.project.project_id;
  std::string session_id;
  switch (by) {
    case RevokeBy::kSessionId:
      if (!IsStorableText(value)) return NotFound();
      session_id = std::string(value);
      break;
    case RevokeBy::kSessionToken: {
      TESSERA_ASSIGN_OR_RETURN(auto entry, FindByToken(project, value));
      session_id = entry->record.session_id;
      break;
    }
    case RevokeBy::kSessionJwt: {
      TESSERA_ASSIGN_OR_RETURN(auto entry, FindByJwt(project, value));
      session_id = entry->record.session_id;
      break;
    }
  }
  TESSERA_ASSIGN_OR_RETURN(bool revoked, ctx_.store.RevokeSession(pid, session_id, now));
  // Evicted whether or not the store still had it: the cache must never outlive the row.
  ctx_.sessions.EvictSession(pid, session_id);
  if (!revoked) return NotFound();
  if (ctx_.on_revocation) ctx_.on_revocation(pid);
  return Status::Ok();
}

}  // namespace tessera
