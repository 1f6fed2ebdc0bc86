#include "crypto/hash.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "crypto/openssl_util.h"

namespace tessera::crypto {

Digest256 Sha256(std::span<const std::uint8_t> data) {
  Digest256 out{};
  unsigned int len = 0;
  // EVP_Digest with the built-in SHA-256 cannot fail on valid arguments.
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1) {
    DrainErrors();
    std::abort();
  }
  return out;
}

Digest256 Sha256(std::string_view data) {
  return Sha256({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

Digest256 HmacSha256(std::span<const std::uint8_t> key, std::string_view data) {
  Digest256 out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr) {
    DrainErrors();
    std::abort();
  }
  return out;
}

Status HkdfSha256(std::span<const std::uint8_t> ikm, std::string_view salt, std::string_view info,
                  std::span<std::uint8_t> out) {
  std::unique_ptr<EVP_KDF, Deleter<&EVP_KDF_free>> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return CryptoError("HKDF unavailable");
  std::unique_ptr<EVP_KDF_CTX, Deleter<&EVP_KDF_CTX_free>> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return CryptoError("HKDF context");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
                         OSSL_PARAM_construct_octet_string(
                             OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
                         OSSL_PARAM_construct_end()};
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return CryptoError("HKDF derive");
  }
  return Status::Ok();
}

bool ConstantTimeEquals(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return ConstantTimeEquals(std::span(reinterpret_cast<const std::uint8_t*>(a.data()), a.size()),
                            std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
}

void Cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace tessera::crypto
