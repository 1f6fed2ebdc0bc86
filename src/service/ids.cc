#include "service/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstring>

namespace tessera {

Result<std::string> NewId(std::string_view kind, bool live, RandomSource& random) {
  TESSERA_ASSIGN_OR_RETURN(std::string uuid, NewUuid(random));
  std::string id(kind);
  id += live ? "-live-" : "-test-";
  id += uuid;
  return id;
}

std::string NewRequestId(bool live) {
  struct Pool {
    std::array<std::uint8_t, 4096> bytes;
    std::size_t used = 4096;
  };
  thread_local Pool pool;
  if (pool.used + 16 > pool.bytes.size()) {
    if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
      return live ? "request-id-live-unavailable" : "request-id-test-unavailable";
    }
    pool.used = 0;
  }
  std::uint8_t b[16];
  std::memcpy(b, pool.bytes.data() + pool.used, 16);
  pool.used += 16;
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = live ? "request-id-live-" : "request-id-test-";
  id.reserve(id.size() + 36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[b[i] >> 4]);
    id.push_back(kHex[b[i] & 15]);
  }
  return id;
}

bool IsIdOfKind(std::string_view id, std::string_view kind) {
  if (!id.starts_with(kind)) return false;
  id.remove_prefix(kind.size());
  if (!id.starts_with("-test-") && !id.starts_with("-live-")) return false;
  id.remove_prefix(6);
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace tessera
