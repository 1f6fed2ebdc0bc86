// Core library benchmark: what one session-JWT verification costs next to the signature check
// that no verifier can avoid.
//
//   bench/run_core.sh      (Release build in build-bench, then this binary)
//
// Measured in one run, so the comparison shares the machine's state:
//   BM_VerifyJwt/<alg>          full VerifyJwt of a realistic session JWT (MintSessionJwt: two
//                               authentication factors, roles ["stytch_user"], custom claims;
//                               about 900 bytes of payload), every check of the pipeline included.
//   BM_BareOpensslVerify/<alg>  the baseline: plain, idiomatic OpenSSL verification of the same
//                               "header.payload" bytes with the signature already decoded:
//                               EVP_MD_CTX_new, EVP_DigestVerifyInit(ctx, NULL, EVP_sha256() (NULL
//                               for Ed25519), NULL, pkey), EVP_DigestVerify, EVP_MD_CTX_free. For
//                               ES256 the signature is handed over already converted to DER, so
//                               the baseline does not even pay the JOSE R||S to DER conversion
//                               that VerifyJwt must do.
//   BM_MintSessionJwt/<alg>     minting the same JWT (sign included).
//   BM_GenerateSessionToken     a 44-character session token from the system CSPRNG.
//   BM_PairedVerify/<alg>       full and bare verification alternating one operation at a time,
//                               timed separately: the ratio least disturbed by other load.
//   .../RS256_mt                RS256 full and bare verification on 1 and 2 threads (throughput).
//
// After the runs, main() prints full/bare rate ratios per algorithm, paired and from the separate
// benchmarks; the target for RS256 is 0.85.
#include <benchmark/benchmark.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/recording_reporter.h"
#include "common/base64.h"
#include "tessera/random.h"
#include "tessera/token/jwt.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"
#include "tessera/token/session_jwt.h"
#include "tessera/token/session_token.h"

namespace tessera::bench {
namespace {

constexpr std::int64_t kMintTime = 1772375115;  // 2026-03-01T14:25:15Z
// Verification happens a minute after minting, well inside the JWT's five minutes.
constexpr std::int64_t kVerifyTime = kMintTime + 60;
constexpr std::string_view kProject = "project-live-3f5e0c1a-8d2b-4c7e-9a61-2b7d4e8f0c93";
constexpr std::array<JwtAlgorithm, 3> kAlgorithms = {JwtAlgorithm::kRS256, JwtAlgorithm::kES256,
                                                     JwtAlgorithm::kEdDSA};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "core_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}

// A session as a real user's looks: signed in by email magic link, then stepped up with a
// password; the default role; a few custom claims set by the application.
SessionClaims RealisticClaims() {
  SessionClaims c;
  c.project_id = std::string(kProject);
  c.user_id = "user-live-6c2e1f0a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
  c.session_id = "session-live-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
  c.started_at = FromUnixSeconds(kMintTime - 1800);
  c.last_accessed_at = FromUnixSeconds(kMintTime);
  c.expires_at = FromUnixSeconds(kMintTime + 7 * 24 * 3600);
  c.attributes = {"203.0.113.54", "Mozilla/5.0"};
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "magic_link", "delivery_method": "email",
      "last_authenticated_at": "2026-03-01T13:55:15Z",
      "email_factor": {"email_id": "email-live-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                       "email_address": "ada@example.com"}})"));
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "password", "delivery_method": "knowledge",
      "last_authenticated_at": "2026-03-01T14:25:15Z"})"));
  c.roles = {"stytch_user"};
  c.custom_claims = boost::json::parse(R"({"plan": "team", "locale": "en-GB"})").as_object();
  return c;
}

// Everything the benchmarks read, built once before any timing starts.
struct Fixture {
  std::vector<SigningKey> keys;  // Indexed by JwtAlgorithm.
  std::shared_ptr<const KeySet> key_set;
  JwtVerifyOptions options = SessionJwtOptions(kProject);
  SessionClaims claims = RealisticClaims();
  std::array<std::string, 3> jwt;
  std::array<std::string, 3> signing_input;                 // "header.payload"
  std::array<std::vector<std::uint8_t>, 3> bare_signature;  // Decoded; DER for ES256.
  std::size_t payload_bytes = 0;
};

