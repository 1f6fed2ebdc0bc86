// Email sign-in (spec-next §2-§4, §7, §8): magic links, email one-time passcodes and password
// resets. Every sending call writes its token (as a keyed digest) and the email carrying it to
// the store in one transaction; the outbox's sender (email_sender.h) delivers it later, so no
// request waits on the mail relay. Every authenticating call consumes its token with one
// conditional write, so a token works once, whatever the number of nodes presenting it at once.
#ifndef TESSERA_SERVICE_EMAIL_EMAIL_SIGN_IN_H_
#define TESSERA_SERVICE_EMAIL_EMAIL_SIGN_IN_H_

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "service/email/email_templates.h"
#include "service/password_hasher.h"
#include "service/password_service.h"
#include "service/service_context.h"
#include "service/session_service.h"
#include "service/user_service.h"

namespace tessera {

// Expiry bounds and defaults, in minutes (spec-next §2.1, §3.1, §4.2).
inline constexpr std::int64_t kMinLinkMinutes = 5;
inline constexpr std::int64_t kMaxLinkMinutes = 10080;
inline constexpr std::int64_t kDefaultLoginMinutes = 60;
inline constexpr std::int64_t kDefaultSignupMinutes = 10080;
inline constexpr std::int64_t kDefaultInviteMinutes = 60;
inline constexpr std::int64_t kDefaultEmbeddedMinutes = 60;
inline constexpr std::int64_t kDefaultResetMinutes = 30;
inline constexpr std::int64_t kMinOtpMinutes = 1;
inline constexpr std::int64_t kMaxOtpMinutes = 10;
inline constexpr std::int64_t kDefaultOtpMinutes = 2;

struct EmailSignInOptions {
  // Emails per address per window, across every sending endpoint (fixed windows, counted in the
  // store, so for the whole deployment). 0 turns it off. Default: 1 per 1 s (Stytch's limit).
  int per_address_limit = 1;
  Seconds per_address_window{1};
  // Sending calls per client IP per window: attributes.ip_address when the caller passes the end
  // user's, else the caller's own address. 0 turns it off. Default: 100 per 60 s.
  int per_ip_limit = 100;
  Seconds per_ip_window{60};
  // The `type` of an email passcode's factor: "otp" (observed in real tokens, the default) or
  // "email_otp" (the newer docs' name; spec-next §3.5).
  std::string otp_factor_type = "otp";
};

// Validated once at start-up. kInvalidArgument naming the option.
Status ValidateEmailSignInOptions(const EmailSignInOptions& options);

// One sending call. Each endpoint reads the members it has (the handlers fill only those).
struct EmailSendRequest {
  std::string email;
  std::optional<std::string> login_url, signup_url, invite_url, reset_url;
  std::optional<std::int64_t> login_minutes, signup_minutes, invite_minutes, minutes;
  std::optional<std::string> login_template_id, signup_template_id, invite_template_id,
      reset_template_id;
  std::optional<std::string> locale;
  std::optional<std::string> code_challenge;
  bool create_user_as_pending = false;
  // magic_links/email/send and otps/email/send: add the email to this user instead.
  std::optional<std::string> user_id, session_token, session_jwt;
  UserFields invite_fields;  // invite: name and metadata of a new user.
  SessionAttributes attributes;
  std::string peer_ip;  // The caller's address, for the per-IP limit when attributes have none.
};

struct EmailSendResult {
  std::string user_id;
  std::string email_id;  // Or phone_id for the SMS sandbox.
  bool user_created = false;
};

// One authenticating call (magic link, passcode, or reset by token).
struct EmailAuthRequest {
  std::string token;               // magic_links/authenticate, passwords/email/reset
  std::string method_id, code;     // otps/authenticate
  std::string code_verifier;       // PKCE
  std::string password;            // passwords/email/reset
  bool ip_match_required = false;  // options
  bool user_agent_match_required = false;
  SessionAttributes attributes;
  SessionOptions session;
  std::optional<std::string> session_token, session_jwt;  // Attach to this session.
};

struct EmailAuthResult {
  std::shared_ptr<const CachedUser> user;
  std::string method_id;
  std::optional<SessionResult> session;
};

struct EmbeddedLink {
  std::string user_id;
  std::string token;
};

class EmailSignInService {
 public:
  // `on_queued` is called after a message committed to the outbox (wakes this node's sender).
  // Everything must outlive the service.
  EmailSignInService(ServiceContext& ctx, SessionService& sessions, UserService& users,
                     PasswordService& passwords, const PasswordHasher& hasher,
                     const EmailTemplates& templates, EmailSignInOptions options,
                     std::function<void()> on_queued);

