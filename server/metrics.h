// Counters and histograms, exposed on /metrics in Prometheus text format (version 0.0.4).
//
// Hot-path updates are relaxed atomic increments on fixed arrays indexed by route id and bucket;
// only the (rare) per-error-type failure counters take a lock.
#ifndef TESSERA_SERVER_METRICS_H_
#define TESSERA_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::server {

class Histogram {
 public:
  // Upper bounds in seconds.
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
  void Observe(double seconds);
  // Appends the _bucket/_sum/_count lines of `name` with `labels` (e.g. `route="..."`).
  void Render(std::string_view name, std::string_view labels, std::string& out) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_nanos_{0};
};

class Metrics {
 public:
  // `route_labels`: one label per route id (server/router.h), "POST /v1/sessions/authenticate".
  explicit Metrics(std::span<const std::string> route_labels);

  // REQUIRES: route < route_labels.size().
  void RecordRequest(std::uint32_t route, unsigned status, std::string_view error_type,
                     double seconds);
  void RecordStore(std::string_view operation, double seconds, bool ok);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void TouchFlush(std::size_t touches, bool ok);

  // Gauges read at render time (cache sizes, queue lengths): name -> callback.
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  // Counters kept elsewhere (the outbox sender's), read at render time: name -> callback.
  void AddCounter(std::string name, std::string help, std::function<double()> read);

  std::string RenderPrometheus() const;

 private:
  static constexpr std::array<unsigned, 14> kStatuses = {200, 400, 401, 403, 404, 405, 409,
                                                         413, 429, 431, 500, 503, 0,   0};
  static std::size_t StatusIndex(unsigned status);

  struct RouteCounters {
    std::array<std::atomic<std::uint64_t>, kStatuses.size()> requests{};
    Histogram latency;
  };
  const std::vector<std::string> route_labels_;
  const std::unique_ptr<RouteCounters[]> routes_;  // One per label.

  mutable std::mutex mu_;
  std::map<std::pair<int, std::string>, std::uint64_t> failures_;                 // GUARDED_BY(mu_)
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> store_latency_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t, std::less<>> store_errors_;                // GUARDED_BY(mu_)
  struct Gauge {
    std::string help;
    std::function<double()> read;
    bool counter = false;
  };
  std::map<std::string, Gauge> gauges_;  // GUARDED_BY(mu_)

  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> touch_flushes_{0};
  std::atomic<std::uint64_t> touch_flush_failures_{0};
  std::atomic<std::uint64_t> touches_written_{0};
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_METRICS_H_
