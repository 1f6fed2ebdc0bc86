// tessera_argon2_bench: the bare libsodium baseline for password sign-in.
//
//   tessera_argon2_bench --hash-file F --password-file P --threads N --seconds S
//
// Calls crypto_pwhash_str_verify on the encoded Argon2id hash in F (a server's stored hash, read by
// bench/password_bench.sh) with the password in P, from N threads of this one process, for S
// seconds, and prints one line:
//
//   threads=N verifies=V seconds=S rate=R p50_ms=X p99_ms=Y cpu_ms_per_verify=C
//
// This is what a sign-in would cost if it were the hash and nothing more: no HTTP, no store, no
// thread hand-offs. Nothing of Tessera is linked in. Every verification must succeed; the program
// exits 1 otherwise.
#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(2);
  }
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return tv(u.ru_utime) + tv(u.ru_stime);
}

int Usage() {
  std::fprintf(stderr,
               "usage: tessera_argon2_bench --hash-file F --password-file P --threads N "
               "--seconds S\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const char* hash_file = nullptr;
  const char* password_file = nullptr;
  int threads = 1;
  double seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--hash-file") {
      hash_file = argv[i + 1];
    } else if (flag == "--password-file") {
      password_file = argv[i + 1];
    } else if (flag == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else {
      return Usage();
    }
  }
  if (argc % 2 == 0 || hash_file == nullptr || password_file == nullptr || threads < 1 ||
      threads > 1024 || seconds <= 0) {
    return Usage();
  }
  if (sodium_init() < 0) return 1;
  std::string hash = ReadFile(hash_file);
  const std::string password = ReadFile(password_file);
  if (hash.size() >= crypto_pwhash_STRBYTES) {
    std::fprintf(stderr, "not an encoded Argon2id hash: %s\n", hash_file);
    return 2;
  }
  hash.resize(crypto_pwhash_STRBYTES);  // crypto_pwhash_str_verify reads a STRBYTES buffer.

  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  const double cpu_before = CpuSeconds();
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  {
    std::vector<std::jthread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<double>& mine = latencies[static_cast<std::size_t>(t)];
        for (auto now = Clock::now(); now < end;) {
          if (crypto_pwhash_str_verify(hash.data(), password.data(), password.size()) != 0) {
            failed = true;
            return;
          }
          const auto done = Clock::now();
          mine.push_back(std::chrono::duration<double, std::milli>(done - now).count());
          now = done;
        }
      });
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_before;
  if (failed) {
    std::fprintf(stderr, "crypto_pwhash_str_verify failed: wrong password or hash\n");
    return 1;
  }
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  if (all.empty()) {
    std::fprintf(stderr, "no verification finished in %.1f s\n", seconds);
    return 1;
  }
  std::sort(all.begin(), all.end());
  const auto quantile = [&](double q) {
    return all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))];
  };
  std::printf(
      "threads=%d verifies=%zu seconds=%.3f rate=%.2f p50_ms=%.2f p99_ms=%.2f "
      "cpu_ms_per_verify=%.2f\n",
      threads, all.size(), elapsed, static_cast<double>(all.size()) / elapsed, quantile(0.5),
      quantile(0.99), cpu * 1e3 / static_cast<double>(all.size()));
  return 0;
}
