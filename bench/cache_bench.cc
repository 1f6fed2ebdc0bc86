// Session cache benchmark: what a user change costs the cache, and what it costs every other
// authenticate meanwhile.
//
//   build/bench/tessera_cache_bench --benchmark_repetitions=5 --benchmark_display_aggregates_only
//
//   BM_EvictUser/<cached>          one user change: the user's two sessions inserted, then
//                                  EvictUser, with <cached> sessions of other users in the cache.
//   BM_LookupDuringEvictions/<n>   the baseline it disturbs: FindByDigest hits, timed one by one,
//                                  while another thread evicts users in a loop; reports the
//                                  lookups' p50, p99 and max waits in microseconds. 200 000 is the
//                                  server's default capacity.
//
// Only the cache's public interface is used, so the same file measures any version of it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "service/caches.h"

namespace tessera::bench {
namespace {

constexpr char kProject[] = "project-test-3f5e0c1a-8d2b-4c7e-9a61-2b7d4e8f0c93";

std::shared_ptr<const CachedSession> Session(std::int64_t n,
                                             const std::shared_ptr<const CachedUser>& user) {
  SessionRecord r;
  r.project_id = kProject;
  r.session_id = "session-test-" + std::to_string(n);
  r.user_id = user->user.user_id;
  r.token_digest.fill(0);
  for (std::size_t i = 0; i < 8; ++i) r.token_digest[i] = static_cast<std::uint8_t>(n >> (8 * i));
  r.started_at = r.last_accessed_at = FromUnixSeconds(1772375115);
  r.expires_at = r.started_at + std::chrono::hours(1);
  return MakeCachedSession(std::move(r), user);
}

std::shared_ptr<const CachedUser> NewUser(std::int64_t n) {
  User u;
  u.project_id = kProject;
  u.user_id = "user-test-" + std::to_string(n);
  return MakeCachedUser(std::move(u));
}

// A cache holding `n` sessions, one per user.
std::unique_ptr<SessionCache> Filled(std::int64_t n) {
  auto cache = std::make_unique<SessionCache>(static_cast<std::size_t>(n) + 16);
  for (std::int64_t i = 0; i < n; ++i) cache->Insert(Session(i, NewUser(i)), cache->epoch());
  return cache;
}

void BM_EvictUser(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  auto cache = Filled(n);
  const auto victim = NewUser(-1);
  for (auto _ : state) {
    state.PauseTiming();
    cache->Insert(Session(n + 1, victim), cache->epoch());
    cache->Insert(Session(n + 2, victim), cache->epoch());
    state.ResumeTiming();
    cache->EvictUser(kProject, victim->user.user_id);
  }
  state.counters["cached"] = static_cast<double>(cache->size());
}
BENCHMARK(BM_EvictUser)->Arg(20000)->Arg(200000)->Unit(benchmark::kMicrosecond);

void BM_LookupDuringEvictions(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  auto cache = Filled(n);
  std::atomic<bool> stop{false};
  std::thread evictor([&] {
    for (std::int64_t i = 0; !stop.load(std::memory_order_relaxed); i = (i + 7919) % n) {
      cache->EvictUser(kProject, "user-test-" + std::to_string(i));
      cache->Insert(Session(i, NewUser(i)), cache->epoch());  // Back in, for the next round.
    }
  });
  std::vector<double> waits;
  std::int64_t i = 0;
  for (auto _ : state) {
    TokenDigest d{};
    for (std::size_t b = 0; b < 8; ++b) d[b] = static_cast<std::uint8_t>(i >> (8 * b));
    const auto started = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(cache->FindByDigest(kProject, d));
    waits.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
            .count());
    i = (i + 104729) % n;
  }
  stop = true;
  evictor.join();
  std::sort(waits.begin(), waits.end());
  const auto at = [&](double q) { return waits[static_cast<std::size_t>(q * (waits.size() - 1))]; };
  state.counters["p50_us"] = at(0.5);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = waits.back();
}
BENCHMARK(BM_LookupDuringEvictions)
    ->Arg(20000)
    ->Arg(200000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(1.0);

}  // namespace
}  // namespace tessera::bench

BENCHMARK_MAIN();
