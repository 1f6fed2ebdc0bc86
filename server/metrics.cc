#include "server/metrics.h"

#include <cstdio>
#include <memory>

namespace tessera::server {
namespace {

void AppendDouble(double v, std::string& out) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

}  // namespace

Metrics::Metrics(std::span<const std::string> route_labels)
    : route_labels_(route_labels.begin(), route_labels.end()),
      routes_(std::make_unique<RouteCounters[]>(route_labels.size())) {}

void Histogram::Observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string& out) const {
  std::uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{";
    out += labels;
    out += sep;
    out += "le=\"";
    if (i < kBounds.size()) {
      AppendDouble(kBounds[i], out);
    } else {
      out += "+Inf";
    }
    out += "\"} ";
    out += std::to_string(cumulative);
    out += '\n';
  }
  out += name;
  out += "_sum{";
  out += labels;
  out += "} ";
  AppendDouble(static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9, out);
  out += '\n';
  out += name;
  out += "_count{";
  out += labels;
  out += "} ";
  out += std::to_string(count_.load(std::memory_order_relaxed));
  out += '\n';
}

std::size_t Metrics::StatusIndex(unsigned status) {
  for (std::size_t i = 0; i < kStatuses.size() - 2; ++i) {
    if (kStatuses[i] == status) return i;
  }
  return kStatuses.size() - 1;  // "other"
}

void Metrics::RecordRequest(std::uint32_t route, unsigned status, std::string_view error_type,
                            double seconds) {
  const int r = static_cast<int>(route);
  routes_[r].requests[StatusIndex(status)].fetch_add(1, std::memory_order_relaxed);
  routes_[r].latency.Observe(seconds);
  if (!error_type.empty()) {
    std::lock_guard lock(mu_);
    ++failures_[{r, std::string(error_type)}];
  }
}

void Metrics::RecordStore(std::string_view operation, double seconds, bool ok) {
  std::lock_guard lock(mu_);
  auto it = store_latency_.find(operation);
  if (it == store_latency_.end()) {
    it = store_latency_.emplace(std::string(operation), std::make_unique<Histogram>()).first;
  }
  it->second->Observe(seconds);
  if (!ok) ++store_errors_[std::string(operation)];
}

void Metrics::TouchFlush(std::size_t touches, bool ok) {
  touch_flushes_.fetch_add(1, std::memory_order_relaxed);
  if (ok) {
    touches_written_.fetch_add(touches, std::memory_order_relaxed);
  } else {
    touch_flush_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[std::move(name)] = Gauge{std::move(help), std::move(read), false};
}

void Metrics::AddCounter(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mu_);
  gauges_[std::move(name)] = Gauge{std::move(help), std::move(read), true};
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  out.reserve(32768);
  out += "# HELP tessera_http_requests_total HTTP requests by route and status code.\n";
  out += "# TYPE tessera_http_requests_total counter\n";
  for (std::size_t r = 0; r < route_labels_.size(); ++r) {
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      if (s == kStatuses.size() - 2) continue;  // Unused slot.
      const std::uint64_t n = routes_[r].requests[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "tessera_http_requests_total{route=\"";
      out += route_labels_[r];
      out += "\",status=\"";
      out += s == kStatuses.size() - 1 ? "other" : std::to_string(kStatuses[s]);
      out += "\"} ";
      out += std::to_string(n);
      out += '\n';
    }
  }
  out +=
      "# HELP tessera_http_request_duration_seconds Time from request parsed to response "
      "ready.\n";
  out += "# TYPE tessera_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < route_labels_.size(); ++r) {
    const std::string labels = "route=\"" + route_labels_[r] + "\"";
    routes_[r].latency.Render("tessera_http_request_duration_seconds", labels, out);
  }
  std::lock_guard lock(mu_);
  out += "# HELP tessera_http_failures_total Failed requests by route and error_type.\n";
  out += "# TYPE tessera_http_failures_total counter\n";
  for (const auto& [key, n] : failures_) {
    out += "tessera_http_failures_total{route=\"";
    out += route_labels_[static_cast<std::size_t>(key.first)];
    out += "\",error_type=\"";
    out += key.second;
    out += "\"} ";
    out += std::to_string(n);
    out += '\n';
  }
  out += "# HELP tessera_store_operation_duration_seconds Store call latency by operation.\n";
  out += "# TYPE tessera_store_operation_duration_seconds histogram\n";
  for (const auto& [op, h] : store_latency_) {
    h->Render("tessera_store_operation_duration_seconds", "operation=\"" + op + "\"", out);
  }
  out += "# HELP tessera_store_errors_total Store calls that failed, by operation.\n";
  out += "# TYPE tessera_store_errors_total counter\n";
  for (const auto& [op, n] : store_errors_) {
    out += "tessera_store_errors_total{operation=\"" + op + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tessera_connections Open client connections.\n# TYPE tessera_connections gauge\n";
  out += "tessera_connections " + std::to_string(connections_.load()) + "\n";
  out +=
      "# HELP tessera_connections_rejected_total Connections closed at once because the "
      "connection limit was reached.\n# TYPE tessera_connections_rejected_total counter\n";
  out += "tessera_connections_rejected_total " + std::to_string(rejected_.load()) + "\n";
  out += "# HELP tessera_touch_flushes_total Write-behind flushes of last_accessed_at.\n";
  out += "# TYPE tessera_touch_flushes_total counter\n";
  out += "tessera_touch_flushes_total " + std::to_string(touch_flushes_.load()) + "\n";
  out += "# HELP tessera_touch_flush_failures_total Flushes that failed (retried next time).\n";
  out += "# TYPE tessera_touch_flush_failures_total counter\n";
  out +=
      "tessera_touch_flush_failures_total " + std::to_string(touch_flush_failures_.load()) + "\n";
  out += "# HELP tessera_touches_written_total Session touches written by the flusher.\n";
  out += "# TYPE tessera_touches_written_total counter\n";
  out += "tessera_touches_written_total " + std::to_string(touches_written_.load()) + "\n";
  for (const auto& [name, g] : gauges_) {
    out += "# HELP " + name + " " + g.help + "\n# TYPE " + name +
           (g.counter ? " counter\n" : " gauge\n") + name + " ";
    AppendDouble(g.read(), out);
    out += '\n';
  }
  return out;
}

}  // namespace tessera::server
