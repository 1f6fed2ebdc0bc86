// The API's handlers, one function per route, grouped by resource (one .cc file each). The route
// table (server/routes.cc) says which route calls which, who may call it and where it runs.
#ifndef TESSERA_SERVER_HANDLERS_HANDLERS_H_
#define TESSERA_SERVER_HANDLERS_HANDLERS_H_

#include "server/call.h"

namespace tessera::server::handlers {

// health.cc: liveness, readiness, Prometheus metrics.
Result<ApiResponse> Healthz(Call& call);
Result<ApiResponse> Readyz(Call& call);
Result<ApiResponse> PrometheusMetrics(Call& call);

// sessions.cc: /v1/sessions/*.
Result<ApiResponse> SessionsAuthenticate(Call& call);
Result<ApiResponse> SessionsGet(Call& call);
Result<ApiResponse> SessionsRevoke(Call& call);
Result<ApiResponse> SessionsJwks(Call& call);
// revocations.cc: the revocation feed.
Result<ApiResponse> SessionsRevocations(Call& call);

// ssf.cc: the OpenID Shared Signals transmitter (discovery, the stream, poll delivery).
Result<ApiResponse> SsfConfiguration(Call& call);
Result<ApiResponse> SsfStreamsCreate(Call& call);
Result<ApiResponse> SsfStreamsGet(Call& call);
Result<ApiResponse> SsfStreamsDelete(Call& call);
Result<ApiResponse> SsfPoll(Call& call);
// rbac.cc: /v1/rbac/*.
Result<ApiResponse> RbacPolicy(Call& call);

// users.cc: /v1/users/*.
Result<ApiResponse> UsersCreate(Call& call);
Result<ApiResponse> UsersGet(Call& call);
Result<ApiResponse> UsersUpdate(Call& call);
Result<ApiResponse> UsersDelete(Call& call);
Result<ApiResponse> UsersSearch(Call& call);

// passwords.cc: /v1/passwords/*.
Result<ApiResponse> PasswordsCreate(Call& call);
Result<ApiResponse> PasswordsAuthenticate(Call& call);
Result<ApiResponse> PasswordsMigrate(Call& call);
Result<ApiResponse> PasswordsStrengthCheck(Call& call);

// magic_links.cc: /v1/magic_links/*.
Result<ApiResponse> MagicLinksEmailSend(Call& call);
Result<ApiResponse> MagicLinksEmailLoginOrCreate(Call& call);
Result<ApiResponse> MagicLinksEmailInvite(Call& call);
Result<ApiResponse> MagicLinksEmailRevokeInvite(Call& call);
Result<ApiResponse> MagicLinksCreate(Call& call);
Result<ApiResponse> MagicLinksAuthenticate(Call& call);

// otps.cc: /v1/otps/*.
Result<ApiResponse> OtpsEmailSend(Call& call);
Result<ApiResponse> OtpsEmailLoginOrCreate(Call& call);
Result<ApiResponse> OtpsPhoneSend(Call& call);
Result<ApiResponse> OtpsPhoneLoginOrCreate(Call& call);
Result<ApiResponse> OtpsAuthenticate(Call& call);

// password_resets.cc: /v1/passwords/*/reset*.
Result<ApiResponse> PasswordsEmailResetStart(Call& call);
Result<ApiResponse> PasswordsEmailReset(Call& call);
Result<ApiResponse> PasswordsExistingPasswordReset(Call& call);
Result<ApiResponse> PasswordsSessionReset(Call& call);

// sdk.cc: /sdk/v1/*, the frontend SDK's API (PasswordsStrengthCheck serves it too).
Result<ApiResponse> SdkBootstrap(Call& call);
Result<ApiResponse> SdkEvents(Call& call);
Result<ApiResponse> SdkPasswordsCreate(Call& call);
Result<ApiResponse> SdkPasswordsAuthenticate(Call& call);
Result<ApiResponse> SdkSessionsAuthenticate(Call& call);
Result<ApiResponse> SdkSessionsRevoke(Call& call);
Result<ApiResponse> SdkUsersMe(Call& call);
Result<ApiResponse> SdkMagicLinksEmailLoginOrCreate(Call& call);
Result<ApiResponse> SdkMagicLinksEmailSendPrimary(Call& call);
Result<ApiResponse> SdkMagicLinksEmailSendSecondary(Call& call);
Result<ApiResponse> SdkMagicLinksAuthenticate(Call& call);
Result<ApiResponse> SdkOtpsEmailLoginOrCreate(Call& call);
Result<ApiResponse> SdkOtpsEmailSendPrimary(Call& call);
Result<ApiResponse> SdkOtpsEmailSendSecondary(Call& call);
Result<ApiResponse> SdkOtpsAuthenticate(Call& call);

}  // namespace tessera::server::handlers

#endif  // TESSERA_SERVER_HANDLERS_HANDLERS_H_
