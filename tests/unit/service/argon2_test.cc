// Argon2 by libargon2 in reused memory (service/argon2.h) against libsodium, the other engine and
// the reference for the bytes: the same hash for the same inputs, the same strings both ways, the
// memory reused and wiped, and damaged strings refused.
#include "service/argon2.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "service/hash_limiter.h"
#include "service/password_hasher.h"

namespace tessera {
namespace {

constexpr std::string_view kPassword = "correct horse battery staple";

class Argon2Test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

// libsodium's raw crypto_pwhash of `s`'s parameters and (16-byte) salt.
std::string Libsodium(const Argon2String& s, std::string_view password) {
  std::string out(s.hash.size(), '\0');
  EXPECT_EQ(crypto_pwhash(reinterpret_cast<unsigned char*>(out.data()), out.size(), password.data(),
                          password.size(), reinterpret_cast<const unsigned char*>(s.salt.data()),
                          s.iterations, std::size_t{s.memory_kib} * 1024,
                          s.argon2id ? crypto_pwhash_ALG_ARGON2ID13 : crypto_pwhash_ALG_ARGON2I13),
            0);
  return out;
}

Argon2String Params(bool argon2id, std::uint32_t memory_kib, std::uint32_t iterations) {
  Argon2String s;
  s.argon2id = argon2id;
  s.memory_kib = memory_kib;
  s.iterations = iterations;
  s.salt = "tessera-salt-16b";
  s.hash.assign(32, '\0');
  return s;
}

std::string Compute(const Argon2String& s, std::string_view password,
                    std::span<std::uint8_t> memory, bool* one_off) {
  std::string out(s.hash.size(), '\0');
  EXPECT_TRUE(ComputeArgon2(s, password, memory,
                            {reinterpret_cast<std::uint8_t*>(out.data()), out.size()}, one_off));
  return out;
}

TEST_F(Argon2Test, SameBytesAsLibsodiumForBothTypes) {
  Argon2Memory memory(1, 19456 * 1024);
  for (const Argon2String& s :
       {Params(true, 19456, 2), Params(true, 64, 1), Params(false, 256, 3)}) {
    bool one_off = true;
    EXPECT_EQ(Compute(s, kPassword, memory.Region(0), &one_off), Libsodium(s, kPassword))
        << s.memory_kib << " KiB, t=" << s.iterations;
    EXPECT_FALSE(one_off);
  }
  const Argon2String s = Params(true, 64, 1);
  bool one_off = false;
  EXPECT_NE(Compute(s, "another password", memory.Region(0), &one_off), Libsodium(s, kPassword));
}

TEST_F(Argon2Test, MoreMemoryThanTheRegionRunsInAOneOffMappingWithTheSameResult) {
  Argon2Memory memory(1, 64 * 1024);
  const Argon2String s = Params(true, 4096, 1);
  bool one_off = false;
  EXPECT_EQ(Compute(s, kPassword, memory.Region(0), &one_off), Libsodium(s, kPassword));
  EXPECT_TRUE(one_off);
  EXPECT_EQ(Compute(s, kPassword, {}, &one_off), Libsodium(s, kPassword));
  EXPECT_TRUE(one_off);
}

TEST_F(Argon2Test, RegionIsAlignedForHugePagesReusedAndWipedAfterEveryHash) {
  Argon2Memory memory(2, 3 * 1024 * 1024);
  const std::span<std::uint8_t> a = memory.Region(0);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % (std::uintptr_t{2} << 20), 0u);
  EXPECT_EQ(a.size(), std::size_t{4} << 20);  // Rounded up to whole 2 MiB pages.
  EXPECT_EQ(memory.Region(0).data(), a.data());
  EXPECT_NE(memory.Region(1).data(), a.data());

