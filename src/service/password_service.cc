#include "service/password_service.h"

#include "crypto/hash.h"
#include "service/ids.h"
#include "service/views.h"
#include "store/records_json.h"

namespace tessera {
namespace {

Status CheckLength(std::string_view password) {
  if (password.empty()) return Error(ErrorCode::kBadRequest, "password is required.");
  if (password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "password must be at most 256 bytes.");
  }
  return Status::Ok();
}

Status Mismatch() { return Error(ErrorCode::kPasswordMismatch, "Unauthorized credentials."); }

Status Locked() {
  return Error(ErrorCode::kUserLocked,
               "This user is locked after too many failed password attempts; try again later.");
}

bool LockedAt(const std::optional<TimePoint>& locked_until, TimePoint now) {
  return locked_until && *locked_until > now;
}

LockPolicy PolicyOf(const ProjectContext& project) {
  const ProjectSettings& s = project.project.settings;
  return LockPolicy{s.lock_threshold, s.lock_window, s.lock_duration};
}

}  // namespace

StrengthResult PasswordService::StrengthCheck(const ProjectContext& project,
                                              std::string_view password,
                                              std::string_view email) const {
  std::vector<std::string> inputs;
  if (!email.empty()) {
    inputs.emplace_back(email);
    inputs.emplace_back(email.substr(0, email.find('@')));
  }
  return CheckPasswordStrength(password, inputs, project.project.settings);
}

Result<PasswordResult> PasswordService::Create(const ProjectContext& project,
                                               const PasswordCreateRequest& req, TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateEmail(req.email));
  TESSERA_RETURN_IF_ERROR(CheckLength(req.password));
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(req.session));
  const StrengthResult strength = StrengthCheck(project, req.password, req.email);
  if (!strength.valid) {
    std::string msg = "The password is too weak.";
    if (!strength.warning.empty()) msg += " " + strength.warning;
    return Error(ErrorCode::kWeakPassword, msg);
  }
  now = std::chrono::floor<Seconds>(now);
  TESSERA_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(req.password));

  UserFields fields = req.user;
  fields.email = req.email;
  fields.phone_number.reset();
  TESSERA_ASSIGN_OR_RETURN(std::string password_id,
                           NewId("password", project.project.live, ctx_.random));
  // The user and its password are written in one transaction: no password-less user is left
  // behind if anything fails. The epoch is read before the user exists (SessionService::Create).
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(
      auto created,
      users_.Create(project, fields, now, UserPassword{password_id, std::move(hash), false, now}));
  PasswordResult out;
  out.user = std::move(created);
  out.email_id = out.user->user.emails.empty() ? "" : out.user->user.emails[0].email_id;
  if (req.session.duration_minutes) {
    TESSERA_ASSIGN_OR_RETURN(SessionResult s,
                             sessions_.Create(project, out.user, PasswordFactor(now), req.session,
                                              req.attributes, now, epoch));
    out.session = std::move(s);
  }
  return out;
}

Result<bool> PasswordService::VerifyStored(const std::string& stored,
                                           std::string_view password) const {
  if (IsMigratedHash(stored)) return VerifyMigratedHash(stored, password);
  return hasher_.Verify(stored, password);
}

Result<PasswordMigrateResult> PasswordService::Migrate(const ProjectContext& project,
                                                       const PasswordMigrateRequest& req,
                                                       TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_ASSIGN_OR_RETURN(User prepared,
                           PrepareMigratedUser(project.project, req, ctx_.random, now));
  const std::string& pid = project.project.project_id;
  for (int attempt = 0;; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<User> found, ctx_.store.GetUserByEmail(pid, req.email));
    if (!found) {
      const Status created = ctx_.store.CreateUser(prepared);
      // A user with this email was created since the read: migrate onto it instead.
      if (created.code() == ErrorCode::kDuplicateEmail && attempt == 0) continue;
      TESSERA_RETURN_IF_ERROR(created);
      PasswordMigrateResult out;
      out.email_id = prepared.emails.front().email_id;
      out.user = MakeCachedUser(std::move(prepared));
      out.user_created = true;
      ctx_.users.Insert(out.user, ctx_.users.epoch());
      return out;
    }
    PasswordMigrateResult out;
    TESSERA_ASSIGN_OR_RETURN(out.user, users_.Modify(project, found->user_id, now, [&](User& u) {
      return ApplyMigrationToExistingUser(prepared, req, u);
    }));
    for (const UserEmail& e : out.user->user.emails) {
      if (NormalizeEmail(e.email) == NormalizeEmail(req.email)) out.email_id = e.email_id;
    }
    return out;
  }
}

Status PasswordService::RecordFailure(const ProjectContext& project, const User& user,
                                      TimePoint now) {
  const std::string& pid = project.project.project_id;
  TESSERA_RETURN_IF_ERROR(
      ctx_.store.RecordPasswordFailure(pid, user.user_id, now, PolicyOf(project)).status());
  // The user's lock state is part of the user object sessions render.
  ctx_.users.Evict(pid, user.user_id);
  ctx_.sessions.EvictUser(pid, user.user_id);
  return Status::Ok();
}

