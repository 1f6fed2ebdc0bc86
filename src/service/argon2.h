// Argon2 for PasswordHasher: the PHC string both of its engines read and write, and the libargon2
// computation in memory that the caller keeps and reuses.
//
// The two engines compute the same Argon2id and produce the same strings; they differ in where
// the working memory (19 MiB by default) comes from:
//  * libsodium (crypto_pwhash_str): vectorised code, but every hash maps and populates fresh
//    memory and unmaps it afterwards. Unless the kernel backs that mapping with transparent huge
//    pages (THP "always"), the hash runs on 4 KiB pages and its data-dependent reads over the whole
//    region miss the TLB, which costs more than the vector code saves.
//  * libargon2 (the reference implementation): works in memory handed to it, so each hashing slot
//    keeps one region, advised for huge pages, and reuses it for every hash.
// docs/benchmarks.md ("Password sign-in") has the measurements behind the default.
#ifndef TESSERA_SERVICE_ARGON2_H_
#define TESSERA_SERVICE_ARGON2_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class Argon2Engine {
  kAuto,       // Resolved at startup by ResolveArgon2Engine.
  kLibargon2,  // Reused per-slot memory advised for huge pages.
  kLibsodium,  // Fresh memory per hash.
};

// "auto", "libargon2", "libsodium".
std::string_view Argon2EngineName(Argon2Engine engine);
std::optional<Argon2Engine> ParseArgon2Engine(std::string_view name);

// kAuto becomes kLibsodium when `thp_enabled` (the contents of
// /sys/kernel/mm/transparent_hugepage/enabled) has "[always]" selected, so that libsodium's fresh
// mappings get huge pages, and kLibargon2 otherwise (also when the file could not be read).
// Other values are returned as they are.
Argon2Engine ResolveArgon2Engine(Argon2Engine requested, std::string_view thp_enabled);

// A decoded "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>" (or "$argon2i$...");
// salt and hash in standard base64 without padding, as libsodium and libargon2 write them.
struct Argon2String {
  bool argon2id = true;  // Else Argon2i.
  std::uint32_t memory_kib = 0;
  std::uint32_t iterations = 0;
  std::uint32_t lanes = 1;
  std::string salt;
  std::string hash;
};

// Bounds that ParseArgon2String enforces on a stored string, so that a damaged row can neither
// allocate without limit nor hash for minutes.
inline constexpr std::uint32_t kArgon2MaxMemoryKib = 4 * 1024 * 1024;  // 4 GiB.
inline constexpr std::uint32_t kArgon2MaxIterations = 64;
inline constexpr std::uint32_t kArgon2MaxLanes = 16;

// nullopt unless `encoded` is well formed with version 19, 8..64 salt bytes, 16..128 hash bytes,
// 1..kArgon2MaxLanes lanes, 1..kArgon2MaxIterations passes and 8 x lanes..kArgon2MaxMemoryKib KiB.
std::optional<Argon2String> ParseArgon2String(std::string_view encoded);
std::string EncodeArgon2String(const Argon2String& s);

// Working memory for libargon2: one region per hashing slot (HashLimiter::Slot::index()), mapped
// on first use, aligned to and advised for 2 MiB huge pages, left out of core dumps, and reused by
// every later hash on that slot. libargon2 zeroes the blocks at the end of every hash.
// Thread-safety: Region(i) may be called by one thread at a time per slot i (the holder of slot
// i); different slots need no coordination.
class Argon2Memory {
 public:
  Argon2Memory(int slots, std::size_t bytes_per_slot);
  ~Argon2Memory();
  Argon2Memory(const Argon2Memory&) = delete;
  Argon2Memory& operator=(const Argon2Memory&) = delete;

  // The region of `slot`, at least bytes_per_slot long; empty if it could not be mapped (the hash
  // then maps memory of its own).
  std::span<std::uint8_t> Region(int slot);

  struct Stats {
    std::uint64_t in_region = 0;  // Hashes that ran in a slot's region.
    std::uint64_t one_off = 0;    // Hashes that ran in memory mapped for them alone.
  };
  Stats stats() const { return {in_region_.load(), one_off_.load()}; }
  void Count(bool one_off) { (one_off ? one_off_ : in_region_).fetch_add(1); }

 private:
  const std::size_t bytes_;  // Rounded up to a whole number of huge pages.
  std::vector<std::span<std::uint8_t>> regions_;
  std::atomic<std::uint64_t> in_region_{0};
  std::atomic<std::uint64_t> one_off_{0};
};

// Computes Argon2 (version 19) of `password` with the type, parameters and salt of `s` into
// `out` (s.hash.size() bytes) with libargon2, on the calling thread, in `memory` when it is large
// enough and in a one-off mapping otherwise; sets *one_off accordingly. False when libargon2
// fails (parameters it rejects, no memory).
bool ComputeArgon2(const Argon2String& s, std::string_view password, std::span<std::uint8_t> memory,
                   std::span<std::uint8_t> out, bool* one_off);

}  // namespace tessera

#endif  // TESSERA_SERVICE_ARGON2_H_
