#include "store/sqlite/sqlite_files.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tessera::sqlite {
namespace {

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
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

}  // namespace tessera::sqlite
