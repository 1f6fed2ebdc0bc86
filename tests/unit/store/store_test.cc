// One contract, every backend: the same tests run against the SQLite store (a temporary file) and,
// when a PostgreSQL server is available (TESSERA_TEST_POSTGRES_URL or the file named by
// TESSERA_TEST_POSTGRES_URL_FILE, as the ctest fixture provides), the PostgreSQL store in a fresh
// schema.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <thread>

#include "fake_clock.h"
#include "fake_random.h"
#include "service/ids.h"
#include "service/project_registry.h"
#include "status_matchers.h"
#include "tessera/store/postgres_store.h"
#include "tessera/store/sqlite_store.h"

namespace tessera {
namespace {

using testing::FakeClock;
using testing::FakeRandom;

std::string PostgresUrl() {
  if (const char* url = std::getenv("TESSERA_TEST_POSTGRES_URL"); url && *url) return url;
  if (const char* file = std::getenv("TESSERA_TEST_POSTGRES_URL_FILE"); file && *file) {
    std::ifstream in(file);
    std::string url;
    std::getline(in, url);
    return url;
  }
  return "";
}

// A fresh schema per test, so tests never see each other's rows.
Result<std::string> FreshSchemaUrl(const std::string& base) {
  static int counter = 0;
  const std::string schema =
      "store_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  PGconn* c = PQconnectdb(base.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    PQfinish(c);
    return Error(ErrorCode::kStoreUnavailable, "cannot connect to " + base);
  }
  PGresult* r = PQexec(c, ("CREATE SCHEMA " + schema).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  PQfinish(c);
  if (!ok) return Error(ErrorCode::kStoreUnavailable, "cannot create schema " + schema);
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

enum class Backend { kSqlite, kPostgres };

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = std::filesystem::temp_directory_path() /
             ("tessera-store-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      auto s = OpenSqliteStore({(dir_ / "t.db").string(), 5000, 2});
      ASSERT_OK(s);
      store_ = std::move(*s);
    } else {
      const std::string base = PostgresUrl();
      if (base.empty()) {
        GTEST_SKIP() << "no PostgreSQL: set TESSERA_TEST_POSTGRES_URL (scripts/test.sh does)";
      }
      auto url = FreshSchemaUrl(base);
      ASSERT_OK(url);
      auto s = OpenPostgresStore({*url, 4, 5000, 5000});
      ASSERT_OK(s);
      store_ = std::move(*s);
    }
    auto p = CreateProject(*store_, master_, random_, clock_.Now(), "p", false,
                           ProjectSettings{.jwt_algorithm = JwtAlgorithm::kEdDSA});
    ASSERT_OK(p);
    project_ = p->project.project_id;
  }

