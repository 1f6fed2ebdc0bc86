// Thin RAII helpers over the SQLite C API, private to the SQLite store.
#ifndef TESSERA_STORE_SQLITE_SQLITE_DB_H_
#define TESSERA_STORE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera::sqlite {

// Maps a SQLite result code to a Tessera status: busy/locked and I/O failures are
// kStoreUnavailable, corruption is kStoreCorrupt.
Status ErrorFrom(sqlite3* db, int rc, std::string_view what);

// A prepared statement borrowed from a connection's cache; reset and unbound when it goes out of
// scope, so the next user starts clean.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, TimePoint t) { return Bind(i, ToUnixSeconds(t)); }
  Statement& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Statement& Bind(int i, const std::optional<std::string>& v) {
    return v ? Bind(i, std::string_view(*v)) : BindNull(i);
  }
  Statement& Bind(int i, const std::optional<TimePoint>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // Steps once. Result: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Status Run();

  std::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  std::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  TimePoint Time(int col) const { return FromUnixSeconds(Int(col)); }
  std::optional<TimePoint> OptTime(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<TimePoint>(Time(col));
  }
  std::optional<std::string> OptText(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<std::string>(std::string(Text(col)));
  }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One connection, used by one thread at a time (callers hold `mu`). Prepared statements are
// cached by the address of their SQL text, which must therefore be a string literal or otherwise
// outlive the connection; dynamic SQL uses PrepareOnce.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms,
                                                  bool read_only);
  ~Connection();

  Result<Statement> Prepare(const char* sql);
  // For SQL built at run time: a statement finalized when the returned handle dies.
  Result<std::shared_ptr<sqlite3_stmt>> PrepareOnce(const std::string& sql);
  Status Exec(const char* sql);
  sqlite3* db() const { return db_; }

  std::mutex mu;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c) {}
  ~Transaction() {
    if (open_) c_.Exec("ROLLBACK").IgnoreError();
  }
  Status Begin() {
    TESSERA_RETURN_IF_ERROR(c_.Exec("BEGIN IMMEDIATE"));
    open_ = true;
    return Status::Ok();
  }
  // A read transaction: every statement until Commit sees one snapshot.
  Status BeginRead() {
    TESSERA_RETURN_IF_ERROR(c_.Exec("BEGIN"));
    open_ = true;
    return Status::Ok();
  }
  Status Commit() {
    TESSERA_RETURN_IF_ERROR(c_.Exec("COMMIT"));
    open_ = false;
    return Status::Ok();
  }

 private:
  Connection& c_;
  bool open_ = false;
};

}  // namespace tessera::sqlite

#endif  // TESSERA_STORE_SQLITE_SQLITE_DB_H_
