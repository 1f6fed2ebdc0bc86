// /sdk/v1: the API of the official Stytch frontend SDK (@stytch/vanilla-js and the packages built
// on it) for passwords, sessions, email magic links and email one-time passcodes. The dispatcher
// (server/api.cc) has already found the project by its public token, checked the page's origin, and
// will envelope the answer as {"data": ...} with CORS headers.
//
// A browser is not a backend: these handlers act only for the session the SDK holds (never a
// session or user named in the body), accept no metadata, roles or custom claims, and answer
// nothing beyond the caller's own user and session.
#include <boost/json.hpp>

#include "common/json.h"
#include "common/text.h"
#include "server/handlers/common.h"
#include "server/handlers/email_common.h"
#include "server/handlers/handlers.h"
#include "service/views.h"

namespace tessera::server::handlers {
namespace {

// A session the SDK starts lasts this long unless it asks otherwise. The SDK always sends
// session_duration_minutes in practice; a sign-in without a session would make it drop its
// cookies, so there is always one.
constexpr std::int64_t kDefaultSdkSessionMinutes = 60;

// The session token the SDK holds. No session is 401 `unauthorized_credentials`, one of the
// error types on which the SDK clears its state.
Result<std::string_view> HeldSession(const Call& call) {
  if (!call.sdk_session_token()) {
    return Error(ErrorCode::kUnauthorizedCredentials,
                 "No session: sign in first (the SDK sent no session token).");
  }
  return *call.sdk_session_token();
}

// The SDK recognises only a few error types as "this session is over" (session_not_found among
// them) and retries forever on any other; a token that cannot even be parsed is just as over.
Status AsSessionOver(Status s) {
  if (s.code() == ErrorCode::kSessionTokenMalformed) {
    return Error(ErrorCode::kSessionNotFound, "Session could not be found.");
  }
  return s;
}

// Only the duration: custom claims are the backend's to set.
Result<SessionOptions> SdkSessionOptions(const JsonBody& body, bool default_duration) {
  SessionOptions o;
  TESSERA_ASSIGN_OR_RETURN(o.duration_minutes, body.OptInt("session_duration_minutes"));
  if (!o.duration_minutes && default_duration) o.duration_minutes = kDefaultSdkSessionMinutes;
  return o;
}

// What the browser's own request says about it (the backend API takes these from the body).
SessionAttributes BrowserAttributes(const ApiRequest& request) {
  SessionAttributes a;
  a.ip_address = std::string(request.remote_ip.substr(0, 512));
  if (IsStorableText(request.user_agent)) {
    a.user_agent = std::string(request.user_agent.substr(0, 512));
  }
  return a;
}

struct Credentials {
  std::string email;
  std::string password;
  SessionOptions session;
};

Result<Credentials> ParseCredentials(const Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  Credentials c;
  TESSERA_ASSIGN_OR_RETURN(c.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(c.password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(c.session, SdkSessionOptions(body, /*default_duration=*/true));
  return c;
}

// The members of an email send the SDK may set. Attributes come from the browser's request, never
// the body; a user, a pending user or a session named in the body is not read (the backend's
// to do). `link`: the magic link members, else the passcode's.
Result<EmailSendRequest> ParseSdkEmailSend(const Call& call, bool link) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  EmailSendRequest r;
  TESSERA_ASSIGN_OR_RETURN(r.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(r.locale, NonEmpty(body, "locale"));
  TESSERA_ASSIGN_OR_RETURN(r.login_template_id, NonEmpty(body, "login_template_id"));
  TESSERA_ASSIGN_OR_RETURN(r.signup_template_id, NonEmpty(body, "signup_template_id"));
  if (link) {
    TESSERA_ASSIGN_OR_RETURN(r.login_url, NonEmpty(body, "login_magic_link_url"));
    TESSERA_ASSIGN_OR_RETURN(r.signup_url, NonEmpty(body, "signup_magic_link_url"));
    TESSERA_ASSIGN_OR_RETURN(r.login_minutes, body.OptInt("login_expiration_minutes"));
    TESSERA_ASSIGN_OR_RETURN(r.signup_minutes, body.OptInt("signup_expiration_minutes"));
    TESSERA_ASSIGN_OR_RETURN(r.code_challenge, NonEmpty(body, "code_challenge"));
  } else {
    TESSERA_ASSIGN_OR_RETURN(r.minutes, body.OptInt("expiration_minutes"));
  }
  r.attributes = BrowserAttributes(call.request);
  r.peer_ip = std::string(call.request.remote_ip);
  return r;
}

// How an email send finds its user: by the address (login_or_create, send/primary), or the
// signed-in user the SDK's session names (send/secondary, which adds the address to them).
enum class SendTo { kLoginOrCreate, kExistingUser, kSessionUser };

Result<EmailSendResult> SdkEmailSend(Call& call, bool link, SendTo to) {
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseSdkEmailSend(call, link));
  EmailSignInService& email = call.services.email;
  switch (to) {
    case SendTo::kLoginOrCreate:
      return link ? email.MagicLinkLoginOrCreate(call.project(), r, call.now)
                  : email.OtpLoginOrCreate(call.project(), r, call.now);
    case SendTo::kExistingUser:
      break;
    case SendTo::kSessionUser: {
      TESSERA_ASSIGN_OR_RETURN(std::string_view token, HeldSession(call));
      r.session_token = std::string(token);
      break;
    }
  }
  Result<EmailSendResult> out = link ? email.MagicLinkSend(call.project(), r, call.now)
                                     : email.OtpSend(call.project(), r, call.now);
  if (!out.ok()) return AsSessionOver(out.status());
  return out;
}

// A magic link send answers only request_id and status_code: the user's id is not the page's
// to learn from an address.
Result<ApiResponse> LinkSendAnswer(Call& call, SendTo to) {
  TESSERA_RETURN_IF_ERROR(SdkEmailSend(call, /*link=*/true, to).status());
  return Body(call.request_id).Close();
}

// A passcode send answers the method_id the page passes back with the code (the email's id).
Result<ApiResponse> OtpSendAnswer(Call& call, SendTo to) {
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out, SdkEmailSend(call, /*link=*/false, to));
  Body b(call.request_id);
  b.String("method_id", out.email_id);
  return b.Close();
}

// The members of an authenticating call the SDK may set: the session's duration (a session is
// always started, as for passwords) and the browser's own attributes. It never attaches to the
// session it holds: a stale session of another user would block the sign-in.
Result<EmailAuthRequest> ParseSdkEmailAuth(const Call& call, const JsonBody& body) {
  EmailAuthRequest r;
  TESSERA_ASSIGN_OR_RETURN(r.session, SdkSessionOptions(body, /*default_duration=*/true));
  r.attributes = BrowserAttributes(call.request);
  return r;
}

}  // namespace

// GET /sdk/v1/projects/bootstrap/{public_token}: the project's SDK settings. Every member the
// SDK maps is present (a missing captcha_settings makes every sign-in throw); captcha and device
// fingerprinting are off, so the SDK loads no third-party script.
Result<ApiResponse> SdkBootstrap(Call& call) {
  const Project& p = call.project().project;
  Body b(call.request_id);
  b.Raw("captcha_settings", R"({"enabled":false})");
  b.Raw("cname_domain", "null");
  b.Raw("create_organization_enabled", "false");
  b.Raw("dfp_protected_auth_enabled", "false");
  b.Raw("dfp_protected_auth_mode", "null");
  b.Raw("disable_sdk_watermark", "true");
  b.Raw("email_domains", "[]");
  if (p.settings.password_policy == PasswordPolicy::kLuds) {
    b.Raw("password_config", std::string("{\"luds_complexity\":")
                                 .append(std::to_string(p.settings.luds_min_complexity))
                                 .append(",\"luds_minimum_count\":")
                                 .append(std::to_string(p.settings.luds_min_length))
                                 .append("}"));
  } else {
    b.Raw("password_config", "null");
  }
  b.Raw("pkce_required_for_email_magic_links", "false");
  b.Raw("pkce_required_for_oauth", "false");
  b.Raw("pkce_required_for_password_resets", "false");
  b.Raw("pkce_required_for_sso", "false");
  b.String("project_name", p.name);
  b.Raw("rbac_policy", R"({"resources":[],"roles":[],"scopes":[]})");
  b.Raw("siwe_required_for_crypto_wallets", "false");
  b.Raw("slug_pattern", "null");
  b.String("vertical", "CONSUMER");
  return b.Close();
}

// POST /sdk/v1/events: the SDK's telemetry, accepted and dropped. It carries no Authorization
// header, so the public token comes from the events themselves, and the page's origin is checked
// as for every other SDK call.
Result<ApiResponse> SdkEvents(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(boost::json::value events, ParseJson(call.request.body, 8));
  std::string_view public_token;
  if (events.is_array() && !events.get_array().empty()) {
    const boost::json::value& first = events.get_array().front();
    const auto* event = first.is_object() ? first.get_object().if_contains("event") : nullptr;
    const auto* token = event != nullptr && event->is_object()
                            ? event->get_object().if_contains("public_token")
                            : nullptr;
    if (token != nullptr && token->is_string()) public_token = token->get_string();
  }
  if (public_token.empty()) {
    return Error(ErrorCode::kBadRequest, "Events must be an array of {event: {public_token}}.");
  }
  TESSERA_RETURN_IF_ERROR(
      call.services.projects.AuthorizePublicToken(public_token, PageOrigin(call.request)).status());
  return Body(call.request_id).Close();
}

// POST /sdk/v1/passwords: signs a new user up with an email and a password; always starts a
// session.
Result<ApiResponse> SdkPasswordsCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(Credentials c, ParseCredentials(call));
  PasswordCreateRequest pr;
  pr.email = std::move(c.email);
  pr.password = std::move(c.password);
  pr.session = std::move(c.session);
  pr.attributes = BrowserAttributes(call.request);
  TESSERA_ASSIGN_OR_RETURN(PasswordResult r,
                           call.services.passwords.Create(call.project(), pr, call.now));
  Body b(call.request_id);
  b.String("email_id", r.email_id);
  AppendLoginMembers(b, *r.user, r.session, call.now);
  return b.Close();
}

