#include "store/postgres/pg.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

namespace tessera::pg {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// libpq's messages may quote the connection string; keep only the first line and never the URL.
std::string CleanMessage(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  if (const auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

}  // namespace

Param Bytea(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "\\x";
  s.reserve(2 + bytes.size() * 2);
  for (const unsigned char c : bytes) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

std::int64_t Rows::Int(int row, int col) const {
  const std::string_view t = Text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::string Rows::Bytea(int row, int col) const {
  const std::string_view t = Text(row, col);
  std::string out;
  if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return out;
  out.reserve((t.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < t.size(); i += 2) {
    out.push_back(static_cast<char>(HexValue(t[i]) * 16 + HexValue(t[i + 1])));
  }
  return out;
}

Status ErrorFrom(PGconn* conn, PGresult* r, std::string_view what) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  std::string msg(what);
  msg += ": ";
  msg += CleanMessage(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || sqlstate.empty() ||
      sqlstate.starts_with("08") || sqlstate.starts_with("57") || sqlstate.starts_with("53")) {
    // Connection lost, server shutting down, statement timeout (57014), out of resources.
    return Error(ErrorCode::kStoreUnavailable, msg);
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return Error(ErrorCode::kStoreConflict, msg);
  }
  if (sqlstate == "23505") {
    const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    return Error(ErrorCode::kStoreConflict,
                 std::string("unique:") + (constraint != nullptr ? constraint : ""));
  }
  if (sqlstate.starts_with("XX")) return Error(ErrorCode::kStoreCorrupt, msg);
  return Error(ErrorCode::kInternal, msg);
}

Result<std::unique_ptr<Connection>> Connection::Connect(const std::string& url,
                                                        int statement_timeout_ms) {
  // libpq waits forever for a TCP connection unless told otherwise.
  std::string with_timeout = url;
  if (url.find("connect_timeout") == std::string::npos) {
    with_timeout +=
        url.find('?') == std::string::npos ? "?connect_timeout=5" : "&connect_timeout=5";
  }
  PGconn* c = PQconnectdb(with_timeout.c_str());
  if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
    std::string msg = "cannot connect to PostgreSQL: " +
                      CleanMessage(c != nullptr ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    return Error(ErrorCode::kStoreUnavailable, msg);
  }
  // NOTICEs (e.g. "relation already exists, skipping") are expected; keep them off stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  std::unique_ptr<Connection> conn(new Connection(c, statement_timeout_ms + 500));
  const std::string set = "SET statement_timeout = " + std::to_string(statement_timeout_ms);
  TESSERA_RETURN_IF_ERROR(conn->Simple(set.c_str()));
  // Timestamps are stored as integers; nothing depends on the session time zone, but make it
  // deterministic anyway.
  TESSERA_RETURN_IF_ERROR(conn->Simple("SET TIME ZONE 'UTC'"));
  return conn;
}

Connection::~Connection() { PQfinish(conn_); }

Result<Rows> Connection::Await(int sent, std::string_view what) {
  if (abandoned_) return Error(ErrorCode::kStoreUnavailable, "the connection was abandoned");
  if (sent != 1) return ErrorFrom(conn_, nullptr, what);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  // The request may still sit in libpq's output buffer; push it out, then wait for the reply.
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed < 0) return ErrorFrom(conn_, nullptr, what);
    if (flushed == 0) break;
    pollfd pfd{PQsocket(conn_), POLLOUT, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
      abandoned_ = true;
      return Error(ErrorCode::kStoreUnavailable, std::string(what) + ": PostgreSQL did not answer");
    }
  }
  while (PQisBusy(conn_) != 0) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int ready = left.count() > 0 ? ::poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready == 0) {
      // No reply in time: the server or the path to it is frozen. A cancel request would need
      // the same server, so the connection is given up; the pool opens a new one.
      abandoned_ = true;
      return Error(ErrorCode::kStoreUnavailable, std::string(what) +
                                                     ": PostgreSQL did not answer within " +
                                                     std::to_string(timeout_ms_) + " ms");
    }
    if (ready < 0 && errno != EINTR) return ErrorFrom(conn_, nullptr, what);
    if (PQconsumeInput(conn_) == 0) return ErrorFrom(conn_, nullptr, what);
  }
  // Collect every result (a multi-statement string yields several); the last one decides, any
  // error wins.
  PGresult* last = nullptr;
  Status error;
  while (PGresult* r = PQgetResult(conn_)) {
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && error.ok()) {
      error = ErrorFrom(conn_, r, what);
    }
    if (last != nullptr) PQclear(last);
    last = r;
  }
  if (!error.ok()) {
    if (last != nullptr) PQclear(last);
    return error;
  }
  if (last == nullptr) return ErrorFrom(conn_, nullptr, what);
  return Rows(last);
}

Result<Rows> Connection::Exec(const char* name, const char* sql, const std::vector<Param>& params) {
  if (prepared_.find(std::string_view(name)) == prepared_.end()) {
    auto prepared =
        Await(PQsendPrepare(conn_, name, sql, static_cast<int>(params.size()), nullptr), "prepare");
    if (!prepared.ok()) return prepared.status();
    prepared_.emplace(name);
  }
  std::vector<const char*> values(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
  }
  return Await(PQsendQueryPrepared(conn_, name, static_cast<int>(params.size()), values.data(),
                                   nullptr, nullptr, 0),
               name);
}

Result<Rows> Connection::ExecDynamic(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
  }
  return Await(PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                 values.data(), nullptr, nullptr, 0),
               "query");
}

Status Connection::Simple(const char* sql) { return Await(PQsendQuery(conn_, sql), sql).status(); }

Pool::Pool(Options options) : options_(std::move(options)) {}

Result<Pool::Lease> Pool::Acquire() {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.acquire_timeout_ms);
  std::unique_lock lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      if (c->healthy()) return Lease(this, std::move(c));
      --open_;  // Broken while idle: drop it and open a fresh one below.
    }
    if (open_ < options_.size) {
      if (Clock::now() < retry_after_) {
        return Error(ErrorCode::kStoreUnavailable,
                     "PostgreSQL is unreachable; retrying with backoff");
      }
      ++open_;
      lock.unlock();
      auto c = Connection::Connect(options_.url, options_.statement_timeout_ms);
      lock.lock();
      if (c.ok()) {
        backoff_ = std::chrono::milliseconds(0);
        retry_after_ = {};
        return Lease(this, std::move(*c));
      }
      --open_;
      backoff_ = backoff_.count() == 0 ? std::chrono::milliseconds(100)
                                       : std::min(backoff_ * 2, std::chrono::milliseconds(5000));
      retry_after_ = Clock::now() + backoff_;
      cv_.notify_all();
      return c.status();
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return Error(ErrorCode::kStoreUnavailable,
                   "no PostgreSQL connection free within the timeout");
    }
  }
}

void Pool::Return(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (c->healthy()) {
    // A connection returned mid-transaction (an error path that could not roll back) would leak
    // the transaction into the next lease: drop it instead.
    if (PQtransactionStatus(c->raw()) == PQTRANS_IDLE) {
      idle_.push_back(std::move(c));
      cv_.notify_one();
      return;
    }
  }
  --open_;
  cv_.notify_one();
}

}  // namespace tessera::pg
