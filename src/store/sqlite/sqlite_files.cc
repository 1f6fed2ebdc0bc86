#include "store/sqlite/sqlite_files.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tessera::sqlite {
namespace {

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The pid the holder wrote into its lock file, or 0 when the file does not say (yet).
long HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(buf, &end, 10);
  return end != buf && pid > 0 ? pid : 0;
}

}  // namespace

Status CreatePrivateDatabaseFile(const std::string& path) {
  // O_EXCL: an existing database is never opened here. Closing a descriptor of a file drops every
  // fcntl lock this process holds on it, including those of SQLite connections already open on
  // it; a file this call has just created has no such locks yet.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Status::Ok();
  }
  if (errno == EEXIST) return Status::Ok();
  return Error(ErrorCode::kStoreUnavailable,
               "cannot create SQLite database " + path + ": " + std::strerror(errno));
}

std::vector<std::string> DatabaseFilesOpenToOthers(const std::string& path) {
  std::vector<std::string> open;
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      open.push_back(file + " (mode " + ModeText(st.st_mode) + ")");
    }
  }
  return open;
}

Result<ServeLock> ServeLock::Acquire(const std::string& database) {
  char resolved[PATH_MAX];
  if (::realpath(database.c_str(), resolved) == nullptr) {
    return Error(ErrorCode::kStoreUnavailable,
                 "cannot resolve SQLite database path " + database + ": " + std::strerror(errno));
  }
  const std::string lock_path = std::string(resolved) + ".lock";
  // The file stays after the lock is released: removing it would let a server that opened the
  // old file lock it while a newer server locks a new file of the same name.
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Error(ErrorCode::kStoreUnavailable,
                 "cannot open lock file " + lock_path + ": " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    const long pid = error == EWOULDBLOCK ? HolderPid(fd) : 0;
    ::close(fd);
    if (error != EWOULDBLOCK) {
      return Error(ErrorCode::kStoreUnavailable,
                   "cannot lock " + lock_path + ": " + std::strerror(error));
    }
    const std::string holder = pid > 0 ? " (pid " + std::to_string(pid) + ")" : "";
    return Error(ErrorCode::kStoreInUse,
                 "SQLite database " + database + " is in use by another tessera serve" + holder +
                     ", which holds " + lock_path +
                     ". Run one server per SQLite file: stop the other one first, or use "
                     "PostgreSQL to run several");
  }
  // For the message above only, so best effort: the lock itself is what excludes.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return ServeLock(fd);
}

ServeLock::ServeLock(ServeLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ServeLock& ServeLock::operator=(ServeLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ServeLock::~ServeLock() {
  if (fd_ >= 0) ::close(fd_);  // Releases the lock.
}

}  // namespace tessera::sqlite
