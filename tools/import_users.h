// `tessera users import`: a file of passwords/migrate requests, one JSON object per line, written
// straight into the store.
//
// Every line is read by the same parser and checked by the same service function as the HTTP
// route (ParsePasswordMigrateRequest, PrepareMigratedUser), so a line is accepted exactly when
// the request would be. Nothing is hashed: the hashes are stored as they are and verified at
// sign-in. Users are written `batch_size` at a time in one transaction (UserStore::CreateUsers),
// each refusal still reported with its line number.
//
// Re-running the same file is safe: a line whose email (or external_id) already belongs to a user
// with a password is skipped, not refused; a password-less user with that email gets the password,
// as passwords/migrate does. Memory stays bounded whatever the file's size: one batch of lines is
// held at a time, and a line longer than `max_line_bytes` is refused without being kept.
#ifndef TESSERA_TOOLS_IMPORT_USERS_H_
#define TESSERA_TOOLS_IMPORT_USERS_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tessera/clock.h"
#include "tessera/random.h"
#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera::tools {

struct ImportOptions {
  std::string project_id;
  // Users per transaction. Default: 5000. A commit on SQLite (synchronous=FULL) costs an fsync,
  // and each batch rewrites the index pages it touched, so larger batches cost less per user;
  // 5000 prepared users hold about 10 MiB. docs/benchmarks.md has the measurements.
  std::size_t batch_size = 5000;
  // Longest line accepted, as the server's request body limit. Default: 64 KiB.
  std::size_t max_line_bytes = 64 * 1024;
  // Progress: a bar redrawn in place (a terminal) or a plain line every `progress_interval`.
  enum class Progress { kAuto, kBar, kLines, kOff };
  Progress progress = Progress::kAuto;
  Seconds progress_interval{5};
};

struct ImportSummary {
  std::int64_t lines = 0;     // Non-blank lines read.
  std::int64_t created = 0;   // New users.
  std::int64_t attached = 0;  // Existing password-less users that got their password.
  std::int64_t skipped = 0;   // Already present (email or external_id) with a password.
  std::int64_t refused = 0;   // Reported with line number and reason.
  bool complete() const { return refused == 0; }
};

// Imports `in` (a file or stdin; `in_size` its size in bytes when known, else 0, for the
// progress's percentage and ETA). Each refused line is written to `errors` as
// "line N: <error_type>: <message>" and, when `report` is not null, to it as one JSON object
// {"line":N,"error_type":...,"error_message":...}. Progress goes to `progress`.
// Fails, after reporting what was done, only when the store or the input fails (kProjectNotFound,
// kStoreUnavailable, ...); lines of the batch being written then are not in, and a re-run picks
// them up.
Result<ImportSummary> ImportUsers(SessionStore& store, std::FILE* in, std::int64_t in_size,
                                  const ImportOptions& options, RandomSource& random,
                                  const Clock& clock, std::FILE* errors, std::FILE* report,
                                  std::FILE* progress);

}  // namespace tessera::tools

#endif  // TESSERA_TOOLS_IMPORT_USERS_H_
