#include "tools/import_users.h"
// ^ This file's own header: first, so it must compile alone.

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cinttypes>
#include <optional>
#include <utility>
#include <vector>

#include "server/error_mapping.h"
#include "server/handlers/common.h"
#include "server/json_body.h"
#include "service/password_migration.h"
#include "store/records_json.h"

namespace tessera::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Reads lines of at most `max` bytes from a FILE without ever holding more: a longer line is
// reported as such and skipped up to its newline.
class LineReader {
 public:
  LineReader(std::FILE* in, std::size_t max) : in_(in), max_(max) {}

  struct Line {
    std::string text;
    bool too_long = false;
  };

  // The next line (without its newline), or nullopt at the end of the input.
  std::optional<Line> Next() {
    Line line;
    bool any = false;
    for (;;) {
      const int c = getc_unlocked(in_);  // One thread reads; no lock per byte.
      if (c == EOF) {
        if (!any) return std::nullopt;
        return line;
      }
      any = true;
      ++bytes_read_;
      if (c == '\n') return line;
      if (line.too_long) continue;
      if (line.text.size() == max_) {
        line.too_long = true;
        line.text.clear();
        line.text.shrink_to_fit();
        continue;
      }
      line.text.push_back(static_cast<char>(c));
    }
  }

  bool failed() const { return std::ferror(in_) != 0; }
  std::int64_t bytes_read() const { return bytes_read_; }

 private:
  std::FILE* in_;
  std::size_t max_;
  std::int64_t bytes_read_ = 0;
};

std::string Duration(double seconds) {
  const auto s = static_cast<std::int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 "s", s);
  }
  return buf;
}

// Progress on a terminal (a bar redrawn in place) or elsewhere (a plain line now and then).
class ProgressReporter {
 public:
  ProgressReporter(std::FILE* out, ImportOptions::Progress mode, Seconds interval,
                   std::int64_t total_bytes)
      : out_(out), interval_(interval), total_bytes_(total_bytes), start_(SteadyClock::now()) {
    if (mode == ImportOptions::Progress::kAuto) {
      mode = out != nullptr && isatty(fileno(out)) ? ImportOptions::Progress::kBar
                                                   : ImportOptions::Progress::kLines;
    }
    mode_ = out == nullptr ? ImportOptions::Progress::kOff : mode;
    last_ = start_;
  }

  // Called after every batch; draws at most 10 times a second (bar) or once per interval.
  void Update(const ImportSummary& s, std::int64_t bytes, bool final = false) {
    if (mode_ == ImportOptions::Progress::kOff) return;
    const auto now = SteadyClock::now();
    const auto wait =
        mode_ == ImportOptions::Progress::kBar
            ? std::chrono::duration_cast<SteadyClock::duration>(std::chrono::milliseconds(100))
            : std::chrono::duration_cast<SteadyClock::duration>(interval_);
    if (!final && now - last_ < wait) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(s.lines) / elapsed : 0;
    const double fraction =
        total_bytes_ > 0 ? std::min(1.0, static_cast<double>(bytes) / total_bytes_) : -1;
    std::string eta = "?";
    if (fraction > 0 && fraction < 1) eta = Duration(elapsed / fraction - elapsed);
    if (fraction >= 1) eta = "0s";
    char counts[160];
    std::snprintf(counts, sizeof counts,
                  "%" PRId64 " lines: %" PRId64 " created, %" PRId64 " attached, %" PRId64
                  " skipped, %" PRId64 " refused; %.0f lines/s",
                  s.lines, s.created, s.attached, s.skipped, s.refused, rate);
    if (mode_ == ImportOptions::Progress::kBar) {
      std::string bar;
      if (fraction >= 0) {
        const int width = 24, filled = static_cast<int>(fraction * width);
        bar = "[" + std::string(filled, '=') + std::string(width - filled, ' ') + "] " +
              std::to_string(static_cast<int>(fraction * 100)) + "% ";
      }
      std::fprintf(out_, "\r%s%s, ETA %s\x1b[K", bar.c_str(), counts, eta.c_str());
      drawn_ = true;
      if (final) {
        std::fputc('\n', out_);
        drawn_ = false;
      }
    } else {
      std::string where;
      if (fraction >= 0) {
        where =
            ", " + std::to_string(static_cast<int>(fraction * 100)) + "% of the file, ETA " + eta;
      }
      std::fprintf(out_, "import: %s%s (%s elapsed)\n", counts, where.c_str(),
                   Duration(elapsed).c_str());
    }
    std::fflush(out_);
  }

