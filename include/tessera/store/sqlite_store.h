// The embedded SQLite store: one database file, WAL mode, versioned migrations.
//
// Durability: every write transaction commits with `synchronous=FULL`, so the WAL is fsynced before
// the commit returns. In WAL mode `synchronous=NORMAL` survives a process crash (kill -9) but may
// lose the last transactions on a power cut; since an acknowledged session or revocation must
// survive both, FULL is the setting (docs/storage.md).
#ifndef TESSERA_STORE_SQLITE_STORE_H_
#define TESSERA_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera {

struct SqliteOptions {
  std::string path;            // Database file; created (with its schema) when missing.
  int busy_timeout_ms = 5000;  // Wait this long for a lock before kStoreUnavailable. Default: 5 s.
  int read_connections = 4;    // Readers run in parallel with the single writer. Default: 4.
};

// Opens (creating if needed) and migrates the database at options.path. Fails with
// kStoreUnavailable when the file cannot be opened, and kStoreCorrupt when it is not a Tessera
// database or was written by a newer Tessera (its schema version is unknown).
Result<std::unique_ptr<SessionStore>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace tessera

#endif  // TESSERA_STORE_SQLITE_STORE_H_
