// Every route of the API, one row each: method, path (with `{parameters}`), who may call it,
// where it runs, and its handler. Routing, 404/405 with `Allow`, parameter decoding, metrics
// labels and the thread a request runs on all derive from this table (server/router.h).
#include "server/routes.h"

#include "server/handlers/handlers.h"

namespace tessera::server {
namespace {

using enum Method;
using enum Access;
using enum Blocking;
namespace h = handlers;

// clang-format off
constexpr RouteDef kRoutes[] = {
  // method   path                                    access           blocking     handler
  {kGet,    "/healthz",                             kAnyone,         kNo,         h::Healthz},
  {kGet,    "/readyz",                              kAnyone,         kYes,        h::Readyz},
  {kGet,    "/metrics",                             kAnyone,         kNo,         h::PrometheusMetrics},

  {kPost,   "/v1/sessions/authenticate",            kProjectSecret,  kWhenNeeded, h::SessionsAuthenticate},
  {kGet,    "/v1/sessions",                         kProjectSecret,  kYes,        h::SessionsGet},
  {kPost,   "/v1/sessions/revoke",                  kProjectSecret,  kYes,        h::SessionsRevoke},
  {kGet,    "/v1/sessions/jwks/{project_id}",       kAnyone,         kWhenNeeded, h::SessionsJwks},
  {kGet,    "/v1/sessions/revocations",             kProjectSecret,  kWhenNeeded, h::SessionsRevocations},

  {kGet,    "/.well-known/ssf-configuration/{project_id}", kAnyone,    kWhenNeeded, h::SsfConfiguration},
  {kPost,   "/v1/ssf/streams",                      kProjectSecret,  kYes,        h::SsfStreamsCreate},
  {kGet,    "/v1/ssf/streams",                      kProjectSecret,  kYes,        h::SsfStreamsGet},
  {kDelete, "/v1/ssf/streams",                      kProjectSecret,  kYes,        h::SsfStreamsDelete},
  {kPost,   "/v1/ssf/streams/{stream_id}/poll",     kProjectSecret,  kYes,        h::SsfPoll},
  {kGet,    "/v1/rbac/policy",                      kProjectSecret,  kWhenNeeded, h::RbacPolicy},

  {kPost,   "/v1/users",                            kProjectSecret,  kYes,        h::UsersCreate},
  {kPost,   "/v1/users/search",                     kProjectSecret,  kYes,        h::UsersSearch},
  {kGet,    "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersGet},
  {kPut,    "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersUpdate},
  {kDelete, "/v1/users/{user_id}",                  kProjectSecret,  kYes,        h::UsersDelete},

  {kPost,   "/v1/passwords",                        kProjectSecret,  kHashes,     h::PasswordsCreate},
  {kPost,   "/v1/passwords/authenticate",           kProjectSecret,  kHashes,     h::PasswordsAuthenticate},
  {kPost,   "/v1/passwords/migrate",                kProjectSecret,  kYes,        h::PasswordsMigrate},
  {kPost,   "/v1/passwords/strength_check",         kProjectSecret,  kYes,        h::PasswordsStrengthCheck},
  {kPost,   "/v1/passwords/email/reset/start",      kProjectSecret,  kYes,        h::PasswordsEmailResetStart},
  {kPost,   "/v1/passwords/email/reset",            kProjectSecret,  kHashes,        h::PasswordsEmailReset},
  {kPost,   "/v1/passwords/existing_password/reset", kProjectSecret, kHashes,        h::PasswordsExistingPasswordReset},
  {kPost,   "/v1/passwords/session/reset",          kProjectSecret,  kHashes,        h::PasswordsSessionReset},

  {kPost,   "/v1/magic_links/email/login_or_create", kProjectSecret, kYes,        h::MagicLinksEmailLoginOrCreate},
  {kPost,   "/v1/magic_links/email/send",           kProjectSecret,  kYes,        h::MagicLinksEmailSend},
  {kPost,   "/v1/magic_links/email/invite",         kProjectSecret,  kYes,        h::MagicLinksEmailInvite},
  {kPost,   "/v1/magic_links/email/revoke_invite",  kProjectSecret,  kYes,        h::MagicLinksEmailRevokeInvite},
  {kPost,   "/v1/magic_links",                      kProjectSecret,  kYes,        h::MagicLinksCreate},
  {kPost,   "/v1/magic_links/authenticate",         kProjectSecret,  kYes,        h::MagicLinksAuthenticate},

  {kPost,   "/v1/otps/email/login_or_create",       kProjectSecret,  kYes,        h::OtpsEmailLoginOrCreate},
  {kPost,   "/v1/otps/email/send",                  kProjectSecret,  kYes,        h::OtpsEmailSend},
  {kPost,   "/v1/otps/sms/login_or_create",         kProjectSecret,  kYes,        h::OtpsPhoneLoginOrCreate},
  {kPost,   "/v1/otps/sms/send",                    kProjectSecret,  kYes,        h::OtpsPhoneSend},
  {kPost,   "/v1/otps/whatsapp/login_or_create",    kProjectSecret,  kYes,        h::OtpsPhoneLoginOrCreate},
  {kPost,   "/v1/otps/whatsapp/send",               kProjectSecret,  kYes,        h::OtpsPhoneSend},
  {kPost,   "/v1/otps/authenticate",                kProjectSecret,  kYes,        h::OtpsAuthenticate},

  // The frontend SDK's API: public token, allowed origins, CORS, {"data": ...} (server/api.cc).
  {kGet,    "/sdk/v1/projects/bootstrap/{public_token}", kPublicTokenInPath, kYes,   h::SdkBootstrap},
  {kPost,   "/sdk/v1/events",                       kAnyone,         kYes,        h::SdkEvents},
  {kPost,   "/sdk/v1/passwords",                    kPublicToken,    kHashes,     h::SdkPasswordsCreate},
  {kPost,   "/sdk/v1/passwords/authenticate",       kPublicToken,    kHashes,     h::SdkPasswordsAuthenticate},
  {kPost,   "/sdk/v1/passwords/strength_check",     kPublicToken,    kYes,        h::PasswordsStrengthCheck},
  {kPost,   "/sdk/v1/sessions/authenticate",        kPublicToken,    kYes,        h::SdkSessionsAuthenticate},
  {kPost,   "/sdk/v1/sessions/revoke",              kPublicToken,    kYes,        h::SdkSessionsRevoke},
  {kGet,    "/sdk/v1/users/me",                     kPublicToken,    kYes,        h::SdkUsersMe},
  {kPost,   "/sdk/v1/magic_links/email/login_or_create", kPublicToken, kYes,      h::SdkMagicLinksEmailLoginOrCreate},
  {kPost,   "/sdk/v1/magic_links/email/send/primary", kPublicToken,  kYes,        h::SdkMagicLinksEmailSendPrimary},
  {kPost,   "/sdk/v1/magic_links/email/send/secondary", kPublicToken, kYes,       h::SdkMagicLinksEmailSendSecondary},
  {kPost,   "/sdk/v1/magic_links/authenticate",     kPublicToken,    kYes,        h::SdkMagicLinksAuthenticate},
  {kPost,   "/sdk/v1/otps/email/login_or_create",   kPublicToken,    kYes,        h::SdkOtpsEmailLoginOrCreate},
  {kPost,   "/sdk/v1/otps/email/send/primary",      kPublicToken,    kYes,        h::SdkOtpsEmailSendPrimary},
  {kPost,   "/sdk/v1/otps/email/send/secondary",    kPublicToken,    kYes,        h::SdkOtpsEmailSendSecondary},
  {kPost,   "/sdk/v1/otps/authenticate",            kPublicToken,    kYes,        h::SdkOtpsAuthenticate},
};
// clang-format on

}  // namespace

std::span<const RouteDef> ApiRoutes() { return kRoutes; }

}  // namespace tessera::server
