#include "server/api.h"

#include <boost/json.hpp>

#include "common/base64.h"
#include "common/json.h"
#include "common/text.h"
#include "common/time_format.h"
#include "server/error_mapping.h"
#include "server/json_body.h"
#include "service/ids.h"

namespace tessera::server {
namespace {

// --- Response building ----------------------------------------------------------------------

// {"request_id":"...","status_code":200  — callers append `,"key":value` members and Close().
class Body {
 public:
  explicit Body(std::string_view request_id) : request_id_(request_id) {
    s_.reserve(2048);
    s_ += "{\"request_id\":";
    AppendJsonString(request_id, s_);
    s_ += ",\"status_code\":200";
  }
  std::string& Key(std::string_view k) {
    s_ += ",\"";
    s_ += k;
    s_ += "\":";
    return s_;
  }
  void String(std::string_view k, std::string_view v) { AppendJsonString(v, Key(k)); }
  // For values that need no escaping by construction (base64url tokens and JWTs Tessera made).
  void Plain(std::string_view k, std::string_view v) {
    std::string& out = Key(k);
    out.push_back('"');
    out += v;
    out.push_back('"');
  }
  void Raw(std::string_view k, std::string_view json) { Key(k) += json; }
  ApiResponse Close() {
    s_.push_back('}');
    ApiResponse r;
    r.body = std::move(s_);
    r.request_id = std::string(request_id_);
    return r;
  }

 private:
  std::string_view request_id_;
  std::string s_;
};

void AppendUserValue(const CachedUser& u, TimePoint now, std::string& out) {
  AppendUser(u.rendered, u.LockedAt(now), out);
}

// The members every session-minting response carries (spec §2.0.4): session (or null),
// session_jwt and session_token ("" when no session), user, user_device, user_id.
void AppendLoginMembers(Body& b, const CachedUser& user, const std::optional<SessionResult>& s,
                        TimePoint now) {
  if (s) {
    AppendSession(s->session->rendered, s->last_accessed_at, b.Key("session"));
    b.Plain("session_jwt", s->session_jwt);
    b.Plain("session_token", s->session_token);
  } else {
    b.Raw("session", "null");
    b.String("session_jwt", "");
    b.String("session_token", "");
  }
  AppendUserValue(user, now, b.Key("user"));
  b.Raw("user_device", "null");
  b.String("user_id", user.user.user_id);
}

// --- Request parsing ------------------------------------------------------------------------

// Session options common to authenticate-type calls. `session_custom_claims` must be an object.
Result<SessionOptions> ParseSessionOptions(const JsonBody& body) {
  SessionOptions o;
  TESSERA_ASSIGN_OR_RETURN(o.duration_minutes, body.OptInt("session_duration_minutes"));
  o.custom_claims = body.OptValue("session_custom_claims");
  if (o.custom_claims && !o.custom_claims->is_object()) {
    return WrongType("session_custom_claims", "an object");
  }
  return o;
}

// A string that counts only when non-empty (SDKs and apps send "" for "none").
Result<std::optional<std::string>> NonEmpty(const JsonBody& body, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> s, body.OptString(name));
  if (s && s->empty()) s.reset();
  return s;
}

Result<SessionAttributes> ParseAttributes(const JsonBody& body) {
  SessionAttributes a;
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> attrs, body.OptObject("attributes"));
  if (!attrs) return a;
  for (const auto& [name, field] :
       {std::pair<const char*, std::string*>{"ip_address", &a.ip_address},
        {"user_agent", &a.user_agent}}) {
    const auto it = attrs->find(name);
    if (it == attrs->end() || it->value().is_null()) continue;
    if (!it->value().is_string() || it->value().get_string().size() > 512 ||
        !IsStorableText(it->value().get_string())) {
      return WrongType(std::string("attributes.") + name, "a string of at most 512 characters");
    }
    *field = it->value().get_string();
  }
  return a;
}

