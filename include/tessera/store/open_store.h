// Opening a store from a database URL, and locating its master key.
#ifndef TESSERA_STORE_OPEN_STORE_H_
#define TESSERA_STORE_OPEN_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/crypto/master_key.h"
#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera {

struct StoreOptions {
  int busy_timeout_ms = 5000;       // SQLite: wait for locks this long. Default: 5 s.
  int read_connections = 4;         // SQLite readers. Default: 4.
  int writer_cache_kib = 0;         // SQLite: see SqliteOptions::writer_cache_kib. Default: 0.
  int pool_size = 8;                // PostgreSQL connections per node. Default: 8.
  int statement_timeout_ms = 5000;  // PostgreSQL statement timeout. Default: 5 s.
  // SQLite: refuse to open a database another exclusive store (another server) has open; see
  // SqliteOptions::exclusive. PostgreSQL stores are shared by design and ignore it. Default: false.
  bool exclusive = false;
  // Problems worth a warning that do not stop the open (SqliteOptions::on_warning). Default: none.
  std::function<void(std::string_view)> on_warning = nullptr;
};

// "sqlite:<path>" (or "sqlite://<path>"), or a libpq URI "postgresql://..." / "postgres://...".
// kInvalidArgument for an unknown scheme.
Result<std::unique_ptr<SessionStore>> OpenStore(std::string_view url,
                                                const StoreOptions& options = {});

// The master key file to use: `flag` if set, else $TESSERA_MASTER_KEY_FILE, else (SQLite only)
// "<database file>.master-key". kInvalidArgument when none applies (PostgreSQL without a file).
Result<std::string> ResolveMasterKeyPath(std::string_view url, std::string_view flag);

// The URL without its password, for messages and logs.
std::string RedactDatabaseUrl(std::string_view url);

// Loads (creating on first use) the master key and checks it against the fingerprint the store
// recorded when it was first used (recording it if absent). kMasterKeyInvalid on a mismatch, with
// a message naming the file.
Result<MasterKey> OpenMasterKey(SessionStore& store, const std::string& path, RandomSource& random);

}  // namespace tessera

#endif  // TESSERA_STORE_OPEN_STORE_H_
