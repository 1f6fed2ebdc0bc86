// C++ SDK benchmark: what Sessions().AuthenticateJwtLocal costs next to the signature check no
// verifier can avoid, what a verified-cache hit costs, and how local verification scales.
//
//   bench/run_client.sh    (Release build in build-sdk, a real server, this binary, the Node peer)
//
// Measured in one run, so the comparisons share the machine's state:
//   BM_LocalVerifyNoCache        Sessions().AuthenticateJwtLocal of a realistic RS256 session JWT
//                                with the verified-JWT cache disabled (verified_cache_capacity 0):
//                                clock, key-set snapshot, the full verification pipeline, the
//                                session read out of the claims. On 1 and 2 threads.
//   BM_BareOpensslVerify         the baseline: EVP_MD_CTX_new, EVP_DigestVerifyInit(ctx, NULL,
//                                EVP_sha256(), NULL, pkey), EVP_DigestVerify over the JWT's
//                                "header.payload" with the signature already decoded, free. On 1
//                                and 2 threads.
//   BM_PairedLocalVsBare         both alternating one operation at a time, each timed on its own:
//                                the ratio least disturbed by other load on a shared machine.
//   BM_VerifiedCacheHit          the same JWT again with the cache enabled (default capacity).
//   BM_PairedScaling             BM_LocalVerifyNoCache on 1 thread and on 2 threads in alternating
//                                ~5 ms phases: the scaling ratio least disturbed by other load.
//   BM_PairedFeedOverhead/N/C    what the revocation feed's check adds to local verification with N
//                                (0, 5 000, 150 000) live entries, C = 0 with the verified-JWT
//                                cache off, 1 for a cache hit: a client following a feed that
//                                holds N revoked sessions (none of them the JWT's) and one with the
//                                feed off, otherwise identical, in alternating phases; `overhead`
//                                = feed time / no-feed time - 1.
//   BM_FeedVerifiedCacheHit     BM_VerifiedCacheHit with the feed on and 150 000 entries, on 1 and
//                                2 threads: whether the check lets hits scale across threads.
//
// The feed comes from tests/client/feed_server.cc, a real SSE server on 127.0.0.1 read by the
// SDK's libcurl, whatever the JWT's source; its staleness bound is set to a minute so that a busy
// machine cannot make a benchmark measure kFeedStale (the check costs the same whatever the bound).
// The clients of the other benchmarks have the feed off: they measure local verification as it
// was, and are the baselines here.
//
// Where the JWT and the key set come from:
//   * With TESSERA_BENCH_BASE_URL, TESSERA_BENCH_PROJECT_ID, TESSERA_BENCH_SECRET and
//     TESSERA_BENCH_JWT set (run_client.sh does, from a real `tessera serve`): that JWT, and the
//     server's JWKS fetched once by the SDK's own libcurl transport before any timing. The Node
//     peer verifies the very same JWT.
//   * Otherwise, self-contained: a JWT minted here by the core library (two authentication
//     factors, roles, custom claims, as bench/core_bench.cc) and a Transport that serves the
//     matching JWKS from memory.
// Either way no timed operation touches the network: the key set is cached before timing starts.
//
// main() prints the ratios and targets at the end, and one "RESULT key=value" line per figure for
// run_client.sh.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/recording_reporter.h"
#include "common/base64.h"
#include "feed_server.h"
#include "tessera/client/client.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"
#include "tessera/token/session_jwt.h"

namespace tessera::bench {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "client_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}

template <typename T>
T Must(client::Outcome<T> r, const char* what) {
  if (!r.ok()) {
    Die(std::string(what) + ": " + r.error().error_type + ": " + r.error().error_message);
  }
  return std::move(*r);
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

constexpr char kProject[] = "project-test-3f5e0c1a-8d2b-4c7e-9a61-2b7d4e8f0c93";

// As bench/core_bench.cc: signed in by email magic link, stepped up with a password, the default
// role, two custom claims.
SessionClaims RealisticClaims(TimePoint now) {
  SessionClaims c;
  c.project_id = kProject;
  c.user_id = "user-test-6c2e1f0a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
  c.session_id = "session-test-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
  c.started_at = std::chrono::floor<Seconds>(now) - std::chrono::minutes(30);
  c.last_accessed_at = std::chrono::floor<Seconds>(now);
  c.expires_at = std::chrono::floor<Seconds>(now) + std::chrono::hours(24 * 7);
  c.attributes = {"203.0.113.54", "Mozilla/5.0"};
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "magic_link", "delivery_method": "email",
      "last_authenticated_at": "2026-03-01T13:55:15Z",
      "email_factor": {"email_id": "email-test-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                       "email_address": "ada@example.com"}})"));
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "password", "delivery_method": "knowledge",
      "last_authenticated_at": "2026-03-01T14:25:15Z"})"));
  c.roles = {"stytch_user"};
  c.custom_claims = boost::json::parse(R"({"plan": "team", "locale": "en-GB"})").as_object();
  return c;
}

