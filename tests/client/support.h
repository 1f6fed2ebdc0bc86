// Test support for the SDK tests: the real `tessera` binary on port 0 with a fresh SQLite file,
// its CLI, a fake clock, a transport wrapper that counts and can be told to fail or lie, and a
// black-hole listener.
//
// Invariant: no server outlives its test. A ServerProcess kills its child in its destructor
// whatever the test's outcome, and the child also gets SIGKILL if the test process dies first
// (PR_SET_PDEATHSIG), so a crashed or aborted test binary leaves nothing running.
#ifndef TESSERA_TESTS_CLIENT_SUPPORT_H_
#define TESSERA_TESTS_CLIENT_SUPPORT_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tessera/client/client.h"
#include "tessera/client/transport.h"
#include "tessera/clock.h"

namespace tessera::client::testing {

// A password zxcvbn scores 4: every sign-up uses it unless the password itself is under test.
inline constexpr char kStrongPassword[] = "correct-Horse-battery-staple-91-Quokka";

// --- Time
// -----------------------------------------------------------------------------------------

// A clock that moves only when the test says so. Starts at the real time, so the server's JWTs
// (whose iat is the server's real clock) are fresh under it until the test advances it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = std::chrono::system_clock::now())
      : now_(start.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void Advance(std::chrono::seconds d) {
    now_.fetch_add(std::chrono::duration_cast<TimePoint::duration>(d).count());
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

// A monotonic clock that moves only when the test says so (the revocation feed's freshness).
class FakeMonotonicClock final : public MonotonicClock {
 public:
  MonotonicTime Now() const override { return MonotonicTime(MonotonicTime::duration(now_.load())); }
  void Advance(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<MonotonicTime::duration>(d).count());
  }

 private:
  // An arbitrary start far from 0, as a real steady clock's would be.
  std::atomic<MonotonicTime::rep> now_{
      std::chrono::duration_cast<MonotonicTime::duration>(std::chrono::hours(1000)).count()};
};

// Sleeps into the next wall-clock second. The server's JWTs have second resolution: two minted
// for the same session state in the same second are byte-identical, so a test that wants to see
// a *new* JWT must let a second boundary pass.
void WaitForNextSecond();

// --- JWT inspection (test-side only; the SDK never exposes raw claims) --------------------------

// The decoded header or payload segment of a compact JWT ("" when malformed).
std::string JwtSegment(std::string_view jwt, int index);
// The header's kid.
std::string JwtKid(std::string_view jwt);
// A top-level integer claim (iat, exp, ...), or nullopt.
std::optional<std::int64_t> JwtIntClaim(std::string_view jwt, std::string_view name);

// The string value of "name" in a flat JSON text, or "" (enough for CLI output).
std::string JsonString(std::string_view json, std::string_view name);

// --- Processes
// -------------------------------------------------------------------------------------

// The `tessera` binary: $TESSERA_BIN, else the path CMake compiled in.
std::string TesseraBinary();

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally.
  std::string out;
  std::string err;
};

// Runs `tessera <args>` to completion with the environment minus every TESSERA_* variable (so a
// developer's TESSERA_DATABASE can never point a test at a real database).
CommandResult RunTessera(const std::vector<std::string>& args);

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Project {
  std::string project_id;
  std::string secret;
};

// `tessera projects create --json` on `database_url`.
::testing::AssertionResult CreateProject(const std::string& database_url, Project& out);
// `tessera keys rotate --project <id>`.
::testing::AssertionResult RotateKeys(const std::string& database_url,
                                      const std::string& project_id);

// One `tessera serve` on 127.0.0.1 port 0. Its stderr is drained by a thread (so the pipe never
// fills) and kept for failure messages.
class ServerProcess {
 public:
  ServerProcess(std::string database_url, std::vector<std::string> extra_args);
  ~ServerProcess();  // Kills the server if it still runs.
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits (up to 60 s) for its "listening" line.
  ::testing::AssertionResult Start();
  // SIGTERM, then waits up to 20 s (SIGKILL and failure after that).
  ::testing::AssertionResult Stop();
  // SIGKILL and reap. Safe to call when not running.
  void Kill();

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;

 private:
  void ReadStderr(int fd);
  void Reap(int timeout_ms, bool* exited);

