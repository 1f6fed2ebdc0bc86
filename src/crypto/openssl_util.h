// Ownership and error helpers for OpenSSL 3.
#ifndef TESSERA_CRYPTO_OPENSSL_UTIL_H_
#define TESSERA_CRYPTO_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>
#include <string_view>

#include "tessera/status.h"

namespace tessera::crypto {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<&EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<&EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<&EVP_CIPHER_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<&X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<&X509_NAME_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<&BIO_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<&ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<&OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<&OSSL_PARAM_free>>;

// Clears this thread's OpenSSL error queue. Call after every failed OpenSSL call that is handled,
// so a stale error never leaks into an unrelated later check.
inline void DrainErrors() { ERR_clear_error(); }

// A kCryptoFailure status naming `what`; drains the error queue.
inline Status CryptoError(std::string_view what) {
  DrainErrors();
  return Status(ErrorCode::kCryptoFailure, std::string(what));
}

}  // namespace tessera::crypto

#endif  // TESSERA_CRYPTO_OPENSSL_UTIL_H_
