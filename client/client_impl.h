// Client::Impl: what a Client is behind its endpoint facades (sessions.cc, users.cc, passwords.cc,
// rbac.cc): the transport, the JWKS and RBAC policy caches, the verified-JWT cache, the revocation
// feed, local verification and the counters. Internal to the SDK: not installed; include only from
// client/.
//
// Exported symbols: Impl is nested in the exported Client, so it takes default visibility, and a
// member function defined out of line (client.cc) would join the library's exported symbols; each
// is declared TESSERA_CLIENT_HIDDEN. The constructor stays defined here, inline (hidden by
// -fvisibility-inlines-hidden), as before Impl had a header: marking it hidden would also hide the
// type_info of its lambdas, which the library has always exported.
#ifndef TESSERA_CLIENT_CLIENT_IMPL_H_
#define TESSERA_CLIENT_CLIENT_IMPL_H_

#include <sched.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/jwks_cache.h"
#include "client/policy_cache.h"
#include "client/revocation_feed.h"
#include "client/verified_cache.h"
#include "common/base64.h"
#include "tessera/client/client.h"
#include "tessera/token/jwt.h"
#include "tessera/token/session_jwt.h"

#define TESSERA_CLIENT_HIDDEN __attribute__((visibility("hidden")))

namespace tessera::client {

// The revocation feed's frames other than the snapshot.
constexpr std::size_t kMaxFeedFrameBytes = std::size_t{1} << 20;

// A counter that threads on different CPUs add to without sharing a cache line: a verified-cache
// hit costs ~100 ns, and one shared counter bouncing between cores would be a sizeable part of
// it. Each add goes to the cell of the CPU the thread runs on (sched_getcpu is a read of the
// kernel-maintained rseq area); a thread that migrates meanwhile just adds to another cell.
class StripedCounter {
 public:
  void Add() {
    const int cpu = sched_getcpu();
    cells_[static_cast<unsigned>(cpu < 0 ? 0 : cpu) % kCells].n.fetch_add(
        1, std::memory_order_relaxed);
  }
  std::uint64_t Load() const {
    std::uint64_t sum = 0;
    for (const Cell& c : cells_) sum += c.n.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kCells = 16;
  struct alignas(64) Cell {
    std::atomic<std::uint64_t> n{0};
  };
  std::array<Cell, kCells> cells_;
};

class Client::Impl {
 public:
  explicit Impl(ClientOptions o)
      : options_(std::move(o)),
        clock_(options_.clock ? options_.clock
                              : std::shared_ptr<const Clock>(&SystemClock(), [](const Clock*) {})),
        transport_(options_.transport
                       ? options_.transport
                       : NewCurlTransport({options_.connect_timeout, options_.request_timeout})),
        base_url_(options_.base_url),
        authorization_("Basic " +
                       Base64Encode(AsBytes(options_.project_id + ":" + options_.secret))),
        // Coarse by default: it is read on every local verification, and a precise read costs
        // tens of nanoseconds in a VM; the feed takes its resolution off the bound.
        steady_clock_(options_.steady_clock
                          ? options_.steady_clock
                          : std::shared_ptr<const MonotonicClock>(&CoarseSteadyClock(),
                                                                  [](const MonotonicClock*) {})),
        jwks_([this] { return FetchJwksText(); }, *clock_, options_.jwks_refresh_interval,
              options_.jwks_min_refetch_interval),
        policy_([this] { return FetchPolicyText(); }, *clock_,
                options_.rbac_policy_refresh_interval, options_.jwks_min_refetch_interval),
        verified_(options_.verified_cache_capacity) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    // The client's tolerance is built in, so that the usual call copies no options.
    verify_options_ = SessionJwtOptions(options_.project_id, {base_url_}, options_.clock_tolerance);
    if (options_.revocation_feed) {
      RevocationFeedOptions f;
      f.url = base_url_ + "/v1/sessions/revocations";
      f.authorization = authorization_;
      f.staleness_bound = options_.revocation_staleness_bound;
      f.heartbeat_timeout = options_.revocation_heartbeat_timeout;
      f.connect_timeout = options_.connect_timeout;
      f.max_backoff = options_.revocation_reconnect_max_backoff;
      f.clock_tolerance = options_.clock_tolerance;
      f.max_frame_bytes = kMaxFeedFrameBytes;
      f.max_snapshot_bytes = options_.revocation_max_snapshot_bytes;
      feed_ = std::make_unique<RevocationFeed>(std::move(f), *clock_, *steady_clock_);
      feed_->Start();
    }
  }