  // A store opened on a database that `fixture` (in tests/unit/store/testdata, one per backend)
  // made as an earlier schema version left it, so opening it runs the later migrations.
  Result<std::unique_ptr<SessionStore>> OpenUpgraded(const std::string& sqlite_fixture,
                                                     const std::string& postgres_fixture) {
    const auto read = [](const std::string& name) {
      std::ifstream in(std::string(TESSERA_STORE_TESTDATA) + "/" + name);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    if (GetParam() == Backend::kSqlite) {
      const std::string path = (dir_ / "old.db").string();
      const std::string sql = read(sqlite_fixture);
      if (sql.empty()) return Error(ErrorCode::kInternal, "no fixture " + sqlite_fixture);
      sqlite3* db = nullptr;
      const bool made = sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
                        sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
      sqlite3_close(db);
      if (!made) return Error(ErrorCode::kInternal, "cannot load " + sqlite_fixture);
      return OpenSqliteStore({path, 5000, 2});
    }
    const std::string sql = read(postgres_fixture);
    if (sql.empty()) return Error(ErrorCode::kInternal, "no fixture " + postgres_fixture);
    TESSERA_ASSIGN_OR_RETURN(std::string url, FreshSchemaUrl(PostgresUrl()));
    PGconn* c = PQconnectdb(url.c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const bool made = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string why = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    if (!made) return Error(ErrorCode::kInternal, "cannot load " + postgres_fixture + ": " + why);
    return OpenPostgresStore({url, 4, 5000, 5000});
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  User NewUser(const std::string& id, const std::string& email) {
    User u;
    u.project_id = project_;
    u.user_id = id;
    u.emails.push_back({"email-" + id, email, false});
    u.created_at = u.updated_at = clock_.Now();
    return u;
  }

  SessionRecord NewSession(const std::string& id, const std::string& user_id, std::uint8_t tag) {
    SessionRecord s;
    s.project_id = project_;
    s.session_id = id;
    s.user_id = user_id;
    s.token_digest.fill(tag);
    s.token_sealed = std::string("sealed\0bytes", 12);
    s.started_at = s.last_accessed_at = clock_.Now();
    s.expires_at = clock_.Now() + std::chrono::hours(1);
    s.authentication_factors = boost::json::parse(R"([{"type":"password"}])").as_array();
    s.custom_claims = boost::json::parse(R"({"k":"v"})").as_object();
    return s;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeRandom random_;
  MasterKey master_ = *MasterKey::FromBytes(std::array<std::uint8_t, 32>{4});
  std::unique_ptr<SessionStore> store_;
  std::string project_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& param_info) {
                           return param_info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST_P(StoreTest, ProjectsKeysAndMeta) {
  auto p = store_->GetProject(project_);
  ASSERT_OK(p);
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->settings.jwt_algorithm, JwtAlgorithm::kEdDSA);
  ASSERT_EQ((*p)->secrets.size(), 1u);
  EXPECT_EQ((*p)->secrets[0].digest.size(), 32u);
  EXPECT_TRUE(IsIdOfKind((*p)->secrets[0].secret_id, "secret-id")) << (*p)->secrets[0].secret_id;
  auto none = store_->GetProject("project-test-missing");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto keys = store_->ListKeys(project_);
  ASSERT_OK(keys);
  EXPECT_EQ(keys->size(), 2u);
  auto v1 = store_->ConfigVersion();
  ASSERT_OK(v1);
  ASSERT_OK(RotateProjectKeys(*store_, master_, random_, project_, clock_.Now()));
  auto v2 = store_->ConfigVersion();
  ASSERT_OK(v2);
  EXPECT_GT(*v2, *v1);
  auto after = store_->ListKeys(project_);
  ASSERT_OK(after);
  EXPECT_EQ(after->size(), 3u);
  // Bytes survive the round trip (certificates and sealed keys are binary).
  int matched = 0;
  for (const auto& before : *keys) {
    for (const auto& now : *after) {
      if (now.kid != before.kid) continue;
      ++matched;
      EXPECT_EQ(now.certificate_der, before.certificate_der);
      EXPECT_EQ(now.sealed_private_key, before.sealed_private_key);
      EXPECT_TRUE(OpenSigningKey(now, master_).ok());
    }
  }
  EXPECT_EQ(matched, 2);
  auto first = store_->PutMetaIfAbsent("fingerprint", "a");
  auto second = store_->PutMetaIfAbsent("fingerprint", "b");
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(*second, "a");
  EXPECT_OK(store_->Ping());
}

// The kid of the ring's one key in `state`.
std::string KidIn(const std::vector<KeyRecord>& records, KeyState state) {
  std::string kid;
  for (const auto& r : records) {
    if (r.state == state) kid = r.kid;
  }
  return kid;
}

int CountIn(const std::vector<KeyRecord>& records, KeyState state) {
  int n = 0;
  for (const auto& r : records) n += r.state == state ? 1 : 0;
  return n;
}

std::string StateOf(const std::vector<KeyRecord>& records, const std::string& kid) {
  for (const auto& r : records) {
    if (r.kid == kid) return std::string(KeyStateName(r.state));
  }
  return "(absent)";
}

// Two read-modify-write cycles of one ring, interleaved: a rotation reads the ring, an operator
// withdraws the next key, then the rotation saves what it read. The rotation must not apply, or the
// withdrawn key would sign.
TEST_P(StoreTest, ARotationReadBeforeARetireCannotReactivateTheWithdrawnKey) {
  auto read_a = store_->ReadKeyRing(project_);  // The rotation's read.
  auto read_b = store_->ReadKeyRing(project_);  // The retire's read.
  ASSERT_OK(read_a);
  ASSERT_OK(read_b);
  const std::string active = KidIn(read_a->records, KeyState::kActive);
  const std::string next = KidIn(read_a->records, KeyState::kNext);

  KeyRing retire(read_b->records);
  ASSERT_OK(retire.Retire(next, clock_.Now()));
  ASSERT_OK(store_->SaveKeys(project_, retire.records(), read_b->version));

  KeyRing rotate(read_a->records);
  auto fresh = NewKeyRecord(project_, JwtAlgorithm::kEdDSA, false, master_, random_, clock_.Now());
  ASSERT_OK(fresh);
  ASSERT_OK(rotate.Rotate(std::move(*fresh), clock_.Now()));
  EXPECT_ERROR(store_->SaveKeys(project_, rotate.records(), read_a->version),
               ErrorCode::kStoreConflict);

  auto after = store_->ReadKeyRing(project_);
  ASSERT_OK(after);
  EXPECT_EQ(StateOf(after->records, next), "retired");
  EXPECT_EQ(StateOf(after->records, active), "active");
  EXPECT_EQ(after->records.size(), 2u);  // The refused save added nothing either.
  EXPECT_EQ(after->version, read_b->version + 1);
}

// A rotation that read the ring before two others completed must not leave two active keys (nor
// bring back the key they retired).
TEST_P(StoreTest, AStaleRotationCannotLeaveTwoActiveKeys) {
  auto stale = store_->ReadKeyRing(project_);
  ASSERT_OK(stale);
  ASSERT_OK(RotateProjectKeys(*store_, master_, random_, project_, clock_.Now()));
  ASSERT_OK(RotateProjectKeys(*store_, master_, random_, project_, clock_.Now()));

  KeyRing rotate(stale->records);
  auto fresh = NewKeyRecord(project_, JwtAlgorithm::kEdDSA, false, master_, random_, clock_.Now());
  ASSERT_OK(fresh);
  ASSERT_OK(rotate.Rotate(std::move(*fresh), clock_.Now()));
  EXPECT_ERROR(store_->SaveKeys(project_, rotate.records(), stale->version),
               ErrorCode::kStoreConflict);

  auto after = store_->ListKeys(project_);
  ASSERT_OK(after);
  EXPECT_EQ(CountIn(*after, KeyState::kActive), 1);
  EXPECT_EQ(CountIn(*after, KeyState::kRetired), 2);
  EXPECT_EQ(CountIn(*after, KeyState::kNext), 1);
}

// Even at the current version, the store moves no key against the state machine and keeps one
// active key: a caller's bug cannot bring a key back either.
TEST_P(StoreTest, SaveKeysRefusesBackwardMovesAndASecondActiveKey) {
  auto read = store_->ReadKeyRing(project_);
  ASSERT_OK(read);
  const std::string active = KidIn(read->records, KeyState::kActive);
  const std::string next = KidIn(read->records, KeyState::kNext);
  KeyRing withdrawn(read->records);
  ASSERT_OK(withdrawn.Retire(next, clock_.Now()));
  ASSERT_OK(store_->SaveKeys(project_, withdrawn.records(), read->version));

  auto now = store_->ReadKeyRing(project_);
  ASSERT_OK(now);
  std::vector<KeyRecord> back = now->records;
  for (auto& r : back) {
    if (r.kid == next) r.state = KeyState::kNext;
  }
  EXPECT_ERROR(store_->SaveKeys(project_, back, now->version), ErrorCode::kKeyStateInvalid);
  std::vector<KeyRecord> two = now->records;
  auto fresh = NewKeyRecord(project_, JwtAlgorithm::kEdDSA, false, master_, random_, clock_.Now());
  ASSERT_OK(fresh);
  fresh->state = KeyState::kActive;
  two.push_back(*fresh);
  EXPECT_ERROR(store_->SaveKeys(project_, two, now->version), ErrorCode::kKeyStateInvalid);
  std::vector<KeyRecord> demoted = now->records;
  for (auto& r : demoted) {
    if (r.kid == active) r.state = KeyState::kNext;
  }
  EXPECT_ERROR(store_->SaveKeys(project_, demoted, now->version), ErrorCode::kKeyStateInvalid);

  // Nothing of the refused saves stuck, and the version did not move.
  auto after = store_->ReadKeyRing(project_);
  ASSERT_OK(after);
  EXPECT_EQ(after->version, now->version);
  EXPECT_EQ(after->records.size(), 2u);
  EXPECT_EQ(StateOf(after->records, next), "retired");
  EXPECT_EQ(StateOf(after->records, active), "active");

  EXPECT_ERROR(store_->ReadKeyRing("project-test-missing"), ErrorCode::kProjectNotFound);
  EXPECT_ERROR(store_->SaveKeys("project-test-missing", {}, 0), ErrorCode::kProjectNotFound);
}

// Rotations from several threads at once (several CLIs or nodes): each applies to the ring the
// previous one left, so the ring ends as that many rotations in a row would leave it.
TEST_P(StoreTest, ConcurrentRotationsAllApplyInSomeOrder) {
  constexpr int kThreads = 4;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      FakeRandom random(static_cast<std::uint64_t>(100 + i));
      results[static_cast<std::size_t>(i)] =
          RotateProjectKeys(*store_, master_, random, project_, clock_.Now()).status();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_OK(s);
  auto after = store_->ListKeys(project_);
  ASSERT_OK(after);
  EXPECT_EQ(after->size(), 2u + kThreads);
  EXPECT_EQ(CountIn(*after, KeyState::kActive), 1);
  EXPECT_EQ(CountIn(*after, KeyState::kNext), 1);
  EXPECT_EQ(CountIn(*after, KeyState::kRetired), kThreads);
}

// A database made before key-ring versions: its projects' rings start at version 0 and
// compare-and-swap like any other.
TEST_P(StoreTest, AnEarlierSchemaUpgrades) {
  auto old = OpenUpgraded("sqlite_schema_v2.sql", "postgres_schema_v1.sql");
  ASSERT_OK(old);
  SessionStore& store = **old;
  const std::string test_project = "project-test-00000000-0000-4000-8000-000000000001";
  auto project = store.GetProject(test_project);
  ASSERT_OK(project);
  ASSERT_TRUE(project->has_value());
  EXPECT_EQ((*project)->name, "before");
  EXPECT_EQ((*project)->settings.jwt_algorithm, JwtAlgorithm::kEdDSA);
  auto config = store.ConfigVersion();
  ASSERT_OK(config);
  EXPECT_EQ(*config, 7);

  auto ring = store.ReadKeyRing(test_project);
  ASSERT_OK(ring);
  EXPECT_EQ(ring->version, 0);
  EXPECT_TRUE(ring->records.empty());
  auto key =
      NewKeyRecord(test_project, JwtAlgorithm::kEdDSA, false, master_, random_, clock_.Now());
  ASSERT_OK(key);
  ASSERT_OK(store.SaveKeys(test_project, {*key}, ring->version));
  EXPECT_ERROR(store.SaveKeys(test_project, {*key}, ring->version), ErrorCode::kStoreConflict);
  auto after = store.ReadKeyRing(test_project);
  ASSERT_OK(after);
  EXPECT_EQ(after->version, 1);
  EXPECT_EQ(after->records.size(), 1u);

  // Each project's one secret became its first entry of the secrets, and still authorizes.
  ASSERT_EQ((*project)->secrets.size(), 1u);
  const ProjectSecret& moved = (*project)->secrets[0];
  EXPECT_EQ(moved.digest, SecretDigest("secret-test-written-before-the-upgrade"));
  EXPECT_TRUE(IsIdOfKind(moved.secret_id, "secret-id")) << moved.secret_id;
  EXPECT_EQ(moved.secret_id.rfind("secret-id-test-", 0), 0u) << moved.secret_id;
  EXPECT_EQ(moved.created_at, FromUnixSeconds(1700000000));
  auto projects = store.ListProjects();
  ASSERT_OK(projects);
  ASSERT_EQ(projects->size(), 2u);
  const Project& live = (*projects)[1];
  ASSERT_EQ(live.secrets.size(), 1u);
  EXPECT_EQ(live.secrets[0].digest, SecretDigest("secret-live-written-before-the-upgrade"));
  EXPECT_TRUE(IsIdOfKind(live.secrets[0].secret_id, "secret-id")) << live.secrets[0].secret_id;
  EXPECT_EQ(live.secrets[0].secret_id.rfind("secret-id-live-", 0), 0u);
  ProjectRegistry registry(store, master_, clock_);
  EXPECT_OK(registry.Authorize(test_project, "secret-test-written-before-the-upgrade"));
  EXPECT_ERROR(registry.Authorize(test_project, "secret-live-written-before-the-upgrade"),
               ErrorCode::kUnauthorizedCredentials);
  // And the project takes a second one like any other.
  auto second = CreateProjectSecret(store, random_, test_project, clock_.Now());
  ASSERT_OK(second);
  ASSERT_OK(registry.Refresh());
  EXPECT_OK(registry.Authorize(test_project, second->secret));
  EXPECT_OK(registry.Authorize(test_project, "secret-test-written-before-the-upgrade"));

  // Each project got a public token of its kind for the frontend SDK, found by that token.
  const std::string& token = (*project)->public_token;
  EXPECT_TRUE(IsIdOfKind(token, "public-token")) << token;
  EXPECT_EQ(token.rfind("public-token-test-", 0), 0u) << token;
  EXPECT_TRUE(IsIdOfKind(live.public_token, "public-token")) << live.public_token;
  EXPECT_EQ(live.public_token.rfind("public-token-live-", 0), 0u) << live.public_token;
  EXPECT_NE(token, live.public_token);
  auto found = store.FindProjectByPublicToken(token);
  ASSERT_OK(found);
  EXPECT_EQ(found->value_or(""), test_project);
  auto origins = store.ListSdkOrigins(test_project);
  ASSERT_OK(origins);
  EXPECT_TRUE(origins->empty());
}

// The frontend SDK's records: a project's public token, written with it and unique to it, and
// the origins allowed to use it, each change moving the config version so servers reload.
TEST_P(StoreTest, SdkPublicTokenAndOrigins) {
  auto project = store_->GetProject(project_);
  ASSERT_OK(project);
  const std::string token = (*project)->public_token;
  EXPECT_TRUE(IsIdOfKind(token, "public-token")) << token;
  auto found = store_->FindProjectByPublicToken(token);
  ASSERT_OK(found);
  EXPECT_EQ(found->value_or(""), project_);
  auto missing = store_->FindProjectByPublicToken("public-token-test-unknown");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
  auto listed = store_->ListProjects();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].public_token, token);

  auto other = CreateProject(*store_, master_, random_, clock_.Now(), "other", false, {});
  ASSERT_OK(other);
  EXPECT_NE(other->project.public_token, token);
  // A project whose token another project has is refused as a whole.
  Project copy = other->project;
  copy.project_id = "project-test-00000000-0000-4000-8000-0000000000dd";
  EXPECT_FALSE(store_->CreateProject(copy, {}).ok());
  auto after_refusal = store_->GetProject(copy.project_id);
  ASSERT_OK(after_refusal);
  EXPECT_FALSE(after_refusal->has_value());

  auto v0 = store_->ConfigVersion();
  ASSERT_OK(v0);
  const SdkOrigin app{"https://app.example.com", FromUnixSeconds(1700000000)};
  const SdkOrigin local{"http://127.0.0.1:5173", FromUnixSeconds(1700000100)};
  ASSERT_OK(store_->AddSdkOrigin(project_, app));
  ASSERT_OK(store_->AddSdkOrigin(project_, local));
  auto v1 = store_->ConfigVersion();
  ASSERT_OK(v1);
  EXPECT_GT(*v1, *v0);
  // Adding one again is a no-op that moves nothing.
  ASSERT_OK(store_->AddSdkOrigin(project_, {app.origin, FromUnixSeconds(1800000000)}));
  auto v2 = store_->ConfigVersion();
  ASSERT_OK(v2);
  EXPECT_EQ(*v2, *v1);
  auto origins = store_->ListSdkOrigins(project_);
  ASSERT_OK(origins);
  ASSERT_EQ(origins->size(), 2u);
  EXPECT_EQ((*origins)[0].origin, app.origin);  // Oldest first.
  EXPECT_EQ((*origins)[0].created_at, app.created_at);
  EXPECT_EQ((*origins)[1].origin, local.origin);
  // Per project: the other project allows nothing, and cannot remove this one's origins.
  auto none = store_->ListSdkOrigins(other->project.project_id);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  EXPECT_ERROR(store_->RemoveSdkOrigin(other->project.project_id, app.origin),
               ErrorCode::kSdkOriginNotFound);
  EXPECT_ERROR(store_->AddSdkOrigin("project-test-missing", app), ErrorCode::kProjectNotFound);
  EXPECT_ERROR(store_->RemoveSdkOrigin("project-test-missing", app.origin),
               ErrorCode::kProjectNotFound);

  ASSERT_OK(store_->RemoveSdkOrigin(project_, app.origin));
  auto v3 = store_->ConfigVersion();
  ASSERT_OK(v3);
  EXPECT_GT(*v3, *v2);
  EXPECT_ERROR(store_->RemoveSdkOrigin(project_, app.origin), ErrorCode::kSdkOriginNotFound);
  origins = store_->ListSdkOrigins(project_);
  ASSERT_OK(origins);
  ASSERT_EQ(origins->size(), 1u);
  EXPECT_EQ((*origins)[0].origin, local.origin);
}

// The registry finds a project by its public token only for a page on an allowed origin, and
// sees origins added by another process once the config version moved.
TEST_P(StoreTest, RegistryAuthorizesPublicTokenByOrigin) {
  ProjectRegistry registry(*store_, master_, clock_);
  auto project = store_->GetProject(project_);
  ASSERT_OK(project);
  const std::string token = (*project)->public_token;
  const std::string origin = "http://127.0.0.1:5173";
  EXPECT_ERROR(registry.AuthorizePublicToken(token, origin), ErrorCode::kSdkOriginNotAllowed);
  ASSERT_OK(store_->AddSdkOrigin(project_, {origin, clock_.Now()}));
  ASSERT_OK(registry.Refresh());
  auto ok = registry.AuthorizePublicToken(token, origin);
  ASSERT_OK(ok);
  EXPECT_EQ((*ok)->project.project_id, project_);
  EXPECT_ERROR(registry.AuthorizePublicToken(token, "http://127.0.0.1:5174"),
               ErrorCode::kSdkOriginNotAllowed);
  EXPECT_ERROR(registry.AuthorizePublicToken(token, "http://127.0.0.1:5173/"),
               ErrorCode::kSdkOriginNotAllowed);
  EXPECT_ERROR(registry.AuthorizePublicToken(token, ""), ErrorCode::kSdkOriginNotAllowed);
  EXPECT_ERROR(registry.AuthorizePublicToken("public-token-test-unknown", origin),
               ErrorCode::kUnauthorizedCredentials);
  // The project id is not its public token.
  EXPECT_ERROR(registry.AuthorizePublicToken(project_, origin),
               ErrorCode::kUnauthorizedCredentials);
  ASSERT_OK(store_->RemoveSdkOrigin(project_, origin));
  ASSERT_OK(registry.Refresh());
  EXPECT_ERROR(registry.AuthorizePublicToken(token, origin), ErrorCode::kSdkOriginNotAllowed);
}

// A project holds one or two secrets: never a third, never none.
TEST_P(StoreTest, SecretsOneOrTwo) {
  auto first = store_->GetProject(project_);
  ASSERT_OK(first);
  const ProjectSecret original = (*first)->secrets.at(0);
  auto v0 = store_->ConfigVersion();
  ASSERT_OK(v0);

  ProjectSecret second{"secret-id-test-00000000-0000-4000-8000-00000000000b",
                       SecretDigest("secret-test-second"), clock_.Now() + std::chrono::seconds(5)};
  ASSERT_OK(store_->AddSecret(project_, second));
  auto v1 = store_->ConfigVersion();
  ASSERT_OK(v1);
  EXPECT_GT(*v1, *v0);  // Pollers reload, so a running server accepts it.
  auto both = store_->GetProject(project_);
  ASSERT_OK(both);
  ASSERT_EQ((*both)->secrets.size(), 2u);
  EXPECT_EQ((*both)->secrets[0].secret_id, original.secret_id);  // Oldest first.
  EXPECT_EQ((*both)->secrets[0].digest, original.digest);
  EXPECT_EQ((*both)->secrets[1].secret_id, second.secret_id);
  EXPECT_EQ((*both)->secrets[1].digest, second.digest);
  EXPECT_EQ((*both)->secrets[1].created_at, second.created_at);
  auto listed = store_->ListProjects();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].secrets.size(), 2u);