// JOSE R||S to the DER form EVP_DigestVerify expects for ECDSA.
std::vector<std::uint8_t> EcdsaDer(std::span<const std::uint8_t> raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr || raw.size() != 64 ||
      ECDSA_SIG_set0(sig, BN_bin2bn(raw.data(), 32, nullptr),
                     BN_bin2bn(raw.data() + 32, 32, nullptr)) != 1) {
    Die("ECDSA signature conversion");
  }
  std::vector<std::uint8_t> der(static_cast<std::size_t>(i2d_ECDSA_SIG(sig, nullptr)));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig, &p);
  ECDSA_SIG_free(sig);
  return der;
}

const Fixture& TheFixture() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    std::vector<std::shared_ptr<const PublicKey>> pubs;
    for (const JwtAlgorithm alg : kAlgorithms) {
      f->keys.push_back(
          Must(SigningKey::Generate(alg, "jwk-live-bench-" + std::string(AlgorithmName(alg))),
               "keygen"));
      pubs.push_back(f->keys.back().public_key());
    }
    f->key_set = Must(KeySet::FromKeys(std::move(pubs)), "key set");
    for (const JwtAlgorithm alg : kAlgorithms) {
      const auto i = static_cast<std::size_t>(alg);
      f->jwt[i] = Must(MintSessionJwt(f->keys[i], f->claims, FromUnixSeconds(kMintTime)), "mint");
      const std::size_t dot2 = f->jwt[i].rfind('.');
      const std::size_t dot1 = f->jwt[i].find('.');
      f->signing_input[i] = f->jwt[i].substr(0, dot2);
      const std::string sig = Must(Base64UrlDecode(f->jwt[i].substr(dot2 + 1)), "signature");
      f->bare_signature[i].assign(sig.begin(), sig.end());
      if (alg == JwtAlgorithm::kES256) f->bare_signature[i] = EcdsaDer(f->bare_signature[i]);
      f->payload_bytes =
          Must(Base64UrlDecode(f->jwt[i].substr(dot1 + 1, dot2 - dot1 - 1)), "payload").size();
      // A benchmark of a failing verification would measure the wrong thing.
      Must(VerifyJwt(f->jwt[i], *f->key_set, f->options, FromUnixSeconds(kVerifyTime)), "verify");
    }
    return f;
  }();
  return *fixture;
}

bool FullVerify(const Fixture& f, std::size_t i, TimePoint now) {
  Result<VerifiedJwt> verified = VerifyJwt(f.jwt[i], *f.key_set, f.options, now);
  benchmark::DoNotOptimize(verified);
  return verified.ok();
}

