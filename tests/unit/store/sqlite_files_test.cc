// The SQLite store's own files: the database, -wal and -shm are private to their owner, looser
// existing files are reported, and an exclusive (serving) store keeps a second one off the file
// while non-exclusive ones (the CLI) still open it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "status_matchers.h"
#include "tessera/store/sqlite_store.h"

namespace tessera {
namespace {

class SqliteFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tessera-sqlite-files-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The usual umask, which lets others read what is created with the default mode 0644: the
    // store must not rely on a stricter one.
    old_umask_ = ::umask(022);
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const char* name) const { return (dir_ / name).string(); }

  static unsigned Mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
  }

  std::filesystem::path dir_;
  mode_t old_umask_ = 022;
};

// A write, so that the WAL holds something (the -shm exists from the first read on).
void Write(SessionStore& store) { ASSERT_OK(store.PutMetaIfAbsent("k", "v")); }

TEST_F(SqliteFilesTest, NewDatabaseWalAndShmAreOwnerOnly) {
  const std::string db = Path("t.db");
  auto store = OpenSqliteStore({.path = db});
  ASSERT_OK(store);
  Write(**store);
  EXPECT_EQ(Mode(db), 0600u);
  EXPECT_EQ(Mode(db + "-wal"), 0600u);
  EXPECT_EQ(Mode(db + "-shm"), 0600u);
  // A second store on the same file (as the CLI beside a server) changes nothing.
  auto second = OpenSqliteStore({.path = db});
  ASSERT_OK(second);
  Write(**second);
  EXPECT_EQ(Mode(db), 0600u);
  EXPECT_EQ(Mode(db + "-wal"), 0600u);
  EXPECT_EQ(Mode(db + "-shm"), 0600u);
}

TEST_F(SqliteFilesTest, RefusesToCreateInAMissingDirectory) {
  EXPECT_ERROR(OpenSqliteStore({.path = Path("missing/t.db")}), ErrorCode::kStoreUnavailable);
}

TEST_F(SqliteFilesTest, WarnsAboutExistingFilesOthersMayReadAndLeavesTheirMode) {
  const std::string db = Path("t.db");
  std::vector<std::string> warnings;
  const auto collect = [&](std::string_view w) { warnings.emplace_back(w); };
  {
    auto store = OpenSqliteStore({.path = db, .on_warning = collect});
    ASSERT_OK(store);
    Write(**store);
  }
  EXPECT_TRUE(warnings.empty()) << (warnings.empty() ? "" : warnings.front());

  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);  // As an older Tessera created it.
  auto store = OpenSqliteStore({.path = db, .on_warning = collect});
  ASSERT_OK(store);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(db + " (mode 0644)"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("chmod 600"), std::string::npos) << warnings[0];
  EXPECT_EQ(Mode(db), 0644u);
  store->reset();

  // A -wal or -shm file looser than the database (e.g. left by a crash under an older Tessera)
  // is named too: SQLite sets the mode only of the files it creates.
  ASSERT_EQ(::chmod(db.c_str(), 0600), 0);
  auto holder = OpenSqliteStore({.path = db});  // Keeps -wal and -shm in place.
  ASSERT_OK(holder);
  Write(**holder);
  ASSERT_EQ(::chmod((db + "-wal").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((db + "-shm").c_str(), 0640), 0);
  warnings.clear();
  auto again = OpenSqliteStore({.path = db, .on_warning = collect});
  ASSERT_OK(again);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].find(db + " (mode"), std::string::npos) << warnings[0];
  EXPECT_EQ(warnings[0].find(db + "-wal"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(db + "-shm (mode 0640)"), std::string::npos) << warnings[0];
}

TEST_F(SqliteFilesTest, AnExclusiveStoreKeepsOtherExclusiveStoresOff) {
  const std::string db = Path("t.db");
  auto serving = OpenSqliteStore({.path = db, .exclusive = true});
  ASSERT_OK(serving);

  auto second = OpenSqliteStore({.path = db, .exclusive = true});
  EXPECT_ERROR(second, ErrorCode::kStoreInUse);
  const std::string message = second.status().message();
  EXPECT_NE(message.find(db), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;
  EXPECT_NE(message.find("one server per SQLite file"), std::string::npos) << message;

  // Through another name of the same file too: the lock sits beside the resolved path.
  const std::string link = Path("link.db");
  std::filesystem::create_symlink(db, link);
  EXPECT_ERROR(OpenSqliteStore({.path = link, .exclusive = true}), ErrorCode::kStoreInUse);

  // The CLI (not exclusive) still opens and writes the file.
  auto cli = OpenSqliteStore({.path = db});
  ASSERT_OK(cli);
  Write(**cli);
  cli->reset();

  // Closing the serving store releases the lock.
  serving->reset();
  auto next = OpenSqliteStore({.path = db, .exclusive = true});
  ASSERT_OK(next);
  EXPECT_EQ(Mode(db + ".lock"), 0600u);
}

}  // namespace
}  // namespace tessera
