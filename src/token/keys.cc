#include "tessera/token/keys.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <array>
#include <climits>
#include <optional>
#include <vector>

#include "common/base64.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace tessera {

using crypto::CryptoError;
using crypto::DrainErrors;

namespace {

// Fetched once. EVP_sha256() would also work, but in OpenSSL 3 every use of it triggers an implicit
// fetch that takes a global lock; an explicitly fetched EVP_MD skips that on the hot path.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

bool KeyFitsAlgorithm(EVP_PKEY* pkey, JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kRS256: {
      if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return false;
      const int bits = EVP_PKEY_get_bits(pkey);
      return bits >= kMinRsaBits && bits <= kMaxRsaBits;
    }
    case JwtAlgorithm::kES256: {
      if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return false;
      char group[64] = {};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &len) != 1) {
        DrainErrors();
        return false;
      }
      return std::string_view(group, len) == "prime256v1" ||
             std::string_view(group, len) == "P-256";
    }
    case JwtAlgorithm::kEdDSA:
      return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
  }
  return false;
}

std::string BnToBase64Url(const BIGNUM* bn, int pad_to = 0) {
  const int len = std::max(BN_num_bytes(bn), pad_to);
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(len));
  BN_bn2binpad(bn, buf.data(), len);
  return Base64UrlEncode(buf);
}

// Public JWK members for `pkey`, alphabetical, without x5c/x5tS256.
Result<boost::json::object> PublicJwkMembers(EVP_PKEY* pkey, JwtAlgorithm alg,
                                             const std::string& kid) {
  boost::json::object jwk;
  jwk["alg"] = AlgorithmName(alg);
  switch (alg) {
    case JwtAlgorithm::kRS256: {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
          EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        BN_free(n);
        BN_free(e);
        return CryptoError("reading RSA public key");
      }
      crypto::BignumPtr np(n), ep(e);
      jwk["e"] = BnToBase64Url(e);
      jwk["key_ops"] = boost::json::array{"verify"};
      jwk["kid"] = kid;
      jwk["kty"] = "RSA";
      jwk["n"] = BnToBase64Url(n);
      jwk["use"] = "sig";
      break;
    }
    case JwtAlgorithm::kES256: {
      BIGNUM* x = nullptr;
      BIGNUM* y = nullptr;
      if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
          EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
        BN_free(x);
        BN_free(y);
        return CryptoError("reading EC public key");
      }
      crypto::BignumPtr xp(x), yp(y);
      jwk["crv"] = "P-256";
      jwk["key_ops"] = boost::json::array{"verify"};
      jwk["kid"] = kid;
      jwk["kty"] = "EC";
      jwk["use"] = "sig";
      jwk["x"] = BnToBase64Url(x, 32);
      jwk["y"] = BnToBase64Url(y, 32);
      break;
    }
    case JwtAlgorithm::kEdDSA: {
      std::uint8_t raw[32];
      std::size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof raw) {
        return CryptoError("reading Ed25519 public key");
      }
      jwk["crv"] = "Ed25519";
      jwk["key_ops"] = boost::json::array{"verify"};
      jwk["kid"] = kid;
      jwk["kty"] = "OKP";
      jwk["use"] = "sig";
      jwk["x"] = Base64UrlEncode(std::span<const std::uint8_t>(raw, len));
      break;
    }
  }
  return jwk;
}

// Sorts the members of `jwk` by name (boost::json::object keeps insertion order).
boost::json::object Sorted(const boost::json::object& jwk) {
  std::vector<const boost::json::key_value_pair*> kvs;
  for (const auto& kv : jwk) kvs.push_back(&kv);
  std::sort(kvs.begin(), kvs.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  boost::json::object out;
  for (const auto* kv : kvs) out[kv->key()] = kv->value();
  return out;
}

Result<std::string> JsonStringMember(const boost::json::object& o, std::string_view name,
                                     bool required) {
  const auto it = o.find(name);
  if (it == o.end()) {
    if (required) {
      return Error(ErrorCode::kJwksInvalid, "JWK lacks member \"" + std::string(name) + "\"");
    }
    return std::string();
  }
  if (!it->value().is_string()) {
    return Error(ErrorCode::kJwksInvalid,
                 "JWK member \"" + std::string(name) + "\" is not a string");
  }
  return std::string(it->value().get_string());
}

Result<std::string> DecodeMember(const boost::json::object& o, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::string text, JsonStringMember(o, name, true));
  auto bytes = Base64UrlDecode(text);
  if (!bytes.ok() || bytes->empty()) {
    return Error(ErrorCode::kJwksInvalid,
                 "JWK member \"" + std::string(name) + "\" is not base64url");
  }
  return std::move(*bytes);
}