  // --- Magic links (magic_links.cc) ------------------------------------------------------------
  // An existing user's link (or one for an address added to `user_id` / the session's user).
  // kEmailNotFound, kInvalidEmail, redirect, expiry, template, locale and rate-limit errors.
  Result<EmailSendResult> MagicLinkSend(const ProjectContext& project, const EmailSendRequest& r,
                                        TimePoint now);
  // Creates the user when the address is new (pending with create_user_as_pending).
  Result<EmailSendResult> MagicLinkLoginOrCreate(const ProjectContext& project,
                                                 const EmailSendRequest& r, TimePoint now);
  // A pending user and an invite link. kDuplicateEmail for an active user.
  Result<EmailSendResult> MagicLinkInvite(const ProjectContext& project, const EmailSendRequest& r,
                                          TimePoint now);
  // Revokes the address's live invites; a user still pending is deleted. kEmailNotFound when
  // there is no live invite.
  Status MagicLinkRevokeInvite(const ProjectContext& project, std::string_view email,
                               TimePoint now);
  // An embeddable link, returned, never emailed. kUserNotFound.
  Result<EmbeddedLink> MagicLinkCreate(const ProjectContext& project, std::string_view user_id,
                                       std::optional<std::int64_t> minutes, TimePoint now);
  // kMagicLinkNotFound, kUnableToAuthMagicLink, PKCE, attribute, lock and session errors.
  Result<EmailAuthResult> MagicLinkAuthenticate(const ProjectContext& project,
                                                const EmailAuthRequest& r, TimePoint now);

  // --- One-time passcodes (otps.cc) ------------------------------------------------------------
  Result<EmailSendResult> OtpSend(const ProjectContext& project, const EmailSendRequest& r,
                                  TimePoint now);
  Result<EmailSendResult> OtpLoginOrCreate(const ProjectContext& project, const EmailSendRequest& r,
                                           TimePoint now);
  // SMS and WhatsApp: the sandbox number in test projects, else kSmsNotConfigured.
  Result<EmailSendResult> PhoneOtpSend(const ProjectContext& project, std::string_view phone,
                                       std::optional<std::int64_t> minutes);
  // kInvalidCode, kInvalidMethodId, kOtpCodeNotFound (a counted failure), kUnableToAuthOtpCode,
  // kUserLocked, attribute and session errors.
  Result<EmailAuthResult> OtpAuthenticate(const ProjectContext& project, const EmailAuthRequest& r,
                                          TimePoint now);

  // --- Password resets (password_resets.cc) ----------------------------------------------------
  Result<EmailSendResult> ResetStart(const ProjectContext& project, const EmailSendRequest& r,
                                     TimePoint now);
  // Sets the password and revokes the user's other sessions.
  Result<EmailAuthResult> ResetByEmail(const ProjectContext& project, const EmailAuthRequest& r,
                                       TimePoint now);
  Result<EmailAuthResult> ResetExistingPassword(const ProjectContext& project,
                                                std::string_view email,
                                                std::string_view existing_password,
                                                std::string_view new_password,
                                                const EmailAuthRequest& session, TimePoint now);
  // kSessionTooOldToResetPassword unless the session has a password, email magic link or email
  // passcode factor of the last 5 minutes.
  Result<EmailAuthResult> ResetBySession(const ProjectContext& project, std::string_view password,
                                         const EmailAuthRequest& session, TimePoint now);

 private:
  struct Target {
    std::shared_ptr<const CachedUser> user;
    std::string email_id;
    bool created = false;
  };
  struct Issue {
    OneTimeTokenKind kind;
    EmailKind email_kind;
    std::optional<std::string> template_id;
    std::string secret;       // The token or code, for the email and the digest.
    std::string link;         // "" for a passcode.
    std::string login_token;  // A reset email's extra login link token; "" for none.
    std::string login_link;
    std::int64_t minutes = 0;
    std::string code_challenge;
  };