// The baseline. Deliberately the plain, documented OpenSSL 3 usage a developer would write: a new
// context per verification, EVP_sha256() (NULL for Ed25519), one-shot EVP_DigestVerify over the
// signing input, with the signature already decoded (and, for ES256, already in DER).
bool BareVerify(const Fixture& f, std::size_t i) {
  EVP_PKEY* pkey = f.keys[i].public_key()->pkey();
  const EVP_MD* md = kAlgorithms[i] == JwtAlgorithm::kEdDSA ? nullptr : EVP_sha256();
  const std::vector<std::uint8_t>& sig = f.bare_signature[i];
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx, sig.data(), sig.size(),
                       reinterpret_cast<const unsigned char*>(f.signing_input[i].data()),
                       f.signing_input[i].size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

void BM_VerifyJwt(benchmark::State& state, JwtAlgorithm alg) {
  const Fixture& f = TheFixture();
  const auto i = static_cast<std::size_t>(alg);
  const TimePoint now = FromUnixSeconds(kVerifyTime);
  for (auto _ : state) {
    if (!FullVerify(f, i, now)) {
      state.SkipWithError("VerifyJwt failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BareOpensslVerify(benchmark::State& state, JwtAlgorithm alg) {
  const Fixture& f = TheFixture();
  const auto i = static_cast<std::size_t>(alg);
  for (auto _ : state) {
    if (!BareVerify(f, i)) {
      state.SkipWithError("EVP_DigestVerify failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Full and bare verification alternating one operation at a time, each timed on its own. On a
// machine shared with other work, separate benchmarks can land in quieter or busier moments (runs
// here vary by 25%); alternating puts both under the same conditions, so their ratio is the
// steadier figure. Which goes first alternates too, so neither always finds the caches warmed by
// the other. The timer reads (~20 ns) are under 0.2% of the shortest operation measured.
void BM_PairedVerify(benchmark::State& state, JwtAlgorithm alg) {
  using Clock = std::chrono::steady_clock;
  const Fixture& f = TheFixture();
  const auto i = static_cast<std::size_t>(alg);
  const TimePoint now = FromUnixSeconds(kVerifyTime);
  Clock::duration full{}, bare{};
  bool full_first = true;
  for (auto _ : state) {
    const Clock::time_point t0 = Clock::now();
    const bool first_ok = full_first ? FullVerify(f, i, now) : BareVerify(f, i);
    const Clock::time_point t1 = Clock::now();
    const bool second_ok = full_first ? BareVerify(f, i) : FullVerify(f, i, now);
    const Clock::time_point t2 = Clock::now();
    if (!first_ok || !second_ok) {
      state.SkipWithError("verification failed");
      break;
    }
    full += full_first ? t1 - t0 : t2 - t1;
    bare += full_first ? t2 - t1 : t1 - t0;
    full_first = !full_first;
  }
  const double n = static_cast<double>(state.iterations());
  const double full_s = std::chrono::duration<double>(full).count();
  const double bare_s = std::chrono::duration<double>(bare).count();
  if (full_s > 0 && bare_s > 0) {
    state.counters["full_per_s"] = n / full_s;
    state.counters["bare_per_s"] = n / bare_s;
    state.counters["ratio"] = bare_s / full_s;  // = full rate / bare rate
  }
}

void BM_MintSessionJwt(benchmark::State& state, JwtAlgorithm alg) {
  const Fixture& f = TheFixture();
  const SigningKey& key = f.keys[static_cast<std::size_t>(alg)];
  const TimePoint now = FromUnixSeconds(kMintTime);
  for (auto _ : state) {
    Result<std::string> jwt = MintSessionJwt(key, f.claims, now);
    if (!jwt.ok()) {
      state.SkipWithError("MintSessionJwt failed");
      break;
    }
    benchmark::DoNotOptimize(jwt);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_GenerateSessionToken(benchmark::State& state) {
  RandomSource& random = SystemRandom();
  for (auto _ : state) {
    Result<std::string> token = GenerateSessionToken(random);
    if (!token.ok()) {
      state.SkipWithError("GenerateSessionToken failed");
      break;
    }
    benchmark::DoNotOptimize(token);
  }
  state.SetItemsProcessed(state.iterations());
}

// Wall-clock time everywhere, so items_per_second is throughput (across threads for the _mt runs).
BENCHMARK_CAPTURE(BM_VerifyJwt, RS256, JwtAlgorithm::kRS256)->UseRealTime();
BENCHMARK_CAPTURE(BM_BareOpensslVerify, RS256, JwtAlgorithm::kRS256)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyJwt, ES256, JwtAlgorithm::kES256)->UseRealTime();
BENCHMARK_CAPTURE(BM_BareOpensslVerify, ES256, JwtAlgorithm::kES256)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyJwt, EdDSA, JwtAlgorithm::kEdDSA)->UseRealTime();
BENCHMARK_CAPTURE(BM_BareOpensslVerify, EdDSA, JwtAlgorithm::kEdDSA)->UseRealTime();
BENCHMARK_CAPTURE(BM_VerifyJwt, RS256_mt, JwtAlgorithm::kRS256)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);
BENCHMARK_CAPTURE(BM_BareOpensslVerify, RS256_mt, JwtAlgorithm::kRS256)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);
BENCHMARK_CAPTURE(BM_PairedVerify, RS256, JwtAlgorithm::kRS256)->UseRealTime();
BENCHMARK_CAPTURE(BM_PairedVerify, ES256, JwtAlgorithm::kES256)->UseRealTime();
BENCHMARK_CAPTURE(BM_PairedVerify, EdDSA, JwtAlgorithm::kEdDSA)->UseRealTime();
BENCHMARK_CAPTURE(BM_MintSessionJwt, RS256, JwtAlgorithm::kRS256)->UseRealTime();
BENCHMARK_CAPTURE(BM_MintSessionJwt, ES256, JwtAlgorithm::kES256)->UseRealTime();
BENCHMARK_CAPTURE(BM_MintSessionJwt, EdDSA, JwtAlgorithm::kEdDSA)->UseRealTime();
BENCHMARK(BM_GenerateSessionToken)->UseRealTime();

constexpr double kRs256Target = 0.85;

void PrintRatio(const std::string& label, std::optional<double> full, std::optional<double> bare,
                std::optional<double> ratio, bool is_target) {
  if (!full || !bare || !ratio) return;  // Filtered out with --benchmark_filter.
  std::printf("  %-16s full %9.0f/s   bare %9.0f/s   ratio %.3f", label.c_str(), *full, *bare,
              *ratio);
  if (is_target) {
    std::printf("   (target >= %.2f: %s)", kRs256Target, *ratio >= kRs256Target ? "met" : "MISSED");
  }
  std::printf("\n");
}

// Ratio of the medians of two separate benchmarks.
void PrintSeparateRatio(const RecordingReporter& r, const std::string& label,
                        const std::string& full, const std::string& bare, bool is_target) {
  const auto f = r.Median(full, "items_per_second");
  const auto b = r.Median(bare, "items_per_second");
  PrintRatio(label, f, b, f && b ? std::optional<double>(*f / *b) : std::nullopt, is_target);
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Fixture& f = TheFixture();  // Key generation and minting, outside every timing.
  std::printf("session JWT: payload %zu bytes; token %zu (RS256), %zu (ES256), %zu (EdDSA) bytes\n",
              f.payload_bytes, f.jwt[0].size(), f.jwt[1].size(), f.jwt[2].size());
  std::fflush(stdout);

  // Colour only on a terminal, as benchmark's own default reporter does.
  RecordingReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                                                   : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::printf("\nfull VerifyJwt rate / bare OpenSSL verify rate, this run\n");
  std::printf("paired (BM_PairedVerify, alternating per operation; median of repetitions):\n");
  for (const char* alg : {"RS256", "ES256", "EdDSA"}) {
    const std::string name = "BM_PairedVerify/" + std::string(alg) + "/real_time";
    PrintRatio(alg, reporter.Median(name, "full_per_s"), reporter.Median(name, "bare_per_s"),
               reporter.Median(name, "ratio"), std::string(alg) == "RS256");
  }
  std::printf("separate benchmarks (BM_VerifyJwt / BM_BareOpensslVerify medians):\n");
  for (const char* alg : {"RS256", "ES256", "EdDSA"}) {
    const std::string a = alg;
    PrintSeparateRatio(reporter, a, "BM_VerifyJwt/" + a + "/real_time",
                       "BM_BareOpensslVerify/" + a + "/real_time", a == "RS256");
  }
  for (const char* threads : {"1", "2"}) {
    const std::string suffix = "/real_time/threads:" + std::string(threads);
    PrintSeparateRatio(reporter, "RS256 threads:" + std::string(threads),
                       "BM_VerifyJwt/RS256_mt" + suffix, "BM_BareOpensslVerify/RS256_mt" + suffix,
                       false);
  }
  benchmark::Shutdown();
  return 0;
}
