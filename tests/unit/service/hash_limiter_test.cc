// The password hash limiter: how many run at once, who goes next, what it counts. Every wait is
// observed through the limiter's own counters (a thread is known to be waiting once `waiting`
// says so), never by sleeping.
#include "service/hash_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/thread_role.h"

namespace tessera {
namespace {

// Spins until `n` callers wait in `limiter`.
void UntilWaiting(const HashLimiter& limiter, int n) {
  while (limiter.stats().waiting < n) std::this_thread::yield();
}

TEST(HashLimiterTest, AdmitsUpToItsSlotsAndQueuesTheRest) {
  HashLimiter limiter(2);
  HashLimiter::Slot a = limiter.Acquire();
  HashLimiter::Slot b = limiter.Acquire();
  EXPECT_EQ(limiter.stats().in_flight, 2);
  std::atomic<bool> admitted{false};
  std::thread third([&] {
    const HashLimiter::Slot c = limiter.Acquire();
    admitted = true;
  });
  UntilWaiting(limiter, 1);
  EXPECT_FALSE(admitted);
  EXPECT_EQ(limiter.stats().in_flight, 2);
  {
    const HashLimiter::Slot released = std::move(a);  // Released at the end of this block.
  }
  third.join();
  EXPECT_TRUE(admitted);
  const HashLimiter::Stats s = limiter.stats();
  EXPECT_EQ(s.slots, 2);
  EXPECT_EQ(s.in_flight, 1);  // `b`.
  EXPECT_EQ(s.waiting, 0);
  EXPECT_EQ(s.peak_in_flight, 2);
  EXPECT_EQ(s.admitted, 3u);
  EXPECT_EQ(s.on_io_thread, 0u);
}

TEST(HashLimiterTest, WaitersAreAdmittedInArrivalOrder) {
  HashLimiter limiter(1);
  std::optional<HashLimiter::Slot> held(limiter.Acquire());
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      const HashLimiter::Slot s = limiter.Acquire();
      std::lock_guard lock(mu);
      order.push_back(i);
    });
    UntilWaiting(limiter, i + 1);  // Waiter i has its ticket before waiter i + 1 starts.
  }
  held.reset();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(limiter.stats().peak_in_flight, 1);
}

TEST(HashLimiterTest, ManyThreadsNeverExceedTheSlots) {
  HashLimiter limiter(3);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const HashLimiter::Slot s = limiter.Acquire();
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_LE(limiter.stats().peak_in_flight, 3);
  EXPECT_EQ(limiter.stats().admitted, 1600u);
  EXPECT_EQ(limiter.stats().in_flight, 0);
}

TEST(HashLimiterTest, NoTwoHoldersShareASlotIndex) {
  constexpr int kSlots = 3;
  HashLimiter limiter(kSlots);
  std::atomic<int> holders[kSlots] = {};
  std::atomic<int> shared{0};
  std::atomic<int> out_of_range{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const HashLimiter::Slot s = limiter.Acquire();
        if (s.index() < 0 || s.index() >= kSlots) {
          ++out_of_range;
          continue;
        }
        if (++holders[s.index()] != 1) ++shared;
        std::this_thread::yield();
        --holders[s.index()];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(out_of_range.load(), 0);
  EXPECT_EQ(shared.load(), 0);
}

TEST(HashLimiterTest, TheLastReleasedIndexIsHandedOutFirst) {
  HashLimiter limiter(3);
  int first = -1;
  {
    const HashLimiter::Slot a = limiter.Acquire();
    const HashLimiter::Slot b = limiter.Acquire();
    EXPECT_NE(a.index(), b.index());
    first = a.index();
  }  // b is released first, then a.
  const HashLimiter::Slot again = limiter.Acquire();
  EXPECT_EQ(again.index(), first);  // Its memory was the last one used.
}

TEST(HashLimiterTest, DefaultIsOneSlotPerCore) {
  EXPECT_EQ(HashLimiter::DefaultSlots(),
            static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(HashLimiterTest, AHashOnAnIoThreadIsABug) {
  HashLimiter limiter(1);
  const auto on_io_thread = [&] {
    const ScopedThreadRole io(ThreadRole::kIo);
    const HashLimiter::Slot s = limiter.Acquire();
  };
  // Debug builds stop at once; release builds count it for /metrics.
  EXPECT_DEBUG_DEATH(on_io_thread(), "I/O thread");
#ifdef NDEBUG
  EXPECT_EQ(limiter.stats().on_io_thread, 1u);
#endif
  EXPECT_EQ(CurrentThreadRole(), ThreadRole::kOther);  // The scope restored the tag.
}

}  // namespace
}  // namespace tessera
