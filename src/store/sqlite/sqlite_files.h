// The files of a SQLite database that SQLite does not look after itself: creating the database
// readable by its owner only, and finding database files that others may read. Private to the
// SQLite store.
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

}  // namespace tessera::sqlite

#endif  // TESSERA_STORE_SQLITE_SQLITE_FILES_H_