  std::fill(a.begin(), a.end(), std::uint8_t{0xAB});
  bool one_off = true;
  (void)Compute(Params(true, 2048, 2), kPassword, a, &one_off);
  EXPECT_FALSE(one_off);
  // libargon2 cleared the blocks it used (the first 2 MiB); the rest it never touched.
  EXPECT_TRUE(std::all_of(a.begin(), a.begin() + (2 << 20), [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(
      std::all_of(a.begin() + (2 << 20), a.end(), [](std::uint8_t b) { return b == 0xAB; }));
}

TEST_F(Argon2Test, ParsesAndEncodesLibsodiumsStrings) {
  char out[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(out, kPassword.data(), kPassword.size(), 2, 64 * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  const std::optional<Argon2String> s = ParseArgon2String(out);
  ASSERT_TRUE(s.has_value()) << out;
  EXPECT_TRUE(s->argon2id);
  EXPECT_EQ(s->memory_kib, 64u);
  EXPECT_EQ(s->iterations, 2u);
  EXPECT_EQ(s->lanes, 1u);
  EXPECT_EQ(s->salt.size(), 16u);
  EXPECT_EQ(s->hash.size(), 32u);
  EXPECT_EQ(EncodeArgon2String(*s), out);
  // And the bytes agree: libargon2 recomputes libsodium's hash from the string alone.
  Argon2Memory memory(1, 64 * 1024);
  bool one_off = false;
  EXPECT_EQ(Compute(*s, kPassword, memory.Region(0), &one_off), s->hash);
}

TEST_F(Argon2Test, RefusesDamagedOrUnboundedStrings) {
  const std::string salt = "c2FsdHNhbHRzYWx0c2FsdA";                       // 16 bytes.
  const std::string hash = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";  // 32 bytes.
  const std::string good = "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + hash;
  ASSERT_TRUE(ParseArgon2String(good).has_value());
  ASSERT_TRUE(ParseArgon2String("$argon2i$v=19$m=64,t=3,p=4$" + salt + "$" + hash).has_value());
  for (const std::string& bad : {
           std::string(),
           std::string("$argon2d$v=19$m=19456,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=16$m=19456,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$m=19456,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=019456,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=+19456,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=0,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=65,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=2,p=0$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=2,p=17$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=7,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=4194305,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=4294967295,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=99999999999,t=2,p=1$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=2$") + salt + "$" + hash,
           std::string("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$") + hash,       // 4-byte salt.
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + salt + "$aGFzaA",  // 4-byte hash.
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + salt + "==$" + hash,
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + salt + "$" + hash + "$",
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + salt + "$" + hash + "!",
           std::string("$argon2id$v=19$m=19456,t=2,p=1$") + salt,
       }) {
    EXPECT_FALSE(ParseArgon2String(bad).has_value()) << bad;
  }
}

TEST_F(Argon2Test, AutoPicksLibsodiumOnlyWhenEveryMappingGetsHugePages) {
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kAuto, "[always] madvise never\n"),
            Argon2Engine::kLibsodium);
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kAuto, "always [madvise] never\n"),
            Argon2Engine::kLibargon2);
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kAuto, "always madvise [never]\n"),
            Argon2Engine::kLibargon2);
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kAuto, ""), Argon2Engine::kLibargon2);
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kLibsodium, "always [madvise] never\n"),
            Argon2Engine::kLibsodium);
  EXPECT_EQ(ResolveArgon2Engine(Argon2Engine::kLibargon2, "[always] madvise never\n"),
            Argon2Engine::kLibargon2);
  for (Argon2Engine e : {Argon2Engine::kAuto, Argon2Engine::kLibargon2, Argon2Engine::kLibsodium}) {
    EXPECT_EQ(ParseArgon2Engine(Argon2EngineName(e)), e);
  }
  EXPECT_FALSE(ParseArgon2Engine("openssl").has_value());
}

PasswordHasher Hasher(Argon2Engine engine, std::uint32_t memory_kib = 64) {
  auto h = PasswordHasher::Create({1, memory_kib, engine}, std::make_shared<HashLimiter>(2));
  EXPECT_TRUE(h.ok()) << h.status().message();
  return std::move(*h);
}

TEST_F(Argon2Test, EitherEngineVerifiesTheOthersHashes) {
  const PasswordHasher argon2 = Hasher(Argon2Engine::kLibargon2);
  const PasswordHasher sodium = Hasher(Argon2Engine::kLibsodium);
  for (const PasswordHasher* maker : {&argon2, &sodium}) {
    auto encoded = maker->Hash(kPassword);
    ASSERT_TRUE(encoded.ok());
    EXPECT_EQ(encoded->rfind("$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << *encoded;
    for (const PasswordHasher* checker : {&argon2, &sodium}) {
      EXPECT_TRUE(checker->Verify(*encoded, kPassword));
      EXPECT_FALSE(checker->Verify(*encoded, "correct horse battery stapler"));
      EXPECT_FALSE(checker->NeedsRehash(*encoded));
    }
  }
  EXPECT_FALSE(argon2.Verify("$argon2id$v=19$m=64,t=1,p=1$", kPassword));
  EXPECT_FALSE(argon2.Verify("not a hash", kPassword));
}

TEST_F(Argon2Test, HasherReusesItsSlotsMemoryForItsOwnParameters) {
  const PasswordHasher h = Hasher(Argon2Engine::kLibargon2);
  const Argon2Memory::Stats before = h.memory_stats();  // Create hashed the dummy already.
  EXPECT_EQ(before.in_region, 1u);
  auto encoded = h.Hash(kPassword);
  ASSERT_TRUE(encoded.ok());
  EXPECT_TRUE(h.Verify(*encoded, kPassword));
  h.VerifyDummy(kPassword);
  EXPECT_EQ(h.memory_stats().in_region, 4u);
  EXPECT_EQ(h.memory_stats().one_off, 0u);

  // A hash stored under larger parameters still verifies, in memory of its own.
  auto bigger = Hasher(Argon2Engine::kLibsodium, 4096).Hash(kPassword);
  ASSERT_TRUE(bigger.ok());
  EXPECT_TRUE(h.Verify(*bigger, kPassword));
  EXPECT_TRUE(h.NeedsRehash(*bigger));
  EXPECT_EQ(h.memory_stats().one_off, 1u);
  const PasswordHasher sodium = Hasher(Argon2Engine::kLibsodium);
  EXPECT_EQ(sodium.memory_stats().in_region, 0u);
  EXPECT_EQ(sodium.memory_stats().one_off, 1u);  // The dummy hash, in libsodium's own mapping.
}

TEST_F(Argon2Test, AutoMustBeResolvedBeforeCreate) {
  auto h = PasswordHasher::Create({1, 64, Argon2Engine::kAuto}, std::make_shared<HashLimiter>(1));
  EXPECT_FALSE(h.ok());
}

}  // namespace
}  // namespace tessera
