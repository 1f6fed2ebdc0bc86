// The `tessera` command's subcommands, one group per file: each Add...Command registers a
// top-level subcommand (its flags bound to the returned object) on the app, and main() runs the
// one the command line chose once CLI11 has parsed it.
#ifndef TESSERA_TOOLS_COMMANDS_H_
#define TESSERA_TOOLS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace tessera::tools {

// A top-level subcommand and, where it has them, its subcommands. Its flags are bound to the
// object, so it must outlive the parse: create it before CLI11 parses, run it after.
class Command {
 public:
  virtual ~Command() = default;

  // When the command line chose this command (or one of its subcommands): does the work and
  // returns the exit status. Otherwise nullopt, having done nothing.
  virtual std::optional<int> RunIfChosen() = 0;
};

// The order of the calls is the order of `tessera --help`.
std::unique_ptr<Command> AddServeCommand(CLI::App& app);         // serve_command.cc
std::unique_ptr<Command> AddProjectsCommand(CLI::App& app);      // project_commands.cc
std::unique_ptr<Command> AddSecretsCommand(CLI::App& app);       // project_commands.cc
std::unique_ptr<Command> AddSdkOriginsCommand(CLI::App& app);    // sdk_origin_commands.cc
std::unique_ptr<Command> AddKeysCommand(CLI::App& app);          // project_commands.cc
std::unique_ptr<Command> AddUsersCommand(CLI::App& app);         // users_command.cc
std::unique_ptr<Command> AddRedirectUrlsCommand(CLI::App& app);  // redirect_url_commands.cc
std::unique_ptr<Command> AddRbacCommand(CLI::App& app);          // rbac_commands.cc

}  // namespace tessera::tools

#endif  // TESSERA_TOOLS_COMMANDS_H_
