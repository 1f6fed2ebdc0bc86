// Password resets (spec-next §4.2-§4.5): by an emailed link, with the existing password, or from
// a recently authenticated session. Each ends the user's other sessions with one store
// operation that appends one `user` entry to the revocation log.
#include "common/text.h"
#include "common/time_format.h"
#include "service/email/email_sign_in.h"
#include "service/email/one_time_secrets.h"
#include "service/email/sandbox.h"
#include "service/ids.h"
#include "store/records_json.h"

namespace tessera {
namespace {

Status NotFound() {
  return Error(ErrorCode::kMagicLinkNotFound,
               "The password reset link could not be authenticated, try sending another one to "
               "the user.");
}

Status UsedOrExpired() {
  return Error(ErrorCode::kUnableToAuthMagicLink,
               "The password reset link could not be authenticated because it was either already "
               "used or expired. Send another one to this user.");
}

Status Locked() {
  return Error(ErrorCode::kUserLocked,
               "The user has been locked out due to too many failed authentication attempts. "
               "Please try again later.");
}

LockPolicy PolicyOf(const ProjectContext& project) {
  const ProjectSettings& s = project.project.settings;
  return LockPolicy{s.lock_threshold, s.lock_window, s.lock_duration};
}

// A factor that may start a session reset: a password, an email magic link or an email passcode,
// authenticated within the last 5 minutes (spec-next §4.5).
bool RecentResetFactor(const boost::json::array& factors, TimePoint now) {
  for (const auto& f : factors) {
    if (!f.is_object()) continue;
    const auto& o = f.get_object();
    const auto* type = o.if_contains("type");
    const auto* delivery = o.if_contains("delivery_method");
    const auto* at = o.if_contains("last_authenticated_at");
    if (type == nullptr || !type->is_string() || delivery == nullptr || !delivery->is_string() ||
        at == nullptr || !at->is_string()) {
      continue;
    }
    const std::string_view t = type->get_string();
    const std::string_view d = delivery->get_string();
    const bool kind =
        t == "password" || ((t == "magic_link" || t == "otp" || t == "email_otp") && d == "email");
    if (!kind) continue;
    const auto when = ParseRfc3339(at->get_string());
    if (when.ok() && now - *when <= std::chrono::minutes(5)) return true;
  }
  return false;
}

}  // namespace

Result<EmailSendResult> EmailSignInService::ResetStart(const ProjectContext& project,
                                                       const EmailSendRequest& r, TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  Issue issue;
  const std::int64_t minutes = r.minutes.value_or(kDefaultResetMinutes);
  if (minutes < kMinLinkMinutes || minutes > kMaxLinkMinutes) {
    return Error(ErrorCode::kInvalidExpiration,
                 "reset_password_expiration_minutes must be between 5 and 10080 minutes.");
  }
  issue.minutes = minutes;
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(CheckTemplateIds(templates_, {&r.reset_template_id}));
  const bool pkce = r.code_challenge.has_value() && !r.code_challenge->empty();
  TESSERA_ASSIGN_OR_RETURN(
      std::string url,
      ResolveRedirect(project, RedirectUrlType::kResetPassword, r.reset_url, true, pkce));
  // The "log in without a password" link: the given login URL, else the default login URL when
  // the project has one; without either the email simply has no such link.
  std::string login_url;
  if (r.login_url) {
    TESSERA_ASSIGN_OR_RETURN(
        login_url, ResolveRedirect(project, RedirectUrlType::kLogin, r.login_url, false, false));
  } else if (auto fallback =
                 ResolveRedirect(project, RedirectUrlType::kLogin, std::nullopt, false, false);
             fallback.ok()) {
    login_url = *fallback;
  }
  // By address only: a reset never adds an address to a user.
  EmailSendRequest by_email;
  by_email.email = r.email;
  TESSERA_ASSIGN_OR_RETURN(Target target, ExistingTarget(project, by_email, now));
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  issue.kind = OneTimeTokenKind::kPasswordReset;
  issue.email_kind = EmailKind::kResetPassword;
  issue.template_id = r.reset_template_id;
  if (issue.template_id && issue.template_id->empty()) issue.template_id.reset();
  TESSERA_ASSIGN_OR_RETURN(issue.secret, GenerateMagicToken(ctx_.random));
  issue.link = LinkWithToken(url, "reset_password", issue.secret);
  issue.code_challenge = r.code_challenge.value_or("");
  if (!login_url.empty()) {
    TESSERA_ASSIGN_OR_RETURN(issue.login_token, GenerateMagicToken(ctx_.random));
    issue.login_link = LinkWithToken(login_url, "login", issue.login_token);
  }
  TESSERA_RETURN_IF_ERROR(IssueAndQueue(project, target, r.email, issue, r, now));
  return EmailSendResult{target.user->user.user_id, target.email_id, false};
}

Result<EmailAuthResult> EmailSignInService::ResetByEmail(const ProjectContext& project,
                                                         const EmailAuthRequest& r, TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(r.session));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  if (r.password.empty()) return Error(ErrorCode::kBadRequest, "password is required.");
  if (r.password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "password must be at most 256 bytes.");
  }
  if (r.token.empty() || r.token.size() > 512 || !IsStorableText(r.token)) return NotFound();
  const std::string& pid = project.project.project_id;
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<OneTimeToken> found,
      ctx_.store.FindOneTimeToken(pid, DigestMagicToken(ctx_.master_key, r.token)));
  if (!found || found->kind != OneTimeTokenKind::kPasswordReset) return NotFound();
  if (found->consumed_at || found->expires_at <= now) return UsedOrExpired();
  TESSERA_RETURN_IF_ERROR(CheckPkce(found->code_challenge, r.code_verifier));
  TESSERA_RETURN_IF_ERROR(CheckOptions(*found, r));
  auto user = LoadUser(ctx_, pid, found->user_id);
  if (!user.ok() && user.status().code() == ErrorCode::kUserNotFound) return NotFound();
  TESSERA_RETURN_IF_ERROR(user.status());
  TESSERA_RETURN_IF_ERROR(CheckNewPassword(project, r.password, found->email));
  TESSERA_ASSIGN_OR_RETURN(std::string keep, KeptSession(project, r, found->user_id, now));
  TESSERA_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(r.password));
  TESSERA_ASSIGN_OR_RETURN(bool consumed,
                           ctx_.store.ConsumeOneTimeToken(pid, found->token_id, now));
  if (!consumed) return UsedOrExpired();
  // Proving the mailbox resets the password and lifts a lock.
  TESSERA_ASSIGN_OR_RETURN(
      auto current, StorePassword(project, found->user_id, std::move(hash), found->method_id, now));
  // "A successful password reset by email will revoke all active sessions for the user_id".
  TESSERA_RETURN_IF_ERROR(RevokeOtherSessions(project, found->user_id, keep, now));
  EmailAuthResult out;
  out.user = current;
  out.method_id = found->method_id;
  TESSERA_ASSIGN_OR_RETURN(out.session, ResetSession(project, std::move(current), r, now, epoch));
  return out;
}

