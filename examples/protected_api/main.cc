// protected_api: a small HTTP service with one route, GET /me, protected by a Tessera session.
//
// It uses the C++ SDK the way an application does, built against the *installed* package
// (find_package(Tessera) -> Tessera::client):
//   - a session JWT (`Authorization: Bearer <jwt>` or the `stytch_session_jwt` cookie) goes to
//     Sessions().AuthenticateJwt, which verifies it locally against the cached JWKS when it can and
//     asks the API otherwise. The SDK follows Tessera's revocation feed, so a JWT of a revoked
//     session is refused locally too, and every JWT goes to the API while the feed cannot vouch
//     for it (--no-revocation-feed turns the feed off: then a revoked session's JWT verifies
//     locally until it expires);
//   - a session token (the `stytch_session` cookie) can only be checked by the API:
//     Sessions().Authenticate.
//
//   protected_api --listen 127.0.0.1:8081 --tessera-url http://127.0.0.1:8080
//                 --project-id project-test-... --secret secret-test-... [--no-revocation-feed]
//
// The HTTP side is Boost.Beast, this example's own dependency (the SDK's headers need no Boost):
// one coroutine per connection, a timeout before every read and write, header and body limits.
// SIGINT and SIGTERM stop it at once; requests still in flight are dropped (`tessera serve`
// itself drains them: see server/http_server.cc).
#include <tessera/client/client.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace tc = tessera::client;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Each read (a whole request) and each write must finish within these; a keep-alive connection
// that sends nothing for kReadTimeout is closed.
constexpr std::chrono::seconds kReadTimeout{15};
constexpr std::chrono::seconds kWriteTimeout{15};
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;  // Cookies make headers grow.
constexpr std::uint64_t kMaxBodyBytes = 4 * 1024;     // GET /me has no body.
// SDK calls block their thread while they wait on the network (the JWKS fetch, the API
// fallback), so a few threads keep one slow call from stalling every connection.
constexpr int kThreads = 4;

// --- Replies -------------------------------------------------------------------------------------

// `s` as a JSON string literal. Beast has no JSON writer, and these lines are all /me needs.
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

struct Reply {
  http::status status;
  std::string body;  // Always JSON.
};

Reply ErrorReply(http::status status, std::string_view type, std::string_view message) {
  return {status, "{\"error_type\":" + JsonString(type) +
                      ",\"error_message\":" + JsonString(message) + "}"};
}

Reply Unauthorized() {
  return ErrorReply(http::status::unauthorized, "session_invalid",
                    "The session is invalid, expired or revoked.");
}

Reply SessionReply(const tc::Session& session, tc::VerifiedBy verified_by) {
  // The SDK promises a JSON object ("{}" when there are none); it came from a verified JWT or
  // from the API, so it goes out as it is.
  const std::string& claims = session.custom_claims_json;
  return {http::status::ok,
          "{\"user_id\":" + JsonString(session.user_id) +
              ",\"session_id\":" + JsonString(session.session_id) +
              ",\"custom_claims\":" + (claims.empty() ? "{}" : claims) + ",\"verified_by\":" +
              JsonString(verified_by == tc::VerifiedBy::kLocal ? "local" : "api") + "}"};
}

// The one place an SDK failure becomes an HTTP status. A credential the server rejected is the
// caller's problem (401: retrying will not help); a server that could not be asked is not (503:
// retrying may), and neither are project credentials the server refused (500: the operator must
// fix the configuration). The last two are logged, since nobody else will see them.
Reply FailureReply(const tc::Error& e) {
  switch (e.kind) {
    case tc::ErrorKind::kJwtInvalid:
    case tc::ErrorKind::kJwtTooOld:
    case tc::ErrorKind::kSessionRevoked:
    case tc::ErrorKind::kInvalidArgument:
      return Unauthorized();
    case tc::ErrorKind::kApi:
      if (e.status_code >= 500 || e.status_code == 429) break;
      if (e.error_type == "unauthorized_credentials" || e.error_type == "project_not_found" ||
          e.error_type == "invalid_authorization_header") {
        std::cerr << "protected_api: Tessera refused this service's project credentials ("
                  << e.error_type << "): check --project-id and --secret\n";
        return ErrorReply(http::status::internal_server_error, "misconfigured",
                          "This service cannot check sessions: its configuration is wrong.");
      }
      return Unauthorized();
    case tc::ErrorKind::kTransport:
    case tc::ErrorKind::kTimeout:
    case tc::ErrorKind::kProtocol:
    case tc::ErrorKind::kResponseTooLarge:
    case tc::ErrorKind::kJwksUnavailable:
    // Only local verification answers these (the last two only for an authorization check, which
    // this service does not ask), and AuthenticateJwt asks the API instead; were one to reach
    // here, whether the session stands is unknown, not refused.
    case tc::ErrorKind::kFeedStale:
    case tc::ErrorKind::kPermissionDenied:
    case tc::ErrorKind::kPolicyUnavailable:
      break;
  }
  std::cerr << "protected_api: cannot check a session (" << e.error_type << "): " << e.error_message
            << "\n";
  return ErrorReply(http::status::service_unavailable, "session_check_unavailable",
                    "Sessions cannot be checked right now; try again.");
}

