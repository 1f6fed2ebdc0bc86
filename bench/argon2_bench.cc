// tessera_argon2_bench: the bare Argon2id baselines for password sign-in.
//
//   tessera_argon2_bench --hash-file F --password-file P --threads N --seconds S
//                        [--engine libsodium|libargon2]
//
// Verifies the encoded Argon2id hash in F (a server's stored hash, read by bench/password_bench.sh)
// with the password in P, from N threads of this one process, for S seconds, and prints one line:
//
//   threads=N verifies=V seconds=S rate=R p50_ms=X p99_ms=Y cpu_ms_per_verify=C
//
// --engine libsodium (the default): crypto_pwhash_str_verify, which maps fresh memory for every
// hash. --engine libargon2: libargon2's argon2_ctx with the hash's parameters and salt, each thread
// working in one 2 MiB-aligned region advised for huge pages and reused for every hash, then a
// constant-time comparison.
//
// This is what a sign-in would cost if it were the hash and nothing more: no HTTP, no store, no
// thread hand-offs. Nothing of Tessera is linked in. Every verification must succeed; the program
// exits 1 otherwise.
#include <argon2.h>
#include <sodium.h>
#include <sys/mman.h>
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
               "--seconds S [--engine libsodium|libargon2]\n");
  return 2;
}

// The parts of "$argon2id$v=19$m=M,t=T,p=P$salt$hash" that libargon2's argon2_ctx takes.
struct Decoded {
  unsigned m = 0, t = 0, p = 0;
  std::string salt, hash;
};

bool Base64(const std::string& in, std::string* out) {
  out->assign(in.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out->data()), out->size(), in.data(),
                        in.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
    return false;
  }
  out->resize(len);
  return true;
}

bool Decode(const std::string& encoded, Decoded* d) {
  char salt[128] = {}, hash[256] = {};
  return std::sscanf(encoded.c_str(), "$argon2id$v=19$m=%u,t=%u,p=%u$%127[^$]$%255s", &d->m, &d->t,
                     &d->p, salt, hash) == 5 &&
         Base64(salt, &d->salt) && Base64(hash, &d->hash);
}

// libargon2's allocation callbacks take no context: each thread hands out its own region.
constexpr std::size_t kHugePage = std::size_t{2} << 20;
thread_local std::uint8_t* t_region = nullptr;
thread_local std::size_t t_region_size = 0;
int Allocate(std::uint8_t** memory, std::size_t bytes) {
  *memory = bytes <= t_region_size ? t_region : nullptr;
  return *memory != nullptr ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}
void Free(std::uint8_t*, std::size_t) {}

void MapRegion(std::size_t bytes) {
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* raw =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return;
  const auto base = reinterpret_cast<std::uintptr_t>(raw);
  t_region = reinterpret_cast<std::uint8_t*>((base + kHugePage - 1) / kHugePage * kHugePage);
  t_region_size = bytes;
  madvise(t_region, bytes, MADV_HUGEPAGE);
}

bool VerifyLibargon2(const Decoded& d, const std::string& password) {
  unsigned char out[256];
  argon2_context ctx{};
  ctx.out = out;
  ctx.outlen = static_cast<std::uint32_t>(d.hash.size());
  ctx.pwd = reinterpret_cast<std::uint8_t*>(const_cast<char*>(password.data()));
  ctx.pwdlen = static_cast<std::uint32_t>(password.size());
  ctx.salt = reinterpret_cast<std::uint8_t*>(const_cast<char*>(d.salt.data()));
  ctx.saltlen = static_cast<std::uint32_t>(d.salt.size());
  ctx.t_cost = d.t;
  ctx.m_cost = d.m;
  ctx.lanes = d.p;
  ctx.threads = 1;
  ctx.version = ARGON2_VERSION_13;
  ctx.allocate_cbk = Allocate;
  ctx.free_cbk = Free;
  return argon2_ctx(&ctx, Argon2_id) == ARGON2_OK &&
         sodium_memcmp(out, d.hash.data(), d.hash.size()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* hash_file = nullptr;
  const char* password_file = nullptr;
  int threads = 1;
  double seconds = 10;
  std::string_view engine = "libsodium";
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
    } else if (flag == "--engine") {
      engine = argv[i + 1];
    } else {
      return Usage();
    }
  }
  if (argc % 2 == 0 || hash_file == nullptr || password_file == nullptr || threads < 1 ||
      threads > 1024 || seconds <= 0 || (engine != "libsodium" && engine != "libargon2")) {
    return Usage();
  }
  if (sodium_init() < 0) return 1;
  std::string hash = ReadFile(hash_file);
  const std::string password = ReadFile(password_file);
  if (hash.size() >= crypto_pwhash_STRBYTES) {
    std::fprintf(stderr, "not an encoded Argon2id hash: %s\n", hash_file);
    return 2;
  }
  Decoded decoded;
  const bool libargon2 = engine == "libargon2";
  if (libargon2 && !Decode(hash, &decoded)) {
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
        if (libargon2) MapRegion(std::size_t{decoded.m} * 1024);
        for (auto now = Clock::now(); now < end;) {
          if (libargon2
                  ? !VerifyLibargon2(decoded, password)
                  : crypto_pwhash_str_verify(hash.data(), password.data(), password.size()) != 0) {
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
    std::fprintf(stderr, "verification failed: wrong password or hash\n");
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
