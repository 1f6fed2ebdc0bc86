#include "tessera/crypto/master_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "fake_random.h"
#include "status_matchers.h"

namespace tessera {
namespace {

class MasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-mk-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
  testing::FakeRandom random_;
};

TEST_F(MasterKeyTest, CreatesAPrivateFileOnFirstUseAndReadsItBack) {
  const std::string path = Path("db.master-key");
  auto created = MasterKey::LoadOrCreate(path, random_);
  ASSERT_OK(created);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto sealed = created->Seal(SealPurpose::kSigningKey, "private key bytes", "jwk-test-1", random_);
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find("private key bytes"), std::string::npos);

  auto loaded = MasterKey::LoadOrCreate(path, random_);  // Exists now: loads, does not replace.
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->Fingerprint(), created->Fingerprint());
  auto opened = loaded->Open(SealPurpose::kSigningKey, *sealed, "jwk-test-1");
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, "private key bytes");
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(MasterKeyTest, RefusesAFileOthersCanRead) {
  const std::string path = Path("open.master-key");
  ASSERT_OK(MasterKey::LoadOrCreate(path, random_));
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = MasterKey::Load(path);
  EXPECT_ERROR(loaded, ErrorCode::kMasterKeyInvalid);
  EXPECT_NE(loaded.status().message().find("permissions"), std::string::npos);
}

// Another local user who can write to the key's directory could plant a key of their choosing;
// like ssh, only a file of the user Tessera runs as is trusted.
TEST_F(MasterKeyTest, RefusesAFileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another user needs root";
  const std::string path = Path("planted.master-key");
  ASSERT_OK(MasterKey::LoadOrCreate(path, random_));
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(::chown(path.c_str(), kNobody, static_cast<gid_t>(-1)), 0);
  auto loaded = MasterKey::Load(path);
  EXPECT_ERROR(loaded, ErrorCode::kMasterKeyInvalid);
  const std::string message = loaded.status().message();
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("owned by uid 65534"), std::string::npos) << message;
  EXPECT_NE(message.find("chown"), std::string::npos) << message;
  // An existing file is never replaced, even one that is refused.
  EXPECT_ERROR(MasterKey::LoadOrCreate(path, random_), ErrorCode::kMasterKeyInvalid);
  // Owned by us again, the same file loads.
  ASSERT_EQ(::chown(path.c_str(), ::geteuid(), static_cast<gid_t>(-1)), 0);
  EXPECT_OK(MasterKey::Load(path));
}

TEST_F(MasterKeyTest, RefusesMissingAndMalformedFiles) {
  EXPECT_ERROR(MasterKey::Load(Path("missing")), ErrorCode::kMasterKeyInvalid);
  const std::string path = Path("bad");
  { std::ofstream(path) << "tessera-master-key-v1 tooshort\n"; }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_ERROR(MasterKey::Load(path), ErrorCode::kMasterKeyInvalid);
  { std::ofstream(path, std::ios::trunc) << ""; }
  EXPECT_ERROR(MasterKey::Load(path), ErrorCode::kMasterKeyInvalid);
  // An existing but broken file is never silently replaced by a new key.
  EXPECT_ERROR(MasterKey::LoadOrCreate(path, random_), ErrorCode::kMasterKeyInvalid);
}

TEST_F(MasterKeyTest, SealedDataOpensOnlyWithTheSameKeyPurposeAndAad) {
  std::array<std::uint8_t, 32> a{}, b{};
  b[0] = 1;
  auto ka = MasterKey::FromBytes(a);
  auto kb = MasterKey::FromBytes(b);
  ASSERT_OK(ka);
  ASSERT_OK(kb);
  auto sealed = ka->Seal(SealPurpose::kSessionToken, "token", "session-1", random_);
  ASSERT_OK(sealed);
  EXPECT_OK(ka->Open(SealPurpose::kSessionToken, *sealed, "session-1"));
  EXPECT_ERROR(kb->Open(SealPurpose::kSessionToken, *sealed, "session-1"),
               ErrorCode::kDecryptionFailed);
  EXPECT_ERROR(ka->Open(SealPurpose::kSigningKey, *sealed, "session-1"),
               ErrorCode::kDecryptionFailed);
  EXPECT_ERROR(ka->Open(SealPurpose::kSessionToken, *sealed, "session-2"),
               ErrorCode::kDecryptionFailed);
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    std::string tampered = *sealed;
    tampered[i] ^= 0x01;
    EXPECT_ERROR(ka->Open(SealPurpose::kSessionToken, tampered, "session-1"),
                 ErrorCode::kDecryptionFailed)
        << "byte " << i;
  }
  EXPECT_ERROR(ka->Open(SealPurpose::kSessionToken, sealed->substr(0, 20), "session-1"),
               ErrorCode::kDecryptionFailed);
  EXPECT_NE(ka->Fingerprint(), kb->Fingerprint());
  EXPECT_ERROR(MasterKey::FromBytes(std::span(a.data(), 31)), ErrorCode::kMasterKeyInvalid);
}

TEST_F(MasterKeyTest, SealFailsCleanlyWithoutRandomness) {
  std::array<std::uint8_t, 32> a{};
  auto key = MasterKey::FromBytes(a);
  ASSERT_OK(key);
  testing::FailingRandom failing;
  EXPECT_ERROR(key->Seal(SealPurpose::kSessionToken, "x", "y", failing), ErrorCode::kCryptoFailure);
  EXPECT_ERROR(MasterKey::LoadOrCreate(Path("never"), failing), ErrorCode::kCryptoFailure);
  EXPECT_FALSE(std::filesystem::exists(Path("never")));
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(crypto::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(crypto::ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(crypto::ConstantTimeEquals("", ""));
}

TEST(Hkdf, MatchesRfc5869TestCase1) {
  std::array<std::uint8_t, 22> ikm;
  ikm.fill(0x0b);
  const char salt[] = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c";
  const char info[] = "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9";
  std::array<std::uint8_t, 42> okm{};
  ASSERT_OK(crypto::HkdfSha256(ikm, std::string_view(salt, 13), std::string_view(info, 10), okm));
  static constexpr std::uint8_t kExpected[42] = {
      0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36,
      0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56,
      0xec, 0xc4, 0xc5, 0xbf, 0x34, 0x00, 0x72, 0x08, 0xd5, 0xb8, 0x87, 0x18, 0x58, 0x65};
  EXPECT_EQ(0, std::memcmp(okm.data(), kExpected, 42));
}

}  // namespace
}  // namespace tessera
