// One-time passcodes by email (spec-next §3). SMS and WhatsApp need a provider this server does
// not have: only their sandbox number answers.
#include "common/text.h"
#include "service/email/email_sign_in.h"
#include "service/email/one_time_secrets.h"
#include "service/email/sandbox.h"
#include "service/ids.h"
#include "store/records_json.h"

namespace tessera {
namespace {

Status WrongCode() {
  return Error(ErrorCode::kOtpCodeNotFound,
               "The passcode was incorrect and could not be authenticated, encourage the user to "
               "try inputting the passcode again or send another passcode.");
}

Status UsedOrExpired() {
  return Error(ErrorCode::kUnableToAuthOtpCode,
               "The passcode could not be authenticated because it was either already used or "
               "expired. Send another passcode to this user.");
}

Status Locked() {
  return Error(ErrorCode::kUserLocked,
               "The user has been locked out due to too many failed authentication attempts. "
               "Please try again later.");
}

Result<std::int64_t> OtpMinutes(const std::optional<std::int64_t>& given) {
  const std::int64_t m = given.value_or(kDefaultOtpMinutes);
  if (m < kMinOtpMinutes || m > kMaxOtpMinutes) {
    return Error(ErrorCode::kInvalidExpirationOtp,
                 "expiration_minutes must be between 1 and 10 minutes.");
  }
  return m;
}

LockPolicy PolicyOf(const ProjectContext& project) {
  const ProjectSettings& s = project.project.settings;
  return LockPolicy{s.lock_threshold, s.lock_window, s.lock_duration};
}

}  // namespace

Result<EmailSendResult> EmailSignInService::SendOtp(const ProjectContext& project,
                                                    const EmailSendRequest& r, const Target& target,
                                                    TimePoint now) {
  const bool login = target.user->user.status == "active" && !target.created;
  Issue issue;
  issue.kind = OneTimeTokenKind::kEmailOtp;
  issue.email_kind = login ? EmailKind::kOtpLogin : EmailKind::kOtpSignup;
  issue.template_id = login ? r.login_template_id : r.signup_template_id;
  if (issue.template_id && issue.template_id->empty()) issue.template_id.reset();
  TESSERA_ASSIGN_OR_RETURN(issue.minutes, OtpMinutes(r.minutes));
  TESSERA_ASSIGN_OR_RETURN(issue.secret, GenerateOtpCode(ctx_.random));
  TESSERA_RETURN_IF_ERROR(IssueAndQueue(project, target, r.email, issue, r, now));
  return EmailSendResult{target.user->user.user_id, target.email_id, target.created};
}

Result<EmailSendResult> EmailSignInService::OtpSend(const ProjectContext& project,
                                                    const EmailSendRequest& r, TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  TESSERA_RETURN_IF_ERROR(OtpMinutes(r.minutes).status());
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(
      CheckTemplateIds(templates_, {&r.login_template_id, &r.signup_template_id}));
  TESSERA_ASSIGN_OR_RETURN(Target target, ExistingTarget(project, r, now));
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  return SendOtp(project, r, target, now);
}

Result<EmailSendResult> EmailSignInService::OtpLoginOrCreate(const ProjectContext& project,
                                                             const EmailSendRequest& r,
                                                             TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  TESSERA_RETURN_IF_ERROR(OtpMinutes(r.minutes).status());
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(
      CheckTemplateIds(templates_, {&r.login_template_id, &r.signup_template_id}));
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  UserFields fields;
  fields.create_as_pending = r.create_user_as_pending;
  TESSERA_ASSIGN_OR_RETURN(Target target, FindOrCreate(project, r.email, fields, now));
  return SendOtp(project, r, target, now);
}

Result<EmailSendResult> EmailSignInService::PhoneOtpSend(const ProjectContext& project,
                                                         std::string_view phone,
                                                         std::optional<std::int64_t> minutes) {
  TESSERA_RETURN_IF_ERROR(ValidatePhoneNumber(phone));
  TESSERA_RETURN_IF_ERROR(OtpMinutes(minutes).status());
  if (!project.project.live && phone == sandbox::kPhone) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kPhoneId), false};
  }
  return Error(ErrorCode::kSmsNotConfigured,
               "This server has no SMS provider configured, so it cannot send passcodes by SMS or "
               "WhatsApp. Use email passcodes (otps/email/*) instead.");
}

Result<EmailAuthResult> EmailSignInService::OtpAuthenticate(const ProjectContext& project,
                                                            const EmailAuthRequest& r,
                                                            TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(r.session));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  const bool email_method = IsIdOfKind(r.method_id, "email");
  if (!email_method && !IsIdOfKind(r.method_id, "phone-number")) {
    return Error(ErrorCode::kInvalidMethodId, "method_id format is invalid.");
  }
  if (!IsOtpCodeShape(r.code)) return Error(ErrorCode::kInvalidCode, "Code format is invalid.");
  if (!project.project.live &&
      (r.method_id == sandbox::kEmailId || r.method_id == sandbox::kPhoneId)) {
    if (r.code != sandbox::kCode) return WrongCode();
    return EmailAuthResult{sandbox::User(), r.method_id, std::nullopt};
  }
  // No SMS provider: no phone passcode was ever sent.
  if (!email_method) return WrongCode();
  const std::string& pid = project.project.project_id;
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<OneTimeToken> found,
      ctx_.store.FindOneTimeToken(pid, DigestOtpCode(ctx_.master_key, r.method_id, r.code)));
  if (!found || found->kind != OneTimeTokenKind::kEmailOtp || found->method_id != r.method_id) {
    // A wrong code: a failed authentication of the address's user, counted towards its lock.
    UserQuery q;
    q.filters.push_back(UserFilter{UserFilter::Kind::kEmailId, {r.method_id}, {}, {}, false});
    TESSERA_ASSIGN_OR_RETURN(UserPage page, ctx_.store.SearchUsers(pid, q, std::nullopt, 1));
    if (page.users.empty()) return WrongCode();
    const User& owner = page.users.front();
    if (owner.locked_until && *owner.locked_until > now) return Locked();
    TESSERA_RETURN_IF_ERROR(
        ctx_.store.RecordPasswordFailure(pid, owner.user_id, now, PolicyOf(project)).status());
    ctx_.users.Evict(pid, owner.user_id);
    ctx_.sessions.EvictUser(pid, owner.user_id);
    return WrongCode();
  }
  auto user = LoadUser(ctx_, pid, found->user_id);
  if (!user.ok() && user.status().code() == ErrorCode::kUserNotFound) return WrongCode();
  TESSERA_RETURN_IF_ERROR(user.status());
  if ((*user)->LockedAt(now)) return Locked();
  if (found->consumed_at || found->expires_at <= now) return UsedOrExpired();
  TESSERA_RETURN_IF_ERROR(CheckOptions(*found, r));
  TESSERA_RETURN_IF_ERROR(CheckAttach(project, r, found->user_id, now));
  TESSERA_ASSIGN_OR_RETURN(bool consumed,
                           ctx_.store.ConsumeOneTimeToken(pid, found->token_id, now));
  if (!consumed) return UsedOrExpired();
  TESSERA_ASSIGN_OR_RETURN(auto current,
                           Complete(project, found->user_id, found->method_id, true, now));
  EmailAuthResult out;
  out.user = current;
  out.method_id = found->method_id;
  TESSERA_ASSIGN_OR_RETURN(out.session, SessionFor(project, std::move(current),
                                                   EmailFactor(options_.otp_factor_type,
                                                               found->method_id, found->email, now),
                                                   r, now, epoch));
  return out;
}

}  // namespace tessera
