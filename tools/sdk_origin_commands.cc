// `tessera sdk-origins`: the web origins allowed to use a project's frontend SDK API.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "common/time_format.h"
#include "service/sdk_origins.h"
#include "tessera/clock.h"
#include "tools/command_support.h"
#include "tools/commands.h"

namespace tessera::tools {
namespace {

class SdkOriginsCommand final : public Command {
 public:
  explicit SdkOriginsCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string project_, origin_;
  bool json_ = false;
  CLI::App* add_;
  CLI::App* list_;
  CLI::App* remove_;
};

SdkOriginsCommand::SdkOriginsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "sdk-origins",
      "Add, list and remove the web origins allowed to use a project's frontend SDK API "
      "(/sdk/v1) with its public token. A page on any other origin is refused. A running server "
      "applies a change within about a second.");
  cmd->require_subcommand(1);
  add_ = cmd->add_subcommand(
      "add", "Allow an origin: scheme://host[:port], e.g. https://app.example.com.");
  AddStoreFlags(add_, store_);
  add_->add_option("--project", project_, "Project id")->required();
  add_->add_option("--origin", origin_, "The origin, as the browser sends it")->required();
  list_ = cmd->add_subcommand("list", "List the allowed origins.");
  AddStoreFlags(list_, store_);
  list_->add_option("--project", project_, "Project id")->required();
  list_->add_flag("--json", json_, "Print one JSON object");
  remove_ = cmd->add_subcommand("remove", "Stop allowing an origin.");
  AddStoreFlags(remove_, store_);
  remove_->add_option("--project", project_, "Project id")->required();
  remove_->add_option("--origin", origin_, "The origin")->required();
}

std::optional<int> SdkOriginsCommand::RunIfChosen() {
  if (add_->parsed()) {
    auto normalized = NormalizeSdkOrigin(origin_);
    if (!normalized.ok()) return Fail(normalized.status());
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    const SdkOrigin record{*normalized, std::chrono::floor<Seconds>(SystemClock().Now())};
    if (Status s = opened->store->AddSdkOrigin(project_, record); !s.ok()) return Fail(s);
    std::cout << "allowed " << *normalized << "\n";
    return 0;
  }

  if (list_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto project = RequireProject(*opened->store, project_);
    if (!project.ok()) return Fail(project.status());
    auto origins = opened->store->ListSdkOrigins(project_);
    if (!origins.ok()) return Fail(origins.status());
    boost::json::array arr;
    for (const SdkOrigin& o : *origins) {
      if (json_) {
        arr.push_back(
            boost::json::object{{"origin", o.origin}, {"created_at", FormatRfc3339(o.created_at)}});
      } else {
        std::cout << o.origin << "  " << FormatRfc3339(o.created_at) << "\n";
      }
    }
    if (json_) {
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", project_},
                                           {"public_token", project->public_token},
                                           {"origins", arr}})
                << "\n";
    }
    return 0;
  }

  if (remove_->parsed()) {
    // Normalized as `add` stored it; a value that is not an origin is removed as given, so a
    // stored row can always be named.
    auto normalized = NormalizeSdkOrigin(origin_);
    const std::string stored = normalized.ok() ? *normalized : origin_;
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s = opened->store->RemoveSdkOrigin(project_, stored); !s.ok()) {
      return Fail(s);
    }
    std::cout << "removed " << stored << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Command> AddSdkOriginsCommand(CLI::App& app) {
  return std::make_unique<SdkOriginsCommand>(app);
}

}  // namespace tessera::tools