  // Before another line goes to the same terminal: take the bar off it.
  void Clear() {
    if (drawn_ && mode_ == ImportOptions::Progress::kBar) {
      std::fputs("\r\x1b[K", out_);
      drawn_ = false;
    }
  }

 private:
  std::FILE* out_;
  ImportOptions::Progress mode_;
  Seconds interval_;
  std::int64_t total_bytes_;
  SteadyClock::time_point start_, last_;
  bool drawn_ = false;
};

struct Pending {
  std::int64_t line = 0;
  PasswordMigrateRequest request;
  User user;
};

class Importer {
 public:
  Importer(SessionStore& store, const Project& project, const ImportOptions& options,
           RandomSource& random, const Clock& clock, std::FILE* errors, std::FILE* report,
           ProgressReporter& progress)
      : store_(store),
        project_(project),
        options_(options),
        random_(random),
        clock_(clock),
        errors_(errors),
        report_(report),
        progress_(progress) {}

  void Line(std::int64_t number, const LineReader::Line& line) {
    if (line.too_long) {
      Refuse(number, Error(ErrorCode::kBodyTooLarge, "The line is longer than " +
                                                         std::to_string(options_.max_line_bytes) +
                                                         " bytes."));
      return;
    }
    auto prepared = Prepare(line.text);
    if (!prepared.ok()) {
      Refuse(number, prepared.status());
      return;
    }
    prepared->line = number;
    batch_.push_back(std::move(*prepared));
  }

  bool BatchFull() const { return batch_.size() >= options_.batch_size; }

