#include "server/error_mapping.h"

#include "common/json.h"
#include "server/access_log.h"

namespace tessera::server {
namespace {

constexpr std::string_view kInternalMessage =
    "Oops, something seems to have gone wrong, please reach out to the operator of this Tessera "
    "server to let us know what went wrong.";

}  // namespace

HttpError MapError(ErrorCode code) {
  using E = ErrorCode;
  switch (code) {
    case E::kOk:
      return {200, "", ""};
    // Malformed input of any kind.
    case E::kInputTooLarge:
    case E::kMalformedBase64:
    case E::kMalformedJson:
    case E::kJsonTooDeep:
    case E::kInvalidArgument:
    case E::kBadRequest:
    case E::kCustomClaimsNotObject:
      return {400, "bad_request", ""};
    case E::kBodyTooLarge:
      return {413, "request_body_too_large", ""};
    case E::kHeadersTooLarge:
      return {431, "request_headers_too_large", ""};
    case E::kRouteNotFound:
      return {404, "route_not_found", ""};
    case E::kMethodNotAllowed:
      return {405, "method_not_allowed", ""};
    case E::kTooManyRequests:
      return {429, "too_many_requests", ""};
    // A session JWT that cannot be used, whatever the reason (the message says which).
    case E::kJwtMalformed:
    case E::kJwtHeaderInvalid:
    case E::kJwtAlgorithmNotAllowed:
    case E::kJwtCriticalUnsupported:
    case E::kJwtEmbeddedKey:
    case E::kJwtTypeInvalid:
    case E::kJwtKidMissing:
    case E::kJwtKidUnknown:
    case E::kJwtKeyMismatch:
    case E::kJwtSignatureInvalid:
    case E::kJwtClaimsInvalid:
    case E::kJwtIssuerInvalid:
    case E::kJwtAudienceInvalid:
    case E::kJwtNotYetValid:
    case E::kJwtIssuedInFuture:
    case E::kJwtExpired:
    case E::kJwtSessionClaimInvalid:
      return {401, "unable_to_parse_session_jwt", ""};
    case E::kSessionTokenMalformed:
      return {400, "invalid_session_token", ""};
    case E::kCustomClaimsReserved:
      return {400, "reserved_claims_in_custom_claims", ""};
    case E::kCustomClaimsStytchNamespace:
      return {400, "stytch_claims_in_custom_claims", ""};
    case E::kCustomClaimsTooLarge:
      return {400, "custom_claims_too_large", ""};
    // API credentials.
    case E::kInvalidAuthorizationHeader:
      return {400, "invalid_authorization_header", ""};
    case E::kUnauthorizedCredentials:
      return {401, "unauthorized_credentials", ""};
    case E::kProjectNotFound:
      return {404, "project_not_found", ""};
    // Project secrets (reachable from the CLI only).
    case E::kSecretNotFound:
      return {404, "secret_not_found", ""};
    case E::kTooManySecrets:
      return {400, "too_many_secrets", ""};
    case E::kLastSecret:
      return {400, "last_secret", ""};
    // The frontend SDK API. Stytch's name for a page whose domain the project does not allow.
    case E::kSdkOriginNotAllowed:
      return {403, "bad_domain_for_stytch_sdk", ""};
    case E::kSdkOriginNotFound:
      return {404, "sdk_origin_not_found", ""};
    // Sessions.
    case E::kSessionNotFound:
      return {404, "session_not_found", ""};
    case E::kTooManySessionArguments:
      return {400, "too_many_session_arguments", ""};
    case E::kNoSessionArguments:
      return {400, "no_session_arguments", ""};
    case E::kTooManyRevokeArguments:
      return {400, "too_many_session_revoke_arguments", ""};
    case E::kNoRevokeArguments:
      return {400, "no_session_revoke_arguments", ""};
    case E::kInvalidSessionDuration:
      return {400, "invalid_session_duration_minutes", ""};
    case E::kInvalidSessionId:
      return {400, "invalid_session_id", ""};
    // Users.
    case E::kUserNotFound:
      return {404, "user_not_found", ""};
    case E::kInvalidUserId:
      return {400, "invalid_user_id", ""};
    case E::kInvalidEmail:
      return {400, "invalid_email", ""};
    case E::kInvalidPhoneNumber:
      return {400, "invalid_phone_number", ""};
    case E::kDuplicateEmail:
      return {400, "duplicate_email", ""};
    case E::kDuplicatePhoneNumber:
      return {400, "duplicate_phone_number", ""};
    case E::kDuplicateExternalId:
      return {400, "duplicate_user_external_id", ""};
    case E::kInvalidCursor:
      return {400, "invalid_cursor", ""};
    case E::kInvalidSearchQuery:
      return {400, "invalid_search_query", ""};
    // Passwords.
    case E::kWeakPassword:
      return {400, "weak_password", ""};
    case E::kNoUserPassword:
      return {400, "no_user_password", ""};
    case E::kPasswordMismatch:
      return {401, "unauthorized_credentials", ""};
    case E::kEmailNotFound:
      return {404, "email_not_found", ""};
    case E::kUserLocked:
      return {429, "user_lock_limit_reached", ""};
    case E::kResetPassword:
      return {401, "reset_password", ""};
    // Shared Signals streams (SSF 1.0 §8.1.1: 404 for an unknown stream id, 409 when a
    // transmitter that allows one stream per receiver already has it).
    case E::kSsfStreamNotFound:
      return {404, "stream_not_found", ""};
    case E::kSsfStreamExists:
      return {409, "stream_already_exists", ""};
    // Password migration: every refusal is the caller's input, named as Stytch names it.
    case E::kInvalidHashType:
      return {400, "invalid_hash_type", ""};
    case E::kInvalidHash:
      return {400, "invalid_hash", ""};
    case E::kInvalidBcryptHash:
      return {400, "invalid_bcrypt_hash", ""};
    case E::kInvalidBcryptCost:
      return {400, "invalid_bcrypt_cost", ""};
    case E::kInvalidMd5Hash:
      return {400, "invalid_md_5_hash", ""};
    case E::kInvalidSha1Hash:
      return {400, "invalid_sha_1_hash", ""};
    case E::kInvalidSha512Hash:
      return {400, "invalid_sha_512_hash", ""};
    case E::kInvalidPrependSalt:
      return {400, "invalid_prepend_salt", ""};
    case E::kInvalidAppendSalt:
      return {400, "invalid_append_salt", ""};
    case E::kInvalidArgon2Salt:
      return {400, "invalid_argon_2_salt", ""};
    case E::kInvalidArgon2IterationAmount:
      return {400, "invalid_argon_2_iteration_amount", ""};
    case E::kInvalidArgon2Memory:
      return {400, "invalid_argon_2_memory", ""};
    case E::kInvalidArgon2Threads:
      return {400, "invalid_argon_2_threads", ""};
    case E::kInvalidArgon2KeyLength:
      return {400, "invalid_argon_2_key_length", ""};
    case E::kArgon2KeyLengthMismatch:
      return {400, "argon_2_key_length_mismatch", ""};
    case E::kInvalidBase64ScryptHash:
      return {400, "invalid_base64_scrypt_hash", ""};
    case E::kInvalidBase64ScryptSalt:
      return {400, "invalid_base64_scrypt_salt", ""};
    case E::kInvalidScryptSaltLength:
      return {400, "invalid_scrypt_salt_length", ""};
    case E::kInvalidScryptNParameter:
      return {400, "invalid_scrypt_n_parameter", ""};
    case E::kInvalidScryptParameters:
      return {400, "invalid_scrypt_parameters", ""};
    case E::kScryptKeyLengthMismatch:
      return {400, "scrypt_key_length_mismatch", ""};
    case E::kInvalidPbkdf2Hash:
      return {400, "invalid_pbkdf_2_hash", ""};
    case E::kInvalidPbkdf2Salt:
      return {400, "invalid_pbkdf_2_salt", ""};
    case E::kInvalidPbkdf2IterationAmount:
      return {400, "invalid_pbkdf_2_iteration_amount", ""};
    case E::kInvalidPbkdf2Algorithm:
      return {400, "invalid_pbkdf_2_algorithm", ""};
    case E::kPbkdf2KeyLengthMismatch:
      return {400, "pbkdf_2_key_length_mismatch", ""};
    case E::kInvalidPhpassHashPrefix:
      return {400, "invalid_phpass_hash_prefix", ""};
    case E::kInvalidPhpassHashFormat:
      return {400, "invalid_phpass_hash_format", ""};
    case E::kPasswordAlreadyExists:
      return {400, "password_already_exists", ""};
    // Roles and permissions.
    case E::kInvalidRbacPolicy:  // Reachable from the CLI only.
      return {400, "invalid_rbac_policy", ""};
    case E::kAuthorizationDenied:
      return {403, "consumer_session_authorization_error",
              "The User is not authorized to perform the requested action on that resource."};
    // Keys (reachable from the CLI, never from bad API input).
    case E::kKeyNotFound:
      return {404, "key_not_found", ""};
    case E::kKeyStateInvalid:
      return {400, "key_state_invalid", ""};
    // Email sign-in.
    case E::kMagicLinkNotFound:
      return {404, "magic_link_not_found", ""};
    case E::kUnableToAuthMagicLink:
      return {401, "unable_to_auth_magic_link", ""};
    case E::kOtpCodeNotFound:
      return {404, "otp_code_not_found", ""};
    case E::kUnableToAuthOtpCode:
      return {401, "unable_to_auth_otp_code", ""};
    case E::kInvalidMethodId:
      return {400, "invalid_method_id", ""};
    case E::kInvalidCode:
      return {400, "invalid_code", ""};
    case E::kInvalidExpiration:
      return {400, "invalid_expiration", ""};
    case E::kInvalidExpirationOtp:
      return {400, "invalid_expiration_otp", ""};
    case E::kAttributeMismatch:
      return {401, "attribute_mismatch", ""};
    case E::kPkceMismatch:
      return {400, "pkce_mismatch", ""};
    case E::kPkceExpectedCodeVerifier:
      return {400, "pkce_expected_code_verifier", ""};
    case E::kPkceDidNotExpectCodeVerifier:
      return {400, "pkce_did_not_expect_code_verifier", ""};
    case E::kPkceRequiredForNativeCallback:
      return {400, "pkce_required_for_native_callback", ""};
    case E::kNoLoginRedirectUrls:
      return {400, "no_login_redirect_urls_set", ""};
    case E::kNoSignupRedirectUrls:
      return {400, "no_signup_redirect_urls_set", ""};
    case E::kNoInviteRedirectUrls:
      return {400, "no_invite_redirect_urls_set", ""};
    case E::kNoResetPasswordRedirectUrls:
      return {400, "no_reset_password_redirect_urls_set", ""};
    case E::kInvalidLoginRedirectUrl:
      return {400, "invalid_login_magic_link_url", ""};
    case E::kInvalidSignupRedirectUrl:
      return {400, "invalid_signup_magic_link_url", ""};
    case E::kInvalidInviteRedirectUrl:
      return {400, "invalid_invite_magic_link_url", ""};
    case E::kInvalidResetPasswordRedirectUrl:
      return {400, "invalid_reset_password_redirect_url", ""};
    case E::kRedirectUrlNotAllowed:
      return {400, "no_match_for_provided_magic_link_url", ""};
    case E::kRedirectUrlNotFound:
      return {404, "redirect_url_not_found", ""};
    case E::kEmailTemplateNotFound:
      return {404, "email_template_not_found", ""};
    case E::kInvalidLocale:
      return {400, "invalid_locale", ""};
    case E::kSessionTooOldToResetPassword:
      return {400, "session_too_old_to_reset_password", ""};
    case E::kSmsNotConfigured:
      return {400, "sms_provider_not_configured", ""};
    // The database.
    case E::kStoreUnavailable:
      return {503, "service_unavailable",
              "The database is unavailable right now; the request changed nothing. Retry later."};
    case E::kStoreConflict:
      return {409, "request_conflict",
              "A concurrent request changed the same record; the request changed nothing. Retry."};
    // Bugs and broken deployments: details go to the log only.
    case E::kJwksInvalid:
    case E::kKeyUnsupported:
    case E::kNoActiveKey:
    case E::kMasterKeyInvalid:
    case E::kDecryptionFailed:
    case E::kCryptoFailure:
    case E::kStoreCorrupt:
    case E::kStoreInUse:  // Only at start-up, before any request.
    case E::kInternal:
      return {500, "internal_server_error", kInternalMessage};
  }
  return {500, "internal_server_error", kInternalMessage};
}

ApiResponse ErrorResponse(const Status& status, std::string_view request_id) {
  const HttpError e = MapError(status.code());
  if (e.status >= 500) {
    // The caller sees a fixed message; the operator finds the detail by the request id.
    LogEvent(
        e.status == 503 ? "warn" : "error", "request failed",
        {{"request_id", request_id}, {"error_type", e.error_type}, {"detail", status.ToString()}});
  }
  const std::string_view message =
      !e.fixed_message.empty() ? e.fixed_message : std::string_view(status.message());
  ApiResponse r;
  r.status = e.status;
  r.error = status.code();
  r.error_type = std::string(e.error_type);
  r.request_id = std::string(request_id);
  std::string& b = r.body;
  b.reserve(256 + message.size());
  b += "{\"status_code\":";
  b += std::to_string(e.status);
  b += ",\"request_id\":";
  AppendJsonString(request_id, b);
  b += ",\"error_type\":";
  AppendJsonString(e.error_type, b);
  b += ",\"error_message\":";
  AppendJsonString(message.empty() ? e.error_type : message, b);
  b += ",\"error_url\":\"https://stytch.com/docs/api/errors/";
  b += std::to_string(e.status);
  b += "#";
  b += e.error_type;
  b += "\"}";
  return r;
}

}  // namespace tessera::server
