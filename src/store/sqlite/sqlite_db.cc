#include "store/sqlite/sqlite_db.h"

namespace tessera::sqlite {

Status ErrorFrom(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xFF;
  std::string msg(what);
  msg += ": ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (primary) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return Error(ErrorCode::kStoreCorrupt, msg);
    case SQLITE_CONSTRAINT:
      return Error(ErrorCode::kStoreConflict, msg);
    default:
      // BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY...: the database is not usable right now.
      return Error(ErrorCode::kStoreUnavailable, msg);
  }
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorFrom(db_, rc, "SQLite step");
}

Status Statement::Run() {
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int busy_timeout_ms,
                                                     bool read_only) {
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = ErrorFrom(db, rc, "cannot open SQLite database " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<Connection> c(new Connection(db));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  return c;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Result<Statement> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return ErrorFrom(db_, rc, "SQLite prepare");
    it = cache_.emplace(sql, stmt).first;
  }
  return Statement(db_, it->second);
}

Result<std::shared_ptr<sqlite3_stmt>> Connection::PrepareOnce(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorFrom(db_, rc, "SQLite prepare");
  return std::shared_ptr<sqlite3_stmt>(stmt, sqlite3_finalize);
}

Status Connection::Exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return ErrorFrom(db_, rc, "SQLite exec");
  return Status::Ok();
}

}  // namespace tessera::sqlite
