// Fuzzes what the SDK reads from the revocation feed's stream: the SSE parser (client/sse_parser.h)
// fed the input in chunks of varying size, and each frame decoded as the SDK decodes it
// (client/revocation_frames.h) and applied to a revocation set (client/revocation_set.h).
//
// Beyond "no crash, no leak, no UB", the target aborts when one of these breaks:
//   * the frames are the same however the input is split into chunks (the network splits it
//     anywhere, a CR LF pair included);
//   * the parser never holds more than its limit for the frame in progress;
//   * a failed decode is kProtocol, the only kind the contract names;
//   * every entry a set was built from (and not pruned) is found in it, exactly.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "client/revocation_frames.h"
#include "client/revocation_set.h"
#include "client/sse_parser.h"

namespace {

using tessera::client::SseFrame;

[[noreturn]] void Violated(const char* what) {
  std::fprintf(stderr, "revocation_feed_fuzz: invariant violated: %s\n", what);
  std::abort();
}

constexpr std::size_t kLimit = 4096;

tessera::client::SseLimits Limits() {
  return tessera::client::SseLimits{kLimit, "snapshot", 4 * kLimit};
}

// The frames of `input` fed in chunks whose sizes cycle through `sizes`; false if the parser
// refused the input.
bool Frames(std::string_view input, const std::vector<std::size_t>& sizes,
            std::vector<SseFrame>& out) {
  tessera::client::SseParser parser(Limits());
  std::size_t i = 0;
  while (!input.empty()) {
    const std::size_t n = std::min(input.size(), sizes[i++ % sizes.size()]);
    const bool ok = parser.Feed(input.substr(0, n), [&](SseFrame& f) {
      out.push_back(f);
      return true;
    });
    if (parser.buffered() > 4 * kLimit) Violated("the parser holds more than its limit");
    if (!ok) return false;
    input.remove_prefix(n);
  }
  return true;
}

bool Same(const std::vector<SseFrame>& a, const std::vector<SseFrame>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  }
  return true;
}

template <typename T>
void ExpectProtocolKind(const tessera::client::Outcome<T>& o) {
  if (!o.ok() && o.error().kind != tessera::client::ErrorKind::kProtocol) {
    Violated("a decode failure that is not kProtocol");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera::client;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<SseFrame> whole, bytes, odd;
  const bool ok_whole = Frames(input, {input.size() + 1}, whole);
  const bool ok_bytes = Frames(input, {1}, bytes);
  const bool ok_odd = Frames(input, {3, 1, 7, 2}, odd);
  if (ok_whole != ok_bytes || ok_whole != ok_odd) Violated("chunking changed the verdict");
  if (ok_whole && (!Same(whole, bytes) || !Same(whole, odd))) {
    Violated("chunking changed the frames");
  }

  const IdHasher hasher(42);
  RevocationSetBuilder builder(hasher, nullptr);
  std::vector<RevocationEntry> applied;
  for (const SseFrame& f : whole) {
    if (f.id) (void)ParseEventId(*f.id);
    if (f.event == "snapshot") {
      auto s = DecodeSnapshotFrame(f.data);
      ExpectProtocolKind(s);
      if (s.ok()) {
        builder.Clear();
        applied = s->entries;
      }
    } else if (f.event == "heartbeat") {
      ExpectProtocolKind(DecodeHeartbeatFrame(f.data));
    } else {
      auto e = DecodeRevokeFrame(f.data);
      ExpectProtocolKind(e);
      if (e.ok()) applied.push_back(*e);
    }
  }
  for (const RevocationEntry& e : applied) {
    if (e.kind == RevocationEntry::Kind::kSession) {
      builder.AddSession(e.session_id, e.relevant_until);
    } else {
      builder.AddUser(e.user_id, e.not_before, e.relevant_until);
    }
  }
  builder.Prune(0);
  const auto set = builder.Build();
  for (const RevocationEntry& e : applied) {
    if (e.relevant_until <= 0) continue;
    if (e.kind == RevocationEntry::Kind::kSession) {
      if (!set->SessionRevoked(e.session_id, hasher(e.session_id))) Violated("a session lost");
    } else {
      const auto nb = set->UserNotBefore(e.user_id, hasher(e.user_id));
      if (!nb || *nb < e.not_before) Violated("a user entry lost or lowered");
    }
  }
  return 0;
}
