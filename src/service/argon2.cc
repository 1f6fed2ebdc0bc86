#include "service/argon2.h"

#include <argon2.h>
#include <sodium.h>
#include <sys/mman.h>

#include <cassert>
#include <charconv>
#include <limits>

#include "common/base64.h"

namespace tessera {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr int kBase64 = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

// Maps `bytes` (a multiple of kHugePage) aligned to kHugePage, so that the kernel can back all of
// it with huge pages; empty on failure.
std::span<std::uint8_t> MapAligned(std::size_t bytes) {
  void* raw =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return {};
  auto* base = static_cast<std::uint8_t*>(raw);
  const std::size_t head =
      (kHugePage - reinterpret_cast<std::uintptr_t>(base) % kHugePage) % kHugePage;
  if (head > 0) munmap(base, head);
  munmap(base + head + bytes, kHugePage - head);
  std::uint8_t* region = base + head;
  // Both are advice: without THP (or on an old kernel) the region works on small pages.
  madvise(region, bytes, MADV_HUGEPAGE);
  madvise(region, bytes, MADV_DONTDUMP);
  return {region, bytes};
}

std::size_t RoundUpToHugePages(std::size_t bytes) {
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

// libargon2's allocation callbacks take no context: ComputeArgon2 points this at the caller's
// memory for the duration of one argon2_ctx call on this thread.
struct CallMemory {
  std::span<std::uint8_t> region;
  bool one_off = false;
};
thread_local CallMemory* t_call = nullptr;

int Allocate(std::uint8_t** memory, std::size_t bytes) {
  CallMemory* call = t_call;
  assert(call != nullptr);
  if (bytes <= call->region.size()) {
    *memory = call->region.data();
    return ARGON2_OK;
  }
  call->one_off = true;
  std::span<std::uint8_t> mapped = MapAligned(RoundUpToHugePages(bytes));
  *memory = mapped.data();  // libargon2 checks for nullptr.
  return mapped.empty() ? ARGON2_MEMORY_ALLOCATION_ERROR : ARGON2_OK;
}

void Free(std::uint8_t* memory, std::size_t bytes) {
  // libargon2 has zeroed the blocks already (its clear_internal_memory, on by default).
  if (memory == t_call->region.data()) return;
  munmap(memory, RoundUpToHugePages(bytes));
}

// "<name>=<decimal>" at the front of `in`, consumed; the decimal without sign or leading zeros.
std::optional<std::uint32_t> TakeNumber(std::string_view& in, std::string_view name) {
  if (in.substr(0, name.size()) != name) return std::nullopt;
  in.remove_prefix(name.size());
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), v);
  const std::size_t n = static_cast<std::size_t>(end - in.data());
  if (ec != std::errc() || n == 0 || (n > 1 && in[0] == '0')) return std::nullopt;
  in.remove_prefix(n);
  return v;
}

bool TakeLiteral(std::string_view& in, std::string_view literal) {
  if (in.substr(0, literal.size()) != literal) return false;
  in.remove_prefix(literal.size());
  return true;
}

std::optional<std::string> DecodeBase64(std::string_view b64, std::size_t min, std::size_t max) {
  std::string bin(max, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), b64.data(),
                        b64.size(), nullptr, &len, &end, kBase64) != 0 ||
      end != b64.data() + b64.size() || len < min) {
    return std::nullopt;
  }
  bin.resize(len);
  return bin;
}

}  // namespace

std::string_view Argon2EngineName(Argon2Engine engine) {
  switch (engine) {
    case Argon2Engine::kAuto:
      return "auto";
    case Argon2Engine::kLibargon2:
      return "libargon2";
    case Argon2Engine::kLibsodium:
      return "libsodium";
  }
  return "unknown";
}

std::optional<Argon2Engine> ParseArgon2Engine(std::string_view name) {
  for (Argon2Engine e : {Argon2Engine::kAuto, Argon2Engine::kLibargon2, Argon2Engine::kLibsodium}) {
    if (name == Argon2EngineName(e)) return e;
  }
  return std::nullopt;
}

Argon2Engine ResolveArgon2Engine(Argon2Engine requested, std::string_view thp_enabled) {
  if (requested != Argon2Engine::kAuto) return requested;
  return thp_enabled.find("[always]") != std::string_view::npos ? Argon2Engine::kLibsodium
                                                                : Argon2Engine::kLibargon2;
}

