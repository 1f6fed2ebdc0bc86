// The files of a SQLite database that SQLite does not look after itself: creating the database
// readable by its owner only, finding database files that others may read, and the lock that
// keeps a second server off the database. Private to the SQLite store.
#ifndef TESSERA_STORE_SQLITE_SQLITE_FILES_H_
#define TESSERA_STORE_SQLITE_SQLITE_FILES_H_

#include <string>
#include <vector>

#include "tessera/result.h"

namespace tessera::sqlite {

// Creates `path` empty with mode 0600 when nothing exists there; an existing file is left as it
// is. SQLite takes an empty file for an empty database, and gives the -wal and -shm files it
// creates (or finds empty) the mode, and under root the owner, of the database file, so all three
// end up 0600 without touching the process-wide umask. kStoreUnavailable when the file cannot be
// created (e.g. its directory is missing).
Status CreatePrivateDatabaseFile(const std::string& path);

// Those of `path`, `path`-wal and `path`-shm that exist and give group or others any access,
// each as "<file> (mode 0644)". Empty when all are private.
std::vector<std::string> DatabaseFilesOpenToOthers(const std::string& path);

// An exclusive flock(2) on "<database>.lock", in the directory of the database file once
// symbolic links are resolved (where SQLite puts -wal and -shm), so every name of the file
// shares one lock. Held until destruction, or until the process ends, however it ends: the
// kernel drops the lock with the last descriptor.
//
// Why flock on a file of its own: SQLite locks the database with fcntl(2) locks, which belong
// to the process and are all dropped when any descriptor of the file is closed. flock locks
// belong to one open file description, never interact with fcntl locks on Linux, and conflict
// between two descriptors of the same process too.
class ServeLock {
 public:
  // Takes the lock without waiting. kStoreInUse when another ServeLock holds it, naming the
  // holder's pid when its lock file says; kStoreUnavailable when the lock file cannot be opened.
  // REQUIRES: `database` exists.
  static Result<ServeLock> Acquire(const std::string& database);

  ServeLock(ServeLock&& other) noexcept;
  ServeLock& operator=(ServeLock&& other) noexcept;
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;
  ~ServeLock();

 private:
  explicit ServeLock(int fd) : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace tessera::sqlite

#endif  // TESSERA_STORE_SQLITE_SQLITE_FILES_H_