  ProjectSecret third{"secret-id-test-00000000-0000-4000-8000-00000000000c",
                      SecretDigest("secret-test-third"), clock_.Now()};
  EXPECT_ERROR(store_->AddSecret(project_, third), ErrorCode::kTooManySecrets);
  EXPECT_ERROR(store_->DeleteSecret(project_, third.secret_id), ErrorCode::kSecretNotFound);
  EXPECT_ERROR(store_->AddSecret("project-test-missing", third), ErrorCode::kProjectNotFound);
  EXPECT_ERROR(store_->DeleteSecret("project-test-missing", original.secret_id),
               ErrorCode::kProjectNotFound);
  // Another project's secret id names nothing here.
  EXPECT_ERROR(store_->DeleteSecret(project_, "secret-id-test-elsewhere"),
               ErrorCode::kSecretNotFound);

  ASSERT_OK(store_->DeleteSecret(project_, original.secret_id));
  auto v2 = store_->ConfigVersion();
  ASSERT_OK(v2);
  EXPECT_GT(*v2, *v1);
  auto left = store_->GetProject(project_);
  ASSERT_OK(left);
  ASSERT_EQ((*left)->secrets.size(), 1u);
  EXPECT_EQ((*left)->secrets[0].secret_id, second.secret_id);
  EXPECT_ERROR(store_->DeleteSecret(project_, second.secret_id), ErrorCode::kLastSecret);
  EXPECT_ERROR(store_->DeleteSecret(project_, original.secret_id), ErrorCode::kSecretNotFound);
  ProjectSecret same_id = third;
  same_id.secret_id = second.secret_id;
  EXPECT_ERROR(store_->AddSecret(project_, same_id), ErrorCode::kInvalidArgument);
  // Refused changes moved nothing.
  auto v3 = store_->ConfigVersion();
  ASSERT_OK(v3);
  EXPECT_EQ(*v3, *v2);