Status PasswordService::UnknownEmail(const ProjectContext& project, std::string_view email,
                                     std::string_view password, TimePoint now) {
  const std::string& pid = project.project.project_id;
  const EmailKey key = crypto::Sha256(NormalizeEmail(email));
  TESSERA_ASSIGN_OR_RETURN(FailureState state, ctx_.store.GetUnknownEmailFailures(pid, key));
  hasher_.VerifyDummy(password);
  if (LockedAt(state.locked_until, now)) return Locked();
  TESSERA_RETURN_IF_ERROR(
      ctx_.store.RecordUnknownEmailFailure(pid, key, now, PolicyOf(project)).status());
  return Mismatch();
}

Result<PasswordResult> PasswordService::Authenticate(const ProjectContext& project,
                                                     const PasswordAuthRequest& req,
                                                     TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateEmail(req.email));  // Also keeps NULs away from the store.
  TESSERA_RETURN_IF_ERROR(CheckLength(req.password));
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(req.session));
  if (req.session_token && req.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  now = std::chrono::floor<Seconds>(now);
  const bool protect = project.project.settings.enumeration_protection;
  const std::string& pid = project.project.project_id;

  // Read before any snapshot of the user is taken (SessionService::Create): a change or deletion
  // of the user from here on keeps the session this call may create out of the cache.
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> found, ctx_.store.GetUserByEmail(pid, req.email));
  if (!found) {
    if (!protect) {
      return Error(ErrorCode::kEmailNotFound, "No user with this email was found.");
    }
    return UnknownEmail(project, req.email, req.password, now);
  }
  User user = std::move(*found);
  if (LockedAt(user.locked_until, now)) {
    if (protect) hasher_.VerifyDummy(req.password);
    return Locked();
  }
  if (!user.password) {
    if (protect) {
      // What a wrong password costs and answers.
      hasher_.VerifyDummy(req.password);
      TESSERA_RETURN_IF_ERROR(RecordFailure(project, user, now));
      return Mismatch();
    }
    return Error(ErrorCode::kNoUserPassword, "This user has no password.");
  }
  TESSERA_ASSIGN_OR_RETURN(const bool match, VerifyStored(user.password->hash, req.password));
  if (!match) {
    TESSERA_RETURN_IF_ERROR(RecordFailure(project, user, now));
    return Mismatch();
  }
  // Failures counted on any node while the hash ran may have locked the user: look again, so a
  // correct guess racing the lock that other guesses set is refused.
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> fresh, ctx_.store.GetUser(pid, user.user_id));
  if (!fresh) return Error(ErrorCode::kUserNotFound, "User could not be found.");
  if (LockedAt(fresh->locked_until, now)) return Locked();
  user = std::move(*fresh);
  if (!user.password) return Mismatch();  // Removed while the hash ran.
  if (user.password->requires_reset) {
    return Error(ErrorCode::kResetPassword, "The password must be reset before it can be used.");
  }

  std::shared_ptr<const CachedUser> current;
  const bool clear_failures = user.failed_password_attempts > 0 || user.locked_until.has_value();
  // A migrated hash is replaced by Tessera's own at its first successful use, as is an Argon2id
  // hash made with other parameters than the current ones.
  const bool rehash =
      IsMigratedHash(user.password->hash) || hasher_.NeedsRehash(user.password->hash);
  if (clear_failures || rehash) {
    std::string new_hash;
    if (rehash) {
      TESSERA_ASSIGN_OR_RETURN(new_hash, hasher_.Hash(req.password));
    }
    TESSERA_ASSIGN_OR_RETURN(current, users_.Modify(project, user.user_id, now, [&](User& u) {
      if (LockedAt(u.locked_until, now)) return Locked();  // Locked since the read above.
      u.failed_password_attempts = 0;
      u.first_failed_at.reset();
      u.locked_until.reset();
      if (rehash && u.password) u.password->hash = new_hash;
      return Status::Ok();
    }));
  } else {
    TESSERA_ASSIGN_OR_RETURN(current, LoadUser(ctx_, pid, user.user_id));
  }

  PasswordResult out;
  out.user = current;
  for (const auto& e : current->user.emails) {
    if (NormalizeEmail(e.email) == NormalizeEmail(req.email)) {
      out.email_id = e.email_id;
    }
  }
  if (req.session_token || req.session_jwt) {
    std::optional<std::string_view> token, jwt;
    if (req.session_token) token = *req.session_token;
    if (req.session_jwt) jwt = *req.session_jwt;
    TESSERA_ASSIGN_OR_RETURN(
        SessionResult s, sessions_.AttachFactor(project, current, token, jwt, PasswordFactor(now),
                                                req.session, now));
    out.session = std::move(s);
  } else if (req.session.duration_minutes) {
    TESSERA_ASSIGN_OR_RETURN(SessionResult s,
                             sessions_.Create(project, current, PasswordFactor(now), req.session,
                                              req.attributes, now, epoch));
    out.session = std::move(s);
  }
  return out;
}

}  // namespace tessera
