// The master key: the one secret that is never in the database.
//
// Private signing keys and the recoverable form of session tokens are sealed (AES-256-GCM) under
// subkeys derived from this key with HKDF-SHA-256, one subkey per purpose, so a database dump alone
// yields neither a usable signing key nor a usable session token.
//
// On disk the key is a one-line text file, "tessera-master-key-v1 <base64url of 32 bytes>",
// owned by the user Tessera runs as and readable by that user only (mode 0600).
// docs/key_rotation.md says how to back it up and what losing it means.
#ifndef TESSERA_CRYPTO_MASTER_KEY_H_
#define TESSERA_CRYPTO_MASTER_KEY_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tessera/random.h"
#include "tessera/result.h"

namespace tessera {

enum class SealPurpose {
  kSigningKey,     // PKCS#8 private keys of a project's key ring; aad = kid.
  kSessionToken,   // The session token, so it can be returned on JWT-based authenticate; aad = id.
  kOutboxMessage,  // An email waiting in the outbox (it carries a live token); aad = message id.
};

class MasterKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // Reads the key at `path`. Fails with kMasterKeyInvalid when the file is missing, malformed,
  // a symbolic link or not a regular file, owned by another user than the effective uid, or
  // readable or writable by group or others.
  static Result<MasterKey> Load(const std::string& path);

  // Reads the key at `path`, or, when no file exists there, creates one atomically (O_EXCL, mode
  // 0600, fsynced together with its directory) holding a fresh random key. If another process
  // creates the file first, its key is loaded instead.
  static Result<MasterKey> LoadOrCreate(const std::string& path, RandomSource& random);

  // A key from raw bytes (tests, and tools that import a backup).
  static Result<MasterKey> FromBytes(std::span<const std::uint8_t> bytes);

  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey();

  // Encrypts `plaintext` for `purpose`, binding `aad`. Output is opaque; pass it to Open.
  Result<std::string> Seal(SealPurpose purpose, std::string_view plaintext, std::string_view aad,
                           RandomSource& random) const;

  // Opens what Seal produced with the same purpose and aad. Fails with kDecryptionFailed under
  // another master key or when anything was altered.
  Result<std::string> Open(SealPurpose purpose, std::string_view sealed,
                           std::string_view aad) const;

  // HMAC-SHA-256 of `data` under a subkey kept for one-time token digests (magic links,
  // passcodes, reset tokens): their lookup key, which a copy of the database alone cannot invert
  // even for a six-digit code.
  std::array<std::uint8_t, 32> OneTimeDigest(std::string_view data) const;

  // A public fingerprint of this key (base64url of an HMAC of a fixed label), stored beside the
  // data it protects so that a process given the wrong master key can refuse to start with a clear
  // message instead of failing later on the first decryption.
  std::string Fingerprint() const;

 private:
  explicit MasterKey(std::span<const std::uint8_t> bytes);
  const std::array<std::uint8_t, 32>& Subkey(SealPurpose purpose) const;

  std::array<std::uint8_t, kBytes> key_{};
  std::array<std::uint8_t, 32> signing_subkey_{};
  std::array<std::uint8_t, 32> token_subkey_{};
  std::array<std::uint8_t, 32> outbox_subkey_{};
  std::array<std::uint8_t, 32> one_time_subkey_{};
};

}  // namespace tessera

#endif  // TESSERA_CRYPTO_MASTER_KEY_H_