Result<crypto::PkeyPtr> PkeyFromParams(const char* type, crypto::ParamBldPtr& bld) {
  crypto::ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    DrainErrors();
    return Error(ErrorCode::kKeyUnsupported, "JWK does not describe a valid public key");
  }
  return crypto::PkeyPtr(raw);
}

Result<crypto::PkeyPtr> RsaFromJwk(const boost::json::object& jwk) {
  TESSERA_ASSIGN_OR_RETURN(std::string n, DecodeMember(jwk, "n"));
  TESSERA_ASSIGN_OR_RETURN(std::string e, DecodeMember(jwk, "e"));
  if (n.size() > kMaxRsaBits / 8 + 1 || e.size() > 8) {
    return Error(ErrorCode::kKeyUnsupported, "RSA key is larger than 4096 bits");
  }
  crypto::BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                                   static_cast<int>(n.size()), nullptr));
  crypto::BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                                   static_cast<int>(e.size()), nullptr));
  crypto::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return CryptoError("building RSA key");
  }
  // An even or tiny exponent is never legitimate; reject it rather than rely on OpenSSL.
  if (!BN_is_odd(bn_e.get()) || BN_is_one(bn_e.get())) {
    return Error(ErrorCode::kKeyUnsupported, "RSA public exponent is invalid");
  }
  return PkeyFromParams("RSA", bld);
}

Result<crypto::PkeyPtr> EcFromJwk(const boost::json::object& jwk) {
  TESSERA_ASSIGN_OR_RETURN(std::string crv, JsonStringMember(jwk, "crv", true));
  if (crv != "P-256") return Error(ErrorCode::kKeyUnsupported, "EC curve is not P-256");
  TESSERA_ASSIGN_OR_RETURN(std::string x, DecodeMember(jwk, "x"));
  TESSERA_ASSIGN_OR_RETURN(std::string y, DecodeMember(jwk, "y"));
  if (x.size() != 32 || y.size() != 32) {
    return Error(ErrorCode::kJwksInvalid, "P-256 coordinates must be 32 bytes");
  }
  std::string point = "\x04" + x + y;
  crypto::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return CryptoError("building EC key");
  }
  TESSERA_ASSIGN_OR_RETURN(crypto::PkeyPtr pkey, PkeyFromParams("EC", bld));
  // The point must lie on the curve; an invalid-curve point can leak nothing here (we only verify),
  // but a key that is not a key should not be accepted either.
  crypto::PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    DrainErrors();
    return Error(ErrorCode::kKeyUnsupported, "EC point is not on P-256");
  }
  return pkey;
}

Result<crypto::PkeyPtr> OkpFromJwk(const boost::json::object& jwk) {
  TESSERA_ASSIGN_OR_RETURN(std::string crv, JsonStringMember(jwk, "crv", true));
  if (crv != "Ed25519") return Error(ErrorCode::kKeyUnsupported, "OKP curve is not Ed25519");
  TESSERA_ASSIGN_OR_RETURN(std::string x, DecodeMember(jwk, "x"));
  if (x.size() != 32) return Error(ErrorCode::kJwksInvalid, "Ed25519 key must be 32 bytes");
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size());
  if (raw == nullptr) {
    DrainErrors();
    return Error(ErrorCode::kKeyUnsupported, "not a valid Ed25519 key");
  }
  return crypto::PkeyPtr(raw);
}

