#include "tessera/clock.h"

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

}  // namespace

const MonotonicClock& SteadyClock() {
  static const RealMonotonicClock clock;
  return clock;
}

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace tessera