  std::string database_url_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;  // GUARDED_BY(mu_)
  int port_ = 0;     // Set once, under mu_, when "listening" is seen.
};

// A TCP socket on 127.0.0.1 that listens but never accepts nor answers: connections complete in
// the kernel's backlog and then hear nothing, which is what a hung server looks like.
class BlackHoleListener {
 public:
  BlackHoleListener();
  ~BlackHoleListener();
  BlackHoleListener(const BlackHoleListener&) = delete;
  BlackHoleListener& operator=(const BlackHoleListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
int ClosedPort();

// An HTTP/1.1 server on 127.0.0.1 that answers every request with 200 and a body of `body_bytes`
// bytes, `{"pad":"aaa…"}` (valid JSON when it is sent whole), then closes the connection. Without
// `content_length` the header announces no size, so the client learns it only when the server
// closes; with it, the header announces that many bytes whatever is sent. A body far larger than
// any client limit stands for an endless one: the server stops there (or when the client hangs
// up) so that a client that never stops reading still ends. One connection at a time, on its own
// thread; the destructor stops it.
class StreamingServer {
 public:
  explicit StreamingServer(std::uint64_t body_bytes,
                           std::optional<std::uint64_t> content_length = std::nullopt);
  ~StreamingServer();
  StreamingServer(const StreamingServer&) = delete;
  StreamingServer& operator=(const StreamingServer&) = delete;
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Requests whose headers were read (each got the answer, or as much of it as the client took).
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void Run();
  void Serve(int fd);

  const std::uint64_t body_bytes_;
  const std::optional<std::uint64_t> content_length_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

// --- Transport
// ---------------------------------------------------------------------------------------

// Wraps a transport (or none), counts every request by kind, and can be switched at any time to
// fail every request or to answer every request with a fixed status and body.
class ScriptedTransport final : public Transport {
 public:
  explicit ScriptedTransport(std::shared_ptr<Transport> inner = nullptr)
      : inner_(std::move(inner)) {}

  void PassThrough();
  void FailWith(ErrorKind kind);
  void RespondWith(int status, std::string body);

  // From Hold() until Release(), every request waits in Send before it is answered (then as the
  // mode says), so a test can keep a call in flight while other callers arrive.
  void Hold();
  void Release();
  // Waits until `n` requests are waiting in Send because of Hold() (fails after 60 s).
  ::testing::AssertionResult AwaitHeld(std::uint64_t n);

  Outcome<HttpResponse> Send(const HttpRequest& request) override;

  std::uint64_t requests() const { return requests_.load(); }
  std::uint64_t jwks_requests() const { return jwks_requests_.load(); }
  std::uint64_t api_requests() const { return requests_.load() - jwks_requests_.load(); }
  // "METHOD path" of every request, in order.
  std::vector<std::string> log() const;

 private:
  enum class Mode { kPass, kFail, kRespond };
  std::shared_ptr<Transport> inner_;
  mutable std::mutex mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;        // GUARDED_BY(mu_)
  std::uint64_t held_ = 0;   // GUARDED_BY(mu_): requests waiting because of hold_.
  Mode mode_ = Mode::kPass;  // GUARDED_BY(mu_)
  ErrorKind fail_kind_ = ErrorKind::kTransport;
  HttpResponse canned_;
  std::vector<std::string> log_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> jwks_requests_{0};
};

// --- Fixture
// ---------------------------------------------------------------------------------------

// A fresh SQLite database in a temp dir, a project in it and a running server. Subclasses pass
// extra `serve` flags through ServerArgs().
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  virtual std::vector<std::string> ServerArgs() const { return {}; }

  // Options for a client of `project` (default: the fixture's) against the running server.
  ClientOptions Options(const Project* project = nullptr) const;
  // A client; fails the test (and returns null) when Create refuses the options.
  std::unique_ptr<Client> NewClient(ClientOptions options);
  std::unique_ptr<Client> NewClient() { return NewClient(Options()); }

  // A user with a password and a 60-minute session (the response carries token and JWT).
  PasswordResponse SignUp(Client& client);
  // A further session for an existing user, by password.
  PasswordResponse LogIn(Client& client, const std::string& email, int minutes = 60);
  static std::string UniqueEmail();

  std::string database_url() const { return database_url_; }

  std::unique_ptr<TempDir> dir_;
  std::string database_url_;
  Project project_;
  std::unique_ptr<ServerProcess> server_;
};

// Error pretty-printing for assertion messages.
std::string Describe(const Error& e);
const char* KindName(ErrorKind kind);

}  // namespace tessera::client::testing

// Asserts that `outcome` failed with `kind` (and prints the error otherwise).
#define EXPECT_ERROR_KIND(outcome, expected_kind)                                          \
  do {                                                                                     \
    const auto& tessera_o_ = (outcome);                                                    \
    if (tessera_o_.ok()) {                                                                 \
      ADD_FAILURE() << #outcome << " succeeded; expected "                                 \
                    << ::tessera::client::testing::KindName(expected_kind);                \
    } else {                                                                               \
      EXPECT_EQ(tessera_o_.error().kind, expected_kind)                                    \
          << #outcome << ": " << ::tessera::client::testing::Describe(tessera_o_.error()); \
    }                                                                                      \
  } while (0)

// Asserts a kApi error with this status and error_type, a message and a request id.
#define EXPECT_API_ERROR(outcome, status, type)                                                    \
  do {                                                                                             \
    const auto& tessera_o_ = (outcome);                                                            \
    if (tessera_o_.ok()) {                                                                         \
      ADD_FAILURE() << #outcome << " succeeded; expected API error " << (status) << " " << (type); \
    } else {                                                                                       \
      const ::tessera::client::Error& tessera_e_ = tessera_o_.error();                             \
      EXPECT_EQ(tessera_e_.kind, ::tessera::client::ErrorKind::kApi)                               \
          << ::tessera::client::testing::Describe(tessera_e_);                                     \
      EXPECT_EQ(tessera_e_.status_code, (status));                                                 \
      EXPECT_EQ(tessera_e_.error_type, (type));                                                    \
      EXPECT_FALSE(tessera_e_.error_message.empty());                                              \
      EXPECT_FALSE(tessera_e_.request_id.empty());                                                 \
    }                                                                                              \
  } while (0)

// ASSERT_TRUE(outcome.ok()) with the error printed.
#define ASSERT_OK(outcome)                            \
  ASSERT_TRUE((outcome).ok()) << #outcome << ": "     \
                              << ((outcome).ok()      \
                                      ? std::string() \
                                      : ::tessera::client::testing::Describe((outcome).error()))

#endif  // TESSERA_TESTS_CLIENT_SUPPORT_H_