// POST /sdk/v1/passwords/authenticate: signs in; always starts a new session (a session the SDK
// held before is left as it is, to expire or be revoked). Failed attempts count towards the
// user's lock exactly as on /v1.
Result<ApiResponse> SdkPasswordsAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(Credentials c, ParseCredentials(call));
  PasswordAuthRequest pr;
  pr.email = std::move(c.email);
  pr.password = std::move(c.password);
  pr.session = std::move(c.session);
  pr.attributes = BrowserAttributes(call.request);
  TESSERA_ASSIGN_OR_RETURN(PasswordResult r,
                           call.services.passwords.Authenticate(call.project(), pr, call.now));
  Body b(call.request_id);
  AppendLoginMembers(b, *r.user, r.session, call.now);
  return b.Close();
}

// POST /sdk/v1/sessions/authenticate: the SDK's refresh of the session it holds (at start-up and
// every few minutes): the session, a fresh JWT, the user.
Result<ApiResponse> SdkSessionsAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view token, HeldSession(call));
  const std::string_view text = call.request.body.empty() ? "{}" : call.request.body;
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(text));
  TESSERA_ASSIGN_OR_RETURN(SessionOptions options,
                           SdkSessionOptions(body, /*default_duration=*/false));
  Result<SessionResult> s =
      call.services.sessions.AuthenticateToken(call.project(), token, options, call.now);
  if (!s.ok()) return AsSessionOver(s.status());
  Body b(call.request_id);
  AppendLoginMembers(b, *s->session->user, *s, call.now);
  return b.Close();
}

