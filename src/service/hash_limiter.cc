#include "service/hash_limiter.h"

#include <algorithm>
#include <cassert>
#include <thread>

#include "common/thread_role.h"

namespace tessera {

HashLimiter::HashLimiter(int slots) : slots_(slots) {
  assert(slots >= 1);
  stats_.slots = slots;
  for (int i = slots - 1; i >= 0; --i) free_.push_back(i);
}

HashLimiter::Slot::~Slot() {
  if (limiter_ != nullptr) limiter_->Release(index_);
}

HashLimiter::Slot HashLimiter::Acquire() {
  const bool on_io_thread = CurrentThreadRole() == ThreadRole::kIo;
  assert(!on_io_thread && "a password hash must never run on an I/O thread");
  std::unique_lock lock(mu_);
  const std::uint64_t ticket = next_ticket_++;
  const auto admitted = [&] { return ticket < released_ + static_cast<std::uint64_t>(slots_); };
  if (!admitted()) {
    ++stats_.waiting;
    cv_.wait(lock, admitted);
    --stats_.waiting;
  }
  ++stats_.in_flight;
  stats_.peak_in_flight = std::max(stats_.peak_in_flight, stats_.in_flight);
  ++stats_.admitted;
  if (on_io_thread) ++stats_.on_io_thread;
  // Admission keeps in_flight <= slots_, so an index is always free here.
  assert(!free_.empty());
  const int index = free_.back();
  free_.pop_back();
  return Slot(this, index);
}

void HashLimiter::Release(int index) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(index);
    --stats_.in_flight;
    ++released_;
  }
  // Every waiter checks its own ticket; only the next in line gets through.
  cv_.notify_all();
}

HashLimiter::Stats HashLimiter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

int HashLimiter::DefaultSlots() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace tessera
