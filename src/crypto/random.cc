#include "tessera/random.h"

#include <openssl/rand.h>

#include <array>
#include <climits>

#include "crypto/openssl_util.h"

namespace tessera {
namespace {

class OpenSslRandom final : public RandomSource {
 public:
  Status Fill(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const std::size_t n = std::min<std::size_t>(out.size() - done, INT_MAX);
      if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
        return crypto::CryptoError("RAND_bytes failed");
      }
      done += n;
    }
    return Status::Ok();
  }
};

}  // namespace

RandomSource& SystemRandom() {
  static OpenSslRandom random;
  return random;
}

Result<std::string> NewUuid(RandomSource& random) {
  std::array<std::uint8_t, 16> b{};
  TESSERA_RETURN_IF_ERROR(random.Fill(b));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // Version 4.
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

}  // namespace tessera
