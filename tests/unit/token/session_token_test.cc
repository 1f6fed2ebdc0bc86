#include "tessera/token/session_token.h"

#include <gtest/gtest.h>

#include <set>

#include "fake_random.h"
#include "status_matchers.h"

namespace tessera {
namespace {

TEST(SessionToken, Is44UrlSafeCharactersFrom33RandomBytes) {
  testing::FakeRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto token = GenerateSessionToken(random);
    ASSERT_OK(token);
    EXPECT_EQ(token->size(), kSessionTokenLength);
    EXPECT_TRUE(IsWellFormedSessionToken(*token)) << *token;
    EXPECT_EQ(token->find('='), std::string::npos);
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), 1000u);
  // The system source works too.
  auto real = GenerateSessionToken(SystemRandom());
  ASSERT_OK(real);
  EXPECT_TRUE(IsWellFormedSessionToken(*real));
  testing::FailingRandom failing;
  EXPECT_ERROR(GenerateSessionToken(failing), ErrorCode::kCryptoFailure);
}

TEST(SessionToken, ShapeCheck) {
  // Real tokens from the spec.
  for (const char* t : {"WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3FtY",
                        "mZAYn5aLEqKUlZ_Ad9U_fWr38GaAQ1oFAhT8ds245v7Q",
                        "3uJupS7KGCx_ZFuhZD-innzoA_O4_KPHos61F__B3Ig5"}) {
    EXPECT_TRUE(IsWellFormedSessionToken(t)) << t;
  }
  EXPECT_FALSE(IsWellFormedSessionToken(""));
  EXPECT_FALSE(IsWellFormedSessionToken("WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3Ft"));
  EXPECT_FALSE(IsWellFormedSessionToken("WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3FtYY"));
  // A magic-link token: 44 characters but padded.
  EXPECT_FALSE(IsWellFormedSessionToken("DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94="));
  EXPECT_FALSE(IsWellFormedSessionToken("WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3F+Y"));
}

TEST(SessionToken, DigestIsSha256AndSealIsBoundToTheSession) {
  const TokenDigest d = DigestSessionToken("abc");
  EXPECT_EQ(d[0], 0xba);  // SHA-256("abc") = ba7816bf...
  EXPECT_EQ(d[1], 0x78);
  EXPECT_NE(DigestSessionToken("abd"), d);

  testing::FakeRandom random;
  auto master = MasterKey::FromBytes(std::array<std::uint8_t, 32>{3});
  ASSERT_OK(master);
  auto token = GenerateSessionToken(random);
  ASSERT_OK(token);
  auto sealed = SealSessionToken(*master, "session-test-a", *token, random);
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find(*token), std::string::npos);
  auto opened = OpenSessionToken(*master, "session-test-a", *sealed);
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, *token);
  // Copying the sealed value onto another session does not yield the token there.
  EXPECT_ERROR(OpenSessionToken(*master, "session-test-b", *sealed), ErrorCode::kDecryptionFailed);
  // Sealing the same token twice gives different ciphertexts (random nonce).
  auto again = SealSessionToken(*master, "session-test-a", *token, random);
  ASSERT_OK(again);
  EXPECT_NE(*again, *sealed);
}

}  // namespace
}  // namespace tessera
