// Typed errors for the whole of Tessera.
//
// Every failure a Tessera library can report is one ErrorCode. Each code belongs to exactly one
// ErrorCategory, which is all that generic code (retry logic, the HTTP error mapping) needs to
// know. The HTTP layer maps a code to a status and an `error_type` in one place
// (server/error_mapping.cc); nothing below it knows about HTTP.
#ifndef TESSERA_STATUS_H_
#define TESSERA_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

namespace tessera {

enum class ErrorCategory {
  kOk,
  kInvalidArgument,     // The caller sent something malformed or out of range.
  kUnauthenticated,     // Credentials or a token are missing, wrong or no longer valid.
  kPermissionDenied,    // The caller is known but may not do this.
  kNotFound,            // The named thing does not exist (or is not visible to the caller).
  kAlreadyExists,       // Creating it would duplicate something unique.
  kFailedPrecondition,  // The request is well formed but the current state forbids it.
  kResourceExhausted,   // A limit or a lock stops the request for now.
  kUnavailable,         // A dependency (the store) cannot be reached; retrying may help.
  kInternal,            // A bug or an unexpected library failure.
};

enum class ErrorCode {
  kOk = 0,  // Success.

  // --- Input encoding and limits ----------------------------------------------------------------
  kInputTooLarge,    // Input exceeds a documented size limit; it was not parsed.
  kMalformedBase64,  // Not strict base64url (bad character, padding, or non-zero trailing bits).
  kMalformedJson,    // Not valid JSON, or not the JSON type that was required.
  kJsonTooDeep,      // JSON nesting exceeds the documented bound; parsing stopped there.
  kInvalidArgument,  // A field has a value outside what the operation accepts.

  // --- JWT structure and header -----------------------------------------------------------------
  kJwtMalformed,            // Not exactly three non-empty, dot-separated segments.
  kJwtHeaderInvalid,        // Header is not an object, lacks a member or has a member not allowed.
  kJwtAlgorithmNotAllowed,  // `alg` is none, an HMAC, or anything but RS256, ES256 or EdDSA.
  kJwtCriticalUnsupported,  // `crit` names extensions; Tessera understands none.
  kJwtEmbeddedKey,          // Header carries its own key material (`jwk`, `jku`, `x5u`, `x5c`).
  kJwtTypeInvalid,          // `typ` is missing or is not "JWT".
  kJwtKidMissing,           // Header has no `kid`.
  kJwtKidUnknown,           // `kid` names no key in the key set.
  kJwtKeyMismatch,          // The key named by `kid` has another type or algorithm than `alg`.
  kJwtSignatureInvalid,     // The signature does not verify (wrong length, wrong key, tampered).

  // --- JWT claims -------------------------------------------------------------------------------
  kJwtClaimsInvalid,        // Payload is not an object, or a registered claim is missing/mistyped.
  kJwtIssuerInvalid,        // `iss` is not one of the accepted issuers.
  kJwtAudienceInvalid,      // `aud` does not contain the project id.
  kJwtNotYetValid,          // `nbf` is later than now plus the allowed skew.
  kJwtIssuedInFuture,       // `iat` is later than now plus the allowed skew.
  kJwtExpired,              // `exp` is at or before now minus the allowed skew.
  kJwtSessionClaimInvalid,  // The `https://stytch.com/session` claim is missing or malformed.

  // --- Keys -------------------------------------------------------------------------------------
  kJwksInvalid,       // A JWKS document is not a well-formed key set.
  kKeyUnsupported,    // Key type, curve, size or algorithm that Tessera does not accept.
  kKeyNotFound,       // No key with that id in the project's key ring.
  kKeyStateInvalid,   // The key ring transition is not allowed from the key's current state.
  kNoActiveKey,       // The project has no key that may sign.
  kMasterKeyInvalid,  // The master key file is unreadable, malformed, another user's or too open.
  kDecryptionFailed,  // Sealed data does not open under this master key (wrong key or tampered).
  kCryptoFailure,     // OpenSSL reported an unexpected failure.

  // --- Session token and custom claims ----------------------------------------------------------
  kSessionTokenMalformed,        // Not 44 characters of base64url.
  kCustomClaimsNotObject,        // `session_custom_claims` is not a JSON object.
  kCustomClaimsReserved,         // Uses a registered claim name (iss sub aud exp nbf iat jti).
  kCustomClaimsStytchNamespace,  // Uses a name under `https://stytch.com/`.
  kCustomClaimsTooLarge,         // Serialized claims exceed 4 KiB, or nest too deeply.

  // --- Requests ---------------------------------------------------------------------------------
  kBadRequest,        // A field is missing or has the wrong type, or the body is not an object.
  kBodyTooLarge,      // The request body exceeds the server's limit.
  kHeadersTooLarge,   // The request headers exceed the server's limit.
  kRouteNotFound,     // No route has this path.
  kMethodNotAllowed,  // The path exists, but not with this method.
  kTooManyRequests,   // The server refuses more work for now (e.g. the connection limit).