  Project none;
  none.project_id = "project-test-00000000-0000-4000-8000-0000000000aa";
  none.created_at = clock_.Now();
  EXPECT_ERROR(store_->CreateProject(none, {}), ErrorCode::kInvalidArgument);
  Project three = none;
  three.secrets = {original, second, third};
  EXPECT_ERROR(store_->CreateProject(three, {}), ErrorCode::kInvalidArgument);
}

// The limits hold when changes race: of several additions to a project with one secret exactly one
// succeeds, and of two deletions of its two secrets exactly one does.
TEST_P(StoreTest, ConcurrentSecretChangesKeepOneOrTwo) {
  constexpr int kRounds = 5;
  constexpr int kThreads = 4;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Status> added(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        const std::string id = "secret-id-test-00000000-0000-4000-8000-0000000" +
                               std::to_string(10000 + round * 100 + i);
        added[static_cast<std::size_t>(i)] =
            store_->AddSecret(project_, {id, SecretDigest(id), clock_.Now()});
      });
    }
    for (auto& t : threads) t.join();
    int ok = 0;
    for (const auto& s : added) {
      if (s.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(s.code(), ErrorCode::kTooManySecrets) << s.ToString();
      }
    }
    EXPECT_EQ(ok, 1) << "round " << round;

    auto two = store_->GetProject(project_);
    ASSERT_OK(two);
    ASSERT_EQ((*two)->secrets.size(), 2u);
    std::vector<Status> deleted(2);
    threads.clear();
    for (std::size_t i = 0; i < 2; ++i) {
      threads.emplace_back(
          [&, i] { deleted[i] = store_->DeleteSecret(project_, (*two)->secrets[i].secret_id); });
    }
    for (auto& t : threads) t.join();
    EXPECT_NE(deleted[0].ok(), deleted[1].ok())
        << deleted[0].ToString() << " / " << deleted[1].ToString();
    for (const auto& s : deleted) {
      if (!s.ok()) {
        EXPECT_EQ(s.code(), ErrorCode::kLastSecret) << s.ToString();
      }
    }
    auto one = store_->GetProject(project_);
    ASSERT_OK(one);
    ASSERT_EQ((*one)->secrets.size(), 1u) << "round " << round;
  }
}

TEST_P(StoreTest, UsersUniquenessAndVersions) {
  ASSERT_OK(store_->CreateUser(NewUser("user-1", "Ada@Example.com")));
  EXPECT_ERROR(store_->CreateUser(NewUser("user-2", "ada@example.COM")),
               ErrorCode::kDuplicateEmail);
  User with_external = NewUser("user-3", "grace@example.com");
  with_external.external_id = "ext-1";
  ASSERT_OK(store_->CreateUser(with_external));
  User clash = NewUser("user-4", "linus@example.com");
  clash.external_id = "ext-1";
  EXPECT_ERROR(store_->CreateUser(clash), ErrorCode::kDuplicateExternalId);

  auto by_email = store_->GetUserByEmail(project_, "ADA@example.com");
  ASSERT_OK(by_email);
  ASSERT_TRUE(by_email->has_value());
  EXPECT_EQ((*by_email)->user_id, "user-1");
  auto by_external = store_->GetUser(project_, "ext-1");
  ASSERT_OK(by_external);
  ASSERT_TRUE(by_external->has_value());
  EXPECT_EQ((*by_external)->user_id, "user-3");

  User u = **by_email;
  u.first_name = "Ada";
  u.roles = {"admin"};
  u.password = UserPassword{"password-1", "$argon2id$fake", false, clock_.Now()};
  ASSERT_OK(store_->UpdateUser(u));
  EXPECT_ERROR(store_->UpdateUser(u), ErrorCode::kStoreConflict);  // Stale version.
  auto reread = store_->GetUser(project_, "user-1");
  ASSERT_OK(reread);
  EXPECT_EQ((*reread)->version, u.version + 1);
  EXPECT_EQ((*reread)->first_name, "Ada");
  EXPECT_EQ((*reread)->roles, std::vector<std::string>{"admin"});
  ASSERT_TRUE((*reread)->password.has_value());
  User ghost = u;
  ghost.user_id = "user-missing";
  EXPECT_ERROR(store_->UpdateUser(ghost), ErrorCode::kUserNotFound);
}

