#include "tessera/crypto/master_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/base64.h"
#include "crypto/aead.h"
#include "crypto/hash.h"

namespace tessera {
namespace {

constexpr std::string_view kFilePrefix = "tessera-master-key-v1 ";
constexpr std::size_t kMaxFileBytes = 256;

Status FileError(const std::string& path, std::string_view what) {
  return Error(ErrorCode::kMasterKeyInvalid, "master key file " + path + ": " + std::string(what));
}

Status ReadAll(int fd, std::string& out) {
  char buf[kMaxFileBytes + 1];
  std::size_t total = 0;
  while (total < sizeof buf) {
    const ssize_t n = ::read(fd, buf + total, sizeof buf - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorCode::kMasterKeyInvalid, std::strerror(errno));
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  out.assign(buf, total);
  OPENSSL_cleanse(buf, sizeof buf);
  return Status::Ok();
}

// The name of `uid`'s user, or nothing for a uid without one.
std::string UserName(uid_t uid) {
  std::array<char, 1024> buf{};
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return "";
  return found->pw_name;
}

// "uid 65534 (nobody)", or "uid 1234" for a uid without a name.
std::string DescribeUid(uid_t uid) {
  const std::string name = UserName(uid);
  return "uid " + std::to_string(uid) + (name.empty() ? "" : " (" + name + ")");
}

std::string OwnerProblem(uid_t owner, uid_t euid, const std::string& path) {
  const std::string name = UserName(euid);
  return "owned by " + DescribeUid(owner) + ", but Tessera runs as " + DescribeUid(euid) +
         ", and whoever owns the file can replace the key. Run Tessera as the file's owner, or, "
         "if the key is yours (compare it with your backup), run `chown " +
         (name.empty() ? std::to_string(euid) : name) + " " + path + "`";
}

Status FsyncDirectoryOf(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Ok();  // Best effort: the file itself is already fsynced.
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

MasterKey::MasterKey(std::span<const std::uint8_t> bytes) {
  std::copy(bytes.begin(), bytes.end(), key_.begin());
  // Subkey derivation cannot fail with the built-in provider; a failure would leave zero subkeys,
  // which Seal/Open would still use consistently, so abort instead of continuing silently.
  if (!crypto::HkdfSha256(key_, "tessera", "tessera signing-key seal v1", signing_subkey_).ok() ||
      !crypto::HkdfSha256(key_, "tessera", "tessera session-token seal v1", token_subkey_).ok() ||
      !crypto::HkdfSha256(key_, "tessera", "tessera outbox-message seal v1", outbox_subkey_).ok() ||
      !crypto::HkdfSha256(key_, "tessera", "tessera one-time digest v1", one_time_subkey_).ok()) {
    std::abort();
  }
}

MasterKey::~MasterKey() {
  OPENSSL_cleanse(key_.data(), key_.size());
  OPENSSL_cleanse(signing_subkey_.data(), signing_subkey_.size());
  OPENSSL_cleanse(token_subkey_.data(), token_subkey_.size());
  OPENSSL_cleanse(outbox_subkey_.data(), outbox_subkey_.size());
  OPENSSL_cleanse(one_time_subkey_.data(), one_time_subkey_.size());
}

Result<MasterKey> MasterKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kBytes) {
    return Error(ErrorCode::kMasterKeyInvalid, "a master key is exactly 32 bytes");
  }
  return MasterKey(bytes);
}

Result<MasterKey> MasterKey::Load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return FileError(path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return FileError(path, "not a regular file");
  }
  // Whoever owns the file can replace the key, and so open every signing key sealed from then on:
  // only the user Tessera runs as may own it, as ssh requires of private keys. Checked on the
  // opened descriptor, like the mode, so that a swapped file cannot slip between check and read.
  if (const uid_t euid = ::geteuid(); st.st_uid != euid) {
    ::close(fd);
    return FileError(path, OwnerProblem(st.st_uid, euid, path));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return FileError(path,
                     "permissions are too open (group or others may access it); run "
                     "`chmod 600` on it after checking who could have read it");
  }
  std::string text;
  Status read = ReadAll(fd, text);
  ::close(fd);
  if (!read.ok()) return FileError(path, read.message());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() > kMaxFileBytes || !text.starts_with(kFilePrefix)) {
    crypto::Cleanse(text);
    return FileError(path, "not a Tessera master key file");
  }
  auto bytes = Base64UrlDecode(std::string_view(text).substr(kFilePrefix.size()));
  crypto::Cleanse(text);
  if (!bytes.ok() || bytes->size() != kBytes) {
    if (bytes.ok()) crypto::Cleanse(*bytes);
    return FileError(path, "the key is not 32 bytes of base64url");
  }
  MasterKey key(AsBytes(*bytes));
  crypto::Cleanse(*bytes);
  return key;
}

Result<MasterKey> MasterKey::LoadOrCreate(const std::string& path, RandomSource& random) {
  if (::access(path.c_str(), F_OK) == 0) return Load(path);
  std::array<std::uint8_t, kBytes> bytes{};
  TESSERA_RETURN_IF_ERROR(random.Fill(bytes));
  std::string text(kFilePrefix);
  text += Base64UrlEncode(bytes);
  text += '\n';
  // Written in full to a private temporary file, fsynced, then hard-linked into place: link() fails
  // if `path` exists, so two processes starting at once agree on one key, and no reader ever sees a
  // partial file.
  std::array<std::uint8_t, 8> suffix{};
  TESSERA_RETURN_IF_ERROR(random.Fill(suffix));
  const std::string tmp = path + ".tmp-" + Base64UrlEncode(suffix);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    crypto::Cleanse(text);
    return FileError(path, std::string("cannot create: ") + std::strerror(errno));
  }
  std::size_t done = 0;
  bool ok = true;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  crypto::Cleanse(text);
  const int linked = ok ? ::link(tmp.c_str(), path.c_str()) : -1;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (ok && link_errno == EEXIST) return Load(path);  // Another process won the race.
    return FileError(path, std::string("cannot write the new key: ") + std::strerror(link_errno));
  }
  TESSERA_RETURN_IF_ERROR(FsyncDirectoryOf(path));
  MasterKey key(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

Result<std::string> MasterKey::Seal(SealPurpose purpose, std::string_view plaintext,
                                    std::string_view aad, RandomSource& random) const {
  return crypto::AeadSeal(Subkey(purpose), plaintext, aad, random);
}

Result<std::string> MasterKey::Open(SealPurpose purpose, std::string_view sealed,
                                    std::string_view aad) const {
  return crypto::AeadOpen(Subkey(purpose), sealed, aad);
}

const std::array<std::uint8_t, 32>& MasterKey::Subkey(SealPurpose purpose) const {
  switch (purpose) {
    case SealPurpose::kSigningKey:
      return signing_subkey_;
    case SealPurpose::kSessionToken:
      return token_subkey_;
    case SealPurpose::kOutboxMessage:
      return outbox_subkey_;
  }
  return token_subkey_;  // Unreachable for valid enumerators.
}

std::array<std::uint8_t, 32> MasterKey::OneTimeDigest(std::string_view data) const {
  return crypto::HmacSha256(one_time_subkey_, data);
}

std::string MasterKey::Fingerprint() const {
  const crypto::Digest256 mac = crypto::HmacSha256(key_, "tessera master key fingerprint v1");
  return Base64UrlEncode(std::span(mac.data(), 16));
}

}  // namespace tessera
