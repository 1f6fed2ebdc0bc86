// How many password hashes run at once in this process.
//
// Argon2id is memory-hard: each hash fills its working memory (19 MiB by default) and keeps one
// core busy from start to end. More hashes at once than cores finish no more of them: they take
// turns on the cores and evict each other's memory from the caches, so every one takes longer
// and fewer finish per second (docs/benchmarks.md, "Password sign-in"). The limiter admits up to
// `slots` hashes at once and queues the rest in arrival order, so that under a storm of sign-ins
// the oldest request waits least.
#ifndef TESSERA_SERVICE_HASH_LIMITER_H_
#define TESSERA_SERVICE_HASH_LIMITER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tessera {

class HashLimiter {
 public:
  // REQUIRES: slots >= 1.
  explicit HashLimiter(int slots);
  HashLimiter(const HashLimiter&) = delete;
  HashLimiter& operator=(const HashLimiter&) = delete;

  // One admitted hash; its slot is released when the Slot is destroyed.
  class [[nodiscard]] Slot {
   public:
    Slot(Slot&& other) noexcept : limiter_(other.limiter_), index_(other.index_) {
      other.limiter_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    Slot(const Slot&) = delete;
    ~Slot();

    // Which slot, in [0, slots): no two Slots alive at once share an index, so per-slot state
    // (the hash's working memory) needs no lock. The most recently released index is handed out
    // first, so its memory is the likeliest to still be warm.
    int index() const { return index_; }

   private:
    friend class HashLimiter;
    Slot(HashLimiter* limiter, int index) : limiter_(limiter), index_(index) {}
    HashLimiter* limiter_;
    int index_;
  };

  // Blocks the calling thread until a slot is free; callers are admitted in the order they called.
  // Never call it on an I/O thread (common/thread_role.h): it is counted (Stats::on_io_thread) and,
  // in debug builds, aborts.
  Slot Acquire();

  struct Stats {
    int slots = 0;
    int in_flight = 0;               // Slots held now.
    int waiting = 0;                 // Callers blocked in Acquire now.
    int peak_in_flight = 0;          // The most slots held at once so far (at most `slots`).
    std::uint64_t admitted = 0;      // Slots handed out so far.
    std::uint64_t on_io_thread = 0;  // Of those, on a ThreadRole::kIo thread: a bug if not 0.
  };
  Stats stats() const;

  // One slot per core (std::thread::hardware_concurrency, at least 1).
  static int DefaultSlots();

 private:
  void Release(int index);

  const int slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Tickets are taken in arrival order; ticket t may run once t < released_ + slots_.
  std::uint64_t next_ticket_ = 0;  // GUARDED_BY(mu_)
  std::uint64_t released_ = 0;     // GUARDED_BY(mu_)
  std::vector<int> free_;          // GUARDED_BY(mu_): slot indices not held, last released last.
  Stats stats_;                    // GUARDED_BY(mu_)
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_HASH_LIMITER_H_
