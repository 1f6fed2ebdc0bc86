// A clock that moves only when a test says so.
#ifndef TESSERA_TESTS_LIB_FAKE_CLOCK_H_
#define TESSERA_TESTS_LIB_FAKE_CLOCK_H_

#include <atomic>

#include "tessera/clock.h"

namespace tessera::testing {

class FakeClock final : public Clock {
 public:
  // 2026-03-01T14:25:15Z, the `iat` of the real session JWT in the spec.
  static constexpr std::int64_t kDefaultStart = 1772375115;

  explicit FakeClock(TimePoint start = FromUnixSeconds(kDefaultStart))
      : now_(start.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(TimePoint::duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<TimePoint::rep> now_;
};

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_LIB_FAKE_CLOCK_H_