// Converts a 64-byte JOSE R||S signature to the DER form OpenSSL verifies.
bool RawEcdsaToDer(std::span<const std::uint8_t> raw, std::vector<std::uint8_t>& der) {
  if (raw.size() != 64) return false;
  crypto::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return false;
  der.resize(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  return i2d_ECDSA_SIG(sig.get(), &p) == len;
}

// Verification contexts, kept per thread and per key so that PublicKey::Verify skips
// EVP_DigestVerifyInit on the hot path.
//
// Why: in OpenSSL 3, EVP_DigestVerifyInit builds a fresh EVP_PKEY_CTX and fetches the signature
// and digest implementations every time; for RS256 that is about an eighth of a whole RSA-2048
// verification, as much as all of VerifyJwt's own parsing (docs/benchmarks.md). RS256 and ES256
// sign a SHA-256 digest, so the same check can be split into hashing (a reused EVP_MD_CTX) and
// EVP_PKEY_verify of the digest with a context initialised once: PKCS#1 v1.5 padding for RSA and
// SHA-256 as the signature digest, which makes OpenSSL compare the full DigestInfo and the digest
// length exactly as EVP_DigestVerify does. Ed25519 signs the message itself and keeps the one-shot
// EVP_DigestVerify path.
//
// Identity: an entry is found by EVP_PKEY address. Its EVP_PKEY_CTX holds a reference on that
// EVP_PKEY, so the key outlives the entry and its address cannot be reused by another key while
// the entry exists. The price is that up to kEntries keys per thread stay in memory after their
// key set is dropped, until they are evicted or the thread ends.
class VerifyContextCache {
 public:
  VerifyContextCache() = default;
  VerifyContextCache(const VerifyContextCache&) = delete;
  VerifyContextCache& operator=(const VerifyContextCache&) = delete;
  ~VerifyContextCache() {
    for (Entry& e : entries_) EVP_PKEY_CTX_free(e.ctx);
    EVP_MD_CTX_free(hash_);
  }

  // A context ready for EVP_PKEY_verify of a SHA-256 digest under `pkey`, or nullptr when OpenSSL
  // could not make one (the caller falls back to EVP_DigestVerify).
  EVP_PKEY_CTX* For(EVP_PKEY* pkey, bool rsa) {
    for (Entry& e : entries_) {
      if (e.pkey == pkey) return e.ctx;
    }
    crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
        (rsa && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) ||
        EVP_PKEY_CTX_set_signature_md(ctx.get(), Sha256Md()) != 1) {
      DrainErrors();
      return nullptr;
    }
    // Round-robin replacement: a verifier mostly sees one or two keys per project, and a miss
    // costs no more than the uncached path.
    Entry& slot = entries_[next_];
    next_ = (next_ + 1) % kEntries;
    EVP_PKEY_CTX_free(slot.ctx);
    slot = {pkey, ctx.release()};
    return slot.ctx;
  }

  // This thread's hashing context, or nullptr when it cannot be allocated.
  EVP_MD_CTX* Hash() {
    if (hash_ == nullptr) hash_ = EVP_MD_CTX_new();
    return hash_;
  }

 private:
  static constexpr std::size_t kEntries = 16;
  struct Entry {
    EVP_PKEY* pkey = nullptr;  // Identity only; kept alive by `ctx`.
    EVP_PKEY_CTX* ctx = nullptr;
  };
  std::array<Entry, kEntries> entries_{};
  std::size_t next_ = 0;
  EVP_MD_CTX* hash_ = nullptr;
};

// SHA-256 of `message`, then `signature` checked against it with the cached context for `pkey`.
// nullopt when no cached context is available, so the caller takes the one-shot path instead.
std::optional<bool> VerifySha256Digest(EVP_PKEY* pkey, bool rsa, std::string_view message,
                                       std::span<const std::uint8_t> signature) {
  thread_local VerifyContextCache cache;
  EVP_PKEY_CTX* pctx = cache.For(pkey, rsa);
  EVP_MD_CTX* hash = cache.Hash();
  if (pctx == nullptr || hash == nullptr) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const bool ok =
      EVP_DigestInit_ex2(hash, Sha256Md(), nullptr) == 1 &&
      EVP_DigestUpdate(hash, message.data(), message.size()) == 1 &&
      EVP_DigestFinal_ex(hash, digest, &digest_len) == 1 &&
      EVP_PKEY_verify(pctx, signature.data(), signature.size(), digest, digest_len) == 1;
  if (!ok) DrainErrors();
  return ok;
}

}  // namespace

