// The embedded SQLite store: one database file, WAL mode, versioned migrations.
//
// Durability: every write transaction commits with `synchronous=FULL`, so the WAL is fsynced before
// the commit returns. In WAL mode `synchronous=NORMAL` survives a process crash (kill -9) but may
// lose the last transactions on a power cut; since an acknowledged session or revocation must
// survive both, FULL is the setting (docs/storage.md).
#ifndef TESSERA_STORE_SQLITE_STORE_H_
#define TESSERA_STORE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera {

struct SqliteOptions {
  // Database file; created (mode 0600, with its schema) when missing. Its -wal and -shm files
  // get the same mode.
  std::string path;
  int busy_timeout_ms = 5000;  // Wait this long for a lock before kStoreUnavailable. Default: 5 s.
  int read_connections = 4;    // Readers run in parallel with the single writer. Default: 4.
  // Page cache of the writer connection in KiB; 0 keeps SQLite's own (2 MiB). A bulk import
  // (`tessera users import`) sets a larger one: its inserts land on random pages of the user
  // indexes, and each page the cache misses is a read. Default: 0.
  int writer_cache_kib = 0;
  // Hold an exclusive lock on "<path>.lock" while the store is open, and fail with kStoreInUse
  // when another store holds it. A server sets it, because its caches assume that no other
  // server writes the file (nothing tells one SQLite server about another's revocations); the
  // CLI leaves it unset and runs beside a server. Default: false.
  bool exclusive = false;
  // Told, once per open, about what does not stop the store from opening but should be fixed:
  // database, -wal or -shm files that group or others may access (they hold password hashes and
  // personal data). Existing files are reported, never chmod-ed: their mode may be deliberate
  // (a backup group), and the fix is the operator's. Default: none (not reported).
  std::function<void(std::string_view)> on_warning = nullptr;
};

// Opens (creating if needed) and migrates the database at options.path. Fails with
// kStoreUnavailable when the file cannot be created or opened, kStoreInUse when
// `options.exclusive` and another exclusive store has it open, and kStoreCorrupt when it is not a
// Tessera database or was written by a newer Tessera (its schema version is unknown).
Result<std::unique_ptr<SessionStore>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace tessera

#endif  // TESSERA_STORE_SQLITE_STORE_H_