std::optional<Argon2String> ParseArgon2String(std::string_view in) {
  Argon2String s;
  if (TakeLiteral(in, "$argon2id$")) {
    s.argon2id = true;
  } else if (TakeLiteral(in, "$argon2i$")) {
    s.argon2id = false;
  } else {
    return std::nullopt;
  }
  const auto version = TakeNumber(in, "v=");
  if (version != ARGON2_VERSION_13 || !TakeLiteral(in, "$")) return std::nullopt;
  const auto m = TakeNumber(in, "m=");
  if (!m || !TakeLiteral(in, ",")) return std::nullopt;
  const auto t = TakeNumber(in, "t=");
  if (!t || !TakeLiteral(in, ",")) return std::nullopt;
  const auto p = TakeNumber(in, "p=");
  if (!p || !TakeLiteral(in, "$")) return std::nullopt;
  if (*p < 1 || *p > kArgon2MaxLanes || *t < 1 || *t > kArgon2MaxIterations || *m < 8 * *p ||
      *m > kArgon2MaxMemoryKib) {
    return std::nullopt;
  }
  s.memory_kib = *m;
  s.iterations = *t;
  s.lanes = *p;
  const std::size_t dollar = in.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = DecodeBase64(in.substr(0, dollar), 8, 64);
  auto hash = DecodeBase64(in.substr(dollar + 1), 16, 128);
  if (!salt || !hash) return std::nullopt;
  s.salt = std::move(*salt);
  s.hash = std::move(*hash);
  return s;
}

std::string EncodeArgon2String(const Argon2String& s) {
  std::string out = s.argon2id ? "$argon2id$v=19$m=" : "$argon2i$v=19$m=";
  out.append(std::to_string(s.memory_kib));
  out.append(",t=");
  out.append(std::to_string(s.iterations));
  out.append(",p=");
  out.append(std::to_string(s.lanes));
  out.push_back('$');
  out.append(Base64EncodeUnpadded(AsBytes(s.salt)));
  out.push_back('$');
  out.append(Base64EncodeUnpadded(AsBytes(s.hash)));
  return out;
}

Argon2Memory::Argon2Memory(int slots, std::size_t bytes_per_slot)
    : bytes_(RoundUpToHugePages(bytes_per_slot)), regions_(static_cast<std::size_t>(slots)) {}

Argon2Memory::~Argon2Memory() {
  for (std::span<std::uint8_t> r : regions_) {
    if (!r.empty()) munmap(r.data(), r.size());
  }
}

std::span<std::uint8_t> Argon2Memory::Region(int slot) {
  assert(slot >= 0 && static_cast<std::size_t>(slot) < regions_.size());
  std::span<std::uint8_t>& r = regions_[static_cast<std::size_t>(slot)];
  if (r.empty()) r = MapAligned(bytes_);
  return r;
}

bool ComputeArgon2(const Argon2String& s, std::string_view password, std::span<std::uint8_t> memory,
                   std::span<std::uint8_t> out, bool* one_off) {
  if (password.size() > std::numeric_limits<std::uint32_t>::max() || out.size() != s.hash.size()) {
    return false;
  }
  CallMemory call{memory};
  t_call = &call;
  argon2_context ctx{};
  ctx.out = out.data();
  ctx.outlen = static_cast<std::uint32_t>(out.size());
  // libargon2 reads the password and salt only (the CLEAR flags that would write them are off).
  ctx.pwd = reinterpret_cast<std::uint8_t*>(const_cast<char*>(password.data()));
  ctx.pwdlen = static_cast<std::uint32_t>(password.size());
  ctx.salt = reinterpret_cast<std::uint8_t*>(const_cast<char*>(s.salt.data()));
  ctx.saltlen = static_cast<std::uint32_t>(s.salt.size());
  ctx.t_cost = s.iterations;
  ctx.m_cost = s.memory_kib;
  ctx.lanes = s.lanes;
  ctx.threads = 1;  // On the calling thread: it holds the hashing slot.
  ctx.version = ARGON2_VERSION_13;
  ctx.allocate_cbk = Allocate;
  ctx.free_cbk = Free;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  const int rc = argon2_ctx(&ctx, s.argon2id ? Argon2_id : Argon2_i);
  t_call = nullptr;
  *one_off = call.one_off;
  return rc == ARGON2_OK;
}

}  // namespace tessera