std::string_view AlgorithmName(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kRS256:
      return "RS256";
    case JwtAlgorithm::kES256:
      return "ES256";
    case JwtAlgorithm::kEdDSA:
      return "EdDSA";
  }
  return "RS256";
}

std::optional<JwtAlgorithm> AlgorithmFromName(std::string_view name) {
  if (name == "RS256") return JwtAlgorithm::kRS256;
  if (name == "ES256") return JwtAlgorithm::kES256;
  if (name == "EdDSA") return JwtAlgorithm::kEdDSA;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// PublicKey

PublicKey::PublicKey(std::string kid, JwtAlgorithm alg, EVP_PKEY* pkey)
    : kid_(std::move(kid)), alg_(alg), pkey_(pkey) {}

PublicKey::~PublicKey() { EVP_PKEY_free(pkey_); }

Result<std::shared_ptr<const PublicKey>> PublicKey::FromPkey(std::string kid, JwtAlgorithm alg,
                                                             EVP_PKEY* pkey,
                                                             std::string certificate_der) {
  crypto::PkeyPtr owned(pkey);
  if (pkey == nullptr || !KeyFitsAlgorithm(pkey, alg)) {
    return Error(ErrorCode::kKeyUnsupported,
                 "key type or size does not fit " + std::string(AlgorithmName(alg)));
  }
  if (kid.empty()) return Error(ErrorCode::kInvalidArgument, "a key needs a kid");
  TESSERA_ASSIGN_OR_RETURN(boost::json::object jwk, PublicJwkMembers(pkey, alg, kid));
  if (!certificate_der.empty()) {
    const crypto::Digest256 thumb = crypto::Sha256(certificate_der);
    jwk["x5c"] = boost::json::array{boost::json::string(Base64Encode(AsBytes(certificate_der)))};
    jwk["x5tS256"] = Base64UrlEncodePadded(thumb);
  }
  std::shared_ptr<PublicKey> key(new PublicKey(std::move(kid), alg, owned.release()));
  key->jwk_ = Sorted(jwk);
  return std::shared_ptr<const PublicKey>(std::move(key));
}

Result<std::shared_ptr<const PublicKey>> PublicKey::FromJwk(const boost::json::object& jwk) {
  // Type and use first: a key that is not for us (symmetric, encryption, another curve) is
  // "unsupported" whatever else it lacks, so a key set can skip it and keep the rest.
  TESSERA_ASSIGN_OR_RETURN(std::string kty, JsonStringMember(jwk, "kty", true));
  if (kty != "RSA" && kty != "EC" && kty != "OKP") {
    // Notably "oct": a symmetric key must never become a verification key.
    return Error(ErrorCode::kKeyUnsupported, "unsupported JWK key type \"" + kty + "\"");
  }
  TESSERA_ASSIGN_OR_RETURN(std::string use, JsonStringMember(jwk, "use", false));
  if (!use.empty() && use != "sig") {
    return Error(ErrorCode::kKeyUnsupported, "JWK is not for signatures");
  }
  const JwtAlgorithm alg = kty == "RSA"  ? JwtAlgorithm::kRS256
                           : kty == "EC" ? JwtAlgorithm::kES256
                                         : JwtAlgorithm::kEdDSA;
  TESSERA_ASSIGN_OR_RETURN(std::string alg_name, JsonStringMember(jwk, "alg", false));
  if (!alg_name.empty() && alg_name != AlgorithmName(alg)) {
    return Error(ErrorCode::kKeyUnsupported,
                 "JWK alg \"" + alg_name + "\" is not supported for key type " + kty);
  }
  if (const auto it = jwk.find("key_ops"); it != jwk.end()) {
    if (!it->value().is_array()) return Error(ErrorCode::kJwksInvalid, "JWK key_ops is not a list");
    bool verify = false;
    for (const auto& op : it->value().get_array()) {
      if (!op.is_string()) return Error(ErrorCode::kJwksInvalid, "JWK key_ops is not a list");
      verify = verify || op.get_string() == "verify";
    }
    if (!verify) return Error(ErrorCode::kKeyUnsupported, "JWK key_ops does not allow verify");
  }
  // A key we could use must say which key it is: tokens name their key by kid.
  TESSERA_ASSIGN_OR_RETURN(std::string kid, JsonStringMember(jwk, "kid", true));
  if (kid.empty() || kid.size() > 256) {
    return Error(ErrorCode::kJwksInvalid, "JWK kid must be 1 to 256 characters");
  }
  Result<crypto::PkeyPtr> pkey = alg == JwtAlgorithm::kRS256   ? RsaFromJwk(jwk)
                                 : alg == JwtAlgorithm::kES256 ? EcFromJwk(jwk)
                                                               : OkpFromJwk(jwk);
  if (!pkey.ok()) return pkey.status();
  // FromPkey re-derives the published members from the key itself, so what Tessera republishes or
  // compares is always what it verified with, never an unchecked copy of the input.
  return FromPkey(std::move(kid), alg, pkey->release(), {});
}

bool PublicKey::Verify(std::string_view signing_input,
                       std::span<const std::uint8_t> signature) const {
  std::vector<std::uint8_t> der;
  std::span<const std::uint8_t> sig = signature;
  const EVP_MD* md = nullptr;
  switch (alg_) {
    case JwtAlgorithm::kRS256:
      // PKCS#1 v1.5 signatures are exactly the modulus length; anything else is forged or cut.
      if (static_cast<int>(signature.size()) != EVP_PKEY_get_size(pkey_)) return false;
      md = Sha256Md();
      break;
    case JwtAlgorithm::kES256:
      if (!RawEcdsaToDer(signature, der)) {
        DrainErrors();
        return false;
      }
      sig = der;
      md = Sha256Md();
      break;
    case JwtAlgorithm::kEdDSA:
      if (signature.size() != 64) return false;
      break;
  }
  if (md != nullptr) {
    const std::optional<bool> ok =
        VerifySha256Digest(pkey_, alg_ == JwtAlgorithm::kRS256, signing_input, sig);
    if (ok.has_value()) return *ok;
  }
  crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey_) == 1 &&
                  EVP_DigestVerify(ctx.get(), sig.data(), sig.size(),
                                   reinterpret_cast<const unsigned char*>(signing_input.data()),
                                   signing_input.size()) == 1;
  if (!ok) DrainErrors();
  return ok;
}

