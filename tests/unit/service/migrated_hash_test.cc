// The verifiers of migrated password hashes (src/service/migrated_hash.h) against hashes made by
// independent implementations, each vector with the command that made it; every good hash is
// also tried with each character of its hash part changed, and every bound with a value past it.
#include "service/migrated_hash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "status_matchers.h"

namespace tessera {
namespace {

// Every vector below hashes this password (python3 on Debian 12, commands beside each vector).
constexpr std::string_view kPassword = "Tr0ub4dor&3";

MigratedHashInput Input(std::string type, std::string hash) {
  MigratedHashInput in;
  in.hash_type = std::move(type);
  in.hash = std::move(hash);
  return in;
}

// Prepares `in` and checks that kPassword verifies and that near misses do not.
void ExpectVerifies(const MigratedHashInput& in) {
  SCOPED_TRACE(in.hash_type + " " + in.hash);
  auto stored = PrepareMigratedHash(in);
  ASSERT_OK(stored.status());
  EXPECT_TRUE(IsMigratedHash(*stored));
  auto type = MigratedHashType(*stored);
  ASSERT_OK(type.status());
  EXPECT_EQ(*type, in.hash_type);
  auto right = VerifyMigratedHash(*stored, kPassword);
  ASSERT_OK(right.status());
  EXPECT_TRUE(*right);
  for (const std::string_view wrong :
       {"Tr0ub4dor&4", "tr0ub4dor&3", "Tr0ub4dor&", "Tr0ub4dor&33", "x", ""}) {
    auto r = VerifyMigratedHash(*stored, wrong);
    ASSERT_OK(r.status());
    EXPECT_FALSE(*r) << wrong;
  }
  // A NUL inside: never equal to the password it precedes (C strings would cut it there).
  auto nul = VerifyMigratedHash(*stored, std::string(kPassword) + std::string(1, '\0') + "x");
  ASSERT_OK(nul.status());
  EXPECT_FALSE(*nul);
}

// Each character of in.hash from `from` on, replaced by another of the same alphabet: refused
// when prepared, or prepared and then not matching kPassword.
void ExpectEveryChangeFails(const MigratedHashInput& in, std::size_t from,
                            std::string_view alphabet) {
  for (std::size_t i = from; i < in.hash.size(); ++i) {
    MigratedHashInput changed = in;
    const std::size_t at = alphabet.find(in.hash[i]);
    if (at == std::string_view::npos) continue;
    changed.hash[i] = alphabet[(at + 7) % alphabet.size()];
    auto stored = PrepareMigratedHash(changed);
    if (!stored.ok()) continue;
    auto r = VerifyMigratedHash(*stored, kPassword);
    ASSERT_OK(r.status());
    EXPECT_FALSE(*r) << "changed at " << i << ": " << changed.hash;
  }
}

constexpr std::string_view kBcryptAlphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// --- bcrypt (libxcrypt) -----------------------------------------------------------------------

TEST(MigratedHashTest, Bcrypt) {
  // bcrypt.hashpw(b"Tr0ub4dor&3", b"$2b$04$abcdefghijklmnopqrstuu")   (python3-bcrypt)
  const auto b = Input("bcrypt", "$2b$04$abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C");
  ExpectVerifies(b);
  ExpectEveryChangeFails(b, 7, kBcryptAlphabet);
  // bcrypt.hashpw(b"Tr0ub4dor&3", b"$2a$05$N9qo8uLOickgx2ZMRZoMye")
  ExpectVerifies(Input("bcrypt", "$2a$05$N9qo8uLOickgx2ZMRZoMyeRjuWADS1EHNfD/GVe3dfLEZl9HJBYs."));
  // $2y$ (PHP's spelling) is the same algorithm as $2b$.
  ExpectVerifies(Input("bcrypt", "$2y$04$abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C"));
}

TEST(MigratedHashTest, BcryptRefusals) {
  const std::string good = "$2b$04$abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C";
  // A cost of 31 would hold a worker for days; 16 for seconds.
  EXPECT_ERROR(PrepareMigratedHash(Input("bcrypt", "$2b$31$" + good.substr(7))).status(),
               ErrorCode::kInvalidBcryptCost);
  EXPECT_ERROR(PrepareMigratedHash(Input("bcrypt", "$2b$16$" + good.substr(7))).status(),
               ErrorCode::kInvalidBcryptCost);
  EXPECT_ERROR(PrepareMigratedHash(Input("bcrypt", "$2b$03$" + good.substr(7))).status(),
               ErrorCode::kInvalidBcryptCost);
  for (const std::string& bad :
       {good.substr(0, 59), good + "x", "$2x$04$" + good.substr(7), "$2b$4a$" + good.substr(7),
        "$1$04$" + good.substr(6), good.substr(0, 30) + "!" + good.substr(31),
        std::string("5f4dcc3b5aa765d61d8327deb882cf99")}) {
    EXPECT_ERROR(PrepareMigratedHash(Input("bcrypt", bad)).status(), ErrorCode::kInvalidBcryptHash)
        << bad;
  }
}

// --- md_5, sha_1, sha_512 (OpenSSL) -------------------------------------------------------------

TEST(MigratedHashTest, SaltedDigests) {
  // hashlib.md5(b"pre" + b"Tr0ub4dor&3" + b"app").hexdigest()
  MigratedHashInput md5 = Input("md_5", "e79e41570f11d2782c77337047195349");
  md5.md_5_config = SaltConfig{"pre", "app"};
  ExpectVerifies(md5);
  ExpectEveryChangeFails(md5, 0, kHex);
  // Upper-case hex is the same digest.
  md5.hash = "E79E41570F11D2782C77337047195349";
  ExpectVerifies(md5);
  // The salts are part of the hash: without them it does not match.
  MigratedHashInput unsalted = md5;
  unsalted.md_5_config.reset();
  auto stored = PrepareMigratedHash(unsalted);
  ASSERT_OK(stored.status());
  EXPECT_FALSE(*VerifyMigratedHash(*stored, kPassword));

  // hashlib.sha1(b"Tr0ub4dor&3" + b"salt-after").hexdigest()
  MigratedHashInput sha1 = Input("sha_1", "9c4b0e03518c5e7dbf318bf164e7a1b22ca7a6d7");
  sha1.sha_1_config = SaltConfig{"", "salt-after"};
  ExpectVerifies(sha1);
  ExpectEveryChangeFails(sha1, 0, kHex);

  // hashlib.sha512(b"salt-before" + b"Tr0ub4dor&3").hexdigest()
  MigratedHashInput sha512 = Input("sha_512",
                                   "3c3a5e71168eaead3fc3bfdaa2bebaf75e2a8d67296541ad868eb9325f5773c"
                                   "5475b4ca9be8ddab60e339d16408f3f"
                                   "4724fecbb88862086b4347bb84dd580a44");
  sha512.sha_512_config = SaltConfig{"salt-before", ""};
  ExpectVerifies(sha512);
}

TEST(MigratedHashTest, SaltedDigestRefusals) {
  EXPECT_ERROR(PrepareMigratedHash(Input("md_5", "e79e41570f11d2782c7733704719534")).status(),
               ErrorCode::kInvalidMd5Hash);
  EXPECT_ERROR(PrepareMigratedHash(Input("md_5", "g79e41570f11d2782c77337047195349")).status(),
               ErrorCode::kInvalidMd5Hash);
  EXPECT_ERROR(PrepareMigratedHash(Input("sha_1", "e79e41570f11d2782c77337047195349")).status(),
               ErrorCode::kInvalidSha1Hash);
  EXPECT_ERROR(
      PrepareMigratedHash(Input("sha_512", "9c4b0e03518c5e7dbf318bf164e7a1b22ca7a6d7")).status(),
      ErrorCode::kInvalidSha512Hash);
  MigratedHashInput long_salt = Input("md_5", "e79e41570f11d2782c77337047195349");
  long_salt.md_5_config = SaltConfig{std::string(257, 'a'), ""};
  EXPECT_ERROR(PrepareMigratedHash(long_salt).status(), ErrorCode::kInvalidPrependSalt);
  long_salt.md_5_config = SaltConfig{"", std::string("a\0b", 3)};
  EXPECT_ERROR(PrepareMigratedHash(long_salt).status(), ErrorCode::kInvalidAppendSalt);
}

// --- Argon2 (libsodium) -------------------------------------------------------------------------

TEST(MigratedHashTest, Argon2Encoded) {
  // argon2.low_level.hash_secret(b"Tr0ub4dor&3", b"tessera-vectors!", time_cost=2,
  //     memory_cost=1024, parallelism=4, hash_len=32, type=Type.ID)   (python3-argon2)
  const auto id = Input("argon_2id",
                        "$argon2id$v=19$m=1024,t=2,p=4$dGVzc2VyYS12ZWN0b3JzIQ$"
                        "UjnzJgag0BSJWBxaGs5gN7DaeVPDKuLk8G6WPDsY0eY");
  ExpectVerifies(id);
  ExpectEveryChangeFails(id, id.hash.rfind('$') + 1, kBase64);
  // hash_secret(..., time_cost=3, memory_cost=512, parallelism=1, hash_len=24, type=Type.I)
  ExpectVerifies(Input("argon_2i",
                       "$argon2i$v=19$m=512,t=3,p=1$dGVzc2VyYS12ZWN0b3JzIQ$"
                       "cRI6ylWf6uHiTC1Lel8zLhgMP7cFkkyv"));
  // The type must be the one named.
  EXPECT_ERROR(PrepareMigratedHash(Input("argon_2i", id.hash)).status(), ErrorCode::kInvalidHash);
}

TEST(MigratedHashTest, Argon2HexWithConfig) {
  // hash_secret_raw(b"Tr0ub4dor&3", b"somesaltvalue", time_cost=2, memory_cost=256,
  //     parallelism=2, hash_len=32, type=Type.ID).hex()
  MigratedHashInput in =
      Input("argon_2id", "2e8577c4f9aeb6ef51b96352610c3684eb6ca1fba952c079c0c21932d398fadc");
  in.argon_2_config = Argon2Config{"somesaltvalue", 2, 256, 2, 32};
  ExpectVerifies(in);
  ExpectEveryChangeFails(in, 0, kHex);

  MigratedHashInput mismatch = in;
  mismatch.argon_2_config->key_length = 16;
  EXPECT_ERROR(PrepareMigratedHash(mismatch).status(), ErrorCode::kArgon2KeyLengthMismatch);
  MigratedHashInput no_config = in;
  no_config.argon_2_config.reset();
  EXPECT_ERROR(PrepareMigratedHash(no_config).status(), ErrorCode::kInvalidHash);
}

TEST(MigratedHashTest, Argon2Bounds) {
  MigratedHashInput in =
      Input("argon_2id", "2e8577c4f9aeb6ef51b96352610c3684eb6ca1fba952c079c0c21932d398fadc");
  const Argon2Config good{"somesaltvalue", 2, 256, 2, 32};
  const auto with = [&](auto change) {
    MigratedHashInput c = in;
    c.argon_2_config = good;
    change(*c.argon_2_config);
    return PrepareMigratedHash(c).status();
  };
  EXPECT_ERROR(with([](Argon2Config& c) { c.salt = "short"; }), ErrorCode::kInvalidArgon2Salt);
  EXPECT_ERROR(with([](Argon2Config& c) { c.iteration_amount = 0; }),
               ErrorCode::kInvalidArgon2IterationAmount);
  EXPECT_ERROR(with([](Argon2Config& c) { c.iteration_amount = 17; }),
               ErrorCode::kInvalidArgon2IterationAmount);
  // 4 GiB of memory per check would take the machine's memory; 256 MiB is the bound.
  EXPECT_ERROR(with([](Argon2Config& c) { c.memory = 4194304; }), ErrorCode::kInvalidArgon2Memory);
  EXPECT_ERROR(with([](Argon2Config& c) { c.memory = 262144 + 1; }),
               ErrorCode::kInvalidArgon2Memory);
  EXPECT_ERROR(with([](Argon2Config& c) {
                 c.memory = 262144;
                 c.iteration_amount = 5;
               }),
               ErrorCode::kInvalidArgon2IterationAmount);
  EXPECT_ERROR(with([](Argon2Config& c) { c.threads = 0; }), ErrorCode::kInvalidArgon2Threads);
  EXPECT_ERROR(with([](Argon2Config& c) { c.threads = 17; }), ErrorCode::kInvalidArgon2Threads);
  EXPECT_ERROR(PrepareMigratedHash(Input("argon_2id",
                                         "$argon2id$v=19$m=4194304,t=1,p=4$dGVzc2VyYS12ZWN0b3JzIQ$"
                                         "UjnzJgag0BSJWBxaGs5gN7DaeVPDKuLk8G6WPDsY0eY"))
                   .status(),
               ErrorCode::kInvalidArgon2Memory);
  EXPECT_ERROR(PrepareMigratedHash(Input("argon_2id",
                                         "$argon2id$v=16$m=1024,t=2,p=4$dGVzc2VyYS12ZWN0b3JzIQ$"
                                         "UjnzJgag0BSJWBxaGs5gN7DaeVPDKuLk8G6WPDsY0eY"))
                   .status(),
               ErrorCode::kInvalidHash);
}

// --- scrypt (OpenSSL) ---------------------------------------------------------------------------

TEST(MigratedHashTest, Scrypt) {
  // base64(hashlib.scrypt(b"Tr0ub4dor&3", salt=b"tessera-vectors!", n=1024, r=8, p=2, dklen=32))
  MigratedHashInput in = Input("scrypt", "LCkwinqW1Xa2VPd2NhwAqqI/ASf+Ji3ndyIeb6u6KIk=");
  in.scrypt_config = ScryptConfig{"dGVzc2VyYS12ZWN0b3JzIQ==", 1024, 8, 2, 32};
  ExpectVerifies(in);
  ExpectEveryChangeFails(in, 0, kBase64);
  // passlib.hash.scrypt.using(rounds=10, salt=b"tessera-vectors!").hash("Tr0ub4dor&3")
  ExpectVerifies(Input("scrypt",
                       "$scrypt$ln=10,r=8,p=1$dGVzc2VyYS12ZWN0b3JzIQ$"
                       "xzpElMx8+BHAqHnsgswEcujNMItqEPVkHuYxsGv0IsE"));
}

TEST(MigratedHashTest, ScryptRefusals) {
  MigratedHashInput in = Input("scrypt", "LCkwinqW1Xa2VPd2NhwAqqI/ASf+Ji3ndyIeb6u6KIk=");
  const ScryptConfig good{"dGVzc2VyYS12ZWN0b3JzIQ==", 1024, 8, 2, 32};
  const auto with = [&](auto change) {
    MigratedHashInput c = in;
    c.scrypt_config = good;
    change(*c.scrypt_config);
    return PrepareMigratedHash(c).status();
  };
  EXPECT_ERROR(with([](ScryptConfig& c) { c.n_parameter = 1000; }),
               ErrorCode::kInvalidScryptNParameter);
  EXPECT_ERROR(with([](ScryptConfig& c) { c.n_parameter = 1 << 20; }),
               ErrorCode::kInvalidScryptNParameter);
  EXPECT_ERROR(with([](ScryptConfig& c) { c.n_parameter = 1; }),
               ErrorCode::kInvalidScryptNParameter);
  EXPECT_ERROR(with([](ScryptConfig& c) { c.r_parameter = 0; }),
               ErrorCode::kInvalidScryptParameters);
  EXPECT_ERROR(with([](ScryptConfig& c) {
                 c.n_parameter = 262144;
                 c.r_parameter = 16;
               }),
               ErrorCode::kInvalidScryptParameters);  // 512 MiB
  EXPECT_ERROR(with([](ScryptConfig& c) { c.key_length = 64; }),
               ErrorCode::kScryptKeyLengthMismatch);
  EXPECT_ERROR(with([](ScryptConfig& c) { c.salt = "not base64!"; }),
               ErrorCode::kInvalidBase64ScryptSalt);
  EXPECT_ERROR(with([](ScryptConfig& c) { c.salt = ""; }), ErrorCode::kInvalidScryptSaltLength);
  MigratedHashInput bad_hash = in;
  bad_hash.hash = "###";
  bad_hash.scrypt_config = good;
  EXPECT_ERROR(PrepareMigratedHash(bad_hash).status(), ErrorCode::kInvalidBase64ScryptHash);
}

// --- PBKDF2 (OpenSSL) ---------------------------------------------------------------------------

TEST(MigratedHashTest, Pbkdf2) {
  // base64(hashlib.pbkdf2_hmac("sha256", b"Tr0ub4dor&3", b"tessera-vectors!", 1000, 32))
  MigratedHashInput sha256 = Input("pbkdf_2", "8V6kdyh3+JnNFgDzUqnRETbNX+rSNdSDN+jg9Icc0Js=");
  sha256.pbkdf_2_config = Pbkdf2Config{"dGVzc2VyYS12ZWN0b3JzIQ==", 1000, 32, "sha256"};
  ExpectVerifies(sha256);
  ExpectEveryChangeFails(sha256, 0, kBase64);
  // The algorithm defaults to sha256 (Go omits an empty one).
  sha256.pbkdf_2_config->algorithm = "";
  ExpectVerifies(sha256);
  // base64(hashlib.pbkdf2_hmac("sha512", b"Tr0ub4dor&3", b"tessera-vectors!", 1000, 64))
  MigratedHashInput sha512 = Input(
      "pbkdf_2",
      "SnAC7Z4Hzq3JdWI2VOJSAOmFInsEnNNQAlE+pIxW/L1rV1dx3TW3IqPjP/sHqk1BBp7xeha1RSW8bdXDDFH+IQ==");
  sha512.pbkdf_2_config = Pbkdf2Config{"dGVzc2VyYS12ZWN0b3JzIQ==", 1000, 64, "sha512"};
  ExpectVerifies(sha512);
  // Unpadded and URL-safe spellings of the same bytes are accepted.
  sha512.hash =
      "SnAC7Z4Hzq3JdWI2VOJSAOmFInsEnNNQAlE-pIxW_L1rV1dx3TW3IqPjP_sHqk1BBp7xeha1RSW8bdXDDFH-IQ";
  ExpectVerifies(sha512);
}

TEST(MigratedHashTest, Pbkdf2Refusals) {
  MigratedHashInput in = Input("pbkdf_2", "8V6kdyh3+JnNFgDzUqnRETbNX+rSNdSDN+jg9Icc0Js=");
  const Pbkdf2Config good{"dGVzc2VyYS12ZWN0b3JzIQ==", 1000, 32, "sha256"};
  const auto with = [&](auto change) {
    MigratedHashInput c = in;
    c.pbkdf_2_config = good;
    change(*c.pbkdf_2_config);
    return PrepareMigratedHash(c).status();
  };
  EXPECT_ERROR(with([](Pbkdf2Config& c) { c.iteration_amount = 0; }),
               ErrorCode::kInvalidPbkdf2IterationAmount);
  EXPECT_ERROR(with([](Pbkdf2Config& c) { c.iteration_amount = 2000001; }),
               ErrorCode::kInvalidPbkdf2IterationAmount);
  EXPECT_ERROR(with([](Pbkdf2Config& c) { c.algorithm = "md5"; }),
               ErrorCode::kInvalidPbkdf2Algorithm);
  EXPECT_ERROR(with([](Pbkdf2Config& c) { c.key_length = 31; }),
               ErrorCode::kPbkdf2KeyLengthMismatch);
  EXPECT_ERROR(with([](Pbkdf2Config& c) { c.salt = "@@"; }), ErrorCode::kInvalidPbkdf2Salt);
  MigratedHashInput no_config = in;
  EXPECT_ERROR(PrepareMigratedHash(no_config).status(), ErrorCode::kInvalidHash);
  MigratedHashInput bad_hash = in;
  bad_hash.hash = "a";
  bad_hash.pbkdf_2_config = good;
  EXPECT_ERROR(PrepareMigratedHash(bad_hash).status(), ErrorCode::kInvalidPbkdf2Hash);
}

// --- phpass (OpenSSL MD5) -----------------------------------------------------------------------

TEST(MigratedHashTest, Phpass) {
  // passlib.hash.phpass.using(rounds=8, salt="abcdefgh").hash("Tr0ub4dor&3")   (python3-passlib)
  const auto p = Input("phpass", "$P$6abcdefghzYXz3D5H2I8oebpHl2/JQ.");
  ExpectVerifies(p);
  ExpectEveryChangeFails(p, 4, kBcryptAlphabet);
  // passlib.hash.phpass.using(rounds=7, salt="ABCDEFGH", ident="H").hash("Tr0ub4dor&3")
  ExpectVerifies(Input("phpass", "$H$5ABCDEFGHOCNeMzdS1V7JunQuaIy1L1"));
}

TEST(MigratedHashTest, PhpassRefusals) {
  EXPECT_ERROR(PrepareMigratedHash(Input("phpass", "$X$6abcdefghzYXz3D5H2I8oebpHl2/JQ.")).status(),
               ErrorCode::kInvalidPhpassHashPrefix);
  EXPECT_ERROR(PrepareMigratedHash(Input("phpass", "$P$6abcdefghzYXz3D5H2I8oebpHl2/JQ")).status(),
               ErrorCode::kInvalidPhpassHashFormat);
  EXPECT_ERROR(PrepareMigratedHash(Input("phpass", "$P$6abcdefghzYXz3D5H2I8oebpHl2/J!.")).status(),
               ErrorCode::kInvalidPhpassHashFormat);
  // 2^30 rounds ('S'): minutes of MD5 per sign-in.
  EXPECT_ERROR(PrepareMigratedHash(Input("phpass", "$P$Sabcdefghzoooooooooooooooooooo.")).status(),
               ErrorCode::kInvalidPhpassHashFormat);
}

// --- Firebase's modified scrypt (OpenSSL scrypt + AES-256-CTR) ----------------------------------

TEST(MigratedHashTest, FirebaseScrypt) {
  // The example of github.com/firebase/scrypt's README: the project's hash parameters and one
  // exported user, whose password is "user1password".
  MigratedHashInput in = Input(
      "firebase_scrypt",
      "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==");
  in.firebase_scrypt_config = FirebaseScryptConfig{
      "42xEC+ixf3L2lw==", "Bw==",
      "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==", 8,
      14};
  auto stored = PrepareMigratedHash(in);
  ASSERT_OK(stored.status());
  EXPECT_TRUE(*VerifyMigratedHash(*stored, "user1password"));
  EXPECT_FALSE(*VerifyMigratedHash(*stored, "user1password "));
  EXPECT_FALSE(*VerifyMigratedHash(*stored, "user2password"));

  MigratedHashInput bounds = in;
  bounds.firebase_scrypt_config->mem_cost = 15;
  EXPECT_ERROR(PrepareMigratedHash(bounds).status(), ErrorCode::kInvalidScryptParameters);
  bounds = in;
  bounds.firebase_scrypt_config->base64_signer_key = "Bw==";
  EXPECT_ERROR(PrepareMigratedHash(bounds).status(), ErrorCode::kScryptKeyLengthMismatch);
}

// --- Types and stored forms ---------------------------------------------------------------------

TEST(MigratedHashTest, UnknownTypes) {
  for (const char* type : {"", "md5", "argon2id", "sha256", "BCRYPT", "argon_2d"}) {
    EXPECT_ERROR(PrepareMigratedHash(Input(type, "x")).status(), ErrorCode::kInvalidHashType)
        << type;
  }
  EXPECT_ERROR(PrepareMigratedHash(Input("bcrypt", "")).status(), ErrorCode::kInvalidHash);
}

TEST(MigratedHashTest, StoredFormsThatDoNotParseAreCorrupt) {
  EXPECT_FALSE(IsMigratedHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
  for (
      const std::string_view stored : {
          "migrated:",
          "migrated:[]",
          "migrated:{}",
          R"(migrated:{"type":"md5"})",
          R"(migrated:{"type":"bcrypt"})",
          // Out of bounds: a row edited to cost 31 must not stall a worker either.
          R"(migrated:{"type":"bcrypt","hash":"$2b$31$abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C"})",
          R"(migrated:{"type":"pbkdf_2","hash":"8V6kdyh3+JnNFgDzUqnRETbNX+rSNdSDN+jg9Icc0Js","salt":"dGVzc2VyYS12ZWN0b3JzIQ","iterations":100000000,"algorithm":"sha256"})",
          R"(migrated:{"type":"pbkdf_2","hash":"8V6kdyh3+JnNFgDzUqnRETbNX+rSNdSDN+jg9Icc0Js","salt":"dGVzc2VyYS12ZWN0b3JzIQ","iterations":1000,"algorithm":"md5"})",
      }) {
    EXPECT_ERROR(VerifyMigratedHash(stored, kPassword).status(), ErrorCode::kStoreCorrupt)
        << stored;
  }
}

TEST(MigratedHashTest, StoredFormIsAsciiAndNamesNoPassword) {
  MigratedHashInput in = Input("md_5", "e79e41570f11d2782c77337047195349");
  in.md_5_config = SaltConfig{"pr\xc3\xa9", "app"};  // Non-ASCII salts are stored in base64.
  auto stored = PrepareMigratedHash(in);
  ASSERT_OK(stored.status());
  for (const char c : *stored) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << *stored;
}

}  // namespace
}  // namespace tessera