// Serves one JWKS document; anything else is a 503 (no timed operation asks for anything else).
class InMemoryJwksTransport final : public client::Transport {
 public:
  InMemoryJwksTransport(std::string path, std::string jwks)
      : path_(std::move(path)), jwks_(std::move(jwks)) {}
  client::Outcome<client::HttpResponse> Send(const client::HttpRequest& request) override {
    if (request.method == "GET" && request.url.ends_with(path_)) {
      return client::HttpResponse{200, jwks_};
    }
    return client::HttpResponse{503, R"({"status_code":503,"error_type":"bench"})"};
  }

 private:
  std::string path_;
  std::string jwks_;
};

struct Fixture {
  std::string source;  // Where the JWT came from, for the report.
  std::string jwt;
  std::string signing_input;            // "header.payload"
  std::vector<std::uint8_t> signature;  // Decoded.
  std::shared_ptr<const KeySet> keys;   // Holds the baseline's key.
  EVP_PKEY* pkey = nullptr;
  std::unique_ptr<client::Client> uncached;  // verified_cache_capacity 0
  std::unique_ptr<client::Client> cached;    // default capacity
  std::string jwks_json;                     // The key set, for the feed benchmarks' clients.
  client::ClientOptions options;             // Of `cached`.
};

// The entry counts the feed benchmarks run with.
constexpr int kFeedSizes[] = {0, 5000, 150000};

// A feed holding `entries` revoked sessions and the clients that follow it (key set in memory).
struct FeedFixture {
  std::unique_ptr<client::testing::FeedServer> server;
  std::unique_ptr<client::Client> uncached;      // Feed on, verified-JWT cache off.
  std::unique_ptr<client::Client> cached;        // Feed on.
  std::unique_ptr<client::Client> uncached_off;  // Feed off, same key-set source: the baselines.
  std::unique_ptr<client::Client> cached_off;
};