Result<EmailAuthResult> EmailSignInService::ResetExistingPassword(
    const ProjectContext& project, std::string_view email, std::string_view existing_password,
    std::string_view new_password, const EmailAuthRequest& r, TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(email));
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(r.session));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  if (existing_password.empty() || existing_password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "existing_password must be 1 to 256 bytes.");
  }
  if (new_password.empty() || new_password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "new_password must be 1 to 256 bytes.");
  }
  const std::string& pid = project.project.project_id;
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> found, ctx_.store.GetUserByEmail(pid, email));
  if (!found) return Error(ErrorCode::kEmailNotFound, "Email could not be found.");
  if (found->locked_until && *found->locked_until > now) return Locked();
  if (!found->password) return Error(ErrorCode::kNoUserPassword, "This user has no password.");
  if (!hasher_.Verify(found->password->hash, existing_password)) {
    // Counted like any wrong password: guessing here is guessing at passwords/authenticate.
    TESSERA_RETURN_IF_ERROR(
        ctx_.store.RecordPasswordFailure(pid, found->user_id, now, PolicyOf(project)).status());
    ctx_.users.Evict(pid, found->user_id);
    ctx_.sessions.EvictUser(pid, found->user_id);
    return Error(ErrorCode::kPasswordMismatch, "Unauthorized credentials.");
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> fresh, ctx_.store.GetUser(pid, found->user_id));
  if (!fresh) return Error(ErrorCode::kUserNotFound, "User could not be found.");
  if (fresh->locked_until && *fresh->locked_until > now) return Locked();
  TESSERA_RETURN_IF_ERROR(CheckNewPassword(project, new_password, email));
  TESSERA_ASSIGN_OR_RETURN(std::string keep, KeptSession(project, r, found->user_id, now));
  TESSERA_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(new_password));
  TESSERA_ASSIGN_OR_RETURN(auto current,
                           StorePassword(project, found->user_id, std::move(hash), "", now));
  TESSERA_RETURN_IF_ERROR(RevokeOtherSessions(project, found->user_id, keep, now));
  EmailAuthResult out;
  out.user = current;
  for (const UserEmail& e : current->user.emails) {
    if (NormalizeEmail(e.email) == NormalizeEmail(email)) out.method_id = e.email_id;
  }
  TESSERA_ASSIGN_OR_RETURN(out.session, ResetSession(project, std::move(current), r, now, epoch));
  return out;
}