  // email_sign_in.cc: the shared steps.
  Status CheckRateLimits(const ProjectContext& project, std::string_view email,
                         const EmailSendRequest& r, TimePoint now);
  Result<std::string> ResolveRedirect(const ProjectContext& project, RedirectUrlType type,
                                      const std::optional<std::string>& requested,
                                      bool pkce_allowed, bool has_challenge);
  // The user the email goes to: found by address, or (send) the user named by id or session,
  // with the address added when it is new to them.
  Result<Target> ExistingTarget(const ProjectContext& project, const EmailSendRequest& r,
                                TimePoint now);
  // Found, or created (pending if asked) with `fields`.
  Result<Target> FindOrCreate(const ProjectContext& project, const std::string& email,
                              UserFields fields, TimePoint now);
  Status IssueAndQueue(const ProjectContext& project, const Target& target,
                       const std::string& email, const Issue& issue, const EmailSendRequest& r,
                       TimePoint now);
  // A found token's checks before it is consumed.
  Status CheckOptions(const OneTimeToken& t, const EmailAuthRequest& r) const;
  // The session the request attaches to must be live and the user's. kSessionNotFound.
  Status CheckAttach(const ProjectContext& project, const EmailAuthRequest& r,
                     std::string_view user_id, TimePoint now);
  // After a consumed token: the email verified (when `verify`), a pending user active, failures
  // cleared. A password set before the address was verified must then be reset.
  Result<std::shared_ptr<const CachedUser>> Complete(const ProjectContext& project,
                                                     std::string_view user_id,
                                                     std::string_view method_id, bool verify,
                                                     TimePoint now);
  // The session of an authenticating call: attached, created (with a duration) or none.
  Result<std::optional<SessionResult>> SessionFor(const ProjectContext& project,
                                                  std::shared_ptr<const CachedUser> user,
                                                  boost::json::object factor,
                                                  const EmailAuthRequest& r, TimePoint now,
                                                  std::uint64_t epoch);
  // Revokes the user's sessions but `keep_session_id`, on this node's caches too.
  Status RevokeOtherSessions(const ProjectContext& project, std::string_view user_id,
                             std::string_view keep_session_id, TimePoint now);
  // Stores a new password for the user (hash given), clearing failures and any lock; verifies
  // `method_id` when given.
  Result<std::shared_ptr<const CachedUser>> StorePassword(const ProjectContext& project,
                                                          std::string_view user_id,
                                                          std::string hash,
                                                          std::string_view method_id,
                                                          TimePoint now);
  Status CheckNewPassword(const ProjectContext& project, std::string_view password,
                          std::string_view email) const;
  Result<std::optional<SessionResult>> ResetSession(const ProjectContext& project,
                                                    std::shared_ptr<const CachedUser> user,
                                                    const EmailAuthRequest& r, TimePoint now,
                                                    std::uint64_t epoch);
  // kSessionNotFound, kTooManySessionArguments: the session a reset keeps, "" for none.
  Result<std::string> KeptSession(const ProjectContext& project, const EmailAuthRequest& r,
                                  std::string_view user_id, TimePoint now);
  Result<EmailSendResult> SendOtp(const ProjectContext& project, const EmailSendRequest& r,
                                  const Target& target, TimePoint now);
  // Checks the redirect URL a send will use, before anything is written.
  // kEmailNotFound first, with `must_exist`, for an address no user has.
  Status PlanLink(const ProjectContext& project, const EmailSendRequest& r, bool must_exist,
                  TimePoint now);
  Result<EmailSendResult> SendMagicLink(const ProjectContext& project, const EmailSendRequest& r,
                                        const Target& target, TimePoint now);

  ServiceContext& ctx_;
  SessionService& sessions_;
  UserService& users_;
  PasswordService& passwords_;
  const PasswordHasher& hasher_;
  const EmailTemplates& templates_;
  const EmailSignInOptions options_;
  std::function<void()> on_queued_;
};

// Authentication factors in API form (created_at/updated_at included).
boost::json::object EmailFactor(std::string_view type, std::string_view email_id,
                                std::string_view email, TimePoint now);
boost::json::object EmbeddedFactor(TimePoint now);

// OK for no locale or one of en, es, pt-br, fr (the templates are English). kInvalidLocale.
Status ValidateLocale(const std::optional<std::string>& locale);
// OK when every given (non-empty) id names a custom template. kEmailTemplateNotFound.
Status CheckTemplateIds(const EmailTemplates& templates,
                        std::initializer_list<const std::optional<std::string>*> ids);

// An absolute URL: a scheme (a letter, then letters, digits, + - .), a colon and more,
// printable ASCII without spaces, at most 2048 characters. Custom schemes (native apps) count.
bool IsValidRedirectUrl(std::string_view url);

// The link in an email: `url` with stytch_token_type and the percent-encoded token appended.
std::string LinkWithToken(std::string_view url, std::string_view token_type,
                          std::string_view token);

}  // namespace tessera

#endif  // TESSERA_SERVICE_EMAIL_EMAIL_SIGN_IN_H_