Result<UserFields> ParseUserFields(const JsonBody& body) {
  UserFields f;
  TESSERA_ASSIGN_OR_RETURN(f.email, body.OptString("email"));
  TESSERA_ASSIGN_OR_RETURN(f.phone_number, body.OptString("phone_number"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> name, body.OptObject("name"));
  if (name) {
    for (const auto& [key, field] :
         {std::pair<const char*, std::optional<std::string>*>{"first_name", &f.first_name},
          {"middle_name", &f.middle_name},
          {"last_name", &f.last_name}}) {
      const auto it = name->find(key);
      if (it == name->end() || it->value().is_null()) continue;
      if (!it->value().is_string()) return WrongType(std::string("name.") + key, "a string");
      *field = std::string(it->value().get_string());
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> attrs, body.OptObject("attributes"));
  (void)attrs;  // Accepted for compatibility; user attributes are not stored.
  TESSERA_ASSIGN_OR_RETURN(f.trusted_metadata, body.OptObject("trusted_metadata"));
  TESSERA_ASSIGN_OR_RETURN(f.untrusted_metadata, body.OptObject("untrusted_metadata"));
  TESSERA_ASSIGN_OR_RETURN(f.external_id, body.OptString("external_id"));
  TESSERA_ASSIGN_OR_RETURN(f.roles, body.OptStringArray("roles"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> pending, body.OptBool("create_user_as_pending"));
  f.create_as_pending = pending.value_or(false);
  return f;
}

Result<std::vector<std::string>> FilterStrings(const boost::json::value& v, std::string_view name) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.emplace_back(v.get_string());
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (!e.is_string()) break;
      out.emplace_back(e.get_string());
    }
    if (out.size() != v.get_array().size()) out.clear();
  }
  if (out.empty() || out.size() > 1000) {
    return Error(ErrorCode::kInvalidSearchQuery,
                 std::string(name) + " needs a string or a non-empty array of strings.");
  }
  for (const auto& s : out) {
    if (!IsStorableText(s)) {
      return Error(ErrorCode::kInvalidSearchQuery,
                   std::string(name) + " values must not contain NUL characters.");
    }
  }
  return out;
}

Result<TimePoint> FilterTime(const boost::json::value& v, std::string_view name) {
  if (v.is_string()) {
    auto t = ParseRfc3339(v.get_string());
    if (t.ok()) return *t;
  }
  return Error(ErrorCode::kInvalidSearchQuery, std::string(name) + " needs an RFC 3339 timestamp.");
}

Result<UserQuery> ParseUserQuery(const JsonBody& body) {
  UserQuery q;
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> query, body.OptObject("query"));
  if (!query) return q;
  if (const auto op = query->find("operator"); op != query->end() && !op->value().is_null()) {
    if (!op->value().is_string() ||
        (op->value().get_string() != "AND" && op->value().get_string() != "OR")) {
      return Error(ErrorCode::kInvalidSearchQuery, "query.operator must be \"AND\" or \"OR\".");
    }
    q.match_any = op->value().get_string() == "OR";
  }
  const auto operands = query->find("operands");
  if (operands == query->end() || operands->value().is_null()) return q;
  if (!operands->value().is_array() || operands->value().get_array().size() > 32) {
    return Error(ErrorCode::kInvalidSearchQuery, "query.operands must be an array of filters.");
  }
  for (const auto& operand : operands->value().get_array()) {
    if (!operand.is_object()) {
      return Error(ErrorCode::kInvalidSearchQuery, "each operand must be an object.");
    }
    const auto& o = operand.get_object();
    const auto name_it = o.find("filter_name");
    const auto value_it = o.find("filter_value");
    if (name_it == o.end() || !name_it->value().is_string() || value_it == o.end()) {
      return Error(ErrorCode::kInvalidSearchQuery,
                   "each operand needs filter_name and filter_value.");
    }
    const std::string_view name = name_it->value().get_string();
    const boost::json::value& v = value_it->value();
    UserFilter f;
    using K = UserFilter::Kind;
    if (name == "email_address") {
      f.kind = K::kEmailAddress;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "email_id") {
      f.kind = K::kEmailId;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "user_id") {
      f.kind = K::kUserId;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "phone_number") {
      f.kind = K::kPhoneNumber;
      TESSERA_ASSIGN_OR_RETURN(f.strings, FilterStrings(v, name));
    } else if (name == "status") {
      f.kind = K::kStatus;
      if (!v.is_string() || (v.get_string() != "active" && v.get_string() != "pending")) {
        return Error(ErrorCode::kInvalidSearchQuery, "status must be \"active\" or \"pending\".");
      }
      f.strings = {std::string(v.get_string())};
    } else if (name == "created_at_greater_than") {
      f.kind = K::kCreatedAtGreaterThan;
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v, name));
    } else if (name == "created_at_less_than") {
      f.kind = K::kCreatedAtLessThan;
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v, name));
    } else if (name == "created_at_between") {
      f.kind = K::kCreatedAtBetween;
      if (!v.is_object() || !v.get_object().contains("greater_than") ||
          !v.get_object().contains("less_than")) {
        return Error(ErrorCode::kInvalidSearchQuery,
                     "created_at_between needs greater_than and less_than.");
      }
      TESSERA_ASSIGN_OR_RETURN(f.time_a, FilterTime(v.get_object().at("greater_than"), name));
      TESSERA_ASSIGN_OR_RETURN(f.time_b, FilterTime(v.get_object().at("less_than"), name));
    } else if (name == "password_exists") {
      f.kind = K::kPasswordExists;
      if (!v.is_bool()) {
        return Error(ErrorCode::kInvalidSearchQuery, "password_exists needs a boolean.");
      }
      f.flag = v.get_bool();
    } else {
      return Error(ErrorCode::kInvalidSearchQuery,
                   "unsupported filter_name \"" + std::string(name) + "\".");
    }
    q.filters.push_back(std::move(f));
  }
  return q;
}