// The import's batch write: one transaction, one status per user, a refused user undone alone,
// and migrated hash strings kept byte for byte.
TEST_P(StoreTest, CreateUsersReportsEachUserAndKeepsTheRest) {
  ASSERT_OK(store_->CreateUser(NewUser("user-0", "present@example.com")));
  std::vector<User> batch;
  batch.push_back(NewUser("user-1", "one@example.com"));
  batch.back().password = UserPassword{
      "password-1",
      R"(migrated:{"type":"bcrypt","hash":"$2b$04$abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C"})",
      false, clock_.Now()};
  batch.push_back(NewUser("user-2", "PRESENT@example.com"));  // Clashes with the store.
  batch.push_back(NewUser("user-3", "two@example.com"));
  batch.back().external_id = "ext-3";
  batch.push_back(NewUser("user-4", "ONE@example.com"));  // Clashes with user-1 of this batch.
  batch.push_back(NewUser("user-5", "three@example.com"));
  batch.back().external_id = "ext-3";  // Clashes with user-3 of this batch.
  batch.push_back(NewUser("user-6", "four@example.com"));
  batch.back().phone_numbers.push_back({"phone-6", "+15555550100", true});
  batch.push_back(NewUser("user-7", "five@example.com"));
  batch.back().phone_numbers.push_back({"phone-7", "+15555550100", false});

  auto results = store_->CreateUsers(batch);
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), batch.size());
  EXPECT_OK((*results)[0]);
  EXPECT_ERROR((*results)[1], ErrorCode::kDuplicateEmail);
  EXPECT_OK((*results)[2]);
  EXPECT_ERROR((*results)[3], ErrorCode::kDuplicateEmail);
  EXPECT_ERROR((*results)[4], ErrorCode::kDuplicateExternalId);
  EXPECT_OK((*results)[5]);
  EXPECT_ERROR((*results)[6], ErrorCode::kDuplicatePhoneNumber);

  for (const char* id : {"user-1", "user-3", "user-6"}) {
    auto u = store_->GetUser(project_, id);
    ASSERT_OK(u);
    EXPECT_TRUE(u->has_value()) << id;
  }
  for (const char* id : {"user-2", "user-4", "user-5", "user-7"}) {
    auto u = store_->GetUser(project_, id);
    ASSERT_OK(u);
    EXPECT_FALSE(u->has_value()) << id;  // Undone entirely, child rows included.
  }
  auto one = store_->GetUser(project_, "user-1");
  ASSERT_TRUE((*one)->password.has_value());
  EXPECT_EQ((*one)->password->hash, batch[0].password->hash);
  auto six = store_->GetUser(project_, "user-6");
  ASSERT_EQ((*six)->phone_numbers.size(), 1u);
  EXPECT_TRUE((*six)->phone_numbers[0].verified);

  auto empty = store_->CreateUsers({});
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreTest, SessionsRevocationsAndTouches) {
  ASSERT_OK(store_->CreateUser(NewUser("user-1", "a@example.com")));
  const SessionRecord s = NewSession("session-1", "user-1", 7);
  ASSERT_OK(store_->CreateSession(s));
  auto by_token = store_->GetSessionByToken(project_, s.token_digest);
  ASSERT_OK(by_token);
  ASSERT_TRUE(by_token->has_value());
  EXPECT_EQ((*by_token)->token_sealed, s.token_sealed);
  EXPECT_EQ((*by_token)->custom_claims, s.custom_claims);
  // Another project sees nothing.
  auto foreign = store_->GetSessionByToken("project-test-other", s.token_digest);
  ASSERT_OK(foreign);
  EXPECT_FALSE(foreign->has_value());

  auto stamp = store_->GetSessionStamp(project_, "session-1");
  ASSERT_OK(stamp);
  ASSERT_TRUE(stamp->has_value());
  SessionRecord updated = **by_token;
  updated.expires_at += std::chrono::hours(1);
  auto version = store_->UpdateSession(updated);
  ASSERT_OK(version);
  EXPECT_EQ(*version, (*stamp)->session_version + 1);
  // The same base version again: another writer came first.
  EXPECT_ERROR(store_->UpdateSession(updated), ErrorCode::kStoreConflict);
  updated.version = *version;

  // Touches keep the latest time whatever order they arrive in.
  const TimePoint later = clock_.Now() + std::chrono::seconds(30);
  ASSERT_OK(store_->TouchSessions({{project_, "session-1", later}}));
  ASSERT_OK(store_->TouchSessions({{project_, "session-1", later - std::chrono::seconds(20)},
                                   {project_, "session-missing", later}}));
  auto touched = store_->GetSession(project_, "session-1");
  ASSERT_OK(touched);
  EXPECT_EQ((*touched)->last_accessed_at, later);

  auto listed = store_->ListSessions(project_, "user-1", clock_.Now());
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 1u);

  auto revoked = store_->RevokeSession(project_, "session-1", clock_.Now());
  ASSERT_OK(revoked);
  EXPECT_TRUE(*revoked);
  auto again = store_->RevokeSession(project_, "session-1", clock_.Now());
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  auto gone = store_->GetSessionStamp(project_, "session-1");
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  EXPECT_ERROR(store_->UpdateSession(updated), ErrorCode::kSessionNotFound);

  // Deleting a user deletes its sessions and logs one entry for the user, whatever their number.
  ASSERT_OK(store_->CreateSession(NewSession("session-2", "user-1", 8)));
  ASSERT_OK(store_->CreateSession(NewSession("session-3", "user-1", 9)));
  auto deleted = store_->DeleteUser(project_, "user-1", clock_.Now());
  ASSERT_OK(deleted);
  EXPECT_EQ(deleted->size(), 2u);
  auto log = store_->ReadRevocations(project_, 0, 10);
  ASSERT_OK(log);
  ASSERT_EQ(log->entries.size(), 2u);
  EXPECT_EQ(log->head, 2);
  EXPECT_EQ(log->first_kept, 1);
  EXPECT_EQ(log->entries[0].sequence, 1);
  EXPECT_EQ(log->entries[0].kind, RevocationEntry::Kind::kSession);
  EXPECT_EQ(log->entries[0].session_id, "session-1");
  EXPECT_EQ(log->entries[0].user_id, "user-1");
  EXPECT_EQ(log->entries[1].sequence, 2);
  EXPECT_EQ(log->entries[1].kind, RevocationEntry::Kind::kUser);
  EXPECT_EQ(log->entries[1].user_id, "user-1");
  EXPECT_EQ(log->entries[1].session_id, "");
  EXPECT_EQ(log->entries[1].revoked_at, clock_.Now());
  auto tail = store_->ReadRevocations(project_, 1, 10);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->entries.size(), 1u);
  EXPECT_EQ(tail->entries[0].sequence, 2);
  EXPECT_ERROR(store_->DeleteUser(project_, "user-1", clock_.Now()), ErrorCode::kUserNotFound);
}

TEST_P(StoreTest, RevocationLogsArePerProjectDenseAndPruned) {
  // Another project's log has its own numbers.
  auto other = CreateProject(*store_, master_, random_, clock_.Now(), "q", false,
                             ProjectSettings{.jwt_algorithm = JwtAlgorithm::kEdDSA});
  ASSERT_OK(other);
  const std::string q = other->project.project_id;
  auto empty = store_->ReadRevocations(project_, 0, 10);
  ASSERT_OK(empty);
  EXPECT_EQ(empty->head, 0);
  EXPECT_EQ(empty->first_kept, 1);
  EXPECT_TRUE(empty->entries.empty());
  for (const std::string& p : {project_, q}) {
    User u = NewUser("user-" + p, "x" + p.substr(p.size() - 6) + "@example.com");
    u.project_id = p;
    ASSERT_OK(store_->CreateUser(u));
  }
  // Concurrent revocations (several connections) get dense numbers 1..N, each exactly once.
  constexpr int kThreads = 4, kEach = 6;
  for (int i = 0; i < kThreads * kEach; ++i) {
    SessionRecord s = NewSession("s-" + std::to_string(i), "user-" + project_, 0);
    s.token_digest[0] = static_cast<std::uint8_t>(i + 1);
    ASSERT_OK(store_->CreateSession(s));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_OK(
            store_->RevokeSession(project_, "s-" + std::to_string(t * kEach + i), clock_.Now()));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK(store_->DeleteUser(q, "user-" + q, clock_.Now()));
  auto all = store_->ReadRevocations(project_, 0, 100);
  ASSERT_OK(all);
  EXPECT_EQ(all->head, kThreads * kEach);
  ASSERT_EQ(all->entries.size(), static_cast<std::size_t>(kThreads * kEach));
  std::set<std::string> sessions;
  for (std::size_t i = 0; i < all->entries.size(); ++i) {
    EXPECT_EQ(all->entries[i].sequence, static_cast<std::int64_t>(i + 1));
    sessions.insert(all->entries[i].session_id);
  }
  EXPECT_EQ(sessions.size(), all->entries.size());
  auto theirs = store_->ReadRevocations(q, 0, 100);
  ASSERT_OK(theirs);
  EXPECT_EQ(theirs->head, 1);
  // A limit returns the oldest first.
  auto page = store_->ReadRevocations(project_, 3, 2);
  ASSERT_OK(page);
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].sequence, 4);
  // Pruning keeps the counters: the next entry continues the numbers, first_kept moves up.
  auto pruned = store_->PruneRevocations(clock_.Now() + Seconds(1));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, kThreads * kEach + 1);
  auto after = store_->ReadRevocations(project_, 0, 100);
  ASSERT_OK(after);
  EXPECT_EQ(after->head, kThreads * kEach);
  EXPECT_EQ(after->first_kept, kThreads * kEach + 1);
  EXPECT_TRUE(after->entries.empty());
  SessionRecord last = NewSession("s-last", "user-" + project_, 0);
  last.token_digest[0] = 200;
  ASSERT_OK(store_->CreateSession(last));
  ASSERT_OK(store_->RevokeSession(project_, "s-last", clock_.Now()));
  auto next = store_->ReadRevocations(project_, kThreads * kEach, 100);
  ASSERT_OK(next);
  ASSERT_EQ(next->entries.size(), 1u);
  EXPECT_EQ(next->entries[0].sequence, kThreads * kEach + 1);
  EXPECT_EQ(next->first_kept, kThreads * kEach + 1);
}

