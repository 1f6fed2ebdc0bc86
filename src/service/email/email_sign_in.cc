// The steps every email sign-in flow shares: rate limits, redirect URLs, finding or creating the
// user, issuing a token with its email, the checks before a token is consumed, and what a
// consumed token does to the user and the session.
#include "service/email/email_sign_in.h"

#include <algorithm>

#include "common/text.h"
#include "common/time_format.h"
#include "crypto/hash.h"
#include "service/email/mail.h"
#include "service/email/one_time_secrets.h"
#include "service/ids.h"
#include "store/records_json.h"

namespace tessera {
namespace {

Status TooManyRequests() {
  return Error(ErrorCode::kTooManyRequests, "Too many requests have been made.");
}

RateLimitKey KeyOf(std::string_view kind, std::string_view project_id, std::string_view value) {
  return crypto::Sha256(std::string(kind) + "|" + std::string(project_id) + "|" +
                        std::string(value));
}

bool IsHttp(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

}  // namespace

bool IsValidRedirectUrl(std::string_view url) {
  if (url.empty() || url.size() > 2048) return false;
  const std::size_t colon = url.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 >= url.size()) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = url[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  for (const unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  if (IsHttp(url) && url.find("://") + 3 >= url.size()) return false;
  return true;
}

namespace {

Status InvalidUrl(RedirectUrlType type) {
  switch (type) {
    case RedirectUrlType::kLogin:
      return Error(ErrorCode::kInvalidLoginRedirectUrl, "login_magic_link_url is not a valid URL.");
    case RedirectUrlType::kSignup:
      return Error(ErrorCode::kInvalidSignupRedirectUrl,
                   "signup_magic_link_url is not a valid URL.");
    case RedirectUrlType::kInvite:
      return Error(ErrorCode::kInvalidInviteRedirectUrl,
                   "invite_magic_link_url is not a valid URL.");
    case RedirectUrlType::kResetPassword:
      return Error(ErrorCode::kInvalidResetPasswordRedirectUrl,
                   "reset_password_redirect_url is not a valid URL.");
  }
  return Error(ErrorCode::kInternal, "unknown redirect URL type");
}

Status NoUrl(RedirectUrlType type) {
  switch (type) {
    case RedirectUrlType::kLogin:
      return Error(ErrorCode::kNoLoginRedirectUrls,
                   "No login redirect URL was given and the project has no default login URL. "
                   "Add one with `tessera redirect-urls add --type login --default`.");
    case RedirectUrlType::kSignup:
      return Error(ErrorCode::kNoSignupRedirectUrls,
                   "No sign-up redirect URL was given and the project has no default sign-up "
                   "URL. Add one with `tessera redirect-urls add --type signup --default`.");
    case RedirectUrlType::kInvite:
      return Error(ErrorCode::kNoInviteRedirectUrls,
                   "No invite redirect URL was given and the project has no default invite URL. "
                   "Add one with `tessera redirect-urls add --type invite --default`.");
    case RedirectUrlType::kResetPassword:
      return Error(ErrorCode::kNoResetPasswordRedirectUrls,
                   "No reset_password_redirect_url was given and the project has no default "
                   "reset URL. Add one with `tessera redirect-urls add --type reset_password "
                   "--default`.");
  }
  return Error(ErrorCode::kInternal, "unknown redirect URL type");
}

void AppendPercentEncoded(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const unsigned char c : s) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

Status ValidateEmailSignInOptions(const EmailSignInOptions& o) {
  if (o.per_address_limit < 0 || o.per_ip_limit < 0) {
    return Error(ErrorCode::kInvalidArgument, "email rate limits must be 0 (off) or more");
  }
  if (o.per_address_window.count() < 1 || o.per_address_window.count() > 86400 ||
      o.per_ip_window.count() < 1 || o.per_ip_window.count() > 86400) {
    return Error(ErrorCode::kInvalidArgument, "email rate-limit windows must be 1..86400 seconds");
  }
  if (o.otp_factor_type != "otp" && o.otp_factor_type != "email_otp") {
    return Error(ErrorCode::kInvalidArgument, "--email-otp-factor-type must be otp or email_otp");
  }
  return Status::Ok();
}

boost::json::object EmailFactor(std::string_view type, std::string_view email_id,
                                std::string_view email, TimePoint now) {
  const std::string t = FormatRfc3339(now);
  return boost::json::object{
      {"created_at", t},
      {"delivery_method", "email"},
      {"email_factor", boost::json::object{{"email_address", email}, {"email_id", email_id}}},
      {"last_authenticated_at", t},
      {"type", type},
      {"updated_at", t}};
}

boost::json::object EmbeddedFactor(TimePoint now) {
  const std::string t = FormatRfc3339(now);
  return boost::json::object{{"created_at", t},
                             {"delivery_method", "embedded"},
                             {"last_authenticated_at", t},
                             {"type", "magic_link"},
                             {"updated_at", t}};
}

std::string LinkWithToken(std::string_view url, std::string_view token_type,
                          std::string_view token) {
  std::string out(url);
  // Before any fragment; `&` when the URL already has a query (its parameters are kept).
  std::string fragment;
  if (const std::size_t hash = out.find('#'); hash != std::string::npos) {
    fragment = out.substr(hash);
    out.resize(hash);
  }
  out += out.find('?') == std::string::npos ? '?' : '&';
  out += "stytch_token_type=";
  AppendPercentEncoded(token_type, out);
  out += "&token=";
  AppendPercentEncoded(token, out);
  return out + fragment;
}

EmailSignInService::EmailSignInService(ServiceContext& ctx, SessionService& sessions,
                                       UserService& users, PasswordService& passwords,
                                       const PasswordHasher& hasher,
                                       const EmailTemplates& templates, EmailSignInOptions options,
                                       std::function<void()> on_queued)
    : ctx_(ctx),
      sessions_(sessions),
      users_(users),
      passwords_(passwords),
      hasher_(hasher),
      templates_(templates),
      options_(std::move(options)),
      on_queued_(std::move(on_queued)) {}

Status EmailSignInService::CheckRateLimits(const ProjectContext& project, std::string_view email,
                                           const EmailSendRequest& r, TimePoint now) {
  const std::string& pid = project.project.project_id;
  const auto hit = [&](const RateLimitKey& key, int limit, Seconds window) -> Status {
    if (limit == 0) return Status::Ok();
    const std::int64_t w = window.count();
    const std::int64_t start = ToUnixSeconds(now) / w * w;
    TESSERA_ASSIGN_OR_RETURN(
        std::int64_t hits,
        ctx_.store.CountRateLimitHit(key, FromUnixSeconds(start), FromUnixSeconds(start + w)));
    if (hits > limit) return TooManyRequests();
    return Status::Ok();
  };
  TESSERA_RETURN_IF_ERROR(hit(KeyOf("email", pid, NormalizeEmail(email)),
                              options_.per_address_limit, options_.per_address_window));
  const std::string& ip = r.attributes.ip_address.empty() ? r.peer_ip : r.attributes.ip_address;
  if (!ip.empty()) {
    TESSERA_RETURN_IF_ERROR(
        hit(KeyOf("ip", pid, ip), options_.per_ip_limit, options_.per_ip_window));
  }
  return Status::Ok();
}

Result<std::string> EmailSignInService::ResolveRedirect(const ProjectContext& project,
                                                        RedirectUrlType type,
                                                        const std::optional<std::string>& requested,
                                                        bool pkce_allowed, bool has_challenge) {
  if (requested && !IsValidRedirectUrl(*requested)) return InvalidUrl(type);
  TESSERA_ASSIGN_OR_RETURN(std::vector<RedirectUrl> urls,
                           ctx_.store.ListRedirectUrls(project.project.project_id));
  std::optional<std::string> chosen;
  std::vector<const RedirectUrl*> of_type;
  for (const RedirectUrl& u : urls) {
    if (u.type == type) of_type.push_back(&u);
  }
  if (requested) {
    for (const RedirectUrl* u : of_type) {
      if (u->url == *requested) chosen = u->url;
    }
    if (!chosen) {
      return Error(ErrorCode::kRedirectUrlNotAllowed,
                   "The magic_link_url in the request did not match any redirect URLs set for "
                   "this project.");
    }
  } else {
    for (const RedirectUrl* u : of_type) {
      if (u->is_default) chosen = u->url;
    }
    if (!chosen && of_type.size() == 1) chosen = of_type.front()->url;
    if (!chosen) return NoUrl(type);
  }
  if (pkce_allowed && !has_challenge && !IsHttp(*chosen)) {
    return Error(ErrorCode::kPkceRequiredForNativeCallback,
                 "A code_challenge is required when the redirect URL is a native (non-http) "
                 "callback URL.");
  }
  return *chosen;
}

Result<EmailSignInService::Target> EmailSignInService::ExistingTarget(const ProjectContext& project,
                                                                      const EmailSendRequest& r,
                                                                      TimePoint now) {
  const std::string& pid = project.project.project_id;
  std::shared_ptr<const CachedUser> owner;
  if (r.user_id) {
    TESSERA_ASSIGN_OR_RETURN(owner, LoadUser(ctx_, pid, *r.user_id));
  } else if (r.session_token || r.session_jwt) {
    if (r.session_token && r.session_jwt) {
      return Error(ErrorCode::kTooManySessionArguments,
                   "Only one of session_token or session_jwt may be given.");
    }
    std::optional<std::string_view> token, jwt;
    if (r.session_token) token = *r.session_token;
    if (r.session_jwt) jwt = *r.session_jwt;
    TESSERA_ASSIGN_OR_RETURN(auto session, sessions_.Find(project, token, jwt, now));
    TESSERA_ASSIGN_OR_RETURN(owner, LoadUser(ctx_, pid, session->record.user_id));
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> by_email, ctx_.store.GetUserByEmail(pid, r.email));
  if (!owner) {
    if (!by_email) return Error(ErrorCode::kEmailNotFound, "Email could not be found.");
    Target t;
    t.user = MakeCachedUser(std::move(*by_email));
    for (const UserEmail& e : t.user->user.emails) {
      if (NormalizeEmail(e.email) == NormalizeEmail(r.email)) t.email_id = e.email_id;
    }
    return t;
  }
  if (by_email && by_email->user_id != owner->user.user_id) {
    return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
  }
  Target t;
  for (const UserEmail& e : owner->user.emails) {
    if (NormalizeEmail(e.email) == NormalizeEmail(r.email)) t.email_id = e.email_id;
  }
  if (!t.email_id.empty()) {
    t.user = std::move(owner);
    return t;
  }
  // A new, unverified address of this user.
  TESSERA_ASSIGN_OR_RETURN(std::string email_id, NewId("email", project.project.live, ctx_.random));
  TESSERA_ASSIGN_OR_RETURN(t.user, users_.Modify(project, owner->user.user_id, now, [&](User& u) {
    u.emails.push_back({email_id, r.email, false});
    return Status::Ok();
  }));
  t.email_id = email_id;
  return t;
}

Result<EmailSignInService::Target> EmailSignInService::FindOrCreate(const ProjectContext& project,
                                                                    const std::string& email,
                                                                    UserFields fields,
                                                                    TimePoint now) {
  const std::string& pid = project.project.project_id;
  for (int attempt = 0; attempt < 3; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<User> found, ctx_.store.GetUserByEmail(pid, email));
    Target t;
    if (found) {
      t.user = MakeCachedUser(std::move(*found));
    } else {
      fields.email = email;
      auto created = users_.Create(project, fields, now);
      // Another request created the address first: use that user.
      if (!created.ok() && created.status().code() == ErrorCode::kDuplicateEmail) continue;
      TESSERA_RETURN_IF_ERROR(created.status());
      t.user = std::move(*created);
      t.created = true;
    }
    for (const UserEmail& e : t.user->user.emails) {
      if (NormalizeEmail(e.email) == NormalizeEmail(email)) t.email_id = e.email_id;
    }
    return t;
  }
  return Error(ErrorCode::kStoreConflict, "the user was created and deleted concurrently");
}

Status EmailSignInService::IssueAndQueue(const ProjectContext& project, const Target& target,
                                         const std::string& email, const Issue& issue,
                                         const EmailSendRequest& r, TimePoint now) {
  const bool live = project.project.live;
  const TimePoint expires_at = now + std::chrono::minutes(issue.minutes);
  EmailValues values;
  values.project_name = project.project.name;
  values.email = email;
  values.link = issue.link;
  values.login_link = issue.login_link;
  values.code = issue.kind == OneTimeTokenKind::kEmailOtp ? issue.secret : "";
  values.expiration_minutes = issue.minutes;
  std::optional<std::string_view> template_id;
  if (issue.template_id) template_id = *issue.template_id;
  TESSERA_ASSIGN_OR_RETURN(EmailContent content,
                           templates_.Render(issue.email_kind, template_id, values));

  std::vector<OneTimeToken> tokens(1);
  OneTimeToken& t = tokens.front();
  t.project_id = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(t.token_id, NewId("one-time-token", live, ctx_.random));
  t.kind = issue.kind;
  t.digest = issue.kind == OneTimeTokenKind::kEmailOtp
                 ? DigestOtpCode(ctx_.master_key, target.email_id, issue.secret)
                 : DigestMagicToken(ctx_.master_key, issue.secret);
  t.user_id = target.user->user.user_id;
  t.method_id = target.email_id;
  t.email = email;
  t.code_challenge = issue.code_challenge;
  t.ip_address = r.attributes.ip_address;
  t.user_agent = r.attributes.user_agent;
  t.created_at = now;
  t.expires_at = expires_at;
  if (!issue.login_token.empty()) {
    // A reset email's "log in without a password" link: a login magic link of its own, with the
    // default login expiry.
    OneTimeToken login = t;
    TESSERA_ASSIGN_OR_RETURN(login.token_id, NewId("one-time-token", live, ctx_.random));
    login.kind = OneTimeTokenKind::kMagicLink;
    login.digest = DigestMagicToken(ctx_.master_key, issue.login_token);
    login.code_challenge.clear();
    login.expires_at = now + std::chrono::minutes(kDefaultLoginMinutes);
    tokens.push_back(std::move(login));
  }
  TESSERA_ASSIGN_OR_RETURN(std::string message_id, NewId("message", live, ctx_.random));
  // The message outlives no token it carries: abandoned once the longest-lived one expired.
  TimePoint message_expiry = expires_at;
  for (const OneTimeToken& tok : tokens) message_expiry = std::max(message_expiry, tok.expires_at);
  TESSERA_ASSIGN_OR_RETURN(
      OutboxMessage message,
      SealMail(ctx_.master_key, ctx_.random, std::move(message_id), project.project.project_id,
               MailContent{email, content}, now, message_expiry));
  // Passcodes: one live code per method_id, so a new one replaces the last.
  TESSERA_RETURN_IF_ERROR(
      ctx_.store.IssueOneTimeTokens(tokens, issue.kind == OneTimeTokenKind::kEmailOtp, message));
  if (on_queued_) on_queued_();
  return Status::Ok();
}

Status EmailSignInService::CheckOptions(const OneTimeToken& t, const EmailAuthRequest& r) const {
  if ((r.ip_match_required && r.attributes.ip_address != t.ip_address) ||
      (r.user_agent_match_required && r.attributes.user_agent != t.user_agent)) {
    return Error(ErrorCode::kAttributeMismatch,
                 "Unable to authenticate because attributes on request don't match stored "
                 "attributes.");
  }
  return Status::Ok();
}

Status EmailSignInService::CheckAttach(const ProjectContext& project, const EmailAuthRequest& r,
                                       std::string_view user_id, TimePoint now) {
  if (!r.session_token && !r.session_jwt) return Status::Ok();
  std::optional<std::string_view> token, jwt;
  if (r.session_token) token = *r.session_token;
  if (r.session_jwt) jwt = *r.session_jwt;
  TESSERA_ASSIGN_OR_RETURN(auto session, sessions_.Find(project, token, jwt, now));
  if (session->record.user_id != user_id) {
    return Error(ErrorCode::kSessionNotFound, "Session could not be found.");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const CachedUser>> EmailSignInService::Complete(
    const ProjectContext& project, std::string_view user_id, std::string_view method_id,
    bool verify, TimePoint now) {
  return users_.Modify(project, user_id, now, [&](User& u) {
    if (verify) {
      for (UserEmail& e : u.emails) {
        if (e.email_id != method_id || e.verified) continue;
        e.verified = true;
        // A password set while this address was unverified may be someone else's, who signed up
        // with the address first: it must be reset before it is used again (Stytch's rule).
        if (u.password) u.password->requires_reset = true;
      }
    }
    if (u.status == "pending") u.status = "active";
    u.failed_password_attempts = 0;
    u.first_failed_at.reset();
    return Status::Ok();
  });
}

Result<std::optional<SessionResult>> EmailSignInService::SessionFor(
    const ProjectContext& project, std::shared_ptr<const CachedUser> user,
    boost::json::object factor, const EmailAuthRequest& r, TimePoint now, std::uint64_t epoch) {
  if (r.session_token || r.session_jwt) {
    std::optional<std::string_view> token, jwt;
    if (r.session_token) token = *r.session_token;
    if (r.session_jwt) jwt = *r.session_jwt;
    TESSERA_ASSIGN_OR_RETURN(SessionResult s,
                             sessions_.AttachFactor(project, std::move(user), token, jwt,
                                                    std::move(factor), r.session, now));
    return std::optional<SessionResult>(std::move(s));
  }
  if (!r.session.duration_minutes) return std::optional<SessionResult>();
  TESSERA_ASSIGN_OR_RETURN(SessionResult s,
                           sessions_.Create(project, std::move(user), std::move(factor), r.session,
                                            r.attributes, now, epoch));
  return std::optional<SessionResult>(std::move(s));
}

Status EmailSignInService::RevokeOtherSessions(const ProjectContext& project,
                                               std::string_view user_id,
                                               std::string_view keep_session_id, TimePoint now) {
  const std::string& pid = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> revoked,
                           ctx_.store.RevokeUserSessions(pid, user_id, keep_session_id, now));
  ctx_.sessions.EvictUser(pid, user_id);
  for (const std::string& sid : revoked) ctx_.sessions.EvictSession(pid, sid);
  if (!revoked.empty() && ctx_.on_revocation) ctx_.on_revocation(pid);
  return Status::Ok();
}

Result<std::shared_ptr<const CachedUser>> EmailSignInService::StorePassword(
    const ProjectContext& project, std::string_view user_id, std::string hash,
    std::string_view method_id, TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(std::string password_id,
                           NewId("password", project.project.live, ctx_.random));
  return users_.Modify(project, user_id, now, [&](User& u) {
    if (u.password) {
      u.password->hash = hash;
      u.password->requires_reset = false;
    } else {
      u.password = UserPassword{password_id, hash, false, std::chrono::floor<Seconds>(now)};
    }
    for (UserEmail& e : u.emails) {
      if (!method_id.empty() && e.email_id == method_id) e.verified = true;
    }
    if (u.status == "pending" && !method_id.empty()) u.status = "active";
    u.failed_password_attempts = 0;
    u.first_failed_at.reset();
    u.locked_until.reset();
    return Status::Ok();
  });
}

Status EmailSignInService::CheckNewPassword(const ProjectContext& project,
                                            std::string_view password,
                                            std::string_view email) const {
  if (password.empty()) return Error(ErrorCode::kBadRequest, "password is required.");
  if (password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "password must be at most 256 bytes.");
  }
  const StrengthResult strength = passwords_.StrengthCheck(project, password, email);
  if (!strength.valid) {
    std::string msg = "The password is too weak.";
    if (!strength.warning.empty()) msg += " " + strength.warning;
    return Error(ErrorCode::kWeakPassword, msg);
  }
  return Status::Ok();
}

Result<std::string> EmailSignInService::KeptSession(const ProjectContext& project,
                                                    const EmailAuthRequest& r,
                                                    std::string_view user_id, TimePoint now) {
  if (!r.session_token && !r.session_jwt) return std::string();
  std::optional<std::string_view> token, jwt;
  if (r.session_token) token = *r.session_token;
  if (r.session_jwt) jwt = *r.session_jwt;
  TESSERA_ASSIGN_OR_RETURN(auto session, sessions_.Find(project, token, jwt, now));
  if (session->record.user_id != user_id) {
    return Error(ErrorCode::kSessionNotFound, "Session could not be found.");
  }
  return session->record.session_id;
}

Result<std::optional<SessionResult>> EmailSignInService::ResetSession(
    const ProjectContext& project, std::shared_ptr<const CachedUser> user,
    const EmailAuthRequest& r, TimePoint now, std::uint64_t epoch) {
  return SessionFor(project, std::move(user), PasswordFactor(now), r, now, epoch);
}

}  // namespace tessera
