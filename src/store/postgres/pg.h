// Thin RAII helpers over libpq, private to the PostgreSQL store: results, connections with lazily
// prepared statements, and a fixed-size pool that reconnects with backoff.
#ifndef TESSERA_STORE_POSTGRES_PG_H_
#define TESSERA_STORE_POSTGRES_PG_H_

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera::pg {

// One query parameter in text form; nullopt is SQL NULL.
using Param = std::optional<std::string>;

inline Param Text(std::string_view v) { return std::string(v); }
inline Param Int(std::int64_t v) { return std::to_string(v); }
inline Param Time(TimePoint t) { return std::to_string(ToUnixSeconds(t)); }
inline Param OptTime(const std::optional<TimePoint>& t) { return t ? Time(*t) : std::nullopt; }
inline Param Bool(bool b) { return std::string(b ? "true" : "false"); }
// bytea in PostgreSQL's hex input format: \x0a1b...
Param Bytea(std::string_view bytes);

class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view Text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  std::int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const { return Text(row, col) == "t"; }
  TimePoint Time(int row, int col) const { return FromUnixSeconds(Int(row, col)); }
  std::optional<TimePoint> OptTime(int row, int col) const {
    return IsNull(row, col) ? std::nullopt : std::optional<TimePoint>(Time(row, col));
  }
  std::optional<std::string> OptText(int row, int col) const {
    return IsNull(row, col) ? std::nullopt
                            : std::optional<std::string>(std::string(Text(row, col)));
  }
  // Decodes a bytea column (hex output format).
  std::string Bytea(int row, int col) const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class Connection {
 public:
  // Connects (at most 5 s unless the URL sets connect_timeout) and sets the session's statement
  // timeout; every later reply is awaited at most statement_timeout + 0.5 s. kStoreUnavailable on
  // failure (the message never includes the password of the URL).
  static Result<std::unique_ptr<Connection>> Connect(const std::string& url,
                                                     int statement_timeout_ms);
  ~Connection();

  // A statement prepared once per connection under `name` (each name always with the same `sql`).
  Result<Rows> Exec(const char* name, const char* sql, const std::vector<Param>& params);
  // A one-off statement (dynamic SQL), parameters still bound, never interpolated.
  Result<Rows> ExecDynamic(const std::string& sql, const std::vector<Param>& params);
  // A statement without parameters or results (BEGIN, COMMIT, SET, LISTEN...).
  Status Simple(const char* sql);

  // False once the connection broke or a reply did not come in time; the pool then replaces it.
  bool healthy() const { return !abandoned_ && PQstatus(conn_) == CONNECTION_OK; }
  PGconn* raw() const { return conn_; }

  // The change-log position the current transaction appended last (PostgresStore::Notify), 0
  // when none: after its commit, the writer waits for the other nodes to apply it.
  std::int64_t change_seq = 0;

 private:
  Connection(PGconn* c, int timeout_ms) : conn_(c), timeout_ms_(timeout_ms) {}
  // Waits for the reply to what `sent` (the result of a PQsend* call) sent, at most the
  // client-side deadline, and returns its last result. The server's statement_timeout cannot
  // help when the server itself is frozen or unreachable, so this deadline is what keeps a
  // request from hanging: past it the connection is abandoned and kStoreUnavailable returned.
  Result<Rows> Await(int sent, std::string_view what);

  PGconn* conn_;
  int timeout_ms_;
  bool abandoned_ = false;
  std::set<std::string, std::less<>> prepared_;  // Statement names prepared on this connection.
};

// Maps a failed result (or a broken connection) to a status: connection trouble and timeouts are
// kStoreUnavailable, serialization failures kStoreConflict, unique violations kStoreConflict with
// the constraint name in the message ("unique:<constraint>"), programming errors kInternal.
Status ErrorFrom(PGconn* conn, PGresult* r, std::string_view what);

class Pool {
 public:
  struct Options {
    std::string url;
    int size = 8;                     // Connections. Default: 8.
    int statement_timeout_ms = 5000;  // Per statement. Default: 5 s.
    int acquire_timeout_ms = 5000;    // Waiting for a free connection. Default: 5 s.
  };

  explicit Pool(Options options);

  // A connection borrowed for the lifetime of the lease.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (pool_ != nullptr && c_ != nullptr) pool_->Return(std::move(c_));
    }
    Connection& operator*() { return *c_; }
    Connection* operator->() { return c_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> c_;
  };

  // A healthy connection: idle, or newly connected. While the database is unreachable, connection
  // attempts back off (100 ms doubling to 5 s) and callers inside a backoff window fail at once
  // with kStoreUnavailable instead of piling up.
  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<Connection> c);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;        // GUARDED_BY(mu_)
  int open_ = 0;                                         // GUARDED_BY(mu_): idle + leased.
  std::chrono::steady_clock::time_point retry_after_{};  // GUARDED_BY(mu_)
  std::chrono::milliseconds backoff_{0};                 // GUARDED_BY(mu_)
};

}  // namespace tessera::pg

#endif  // TESSERA_STORE_POSTGRES_PG_H_
