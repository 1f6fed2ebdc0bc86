// `tessera projects`, `tessera secrets` and `tessera keys`: a project, its API secrets and its
// signing keys.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "service/project_registry.h"
#include "tessera/clock.h"
#include "tessera/random.h"
#include "tessera/token/key_ring.h"
#include "tools/command_support.h"
#include "tools/commands.h"

namespace tessera::tools {
namespace {

boost::json::object KeyJson(const KeyRecord& r, const KeyRing& ring, TimePoint now) {
  boost::json::object o;
  o["kid"] = r.kid;
  o["project_id"] = r.project_id;
  o["alg"] = AlgorithmName(r.alg);
  o["state"] = KeyStateName(r.state);
  o["published"] = ring.IsPublished(r, now);
  o["created_at"] = FormatRfc3339(r.created_at);
  o["activated_at"] = r.activated_at ? boost::json::value(FormatRfc3339(*r.activated_at)) : nullptr;
  o["retired_at"] = r.retired_at ? boost::json::value(FormatRfc3339(*r.retired_at)) : nullptr;
  return o;
}

class ProjectsCommand final : public Command {
 public:
  explicit ProjectsCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string name_ = "Tessera project";
  bool live_ = false, json_ = false, enumeration_protection_ = false;
  std::string policy_ = "zxcvbn", jwt_alg_ = "RS256";
  ProjectSettings settings_;
  CLI::App* create_;
  CLI::App* list_;
};

ProjectsCommand::ProjectsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("projects", "Create and list projects.");
  cmd->require_subcommand(1);
  create_ = cmd->add_subcommand(
      "create", "Create a project with its first signing keys; prints its id and secret once.");
  AddStoreFlags(create_, store_);
  create_->add_option("--name", name_, "Display name")->capture_default_str();
  create_->add_flag("--live", live_, "A live project (project-live-…) instead of a test one");
  create_->add_flag("--json", json_, "Print one JSON object");
  create_->add_option("--password-policy", policy_, "zxcvbn or luds")
      ->check(CLI::IsMember({"zxcvbn", "luds"}))
      ->capture_default_str();
  create_->add_option("--luds-min-length", settings_.luds_min_length, "LUDS minimum length")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  create_
      ->add_option("--luds-min-complexity", settings_.luds_min_complexity,
                   "LUDS character classes required (1-4)")
      ->check(CLI::Range(1, 4))
      ->capture_default_str();
  create_->add_flag("--enumeration-protection", enumeration_protection_,
                    "Answer an unknown email on passwords/authenticate exactly like a wrong "
                    "password (same work, same error) instead of email_not_found");
  create_
      ->add_option("--lock-threshold", settings_.lock_threshold,
                   "Failed password attempts before a user is locked")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  create_
      ->add_option("--jwt-algorithm", jwt_alg_,
                   "RS256 (the only one the Stytch SDKs verify locally), ES256 or EdDSA")
      ->check(CLI::IsMember({"RS256", "ES256", "EdDSA"}))
      ->capture_default_str();

