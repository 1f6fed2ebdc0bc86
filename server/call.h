// What every handler receives and how it answers: the one signature of the route table's
// handlers (server/routes.cc), the services they call, and the response body builder.
#ifndef TESSERA_SERVER_CALL_H_
#define TESSERA_SERVER_CALL_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/api_types.h"
#include "server/metrics.h"
#include "service/email/email_sign_in.h"
#include "service/password_service.h"
#include "service/project_registry.h"
#include "service/revocation_feed.h"
#include "service/session_service.h"
#include "service/ssf.h"
#include "service/user_service.h"
#include "tessera/result.h"

namespace tessera::server {

// The services behind the API. Every member outlives the server.
struct Services {
  ProjectRegistry& projects;
  SessionService& sessions;
  UserService& users;
  PasswordService& passwords;
  EmailSignInService& email;
  RevocationFeed& revocations;
  SessionStore& store;
  Metrics& metrics;
  const Clock& clock;
  RandomSource& random;
  const SsfOptions& ssf;  // The Shared Signals transmitter's settings (validated).
};

// One request being handled. Built by the dispatcher (server/api.cc) after routing and the
// route's access check; valid for the handler's duration only.
class Call {
 public:
  Call(const ApiRequest& request, Services& services, std::span<const std::string> param_names,
       std::span<const std::string> params, const ProjectContext* project,
       std::string_view request_id, TimePoint now, bool on_worker)
      : request(request),
        services(services),
        request_id(request_id),
        now(now),
        project_(project),
        param_names_(param_names),
        params_(params),
        on_worker_(on_worker) {}

  const ApiRequest& request;
  Services& services;
  const std::string_view request_id;
  const TimePoint now;

  // The caller's project. REQUIRES: the route's access is Access::kProjectSecret,
  // kPublicToken or kPublicTokenInPath.
  const ProjectContext& project() const { return *project_; }

  // For Access::kPublicToken routes: the session token the frontend SDK sent, if it sent one.
  const std::optional<std::string_view>& sdk_session_token() const { return sdk_session_token_; }
  void set_sdk_session_token(std::optional<std::string_view> token) { sdk_session_token_ = token; }

  // The decoded path parameter `name` of the route's pattern. REQUIRES: the pattern has it.
  std::string_view Param(std::string_view name) const;

  // For Blocking::kWhenNeeded routes: whether this call may block (it runs on a worker thread).
  bool on_worker() const { return on_worker_; }
  // Asks for the call to be made again on the worker pool, from the start. The handler returns
  // what this returns, and must not have changed anything before calling it.
  // REQUIRES: !on_worker().
  Result<ApiResponse> ToWorker();
  bool wants_worker() const { return wants_worker_; }

 private:
  const ProjectContext* project_;
  std::span<const std::string> param_names_;
  std::span<const std::string> params_;
  bool on_worker_;
  bool wants_worker_ = false;
  std::optional<std::string_view> sdk_session_token_;
};

// Every handler has this signature; errors become the API's error body in one place
// (server/error_mapping.cc), so a handler never chooses a status code.
using Handler = Result<ApiResponse> (*)(Call& call);

// A success body: {"request_id":"...","status_code":200 then the members the handler appends,
// each with Key(name) followed by its JSON value, then Close().
class Body {
 public:
  explicit Body(std::string_view request_id);
  // Appends `,"k":` and returns the buffer for the value.
  std::string& Key(std::string_view k);
  void String(std::string_view k, std::string_view v);
  // For values that need no escaping by construction (base64url tokens and JWTs Tessera made).
  void Plain(std::string_view k, std::string_view v);
  void Raw(std::string_view k, std::string_view json) { Key(k) += json; }
  // Appends the members of the JSON object `object` (which must not be empty, "{}"), as if each
  // were added with Raw: for responses that are an object's members at the top level.
  void Members(std::string_view object);
  ApiResponse Close();

 private:
  std::string_view request_id_;
  std::string s_;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_CALL_H_
