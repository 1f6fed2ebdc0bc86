// `tessera rbac`: set and show a project's roles-and-permissions policy. Neither command needs
// the master key: the policy is not sealed.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "common/time_format.h"
#include "service/project_registry.h"
#include "tessera/clock.h"
#include "tessera/rbac/policy.h"
#include "tools/command_support.h"
#include "tools/commands.h"

namespace tessera::tools {
namespace {

// The whole of `path` ("-": standard input).
Result<std::string> ReadWholeFile(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalidArgument, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `tessera rbac get` output, which `tessera rbac set --file` reads back.
std::string RbacJson(std::string_view project_id, const LoadedRbacPolicy& p) {
  boost::json::object o{{"project_id", project_id}, {"version", p.version}};
  if (p.version > 0) o["updated_at"] = FormatRfc3339(p.updated_at);
  o["policy"] = boost::json::parse(rbac::ToJson(p.policy));
  return boost::json::serialize(o);
}

class RbacCommand final : public Command {
 public:
  explicit RbacCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string project_, file_;
  std::int64_t expect_version_ = -1;  // -1: whatever version is stored now.
  bool json_ = false;
  CLI::App* set_;
  CLI::App* get_;
};

RbacCommand::RbacCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "rbac",
      "Set and show a project's roles-and-permissions policy (docs/rbac.md). A running server "
      "serves a new policy, and enforces it on authorization checks, within about a second.");
  cmd->require_subcommand(1);
  set_ = cmd->add_subcommand(
      "set",
      "Validate the policy in --file (a JSON object with roles, resources and scopes, or what "
      "`rbac get` prints) and make it the project's policy, replacing the previous one.");
  AddStoreFlags(set_, store_, /*uses_master_key=*/false);
  set_->add_option("--project", project_, "Project id")->required();
  set_->add_option("--file", file_, "Policy file; - reads standard input")->required();
  set_->add_option("--expect-version", expect_version_,
                   "Refuse unless the stored policy is at this version (0: none set "
                   "yet), so a concurrent change is not overwritten unseen");
  set_->add_flag("--json", json_, "Print one JSON object");
  get_ = cmd->add_subcommand("get",
                             "Print the project's policy, with its version, as one JSON object.");
  AddStoreFlags(get_, store_, /*uses_master_key=*/false);
  get_->add_option("--project", project_, "Project id")->required();
}

std::optional<int> RbacCommand::RunIfChosen() {
  if (set_->parsed()) {
    auto text = ReadWholeFile(file_);
    if (!text.ok()) return Fail(text.status());
    // Validated before the store is opened: a bad file changes nothing and needs no database.
    auto parsed = rbac::ParsePolicy(*text);
    if (parsed.ok()) parsed = rbac::Normalize(std::move(*parsed));
    if (!parsed.ok()) return Fail(parsed.status());
    auto store = OpenStoreOnly(store_);
    if (!store.ok()) return Fail(store.status());
    std::int64_t expected = expect_version_;
    if (expected < 0) {
      auto project = RequireProject(**store, project_);
      if (!project.ok()) return Fail(project.status());
      auto current = LoadRbacPolicy(**store, project_);
      if (!current.ok()) return Fail(current.status());
      expected = current->version;
    }
    auto stored =
        SetRbacPolicy(**store, project_, std::move(*parsed), expected, SystemClock().Now());
    if (!stored.ok()) return Fail(stored.status());
    if (json_) {
      std::cout << RbacJson(project_, *stored) << "\n";
    } else {
      std::cout << "policy version " << stored->version << " set for " << project_ << "\n";
    }
    return 0;
  }

  if (get_->parsed()) {
    auto store = OpenStoreOnly(store_);
    if (!store.ok()) return Fail(store.status());
    auto project = RequireProject(**store, project_);
    if (!project.ok()) return Fail(project.status());
    auto current = LoadRbacPolicy(**store, project_);
    if (!current.ok()) return Fail(current.status());
    std::cout << RbacJson(project_, *current) << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Command> AddRbacCommand(CLI::App& app) {
  return std::make_unique<RbacCommand>(app);
}

}  // namespace tessera::tools
