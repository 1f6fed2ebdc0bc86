// GET /healthz, /readyz and /metrics: for load balancers and monitoring, no credentials.
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {

Result<ApiResponse> Healthz(Call& call) {
  Body b(call.request_id);
  b.String("status", "ok");
  return b.Close();
}

// Ready when the database answers.
Result<ApiResponse> Readyz(Call& call) {
  if (Status s = call.services.store.Ping(); !s.ok()) {
    return Error(ErrorCode::kStoreUnavailable, s.message());
  }
  Body b(call.request_id);
  b.String("status", "ready");
  return b.Close();
}

Result<ApiResponse> PrometheusMetrics(Call& call) {
  ApiResponse r;
  r.request_id = std::string(call.request_id);
  r.body = call.services.metrics.RenderPrometheus();
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

}  // namespace tessera::server::handlers