  // --- API credentials --------------------------------------------------------------------------
  kInvalidAuthorizationHeader,  // The Authorization header is not `Basic base64(id:secret)`.
  kUnauthorizedCredentials,     // Missing credentials, unknown project or wrong secret.
  kProjectNotFound,             // No project with this id (JWKS, CLI).
  kSecretNotFound,              // The project has no secret with this id (CLI).
  kTooManySecrets,              // The project already holds the most secrets it may (CLI).
  kLastSecret,                  // The project's only secret cannot be deleted (CLI).

  // --- The frontend SDK API (/sdk/v1) -----------------------------------------------------------
  kSdkOriginNotAllowed,  // The calling page's origin is not on the project's allowed list.
  kSdkOriginNotFound,    // The project has no such allowed origin (CLI).

  // --- Sessions ---------------------------------------------------------------------------------
  kSessionNotFound,          // Unknown, revoked or expired session (token, JWT or id).
  kTooManySessionArguments,  // Both session_token and session_jwt were given.
  kNoSessionArguments,       // Neither session_token nor session_jwt was given.
  kTooManyRevokeArguments,   // More than one of session_id, session_token, session_jwt.
  kNoRevokeArguments,        // None of session_id, session_token, session_jwt.
  kInvalidSessionDuration,   // session_duration_minutes outside 5..527040.
  kInvalidSessionId,         // A session id that cannot be one of ours.

  // --- Users ------------------------------------------------------------------------------------
  kUserNotFound,          // No such user in this project.
  kInvalidUserId,         // A user id or external id with characters or length not allowed.
  kInvalidEmail,          // Not an email address we accept.
  kInvalidPhoneNumber,    // Not an E.164 phone number.
  kDuplicateEmail,        // Another user of the project has this email.
  kDuplicatePhoneNumber,  // Another user of the project has this phone number.
  kDuplicateExternalId,   // Another user of the project has this external id.
  kInvalidCursor,         // A search cursor that this server did not issue.
  kInvalidSearchQuery,    // Unknown filter, wrong filter value type or operator.

  // --- Passwords --------------------------------------------------------------------------------
  kWeakPassword,      // The password fails the project's strength policy.
  kNoUserPassword,    // The user has no password.
  kPasswordMismatch,  // Wrong password (or, under enumeration protection, unknown email).
  kEmailNotFound,     // No user with this email (default, Stytch-compatible behaviour).
  kUserLocked,        // Too many failed attempts; the user is locked for a while.
  kResetPassword,     // The password must be reset before it can be used again.

