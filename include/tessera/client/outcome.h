// Outcome<T>: what every SDK call returns, a value or a typed Error.
#ifndef TESSERA_CLIENT_OUTCOME_H_
#define TESSERA_CLIENT_OUTCOME_H_

#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace tessera::client {

enum class ErrorKind {
  kApi,              // The server answered with an error body (status_code, error_type, ...).
  kTransport,        // No answer: connection refused, reset, DNS, TLS.
  kTimeout,          // The connect or request timeout passed.
  kProtocol,         // The server answered something that is not the API's JSON.
  kJwtInvalid,       // Local verification failed (signature, claims, unknown key, malformed).
  kJwtTooOld,        // Local verification passed but the JWT is older than max_token_age.
  kJwksUnavailable,  // No key set could be fetched and none was cached.
  kInvalidArgument,  // The call was made with arguments the SDK refuses before any I/O.
  // The answer's body was larger than allowed (max_response_bytes, 256 KiB for the key set): the
  // transfer was stopped at the limit.
  kResponseTooLarge,
  // Local verification only (AuthenticateJwt then asks the API): the revocation feed lists the
  // JWT's session as revoked, or its user with a not_before at or after the JWT's iat.
  kSessionRevoked,
  // Local verification only (AuthenticateJwt then asks the API): the revocation feed cannot vouch
  // that the JWT is not revoked. No snapshot has arrived yet, or the last snapshot or heartbeat is
  // older than revocation_staleness_bound (its lag_ms counted), or the stream was found to have
  // missed entries, or the JWT is past its exp by more than ClientOptions::clock_tolerance (only a
  // call's larger tolerance accepts it, and its revocation may have been forgotten).
  kFeedStale,
  // Local verification with an authorization check only (AuthenticateJwt then asks the API): no
  // role in the JWT grants the action on the resource under the cached policy
  // (error_type "invalid_permissions", as the Node SDK's local denial).
  kPermissionDenied,
  // Local verification with an authorization check only (AuthenticateJwt then asks the API): the
  // RBAC policy could not be fetched, or the one held is past ClientOptions::
  // rbac_policy_refresh_interval and refetching it failed.
  kPolicyUnavailable,
};

// A failed call. For kApi the members mirror the server's error body; for other kinds
// `error_type` is a short SDK code ("connection_failed", "response_too_large", "jwt_invalid",
// "jwt_too_old", "session_revoked", "feed_stale", "invalid_permissions", "policy_unavailable",
// ...) and `status_code` is 0. A denied authorization check answered by the server is kApi with
// status_code 403 and error_type "consumer_session_authorization_error".
struct Error {
  ErrorKind kind = ErrorKind::kApi;
  int status_code = 0;
  std::string error_type;
  std::string error_message;
  std::string request_id;
};

template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Outcome(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Outcome*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Outcome*>(this)->Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Outcome*>(this)->Checked(); }

  // REQUIRES: !ok().
  const Error& error() const {
    if (ok()) std::abort();
    return std::get<1>(v_);
  }

 private:
  T& Checked() {
    if (!ok()) std::abort();
    return std::get<0>(v_);
  }
  std::variant<T, Error> v_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_OUTCOME_H_
