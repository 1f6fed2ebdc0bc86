// Password hashes made elsewhere and brought in by passwords/migrate (spec-next §4.1): checking
// what a caller sends, the form the store keeps, and verifying a password against it.
//
// A migrated hash is kept in the user's password record (UserPassword::hash) in place of the
// Argon2id string Tessera writes itself, as "migrated:" followed by a JSON object naming its type
// and parameters (docs/storage.md, "Migrated password hashes"): ASCII only, so both stores keep it
// byte for byte, and never confused with a libsodium string, which starts with "$argon2". The first
// successful sign-in replaces it with Tessera's own Argon2id hash (PasswordService::Authenticate).
//
// Every cost parameter is bounded (MigratedHashBounds): a caller cannot store a hash whose check
// would hold a worker for longer than a few seconds. The same bounds are checked again when a
// stored form is read, so a row edited behind Tessera's back cannot stall it either.
#ifndef TESSERA_SERVICE_MIGRATED_HASH_H_
#define TESSERA_SERVICE_MIGRATED_HASH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera {

// The cost bounds, with the CPU time one check takes at the upper bound on the benchmark machine
// (bench/migrated_hash_bench.cc; docs/migration.md has the table). Lower bounds refuse what the
// algorithms themselves refuse, or parameters so weak that they are surely a mistake.
struct MigratedHashBounds {
  static constexpr int kBcryptMinCost = 4;
  static constexpr int kBcryptMaxCost = 15;               // 1.6 s
  static constexpr std::size_t kMaxPlainSaltBytes = 256;  // md_5, sha_1, sha_512 salts
  static constexpr std::size_t kArgon2MinSaltBytes = 8;   // Argon2's own minimum
  static constexpr std::size_t kArgon2MaxSaltBytes = 64;
  static constexpr std::int64_t kArgon2MaxIterations = 16;
  static constexpr std::int64_t kArgon2MaxMemoryKib = 262144;  // 256 MiB
  static constexpr std::int64_t kArgon2MaxWorkKib = 1048576;   // memory × passes: 1.1 s
  static constexpr std::int64_t kArgon2MaxThreads = 16;
  static constexpr std::size_t kMinKeyBytes = 16;  // Argon2, scrypt, PBKDF2 output
  static constexpr std::size_t kMaxKeyBytes = 128;
  static constexpr std::size_t kMaxSaltBytes = 256;    // scrypt, PBKDF2, Firebase salts
  static constexpr std::int64_t kScryptMaxN = 262144;  // 2^18, as Stytch allows
  static constexpr std::int64_t kScryptMaxR = 32;
  static constexpr std::int64_t kScryptMaxP = 16;
  static constexpr std::int64_t kScryptMaxMemoryBytes = 256 << 20;       // 128·N·r
  static constexpr std::int64_t kScryptMaxWork = std::int64_t{1} << 22;  // N·r·p: 2.3 s
  static constexpr std::int64_t kPbkdf2MaxIterations = 2000000;          // sha512: 1.2 s
  static constexpr int kPhpassMinLog2 = 7;                               // phpass's own minimum
  static constexpr int kPhpassMaxLog2 = 20;                              // 2^20 MD5 rounds: 0.35 s
  static constexpr std::int64_t kFirebaseMaxRounds = 8;                  // Firebase's own range
  static constexpr std::int64_t kFirebaseMaxMemCost = 14;
  static constexpr std::size_t kFirebaseMaxSeparatorBytes = 64;
  static constexpr std::size_t kFirebaseMaxSignerKeyBytes = 128;
};

// md_5_config, sha_1_config, sha_512_config: the hash is hex(H(prepend_salt ‖ password ‖
// append_salt)), the salts taken as their UTF-8 bytes.
struct SaltConfig {
  std::string prepend_salt;
  std::string append_salt;
};

// argon_2_config, for a bare hex hash: the salt as its UTF-8 bytes (as the reference `argon2`
// command line takes it), passes, memory in KiB, lanes and output length in bytes.
struct Argon2Config {
  std::string salt;
  std::int64_t iteration_amount = 0;
  std::int64_t memory = 0;
  std::int64_t threads = 0;
  std::int64_t key_length = 0;
};

// scrypt_config, for a bare base64 hash: the salt in base64.
struct ScryptConfig {
  std::string salt;
  std::int64_t n_parameter = 0;
  std::int64_t r_parameter = 0;
  std::int64_t p_parameter = 0;
  std::int64_t key_length = 0;
};

// pbkdf_2_config: the salt in base64; algorithm "sha256" (also when empty) or "sha512".
struct Pbkdf2Config {
  std::string salt;
  std::int64_t iteration_amount = 0;
  std::int64_t key_length = 0;
  std::string algorithm;
};

// firebase_scrypt_config (a Tessera extension; Stytch cannot import Firebase passwords): the
// project's "password hash parameters" from the Firebase console and the user's salt from
// `firebase auth:export`, all base64 as Firebase shows them.
struct FirebaseScryptConfig {
  std::string salt;
  std::string base64_salt_separator;
  std::string base64_signer_key;
  std::int64_t rounds = 0;
  std::int64_t mem_cost = 0;
};

// What passwords/migrate says about the hash. A config that the hash type does not use is
// ignored, as is argon_2_config / scrypt_config when the hash is an encoded string that carries
// its own parameters.
struct MigratedHashInput {
  std::string hash_type;  // bcrypt md_5 sha_1 sha_512 argon_2i argon_2id scrypt pbkdf_2 phpass
                          // firebase_scrypt
  std::string hash;
  std::optional<SaltConfig> md_5_config, sha_1_config, sha_512_config;
  std::optional<Argon2Config> argon_2_config;
  std::optional<ScryptConfig> scrypt_config;
  std::optional<Pbkdf2Config> pbkdf_2_config;
  std::optional<FirebaseScryptConfig> firebase_scrypt_config;
};

// Checks `input` (form, alphabet, lengths, every cost bound) without hashing anything, and returns
// the stored form. Errors: kInvalidHashType, kInvalidHash and the type's own codes
// (kInvalidBcryptHash, kInvalidBcryptCost, kInvalidMd5Hash, kArgon2KeyLengthMismatch, ...); the
// messages name the field and the bound, never the hash.
Result<std::string> PrepareMigratedHash(const MigratedHashInput& input);

// True when `stored` is a migrated hash (PrepareMigratedHash's form), not Tessera's own Argon2id.
bool IsMigratedHash(std::string_view stored);

// The hash_type of a stored migrated hash ("bcrypt", ...); kStoreCorrupt when it does not parse.
Result<std::string> MigratedHashType(std::string_view stored);

// True when `password` matches `stored`. The comparison of the computed hash with the stored one
// is constant-time; the work is that of the hash's own parameters. kStoreCorrupt when `stored`
// does not parse or is out of bounds (it was not written by PrepareMigratedHash); kCryptoFailure
// when a library fails (out of memory).
Result<bool> VerifyMigratedHash(std::string_view stored, std::string_view password);

}  // namespace tessera

#endif  // TESSERA_SERVICE_MIGRATED_HASH_H_