TEST_P(StoreTest, SsfStreamsStartAtTheLogHeadAndTrackAcknowledgements) {
  ASSERT_OK(store_->CreateUser(NewUser("user-a", "a@example.com")));
  // Revokes `n` sessions of user-a; returns nothing, the log numbers them.
  int next_session = 0;
  const auto revoke = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "s-" + std::to_string(++next_session);
      SessionRecord s = NewSession(id, "user-a", 0);
      s.token_digest[0] = static_cast<std::uint8_t>(next_session);
      ASSERT_OK(store_->CreateSession(s));
      ASSERT_OK(store_->RevokeSession(project_, id, clock_.Now()));
    }
  };
  revoke(2);  // Before the stream: never delivered on it.

  auto none = store_->GetSsfStream(project_);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  SsfStream want;
  want.project_id = project_;
  want.stream_id = "ssf-stream-test-1";
  want.description = "receiver \"A\"";
  want.events_requested = std::vector<std::string>{"urn:x:one", "urn:x:two"};
  want.created_at = clock_.Now();
  want.acked_through = 99;  // Ignored: the store sets it.
  auto created = store_->CreateSsfStream(want);
  ASSERT_OK(created);
  EXPECT_EQ(created->acked_through, 2);
  EXPECT_TRUE(created->acked_after.empty());
  SsfStream second = want;
  second.stream_id = "ssf-stream-test-2";
  EXPECT_ERROR(store_->CreateSsfStream(second), ErrorCode::kSsfStreamExists);

  auto got = store_->GetSsfStream(project_);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->stream_id, "ssf-stream-test-1");
  EXPECT_EQ((*got)->description, want.description);
  EXPECT_EQ((*got)->events_requested, want.events_requested);
  EXPECT_EQ((*got)->created_at, want.created_at);
  EXPECT_EQ((*got)->acked_through, 2);

  revoke(5);  // Entries 3..7.
  // Out of order: 5 and 4 leave a gap at 3; 2 (before the stream) and 50 (beyond the head,
  // never delivered) are ignored; duplicates are harmless.
  auto acked = store_->AckSsfEvents(project_, "ssf-stream-test-1", {5, 4, 2, 50, 5});
  ASSERT_OK(acked);
  EXPECT_EQ(acked->acked_through, 2);
  EXPECT_EQ(acked->acked_after, (std::vector<std::int64_t>{4, 5}));
  // Filling the gap moves acked_through over the run.
  acked = store_->AckSsfEvents(project_, "ssf-stream-test-1", {3, 7});
  ASSERT_OK(acked);
  EXPECT_EQ(acked->acked_through, 5);
  EXPECT_EQ(acked->acked_after, (std::vector<std::int64_t>{7}));
  got = store_->GetSsfStream(project_);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->acked_through, 5);
  EXPECT_EQ((*got)->acked_after, (std::vector<std::int64_t>{7}));

  // Another project, or another stream id, names nothing.
  EXPECT_ERROR(store_->AckSsfEvents(project_, "ssf-stream-test-2", {6}),
               ErrorCode::kSsfStreamNotFound);
  EXPECT_ERROR(store_->AckSsfEvents("project-test-other", "ssf-stream-test-1", {6}),
               ErrorCode::kSsfStreamNotFound);
  EXPECT_ERROR(store_->DeleteSsfStream("project-test-other", "ssf-stream-test-1"),
               ErrorCode::kSsfStreamNotFound);

  // Pruned entries can never be delivered: the next acknowledgement moves over them.
  ASSERT_OK(store_->PruneRevocations(clock_.Now() + Seconds(1)));
  clock_.Advance(Seconds(5));
  revoke(1);  // Entry 8, kept.
  acked = store_->AckSsfEvents(project_, "ssf-stream-test-1", {});
  ASSERT_OK(acked);
  EXPECT_EQ(acked->acked_through, 7);
  EXPECT_TRUE(acked->acked_after.empty());

  // Deleting takes the acknowledgements with it; a new stream starts at the head again.
  ASSERT_OK(store_->AckSsfEvents(project_, "ssf-stream-test-1", {8}));
  EXPECT_ERROR(store_->DeleteSsfStream(project_, "ssf-stream-test-2"),
               ErrorCode::kSsfStreamNotFound);
  ASSERT_OK(store_->DeleteSsfStream(project_, "ssf-stream-test-1"));
  none = store_->GetSsfStream(project_);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  SsfStream bare;
  bare.project_id = project_;
  bare.stream_id = "ssf-stream-test-1";  // The id may come back (ids are random in practice).
  bare.created_at = clock_.Now();
  auto again = store_->CreateSsfStream(bare);
  ASSERT_OK(again);
  EXPECT_EQ(again->acked_through, 8);
  got = store_->GetSsfStream(project_);
  ASSERT_OK(got);
  EXPECT_FALSE((*got)->description.has_value());
  EXPECT_FALSE((*got)->events_requested.has_value());
  EXPECT_TRUE((*got)->acked_after.empty());
}

TEST_P(StoreTest, ConcurrentSsfAcknowledgementsAllCount) {
  ASSERT_OK(store_->CreateUser(NewUser("user-a", "a@example.com")));
  SsfStream s;
  s.project_id = project_;
  s.stream_id = "ssf-stream-test-1";
  s.created_at = clock_.Now();
  ASSERT_OK(store_->CreateSsfStream(s));
  constexpr int kEntries = 40;
  for (int i = 1; i <= kEntries; ++i) {
    SessionRecord r = NewSession("s-" + std::to_string(i), "user-a", 0);
    r.token_digest[0] = static_cast<std::uint8_t>(i);
    ASSERT_OK(store_->CreateSession(r));
    ASSERT_OK(store_->RevokeSession(project_, r.session_id, clock_.Now()));
  }
  // Four receivers' polls acknowledge interleaved entries at once (nodes of one deployment).
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 1 + t; i <= kEntries; i += 4) {
        EXPECT_OK(store_->AckSsfEvents(project_, "ssf-stream-test-1", {i}));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = store_->GetSsfStream(project_);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->acked_through, kEntries);
  EXPECT_TRUE((*got)->acked_after.empty());
}

TEST_P(StoreTest, ASessionOfAMissingUserIsRefused) {
  // Never created, or deleted before the session's insert: nothing is stored either way.
  EXPECT_ERROR(store_->CreateSession(NewSession("session-a", "user-none", 1)),
               ErrorCode::kUserNotFound);
  ASSERT_OK(store_->CreateUser(NewUser("user-1", "a@example.com")));
  ASSERT_OK(store_->DeleteUser(project_, "user-1", clock_.Now()));
  EXPECT_ERROR(store_->CreateSession(NewSession("session-b", "user-1", 2)),
               ErrorCode::kUserNotFound);
  for (const char* id : {"session-a", "session-b"}) {
    auto got = store_->GetSession(project_, id);
    ASSERT_OK(got);
    EXPECT_FALSE(got->has_value()) << id;
  }
  // A user of another project with the same id does not count.
  ASSERT_OK(store_->CreateUser(NewUser("user-2", "b@example.com")));
  SessionRecord foreign = NewSession("session-c", "user-2", 3);
  foreign.project_id = "project-test-other";
  EXPECT_ERROR(store_->CreateSession(foreign), ErrorCode::kUserNotFound);
  EXPECT_OK(store_->CreateSession(NewSession("session-d", "user-2", 4)));
}