  // --- Shared Signals (SSF) streams -------------------------------------------------------------
  kSsfStreamNotFound,  // The project has no SSF event stream with this id.
  kSsfStreamExists,    // The project already has its one SSF event stream.
  // --- Password migration (passwords/migrate, `tessera users import`) ----------------------------
  kInvalidHashType,     // hash_type names no hash Tessera can verify.
  kInvalidHash,         // The hash does not have the form its hash_type needs.
  kInvalidBcryptHash,   // Not a $2a$/$2b$/$2y$ bcrypt string of 60 characters.
  kInvalidBcryptCost,   // A bcrypt cost outside the bounds Tessera verifies (4..16).
  kInvalidMd5Hash,      // An md_5 hash that is not 32 hex digits.
  kInvalidSha1Hash,     // A sha_1 hash that is not 40 hex digits.
  kInvalidSha512Hash,   // A sha_512 hash that is not 128 hex digits.
  kInvalidPrependSalt,  // prepend_salt too long or holding a NUL.
  kInvalidAppendSalt,   // append_salt too long or holding a NUL.
  kInvalidArgon2Salt,   // An Argon2 salt shorter than 8 bytes, longer than 64, or unreadable.
  kInvalidArgon2IterationAmount,  // Argon2 passes outside 1..16 (or passes × memory too large).
  kInvalidArgon2Memory,           // Argon2 memory outside 8·threads KiB..256 MiB.
  kInvalidArgon2Threads,          // Argon2 lanes outside 1..16.
  kInvalidArgon2KeyLength,        // Argon2 output length outside 16..128 bytes.
  kArgon2KeyLengthMismatch,       // argon_2_config.key_length is not the length of the hash.
  kInvalidBase64ScryptHash,       // A scrypt hash that is not base64 (or a malformed $scrypt$).
  kInvalidBase64ScryptSalt,       // A scrypt salt that is not base64.
  kInvalidScryptSaltLength,       // A scrypt salt of 0 or more than 256 bytes.
  kInvalidScryptNParameter,       // N not a power of two in 2..262144.
  kInvalidScryptParameters,       // r, p or the memory they need outside the bounds.
  kScryptKeyLengthMismatch,       // scrypt_config.key_length is not the length of the hash.
  kInvalidPbkdf2Hash,             // A pbkdf_2 hash that is not base64 of 16..128 bytes.
  kInvalidPbkdf2Salt,             // A pbkdf_2 salt that is not base64 of 1..256 bytes.
  kInvalidPbkdf2IterationAmount,  // PBKDF2 iterations outside 1..2 000 000.
  kInvalidPbkdf2Algorithm,        // pbkdf_2_config.algorithm other than sha256 or sha512.
  kPbkdf2KeyLengthMismatch,       // pbkdf_2_config.key_length is not the length of the hash.
  kInvalidPhpassHashPrefix,       // A phpass hash that starts with neither $P$ nor $H$.
  kInvalidPhpassHashFormat,       // A phpass hash of the wrong length, alphabet or iteration count.
  kPasswordAlreadyExists,         // The user with this email already has a password.
  // --- Email sign-in: magic links, one-time passcodes, password resets, redirect URLs -----------
  kMagicLinkNotFound,      // No magic link or password reset token is this token.
  kUnableToAuthMagicLink,  // The token was used already, has expired or was revoked.
  kOtpCodeNotFound,  // The passcode is not the current one of this method_id (a counted failure).
  kUnableToAuthOtpCode,   // The passcode was used already, has expired or was replaced by a newer
                          // one.
  kInvalidMethodId,       // method_id is not an email id or phone id.
  kInvalidCode,           // A passcode that is not six digits.
  kInvalidExpiration,     // A magic-link or reset expiry outside 5..10080 minutes.
  kInvalidExpirationOtp,  // A passcode expiry outside 1..10 minutes.
  kAttributeMismatch,     // `options` asked for the send's IP or user agent; the request's differ.
  kPkceMismatch,          // code_verifier does not hash to the flow's code_challenge.
  kPkceExpectedCodeVerifier,       // The flow began with a code_challenge; no code_verifier came.
  kPkceDidNotExpectCodeVerifier,   // A code_verifier for a flow begun without a code_challenge.
  kPkceRequiredForNativeCallback,  // A redirect URL that is not http(s), without a code_challenge.
  kNoLoginRedirectUrls,            // No login URL in the request and no default login URL.
  kNoSignupRedirectUrls,           // No sign-up URL in the request and no default sign-up URL.
  kNoInviteRedirectUrls,           // No invite URL in the request and no default invite URL.
  kNoResetPasswordRedirectUrls,    // No reset URL in the request and no default reset URL.
  kInvalidLoginRedirectUrl,        // A login URL that is not an absolute URL.
  kInvalidSignupRedirectUrl,       // A sign-up URL that is not an absolute URL.
  kInvalidInviteRedirectUrl,       // An invite URL that is not an absolute URL.
  kInvalidResetPasswordRedirectUrl,  // A reset URL that is not an absolute URL.
  kRedirectUrlNotAllowed,         // A redirect URL that is not on the project's list for its type.
  kRedirectUrlNotFound,           // The project has no such redirect URL (CLI).
  kEmailTemplateNotFound,         // A *_template_id that names no template.
  kInvalidLocale,                 // A locale other than en, es, pt-br, fr.
  kSessionTooOldToResetPassword,  // No password, email magic link or email OTP factor of the last 5
                                  // minutes.
  kSmsNotConfigured,              // SMS or WhatsApp: this server has no SMS provider.
  // --- Roles and permissions (RBAC) -------------------------------------------------------------
  kInvalidRbacPolicy,    // An RBAC policy that breaks one of its rules (tessera/rbac/policy.h).
  kAuthorizationDenied,  // No role of the user grants the action on the resource.

  // --- Storage and internal ---------------------------------------------------------------------
  kStoreUnavailable,  // The database cannot be reached or is busy beyond its timeout.
  kStoreConflict,     // A concurrent change won; the operation may be retried.
  kStoreCorrupt,      // The database holds something Tessera did not write.
  kStoreInUse,        // Another server holds the store's exclusive lock (SQLite: <database>.lock).
  kInternal,          // A bug: an invariant did not hold.
};

// The last enumerator of ErrorCode (codes are dense from kOk), so tests can walk them all.
inline constexpr ErrorCode kLastErrorCode = ErrorCode::kInternal;

// The category of `code`. Exhaustive: adding a code without a category fails to compile with
// -Werror=switch.
ErrorCategory CategoryOf(ErrorCode code);

// A stable, human-readable name for `code`, e.g. "jwt_expired". Never empty.
std::string_view ErrorCodeName(ErrorCode code);

// The outcome of an operation that returns no value: OK, or an error code with a message meant for
// the API caller (it never contains a secret, a token or a key).
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  ErrorCategory category() const { return CategoryOf(code_); }
  const std::string& message() const { return message_; }

  // "jwt_expired: the JWT has expired" (for logs and test failure output).
  std::string ToString() const;

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status Error(ErrorCode code, std::string message) {
  return Status(code, std::move(message));
}

}  // namespace tessera

#endif  // TESSERA_STATUS_H_