const Fixture& TheFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    client::ClientOptions o;
    std::optional<SigningKey> key;
    if (const char* url = Env("TESSERA_BENCH_BASE_URL")) {
      const char* project = Env("TESSERA_BENCH_PROJECT_ID");
      const char* secret = Env("TESSERA_BENCH_SECRET");
      const char* jwt = Env("TESSERA_BENCH_JWT");
      if (project == nullptr || secret == nullptr || jwt == nullptr) {
        Die("TESSERA_BENCH_BASE_URL needs TESSERA_BENCH_PROJECT_ID, _SECRET and _JWT");
      }
      o.project_id = project;
      o.secret = secret;
      o.base_url = url;
      f->jwt = jwt;
      f->source = std::string("tessera serve at ") + url;
    } else {
      key = Must(SigningKey::Generate(JwtAlgorithm::kRS256, "jwk-test-bench-client"), "keygen");
      const std::string jwks = Must(KeySet::FromKeys({key->public_key()}), "key set")->ToJwksJson();
      o.project_id = kProject;
      o.secret = "secret-test-bench";
      o.base_url = "http://tessera.invalid";
      o.transport = std::make_shared<InMemoryJwksTransport>(
          std::string("/v1/sessions/jwks/") + kProject, jwks);
      const TimePoint now = std::chrono::system_clock::now();
      f->jwt = Must(MintSessionJwt(*key, RealisticClaims(now), now), "mint");
      f->source = "minted in-process (core library), JWKS served from memory";
    }
    o.revocation_feed = false;  // These measure local verification without the feed.
    f->options = o;
    client::ClientOptions uncached = o;
    uncached.verified_cache_capacity = 0;
    f->uncached = Must(client::Client::Create(uncached), "client");
    f->cached = Must(client::Client::Create(o), "client");

    // The baseline's key: the one the JWKS publishes under the JWT's kid.
    const std::string jwks_json = Must(f->uncached->Sessions().GetJwks(), "GET JWKS").json;
    f->jwks_json = jwks_json;
    f->keys = Must(KeySet::FromJwks(jwks_json), "JWKS");
    const std::size_t dot1 = f->jwt.find('.');
    const std::size_t dot2 = f->jwt.rfind('.');
    if (dot1 == std::string::npos || dot1 == dot2) Die("the JWT is not three segments");
    const std::string header = Must(Base64UrlDecode(f->jwt.substr(0, dot1)), "header");
    const std::string kid(boost::json::parse(header).at("kid").as_string());
    const PublicKey* pub = f->keys->Find(kid);
    if (pub == nullptr) Die("the JWKS has no key " + kid);
    f->pkey = pub->pkey();
    f->signing_input = f->jwt.substr(0, dot2);
    const std::string sig = Must(Base64UrlDecode(f->jwt.substr(dot2 + 1)), "signature");
    f->signature.assign(sig.begin(), sig.end());

    // Both clients fetch the key set now, outside every timing; a failure here would make every
    // benchmark measure an error path.
    Must(f->uncached->Sessions().AuthenticateJwtLocal(f->jwt), "AuthenticateJwtLocal (uncached)");
    Must(f->cached->Sessions().AuthenticateJwtLocal(f->jwt), "AuthenticateJwtLocal (cached)");
    return f;
  }();
  return *fixture;
}