TEST_P(StoreTest, PasswordFailuresAreCountedAtomically) {
  ASSERT_OK(store_->CreateUser(NewUser("user-1", "a@example.com")));
  const LockPolicy policy{50, Seconds(600), Seconds(900)};
  // Concurrent failures (several connections) are all counted, none lost to a conflict.
  constexpr int kThreads = 4, kEach = 5;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!store_->RecordPasswordFailure(project_, "user-1", clock_.Now(), policy).ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto user = store_->GetUser(project_, "user-1");
  ASSERT_OK(user);
  EXPECT_EQ((*user)->failed_password_attempts, kThreads * kEach);
  EXPECT_EQ((*user)->version, kThreads * kEach);  // Every failure is a change of the user.
  EXPECT_FALSE((*user)->locked_until.has_value());

  // Reaching the threshold locks and restarts the count.
  const LockPolicy three{3, Seconds(600), Seconds(900)};
  auto fresh_user = NewUser("user-2", "b@example.com");
  ASSERT_OK(store_->CreateUser(fresh_user));
  for (int i = 1; i <= 3; ++i) {
    auto state = store_->RecordPasswordFailure(project_, "user-2", clock_.Now(), three);
    ASSERT_OK(state);
    EXPECT_EQ(state->attempts, i < 3 ? i : 0);
    EXPECT_EQ(state->locked_until.has_value(), i == 3);
  }
  auto locked = store_->GetUser(project_, "user-2");
  ASSERT_OK(locked);
  EXPECT_EQ((*locked)->locked_until, clock_.Now() + Seconds(900));
  EXPECT_ERROR(store_->RecordPasswordFailure(project_, "user-none", clock_.Now(), three),
               ErrorCode::kUserNotFound);
}

TEST_P(StoreTest, UnknownEmailFailuresCountLockAndAgeOut) {
  const LockPolicy policy{3, Seconds(600), Seconds(900)};
  EmailKey a{}, b{};
  a.fill(1);
  b.fill(2);
  auto none = store_->GetUnknownEmailFailures(project_, a);
  ASSERT_OK(none);
  EXPECT_EQ(none->attempts, 0);
  // Concurrent first failures of one address count as two.
  std::thread other(
      [&] { ASSERT_OK(store_->RecordUnknownEmailFailure(project_, a, clock_.Now(), policy)); });
  ASSERT_OK(store_->RecordUnknownEmailFailure(project_, a, clock_.Now(), policy));
  other.join();
  auto two = store_->GetUnknownEmailFailures(project_, a);
  ASSERT_OK(two);
  EXPECT_EQ(two->attempts, 2);
  auto third = store_->RecordUnknownEmailFailure(project_, a, clock_.Now(), policy);
  ASSERT_OK(third);
  EXPECT_EQ(third->locked_until, clock_.Now() + Seconds(900));
  // Another project's address of the same digest is separate.
  auto foreign = store_->GetUnknownEmailFailures("project-test-other", a);
  ASSERT_OK(foreign);
  EXPECT_EQ(foreign->attempts, 0);
  ASSERT_OK(store_->RecordUnknownEmailFailure(project_, b, clock_.Now(), policy));
  // b's window passes after 600 s; a's lock holds until 900 s.
  auto pruned = store_->DeleteStaleUnknownEmailFailures(clock_.Now() + Seconds(700));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1);
  auto kept = store_->GetUnknownEmailFailures(project_, a);
  ASSERT_OK(kept);
  EXPECT_TRUE(kept->locked_until.has_value());
  pruned = store_->DeleteStaleUnknownEmailFailures(clock_.Now() + Seconds(900));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1);
}

TEST_P(StoreTest, SearchFiltersAndPages) {
  for (int i = 0; i < 5; ++i) {
    // Appended, not `"u" + ... + "..."`: GCC 12 reports a false -Wrestrict for that here.
    User u = NewUser("user-" + std::to_string(i),
                     std::string("u").append(std::to_string(i)).append("@example.com"));
    u.created_at = clock_.Now() + std::chrono::seconds(i);
    if (i % 2 == 0) u.password = UserPassword{"pw", "$argon2id$x", false, clock_.Now()};
    if (i == 4) u.status = "pending";
    ASSERT_OK(store_->CreateUser(u));
  }
  auto all = store_->SearchUsers(project_, {}, std::nullopt, 2);
  ASSERT_OK(all);
  EXPECT_EQ(all->total, 5);
  ASSERT_EQ(all->users.size(), 2u);
  ASSERT_TRUE(all->next.has_value());
  auto page2 = store_->SearchUsers(project_, {}, all->next, 2);
  ASSERT_OK(page2);
  EXPECT_EQ(page2->users[0].user_id, "user-2");
  UserQuery q;
  q.filters.push_back({UserFilter::Kind::kPasswordExists, {}, {}, {}, true});
  q.filters.push_back({UserFilter::Kind::kStatus, {"active"}, {}, {}, false});
  auto filtered = store_->SearchUsers(project_, q, std::nullopt, 10);
  ASSERT_OK(filtered);
  EXPECT_EQ(filtered->total, 2);  // user-0 and user-2 (user-4 is pending).
  UserQuery any;
  any.match_any = true;
  any.filters.push_back({UserFilter::Kind::kEmailAddress, {"U1@example.com"}, {}, {}, false});
  any.filters.push_back({UserFilter::Kind::kUserId, {"user-3"}, {}, {}, false});
  auto either = store_->SearchUsers(project_, any, std::nullopt, 10);
  ASSERT_OK(either);
  EXPECT_EQ(either->total, 2);
  UserQuery range;
  range.filters.push_back({UserFilter::Kind::kCreatedAtBetween,
                           {},
                           clock_.Now(),
                           clock_.Now() + std::chrono::seconds(3),
                           false});
  auto between = store_->SearchUsers(project_, range, std::nullopt, 10);
  ASSERT_OK(between);
  EXPECT_EQ(between->total, 2);  // Created at +1 s and +2 s.
}

// --- Email sign-in families ---------------------------------------------------------------------

OneTimeToken NewToken(const std::string& project, const std::string& id, std::uint8_t tag,
                      OneTimeTokenKind kind, TimePoint now) {
  OneTimeToken t;
  t.project_id = project;
  t.token_id = id;
  t.kind = kind;
  t.digest.fill(tag);
  t.user_id = "user-1";
  t.method_id = "email-1";
  t.email = "a@example.com";
  t.created_at = now;
  t.expires_at = now + std::chrono::minutes(10);
  return t;
}

TEST_P(StoreTest, OneTimeTokensAreConsumedOnceAndPasscodesReplaceEachOther) {
  const TimePoint now = clock_.Now();
  OutboxMessage m;
  m.message_id = "message-1";
  m.project_id = project_;
  m.sealed = std::string("sealed\0payload", 14);
  m.created_at = m.next_attempt_at = now;
  m.expires_at = now + std::chrono::minutes(10);
  ASSERT_OK(store_->IssueOneTimeTokens(
      {NewToken(project_, "t1", 1, OneTimeTokenKind::kMagicLink, now)}, false, m));
  OneTimeDigest d;
  d.fill(1);
  auto found = store_->FindOneTimeToken(project_, d);
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->token_id, "t1");
  EXPECT_FALSE((*found)->consumed_at.has_value());
  auto foreign = store_->FindOneTimeToken("project-test-other", d);
  ASSERT_OK(foreign);
  EXPECT_FALSE(foreign->has_value());
  // Concurrent consumers: exactly one wins.
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = store_->ConsumeOneTimeToken(project_, "t1", now);
      if (r.ok() && *r) ++wins;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  // Expired tokens are not consumed.
  ASSERT_OK(store_->IssueOneTimeTokens(
      {NewToken(project_, "t2", 2, OneTimeTokenKind::kMagicLink, now)}, false, std::nullopt));
  auto late = store_->ConsumeOneTimeToken(project_, "t2", now + std::chrono::minutes(10));
  ASSERT_OK(late);
  EXPECT_FALSE(*late);
  // A new passcode consumes the method's previous one.
  ASSERT_OK(store_->IssueOneTimeTokens(
      {NewToken(project_, "c1", 3, OneTimeTokenKind::kEmailOtp, now)}, true, std::nullopt));
  ASSERT_OK(store_->IssueOneTimeTokens(
      {NewToken(project_, "c2", 4, OneTimeTokenKind::kEmailOtp, now)}, true, std::nullopt));
  d.fill(3);
  auto first = store_->FindOneTimeToken(project_, d);
  ASSERT_OK(first);
  EXPECT_TRUE((*first)->consumed_at.has_value());
  d.fill(4);
  auto second = store_->FindOneTimeToken(project_, d);
  ASSERT_OK(second);
  EXPECT_FALSE((*second)->consumed_at.has_value());
  // The message was written with the first token.
  auto claimed = store_->ClaimOutbox(now, Seconds(60), 10, "claim-a");
  ASSERT_OK(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].sealed, m.sealed);
  EXPECT_TRUE(*store_->CompleteOutbox("message-1", "claim-a"));
  auto stats = store_->GetOutboxStats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->pending, 0);
  // Cleanup of expired tokens.
  auto deleted = store_->DeleteExpiredOneTimeTokens(now + std::chrono::minutes(11));
  ASSERT_OK(deleted);
  EXPECT_EQ(*deleted, 4);
}