  list_ = cmd->add_subcommand("list", "List projects (never their secrets).");
  AddStoreFlags(list_, store_);
  list_->add_flag("--json", json_, "Print one JSON object");
}

std::optional<int> ProjectsCommand::RunIfChosen() {
  if (create_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    settings_.password_policy = policy_ == "luds" ? PasswordPolicy::kLuds : PasswordPolicy::kZxcvbn;
    settings_.enumeration_protection = enumeration_protection_;
    settings_.jwt_algorithm = *AlgorithmFromName(jwt_alg_);
    auto created = CreateProject(*opened->store, *opened->key, SystemRandom(), SystemClock().Now(),
                                 name_, live_, settings_);
    if (!created.ok()) return Fail(created.status());
    const std::string& first_secret_id = created->project.secrets.front().secret_id;
    if (json_) {
      boost::json::object o{{"project_id", created->project.project_id},
                            {"secret", created->secret},
                            {"secret_id", first_secret_id},
                            {"public_token", created->project.public_token},
                            {"name", created->project.name},
                            {"live", created->project.live}};
      std::cout << boost::json::serialize(o) << "\n";
    } else {
      std::cout << "project_id: " << created->project.project_id << "\n"
                << "secret:     " << created->secret << "\n"
                << "secret_id:  " << first_secret_id << "\n"
                << "public_token: " << created->project.public_token << "\n"
                << "The secret is shown only now; Tessera keeps only its hash. The public token "
                   "is for the frontend SDK and is not a secret (`tessera projects list` shows "
                   "it).\n";
    }
    return 0;
  }

  if (list_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto list = opened->store->ListProjects();
    if (!list.ok()) return Fail(list.status());
    boost::json::array arr;
    for (const auto& p : *list) {
      if (json_) {
        arr.push_back(boost::json::object{{"project_id", p.project_id},
                                          {"name", p.name},
                                          {"live", p.live},
                                          {"public_token", p.public_token},
                                          {"created_at", FormatRfc3339(p.created_at)}});
      } else {
        std::cout << p.project_id << "  " << p.public_token << "  " << FormatRfc3339(p.created_at)
                  << "  " << p.name << "\n";
      }
    }
    if (json_) std::cout << boost::json::serialize(boost::json::object{{"projects", arr}}) << "\n";
    return 0;
  }
  return std::nullopt;
}

class SecretsCommand final : public Command {
 public:
  explicit SecretsCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string project_, secret_id_;
  bool json_ = false;
  CLI::App* create_;
  CLI::App* list_;
  CLI::App* delete_;
};

SecretsCommand::SecretsCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "secrets",
      "Create, list and delete a project's API secrets. A project holds one or two at once, so a "
      "secret can be replaced without downtime: create a second one, move every caller to it, "
      "delete the first. A running server accepts a new secret, and refuses a deleted one, "
      "within about a second.");
  cmd->require_subcommand(1);
  create_ = cmd->add_subcommand(
      "create",
      "Add a secret to the project and print it once (Tessera keeps only its hash). Refused "
      "when the project already has two: delete one first.");
  AddStoreFlags(create_, store_);
  create_->add_option("--project", project_, "Project id")->required();
  create_->add_flag("--json", json_, "Print one JSON object");
  list_ = cmd->add_subcommand(
      "list", "List the project's secrets by id and creation time (never the secrets).");
  AddStoreFlags(list_, store_);
  list_->add_option("--project", project_, "Project id")->required();
  list_->add_flag("--json", json_, "Print one JSON object");
  delete_ = cmd->add_subcommand(
      "delete",
      "Delete one of the project's secrets: API calls made with it are refused from then on. "
      "The project's last secret cannot be deleted.");
  AddStoreFlags(delete_, store_);
  delete_->add_option("--project", project_, "Project id")->required();
  delete_
      ->add_option("--secret-id", secret_id_,
                   "Id of the secret (`tessera secrets list` shows them)")
      ->required();
}

std::optional<int> SecretsCommand::RunIfChosen() {
  if (create_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto created =
        CreateProjectSecret(*opened->store, SystemRandom(), project_, SystemClock().Now());
    if (!created.ok()) return Fail(created.status());
    if (json_) {
      std::cout << boost::json::serialize(boost::json::object{
                       {"project_id", project_},
                       {"secret_id", created->record.secret_id},
                       {"secret", created->secret},
                       {"created_at", FormatRfc3339(created->record.created_at)}})
                << "\n";
    } else {
      std::cout << "secret_id: " << created->record.secret_id << "\n"
                << "secret:    " << created->secret << "\n"
                << "The secret is shown only now; Tessera keeps only its hash. Every secret of "
                   "the project works until it is deleted (`tessera secrets delete`).\n";
    }
    return 0;
  }

  if (list_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto project = RequireProject(*opened->store, project_);
    if (!project.ok()) return Fail(project.status());
    boost::json::array secrets;
    for (const ProjectSecret& secret : project->secrets) {
      if (json_) {
        secrets.push_back(boost::json::object{{"secret_id", secret.secret_id},
                                              {"created_at", FormatRfc3339(secret.created_at)}});
      } else {
        std::cout << secret.secret_id << "  " << FormatRfc3339(secret.created_at) << "\n";
      }
    }
    if (json_) {
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", project_}, {"secrets", secrets}})
                << "\n";
    }
    return 0;
  }

  if (delete_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s = opened->store->DeleteSecret(project_, secret_id_); !s.ok()) {
      return Fail(s);
    }
    std::cout << "deleted " << secret_id_ << "\n";
    return 0;
  }
  return std::nullopt;
}

