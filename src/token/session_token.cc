#include "tessera/token/session_token.h"

#include "common/base64.h"
#include "crypto/hash.h"

namespace tessera {

Result<std::string> GenerateSessionToken(RandomSource& random) {
  std::array<std::uint8_t, kSessionTokenBytes> bytes{};
  TESSERA_RETURN_IF_ERROR(random.Fill(bytes));
  return Base64UrlEncode(bytes);
}

bool IsWellFormedSessionToken(std::string_view token) {
  if (token.size() != kSessionTokenLength) return false;
  for (const char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

TokenDigest DigestSessionToken(std::string_view token) { return crypto::Sha256(token); }

Result<std::string> SealSessionToken(const MasterKey& key, std::string_view session_id,
                                     std::string_view token, RandomSource& random) {
  return key.Seal(SealPurpose::kSessionToken, token, session_id, random);
}

Result<std::string> OpenSessionToken(const MasterKey& key, std::string_view session_id,
                                     std::string_view sealed) {
  return key.Open(SealPurpose::kSessionToken, sealed, session_id);
}

}  // namespace tessera
