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
      return C::kInvalidArgument;
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
