// What the `tessera` subcommands share: the database flags, opening the store (with or without
// the master key), and reporting a failure.
#ifndef TESSERA_TOOLS_COMMAND_SUPPORT_H_
#define TESSERA_TOOLS_COMMAND_SUPPORT_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "tessera/result.h"
#include "tessera/store/open_store.h"
#include "tessera/store/store.h"

namespace tessera::tools {

// --database and --master-key-file, as every subcommand that opens the store takes them.
struct StoreFlags {
  std::string database = "sqlite:./tessera.db";
  std::string master_key_file;
};

// Adds --database and --master-key-file to `cmd`, bound to `f`. A subcommand that opens the store
// alone (OpenStoreOnly) passes uses_master_key = false: it still accepts the key file, so that
// scripts can pass the same store flags to every command, and its help says the file is ignored.
void AddStoreFlags(CLI::App* cmd, StoreFlags& f, bool uses_master_key = true);

// Prints "tessera: <message>" on standard error and returns the exit status 1.
int Fail(const Status& s);

struct OpenedStore {
  std::unique_ptr<SessionStore> store;
  std::optional<MasterKey> key;  // Always set on success.
};

// The store and its master key (created on first use), for subcommands that seal or unseal.
// Not exclusive: subcommands run beside a server. `writer_cache_kib` 0: the store's default.
Result<OpenedStore> OpenStoreAndKey(const StoreFlags& f, int writer_cache_kib = 0);

// The store alone, for subcommands that touch nothing sealed (no master key needed).
Result<std::unique_ptr<SessionStore>> OpenStoreOnly(const StoreFlags& f);

// The project `project_id`; kProjectNotFound ("no such project") when there is none.
Result<Project> RequireProject(SessionStore& store, std::string_view project_id);

}  // namespace tessera::tools

#endif  // TESSERA_TOOLS_COMMAND_SUPPORT_H_
