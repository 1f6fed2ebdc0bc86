// Email magic links: send, login_or_create, invite, revoke_invite, embeddable links and
// authenticate (spec-next §2).
#include "common/text.h"
#include "service/email/email_sign_in.h"
#include "service/email/one_time_secrets.h"
#include "service/email/sandbox.h"
#include "service/ids.h"
#include "store/records_json.h"

namespace tessera {
namespace {

Status NotFound() {
  return Error(ErrorCode::kMagicLinkNotFound,
               "The magic link could not be authenticated, try sending another magic link to the "
               "user.");
}

Status UsedOrExpired() {
  return Error(ErrorCode::kUnableToAuthMagicLink,
               "The magic link could not be authenticated because it was either already used or "
               "expired. Send another magic link to this user.");
}

Result<std::int64_t> Minutes(const std::optional<std::int64_t>& given, std::int64_t fallback,
                             std::string_view name) {
  const std::int64_t m = given.value_or(fallback);
  if (m < kMinLinkMinutes || m > kMaxLinkMinutes) {
    return Error(ErrorCode::kInvalidExpiration,
                 std::string(name) + " must be between 5 and 10080 minutes.");
  }
  return m;
}

}  // namespace

Status ValidateLocale(const std::optional<std::string>& locale) {
  if (!locale || locale->empty()) return Status::Ok();
  for (const char* ok : {"en", "es", "pt-br", "fr"}) {
    if (*locale == ok) return Status::Ok();
  }
  return Error(ErrorCode::kInvalidLocale, "locale is invalid.");
}

Status CheckTemplateIds(const EmailTemplates& templates,
                        std::initializer_list<const std::optional<std::string>*> ids) {
  for (const auto* id : ids) {
    if (id->has_value() && !(*id)->empty() && !templates.Has(**id)) {
      return Error(ErrorCode::kEmailTemplateNotFound, "Email Template could not be found.");
    }
  }
  return Status::Ok();
}

Result<EmailSendResult> EmailSignInService::SendMagicLink(const ProjectContext& project,
                                                          const EmailSendRequest& r,
                                                          const Target& target, TimePoint now) {
  // An active user gets a login link; a new or pending one a sign-up link (spec-next §2.2).
  // The URL was already checked (PlanLink) before anything was written; this resolves it again
  // for the user as found now, which differs only when a concurrent call changed the user.
  const bool login = target.user->user.status == "active" && !target.created;
  const RedirectUrlType type = login ? RedirectUrlType::kLogin : RedirectUrlType::kSignup;
  const bool pkce = r.code_challenge.has_value() && !r.code_challenge->empty();
  TESSERA_ASSIGN_OR_RETURN(
      std::string url,
      ResolveRedirect(project, type, login ? r.login_url : r.signup_url, true, pkce));
  Issue issue;
  issue.kind = OneTimeTokenKind::kMagicLink;
  issue.email_kind = login ? EmailKind::kMagicLinkLogin : EmailKind::kMagicLinkSignup;
  issue.template_id = login ? r.login_template_id : r.signup_template_id;
  if (issue.template_id && issue.template_id->empty()) issue.template_id.reset();
  TESSERA_ASSIGN_OR_RETURN(
      issue.minutes,
      login ? Minutes(r.login_minutes, kDefaultLoginMinutes, "login_expiration_minutes")
            : Minutes(r.signup_minutes, kDefaultSignupMinutes, "signup_expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(issue.secret, GenerateMagicToken(ctx_.random));
  issue.link = LinkWithToken(url, "magic_links", issue.secret);
  issue.code_challenge = r.code_challenge.value_or("");
  TESSERA_RETURN_IF_ERROR(IssueAndQueue(project, target, r.email, issue, r, now));
  return EmailSendResult{target.user->user.user_id, target.email_id, target.created};
}

Status EmailSignInService::PlanLink(const ProjectContext& project, const EmailSendRequest& r,
                                    bool must_exist, TimePoint now) {
  // Read-only: whether the link will be a login or a sign-up link, so that a bad or missing URL
  // is refused before a user is created or an address added.
  const std::string& pid = project.project.project_id;
  std::optional<User> user;
  if (r.user_id) {
    TESSERA_ASSIGN_OR_RETURN(auto owner, LoadUser(ctx_, pid, *r.user_id));
    user = owner->user;
  } else if (r.session_token || r.session_jwt) {
    std::optional<std::string_view> token, jwt;
    if (r.session_token) token = *r.session_token;
    if (r.session_jwt) jwt = *r.session_jwt;
    TESSERA_ASSIGN_OR_RETURN(auto session, sessions_.Find(project, token, jwt, now));
    TESSERA_ASSIGN_OR_RETURN(auto owner, LoadUser(ctx_, pid, session->record.user_id));
    user = owner->user;
  } else {
    TESSERA_ASSIGN_OR_RETURN(user, ctx_.store.GetUserByEmail(pid, r.email));
    if (!user && must_exist) return Error(ErrorCode::kEmailNotFound, "Email could not be found.");
  }
  const bool login = user && user->status == "active";
  const bool pkce = r.code_challenge.has_value() && !r.code_challenge->empty();
  return ResolveRedirect(project, login ? RedirectUrlType::kLogin : RedirectUrlType::kSignup,
                         login ? r.login_url : r.signup_url, true, pkce)
      .status();
}

Result<EmailSendResult> EmailSignInService::MagicLinkSend(const ProjectContext& project,
                                                          const EmailSendRequest& r,
                                                          TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  TESSERA_RETURN_IF_ERROR(
      Minutes(r.login_minutes, kDefaultLoginMinutes, "login_expiration_minutes").status());
  TESSERA_RETURN_IF_ERROR(
      Minutes(r.signup_minutes, kDefaultSignupMinutes, "signup_expiration_minutes").status());
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(
      CheckTemplateIds(templates_, {&r.login_template_id, &r.signup_template_id}));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  TESSERA_RETURN_IF_ERROR(PlanLink(project, r, true, now));
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  TESSERA_ASSIGN_OR_RETURN(Target target, ExistingTarget(project, r, now));
  return SendMagicLink(project, r, target, now);
}

Result<EmailSendResult> EmailSignInService::MagicLinkLoginOrCreate(const ProjectContext& project,
                                                                   const EmailSendRequest& r,
                                                                   TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  TESSERA_RETURN_IF_ERROR(
      Minutes(r.login_minutes, kDefaultLoginMinutes, "login_expiration_minutes").status());
  TESSERA_RETURN_IF_ERROR(
      Minutes(r.signup_minutes, kDefaultSignupMinutes, "signup_expiration_minutes").status());
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(
      CheckTemplateIds(templates_, {&r.login_template_id, &r.signup_template_id}));
  TESSERA_RETURN_IF_ERROR(PlanLink(project, r, false, now));
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  UserFields fields;
  fields.create_as_pending = r.create_user_as_pending;
  TESSERA_ASSIGN_OR_RETURN(Target target, FindOrCreate(project, r.email, fields, now));
  return SendMagicLink(project, r, target, now);
}

Result<EmailSendResult> EmailSignInService::MagicLinkInvite(const ProjectContext& project,
                                                            const EmailSendRequest& r,
                                                            TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(r.email));
  if (!project.project.live && sandbox::IsEmail(r.email)) {
    return EmailSendResult{std::string(sandbox::kUserId), std::string(sandbox::kEmailId), false};
  }
  Issue issue;
  TESSERA_ASSIGN_OR_RETURN(
      issue.minutes, Minutes(r.invite_minutes, kDefaultInviteMinutes, "invite_expiration_minutes"));
  TESSERA_RETURN_IF_ERROR(ValidateLocale(r.locale));
  TESSERA_RETURN_IF_ERROR(CheckTemplateIds(templates_, {&r.invite_template_id}));
  TESSERA_ASSIGN_OR_RETURN(std::string url, ResolveRedirect(project, RedirectUrlType::kInvite,
                                                            r.invite_url, false, false));
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> existing,
                           ctx_.store.GetUserByEmail(project.project.project_id, r.email));
  // An active user has nothing to accept; a pending one is invited again.
  if (existing && existing->status == "active") {
    return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
  }
  TESSERA_RETURN_IF_ERROR(CheckRateLimits(project, r.email, r, now));
  UserFields fields = r.invite_fields;
  fields.create_as_pending = true;
  TESSERA_ASSIGN_OR_RETURN(Target target, FindOrCreate(project, r.email, fields, now));
  if (target.user->user.status == "active") {
    return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
  }
  issue.kind = OneTimeTokenKind::kInvite;
  issue.email_kind = EmailKind::kInvite;
  issue.template_id = r.invite_template_id;
  if (issue.template_id && issue.template_id->empty()) issue.template_id.reset();
  TESSERA_ASSIGN_OR_RETURN(issue.secret, GenerateMagicToken(ctx_.random));
  issue.link = LinkWithToken(url, "magic_links", issue.secret);
  TESSERA_RETURN_IF_ERROR(IssueAndQueue(project, target, r.email, issue, r, now));
  return EmailSendResult{target.user->user.user_id, target.email_id, target.created};
}

Status EmailSignInService::MagicLinkRevokeInvite(const ProjectContext& project,
                                                 std::string_view email, TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateEmail(email));
  if (!project.project.live && sandbox::IsEmail(email)) return Status::Ok();
  const std::string& pid = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, ctx_.store.GetUserByEmail(pid, email));
  if (!user) return Error(ErrorCode::kEmailNotFound, "Email could not be found.");
  std::string email_id;
  for (const UserEmail& e : user->emails) {
    if (NormalizeEmail(e.email) == NormalizeEmail(email)) email_id = e.email_id;
  }
  TESSERA_ASSIGN_OR_RETURN(
      std::int64_t revoked,
      ctx_.store.RevokeOneTimeTokens(pid, email_id, OneTimeTokenKind::kInvite, now));
  if (revoked == 0) {
    return Error(ErrorCode::kEmailNotFound, "No pending invite was found for this email.");
  }
  // The invitation was the user's only reason to exist while it is pending.
  if (user->status == "pending") {
    const Status s = users_.Delete(project, user->user_id, now);
    if (!s.ok() && s.code() != ErrorCode::kUserNotFound) return s;
  }
  return Status::Ok();
}