// ---------------------------------------------------------------------------------------------
// SigningKey

SigningKey::SigningKey(EVP_PKEY* pkey, std::shared_ptr<const PublicKey> pub)
    : pkey_(pkey), public_(std::move(pub)) {}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), public_(std::move(other.public_)) {}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(pkey_);
    pkey_ = std::exchange(other.pkey_, nullptr);
    public_ = std::move(other.public_);
  }
  return *this;
}

SigningKey::~SigningKey() { EVP_PKEY_free(pkey_); }

Result<SigningKey> SigningKey::Adopt(EVP_PKEY* raw, std::string kid, JwtAlgorithm alg,
                                     std::string certificate_der) {
  crypto::PkeyPtr pkey(raw);
  if (!KeyFitsAlgorithm(pkey.get(), alg)) {
    return Error(ErrorCode::kKeyUnsupported,
                 "private key does not fit " + std::string(AlgorithmName(alg)));
  }
  // The public half shares the EVP_PKEY; each owner holds its own reference.
  if (EVP_PKEY_up_ref(pkey.get()) != 1) return CryptoError("EVP_PKEY_up_ref");
  TESSERA_ASSIGN_OR_RETURN(
      auto pub, PublicKey::FromPkey(std::move(kid), alg, pkey.get(), std::move(certificate_der)));
  return SigningKey(pkey.release(), std::move(pub));
}

Result<SigningKey> SigningKey::Generate(JwtAlgorithm alg, std::string kid) {
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case JwtAlgorithm::kRS256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
      break;
    case JwtAlgorithm::kES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case JwtAlgorithm::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (raw == nullptr) return CryptoError("key generation failed");
  return Adopt(raw, std::move(kid), alg, {});
}

