#include "service/project_registry.h"

#include <boost/json.hpp>
#include <functional>

#include "common/base64.h"
#include "common/text.h"
#include "crypto/hash.h"
#include "service/ids.h"
#include "tessera/token/jwt.h"
#include "tessera/token/key_ring.h"

namespace tessera {

std::string SecretDigest(std::string_view secret) {
  const crypto::Digest256 d = crypto::Sha256(secret);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Result<LoadedRbacPolicy> LoadRbacPolicy(SessionStore& store, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<RbacPolicyRecord> record, store.GetRbacPolicy(project_id));
  LoadedRbacPolicy loaded;
  if (!record) {
    // No policy set: the default one, in which stytch_user grants nothing.
    TESSERA_ASSIGN_OR_RETURN(loaded.policy, rbac::Normalize(rbac::Policy{}));
    return loaded;
  }
  auto parsed = rbac::ParsePolicy(record->policy_json);
  if (parsed.ok()) parsed = rbac::Normalize(std::move(*parsed));
  if (!parsed.ok()) {
    return Error(ErrorCode::kStoreCorrupt,
                 "the stored RBAC policy is not valid: " + parsed.status().message());
  }
  loaded.policy = std::move(*parsed);
  loaded.version = record->version;
  loaded.updated_at = record->updated_at;
  return loaded;
}

Result<LoadedRbacPolicy> SetRbacPolicy(SessionStore& store, std::string_view project_id,
                                       rbac::Policy policy, std::int64_t expected_version,
                                       TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(rbac::Policy normalized, rbac::Normalize(std::move(policy)));
  TESSERA_ASSIGN_OR_RETURN(
      std::int64_t version,
      store.PutRbacPolicy(project_id, rbac::ToJson(normalized), expected_version, now));
  LoadedRbacPolicy stored;
  stored.policy = std::move(normalized);
  stored.version = version;
  stored.updated_at = now;
  return stored;
}

ProjectRegistry::ProjectRegistry(SessionStore& store, const MasterKey& master_key,
                                 const Clock& clock)
    : store_(store), master_key_(master_key), clock_(clock) {}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::Load(std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Project> project, store_.GetProject(project_id));
  if (!project) return Error(ErrorCode::kProjectNotFound, "Project could not be found.");
  TESSERA_ASSIGN_OR_RETURN(std::vector<KeyRecord> records, store_.ListKeys(project_id));
  KeyRing ring(std::move(records));
  const TimePoint now = clock_.Now();

