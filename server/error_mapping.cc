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
