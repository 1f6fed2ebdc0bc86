// Randomness, injected.
//
// Production code draws from the operating system's CSPRNG through OpenSSL's RAND_bytes. Tests may
// pass a deterministic source so that generated ids and tokens are reproducible.
#ifndef TESSERA_RANDOM_H_
#define TESSERA_RANDOM_H_

#include <cstdint>
#include <span>
#include <string>

#include "tessera/result.h"

namespace tessera {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Thread-safe. Fails only if the generator is unavailable.
  virtual Status Fill(std::span<std::uint8_t> out) = 0;
};

// OpenSSL's RAND_bytes. Never null, lives forever, thread-safe.
RandomSource& SystemRandom();

// A random (version 4) UUID in its canonical lower-case 36-character form.
Result<std::string> NewUuid(RandomSource& random);

}  // namespace tessera

#endif  // TESSERA_RANDOM_H_
