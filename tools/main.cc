// The `tessera` command: the server and its administrative subcommands, one group per file
// (tools/commands.h).
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "tools/commands.h"

int main(int argc, char** argv) {
  using namespace tessera::tools;
  CLI::App app{
      "Tessera: a self-hosted session service with a Stytch-compatible API.\n"
      "Start with `tessera projects create --json`, then `tessera serve`."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tessera 0.1.0");

  // Registered in the order `tessera --help` lists them.
  const std::unique_ptr<Command> commands[] = {
      AddServeCommand(app),        AddProjectsCommand(app), AddSecretsCommand(app),
      AddSdkOriginsCommand(app),   AddKeysCommand(app),     AddUsersCommand(app),
      AddRedirectUrlsCommand(app), AddRbacCommand(app),
  };

  CLI11_PARSE(app, argc, argv);

  for (const auto& command : commands) {
    if (std::optional<int> status = command->RunIfChosen()) return *status;
  }
  return 0;
}