// POST /sdk/v1/sessions/revoke: signs out of the session the SDK holds.
Result<ApiResponse> SdkSessionsRevoke(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view token, HeldSession(call));
  TESSERA_RETURN_IF_ERROR(AsSessionOver(
      call.services.sessions.Revoke(call.project(), RevokeBy::kSessionToken, token, call.now)));
  return Body(call.request_id).Close();
}

// GET /sdk/v1/users/me: the signed-in user, as the members of the answer (not under `user`).
Result<ApiResponse> SdkUsersMe(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view token, HeldSession(call));
  Result<SessionResult> s =
      call.services.sessions.AuthenticateToken(call.project(), token, {}, call.now);
  if (!s.ok()) return AsSessionOver(s.status());
  std::string user;
  AppendUserValue(*s->session->user, call.now, user);
  Body b(call.request_id);
  b.Members(user);
  return b.Close();
}

// POST /sdk/v1/magic_links/email/login_or_create: a link to the address's user, created when
// new. Redirect URLs must be on the project's list, as on /v1.
Result<ApiResponse> SdkMagicLinksEmailLoginOrCreate(Call& call) {
  return LinkSendAnswer(call, SendTo::kLoginOrCreate);
}

// POST /sdk/v1/magic_links/email/send/primary: a link to an existing user (signed out).
Result<ApiResponse> SdkMagicLinksEmailSendPrimary(Call& call) {
  return LinkSendAnswer(call, SendTo::kExistingUser);
}

// POST /sdk/v1/magic_links/email/send/secondary: a link for an address added to the signed-in
// user.
Result<ApiResponse> SdkMagicLinksEmailSendSecondary(Call& call) {
  return LinkSendAnswer(call, SendTo::kSessionUser);
}

// POST /sdk/v1/magic_links/authenticate: {token, session_duration_minutes, code_verifier?}; a
// new session. The token works once, as on /v1.
Result<ApiResponse> SdkMagicLinksAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseSdkEmailAuth(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.token, body.String("token"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> verifier, NonEmpty(body, "code_verifier"));
  r.code_verifier = verifier.value_or("");
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.MagicLinkAuthenticate(call.project(), r, call.now));
  return EmailAuthBody(call, out, true);
}

// POST /sdk/v1/otps/email/login_or_create: a passcode to the address's user, created when new.
Result<ApiResponse> SdkOtpsEmailLoginOrCreate(Call& call) {
  return OtpSendAnswer(call, SendTo::kLoginOrCreate);
}

// POST /sdk/v1/otps/email/send/primary: a passcode to an existing user (signed out).
Result<ApiResponse> SdkOtpsEmailSendPrimary(Call& call) {
  return OtpSendAnswer(call, SendTo::kExistingUser);
}

// POST /sdk/v1/otps/email/send/secondary: a passcode for an address added to the signed-in user.
Result<ApiResponse> SdkOtpsEmailSendSecondary(Call& call) {
  return OtpSendAnswer(call, SendTo::kSessionUser);
}

// POST /sdk/v1/otps/authenticate: {token (the code), method_id, session_duration_minutes}; a new
// session. Wrong codes count towards the passcode's and the user's limits, as on /v1.
Result<ApiResponse> SdkOtpsAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseSdkEmailAuth(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.method_id, body.String("method_id"));
  TESSERA_ASSIGN_OR_RETURN(r.code, body.String("token"));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.OtpAuthenticate(call.project(), r, call.now));
  return EmailAuthBody(call, out, true);
}

}  // namespace tessera::server::handlers
