// Time, injected.
//
// Everything in Tessera that depends on the current time takes either a `const Clock&` or the time
// itself as an argument, so expiry, rotation and cache tests advance a fake clock instead of
// sleeping. Wall-clock time is what JWTs and session records carry, so Clock reports system_clock
// time; MonotonicClock (steady_clock time) measures intervals that a step of the wall clock must
// not stretch or shrink.
#ifndef TESSERA_CLOCK_H_
#define TESSERA_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace tessera {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time. Thread-safe.
  virtual TimePoint Now() const = 0;
};

// The process's real clock. Never null, lives forever. (Exported by the SDK's shared library too.)
__attribute__((visibility("default"))) const Clock& SystemClock();

// Monotonic time, for measuring how long ago something happened (which a wall clock that NTP may
// step cannot do). The SDK judges how fresh its revocation feed is by it.
using MonotonicTime = std::chrono::steady_clock::time_point;

class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  // The current monotonic time: never goes back. Thread-safe.
  virtual MonotonicTime Now() const = 0;
  // How far behind the true time Now() may be (a clock that ticks coarsely reports its tick), so
  // that a deadline can be judged without ever erring late. Default: 0.
  virtual std::chrono::nanoseconds resolution() const { return std::chrono::nanoseconds(0); }
};

// The process's steady clock. Never null, lives forever. (Exported by the SDK's shared library
// too, as is the next.)
__attribute__((visibility("default"))) const MonotonicClock& SteadyClock();

// The same clock read as of the kernel's last tick (CLOCK_MONOTONIC_COARSE): a few nanoseconds per
// read where a virtual machine's precise clock costs tens, at a resolution of a few milliseconds,
// which resolution() reports. For deadlines checked on hot paths. Never null, lives forever.
__attribute__((visibility("default"))) const MonotonicClock& CoarseSteadyClock();

// Seconds since the Unix epoch, rounded down.
inline std::int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}
// The time point of `s` seconds since the epoch, saturated to what TimePoint can hold (about
// 1678 to 2261): untrusted input can never overflow the conversion.
inline TimePoint FromUnixSeconds(std::int64_t s) {
  constexpr std::int64_t kLimit = 9'000'000'000;  // Seconds; below INT64_MAX / 10^9.
  return TimePoint(std::chrono::seconds(s > kLimit ? kLimit : (s < -kLimit ? -kLimit : s)));
}

}  // namespace tessera

#endif  // TESSERA_CLOCK_H_
