#include "tools/command_support.h"
// ^ This file's own header: first, so it must compile alone.

#include <cstdio>
#include <string_view>
#include <utility>

#include "tessera/random.h"

namespace tessera::tools {
namespace {

StoreOptions SubcommandStoreOptions() {
  StoreOptions options;  // Not exclusive: subcommands run beside a server.
  options.on_warning = [](std::string_view warning) {
    std::fprintf(stderr, "tessera: warning: %.*s\n", static_cast<int>(warning.size()),
                 warning.data());
  };
  return options;
}

}  // namespace

void AddStoreFlags(CLI::App* cmd, StoreFlags& f, bool uses_master_key) {
  cmd->add_option("--database", f.database,
                  "Database URL: sqlite:<file> (created if missing) or a libpq URI "
                  "postgresql://user@host:port/db")
      ->envname("TESSERA_DATABASE")
      ->capture_default_str();
  cmd->add_option("--master-key-file", f.master_key_file,
                  uses_master_key
                      ? "File holding the master key that seals private keys and session tokens; "
                        "created (mode 0600) on first use. Default for SQLite: "
                        "<database>.master-key; required for PostgreSQL"
                      : "Accepted and ignored: this command reads and writes nothing sealed")
      ->envname("TESSERA_MASTER_KEY_FILE");
}

Result<Project> RequireProject(SessionStore& store, std::string_view project_id) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<Project> project, store.GetProject(project_id));
  if (!project) return Error(ErrorCode::kProjectNotFound, "no such project");
  return std::move(*project);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "tessera: %s\n",
               s.message().empty() ? s.ToString().c_str() : s.message().c_str());
  return 1;
}

Result<OpenedStore> OpenStoreAndKey(const StoreFlags& f, int writer_cache_kib) {
  OpenedStore o;
  StoreOptions options = SubcommandStoreOptions();
  options.writer_cache_kib = writer_cache_kib;
  TESSERA_ASSIGN_OR_RETURN(o.store, OpenStore(f.database, options));
  TESSERA_ASSIGN_OR_RETURN(std::string path, ResolveMasterKeyPath(f.database, f.master_key_file));
  TESSERA_ASSIGN_OR_RETURN(MasterKey key, OpenMasterKey(*o.store, path, SystemRandom()));
  o.key.emplace(std::move(key));
  return o;
}

Result<std::unique_ptr<SessionStore>> OpenStoreOnly(const StoreFlags& f) {
  return OpenStore(f.database, SubcommandStoreOptions());
}

}  // namespace tessera::tools