class KeysCommand final : public Command {
 public:
  explicit KeysCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  std::string project_id_, kid_;
  bool json_ = false;
  CLI::App* rotate_;
  CLI::App* list_;
  CLI::App* retire_;
};

KeysCommand::KeysCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("keys", "Inspect and rotate signing keys.");
  cmd->require_subcommand(1);
  rotate_ = cmd->add_subcommand(
      "rotate",
      "Activate the published next key and publish a fresh next key (docs/key_rotation.md).");
  AddStoreFlags(rotate_, store_);
  rotate_->add_option("--project", project_id_, "Project id")->required();
  rotate_->add_flag("--json", json_, "Print one JSON object");
  list_ = cmd->add_subcommand("list", "List signing keys and their states.");
  AddStoreFlags(list_, store_);
  list_->add_option("--project", project_id_, "Only this project");
  list_->add_flag("--json", json_, "Print one JSON object");
  retire_ = cmd->add_subcommand(
      "retire", "Withdraw a next key that has never signed (the active key cannot be retired).");
  AddStoreFlags(retire_, store_);
  retire_->add_option("--project", project_id_, "Project id")->required();
  retire_->add_option("--kid", kid_, "Key id")->required();
}

std::optional<int> KeysCommand::RunIfChosen() {
  if (rotate_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    const TimePoint now = SystemClock().Now();
    auto ring = RotateProjectKeys(*opened->store, *opened->key, SystemRandom(), project_id_, now);
    if (!ring.ok()) return Fail(ring.status());
    const KeyRecord* active = ring->Active();
    if (json_) {
      boost::json::array keys;
      for (const auto& r : ring->records()) keys.push_back(KeyJson(r, *ring, now));
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", project_id_},
                                           {"active_kid", active ? active->kid : ""},
                                           {"keys", keys}})
                << "\n";
    } else {
      std::cout << "active key: " << (active ? active->kid : "(none)") << "\n";
    }
    return 0;
  }

  if (list_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    std::vector<std::string> ids;
    if (!project_id_.empty()) {
      ids.push_back(project_id_);
    } else {
      auto list = opened->store->ListProjects();
      if (!list.ok()) return Fail(list.status());
      for (const auto& p : *list) ids.push_back(p.project_id);
    }
    const TimePoint now = SystemClock().Now();
    boost::json::array keys;
    for (const auto& id : ids) {
      auto records = opened->store->ListKeys(id);
      if (!records.ok()) return Fail(records.status());
      KeyRing ring(std::move(*records));
      for (const auto& r : ring.records()) {
        if (json_) {
          keys.push_back(KeyJson(r, ring, now));
        } else {
          std::cout << r.kid << "  " << AlgorithmName(r.alg) << "  " << KeyStateName(r.state)
                    << (ring.IsPublished(r, now) ? "  published" : "  unpublished") << "  "
                    << r.project_id << "\n";
        }
      }
    }
    if (json_) std::cout << boost::json::serialize(boost::json::object{{"keys", keys}}) << "\n";
    return 0;
  }

  if (retire_->parsed()) {
    auto opened = OpenStoreAndKey(store_);
    if (!opened.ok()) return Fail(opened.status());
    auto ring = RetireProjectKey(*opened->store, project_id_, kid_, SystemClock().Now());
    if (!ring.ok()) return Fail(ring.status());
    std::cout << "retired " << kid_ << "\n";
    return 0;
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Command> AddProjectsCommand(CLI::App& app) {
  return std::make_unique<ProjectsCommand>(app);
}

std::unique_ptr<Command> AddSecretsCommand(CLI::App& app) {
  return std::make_unique<SecretsCommand>(app);
}

std::unique_ptr<Command> AddKeysCommand(CLI::App& app) {
  return std::make_unique<KeysCommand>(app);
}

}  // namespace tessera::tools