  auto ctx = std::make_shared<ProjectContext>();
  ctx->project = std::move(*project);
  TESSERA_ASSIGN_OR_RETURN(ctx->published_keys, ring.PublishedKeySet(now));
  boost::json::array keys;
  for (const auto& k : ctx->published_keys->keys()) keys.push_back(k->jwk());
  ctx->jwks_keys_json = boost::json::serialize(keys);
  if (const KeyRecord* active = ring.Active()) {
    TESSERA_ASSIGN_OR_RETURN(SigningKey key, OpenSigningKey(*active, master_key_));
    ctx->signing_key = std::make_shared<const SigningKey>(std::move(key));
  }
  ctx->refresh_options.audience = ctx->project.project_id;
  ctx->refresh_options.issuers = {ProjectIssuer(ctx->project.project_id)};
  ctx->refresh_options.check_expiry = false;
  ctx->refresh_options.clock_skew = kRefreshClockSkew;
  TESSERA_ASSIGN_OR_RETURN(std::vector<SdkOrigin> origins, store_.ListSdkOrigins(project_id));
  for (SdkOrigin& o : origins) ctx->sdk_origins.push_back(std::move(o.origin));
  TESSERA_ASSIGN_OR_RETURN(LoadedRbacPolicy rbac, LoadRbacPolicy(store_, project_id));
  ctx->rbac_policy_json = rbac::ToJson(rbac.policy);
  ctx->rbac_policy = std::make_shared<const rbac::Policy>(std::move(rbac.policy));
  ctx->rbac_policy_version = rbac.version;
  return std::shared_ptr<const ProjectContext>(std::move(ctx));
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::GetCached(
    std::string_view project_id) {
  const auto not_found = [] {
    return Error(ErrorCode::kProjectNotFound, "Project could not be found.");
  };
  if (!IsStorableText(project_id)) return not_found();
  std::lock_guard lock(mu_);
  if (const auto it = projects_.find(project_id); it != projects_.end()) return it->second;
  if (unknown_.find(project_id) != unknown_.end()) return not_found();
  return std::shared_ptr<const ProjectContext>();
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::Get(std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(auto cached, GetCached(project_id));
  if (cached) return cached;
  std::uint64_t unknown_epoch;
  {
    std::lock_guard lock(mu_);
    unknown_epoch = unknown_epoch_;
  }
  auto loaded = Load(project_id);
  std::lock_guard lock(mu_);
  if (!loaded.ok()) {
    if (loaded.status().code() == ErrorCode::kProjectNotFound && unknown_epoch == unknown_epoch_) {
      if (unknown_.size() >= kMaxUnknown) unknown_.clear();
      unknown_.emplace(std::string(project_id), true);
    }
    return loaded.status();
  }
  auto [it, inserted] = projects_.emplace(std::string(project_id), *loaded);
  if (inserted) {
    const_cast<ProjectContext&>(**loaded).generation = next_generation_++;
    if (!(*loaded)->project.public_token.empty()) {
      by_public_token_.insert_or_assign((*loaded)->project.public_token, std::string(project_id));
    }
  }
  return it->second;
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::AuthorizePublicToken(
    std::string_view public_token, std::string_view origin) {
  const auto unknown = [] {
    return Error(ErrorCode::kUnauthorizedCredentials,
                 "Unauthorized credentials: the public token names no project.");
  };
  if (public_token.empty() || !IsStorableText(public_token)) return unknown();
  std::string project_id;
  std::uint64_t unknown_epoch;
  {
    std::lock_guard lock(mu_);
    if (const auto it = by_public_token_.find(public_token); it != by_public_token_.end()) {
      project_id = it->second;
    } else if (unknown_public_tokens_.find(public_token) != unknown_public_tokens_.end()) {
      return unknown();
    }
    unknown_epoch = unknown_epoch_;
  }
  if (project_id.empty()) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> found,
                             store_.FindProjectByPublicToken(public_token));
    if (!found) {
      // Remembered only if no project changed while the store was read: one created meanwhile
      // may hold this very token.
      std::lock_guard lock(mu_);
      if (unknown_epoch == unknown_epoch_) {
        if (unknown_public_tokens_.size() >= kMaxUnknown) unknown_public_tokens_.clear();
        unknown_public_tokens_.emplace(std::string(public_token), true);
      }
      return unknown();
    }
    project_id = std::move(*found);
  }
  auto ctx = Get(project_id);
  if (!ctx.ok()) {
    if (ctx.status().code() == ErrorCode::kProjectNotFound) return unknown();
    return ctx.status();
  }
  if ((*ctx)->project.public_token != public_token) return unknown();
  for (const std::string& allowed : (*ctx)->sdk_origins) {
    if (!origin.empty() && allowed == origin) return ctx;
  }
  if (origin.empty()) {
    return Error(ErrorCode::kSdkOriginNotAllowed,
                 "The request names no origin; the frontend SDK API answers pages on the "
                 "project's allowed origins only.");
  }
  std::string message = "This application's origin (";
  message.append(origin).append(
      ") is not on the project's allowed origins; add it with `tessera sdk-origins add`.");
  return Error(ErrorCode::kSdkOriginNotAllowed, std::move(message));
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::CheckSecret(
    Result<std::shared_ptr<const ProjectContext>> ctx, std::string_view secret) {
  if (!ctx.ok()) {
    if (ctx.status().code() == ErrorCode::kProjectNotFound) {
      return Error(ErrorCode::kUnauthorizedCredentials, "Unauthorized credentials.");
    }
    return ctx.status();
  }
  if (!*ctx) return ctx;  // Not in memory (AuthorizeCached).
  const crypto::Digest256 digest = crypto::Sha256(secret);
  // Compared with every secret of the project, each in constant time and without stopping at a
  // match, so the time taken does not tell which secret matched, or how far a wrong one got.
  bool matched = false;
  for (const ProjectSecret& stored : (*ctx)->project.secrets) {
    const std::string_view d = stored.digest;
    matched |= crypto::ConstantTimeEquals(
        digest, std::span(reinterpret_cast<const std::uint8_t*>(d.data()), d.size()));
  }
  if (!matched) return Error(ErrorCode::kUnauthorizedCredentials, "Unauthorized credentials.");
  return ctx;
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::Authorize(
    std::string_view project_id, std::string_view secret) {
  return CheckSecret(Get(project_id), secret);
}

Result<std::shared_ptr<const ProjectContext>> ProjectRegistry::AuthorizeCached(
    std::string_view project_id, std::string_view secret) {
  return CheckSecret(GetCached(project_id), secret);
}

Status ProjectRegistry::Refresh(bool force) {
  TESSERA_ASSIGN_OR_RETURN(std::int64_t version, store_.ConfigVersion());
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    if (!force && version == seen_version_) return Status::Ok();
    // A project created since may be among the ids remembered as unknown.
    unknown_.clear();
    unknown_public_tokens_.clear();
    ++unknown_epoch_;
    for (const auto& [id, ctx] : projects_) ids.push_back(id);
  }
  // Load outside the lock: readers keep using the old snapshots meanwhile.
  Status first_error;
  std::unordered_map<std::string, std::shared_ptr<const ProjectContext>> fresh;
  for (const auto& id : ids) {
    auto loaded = Load(id);
    if (loaded.ok()) {
      fresh.emplace(id, *loaded);
    } else if (loaded.status().code() != ErrorCode::kProjectNotFound && first_error.ok()) {
      first_error = loaded.status();
    }
  }
  std::lock_guard lock(mu_);
  for (auto& [id, ctx] : fresh) {
    const_cast<ProjectContext&>(*ctx).generation = next_generation_++;
    if (!ctx->project.public_token.empty()) {
      by_public_token_.insert_or_assign(ctx->project.public_token, id);
    }
    projects_[id] = std::move(ctx);
  }
  if (first_error.ok()) seen_version_ = version;
  return first_error;
}

void ProjectRegistry::Invalidate(std::string_view project_id) {
  std::lock_guard lock(mu_);
  if (auto it = projects_.find(project_id); it != projects_.end()) projects_.erase(it);
  unknown_.clear();
  unknown_public_tokens_.clear();
  ++unknown_epoch_;
}

namespace {

// A fresh secret: 36 random bytes, base64url, after a prefix that says what it is.
Result<NewSecret> GenerateSecret(bool live, RandomSource& random, TimePoint now) {
  NewSecret out;
  TESSERA_ASSIGN_OR_RETURN(out.record.secret_id, NewId("secret-id", live, random));
  std::array<std::uint8_t, 36> secret_bytes{};
  TESSERA_RETURN_IF_ERROR(random.Fill(secret_bytes));
  out.secret = (live ? "secret-live-" : "secret-test-") + Base64UrlEncode(secret_bytes);
  out.record.digest = SecretDigest(out.secret);
  out.record.created_at = std::chrono::floor<Seconds>(now);
  return out;
}

}  // namespace

Result<NewProject> CreateProject(SessionStore& store, const MasterKey& master_key,
                                 RandomSource& random, TimePoint now, std::string name, bool live,
                                 const ProjectSettings& settings) {
  NewProject out;
  TESSERA_ASSIGN_OR_RETURN(out.project.project_id, NewId("project", live, random));
  TESSERA_ASSIGN_OR_RETURN(out.project.public_token, NewId("public-token", live, random));
  TESSERA_ASSIGN_OR_RETURN(NewSecret secret, GenerateSecret(live, random, now));
  out.secret = std::move(secret.secret);
  out.project.secrets.push_back(std::move(secret.record));
  out.project.name = std::move(name);
  out.project.live = live;
  out.project.settings = settings;
  out.project.created_at = std::chrono::floor<Seconds>(now);

  // One active key and one next key: the next key is published from the start, so the first
  // rotation activates a key every verifier may already hold.
  KeyRing ring;
  TESSERA_ASSIGN_OR_RETURN(
      KeyRecord first,
      NewKeyRecord(out.project.project_id, settings.jwt_algorithm, live, master_key, random, now));
  const std::string first_kid = first.kid;
  TESSERA_RETURN_IF_ERROR(ring.AddNext(std::move(first)));
  TESSERA_RETURN_IF_ERROR(ring.Activate(first_kid, now));
  TESSERA_ASSIGN_OR_RETURN(
      KeyRecord next,
      NewKeyRecord(out.project.project_id, settings.jwt_algorithm, live, master_key, random, now));
  TESSERA_RETURN_IF_ERROR(ring.AddNext(std::move(next)));
  TESSERA_RETURN_IF_ERROR(store.CreateProject(out.project, ring.records()));
  return out;
}

Result<NewSecret> CreateProjectSecret(SessionStore& store, RandomSource& random,
                                      std::string_view project_id, TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Project> project, store.GetProject(project_id));
  if (!project) return Error(ErrorCode::kProjectNotFound, "Project could not be found.");
  TESSERA_ASSIGN_OR_RETURN(NewSecret out, GenerateSecret(project->live, random, now));
  TESSERA_RETURN_IF_ERROR(store.AddSecret(project_id, out.record));
  return out;
}

namespace {

// Reads the ring, applies `change` to it in memory and saves it at the version read. When another
// change of the ring came first (kStoreConflict), starts over from a fresh read, so `change` always
// applies to the ring as stored, never to an outdated copy; at most kKeyRingAttempts times.
Result<KeyRing> ChangeKeyRing(SessionStore& store, std::string_view project_id,
                              const std::function<Status(KeyRing&)>& change) {
  for (int attempt = 1;; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(KeyRingSnapshot read, store.ReadKeyRing(project_id));
    KeyRing ring(std::move(read.records));
    TESSERA_RETURN_IF_ERROR(change(ring));
    Status saved = store.SaveKeys(project_id, ring.records(), read.version);
    if (saved.ok()) return ring;
    if (saved.code() != ErrorCode::kStoreConflict || attempt == kKeyRingAttempts) return saved;
  }
}

}  // namespace

Result<KeyRing> RotateProjectKeys(SessionStore& store, const MasterKey& master_key,
                                  RandomSource& random, std::string_view project_id,
                                  TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Project> project, store.GetProject(project_id));
  if (!project) return Error(ErrorCode::kProjectNotFound, "Project could not be found.");
  // Generated once (an RSA key takes a while); each attempt adds a copy. A failed save wrote
  // nothing, so the kid is still unused.
  TESSERA_ASSIGN_OR_RETURN(const KeyRecord fresh,
                           NewKeyRecord(project_id, project->settings.jwt_algorithm, project->live,
                                        master_key, random, now));
  return ChangeKeyRing(store, project_id, [&](KeyRing& ring) -> Status {
    bool has_next = false;
    for (const auto& r : ring.records()) has_next = has_next || r.state == KeyState::kNext;
    if (!has_next) {
      // A ring without a published next key (all withdrawn): publish one now; it signs only from
      // the following rotation, once verifiers have had the chance to see it.
      return ring.AddNext(fresh);
    }
    return ring.Rotate(fresh, now);
  });
}

Result<KeyRing> RetireProjectKey(SessionStore& store, std::string_view project_id,
                                 std::string_view kid, TimePoint now) {
  return ChangeKeyRing(store, project_id,
                       [&](KeyRing& ring) -> Status { return ring.Retire(kid, now); });
}

}  // namespace tessera