const FeedFixture& TheFeedFixture(int entries) {
  static std::mutex mu;
  static std::map<int, FeedFixture*> fixtures;
  std::lock_guard lock(mu);
  FeedFixture*& slot = fixtures[entries];
  if (slot != nullptr) return *slot;
  const Fixture& f = TheFixture();
  auto* ff = new FeedFixture;
  ff->server = std::make_unique<client::testing::FeedServer>(
      client::testing::FeedServer::Options{std::chrono::milliseconds(250)});
  if (!ff->server->ok()) Die("cannot start the fake revocation feed");
  const std::int64_t now = ToUnixSeconds(std::chrono::system_clock::now());
  ff->server->AddSessions(static_cast<std::size_t>(entries), now, now + 3600);

  client::ClientOptions o = f.options;
  o.transport =
      std::make_shared<InMemoryJwksTransport>("/v1/sessions/jwks/" + o.project_id, f.jwks_json);
  o.base_url = ff->server->base_url();
  o.revocation_staleness_bound = std::chrono::seconds(60);
  client::ClientOptions uncached = o;
  uncached.verified_cache_capacity = 0;
  o.revocation_feed = true;
  uncached.revocation_feed = true;
  ff->cached = Must(client::Client::Create(o), "client");
  ff->uncached = Must(client::Client::Create(uncached), "client");
  o.revocation_feed = false;
  uncached.revocation_feed = false;
  ff->cached_off = Must(client::Client::Create(o), "client");
  ff->uncached_off = Must(client::Client::Create(uncached), "client");
  // Outside every timing: both feed clients hold the snapshot, every client the key set.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (const auto* c : {ff->cached.get(), ff->uncached.get()}) {
    while (c->stats().revocation_snapshots == 0 ||
           c->stats().revoked_sessions != static_cast<std::uint64_t>(entries)) {
      if (std::chrono::steady_clock::now() > deadline) Die("no feed snapshot within 120 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  for (auto* c :
       {ff->cached.get(), ff->uncached.get(), ff->cached_off.get(), ff->uncached_off.get()}) {
    Must(c->Sessions().AuthenticateJwtLocal(f.jwt), "AuthenticateJwtLocal (feed fixture)");
  }
  slot = ff;
  return *ff;
}

bool LocalVerify(const client::Client& c, const std::string& jwt) {
  auto r = const_cast<client::Client&>(c).Sessions().AuthenticateJwtLocal(jwt);
  benchmark::DoNotOptimize(r);
  return r.ok();
}

// The baseline, deliberately the plain documented OpenSSL 3 usage (as bench/core_bench.cc).
bool BareVerify(const Fixture& f) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr &&
                  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, f.pkey) == 1 &&
                  EVP_DigestVerify(ctx, f.signature.data(), f.signature.size(),
                                   reinterpret_cast<const unsigned char*>(f.signing_input.data()),
                                   f.signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

void BM_LocalVerifyNoCache(benchmark::State& state) {
  const Fixture& f = TheFixture();
  for (auto _ : state) {
    if (!LocalVerify(*f.uncached, f.jwt)) {
      state.SkipWithError("AuthenticateJwtLocal failed (JWT expired? runs must end within 300 s)");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BareOpensslVerify(benchmark::State& state) {
  const Fixture& f = TheFixture();
  for (auto _ : state) {
    if (!BareVerify(f)) {
      state.SkipWithError("EVP_DigestVerify failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifiedCacheHit(benchmark::State& state) {
  const Fixture& f = TheFixture();
  for (auto _ : state) {
    if (!LocalVerify(*f.cached, f.jwt)) {
      state.SkipWithError("AuthenticateJwtLocal failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Alternating one operation at a time, each timed on its own (as BM_PairedVerify in
// core_bench.cc): both halves see the same machine state. Which goes first alternates too.
void BM_PairedLocalVsBare(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const Fixture& f = TheFixture();
  Clock::duration local{}, bare{};
  bool local_first = true;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    const bool first_ok = local_first ? LocalVerify(*f.uncached, f.jwt) : BareVerify(f);
    const Clock::time_point t1 = Clock::now();
    const bool second_ok = local_first ? BareVerify(f) : LocalVerify(*f.uncached, f.jwt);
    const Clock::time_point t2 = Clock::now();
    if (!first_ok || !second_ok) {
      state.SkipWithError("verification failed");
      break;
    }
    local += local_first ? t1 - t0 : t2 - t1;
    bare += local_first ? t2 - t1 : t1 - t0;
    local_first = !local_first;
  }
  const double n = static_cast<double>(state.iterations());
  const double local_s = std::chrono::duration<double>(local).count();
  const double bare_s = std::chrono::duration<double>(bare).count();
  if (local_s > 0 && bare_s > 0) {
    state.counters["local_per_s"] = n / local_s;
    state.counters["bare_per_s"] = n / bare_s;
    state.counters["ratio"] = bare_s / local_s;  // = local rate / bare rate
  }
}

// 1-thread and 2-thread throughput of the uncached local verification, measured in alternating
// phases of kPhaseOps verifications per thread (~5 ms), so that both see the same machine state:
// on a machine shared with other work, the separate Threads(1) and Threads(2) runs can land in
// quieter or busier moments and their ratio swings by a third. The helper thread lives for the
// whole benchmark and is woken by a condition variable; its wake-up time is counted in the
// 2-thread phase, so the scaling figure errs low, never high. Which phase goes first alternates.
void BM_PairedScaling(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  constexpr int kPhaseOps = 250;
  const Fixture& f = TheFixture();
  const auto run_phase = [&f] {
    bool ok = true;
    for (int i = 0; i < kPhaseOps; ++i) ok = LocalVerify(*f.uncached, f.jwt) && ok;
    return ok;
  };
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, finished = 0;  // GUARDED_BY(mu): phases handed to / done by the helper.
  bool stop = false, helper_ok = true;
  std::thread helper([&] {
    for (int seen = 0;; ++seen) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || started > seen; });
        if (stop) return;
      }
      const bool ok = run_phase();
      {
        std::lock_guard lock(mu);
        ++finished;
        helper_ok = helper_ok && ok;
      }
      cv.notify_all();
    }
  });
  const auto two_threads = [&] {
    {
      std::lock_guard lock(mu);
      ++started;
    }
    cv.notify_all();
    const bool ok = run_phase();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished == started; });
    return ok && helper_ok;
  };
  Clock::duration one{}, two{};
  bool ok = true;
  bool one_first = true;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    ok = (one_first ? run_phase() : two_threads()) && ok;
    const Clock::time_point t1 = Clock::now();
    ok = (one_first ? two_threads() : run_phase()) && ok;
    const Clock::time_point t2 = Clock::now();
    one += one_first ? t1 - t0 : t2 - t1;
    two += one_first ? t2 - t1 : t1 - t0;
    one_first = !one_first;
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  helper.join();
  if (!ok) {
    state.SkipWithError("verification failed");
    return;
  }
  const double ops = static_cast<double>(state.iterations()) * kPhaseOps;
  const double one_s = std::chrono::duration<double>(one).count();
  const double two_s = std::chrono::duration<double>(two).count();
  if (one_s > 0 && two_s > 0) {
    state.counters["one_thread_per_s"] = ops / one_s;
    state.counters["two_threads_per_s"] = 2 * ops / two_s;
    state.counters["scaling"] = 2 * one_s / two_s;
  }
}

// The feed's check: the client with the feed and the one without, in alternating phases of
// equal length (which goes first alternates too), so both see the same machine state. Each side's
// figure is the median of its phases, not their mean: on a shared machine a phase now and then
// loses its core for milliseconds, and a median ignores those phases where a sum would not.
void BM_PairedFeedOverhead(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const Fixture& f = TheFixture();
  const FeedFixture& ff = TheFeedFixture(static_cast<int>(state.range(0)));
  const bool cached = state.range(1) != 0;
  const client::Client& on = cached ? *ff.cached : *ff.uncached;
  const client::Client& off = cached ? *ff.cached_off : *ff.uncached_off;
  const int phase_ops = cached ? 256 : 4;  // ~30 µs and ~100 µs.
  const auto run_phase = [&](const client::Client& c) {
    bool ok = true;
    for (int i = 0; i < phase_ops; ++i) ok = LocalVerify(c, f.jwt) && ok;
    return ok;
  };
  std::vector<double> with, without;  // ns per operation, one per phase.
  bool on_first = true;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    const bool first_ok = run_phase(on_first ? on : off);
    const Clock::time_point t1 = Clock::now();
    const bool second_ok = run_phase(on_first ? off : on);
    const Clock::time_point t2 = Clock::now();
    if (!first_ok || !second_ok) {
      state.SkipWithError("verification failed (feed stale? JWT expired?)");
      break;
    }
    const double first = std::chrono::duration<double, std::nano>(t1 - t0).count() / phase_ops;
    const double second = std::chrono::duration<double, std::nano>(t2 - t1).count() / phase_ops;
    with.push_back(on_first ? first : second);
    without.push_back(on_first ? second : first);
    on_first = !on_first;
  }
  const auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  if (!with.empty()) {
    const double with_ns = median(with);
    const double without_ns = median(without);
    state.counters["feed_ns"] = with_ns;
    state.counters["no_feed_ns"] = without_ns;
    state.counters["overhead"] = with_ns / without_ns - 1;
  }
}

void BM_FeedVerifiedCacheHit(benchmark::State& state) {
  const Fixture& f = TheFixture();
  const FeedFixture& ff = TheFeedFixture(kFeedSizes[2]);
  for (auto _ : state) {
    if (!LocalVerify(*ff.cached, f.jwt)) {
      state.SkipWithError("AuthenticateJwtLocal failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Wall-clock time everywhere, so items_per_second is throughput (summed over threads).
BENCHMARK(BM_LocalVerifyNoCache)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_BareOpensslVerify)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_PairedLocalVsBare)->UseRealTime();
BENCHMARK(BM_VerifiedCacheHit)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_PairedScaling)->UseRealTime();
BENCHMARK(BM_FeedVerifiedCacheHit)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_PairedFeedOverhead)
    ->UseRealTime()
    ->ArgNames({"entries", "cached"})
    ->ArgsProduct({{kFeedSizes[0], kFeedSizes[1], kFeedSizes[2]}, {0, 1}});

constexpr double kRatioTarget = 0.85;         // local / bare verification rate
constexpr double kCacheHitTargetNs = 300;     // per verified-cache hit
constexpr double kScalingTarget = 1.8;        // 2-thread / 1-thread throughput
constexpr double kFeedOverheadTarget = 0.05;  // What the revocation check may add.

const char* Verdict(bool met) { return met ? "met" : "MISSED"; }

void PrintResult(const char* key, std::optional<double> value) {
  if (value) std::printf("RESULT %s=%.6g\n", key, *value);
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Fixture& f = TheFixture();  // Key set fetched, JWT checked, outside every timing.
  std::printf("session JWT: %zu bytes, %s\n", f.jwt.size(), f.source.c_str());
  std::fflush(stdout);

  RecordingReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                                                   : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto rate = [&](const std::string& bm, int threads) {
    return reporter.Median(bm + "/real_time/threads:" + std::to_string(threads),
                           "items_per_second");
  };
  const auto ns = [&](const std::string& bm, int threads) {
    return reporter.Median(bm + "/real_time/threads:" + std::to_string(threads), "ns_per_op");
  };
  const auto cpu_ns = [&](const std::string& bm, int threads) {
    return reporter.Median(bm + "/real_time/threads:" + std::to_string(threads), "cpu_ns_per_op");
  };
  const auto local1 = rate("BM_LocalVerifyNoCache", 1), local2 = rate("BM_LocalVerifyNoCache", 2);
  const auto bare1 = rate("BM_BareOpensslVerify", 1), bare2 = rate("BM_BareOpensslVerify", 2);
  const auto hit1 = rate("BM_VerifiedCacheHit", 1), hit2 = rate("BM_VerifiedCacheHit", 2);
  const auto paired = reporter.Median("BM_PairedLocalVsBare/real_time", "ratio");
  const auto paired_local = reporter.Median("BM_PairedLocalVsBare/real_time", "local_per_s");
  const auto paired_bare = reporter.Median("BM_PairedLocalVsBare/real_time", "bare_per_s");

  std::printf("\nsummary (medians of this run)\n");
  if (paired) {
    std::printf("  (a)/(b) paired: local %.0f/s, bare %.0f/s, ratio %.3f (target >= %.2f: %s)\n",
                paired_local.value_or(0), paired_bare.value_or(0), *paired, kRatioTarget,
                Verdict(*paired >= kRatioTarget));
  }
  if (local1 && bare1) {
    std::printf("  (a)/(b) separate: local %.0f/s, bare %.0f/s, ratio %.3f\n", *local1, *bare1,
                *local1 / *bare1);
  }
  if (hit1) {
    const double hit_ns = 1e9 / *hit1;
    std::printf("  (c) verified-cache hit: %.1f ns/op (target <= %.0f ns: %s)\n", hit_ns,
                kCacheHitTargetNs, Verdict(hit_ns <= kCacheHitTargetNs));
  }
  if (local1 && local2) {
    std::printf("  (d) 2-thread scaling, local: %.3f (target >= %.1f: %s)\n", *local2 / *local1,
                kScalingTarget, Verdict(*local2 / *local1 >= kScalingTarget));
  }
  const auto paired_scaling = reporter.Median("BM_PairedScaling/real_time", "scaling");
  if (paired_scaling) {
    std::printf(
        "  (d) 2-thread scaling, local, paired phases: %.3f (%.0f/s -> %.0f/s; target >= %.1f: "
        "%s)\n",
        *paired_scaling,
        reporter.Median("BM_PairedScaling/real_time", "one_thread_per_s").value_or(0),
        reporter.Median("BM_PairedScaling/real_time", "two_threads_per_s").value_or(0),
        kScalingTarget, Verdict(*paired_scaling >= kScalingTarget));
  }
  if (bare1 && bare2) {
    std::printf("      2-thread scaling, bare OpenSSL (what the machine allows): %.3f\n",
                *bare2 / *bare1);
  }
  if (hit1 && hit2) std::printf("      2-thread scaling, cache hit: %.3f\n", *hit2 / *hit1);
  const auto feed_hit1 = rate("BM_FeedVerifiedCacheHit", 1);
  const auto feed_hit2 = rate("BM_FeedVerifiedCacheHit", 2);
  if (feed_hit1 && feed_hit2) {
    std::printf("      2-thread scaling, cache hit with the feed (150 000 entries): %.3f\n",
                *feed_hit2 / *feed_hit1);
  }
  // Throughput can only double if the second core is free; CPU time per operation shows whether
  // the SDK itself makes two threads slower (contention) regardless of what else runs.
  const auto local_cpu1 = cpu_ns("BM_LocalVerifyNoCache", 1);
  const auto local_cpu2 = cpu_ns("BM_LocalVerifyNoCache", 2);
  const auto bare_cpu1 = cpu_ns("BM_BareOpensslVerify", 1);
  const auto bare_cpu2 = cpu_ns("BM_BareOpensslVerify", 2);
  if (local_cpu1 && local_cpu2 && bare_cpu1 && bare_cpu2) {
    std::printf(
        "      CPU time per op, 1 -> 2 threads: local %.0f -> %.0f ns, bare %.0f -> %.0f ns\n",
        *local_cpu1, *local_cpu2, *bare_cpu1, *bare_cpu2);
  }

  std::printf("  (f) revocation feed check, overhead on local verification (target <= %.0f%%):\n",
              kFeedOverheadTarget * 100);
  for (const int entries : kFeedSizes) {
    for (const int cached : {0, 1}) {
      const std::string name = "BM_PairedFeedOverhead/entries:" + std::to_string(entries) +
                               "/cached:" + std::to_string(cached) + "/real_time";
      const auto overhead = reporter.Median(name, "overhead");
      if (!overhead) continue;
      std::printf("      %6d entries, %-22s %8.1f ns -> %8.1f ns: %+6.2f%% (%s)\n", entries,
                  cached ? "verified-cache hit:" : "verified cache off:",
                  reporter.Median(name, "no_feed_ns").value_or(0),
                  reporter.Median(name, "feed_ns").value_or(0), *overhead * 100,
                  Verdict(*overhead <= kFeedOverheadTarget));
      const std::string key =
          "feed_overhead_" + std::to_string(entries) + (cached ? "_hit" : "_nocache");
      PrintResult(key.c_str(), overhead);
      PrintResult((key + "_feed_ns").c_str(), reporter.Median(name, "feed_ns"));
      PrintResult((key + "_no_feed_ns").c_str(), reporter.Median(name, "no_feed_ns"));
    }
  }

  PrintResult("feed_hit_ops_per_s", feed_hit1);
  PrintResult("feed_hit_ops_per_s_2t", feed_hit2);
  PrintResult("feed_hit_scaling", feed_hit1 && feed_hit2
                                      ? std::optional<double>(*feed_hit2 / *feed_hit1)
                                      : std::nullopt);
  PrintResult("local_ops_per_s", local1);
  PrintResult("local_ns_per_op", ns("BM_LocalVerifyNoCache", 1));
  PrintResult("bare_ops_per_s", bare1);
  PrintResult("bare_ns_per_op", ns("BM_BareOpensslVerify", 1));
  PrintResult("paired_ratio", paired);
  PrintResult("separate_ratio",
              local1 && bare1 ? std::optional<double>(*local1 / *bare1) : std::nullopt);
  PrintResult("hit_ops_per_s", hit1);
  PrintResult("hit_ns_per_op", ns("BM_VerifiedCacheHit", 1));
  PrintResult("local_ops_per_s_2t", local2);
  PrintResult("bare_ops_per_s_2t", bare2);
  PrintResult("hit_ops_per_s_2t", hit2);
  PrintResult("local_scaling",
              local1 && local2 ? std::optional<double>(*local2 / *local1) : std::nullopt);
  PrintResult("paired_scaling", paired_scaling);
  PrintResult("paired_scaling_1t_per_s",
              reporter.Median("BM_PairedScaling/real_time", "one_thread_per_s"));
  PrintResult("paired_scaling_2t_per_s",
              reporter.Median("BM_PairedScaling/real_time", "two_threads_per_s"));
  PrintResult("bare_scaling",
              bare1 && bare2 ? std::optional<double>(*bare2 / *bare1) : std::nullopt);
  PrintResult("local_cpu_ns_1t", local_cpu1);
  PrintResult("local_cpu_ns_2t", local_cpu2);
  PrintResult("bare_cpu_ns_1t", bare_cpu1);
  PrintResult("bare_cpu_ns_2t", bare_cpu2);
  PrintResult("jwt_bytes", static_cast<double>(f.jwt.size()));
  benchmark::Shutdown();
  return 0;
}
