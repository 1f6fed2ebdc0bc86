// Signing and verification keys for session JWTs.
//
// RS256 with a 2048-bit RSA key is the default and the only algorithm the Stytch SDKs accept.
// ES256 (P-256) and EdDSA (Ed25519) are offered for projects that choose them; their JWTs verify
// with Tessera's own SDK and generic JOSE libraries, not with the Stytch SDKs.
//
// Both key classes are immutable after construction and safe to use from many threads at once.
#ifndef TESSERA_TOKEN_KEYS_H_
#define TESSERA_TOKEN_KEYS_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tessera/clock.h"
#include "tessera/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace tessera {

enum class JwtAlgorithm {
  kRS256,  // RSASSA-PKCS1-v1_5 with SHA-256; RSA keys of 2048 to 4096 bits.
  kES256,  // ECDSA on P-256 with SHA-256; 64-byte R||S signatures.
  kEdDSA,  // Ed25519.
};

// "RS256", "ES256", "EdDSA".
std::string_view AlgorithmName(JwtAlgorithm alg);
// The algorithm named exactly `name`, or nullopt for anything else (including "none" and HS*).
std::optional<JwtAlgorithm> AlgorithmFromName(std::string_view name);

// Smallest and largest RSA modulus accepted, in bits. The ceiling bounds the CPU cost an attacker
// can force on a verifier by publishing a huge key.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 4096;

// A public key that verifies JWT signatures, with the key id it is published under.
class PublicKey {
 public:
  // Builds a key from one JWK object (RFC 7517). Requires `kid`; `alg`, when present, must match
  // the key type; `use`, when present, must be "sig"; `key_ops`, when present, must contain
  // "verify". Fails with kKeyUnsupported for any other key type, curve or size, and kJwksInvalid
  // for a malformed member. Private members (`d`, `p`, ...) are ignored, never loaded.
  static Result<std::shared_ptr<const PublicKey>> FromJwk(const boost::json::object& jwk);

  // Takes ownership of `pkey` (a public or private key; only the public half is used).
  // `certificate_der` is the self-signed certificate published as `x5c`; may be empty.
  static Result<std::shared_ptr<const PublicKey>> FromPkey(std::string kid, JwtAlgorithm alg,
                                                           EVP_PKEY* pkey,
                                                           std::string certificate_der);

  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  const std::string& kid() const { return kid_; }
  JwtAlgorithm alg() const { return alg_; }

  // True when `signature` (raw JOSE form: PKCS#1 bytes, R||S, or Ed25519) is a valid signature of
  // `signing_input` under this key. Leaves no error on OpenSSL's queue.
  bool Verify(std::string_view signing_input, std::span<const std::uint8_t> signature) const;

  // The public JWK, members in alphabetical order as Stytch publishes them: for RSA
  // {alg, e, key_ops, kid, kty, n, use, x5c, x5tS256}; x5c/x5tS256 only when a certificate is set.
  const boost::json::object& jwk() const { return jwk_; }

  // The underlying key, for benchmarks that compare against bare OpenSSL. Owned by this object.
  EVP_PKEY* pkey() const { return pkey_; }

 private:
  PublicKey(std::string kid, JwtAlgorithm alg, EVP_PKEY* pkey);

  std::string kid_;
  JwtAlgorithm alg_;
  EVP_PKEY* pkey_;
  boost::json::object jwk_;
};

// A private key that signs JWTs.
class SigningKey {
 public:
  // A fresh key: RSA-2048 for RS256, P-256 for ES256, Ed25519 for EdDSA.
  static Result<SigningKey> Generate(JwtAlgorithm alg, std::string kid);

  // A key from its PKCS#8 DER encoding (as PrivateKeyDer returns). The key type must fit `alg`.
  // `certificate_der` is passed through to the public key.
  static Result<SigningKey> FromPkcs8(std::string kid, JwtAlgorithm alg, std::string_view der,
                                      std::string certificate_der = {});

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  const std::string& kid() const { return public_->kid(); }
  JwtAlgorithm alg() const { return public_->alg(); }

  // PKCS#8 DER of the private key. Secret: seal it before storing it anywhere.
  Result<std::string> PrivateKeyDer() const;

  // The raw JOSE signature of `signing_input`.
  Result<std::string> Sign(std::string_view signing_input) const;

  // A self-signed X.509 certificate for this key (subject = issuer = O=Tessera, serial 1, valid
  // from `now` for ten years, keyUsage digitalSignature and basicConstraints CA:FALSE, both
  // critical), DER-encoded. Published in the JWK's `x5c` so that tools that want a certificate find
  // one.
  Result<std::string> SelfSignedCertificate(TimePoint now) const;

  // Returns a signing key whose public key publishes `certificate_der` in its JWK.
  Result<SigningKey> WithCertificate(std::string certificate_der) const;

  const std::shared_ptr<const PublicKey>& public_key() const { return public_; }

 private:
  SigningKey(EVP_PKEY* pkey, std::shared_ptr<const PublicKey> pub);
  // Takes ownership of `pkey` and checks that it fits `alg`.
  static Result<SigningKey> Adopt(EVP_PKEY* pkey, std::string kid, JwtAlgorithm alg,
                                  std::string certificate_der);

  EVP_PKEY* pkey_ = nullptr;
  std::shared_ptr<const PublicKey> public_;
};

}  // namespace tessera

#endif  // TESSERA_TOKEN_KEYS_H_
