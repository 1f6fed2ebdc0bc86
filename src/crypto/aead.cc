#include "crypto/aead.h"

#include <climits>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace tessera::crypto {
namespace {

const EVP_CIPHER* Aes256Gcm() {
  // Fetched once: an implicit fetch on every call costs a lock and a lookup in OpenSSL 3.
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

}  // namespace

Result<std::string> AeadSeal(const AeadKey& key, std::string_view plaintext, std::string_view aad,
                             RandomSource& random) {
  if (plaintext.size() > INT_MAX / 2 || aad.size() > INT_MAX / 2) {
    return Error(ErrorCode::kInputTooLarge, "sealed data too large");
  }
  std::string out(kAeadNonceBytes + plaintext.size() + kAeadTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  TESSERA_RETURN_IF_ERROR(random.Fill({o, kAeadNonceBytes}));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), o, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kAeadNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kAeadNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kAeadTagBytes,
                          o + kAeadNonceBytes + plaintext.size()) != 1) {
    return CryptoError("AES-256-GCM seal failed");
  }
  return out;
}

Result<std::string> AeadOpen(const AeadKey& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes || sealed.size() > INT_MAX / 2 ||
      aad.size() > INT_MAX / 2) {
    return Error(ErrorCode::kDecryptionFailed, "sealed data is truncated");
  }
  const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t ct_len = sealed.size() - kAeadNonceBytes - kAeadTagBytes;
  std::string out(ct_len, '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || Aes256Gcm() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), s, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        s + kAeadNonceBytes, static_cast<int>(ct_len)) != 1) {
    return CryptoError("AES-256-GCM open failed");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kAeadTagBytes,
                          const_cast<unsigned char*>(s + kAeadNonceBytes + ct_len)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) !=
          1) {
    DrainErrors();
    Cleanse(out);
    return Error(ErrorCode::kDecryptionFailed,
                 "sealed data does not open under this master key (wrong key or tampered data)");
  }
  return out;
}

}  // namespace tessera::crypto
