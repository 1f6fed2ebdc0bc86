// Checking a password against a migrated hash, each with the library that made its kind:
// libxcrypt (bcrypt), OpenSSL (digests, PBKDF2, scrypt, phpass's MD5 rounds, Firebase's AES),
// libsodium (Argon2). Every comparison is constant-time.
#include "service/migrated_hash_internal.h"
// ^ This file's own header: first, so it must compile alone.

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>

#include "crypto/openssl_util.h"
#include "service/migrated_hash.h"

namespace tessera::migrated_hash_internal {
namespace {

using B = MigratedHashBounds;

bool Equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status CryptoFailure(const char* what) {
  return crypto::CryptoError(std::string(what) + " failed");
}

// Runs libxcrypt on `password` with the stored string as setting; the result must be the stored
// string itself.
Result<bool> VerifyCrypt(const std::string& stored, std::string_view password) {
  // C strings: a password with a NUL cannot be what the other system hashed.
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a worker's stack.
  const char* out = crypt_rn(phrase.c_str(), stored.c_str(), data.get(), sizeof(crypt_data));
  const bool match = out != nullptr && out[0] != '*' && Equal(out, stored);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match;
}

Result<std::string> Digest(const EVP_MD* md, std::initializer_list<std::string_view> parts) {
  crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return CryptoFailure("digest");
  for (const std::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) return CryptoFailure("digest");
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) return CryptoFailure("digest");
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

// phpass's portable hash (Openwall's PasswordHash::crypt_private): MD5(salt ‖ password), then
// 2^count times MD5(previous ‖ password), in phpass's own base64.
Result<bool> VerifyPhpass(const std::string& stored, std::string_view password) {
  const int count_log2 = static_cast<int>(kItoa64.find(stored[3]));
  const std::string_view salt = std::string_view(stored).substr(4, 8);
  crypto::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return CryptoFailure("md5");
  std::array<unsigned char, 16> h{};
  const auto md5 = [&](std::string_view a, std::string_view b) {
    unsigned int len = 0;
    return EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1 &&
           EVP_DigestUpdate(ctx.get(), a.data(), a.size()) == 1 &&
           EVP_DigestUpdate(ctx.get(), b.data(), b.size()) == 1 &&
           EVP_DigestFinal_ex(ctx.get(), h.data(), &len) == 1;
  };
  if (!md5(salt, password)) return CryptoFailure("md5");
  for (std::int64_t i = std::int64_t{1} << count_log2; i > 0; --i) {
    const std::array<unsigned char, 16> previous = h;  // MD5 writes `h` while reading this.
    if (!md5(std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()),
             password)) {
      return CryptoFailure("md5");
    }
  }
  // encode64: little-endian groups of three bytes, six bits at a time.
  std::string out(stored.substr(0, 12));
  for (std::size_t i = 0; i < h.size();) {
    unsigned value = h[i++];
    out.push_back(kItoa64[value & 0x3f]);
    if (i < h.size()) value |= unsigned{h[i]} << 8;
    out.push_back(kItoa64[(value >> 6) & 0x3f]);
    if (i++ >= h.size()) break;
    if (i < h.size()) value |= unsigned{h[i]} << 16;
    out.push_back(kItoa64[(value >> 12) & 0x3f]);
    if (i++ >= h.size()) break;
    out.push_back(kItoa64[(value >> 18) & 0x3f]);
  }
  OPENSSL_cleanse(h.data(), h.size());
  return Equal(out, stored);
}

Result<std::string> Scrypt(std::string_view password, std::string_view salt, std::int64_t n,
                           std::int64_t r, std::int64_t p, std::size_t length) {
  std::string out(length, '\0');
  // OpenSSL refuses anything needing more than maxmem; the bounds keep 128·N·r under 256 MiB.
  const std::uint64_t maxmem = static_cast<std::uint64_t>(B::kScryptMaxMemoryBytes) + (16 << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                     static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(r),
                     static_cast<std::uint64_t>(p), maxmem,
                     reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1) {
    return CryptoFailure("scrypt");
  }
  return out;
}

// Firebase's modified scrypt (github.com/firebase/scrypt): the signer key encrypted with
// AES-256-CTR, zero IV, under the first 32 bytes of scrypt(password, salt ‖ separator,
// N = 2^mem_cost, r = rounds, p = 1).
Result<bool> VerifyFirebase(const Parsed& h, std::string_view password) {
  TESSERA_ASSIGN_OR_RETURN(std::string key, Scrypt(password, h.salt + h.separator,
                                                   std::int64_t{1} << h.mem_cost, h.r, 1, 32));
  crypto::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const std::array<unsigned char, 16> iv{};
  std::string out(h.signer_key.size(), '\0');
  int len = 0, fin = 0;
  const bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), iv.data()) == 1 &&
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(h.signer_key.data()),
                        static_cast<int>(h.signer_key.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) return CryptoFailure("aes-256-ctr");
  return Equal(out, h.digest);
}

}  // namespace

Result<bool> Verify(const Parsed& h, std::string_view password) {
  switch (h.kind) {
    case Kind::kBcrypt:
      return VerifyCrypt(h.text, password);
    case Kind::kPhpass:
      return VerifyPhpass(h.text, password);
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      // libsodium decodes the string (any salt and output length, any number of lanes) and
      // compares with sodium_memcmp.
      if (sodium_init() < 0) return Error(ErrorCode::kCryptoFailure, "libsodium unusable");
      return crypto_pwhash_str_verify(h.text.c_str(), password.data(), password.size()) == 0;
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha512: {
      const EVP_MD* md = h.kind == Kind::kMd5    ? EVP_md5()
                         : h.kind == Kind::kSha1 ? EVP_sha1()
                                                 : EVP_sha512();
      TESSERA_ASSIGN_OR_RETURN(std::string d, Digest(md, {h.prepend, password, h.append}));
      return Equal(d, h.digest);
    }
    case Kind::kScrypt: {
      TESSERA_ASSIGN_OR_RETURN(std::string d,
                               Scrypt(password, h.salt, h.n, h.r, h.p, h.digest.size()));
      const bool match = Equal(d, h.digest);
      OPENSSL_cleanse(d.data(), d.size());
      return match;
    }
    case Kind::kPbkdf2: {
      std::string d(h.digest.size(), '\0');
      if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                            reinterpret_cast<const unsigned char*>(h.salt.data()),
                            static_cast<int>(h.salt.size()), static_cast<int>(h.iterations),
                            h.sha512 ? EVP_sha512() : EVP_sha256(), static_cast<int>(d.size()),
                            reinterpret_cast<unsigned char*>(d.data())) != 1) {
        return CryptoFailure("pbkdf2");
      }
      const bool match = Equal(d, h.digest);
      OPENSSL_cleanse(d.data(), d.size());
      return match;
    }
    case Kind::kFirebaseScrypt:
      return VerifyFirebase(h, password);
  }
  return Error(ErrorCode::kInternal, "unknown hash kind");
}

}  // namespace tessera::migrated_hash_internal