  // Writes the batch; fails only when the store does.
  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    std::vector<User> users;
    users.reserve(batch_.size());
    for (const Pending& p : batch_) users.push_back(p.user);
    TESSERA_ASSIGN_OR_RETURN(std::vector<Status> results, store_.CreateUsers(users));
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      const Status& s = results[i];
      if (s.ok()) {
        ++summary_.created;
      } else if (s.code() == ErrorCode::kDuplicateEmail) {
        TESSERA_RETURN_IF_ERROR(Existing(batch_[i]));
      } else if (s.code() == ErrorCode::kDuplicateExternalId) {
        ++summary_.skipped;  // Imported before under this external_id.
      } else {
        Refuse(batch_[i].line, s);
      }
    }
    batch_.clear();
    return Status::Ok();
  }

  ImportSummary& summary() { return summary_; }

 private:
  Result<Pending> Prepare(std::string_view text) {
    TESSERA_ASSIGN_OR_RETURN(server::JsonBody body, server::JsonBody::Parse(text));
    Pending p;
    TESSERA_ASSIGN_OR_RETURN(p.request, server::handlers::ParsePasswordMigrateRequest(body));
    TESSERA_ASSIGN_OR_RETURN(p.user,
                             PrepareMigratedUser(project_, p.request, random_, clock_.Now()));
    return p;
  }

  // The email belongs to a user already: skipped if it has a password (an earlier run, or an
  // earlier line of this file), else it gets this one, as passwords/migrate would do.
  Status Existing(const Pending& p) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      TESSERA_ASSIGN_OR_RETURN(std::optional<User> user,
                               store_.GetUserByEmail(project_.project_id, p.request.email));
      if (!user) {  // Deleted since: create it on its own.
        const Status s = store_.CreateUser(p.user);
        if (s.ok()) {
          ++summary_.created;
          return Status::Ok();
        }
        if (s.category() != ErrorCategory::kAlreadyExists) return s;
        continue;
      }
      if (user->password) {
        ++summary_.skipped;
        return Status::Ok();
      }
      if (Status s = ApplyMigrationToExistingUser(p.user, p.request, *user); !s.ok()) {
        Refuse(p.line, s);
        return Status::Ok();
      }
      user->updated_at = std::chrono::floor<Seconds>(clock_.Now());
      const Status s = store_.UpdateUser(*user);
      if (s.ok()) {
        ++summary_.attached;
        return Status::Ok();
      }
      if (s.code() == ErrorCode::kStoreConflict) continue;
      if (s.category() == ErrorCategory::kAlreadyExists) {
        Refuse(p.line, s);
        return Status::Ok();
      }
      return s;
    }
    Refuse(p.line,
           Error(ErrorCode::kStoreConflict, "The user kept changing; run the import again."));
    return Status::Ok();
  }

  void Refuse(std::int64_t line, const Status& s) {
    ++summary_.refused;
    const server::HttpError e = server::MapError(s.code());
    const std::string& message = s.message();
    progress_.Clear();
    if (errors_ != nullptr) {
      std::fprintf(errors_, "line %" PRId64 ": %.*s: %s\n", line,
                   static_cast<int>(e.error_type.size()), e.error_type.data(), message.c_str());
    }
    if (report_ != nullptr) {
      const boost::json::object o{
          {"line", line}, {"error_type", std::string(e.error_type)}, {"error_message", message}};
      std::fprintf(report_, "%s\n", boost::json::serialize(o).c_str());
    }
  }

  SessionStore& store_;
  const Project& project_;
  const ImportOptions& options_;
  RandomSource& random_;
  const Clock& clock_;
  std::FILE* errors_;
  std::FILE* report_;
  ProgressReporter& progress_;
  std::vector<Pending> batch_;
  ImportSummary summary_;
};

}  // namespace

Result<ImportSummary> ImportUsers(SessionStore& store, std::FILE* in, std::int64_t in_size,
                                  const ImportOptions& options, RandomSource& random,
                                  const Clock& clock, std::FILE* errors, std::FILE* report,
                                  std::FILE* progress_out) {
  if (options.batch_size < 1 || options.batch_size > 10000) {
    return Error(ErrorCode::kInvalidArgument, "--batch-size must be between 1 and 10000");
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<Project> project, store.GetProject(options.project_id));
  if (!project) return Error(ErrorCode::kProjectNotFound, "no project " + options.project_id);

  ProgressReporter progress(progress_out, options.progress, options.progress_interval, in_size);
  Importer importer(store, *project, options, random, clock, errors, report, progress);
  LineReader reader(in, options.max_line_bytes);
  std::int64_t number = 0;
  Status failure;
  while (auto line = reader.Next()) {
    ++number;
    // A byte-order mark, as Windows tools write them, is not part of the first line's JSON.
    if (number == 1 && line->text.starts_with("\xEF\xBB\xBF")) line->text.erase(0, 3);
    const std::string_view t = line->text;
    if (!line->too_long && t.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++importer.summary().lines;
    importer.Line(number, *line);
    if (importer.BatchFull()) {
      failure = importer.Flush();
      if (!failure.ok()) break;
      progress.Update(importer.summary(), reader.bytes_read());
    }
  }
  if (failure.ok()) failure = importer.Flush();
  progress.Update(importer.summary(), reader.bytes_read(), /*final=*/true);
  if (failure.ok() && reader.failed()) {
    failure = Error(ErrorCode::kInvalidArgument, "reading the input failed");
  }
  if (!failure.ok()) {
    return Error(failure.code(), failure.message() + " (stopped after line " +
                                     std::to_string(number) +
                                     "; the lines of the batch being "
                                     "written are not in: run the import again)");
  }
  return importer.summary();
}

}  // namespace tessera::tools
