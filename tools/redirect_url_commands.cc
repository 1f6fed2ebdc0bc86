// `tessera redirect-urls`: where emailed links may point, per project and type.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "common/time_format.h"
#include "service/email/email_sign_in.h"
#include "tessera/clock.h"
#include "tools/command_support.h"
#include "tools/commands.h"

namespace tessera::tools {
namespace {

class RedirectUrlsCommand final : public Command {
 public:
  explicit RedirectUrlsCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string project_, type_, url_;
  bool default_ = false, json_ = false;
  CLI::App* add_;
  CLI::App* list_;
  CLI::App* remove_;
};

RedirectUrlsCommand::RedirectUrlsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "redirect-urls",
      "Manage where emailed links may point, per project and type (login, signup, invite, "
      "reset_password). A request naming a URL not listed for its type is refused; without a "
      "URL, the type's default is used.");
  cmd->require_subcommand(1);
  const auto types = CLI::IsMember({"login", "signup", "invite", "reset_password"});
  add_ = cmd->add_subcommand("add", "Allow a URL for a type (again: only updates --default).");
  AddStoreFlags(add_, store_);
  add_->add_option("--project", project_, "Project id")->required();
  add_->add_option("--type", type_, "login, signup, invite or reset_password")
      ->required()
      ->check(types);
  add_->add_option("--url", url_, "The URL, matched exactly")->required();
  add_->add_flag("--default", default_, "Use it when a request names no URL of this type");
  list_ = cmd->add_subcommand("list", "List the project's URLs.");
  AddStoreFlags(list_, store_);
  list_->add_option("--project", project_, "Project id")->required();
  list_->add_flag("--json", json_, "Print one JSON object");
  remove_ = cmd->add_subcommand("remove", "Remove a URL of a type.");
  AddStoreFlags(remove_, store_);
  remove_->add_option("--project", project_, "Project id")->required();
  remove_->add_option("--type", type_, "login, signup, invite or reset_password")
      ->required()
      ->check(types);
  remove_->add_option("--url", url_, "The URL")->required();
}

std::optional<int> RedirectUrlsCommand::RunIfChosen() {
  if (add_->parsed()) {
    if (!IsValidRedirectUrl(url_)) {
      return Fail(Error(ErrorCode::kInvalidArgument,
                        "--url must be an absolute URL (scheme:..., printable ASCII, no spaces)"));
    }
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    const RedirectUrl url{project_, *RedirectUrlTypeFromName(type_), url_, default_,
                          SystemClock().Now()};
    if (Status s = opened->store->AddRedirectUrl(url); !s.ok()) return Fail(s);
    std::cout << "added " << type_ << " " << url_ << (default_ ? " (default)" : "") << "\n";
    return 0;
  }

  if (list_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto project = RequireProject(*opened->store, project_);
    if (!project.ok()) return Fail(project.status());
    auto urls = opened->store->ListRedirectUrls(project_);
    if (!urls.ok()) return Fail(urls.status());
    boost::json::array arr;
    for (const RedirectUrl& u : *urls) {
      if (json_) {
        arr.push_back(boost::json::object{{"type", RedirectUrlTypeName(u.type)},
                                          {"url", u.url},
                                          {"default", u.is_default},
                                          {"created_at", FormatRfc3339(u.created_at)}});
      } else {
        std::cout << RedirectUrlTypeName(u.type) << "  " << u.url
                  << (u.is_default ? "  (default)" : "") << "\n";
      }
    }
    if (json_) {
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", project_}, {"redirect_urls", arr}})
                << "\n";
    }
    return 0;
  }

  if (remove_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s =
            opened->store->RemoveRedirectUrl(project_, *RedirectUrlTypeFromName(type_), url_);
        !s.ok()) {
      return Fail(s);
    }
    std::cout << "removed " << type_ << " " << url_ << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Command> AddRedirectUrlsCommand(CLI::App& app) {
  return std::make_unique<RedirectUrlsCommand>(app);
}

}  // namespace tessera::tools