Result<SigningKey> SigningKey::FromPkcs8(std::string kid, JwtAlgorithm alg, std::string_view der,
                                         std::string certificate_der) {
  if (der.size() > INT_MAX) return Error(ErrorCode::kInputTooLarge, "private key too large");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, crypto::Deleter<&PKCS8_PRIV_KEY_INFO_free>> info(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
  EVP_PKEY* raw = info ? EVP_PKCS82PKEY(info.get()) : nullptr;
  if (raw == nullptr) {
    DrainErrors();
    return Error(ErrorCode::kKeyUnsupported, "not a PKCS#8 private key");
  }
  return Adopt(raw, std::move(kid), alg, std::move(certificate_der));
}

Result<SigningKey> SigningKey::WithCertificate(std::string certificate_der) const {
  if (EVP_PKEY_up_ref(pkey_) != 1) return CryptoError("EVP_PKEY_up_ref");
  return Adopt(pkey_, kid(), alg(), std::move(certificate_der));
}

Result<std::string> SigningKey::PrivateKeyDer() const {
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, crypto::Deleter<&PKCS8_PRIV_KEY_INFO_free>> info(
      EVP_PKEY2PKCS8(pkey_));
  if (!info) return CryptoError("PKCS#8 encoding");
  const int len = i2d_PKCS8_PRIV_KEY_INFO(info.get(), nullptr);
  if (len <= 0) return CryptoError("PKCS#8 encoding");
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_PKCS8_PRIV_KEY_INFO(info.get(), &p) != len) {
    crypto::Cleanse(out);
    return CryptoError("PKCS#8 encoding");
  }
  return out;
}

Result<std::string> SigningKey::Sign(std::string_view signing_input) const {
  const EVP_MD* md = alg() == JwtAlgorithm::kEdDSA ? nullptr : Sha256Md();
  crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
    return CryptoError("signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1) {
    return CryptoError("signing failed");
  }
  sig.resize(len);
  if (alg() != JwtAlgorithm::kES256) return sig;
  // ECDSA: OpenSSL writes DER; JOSE wants the fixed-width R||S (RFC 7518 §3.4).
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  crypto::EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed) return CryptoError("ECDSA signature decoding");
  std::string raw(64, '\0');
  if (BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), reinterpret_cast<unsigned char*>(raw.data()),
                   32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()),
                   reinterpret_cast<unsigned char*>(raw.data()) + 32, 32) != 32) {
    return CryptoError("ECDSA signature encoding");
  }
  return raw;
}

Result<std::string> SigningKey::SelfSignedCertificate(TimePoint now) const {
  crypto::X509Ptr cert(X509_new());
  crypto::X509NamePtr name(X509_NAME_new());
  if (!cert || !name) return CryptoError("X509_new");
  const std::time_t not_before = static_cast<std::time_t>(ToUnixSeconds(now));
  const std::time_t not_after = not_before + std::time_t{10} * 365 * 24 * 3600 + 2 * 24 * 3600;
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, crypto::Deleter<&X509_EXTENSION_free>> key_usage(
      X509V3_EXT_conf_nid(nullptr, &v3, NID_key_usage, "critical,digitalSignature"));
  std::unique_ptr<X509_EXTENSION, crypto::Deleter<&X509_EXTENSION_free>> basic(
      X509V3_EXT_conf_nid(nullptr, &v3, NID_basic_constraints, "critical,CA:FALSE"));
  const EVP_MD* md = alg() == JwtAlgorithm::kEdDSA ? nullptr : Sha256Md();
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after) == nullptr ||
      X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("Tessera"), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_set_pubkey(cert.get(), pkey_) != 1 || !key_usage || !basic ||
      X509_add_ext(cert.get(), key_usage.get(), -1) != 1 ||
      X509_add_ext(cert.get(), basic.get(), -1) != 1 || X509_sign(cert.get(), pkey_, md) <= 0) {
    return CryptoError("building the self-signed certificate");
  }
  const int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return CryptoError("encoding the certificate");
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert.get(), &p) != len) return CryptoError("encoding the certificate");
  return der;
}

}  // namespace tessera