// --- Credentials ----------------------------------------------------------------------------

struct Credentials {
  std::string project_id;
  std::string secret;
};

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
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() <= kScheme.size() || header.size() > 1024) return bad();
  for (std::size_t i = 0; i < 5; ++i) {
    if ((header[i] | 0x20) != kScheme[i + 0] + (kScheme[i] >= 'A' && kScheme[i] <= 'Z' ? 32 : 0)) {
      return bad();
    }
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = Base64Decode(encoded);
  if (!decoded.ok()) return bad();
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return bad();
  Credentials c{decoded->substr(0, colon), decoded->substr(colon + 1)};
  return c;
}

}  // namespace

// --- Helpers exported for tests -------------------------------------------------------------

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() + 0 && i + 2 > in.size() - 1) return false;
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    std::string key;
    if (!PercentDecode(pair.substr(0, eq), true, key) || key != name) continue;
    std::string value;
    if (eq == std::string_view::npos) return value;
    if (!PercentDecode(pair.substr(eq + 1), true, value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string Api::NewRequestId(std::string_view project_id) {
  return tessera::NewRequestId(project_id.starts_with("project-live-"));
}

// --- Routing --------------------------------------------------------------------------------

RouteMatch Api::Resolve(const ApiRequest& req) const {
  RouteMatch m;
  const std::string_view p = req.path;
  const auto method_is = [&](Method want, Route route, bool blocking, std::string_view allow) {
    if (req.method == want || (want == Method::kGet && req.method == Method::kHead)) {
      m.route = route;
      m.blocking = blocking;
      return;
    }
    m.error = Error(ErrorCode::kMethodNotAllowed,
                    "This route does not accept " + std::string(RouteLabel(route)).substr(0, 0) +
                        "this method; allowed: " + std::string(allow) + ".");
    m.allow = std::string(allow);
  };
  // Authenticate runs inline (on the I/O thread) unless it may write or the store is shared: the
  // hot path is then a cache lookup, a JWT reuse and a string build, cheaper than a thread hop.
  // With a shared store every authenticate reads the database (SessionService::Validate), which
  // must not stall an I/O thread's other connections.
  const bool authenticate_writes =
      d_.store.shared() || req.body.find("session_duration_minutes") != std::string_view::npos ||
      req.body.find("session_custom_claims") != std::string_view::npos;

  constexpr std::string_view kJwks = "/v1/sessions/jwks/";
  constexpr std::string_view kUsers = "/v1/users/";
  if (p == "/healthz") {
    method_is(Method::kGet, Route::kHealthz, false, "GET");
  } else if (p == "/readyz") {
    method_is(Method::kGet, Route::kReadyz, true, "GET");
  } else if (p == "/metrics") {
    method_is(Method::kGet, Route::kMetrics, false, "GET");
  } else if (p == "/v1/sessions/authenticate") {
    method_is(Method::kPost, Route::kSessionsAuthenticate, authenticate_writes, "POST");
  } else if (p == "/v1/sessions") {
    method_is(Method::kGet, Route::kSessionsGet, true, "GET");
  } else if (p == "/v1/sessions/revoke") {
    method_is(Method::kPost, Route::kSessionsRevoke, true, "POST");
  } else if (p.starts_with(kJwks) && p.size() > kJwks.size() &&
             p.find('/', kJwks.size()) == std::string_view::npos) {
    method_is(Method::kGet, Route::kJwks, false, "GET");
    std::string id;
    if (!PercentDecode(p.substr(kJwks.size()), false, id)) {
      m.route = Route::kUnmatched;
      m.error = Error(ErrorCode::kRouteNotFound, "The path is not valid.");
      return m;
    }
    m.params.push_back(std::move(id));
  } else if (p == "/v1/users") {
    method_is(Method::kPost, Route::kUsersCreate, true, "POST");
  } else if (p == "/v1/users/search") {
    method_is(Method::kPost, Route::kUsersSearch, true, "POST");
  } else if (p.starts_with(kUsers) && p.size() > kUsers.size() &&
             p.find('/', kUsers.size()) == std::string_view::npos) {
    if (req.method == Method::kPut) {
      m.route = Route::kUsersUpdate;
    } else if (req.method == Method::kDelete) {
      m.route = Route::kUsersDelete;
    } else {
      method_is(Method::kGet, Route::kUsersGet, true, "GET, PUT, DELETE");
    }
    m.blocking = true;
    std::string id;
    if (!PercentDecode(p.substr(kUsers.size()), false, id)) {
      m.route = Route::kUnmatched;
      m.error = Error(ErrorCode::kRouteNotFound, "The path is not valid.");
      return m;
    }
    m.params.push_back(std::move(id));
  } else if (p == "/v1/passwords") {
    method_is(Method::kPost, Route::kPasswordsCreate, true, "POST");
  } else if (p == "/v1/passwords/authenticate") {
    method_is(Method::kPost, Route::kPasswordsAuthenticate, true, "POST");
  } else if (p == "/v1/passwords/strength_check") {
    method_is(Method::kPost, Route::kPasswordsStrengthCheck, true, "POST");
  } else {
    m.error = Error(ErrorCode::kRouteNotFound, "No route matches this path.");
  }
  if (!m.error.ok()) {
    m.route = Route::kUnmatched;
    m.blocking = false;
  }
  return m;
}

// --- Handlers -------------------------------------------------------------------------------

ApiResponse Api::Handle(const ApiRequest& req, const RouteMatch& m) {
  const TimePoint now = d_.clock.Now();
  // The request id is of the project's kind when the caller names a live project.
  const Result<Credentials> creds = ParseBasicAuth(req.authorization);
  const std::string request_id =
      NewRequestId(creds.ok() ? std::string_view(creds->project_id) : std::string_view());
  if (!m.error.ok()) {
    ApiResponse r = ErrorResponse(m.error, request_id);
    if (!m.allow.empty()) r.headers.emplace_back("Allow", m.allow);
    return r;
  }

  // Unauthenticated routes.
  switch (m.route) {
    case Route::kHealthz: {
      Body b(request_id);
      b.String("status", "ok");
      return b.Close();
    }
    case Route::kReadyz: {
      if (Status s = d_.store.Ping(); !s.ok()) {
        return ErrorResponse(Error(ErrorCode::kStoreUnavailable, s.message()), request_id);
      }
      Body b(request_id);
      b.String("status", "ready");
      return b.Close();
    }
    case Route::kMetrics: {
      ApiResponse r;
      r.request_id = request_id;
      r.body = d_.metrics.RenderPrometheus();
      r.content_type = "text/plain; version=0.0.4";
      return r;
    }
    case Route::kJwks: {
      auto project = d_.projects.Get(m.params[0]);
      if (!project.ok()) return ErrorResponse(project.status(), request_id);
      Body b(request_id);
      b.Raw("keys", (*project)->jwks_keys_json);
      return b.Close();
    }
    default:
      break;
  }

  // Everything else needs the project's credentials.
  auto authorized = [&]() -> Result<std::shared_ptr<const ProjectContext>> {
    if (!creds.ok()) return creds.status();
    return d_.projects.Authorize(creds->project_id, creds->secret);
  }();
  if (!authorized.ok()) return ErrorResponse(authorized.status(), request_id);
  const ProjectContext& project = **authorized;

  auto result = [&]() -> Result<ApiResponse> {
    switch (m.route) {
      case Route::kSessionsAuthenticate: {
        // The hot path: the body is parsed into a stack arena and read without copies.
        unsigned char arena[4096];
        boost::json::monotonic_resource mr(arena, sizeof arena);
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body, &mr));
        TESSERA_ASSIGN_OR_RETURN(auto token, body.OptStringView("session_token"));
        TESSERA_ASSIGN_OR_RETURN(auto jwt, body.OptStringView("session_jwt"));
        if (token && token->empty()) token.reset();
        if (jwt && jwt->empty()) jwt.reset();
        TESSERA_ASSIGN_OR_RETURN(SessionOptions options, ParseSessionOptions(body));
        TESSERA_ASSIGN_OR_RETURN(auto check, body.OptObject("authorization_check"));
        if (check) {
          // Granting silently would be a security hole; refusing is the safe answer.
          return Error(ErrorCode::kBadRequest,
                       "authorization_check (RBAC) is not supported by this server.");
        }
        if (token && jwt) {
          return Error(ErrorCode::kTooManySessionArguments,
                       "Only one of session_token or session_jwt may be given.");
        }
        if (!token && !jwt) {
          return Error(ErrorCode::kNoSessionArguments,
                       "One of session_token or session_jwt is required.");
        }
        TESSERA_ASSIGN_OR_RETURN(
            SessionResult s, token ? d_.sessions.AuthenticateToken(project, *token, options, now)
                                   : d_.sessions.AuthenticateJwt(project, *jwt, options, now));
        Body b(request_id);
        AppendSession(s.session->rendered, s.last_accessed_at, b.Key("session"));
        b.Plain("session_jwt", s.session_jwt);
        b.Plain("session_token", s.session_token);
        AppendUserValue(*s.session->user, now, b.Key("user"));
        return b.Close();
      }
      case Route::kSessionsGet: {
        const std::optional<std::string> user_id = QueryParam(req.query, "user_id");
        if (!user_id || user_id->empty()) {
          return Error(ErrorCode::kBadRequest, "user_id is required.");
        }
        TESSERA_ASSIGN_OR_RETURN(auto sessions, d_.sessions.List(project, *user_id, now));
        Body b(request_id);
        std::string& out = b.Key("sessions");
        out.push_back('[');
        for (std::size_t i = 0; i < sessions.size(); ++i) {
          if (i > 0) out.push_back(',');
          AppendSession(sessions[i]->rendered, sessions[i]->record.last_accessed_at, out);
        }
        out.push_back(']');
        return b.Close();
      }
      case Route::kSessionsRevoke: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        TESSERA_ASSIGN_OR_RETURN(auto id, NonEmpty(body, "session_id"));
        TESSERA_ASSIGN_OR_RETURN(auto token, NonEmpty(body, "session_token"));
        TESSERA_ASSIGN_OR_RETURN(auto jwt, NonEmpty(body, "session_jwt"));
        const int given = int{id.has_value()} + int{token.has_value()} + int{jwt.has_value()};
        if (given > 1) {
          return Error(ErrorCode::kTooManyRevokeArguments,
                       "Only one of session_id, session_token or session_jwt may be given.");
        }
        if (given == 0) {
          return Error(ErrorCode::kNoRevokeArguments,
                       "One of session_id, session_token or session_jwt is required.");
        }
        if (id) {
          TESSERA_RETURN_IF_ERROR(d_.sessions.Revoke(project, RevokeBy::kSessionId, *id, now));
        } else if (token) {
          TESSERA_RETURN_IF_ERROR(
              d_.sessions.Revoke(project, RevokeBy::kSessionToken, *token, now));
        } else {
          TESSERA_RETURN_IF_ERROR(d_.sessions.Revoke(project, RevokeBy::kSessionJwt, *jwt, now));
        }
        return Body(request_id).Close();
      }
      case Route::kUsersCreate: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        TESSERA_ASSIGN_OR_RETURN(UserFields fields, ParseUserFields(body));
        TESSERA_ASSIGN_OR_RETURN(auto user, d_.users.Create(project, fields, now));
        const User& u = user->user;
        Body b(request_id);
        b.String("email_id", u.emails.empty() ? "" : u.emails[0].email_id);
        b.String("phone_id", u.phone_numbers.empty() ? "" : u.phone_numbers[0].phone_id);
        b.String("status", u.status);
        AppendUserValue(*user, now, b.Key("user"));
        b.String("user_id", u.user_id);
        return b.Close();
      }
      case Route::kUsersGet: {
        TESSERA_ASSIGN_OR_RETURN(auto user, d_.users.Get(project, m.params[0]));
        Body b(request_id);
        std::string& out = b.Key("user");
        // users.get flattens the user into the response (spec §2.9); "user" is not a member, so
        // undo the key just written and append the members instead.
        out.resize(out.size() - std::string_view(",\"user\":").size());
        out.push_back(',');
        AppendUserMembers(user->rendered, user->LockedAt(now), out);
        return b.Close();
      }
      case Route::kUsersUpdate: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        TESSERA_ASSIGN_OR_RETURN(UserFields fields, ParseUserFields(body));
        // Only these members are updatable; email/phone changes have their own routes in Stytch.
        fields.email.reset();
        fields.phone_number.reset();
        TESSERA_ASSIGN_OR_RETURN(auto user, d_.users.Update(project, m.params[0], fields, now));
        Body b(request_id);
        b.Raw("crypto_wallets", "[]");
        AppendEmails(user->user, b.Key("emails"));
        AppendPhones(user->user, b.Key("phone_numbers"));
        AppendUserValue(*user, now, b.Key("user"));
        b.String("user_id", user->user.user_id);
        return b.Close();
      }
      case Route::kUsersDelete: {
        TESSERA_ASSIGN_OR_RETURN(auto user, d_.users.Get(project, m.params[0]));
        TESSERA_RETURN_IF_ERROR(d_.users.Delete(project, user->user.user_id, now));
        Body b(request_id);
        b.String("user_id", user->user.user_id);
        return b.Close();
      }
      case Route::kUsersSearch: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        TESSERA_ASSIGN_OR_RETURN(auto cursor, body.OptString("cursor"));
        TESSERA_ASSIGN_OR_RETURN(auto limit, body.OptInt("limit"));
        if (limit && (*limit < 1 || *limit > 1000)) {
          return Error(ErrorCode::kBadRequest, "limit must be between 1 and 1000.");
        }
        TESSERA_ASSIGN_OR_RETURN(UserQuery query, ParseUserQuery(body));
        TESSERA_ASSIGN_OR_RETURN(UserPage page,
                                 d_.users.Search(project, query, cursor.value_or(""),
                                                 static_cast<int>(limit.value_or(100))));
        Body b(request_id);
        std::string& out = b.Key("results");
        out.push_back('[');
        for (std::size_t i = 0; i < page.users.size(); ++i) {
          if (i > 0) out.push_back(',');
          const bool locked = page.users[i].locked_until && *page.users[i].locked_until > now;
          AppendUser(RenderUser(page.users[i]), locked, out);
        }
        out.push_back(']');
        std::string& meta = b.Key("results_metadata");
        meta += "{\"next_cursor\":";
        if (page.next) {
          AppendJsonString(UserService::EncodeCursor(*page.next), meta);
        } else {
          meta += "null";
        }
        meta += ",\"total\":" + std::to_string(page.total) + "}";
        return b.Close();
      }
      case Route::kPasswordsCreate: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        PasswordCreateRequest pr;
        TESSERA_ASSIGN_OR_RETURN(pr.email, body.String("email"));
        TESSERA_ASSIGN_OR_RETURN(pr.password, body.String("password"));
        TESSERA_ASSIGN_OR_RETURN(pr.session, ParseSessionOptions(body));
        TESSERA_ASSIGN_OR_RETURN(pr.user, ParseUserFields(body));
        TESSERA_ASSIGN_OR_RETURN(pr.attributes, ParseAttributes(body));
        TESSERA_ASSIGN_OR_RETURN(PasswordResult r, d_.passwords.Create(project, pr, now));
        Body b(request_id);
        b.String("email_id", r.email_id);
        AppendLoginMembers(b, *r.user, r.session, now);
        return b.Close();
      }
      case Route::kPasswordsAuthenticate: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        PasswordAuthRequest pr;
        TESSERA_ASSIGN_OR_RETURN(pr.email, body.String("email"));
        TESSERA_ASSIGN_OR_RETURN(pr.password, body.String("password"));
        TESSERA_ASSIGN_OR_RETURN(pr.session, ParseSessionOptions(body));
        TESSERA_ASSIGN_OR_RETURN(pr.session_token, NonEmpty(body, "session_token"));
        TESSERA_ASSIGN_OR_RETURN(pr.session_jwt, NonEmpty(body, "session_jwt"));
        TESSERA_ASSIGN_OR_RETURN(pr.attributes, ParseAttributes(body));
        TESSERA_ASSIGN_OR_RETURN(PasswordResult r, d_.passwords.Authenticate(project, pr, now));
        Body b(request_id);
        AppendLoginMembers(b, *r.user, r.session, now);
        return b.Close();
      }
      case Route::kPasswordsStrengthCheck: {
        TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(req.body));
        TESSERA_ASSIGN_OR_RETURN(std::string password, body.String("password"));
        TESSERA_ASSIGN_OR_RETURN(auto email, body.OptString("email"));
        if (password.size() > kMaxPasswordBytes) {
          return Error(ErrorCode::kBadRequest, "password must be at most 256 bytes.");
        }
        const StrengthResult s = d_.passwords.StrengthCheck(project, password, email.value_or(""));
        Body b(request_id);
        b.Raw("breach_detection_on_create", "false");
        b.Raw("breached_password", "false");
        std::string& fb = b.Key("feedback");
        fb += "{\"luds_requirements\":";
        if (s.luds) {
          const LudsRequirements& l = *s.luds;
          fb += std::string("{\"has_digit\":") + (l.has_digit ? "true" : "false") +
                ",\"has_lower_case\":" + (l.has_lower_case ? "true" : "false") +
                ",\"has_symbol\":" + (l.has_symbol ? "true" : "false") +
                ",\"has_upper_case\":" + (l.has_upper_case ? "true" : "false") +
                ",\"missing_characters\":" + std::to_string(l.missing_characters) +
                ",\"missing_complexity\":" + std::to_string(l.missing_complexity) + "}";
        } else {
          fb += "null";
        }
        fb += ",\"suggestions\":[";
        for (std::size_t i = 0; i < s.suggestions.size(); ++i) {
          if (i > 0) fb.push_back(',');
          AppendJsonString(s.suggestions[i], fb);
        }
        fb += "],\"warning\":";
        AppendJsonString(s.warning, fb);
        fb += "}";
        b.Raw("score", std::to_string(s.score));
        b.String("strength_policy", s.policy == PasswordPolicy::kLuds ? "luds" : "zxcvbn");
        b.Raw("valid_password", s.valid ? "true" : "false");
        return b.Close();
      }
      default:
        return Error(ErrorCode::kRouteNotFound, "No route matches this path.");
    }
  }();
  if (!result.ok()) return ErrorResponse(result.status(), request_id);
  return std::move(result).value();
}

}  // namespace tessera::server
