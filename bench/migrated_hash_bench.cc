// One check of a migrated password hash at the upper bound of each cost parameter
// (MigratedHashBounds): the longest a caller can make one sign-in hold a worker. Also the
// check at the costs exports typically carry. docs/migration.md and docs/benchmarks.md record
// the figures. Each check runs once, and its CPU time is what it takes on an idle core:
//
//   cmake --build build-bench --target tessera_migrated_hash_bench
//   build-bench/bench/tessera_migrated_hash_bench
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "service/migrated_hash.h"

namespace tessera {
namespace {

using B = MigratedHashBounds;

std::string Stored(MigratedHashInput in) {
  auto stored = PrepareMigratedHash(in);
  if (!stored.ok()) {
    std::fprintf(stderr, "%s: %s\n", in.hash_type.c_str(), stored.status().ToString().c_str());
    std::abort();
  }
  return *stored;
}

void Verify(benchmark::State& state, const std::string& stored) {
  for (auto _ : state) {
    auto r = VerifyMigratedHash(stored, "a wrong password");
    if (!r.ok() || *r) std::abort();
  }
}

MigratedHashInput Input(std::string type, std::string hash) {
  MigratedHashInput in;
  in.hash_type = std::move(type);
  in.hash = std::move(hash);
  return in;
}

// The bcrypt salt and checksum characters do not matter for the time; only the cost does.
std::string Bcrypt(int cost) {
  char prefix[8];
  std::snprintf(prefix, sizeof prefix, "$2b$%02d$", cost);
  return std::string(prefix) + "abcdefghijklmnopqrstuu5UWyuxawIwQzpnlr0Mft5nu6B9cYh/C";
}

MigratedHashInput Argon2(std::int64_t memory, std::int64_t passes) {
  MigratedHashInput in = Input("argon_2id", std::string(64, 'a'));
  in.argon_2_config = Argon2Config{"saltsaltsalt", passes, memory, 1, 32};
  return in;
}

MigratedHashInput Scrypt(std::int64_t n, std::int64_t r, std::int64_t p) {
  MigratedHashInput in = Input("scrypt", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  in.scrypt_config = ScryptConfig{"c2FsdHNhbHQ=", n, r, p, 32};
  return in;
}

MigratedHashInput Pbkdf2(std::int64_t iterations, const char* algorithm) {
  const bool sha512 = std::string(algorithm) == "sha512";
  MigratedHashInput in =
      Input("pbkdf_2", sha512 ? std::string(86, 'A') + "==" : std::string(43, 'A') + "=");
  in.pbkdf_2_config = Pbkdf2Config{"c2FsdHNhbHQ=", iterations, sha512 ? 64 : 32, algorithm};
  return in;
}

std::string Phpass(int log2) {
  constexpr std::string_view kItoa64 =
      "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  return std::string("$P$") + kItoa64[log2] + "abcdefgh" + std::string(22, 'a');
}

void Register() {
  const auto add = [](const std::string& name, MigratedHashInput in) {
    benchmark::RegisterBenchmark(
        name.c_str(), [stored = Stored(std::move(in))](benchmark::State& s) { Verify(s, stored); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  };
  // At the bounds.
  add("bound/bcrypt_cost_15", Input("bcrypt", Bcrypt(B::kBcryptMaxCost)));
  add("bound/argon2id_256MiB_t4", Argon2(B::kArgon2MaxMemoryKib, 4));
  add("bound/scrypt_N2^18_r8_p2", Scrypt(B::kScryptMaxN, 8, 2));
  add("bound/pbkdf2_sha512_2M", Pbkdf2(B::kPbkdf2MaxIterations, "sha512"));
  add("bound/pbkdf2_sha256_2M", Pbkdf2(B::kPbkdf2MaxIterations, "sha256"));
  add("bound/phpass_2^20", Input("phpass", Phpass(B::kPhpassMaxLog2)));
  // What exports usually carry.
  add("typical/bcrypt_cost_10_auth0", Input("bcrypt", Bcrypt(10)));
  add("typical/bcrypt_cost_12", Input("bcrypt", Bcrypt(12)));
  add("typical/argon2id_64MiB_t3", Argon2(65536, 3));
  add("typical/scrypt_N2^14_r8_p1", Scrypt(16384, 8, 1));
  add("typical/pbkdf2_sha256_870k_django", Pbkdf2(870000, "sha256"));
  add("typical/phpass_2^13_wordpress", Input("phpass", Phpass(13)));
  MigratedHashInput md5 = Input("md_5", std::string(32, '0'));
  md5.md_5_config = SaltConfig{"pre", "app"};
  add("typical/md_5_salted", md5);
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  tessera::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