Result<EmailAuthResult> EmailSignInService::ResetBySession(const ProjectContext& project,
                                                           std::string_view password,
                                                           const EmailAuthRequest& r,
                                                           TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(r.session));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  if (!r.session_token && !r.session_jwt) {
    return Error(ErrorCode::kNoSessionArguments,
                 "One of session_token or session_jwt is required.");
  }
  std::optional<std::string_view> token, jwt;
  if (r.session_token) token = *r.session_token;
  if (r.session_jwt) jwt = *r.session_jwt;
  TESSERA_ASSIGN_OR_RETURN(auto session, sessions_.Find(project, token, jwt, now));
  if (!RecentResetFactor(session->record.authentication_factors, now)) {
    return Error(ErrorCode::kSessionTooOldToResetPassword,
                 "The provided session cannot be used to reset a password. It does not have an "
                 "authentication_factor that was authenticated within the last 5 minutes. Please "
                 "prompt the user to authenticate again before retrying the endpoint.");
  }
  const std::string& pid = project.project.project_id;
  const std::string user_id = session->record.user_id;
  const std::string session_id = session->record.session_id;
  TESSERA_ASSIGN_OR_RETURN(auto user, LoadUser(ctx_, pid, user_id));
  const std::string email = user->user.emails.empty() ? "" : user->user.emails.front().email;
  TESSERA_RETURN_IF_ERROR(CheckNewPassword(project, password, email));
  TESSERA_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(password));
  TESSERA_ASSIGN_OR_RETURN(auto current, StorePassword(project, user_id, std::move(hash), "", now));
  // Every other session of the user ends; the one used here goes on.
  TESSERA_RETURN_IF_ERROR(RevokeOtherSessions(project, user_id, session_id, now));
  EmailAuthResult out;
  out.user = current;
  TESSERA_ASSIGN_OR_RETURN(SessionResult s,
                           token ? sessions_.AuthenticateToken(project, *token, r.session, now)
                                 : sessions_.AuthenticateJwt(project, *jwt, r.session, now));
  out.session = std::move(s);
  return out;
}

}  // namespace tessera
