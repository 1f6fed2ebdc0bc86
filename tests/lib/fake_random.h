// A deterministic "random" source: a counter run through SHA-256, so outputs look random, differ
// from call to call, and are the same in every run.
#ifndef TESSERA_TESTS_LIB_FAKE_RANDOM_H_
#define TESSERA_TESTS_LIB_FAKE_RANDOM_H_

#include <openssl/sha.h>

#include <cstring>
#include <mutex>

#include "tessera/random.h"

namespace tessera::testing {

class FakeRandom final : public RandomSource {
 public:
  explicit FakeRandom(std::uint64_t seed = 1) : counter_(seed << 32) {}

  Status Fill(std::span<std::uint8_t> out) override {
    std::lock_guard lock(mu_);
    std::size_t done = 0;
    while (done < out.size()) {
      std::uint8_t block[32];
      const std::uint64_t c = counter_++;
      unsigned char in[8];
      std::memcpy(in, &c, sizeof in);
      SHA256(in, sizeof in, block);
      const std::size_t n = std::min(out.size() - done, sizeof block);
      std::memcpy(out.data() + done, block, n);
      done += n;
    }
    ++fills_;
    return Status::Ok();
  }

  int fills() const { return fills_; }

 private:
  std::mutex mu_;
  std::uint64_t counter_;
  int fills_ = 0;
};

// A source that always fails, for the error paths.
class FailingRandom final : public RandomSource {
 public:
  Status Fill(std::span<std::uint8_t>) override {
    return Status(ErrorCode::kCryptoFailure, "random source unavailable (test)");
  }
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_LIB_FAKE_RANDOM_H_
