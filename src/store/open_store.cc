#include "tessera/store/open_store.h"

#include <cstdlib>

#include "tessera/store/postgres_store.h"
#include "tessera/store/sqlite_store.h"

namespace tessera {
namespace {

constexpr std::string_view kFingerprintKey = "master_key_fingerprint";

std::optional<std::string> SqlitePath(std::string_view url) {
  for (std::string_view prefix : {"sqlite://", "sqlite:"}) {
    if (url.starts_with(prefix)) {
      url.remove_prefix(prefix.size());
      if (url.empty()) return std::nullopt;
      return std::string(url);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<SessionStore>> OpenStore(std::string_view url, const StoreOptions& options) {
  if (auto path = SqlitePath(url)) {
    SqliteOptions o;
    o.path = *path;
    o.busy_timeout_ms = options.busy_timeout_ms;
    o.read_connections = options.read_connections;
    o.writer_cache_kib = options.writer_cache_kib;
    o.exclusive = options.exclusive;
    o.on_warning = options.on_warning;
    return OpenSqliteStore(o);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    PostgresOptions o;
    o.url = std::string(url);
    o.pool_size = options.pool_size;
    o.statement_timeout_ms = options.statement_timeout_ms;
    o.acquire_timeout_ms = options.busy_timeout_ms;
    return OpenPostgresStore(o);
  }
  return Error(ErrorCode::kInvalidArgument,
               "--database must be sqlite:<file> or postgresql://... (got \"" +
                   RedactDatabaseUrl(url) + "\")");
}

std::string RedactDatabaseUrl(std::string_view url) {
  // scheme://user:password@host... -> scheme://user:***@host...
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t at = url.find('@', scheme + 3);
  const std::size_t colon = url.find(':', scheme + 3);
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at) {
    return std::string(url);
  }
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

Result<std::string> ResolveMasterKeyPath(std::string_view url, std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (const char* env = std::getenv("TESSERA_MASTER_KEY_FILE"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (auto path = SqlitePath(url)) return *path + ".master-key";
  return Error(ErrorCode::kInvalidArgument,
               "this database has no file to keep the master key beside: pass --master-key-file "
               "or set TESSERA_MASTER_KEY_FILE");
}

Result<MasterKey> OpenMasterKey(SessionStore& store, const std::string& path,
                                RandomSource& random) {
  TESSERA_ASSIGN_OR_RETURN(MasterKey key, MasterKey::LoadOrCreate(path, random));
  const std::string fingerprint = key.Fingerprint();
  TESSERA_ASSIGN_OR_RETURN(std::string stored, store.PutMetaIfAbsent(kFingerprintKey, fingerprint));
  if (stored != fingerprint) {
    return Error(ErrorCode::kMasterKeyInvalid,
                 "the master key in " + path +
                     " does not open this database's keys (the database was set up with another "
                     "master key; restore that key file, see docs/key_rotation.md)");
  }
  return key;
}

}  // namespace tessera
