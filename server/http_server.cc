#include "server/http_server.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/thread_role.h"
#include "server/error_mapping.h"

namespace tessera::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Status ValidateHttpServerOptions(const HttpServerOptions& o) {
  const auto bad = [](std::string what) { return Error(ErrorCode::kInvalidArgument, what); };
  if (o.io_threads < 0 || o.io_threads > 256) return bad("--threads must be between 0 and 256");
  if (o.workers < 1 || o.workers > 256) return bad("--workers must be between 1 and 256");
  if (o.hash_concurrency < 0 || o.hash_concurrency > 256) {
    return bad("--hash-concurrency must be between 0 and 256");
  }
  if (o.max_connections < 1) return bad("--max-connections must be at least 1");
  if (o.max_header_bytes < 1024 || o.max_header_bytes > 1024 * 1024) {
    return bad("--max-header-bytes must be between 1 KiB and 1 MiB");
  }
  if (o.max_body_bytes < 4096 || o.max_body_bytes > 16 * 1024 * 1024) {
    return bad("--max-body-bytes must be between 4 KiB and 16 MiB");
  }
  if (o.read_timeout.count() < 1 || o.idle_timeout.count() < 1 || o.write_timeout.count() < 1) {
    return bad("timeouts must be at least 1 second");
  }
  if (o.drain_timeout.count() < 0 || o.drain_timeout.count() > 600) {
    return bad("--drain-timeout must be between 0 and 600 seconds");
  }
  return Status::Ok();
}

namespace {

Method ToMethod(http::verb v) {
  switch (v) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::head:
      return Method::kHead;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

struct Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // Between a request's first byte read and its response sent.
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Api& api, Metrics& metrics, AccessLog& log)
      : options_(std::move(options)),
        api_(api),
        metrics_(metrics),
        log_(log),
        contexts_(MakeContexts(IoThreads())),
        main_(contexts_[0]->get_executor()),
        acceptor_(main_),
        workers_(static_cast<std::size_t>(options_.workers)),
        hashers_(static_cast<std::size_t>(2 * HashConcurrency())),
        signals_(main_, SIGINT, SIGTERM),
        drain_timer_(main_) {
    // Each context is run by exactly one thread, so nothing it runs needs a strand; the guards
    // keep idle contexts running until the drain ends.
    for (auto& c : contexts_) guards_.emplace_back(c->get_executor());
    metrics_.AddGauge("tessera_open_streams",
                      "Responses produced over time (revocation feed streams and long polls) "
                      "in progress.",
                      [this] { return static_cast<double>(open_streams_.load()); });
  }

  // One io_context per I/O thread (concurrency hint 1): a connection lives on one thread, and
  // the threads share no reactor, timer queue or strand lock.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < n; ++i) v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }

  int IoThreads() const {  // NOLINT: used during construction.
    if (options_.io_threads > 0) return options_.io_threads;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  // The hashing pool has twice as many threads as hashes may run at once: the hasher's limiter
  // (service/hash_limiter.h) caps the hashes, and the other threads do the route's store reads
  // and writes meanwhile, so a core never idles while a sign-in waits for the database.
  int HashConcurrency() const {  // NOLINT: used during construction.
    if (options_.hash_concurrency > 0) return options_.hash_concurrency;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  Result<std::string> Bind() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(options_.host, ec);
    if (ec)
      return Error(ErrorCode::kInvalidArgument, "--listen: not an IP address: " + options_.host);
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(ErrorCode::kInvalidArgument, "cannot listen on " + options_.host + ":" +
                                                    std::to_string(options_.port) + ": " +
                                                    ec.message());
    }
    const tcp::endpoint bound = acceptor_.local_endpoint();
    return bound.address().to_string() + ":" + std::to_string(bound.port());
  }

