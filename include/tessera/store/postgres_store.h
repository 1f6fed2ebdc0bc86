// The PostgreSQL store: several Tessera nodes share one database.
//
// libpq with prepared statements, a fixed-size connection pool that reconnects with backoff,
// a statement timeout on every connection, schema migrations under an advisory lock (so nodes
// may start together), and LISTEN/NOTIFY to tell every node about changes (StoreChange).
// Durability is PostgreSQL's: a commit returns after the WAL is flushed (synchronous_commit on).
#ifndef TESSERA_STORE_POSTGRES_STORE_H_
#define TESSERA_STORE_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera {

struct PostgresOptions {
  std::string url;                  // A libpq URI: postgresql://user@host:port/db?options.
  int pool_size = 8;                // Connections per node. Default: 8.
  int statement_timeout_ms = 5000;  // Per statement. Default: 5 s.
  int acquire_timeout_ms = 5000;    // Wait for a free pooled connection. Default: 5 s.
};

// Connects, migrates and returns the store. kStoreUnavailable when the database cannot be reached,
// kStoreCorrupt when its schema is newer than this binary.
Result<std::unique_ptr<SessionStore>> OpenPostgresStore(const PostgresOptions& options);

}  // namespace tessera

#endif  // TESSERA_STORE_POSTGRES_STORE_H_
