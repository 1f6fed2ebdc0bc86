// What migrated_hash.cc (parsing, checking, the stored form) and migrated_hash_verify.cc (checking
// a password against a hash) share: a hash in the form it is verified in. Not part of the
// service's interface; include only from those two files.
#ifndef TESSERA_SERVICE_MIGRATED_HASH_INTERNAL_H_
#define TESSERA_SERVICE_MIGRATED_HASH_INTERNAL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera::migrated_hash_internal {

// The alphabet of bcrypt's and phpass's base64 (./0-9A-Za-z, in phpass's order).
constexpr std::string_view kItoa64 =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

enum class Kind {
  kBcrypt,
  kMd5,
  kSha1,
  kSha512,
  kArgon2i,
  kArgon2id,
  kScrypt,
  kPbkdf2,
  kPhpass,
  kFirebaseScrypt,
};

// One hash in the form it is verified in. Which members count depends on `kind`:
//   bcrypt, phpass: text (the crypt string)
//   argon_2i, argon_2id: text (the encoded string, always with v=19), digest_length
//   md_5, sha_1, sha_512: digest, prepend, append
//   scrypt: digest, salt, n, r, p
//   pbkdf_2: digest, salt, iterations, sha512
//   firebase_scrypt: digest, salt, separator, signer_key, rounds (r), mem_cost
struct Parsed {
  Kind kind = Kind::kBcrypt;
  std::string text;
  std::string digest;
  std::string salt;
  std::string prepend, append;
  std::string separator, signer_key;
  std::int64_t n = 0, r = 0, p = 0;
  std::int64_t iterations = 0;
  std::int64_t mem_cost = 0;
  bool sha512 = false;
};

// True when `password` is the one `h` was made from (constant-time comparison). `h` passed
// the form and cost checks already.
Result<bool> Verify(const Parsed& h, std::string_view password);

}  // namespace tessera::migrated_hash_internal

#endif  // TESSERA_SERVICE_MIGRATED_HASH_INTERNAL_H_