Result<EmbeddedLink> EmailSignInService::MagicLinkCreate(const ProjectContext& project,
                                                         std::string_view user_id,
                                                         std::optional<std::int64_t> minutes,
                                                         TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_ASSIGN_OR_RETURN(std::int64_t m,
                           Minutes(minutes, kDefaultEmbeddedMinutes, "expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(auto user, LoadUser(ctx_, project.project.project_id, user_id));
  TESSERA_ASSIGN_OR_RETURN(std::string token, GenerateMagicToken(ctx_.random));
  OneTimeToken t;
  t.project_id = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(t.token_id, NewId("one-time-token", project.project.live, ctx_.random));
  t.kind = OneTimeTokenKind::kEmbedded;
  t.digest = DigestMagicToken(ctx_.master_key, token);
  t.user_id = user->user.user_id;
  t.created_at = now;
  t.expires_at = now + std::chrono::minutes(m);
  TESSERA_RETURN_IF_ERROR(ctx_.store.IssueOneTimeTokens({t}, false, std::nullopt));
  return EmbeddedLink{user->user.user_id, std::move(token)};
}

Result<EmailAuthResult> EmailSignInService::MagicLinkAuthenticate(const ProjectContext& project,
                                                                  const EmailAuthRequest& r,
                                                                  TimePoint now) {
  now = std::chrono::floor<Seconds>(now);
  TESSERA_RETURN_IF_ERROR(ValidateSessionOptions(r.session));
  if (r.session_token && r.session_jwt) {
    return Error(ErrorCode::kTooManySessionArguments,
                 "Only one of session_token or session_jwt may be given.");
  }
  if (!project.project.live) {
    if (r.token == sandbox::kGoodToken) {
      return EmailAuthResult{sandbox::User(), std::string(sandbox::kEmailId), std::nullopt};
    }
    if (r.token == sandbox::kUsedToken) return UsedOrExpired();
    if (r.token == sandbox::kUnknownToken) return NotFound();
  }
  if (r.token.empty() || r.token.size() > 512 || !IsStorableText(r.token)) return NotFound();
  const std::string& pid = project.project.project_id;
  // Read before any snapshot of the user (SessionService::Create).
  const std::uint64_t epoch = ctx_.sessions.epoch();
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<OneTimeToken> found,
      ctx_.store.FindOneTimeToken(pid, DigestMagicToken(ctx_.master_key, r.token)));
  if (!found ||
      (found->kind != OneTimeTokenKind::kMagicLink && found->kind != OneTimeTokenKind::kInvite &&
       found->kind != OneTimeTokenKind::kEmbedded)) {
    return NotFound();
  }
  if (found->consumed_at || found->expires_at <= now) return UsedOrExpired();
  TESSERA_RETURN_IF_ERROR(CheckPkce(found->code_challenge, r.code_verifier));
  TESSERA_RETURN_IF_ERROR(CheckOptions(*found, r));
  auto user = LoadUser(ctx_, pid, found->user_id);
  if (!user.ok() && user.status().code() == ErrorCode::kUserNotFound) return NotFound();
  TESSERA_RETURN_IF_ERROR(user.status());
  if ((*user)->LockedAt(now)) {
    return Error(ErrorCode::kUserLocked,
                 "The user has been locked out due to too many failed authentication attempts. "
                 "Please try again later.");
  }
  TESSERA_RETURN_IF_ERROR(CheckAttach(project, r, found->user_id, now));
  TESSERA_ASSIGN_OR_RETURN(bool consumed,
                           ctx_.store.ConsumeOneTimeToken(pid, found->token_id, now));
  if (!consumed) return UsedOrExpired();
  const bool embedded = found->kind == OneTimeTokenKind::kEmbedded;
  // Embeddable links prove nothing about an address: they verify none (spec-next §2.1).
  TESSERA_ASSIGN_OR_RETURN(auto current,
                           Complete(project, found->user_id, found->method_id, !embedded, now));
  boost::json::object factor = embedded
                                   ? EmbeddedFactor(now)
                                   : EmailFactor("magic_link", found->method_id, found->email, now);
  EmailAuthResult out;
  out.user = current;
  out.method_id = found->method_id;
  TESSERA_ASSIGN_OR_RETURN(
      out.session, SessionFor(project, std::move(current), std::move(factor), r, now, epoch));
  return out;
}

}  // namespace tessera