TEST_P(StoreTest, OutboxClaimsNeverOverlap) {
  const TimePoint now = clock_.Now();
  for (int i = 0; i < 40; ++i) {
    OutboxMessage m;
    m.message_id = "message-" + std::to_string(i);
    m.project_id = project_;
    m.sealed.assign(1, 'x');  // Not `= "x"`: GCC 12 reports a false -Wrestrict for that.
    m.created_at = m.next_attempt_at = now;
    m.expires_at = now + std::chrono::minutes(10);
    ASSERT_OK(store_->IssueOneTimeTokens(
        {NewToken(project_, std::string("t").append(std::to_string(i)),
                  static_cast<std::uint8_t>(i), OneTimeTokenKind::kMagicLink, now)},
        false, m));
  }
  std::mutex mu;
  std::vector<std::string> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto batch = store_->ClaimOutbox(now, Seconds(60), 3, "claim-" + std::to_string(t));
        if (!batch.ok() || batch->empty()) return;
        std::lock_guard lock(mu);
        for (const auto& m : *batch) seen.push_back(m.message_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  // A retried message comes back when due; an abandoned one never does.
  EXPECT_TRUE(*store_->RetryOutbox("message-0", "claim-0", now + Seconds(5), "down") ||
              *store_->RetryOutbox("message-0", "claim-1", now + Seconds(5), "down") ||
              *store_->RetryOutbox("message-0", "claim-2", now + Seconds(5), "down") ||
              *store_->RetryOutbox("message-0", "claim-3", now + Seconds(5), "down"));
  auto early = store_->ClaimOutbox(now + Seconds(4), Seconds(60), 100, "late");
  ASSERT_OK(early);
  EXPECT_TRUE(early->empty());
  auto due = store_->ClaimOutbox(now + Seconds(5), Seconds(60), 100, "late");
  ASSERT_OK(due);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1);
  EXPECT_EQ((*due)[0].last_error, "down");
  EXPECT_TRUE(*store_->AbandonOutbox("message-0", "late", "expired"));
  auto stats = store_->GetOutboxStats();
  ASSERT_OK(stats);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->pending, 39);
}

TEST_P(StoreTest, RedirectUrlsRateLimitsAndUserSessionRevocation) {
  const TimePoint now = clock_.Now();
  ASSERT_OK(store_->AddRedirectUrl({project_, RedirectUrlType::kLogin, "https://a/1", true, now}));
  ASSERT_OK(store_->AddRedirectUrl({project_, RedirectUrlType::kLogin, "https://a/2", true, now}));
  ASSERT_OK(
      store_->AddRedirectUrl({project_, RedirectUrlType::kSignup, "https://a/1", false, now}));
  EXPECT_ERROR(store_->AddRedirectUrl(
                   {"project-test-none", RedirectUrlType::kLogin, "https://a", true, now}),
               ErrorCode::kProjectNotFound);
  auto urls = store_->ListRedirectUrls(project_);
  ASSERT_OK(urls);
  ASSERT_EQ(urls->size(), 3u);
  EXPECT_FALSE((*urls)[0].is_default);  // The second default replaced the first.
  EXPECT_TRUE((*urls)[1].is_default);
  ASSERT_OK(store_->RemoveRedirectUrl(project_, RedirectUrlType::kSignup, "https://a/1"));
  EXPECT_ERROR(store_->RemoveRedirectUrl(project_, RedirectUrlType::kSignup, "https://a/1"),
               ErrorCode::kRedirectUrlNotFound);

  RateLimitKey key;
  key.fill(5);
  for (int i = 1; i <= 3; ++i) {
    auto hits = store_->CountRateLimitHit(key, now, now + Seconds(60));
    ASSERT_OK(hits);
    EXPECT_EQ(*hits, i);
  }
  auto next = store_->CountRateLimitHit(key, now + Seconds(60), now + Seconds(120));
  ASSERT_OK(next);
  EXPECT_EQ(*next, 1);
  auto pruned = store_->DeleteExpiredRateLimits(now + Seconds(61));
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1);

  ASSERT_OK(store_->CreateUser(NewUser("user-1", "a@example.com")));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(store_->CreateSession(
        NewSession("session-" + std::to_string(i), "user-1", static_cast<std::uint8_t>(i))));
  }
  auto revoked = store_->RevokeUserSessions(project_, "user-1", "session-2", now);
  ASSERT_OK(revoked);
  EXPECT_EQ(revoked->size(), 2u);
  auto kept = store_->GetSession(project_, "session-2");
  ASSERT_OK(kept);
  EXPECT_TRUE(kept->has_value());
  auto log = store_->ReadRevocations(project_, 0, 10);
  ASSERT_OK(log);
  ASSERT_EQ(log->entries.size(), 1u);  // One entry for both sessions.
  EXPECT_EQ(log->entries[0].kind, RevocationEntry::Kind::kUser);
  EXPECT_EQ(log->entries[0].user_id, "user-1");
  auto none = store_->RevokeUserSessions(project_, "user-1", "session-2", now);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto log2 = store_->ReadRevocations(project_, 0, 10);
  ASSERT_OK(log2);
  EXPECT_EQ(log2->entries.size(), 1u);  // Nothing revoked, nothing logged.
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST_P(StoreTest, RbacPolicyIsVersionedAndMovesTheConfigVersion) {
  auto none = store_->GetRbacPolicy(project_);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto v0 = store_->ConfigVersion();
  ASSERT_OK(v0);

  auto v1 = store_->PutRbacPolicy(project_, R"({"roles":[]})", 0, clock_.Now());
  ASSERT_OK(v1);
  EXPECT_EQ(*v1, 1);
  auto cv1 = store_->ConfigVersion();
  ASSERT_OK(cv1);
  EXPECT_GT(*cv1, *v0);
  auto got = store_->GetRbacPolicy(project_);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->policy_json, R"({"roles":[]})");
  EXPECT_EQ((*got)->version, 1);
  EXPECT_EQ(ToUnixSeconds((*got)->updated_at), ToUnixSeconds(clock_.Now()));

  // A writer that read version 0 comes second: refused, nothing changed.
  EXPECT_ERROR(store_->PutRbacPolicy(project_, "{}", 0, clock_.Now()), ErrorCode::kStoreConflict);
  auto v2 = store_->PutRbacPolicy(project_, R"({"scopes":[]})", 1, clock_.Now());
  ASSERT_OK(v2);
  EXPECT_EQ(*v2, 2);
  got = store_->GetRbacPolicy(project_);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->policy_json, R"({"scopes":[]})");
  auto cv2 = store_->ConfigVersion();
  ASSERT_OK(cv2);
  EXPECT_GT(*cv2, *cv1);

  EXPECT_ERROR(store_->PutRbacPolicy("project-test-nope", "{}", 0, clock_.Now()),
               ErrorCode::kProjectNotFound);
  auto other = store_->GetRbacPolicy("project-test-nope");
  ASSERT_OK(other);
  EXPECT_FALSE(other->has_value());
}

TEST_P(StoreTest, ConcurrentRbacPolicyWritesFromOneVersionLetOneWin) {
  std::atomic<int> won{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r =
          store_->PutRbacPolicy(project_, "{\"n\":" + std::to_string(i) + "}", 0, clock_.Now());
      if (r.ok()) {
        ++won;
      } else if (r.status().code() == ErrorCode::kStoreConflict) {
        ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(conflicts.load(), 3);
  auto got = store_->GetRbacPolicy(project_);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->version, 1);
}

}  // namespace
}  // namespace tessera
