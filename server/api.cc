#include "server/api.h"

#include "common/base64.h"
#include "server/error_mapping.h"
#include "service/ids.h"

namespace tessera::server {
namespace {

struct Credentials {
  std::string project_id;
  std::string secret;
};

// HTTP Basic `project_id:secret` (the scheme name is case-insensitive).
Result<Credentials> ParseBasicAuth(std::string_view header) {
  if (header.empty()) {
    return Error(ErrorCode::kUnauthorizedCredentials,
                 "Unauthorized credentials: send HTTP Basic project_id:secret.");
  }
  const auto bad = [] {
    return Error(ErrorCode::kInvalidAuthorizationHeader,
                 "The authorization header sent is not valid: expected Basic "
                 "base64(project_id:secret).");
  };
  constexpr std::string_view kScheme = "basic";
  if (header.size() <= kScheme.size() + 1 || header.size() > 1024) return bad();
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if ((header[i] | 0x20) != kScheme[i]) return bad();
  }
  if (header[kScheme.size()] != ' ') return bad();
  std::string_view encoded = header.substr(kScheme.size() + 1);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = Base64Decode(encoded);
  if (!decoded.ok()) return bad();
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return bad();
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

// The frontend SDK API's paths: CORS applies, success bodies are enveloped.
bool IsSdkPath(std::string_view path) { return path.starts_with("/sdk/v1/"); }

// Credentialed CORS for a page on `origin` (spec: the exact origin, never `*`). Added to every
// /sdk/v1 answer, errors included, so that the SDK reads Tessera's error instead of a network
// failure; a page on an origin the project does not allow reads only the refusal.
void AddCorsHeaders(std::string_view origin, ApiResponse& r) {
  if (origin.empty()) return;
  r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  r.headers.emplace_back("Vary", "Origin");
}

// The answer to a CORS preflight of an /sdk/v1 path. A preflight carries no credentials, so it
// cannot name the project: it is granted to every origin, and the request that follows is
// checked against the project's list before anything runs.
ApiResponse Preflight(const ApiRequest& req, std::string_view request_id) {
  ApiResponse r;
  r.status = 204;
  r.request_id = std::string(request_id);
  AddCorsHeaders(req.origin, r);
  if (!req.origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
    r.headers.emplace_back("Access-Control-Allow-Headers",
                           "Authorization, Content-Type, X-SDK-Client, X-SDK-Parent-Host");
    r.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return r;
}

}  // namespace

std::string Api::NewRequestId(std::string_view project_id) {
  return tessera::NewRequestId(project_id.starts_with("project-live-"));
}

Pool Api::StartPool(const RouteMatch& match) const {
  if (match.route == nullptr) return Pool::kIo;
  switch (match.route->blocking) {
    case Blocking::kNo:
      return Pool::kIo;
    case Blocking::kYes:
      return Pool::kWorkers;
    case Blocking::kHashes:
      return Pool::kHashers;
    case Blocking::kWhenNeeded:
      // On a shared store whose caches cannot be vouched for, every use reads the database.
      return s_.store.caches_current() ? Pool::kIo : Pool::kWorkers;
  }
  return Pool::kWorkers;
}

std::optional<ApiResponse> Api::Handle(const ApiRequest& req, const RouteMatch& m, bool on_worker) {
  if (!IsSdkPath(req.path)) return HandleRoute(req, m, on_worker);
  if (req.method == Method::kOptions) return Preflight(req, NewRequestId(""));
  std::optional<ApiResponse> r = HandleRoute(req, m, on_worker);
  if (!r) return r;
  if (r->status < 300 && !r->stream) {
    // The SDK reads `json.data`; errors stay flat (spec: frontend SDK wire notes).
    std::string body = "{\"data\":";
    body.append(r->body).push_back('}');
    r->body = std::move(body);
  }
  AddCorsHeaders(req.origin, *r);
  return r;
}

std::optional<ApiResponse> Api::HandleRoute(const ApiRequest& req, const RouteMatch& m,
                                            bool on_worker) {
  const TimePoint now = s_.clock.Now();
  // The request id is of the project's kind when the caller names a live project.
  const Result<Credentials> creds = ParseBasicAuth(req.authorization);
  const std::string request_id =
      NewRequestId(creds.ok() ? std::string_view(creds->project_id) : std::string_view());
  if (!m.error.ok()) {
    ApiResponse r = ErrorResponse(m.error, request_id);
    if (!m.allow.empty()) r.headers.emplace_back("Allow", m.allow);
    return r;
  }

  std::shared_ptr<const ProjectContext> project;
  if (m.route->access == Access::kProjectSecret) {
    auto authorized = [&]() -> Result<std::shared_ptr<const ProjectContext>> {
      if (!creds.ok()) return creds.status();
      // An I/O thread never reads the store: a project not in memory is looked up on a worker.
      return on_worker ? s_.projects.Authorize(creds->project_id, creds->secret)
                       : s_.projects.AuthorizeCached(creds->project_id, creds->secret);
    }();
    if (!authorized.ok()) return ErrorResponse(authorized.status(), request_id);
    if (*authorized == nullptr) return std::nullopt;
    project = *std::move(authorized);
  }
  std::optional<std::string_view> sdk_session;
  if (m.route->access == Access::kPublicToken || m.route->access == Access::kPublicTokenInPath) {
    // Finding a project by its public token may read the store.
    if (!on_worker) return std::nullopt;
    std::string_view public_token;
    if (m.route->access == Access::kPublicTokenInPath) {
      public_token = m.params.front();
    } else {
      if (!creds.ok()) return ErrorResponse(creds.status(), request_id);
      public_token = creds->project_id;
      // The SDK sends the public token again when it holds no session.
      if (!creds->secret.empty() && creds->secret != creds->project_id) sdk_session = creds->secret;
    }
    auto authorized = s_.projects.AuthorizePublicToken(public_token, PageOrigin(req));
    if (!authorized.ok()) return ErrorResponse(authorized.status(), request_id);
    project = *std::move(authorized);
  }

  Call call(req, s_, router_.ParamNames(m.id), m.params, project.get(), request_id, now, on_worker);
  call.set_sdk_session_token(sdk_session);
  Result<ApiResponse> result = m.route->handler(call);
  if (call.wants_worker()) return std::nullopt;
  if (!result.ok()) return ErrorResponse(result.status(), request_id);
  return std::move(result).value();
}

}  // namespace tessera::server
