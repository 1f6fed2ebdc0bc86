// The HTTP/1.1 server: Boost.Beast over Asio, C++20 coroutines, one I/O thread per core, a
// worker pool for blocking work and a hashing pool for the routes that hash a password. This is
// the only code that speaks HTTP.
//
// Shape follows Beast's advanced server: a listener plus one coroutine per connection; a timeout
// before every read and write; header and body limits; a connection limit; two-phase shutdown
// (stop accepting and finish in-flight requests, then force after the drain timeout).
#ifndef TESSERA_SERVER_HTTP_SERVER_H_
#define TESSERA_SERVER_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "server/access_log.h"
#include "server/api.h"
#include "server/metrics.h"
#include "tessera/result.h"

namespace tessera::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 picks a free port (see Bind's result).
  int io_threads = 0;         // 0: one per core. Default: 0.
  int workers = 4;            // Threads for store writes, reads and searches. Default: 4.
  // Password hashes (Argon2id) that may run at once; 0: one per core. Routes that hash run on a
  // pool of their own with twice as many threads (the hashes themselves are capped by the
  // hasher's limiter, which Serve sizes from this), apart from the workers. Default: 0.
  int hash_concurrency = 0;
  std::size_t max_connections = 10000;  // Further connections are closed at once. Default: 10000.
  std::size_t max_header_bytes = 8 * 1024;  // Default: 8 KiB (431 above).
  std::size_t max_body_bytes = 64 * 1024;   // Default: 64 KiB (413 above).
  // Backlog of each pool (workers, hashing) before 429. Default: 1024.
  std::size_t max_queued_blocking = 1024;
  Seconds read_timeout{10};   // To receive a whole request once it has started. Default: 10 s.
  Seconds idle_timeout{60};   // Keep-alive wait for the next request. Default: 60 s.
  Seconds write_timeout{10};  // To send a response. Default: 10 s.
  Seconds drain_timeout{9};   // SIGTERM: in-flight requests get this long. Default: 9 s.
};

// Checks every option once, with a message naming the bad one.
Status ValidateHttpServerOptions(const HttpServerOptions& options);

class HttpServer {
 public:
  // `api`, `metrics` and `log` must outlive the server.
  HttpServer(HttpServerOptions options, Api& api, Metrics& metrics, AccessLog& log);
  ~HttpServer();

  // Binds and listens. Returns "host:port" as bound. kInvalidArgument / kStoreUnavailable-free
  // failures are reported as kInvalidArgument with the OS's reason.
  Result<std::string> Bind();

  // Serves until Shutdown() has drained everything; returns then. Handles SIGTERM and SIGINT by
  // calling Shutdown().
  void Run();

  // Stops accepting (new connections are refused), lets in-flight requests finish and closes idle
  // connections; forces the rest closed after drain_timeout. Thread-safe, idempotent.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::server

#endif  // TESSERA_SERVER_HTTP_SERVER_H_