  void Run() {
    signals_.async_wait([this](const beast::error_code& ec, int) {
      if (!ec) Shutdown();
    });
    asio::co_spawn(main_, Listen(), asio::detached);
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < contexts_.size(); ++i) {
      threads.emplace_back([this, i] {
        const ScopedThreadRole io(ThreadRole::kIo);
        contexts_[i]->run();
      });
    }
    {
      const ScopedThreadRole io(ThreadRole::kIo);
      contexts_[0]->run();
    }
    for (auto& t : threads) t.join();
    workers_.join();
    hashers_.join();
  }

  void Shutdown() {
    if (draining_.exchange(true)) return;
    LogEvent("info", "draining: no new connections; finishing in-flight requests");
    // Phase 1: refuse new connections, close idle ones; busy ones close after their response.
    asio::post(main_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    CloseIdle();
    // The signal set and the timer are touched only on the main context's thread.
    asio::post(main_, [this] {
      beast::error_code ignored;
      signals_.cancel(ignored);
      // Phase 2: whatever is still open when the drain timeout passes is cut.
      drain_timer_.expires_after(options_.drain_timeout);
      drain_timer_.async_wait([this](const beast::error_code& ec) {
        if (ec) return;  // Cancelled: everything drained in time.
        LogEvent("warn", "drain timeout: closing the remaining connections");
        std::lock_guard lock(conns_mu_);
        for (auto& [id, conn] : conns_) {
          asio::post(conn->stream.get_executor(), [conn] {
            beast::error_code ignored2;
            conn->stream.socket().close(ignored2);
          });
        }
        for (auto& c : contexts_) c->stop();
      });
      drain_armed_ = true;
      bool empty;
      {
        std::lock_guard lock(conns_mu_);
        empty = conns_.empty();
      }
      if (empty) FinishDrain();
    });
  }

 private:
  void CloseIdle() {
    std::lock_guard lock(conns_mu_);
    for (auto& [id, conn] : conns_) {
      asio::post(conn->stream.get_executor(), [conn] {
        if (!conn->busy.load()) conn->stream.cancel();
      });
    }
  }

  void MaybeFinishDrain() {
    if (!draining_.load()) return;
    asio::post(main_, [this] {
      if (!drain_armed_) return;  // Shutdown's own post re-checks once it has armed the timer.
      bool empty;
      {
        std::lock_guard lock(conns_mu_);
        empty = conns_.empty();
      }
      if (empty) FinishDrain();
    });
  }

  // Everything drained: nothing keeps the contexts running any more, so Run() returns.
  void FinishDrain() {
    drain_timer_.cancel();
    for (auto& g : guards_) g.reset();
  }

  asio::awaitable<void> Listen() {
    for (;;) {
      // Connections are dealt to the contexts in turn.
      asio::io_context& target = *contexts_[next_context_++ % contexts_.size()];
      auto [ec, socket] = co_await acceptor_.async_accept(target, kTuple);
      if (draining_.load() || ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // EMFILE and friends: back off briefly instead of spinning.
        asio::steady_timer pause(main_, std::chrono::milliseconds(50));
        co_await pause.async_wait(kTuple);
        continue;
      }
      std::shared_ptr<Connection> conn;
      std::uint64_t id = 0;
      {
        std::lock_guard lock(conns_mu_);
        if (conns_.size() >= options_.max_connections) {
          metrics_.ConnectionRejected();
          beast::error_code ignored;
          socket.close(ignored);
          continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        id = next_id_++;
        conn = std::make_shared<Connection>(std::move(socket));
        conns_.emplace(id, conn);
      }
      metrics_.ConnectionOpened();
      asio::co_spawn(conn->stream.get_executor(), Serve(conn, id), asio::detached);
    }
  }

  // Sends `res` for a request of `version`; false when the connection should close.
  template <typename Body>
  asio::awaitable<bool> Send(Connection& conn, http::response<Body>& res) {
    conn.stream.expires_after(options_.write_timeout);
    auto [ec, n] = co_await http::async_write(conn.stream, res, kTuple);
    co_return !ec;
  }

  // A response for a request that could not be read in full (limits, malformed HTTP).
  asio::awaitable<void> Reject(Connection& conn, const Status& status, unsigned version,
                               std::string_view remote) {
    const ApiResponse r = ErrorResponse(status, api_.NewRequestId(""));
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::content_type, r.content_type);
    res.keep_alive(false);
    res.body() = r.body;
    res.prepare_payload();
    co_await Send(conn, res);
    const RouteId unmatched = api_.router().unmatched();
    metrics_.RecordRequest(unmatched, r.status, r.error_type, 0);
    log_.Write({r.request_id, "-", api_.router().Label(unmatched), r.status, r.error_type, 0, 0,
                r.body.size(), remote});
  }

  // The first byte of a request has arrived: the connection is busy, and from now the whole
  // request (headers and body) must arrive within the read timeout. One deadline for both, so a
  // client cannot trickle headers for the idle timeout.
  void StartRequest(Connection& conn,
                    std::optional<std::chrono::steady_clock::time_point>& deadline) {
    conn.busy.store(true);
    deadline = std::chrono::steady_clock::now() + options_.read_timeout;
  }

  // Feeds `parser` until its header (or, with `whole`, the whole message) is complete. What
  // `buffer` already holds is parsed first and the socket is read only when more is needed, so a
  // request that arrived in one segment costs one read and no other suspension. Before the
  // request's first byte the wait is the idle timeout (the read timeout on a new connection);
  // from that byte on, `deadline`. Errors are Beast's: end_of_stream when the peer closed
  // between requests, partial_message when it closed in the middle of one.
  asio::awaitable<beast::error_code> ReadInto(
      Connection& conn, beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
      bool whole, bool first, std::optional<std::chrono::steady_clock::time_point>& deadline) {
    constexpr std::size_t kReadSize = 16 * 1024;
    const auto complete = [&] { return whole ? parser.is_done() : parser.is_header_done(); };
    for (;;) {
      // Checked first: the buffer may already hold the next pipelined request, which is not
      // this parser's to read.
      if (complete()) co_return beast::error_code{};
      if (buffer.size() > 0) {
        beast::error_code ec;
        const std::size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec && ec != http::error::need_more) co_return ec;
        if (!ec && used > 0) continue;
      }
      if (deadline) {
        conn.stream.expires_at(*deadline);
      } else {
        conn.stream.expires_after(first ? options_.read_timeout : options_.idle_timeout);
      }
      auto [ec, n] = co_await conn.stream.async_read_some(buffer.prepare(kReadSize), kTuple);
      if (ec == asio::error::eof) {
        co_return parser.got_some() ? beast::error_code(http::error::partial_message)
                                    : beast::error_code(http::error::end_of_stream);
      }
      if (ec) co_return ec;
      buffer.commit(n);
      if (!deadline) StartRequest(conn, deadline);
    }
  }

  // Writes a response produced over time (ApiResponse::stream) until it completes, the client
  // goes away or the server drains. Returns the body bytes written. A HEAD request gets the
  // headers only; an HTTP/1.0 one the frames as they are, the end marked by closing.
  asio::awaitable<std::size_t> SendStream(Connection& conn, ApiResponse& response, unsigned version,
                                          bool head_only) {
    // Wake-ups come from other threads: they post a cancel of the wait to this connection's
    // thread. `pending` covers a wake that lands while no wait is in progress.
    struct Waker {
      explicit Waker(asio::any_io_executor ex) : timer(ex) {}
      asio::steady_timer timer;
      std::atomic<bool> pending{false};
    };
    // Waits end at least this often, so a drain is noticed even when nothing wakes the stream.
    constexpr auto kMaxWait = std::chrono::milliseconds(200);
    ResponseStream& stream = *response.stream;
    const auto executor = conn.stream.get_executor();
    auto waker = std::make_shared<Waker>(executor);
    stream.SetWake([weak = std::weak_ptr<Waker>(waker), executor] {
      const auto w = weak.lock();
      if (!w || w->pending.exchange(true)) return;
      asio::post(executor, [weak] {
        if (const auto again = weak.lock()) again->timer.cancel();
      });
    });
    const auto wait = [&]() -> asio::awaitable<void> {
      if (waker->pending.exchange(false)) co_return;
      waker->timer.expires_at(
          std::min(stream.NextPoll(), std::chrono::steady_clock::now() + kMaxWait));
      co_await waker->timer.async_wait(kTuple);
      waker->pending.store(false);
    };
    const auto poll = [&](std::string& out) {
      const bool ending = draining_.load();
      return stream.Poll(std::chrono::steady_clock::now(), ending, out) || ending;
    };
    std::size_t written = 0;
    std::string out;
    if (head_only) {
      http::response<http::empty_body> head{http::status::ok, version};
      head.set(http::field::content_type, response.content_type);
      head.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : response.headers) head.set(k, v);
      head.keep_alive(false);
      co_await Send(conn, head);
      co_return written;
    }
    if (!stream.incremental()) {
      // A long poll: one ordinary response once the stream completes (at once when draining).
      while (!poll(out)) co_await wait();
      http::response<http::string_body> res{http::status::ok, version};
      res.set(http::field::content_type, response.content_type);
      res.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : response.headers) res.set(k, v);
      res.keep_alive(false);
      written = out.size();
      res.body() = std::move(out);
      res.prepare_payload();
      co_await Send(conn, res);
      co_return written;
    }
    // HTTP/1.0 knows no chunked encoding: the frames go as they are, and closing ends them.
    const bool chunked = version >= 11;
    http::response<http::empty_body> head{http::status::ok, version};
    head.set(http::field::content_type, response.content_type);
    head.set(http::field::cache_control, "no-store");
    head.set("X-Accel-Buffering", "no");  // Proxies must pass frames on at once.
    for (const auto& [k, v] : response.headers) head.set(k, v);
    head.keep_alive(false);
    head.chunked(chunked);
    http::response_serializer<http::empty_body> serializer{head};
    conn.stream.expires_after(options_.write_timeout);
    if (auto [ec, n] = co_await http::async_write_header(conn.stream, serializer, kTuple); ec) {
      co_return written;
    }
    for (;;) {
      out.clear();
      const bool done = poll(out);
      if (!out.empty()) {
        conn.stream.expires_after(options_.write_timeout);
        auto [ec, n] = chunked ? co_await asio::async_write(
                                     conn.stream, http::make_chunk(asio::buffer(out)), kTuple)
                               : co_await asio::async_write(conn.stream, asio::buffer(out), kTuple);
        if (ec) co_return written;  // The client went away.
        written += out.size();
      }
      if (done) break;
      co_await wait();
    }
    if (chunked) {
      conn.stream.expires_after(options_.write_timeout);
      co_await asio::async_write(conn.stream, http::make_chunk_last(), kTuple);
    }
    co_return written;
  }

  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn, std::uint64_t id) {
    beast::error_code ec;
    const tcp::endpoint remote_ep = conn->stream.socket().remote_endpoint(ec);
    const std::string remote = ec ? "" : remote_ep.address().to_string();
    beast::flat_buffer buffer;
    bool first = true;
    while (!draining_.load()) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      conn->busy.store(false);
      std::optional<std::chrono::steady_clock::time_point> deadline;
      if (buffer.size() > 0) StartRequest(*conn, deadline);  // Pipelined: already begun.
      const beast::error_code hec =
          co_await ReadInto(*conn, buffer, parser, /*whole=*/false, first, deadline);
      if (hec) {
        if (hec == http::error::header_limit) {
          co_await Reject(*conn,
                          Error(ErrorCode::kHeadersTooLarge,
                                "The request headers are larger than this server accepts."),
                          11, remote);
        } else if (hec == http::error::body_limit) {
          // Beast checks Content-Length against the body limit while reading the header, so an
          // announced oversized body ends here (before any 100 Continue is owed).
          co_await Reject(*conn,
                          Error(ErrorCode::kBodyTooLarge,
                                "The request body is larger than this server accepts."),
                          11, remote);
        } else if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
                   hec != asio::error::operation_aborted && hec != asio::error::connection_reset &&
                   hec != asio::error::eof && buffer.size() > 0) {
          co_await Reject(*conn,
                          Error(ErrorCode::kBadRequest, "The request is not valid HTTP/1.1."), 11,
                          remote);
        }
        break;
      }
      const unsigned version = parser.get().version();
      if (parser.get()[http::field::expect] == "100-continue") {
        if (parser.content_length() && *parser.content_length() > options_.max_body_bytes) {
          co_await Reject(*conn,
                          Error(ErrorCode::kBodyTooLarge,
                                "The request body is larger than this server accepts."),
                          version, remote);
          break;
        }
        http::response<http::empty_body> cont{http::status::continue_, version};
        if (!co_await Send(*conn, cont)) break;
      }
      parser.eager(true);
      const beast::error_code bec =
          co_await ReadInto(*conn, buffer, parser, /*whole=*/true, first, deadline);
      if (bec) {
        if (bec == http::error::body_limit) {
          co_await Reject(*conn,
                          Error(ErrorCode::kBodyTooLarge,
                                "The request body is larger than this server accepts."),
                          version, remote);
        } else if (bec != beast::error::timeout && bec != asio::error::operation_aborted &&
                   bec != http::error::end_of_stream && bec != asio::error::eof) {
          co_await Reject(*conn,
                          Error(ErrorCode::kBadRequest, "The request is not valid HTTP/1.1."),
                          version, remote);
        }
        break;
      }
      const auto started = std::chrono::steady_clock::now();
      http::request<http::string_body>& req = parser.get();
      const std::string_view target(req.target().data(), req.target().size());
      const std::size_t q = target.find('?');
      ApiRequest areq;
      areq.method = ToMethod(req.method());
      areq.path = target.substr(0, q);
      areq.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
      const auto auth = req[http::field::authorization];
      areq.authorization = std::string_view(auth.data(), auth.size());
      const auto host = req[http::field::host];
      areq.host = std::string_view(host.data(), host.size());
      const auto ua = req[http::field::user_agent];
      areq.user_agent = std::string_view(ua.data(), ua.size());
      const auto last_event_id = req["Last-Event-ID"];
      areq.last_event_id = std::string_view(last_event_id.data(), last_event_id.size());
      areq.remote_ip = remote;
      areq.body = req.body();
      const auto origin = req[http::field::origin];
      areq.origin = std::string_view(origin.data(), origin.size());
      const auto parent_host = req["X-SDK-Parent-Host"];
      areq.sdk_parent_host = std::string_view(parent_host.data(), parent_host.size());

      const RouteMatch match = api_.Resolve(areq);
      const Pool pool = api_.StartPool(match);
      std::optional<ApiResponse> response;
      if (pool == Pool::kIo) response = api_.Handle(areq, match, /*on_worker=*/false);
      if (!response) {
        // Routes that hash have their own pool and backlog: a storm of sign-ins neither fills the
        // worker pool's backlog nor makes its store writes wait behind the hashes.
        const bool hashing = pool == Pool::kHashers;
        std::atomic<std::size_t>& queued = hashing ? queued_hashing_ : queued_blocking_;
        if (queued.fetch_add(1) >= options_.max_queued_blocking) {
          response =
              ErrorResponse(Error(ErrorCode::kTooManyRequests, "Too many requests have been made."),
                            api_.NewRequestId(""));
        } else {
          const ThreadRole role = hashing ? ThreadRole::kHashing : ThreadRole::kWorker;
          const auto handle = [&]() -> asio::awaitable<std::optional<ApiResponse>> {
            const ScopedThreadRole tag(role);
            co_return api_.Handle(areq, match, /*on_worker=*/true);
          };
          if (hashing) {
            response = co_await asio::co_spawn(hashers_, handle, asio::use_awaitable);
          } else {
            response = co_await asio::co_spawn(workers_, handle, asio::use_awaitable);
          }
        }
        queued.fetch_sub(1);
      }
      if (response->stream) {
        // A response produced over time ends the connection afterwards: a client that followed
        // a stream reconnects for its next request. Its latency is the time to start it, not
        // its lifetime, which would swamp the route's histogram.
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        open_streams_.fetch_add(1);
        const std::size_t body_size =
            co_await SendStream(*conn, *response, version, req.method() == http::verb::head);
        open_streams_.fetch_sub(1);
        metrics_.RecordRequest(match.id, response->status, response->error_type, seconds);
        log_.Write({response->request_id, req.method_string(), api_.router().Label(match.id),
                    response->status, response->error_type, seconds, areq.body.size(), body_size,
                    remote});
        break;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

      http::response<http::string_body> res{static_cast<http::status>(response->status), version};
      res.set(http::field::content_type, response->content_type);
      res.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : response->headers) res.set(k, v);
      const bool keep_alive = req.keep_alive() && !draining_.load();
      res.keep_alive(keep_alive);
      const std::size_t body_size = response->body.size();
      res.body() = std::move(response->body);
      res.prepare_payload();
      if (req.method() == http::verb::head) res.body().clear();
      const bool sent = co_await Send(*conn, res);
      metrics_.RecordRequest(match.id, response->status, response->error_type, seconds);
      log_.Write({response->request_id, req.method_string(), api_.router().Label(match.id),
                  response->status, response->error_type, seconds, areq.body.size(), body_size,
                  remote});
      if (!sent || !keep_alive) break;
      first = false;
    }
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->stream.socket().close(ec);
    {
      std::lock_guard lock(conns_mu_);
      conns_.erase(id);
    }
    metrics_.ConnectionClosed();
    MaybeFinishDrain();
  }

  HttpServerOptions options_;
  Api& api_;
  Metrics& metrics_;
  AccessLog& log_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  asio::io_context::executor_type main_;  // contexts_[0]: listener, signals, drain timer.
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  asio::thread_pool hashers_;       // Blocking::kHashes routes.
  asio::signal_set signals_;        // Used on main_ only.
  asio::steady_timer drain_timer_;  // Used on main_ only.
  bool drain_armed_ = false;        // Used on main_ only.
  std::size_t next_context_ = 0;    // Used by the listener only.
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> queued_blocking_{0};  // On or waiting for workers_.
  std::atomic<std::size_t> queued_hashing_{0};   // On or waiting for hashers_.
  std::atomic<std::int64_t> open_streams_{0};    // Responses produced over time, in progress.
  std::mutex conns_mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> conns_;  // GUARDED_BY(conns_mu_)
  std::uint64_t next_id_ = 1;                                             // GUARDED_BY(conns_mu_)
};

HttpServer::HttpServer(HttpServerOptions options, Api& api, Metrics& metrics, AccessLog& log)
    : impl_(std::make_unique<Impl>(std::move(options), api, metrics, log)) {}
HttpServer::~HttpServer() = default;
Result<std::string> HttpServer::Bind() { return impl_->Bind(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }

}  // namespace tessera::server
