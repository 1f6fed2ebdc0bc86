// Counters and histograms, exposed on /metrics in Prometheus text format (version 0.0.4).
//
// Hot-path updates are relaxed atomic increments on fixed arrays indexed by route and bucket; only
// the (rare) per-error-type failure counters take a lock.
#ifndef TESSERA_SERVER_METRICS_H_
#define TESSERA_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tessera::server {

enum class Route : int {
  kHealthz,
  kReadyz,
  kMetrics,
  kJwks,
  kSessionsAuthenticate,
  kSessionsGet,
  kSessionsRevoke,
  kUsersCreate,
  kUsersGet,
  kUsersUpdate,
  kUsersDelete,
  kUsersSearch,
  kPasswordsCreate,
  kPasswordsAuthenticate,
  kPasswordsStrengthCheck,
  kUnmatched,  // No route: 404/405, and requests rejected before routing.
  kCount,
};

// "POST /v1/sessions/authenticate": the label used in metrics and the access log.
std::string_view RouteLabel(Route route);

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
  void RecordRequest(Route route, unsigned status, std::string_view error_type, double seconds);
  void RecordStore(std::string_view operation, double seconds, bool ok);
  void ConnectionOpened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRejected() { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void TouchFlush(std::size_t touches, bool ok);

  // Gauges read at render time (cache sizes, queue lengths): name -> callback.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  std::string RenderPrometheus() const;

  // Test helpers: the count of requests for a route with a status, and failures by error_type.
  std::uint64_t RequestCount(Route route, unsigned status) const;
  std::uint64_t FailureCount(Route route, std::string_view error_type) const;

 private:
  static constexpr std::array<unsigned, 14> kStatuses = {200, 400, 401, 403, 404, 405, 409,
                                                         413, 429, 431, 500, 503, 0,   0};
  static std::size_t StatusIndex(unsigned status);

  static constexpr int kRoutes = static_cast<int>(Route::kCount);
  std::array<std::array<std::atomic<std::uint64_t>, kStatuses.size()>, kRoutes> requests_{};
  std::array<Histogram, kRoutes> latency_{};

  mutable std::mutex mu_;
  std::map<std::pair<int, std::string>, std::uint64_t> failures_;                 // GUARDED_BY(mu_)
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> store_latency_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t, std::less<>> store_errors_;                // GUARDED_BY(mu_)
  struct Gauge {
    std::string help;
    std::function<double()> read;
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
