#include "tessera/status.h"

namespace tessera {

// Both switches list every code and have no `default:`, so -Werror=switch catches a new code that
// was not given a category and a name.
ErrorCategory CategoryOf(ErrorCode code) {
  using C = ErrorCategory;
  switch (code) {
    case ErrorCode::kOk:
      return C::kOk;
    case ErrorCode::kInputTooLarge:
    case ErrorCode::kMalformedBase64:
    case ErrorCode::kMalformedJson:
    case ErrorCode::kJsonTooDeep:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kSessionTokenMalformed:
    case ErrorCode::kCustomClaimsNotObject:
    case ErrorCode::kCustomClaimsReserved:
    case ErrorCode::kCustomClaimsStytchNamespace:
    case ErrorCode::kCustomClaimsTooLarge:
    case ErrorCode::kJwksInvalid:
    case ErrorCode::kKeyUnsupported:
    case ErrorCode::kBadRequest:
    case ErrorCode::kBodyTooLarge:
    case ErrorCode::kHeadersTooLarge:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kInvalidAuthorizationHeader:
    case ErrorCode::kTooManySessionArguments:
    case ErrorCode::kNoSessionArguments:
    case ErrorCode::kTooManyRevokeArguments:
    case ErrorCode::kNoRevokeArguments:
    case ErrorCode::kInvalidSessionDuration:
    case ErrorCode::kInvalidSessionId:
    case ErrorCode::kInvalidUserId:
    case ErrorCode::kInvalidEmail:
    case ErrorCode::kInvalidPhoneNumber:
    case ErrorCode::kInvalidCursor:
    case ErrorCode::kInvalidSearchQuery:
    case ErrorCode::kWeakPassword:
    case ErrorCode::kInvalidRbacPolicy:
      return C::kInvalidArgument;
    case ErrorCode::kUnauthorizedCredentials:
    case ErrorCode::kPasswordMismatch:
    case ErrorCode::kResetPassword:
      return C::kUnauthenticated;
    case ErrorCode::kRouteNotFound:
    case ErrorCode::kProjectNotFound:
    case ErrorCode::kSecretNotFound:
    case ErrorCode::kSessionNotFound:
    case ErrorCode::kUserNotFound:
    case ErrorCode::kEmailNotFound:
      return C::kNotFound;
    case ErrorCode::kDuplicateEmail:
    case ErrorCode::kDuplicatePhoneNumber:
    case ErrorCode::kDuplicateExternalId:
      return C::kAlreadyExists;
    case ErrorCode::kNoUserPassword:
    case ErrorCode::kTooManySecrets:
    case ErrorCode::kLastSecret:
    case ErrorCode::kStoreConflict:
    case ErrorCode::kStoreInUse:
      return C::kFailedPrecondition;
    case ErrorCode::kTooManyRequests:
    case ErrorCode::kUserLocked:
      return C::kResourceExhausted;
    case ErrorCode::kAuthorizationDenied:
      return C::kPermissionDenied;
    case ErrorCode::kStoreUnavailable:
      return C::kUnavailable;
    case ErrorCode::kStoreCorrupt:
    case ErrorCode::kInternal:
      return C::kInternal;
    case ErrorCode::kJwtMalformed:
    case ErrorCode::kJwtHeaderInvalid:
    case ErrorCode::kJwtAlgorithmNotAllowed:
    case ErrorCode::kJwtCriticalUnsupported:
    case ErrorCode::kJwtEmbeddedKey:
    case ErrorCode::kJwtTypeInvalid:
    case ErrorCode::kJwtKidMissing:
    case ErrorCode::kJwtKidUnknown:
    case ErrorCode::kJwtKeyMismatch:
    case ErrorCode::kJwtSignatureInvalid:
    case ErrorCode::kJwtClaimsInvalid:
    case ErrorCode::kJwtIssuerInvalid:
    case ErrorCode::kJwtAudienceInvalid:
    case ErrorCode::kJwtNotYetValid:
    case ErrorCode::kJwtIssuedInFuture:
    case ErrorCode::kJwtExpired:
    case ErrorCode::kJwtSessionClaimInvalid:
      return C::kUnauthenticated;
    case ErrorCode::kKeyNotFound:
      return C::kNotFound;
    case ErrorCode::kKeyStateInvalid:
    case ErrorCode::kNoActiveKey:
      return C::kFailedPrecondition;
    case ErrorCode::kMasterKeyInvalid:
    case ErrorCode::kDecryptionFailed:
    case ErrorCode::kCryptoFailure:
      return C::kInternal;
  }
  return C::kInternal;  // Unreachable for valid enumerators.
}

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInputTooLarge:
      return "input_too_large";
    case ErrorCode::kMalformedBase64:
      return "malformed_base64";
    case ErrorCode::kMalformedJson:
      return "malformed_json";
    case ErrorCode::kJsonTooDeep:
      return "json_too_deep";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kJwtMalformed:
      return "jwt_malformed";
    case ErrorCode::kJwtHeaderInvalid:
      return "jwt_header_invalid";
    case ErrorCode::kJwtAlgorithmNotAllowed:
      return "jwt_algorithm_not_allowed";
    case ErrorCode::kJwtCriticalUnsupported:
      return "jwt_critical_unsupported";
    case ErrorCode::kJwtEmbeddedKey:
      return "jwt_embedded_key";
    case ErrorCode::kJwtTypeInvalid:
      return "jwt_type_invalid";
    case ErrorCode::kJwtKidMissing:
      return "jwt_kid_missing";
    case ErrorCode::kJwtKidUnknown:
      return "jwt_kid_unknown";
    case ErrorCode::kJwtKeyMismatch:
      return "jwt_key_mismatch";
    case ErrorCode::kJwtSignatureInvalid:
      return "jwt_signature_invalid";
    case ErrorCode::kJwtClaimsInvalid:
      return "jwt_claims_invalid";
    case ErrorCode::kJwtIssuerInvalid:
      return "jwt_issuer_invalid";
    case ErrorCode::kJwtAudienceInvalid:
      return "jwt_audience_invalid";
    case ErrorCode::kJwtNotYetValid:
      return "jwt_not_yet_valid";
    case ErrorCode::kJwtIssuedInFuture:
      return "jwt_issued_in_future";
    case ErrorCode::kJwtExpired:
      return "jwt_expired";
    case ErrorCode::kJwtSessionClaimInvalid:
      return "jwt_session_claim_invalid";
    case ErrorCode::kJwksInvalid:
      return "jwks_invalid";
    case ErrorCode::kKeyUnsupported:
      return "key_unsupported";
    case ErrorCode::kKeyNotFound:
      return "key_not_found";
    case ErrorCode::kKeyStateInvalid:
      return "key_state_invalid";
    case ErrorCode::kNoActiveKey:
      return "no_active_key";
    case ErrorCode::kMasterKeyInvalid:
      return "master_key_invalid";
    case ErrorCode::kDecryptionFailed:
      return "decryption_failed";
    case ErrorCode::kCryptoFailure:
      return "crypto_failure";
    case ErrorCode::kSessionTokenMalformed:
      return "session_token_malformed";
    case ErrorCode::kCustomClaimsNotObject:
      return "custom_claims_not_object";
    case ErrorCode::kCustomClaimsReserved:
      return "custom_claims_reserved";
    case ErrorCode::kCustomClaimsStytchNamespace:
      return "custom_claims_stytch_namespace";
    case ErrorCode::kCustomClaimsTooLarge:
      return "custom_claims_too_large";
    case ErrorCode::kBadRequest:
      return "bad_request";
    case ErrorCode::kBodyTooLarge:
      return "body_too_large";
    case ErrorCode::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorCode::kRouteNotFound:
      return "route_not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kTooManyRequests:
      return "too_many_requests";
    case ErrorCode::kInvalidAuthorizationHeader:
      return "invalid_authorization_header";
    case ErrorCode::kUnauthorizedCredentials:
      return "unauthorized_credentials";
    case ErrorCode::kProjectNotFound:
      return "project_not_found";
    case ErrorCode::kSecretNotFound:
      return "secret_not_found";
    case ErrorCode::kTooManySecrets:
      return "too_many_secrets";
    case ErrorCode::kLastSecret:
      return "last_secret";
    case ErrorCode::kSessionNotFound:
      return "session_not_found";
    case ErrorCode::kTooManySessionArguments:
      return "too_many_session_arguments";
    case ErrorCode::kNoSessionArguments:
      return "no_session_arguments";
    case ErrorCode::kTooManyRevokeArguments:
      return "too_many_session_revoke_arguments";
    case ErrorCode::kNoRevokeArguments:
      return "no_session_revoke_arguments";
    case ErrorCode::kInvalidSessionDuration:
      return "invalid_session_duration_minutes";
    case ErrorCode::kInvalidSessionId:
      return "invalid_session_id";
    case ErrorCode::kUserNotFound:
      return "user_not_found";
    case ErrorCode::kInvalidUserId:
      return "invalid_user_id";
    case ErrorCode::kInvalidEmail:
      return "invalid_email";
    case ErrorCode::kInvalidPhoneNumber:
      return "invalid_phone_number";
    case ErrorCode::kDuplicateEmail:
      return "duplicate_email";
    case ErrorCode::kDuplicatePhoneNumber:
      return "duplicate_phone_number";
    case ErrorCode::kDuplicateExternalId:
      return "duplicate_user_external_id";
    case ErrorCode::kInvalidCursor:
      return "invalid_cursor";
    case ErrorCode::kInvalidSearchQuery:
      return "invalid_search_query";
    case ErrorCode::kWeakPassword:
      return "weak_password";
    case ErrorCode::kNoUserPassword:
      return "no_user_password";
    case ErrorCode::kPasswordMismatch:
      return "password_mismatch";
    case ErrorCode::kEmailNotFound:
      return "email_not_found";
    case ErrorCode::kUserLocked:
      return "user_lock_limit_reached";
    case ErrorCode::kResetPassword:
      return "reset_password";
    case ErrorCode::kInvalidRbacPolicy:
      return "invalid_rbac_policy";
    case ErrorCode::kAuthorizationDenied:
      return "consumer_session_authorization_error";
    case ErrorCode::kStoreUnavailable:
      return "store_unavailable";
    case ErrorCode::kStoreConflict:
      return "store_conflict";
    case ErrorCode::kStoreCorrupt:
      return "store_corrupt";
    case ErrorCode::kStoreInUse:
      return "store_in_use";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";  // Unreachable for valid enumerators.
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(ErrorCodeName(code_));
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace tessera
