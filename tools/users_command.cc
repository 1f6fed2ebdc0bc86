// `tessera users import`: the flags, the files and the summary; the import itself is
// import_users.cc.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "tessera/clock.h"
#include "tessera/random.h"
#include "tools/command_support.h"
#include "tools/commands.h"
#include "tools/import_users.h"

namespace tessera::tools {
namespace {

class UsersCommand final : public Command {
 public:
  explicit UsersCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  StoreFlags store_;
  ImportOptions options_;
  std::string file_, report_, progress_ = "auto";
  int cache_mib_ = 64;
  CLI::App* import_;
};

UsersCommand::UsersCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("users", "Bring users into a project.");
  cmd->require_subcommand(1);
  import_ = cmd->add_subcommand(
      "import",
      "Import users with password hashes made elsewhere (bcrypt, md_5, sha_1, sha_512, argon_2i, "
      "argon_2id, scrypt, pbkdf_2, phpass, firebase_scrypt): a file with one passwords/migrate "
      "request body (JSON) per line, checked exactly as the API checks it and written straight "
      "into the database, many users per transaction. Users already present with a password "
      "(same email or external_id) are skipped, so a re-run is safe. Every refused line is "
      "reported with its number and reason; the exit status is 0 only when every line is in. "
      "See docs/migration.md.");
  AddStoreFlags(import_, store_);
  import_->add_option("--project", options_.project_id, "Project id")->required();
  import_->add_option("--file", file_, "JSON Lines file; - reads standard input")->required();
  import_->add_option("--report", report_,
                      "Also write each refused line as a JSON object {line, error_type, "
                      "error_message} to this file");
  import_->add_option("--batch-size", options_.batch_size, "Users per transaction")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->capture_default_str();
  import_
      ->add_option("--cache-mib", cache_mib_,
                   "SQLite: page cache of the import's connection, filled only as the database "
                   "grows (the inserts land all over the user indexes, and a page the cache "
                   "misses is a read). Peak memory is about this plus one batch")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  import_
      ->add_option("--progress", progress_,
                   "auto (a bar on a terminal, else a line every 5 s), bar, lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))
      ->capture_default_str();
}

std::optional<int> UsersCommand::RunIfChosen() {
  if (import_->parsed()) {
    auto opened = OpenStoreAndKey(store_, cache_mib_ * 1024);
    if (!opened.ok()) return Fail(opened.status());
    std::FILE* in = stdin;
    std::int64_t size = 0;
    if (file_ != "-") {
      in = std::fopen(file_.c_str(), "rb");
      if (in == nullptr) {
        return Fail(Error(ErrorCode::kInvalidArgument, "cannot open " + file_));
      }
      if (std::fseek(in, 0, SEEK_END) == 0) size = std::ftell(in);
      std::rewind(in);
    }
    std::FILE* report = nullptr;
    if (!report_.empty()) {
      report = std::fopen(report_.c_str(), "w");
      if (report == nullptr) {
        return Fail(Error(ErrorCode::kInvalidArgument, "cannot write " + report_));
      }
    }
    using P = ImportOptions::Progress;
    options_.progress = progress_ == "bar"     ? P::kBar
                        : progress_ == "lines" ? P::kLines
                        : progress_ == "off"   ? P::kOff
                                               : P::kAuto;
    auto summary = ImportUsers(*opened->store, in, size, options_, SystemRandom(), SystemClock(),
                               stderr, report, stderr);
    if (in != stdin) std::fclose(in);
    if (report != nullptr && std::fclose(report) != 0) {
      return Fail(Error(ErrorCode::kInvalidArgument, "writing " + report_ + " failed"));
    }
    if (!summary.ok()) return Fail(summary.status());
    std::printf("%s\n", boost::json::serialize(boost::json::object{{"lines", summary->lines},
                                                                   {"created", summary->created},
                                                                   {"attached", summary->attached},
                                                                   {"skipped", summary->skipped},
                                                                   {"refused", summary->refused}})
                            .c_str());
    return summary->complete() ? 0 : 1;
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Command> AddUsersCommand(CLI::App& app) {
  return std::make_unique<UsersCommand>(app);
}

}  // namespace tessera::tools