  // One API call: JSON in, JSON object out, errors typed.
  TESSERA_CLIENT_HIDDEN Outcome<boost::json::object> Call(
      const std::string& method, const std::string& path,
      const std::optional<boost::json::object>& body);

  // The body of GET /v1/sessions/jwks/{project_id} (a 200), or the error it answered.
  TESSERA_CLIENT_HIDDEN Outcome<std::string> FetchJwksText();

  // The body of GET /v1/rbac/policy (a 200), or the error it answered.
  TESSERA_CLIENT_HIDDEN Outcome<std::string> FetchPolicyText();

  // The roles among `session`'s (as its JWT carried them) that grant `check` under the cached
  // policy; kPermissionDenied when none does, kPolicyUnavailable without a usable policy.
  TESSERA_CLIENT_HIDDEN Outcome<std::vector<std::string>> AuthorizeLocal(
      const Session& session, const AuthorizationCheck& check);

  // Sends `req` allowing at most `limit` bytes of response body. The transport stops a longer
  // body as it arrives; the check here holds the limit for an application's own transport too.
  TESSERA_CLIENT_HIDDEN Outcome<HttpResponse> Send(HttpRequest& req, std::size_t limit);

  // The time checks that apply to a verified JWT on every use, cached or not.
  TESSERA_CLIENT_HIDDEN Outcome<bool> CheckTimes(std::int64_t iat, std::int64_t nbf,
                                                 std::int64_t exp,
                                                 std::optional<std::chrono::seconds> max_token_age,
                                                 std::chrono::seconds tolerance, TimePoint now);

  // A kJwtInvalid error.
  TESSERA_CLIENT_HIDDEN static Error JwtError(std::string type, std::string message);

  // The revocation feed's verdict on a JWT that passed every other check; nullopt to accept.
  TESSERA_CLIENT_HIDDEN std::optional<Error> CheckRevocation(const Session& session,
                                                             std::uint64_t session_hash,
                                                             std::uint64_t user_hash,
                                                             std::int64_t iat, std::int64_t exp,
                                                             TimePoint now);

  // Sessions::AuthenticateJwtLocal without the authorization check (see client.h).
  TESSERA_CLIENT_HIDDEN Outcome<std::shared_ptr<const Session>> VerifyLocal(
      std::string_view jwt, std::optional<std::chrono::seconds> max_token_age,
      std::optional<std::chrono::seconds> call_tolerance);

  ClientOptions options_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<Transport> transport_;
  std::string base_url_;
  std::string authorization_;
  std::shared_ptr<const MonotonicClock> steady_clock_;
  JwtVerifyOptions verify_options_;
  JwksCache jwks_;
  PolicyCache policy_;
  VerifiedCache verified_;
  // Local acceptances are counted once each, as a miss or as a hit (one add per call).
  StripedCounter local_misses_;
  StripedCounter verified_cache_hits_;
  std::atomic<std::uint64_t> api_fallbacks_{0};
  std::atomic<std::uint64_t> local_permission_denials_{0};
  std::atomic<std::uint64_t> revocation_refusals_{0};
  std::atomic<std::uint64_t> feed_stale_refusals_{0};
  // Last, so that it is destroyed first: its thread stops before anything it uses goes away.
  std::unique_ptr<RevocationFeed> feed_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_CLIENT_IMPL_H_
