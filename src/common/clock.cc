#include "tessera/clock.h"

#include <time.h>

namespace tessera {
namespace {

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

class RealMonotonicClock final : public MonotonicClock {
 public:
  MonotonicTime Now() const override { return std::chrono::steady_clock::now(); }
};

class CoarseMonotonicClock final : public MonotonicClock {
 public:
  CoarseMonotonicClock() {
    timespec res{};
    // Linux has had it since 2.6.32; were it missing, the precise clock would be read instead.
    coarse_ = ::clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0;
    if (coarse_) {
      resolution_ = std::chrono::seconds(res.tv_sec) + std::chrono::nanoseconds(res.tv_nsec);
    }
  }
  MonotonicTime Now() const override {
    timespec ts{};
    if (!coarse_ || ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0) {
      return std::chrono::steady_clock::now();
    }
    // The same clock as steady_clock (CLOCK_MONOTONIC), as of the last tick.
    return MonotonicTime(std::chrono::duration_cast<MonotonicTime::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
  }
  std::chrono::nanoseconds resolution() const override { return resolution_; }

 private:
  bool coarse_ = false;
  std::chrono::nanoseconds resolution_{0};
};

}  // namespace

const MonotonicClock& CoarseSteadyClock() {
  static const CoarseMonotonicClock clock;
  return clock;
}

const MonotonicClock& SteadyClock() {
  static const RealMonotonicClock clock;
  return clock;
}

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace tessera