// --- Credentials ---------------------------------------------------------------------------------

// What the request presented. A JWT can be verified locally; a token only by the API.
struct Credential {
  enum class Kind { kJwt, kToken };
  Kind kind;
  std::string value;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of cookie `name` in any of the request's Cookie headers ("a=1; b=2"), if present and
// not empty. A value in double quotes is unquoted (RFC 6265 allows both forms).
std::optional<std::string_view> CookieValue(const Request& req, std::string_view name) {
  const auto [first, last] = req.equal_range(http::field::cookie);
  for (auto field = first; field != last; ++field) {
    std::string_view header(field->value().data(), field->value().size());
    while (!header.empty()) {
      const std::size_t semicolon = header.find(';');
      const std::string_view pair = header.substr(0, semicolon);
      header = semicolon == std::string_view::npos ? "" : header.substr(semicolon + 1);
      const std::size_t equals = pair.find('=');
      if (equals == std::string_view::npos || Trim(pair.substr(0, equals)) != name) continue;
      std::string_view value = Trim(pair.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (!value.empty()) return value;
    }
  }
  return std::nullopt;
}

// The first credential found, cheapest to check first: a bearer JWT, the JWT cookie, then the
// token cookie (one API call per request). Only the first is tried: a bad JWT next to a good token
// is still a 401, so a client never gets a different answer from a stale cookie.
std::optional<Credential> FindCredential(const Request& req) {
  const auto authorization = req[http::field::authorization];
  const std::string_view auth(authorization.data(), authorization.size());
  constexpr std::string_view kBearer = "bearer ";
  if (auth.size() > kBearer.size() && beast::iequals(auth.substr(0, kBearer.size()), kBearer)) {
    const std::string_view jwt = Trim(auth.substr(kBearer.size()));
    if (!jwt.empty()) return Credential{Credential::Kind::kJwt, std::string(jwt)};
  }
  if (const auto jwt = CookieValue(req, "stytch_session_jwt")) {
    return Credential{Credential::Kind::kJwt, std::string(*jwt)};
  }
  if (const auto token = CookieValue(req, "stytch_session")) {
    return Credential{Credential::Kind::kToken, std::string(*token)};
  }
  return std::nullopt;
}

// --- Routes --------------------------------------------------------------------------------------

Reply Me(tc::Client& client, const Request& req) {
  const std::optional<Credential> credential = FindCredential(req);
  if (!credential) {
    return ErrorReply(http::status::unauthorized, "session_missing",
                      "Send a session JWT (Authorization: Bearer, or the stytch_session_jwt "
                      "cookie) or a session token (the stytch_session cookie).");
  }
  if (credential->kind == Credential::Kind::kJwt) {
    const auto result = client.Sessions().AuthenticateJwt(credential->value);
    if (!result.ok()) return FailureReply(result.error());
    return SessionReply(*result->session, result->verified_by);
  }
  tc::AuthenticateRequest request;
  request.session_token = credential->value;
  const auto result = client.Sessions().Authenticate(request);
  if (!result.ok()) return FailureReply(result.error());
  return SessionReply(result->session, tc::VerifiedBy::kApi);
}

Reply Route(tc::Client& client, const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  if (target.substr(0, target.find('?')) != "/me") {
    return ErrorReply(http::status::not_found, "not_found", "The only route is GET /me.");
  }
  if (req.method() != http::verb::get) {
    return ErrorReply(http::status::method_not_allowed, "method_not_allowed",
                      "/me accepts GET only.");
  }
  return Me(client, req);
}

// --- HTTP ----------------------------------------------------------------------------------------

// Sends `reply`; false when the connection must close (write failed, or !keep_alive).
asio::awaitable<bool> Send(beast::tcp_stream& stream, const Reply& reply, unsigned version,
                           bool keep_alive) {
  http::response<http::string_body> res{reply.status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  if (reply.status == http::status::method_not_allowed) res.set(http::field::allow, "GET");
  res.keep_alive(keep_alive);
  res.body() = reply.body;
  res.prepare_payload();
  stream.expires_after(kWriteTimeout);
  const auto [ec, written] = co_await http::async_write(stream, res, kTuple);
  co_return !ec && keep_alive;
}

asio::awaitable<void> Serve(beast::tcp_stream stream, tc::Client& client) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    stream.expires_after(kReadTimeout);
    const auto [ec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec == http::error::header_limit) {
      co_await Send(stream,
                    ErrorReply(http::status::request_header_fields_too_large, "headers_too_large",
                               "The request headers are too large."),
                    11, false);
    }
    // Closed, timed out, too large or not HTTP: nothing more can be read reliably.
    if (ec) break;
    const Request& req = parser.get();
    if (!co_await Send(stream, Route(client, req), req.version(), req.keep_alive())) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Runs on the acceptor's strand until the acceptor is closed.
asio::awaitable<void> Listen(asio::io_context& ioc, tcp::acceptor& acceptor, tc::Client& client) {
  for (;;) {
    // Each connection gets its own strand: its coroutine may resume on any of the threads.
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: back off briefly instead of spinning.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    beast::tcp_stream stream(std::move(socket));
    const auto executor = stream.get_executor();
    asio::co_spawn(executor, Serve(std::move(stream), client), asio::detached);
  }
}

// --- Command line --------------------------------------------------------------------------------

constexpr std::string_view kUsage =
    "usage: protected_api --listen HOST:PORT --tessera-url URL --project-id ID --secret SECRET\n"
    "                     [--no-revocation-feed]\n"
    "  --listen       address to serve on; port 0 picks a free one (the bound address is\n"
    "                 printed on stderr as `listening on HOST:PORT`)\n"
    "  --tessera-url  the Tessera server, e.g. http://127.0.0.1:8080\n"
    "  --project-id   the project whose sessions are accepted\n"
    "  --secret       that project's secret\n"
    "  --no-revocation-feed\n"
    "                 do not follow Tessera's revocation feed: a revoked session's JWT then\n"
    "                 keeps verifying locally until it expires (up to 5 minutes)\n";

struct Options {
  std::string host;
  unsigned short port = 0;
  tc::ClientOptions client;
};

// The options, or nullopt after printing why they are wrong.
std::optional<Options> ParseArgs(int argc, char** argv) {
  Options options;
  std::string listen;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--no-revocation-feed") {
      options.client.revocation_feed = false;
      continue;
    }
    std::string* target = flag == "--listen"        ? &listen
                          : flag == "--tessera-url" ? &options.client.base_url
                          : flag == "--project-id"  ? &options.client.project_id
                          : flag == "--secret"      ? &options.client.secret
                                                    : nullptr;
    if (target == nullptr || i + 1 == argc) {
      std::cerr << (target == nullptr ? "unknown option: " : "missing value for ") << flag << "\n"
                << kUsage;
      return std::nullopt;
    }
    *target = argv[++i];
  }
  const std::size_t colon = listen.rfind(':');
  bool port_ok = false;
  if (colon != std::string::npos && colon > 0) {
    const char* first = listen.data() + colon + 1;
    const char* last = listen.data() + listen.size();
    const auto [end, ec] = std::from_chars(first, last, options.port);
    port_ok = ec == std::errc() && end == last;
  }
  if (!port_ok) {
    std::cerr << "--listen must be HOST:PORT, got \"" << listen << "\"\n" << kUsage;
    return std::nullopt;
  }
  options.host = listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[' && options.host.back() == ']') {
    options.host = options.host.substr(1, options.host.size() - 2);  // [::1]:8080
  }
  // The SDK checks the rest (Client::Create names the missing or bad option).
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = ParseArgs(argc, argv);
  if (!options) return 2;
  auto client = tc::Client::Create(std::move(options->client));
  if (!client.ok()) {
    std::cerr << "protected_api: " << client.error().error_message << "\n" << kUsage;
    return 2;
  }

  asio::io_context ioc(kThreads);
  // The acceptor and the signal handler share a strand, so closing one from the other is safe.
  const auto strand = asio::make_strand(ioc);
  tcp::acceptor acceptor(strand);
  beast::error_code ec;
  const auto address = asio::ip::make_address(options->host, ec);
  const tcp::endpoint endpoint(address, options->port);
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "protected_api: cannot listen on " << options->host << ":" << options->port << ": "
              << ec.message() << "\n";
    return 1;
  }
  const tcp::endpoint bound = acceptor.local_endpoint();
  std::cerr << "listening on " << bound.address().to_string() << ":" << bound.port() << std::endl;

  asio::signal_set signals(strand, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code& error, int) {
    if (error) return;
    beast::error_code ignored;
    acceptor.close(ignored);
    ioc.stop();
  });
  asio::co_spawn(strand, Listen(ioc, acceptor, **client), asio::detached);

  std::vector<std::thread> threads;
  for (int i = 1; i < kThreads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& thread : threads) thread.join();
  // Destroying `ioc` (before `client`, declared first) frees the connections still open.
  return 0;
}
