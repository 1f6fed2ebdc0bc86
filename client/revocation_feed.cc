#include "client/revocation_feed.h"

#include <curl/curl.h>

#include <algorithm>
#include <optional>
#include <random>

#include "client/revocation_frames.h"
#include "client/sse_parser.h"

namespace tessera::client {
namespace {

using std::chrono::milliseconds;
using RealClock = std::chrono::steady_clock;

// Expired entries are dropped in batches, at most this often: an entry outlives its relevance by
// at most this much, and a set of 150 000 with a dozen expiring each second is not rebuilt per
// heartbeat.
constexpr std::int64_t kPruneIntervalSeconds = 5;

// Unique across every feed in the process, so a thread-local copy can never be mistaken for
// another feed's set.
std::atomic<std::uint64_t> next_version{1};

// Each verifying thread's reference to the set it last used. It keeps that set alive until the
// thread verifies again (and takes the current one) or exits, even after its Client is gone: a
// thread holds at most one set, and sets derived from one another share their unchanged shards.
struct ReaderSlot {
  std::uint64_t version = 0;
  std::shared_ptr<const RevocationSet> set;
};
// initial-exec: read at a fixed offset from the thread pointer, without a call to
// __tls_get_addr on every verification. The slot is small enough for the static TLS reserve even
// when the library is loaded with dlopen.
[[gnu::tls_model("initial-exec")]] thread_local ReaderSlot reader_slot;

std::int64_t Ticks(MonotonicTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char a = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

// --- One connection ------------------------------------------------------------------------------

// The state of one stream: its parser and what the frames of the current network chunk changed,
// published together when the chunk has been read (so a burst of revokes costs one new set).
class RevocationFeed::Stream {
 public:
  explicit Stream(RevocationFeed& feed)
      : feed_(feed),
        parser_(
            SseLimits{feed.options_.max_frame_bytes, "snapshot", feed.options_.max_snapshot_bytes}),
        last_frame_(RealClock::now()) {}

  // The libcurl write callback's body: false aborts the transfer.
  bool OnBytes(CURL* easy, std::string_view bytes) {
    if (feed_.stop_.load(std::memory_order_relaxed)) {
      error_ = "stopped";
      return false;
    }
    if (!checked_) {
      checked_ = true;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      const char* type = nullptr;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
      if (status != 200) {
        error_ = "the feed answered HTTP " + std::to_string(status);
        return false;
      }
      if (type == nullptr || !StartsWithNoCase(type, "text/event-stream")) {
        error_ = "the feed answered 200 without Content-Type text/event-stream";
        return false;
      }
      feed_.connections_.fetch_add(1, std::memory_order_relaxed);
    }
    const bool ok = parser_.Feed(bytes, [this](SseFrame& f) { return OnFrame(f); });
    if (!ok) {
      // Something the SDK cannot read came where entries may have been: the set is not known to
      // be complete any more, so it stops vouching now rather than when the bound runs out. (A
      // mere disconnect does not do this: what was received stays good for the bound.)
      lost_entries_ = true;
      if (error_.empty()) error_ = "protocol error: " + parser_.error();
    }
    Flush();
    return ok;
  }

  // Time since the last frame, by the real clock (this only paces reconnection).
  RealClock::duration Silence() const { return RealClock::now() - last_frame_; }
  bool delivered() const { return delivered_; }
  const std::string& error() const { return error_; }
  void set_error(std::string e) {
    if (error_.empty()) error_ = std::move(e);
  }

 private:
  bool Fail(std::string why) {
    error_ = "protocol error: " + std::move(why);
    return false;
  }

  RevocationSetBuilder& Builder() {
    if (!pending_) pending_.emplace(feed_.hasher_, feed_.published_);
    return *pending_;
  }

  void Add(const RevocationEntry& e, std::int64_t cutoff) {
    if (e.relevant_until <= cutoff) return;  // No JWT accepted now can name it.
    if (e.kind == RevocationEntry::Kind::kSession) {
      Builder().AddSession(e.session_id, e.relevant_until);
    } else {
      Builder().AddUser(e.user_id, e.not_before, e.relevant_until);
    }
  }

  void Vouch(std::int64_t lag_ms) {
    // Received now, and the node's view was already lag_ms old: trusted for the rest of the bound.
    // A coarse clock may read up to its resolution late, here or in Check(): the bound is
    // shortened by that much, so the error can only make the feed go stale early.
    const auto bound =
        std::chrono::duration_cast<std::chrono::nanoseconds>(feed_.options_.staleness_bound) -
        feed_.mono_.resolution();
    const std::int64_t lag_ns =
        std::min<std::int64_t>(lag_ms, std::int64_t{1} << 40) * std::int64_t{1'000'000};
    fresh_until_ = Ticks(feed_.mono_.Now()) + bound.count() - lag_ns;
  }

  bool OnFrame(SseFrame& f) {
    last_frame_ = RealClock::now();
    std::optional<std::uint64_t> id;
    if (f.id) {
      id = ParseEventId(*f.id);
      if (!id) return Fail("an id that is not a sequence number");
    }
    const std::int64_t cutoff = feed_.Cutoff();
    if (f.event == "snapshot") {
      auto s = DecodeSnapshotFrame(f.data);
      if (!s.ok()) return Fail(s.error().error_message);
      if (id && *id != s->sequence) return Fail("a snapshot whose id is not its sequence");
      pending_.emplace(feed_.hasher_, feed_.published_);
      pending_->Clear();
      for (const RevocationEntry& e : s->entries) Add(e, cutoff);
      feed_.last_sequence_ = s->sequence;
      feed_.have_snapshot_ = true;
      ++snapshots_;
      Vouch(s->lag_ms);
    } else if (f.event == "revoke") {
      if (!feed_.have_snapshot_) return Fail("a revoke before any snapshot");
      auto e = DecodeRevokeFrame(f.data);
      if (!e.ok()) return Fail(e.error().error_message);
      if (id && *id != e->sequence) return Fail("a revoke whose id is not its sequence");
      if (e->sequence != feed_.last_sequence_ + 1) {
        return Fail("revoke " + std::to_string(e->sequence) + " after " +
                    std::to_string(feed_.last_sequence_));
      }
      Add(*e, cutoff);
      feed_.last_sequence_ = e->sequence;
    } else if (f.event == "heartbeat") {
      if (!feed_.have_snapshot_) return Fail("a heartbeat before any snapshot");
      auto h = DecodeHeartbeatFrame(f.data);
      if (!h.ok()) return Fail(h.error().error_message);
      if (h->sequence > feed_.last_sequence_) {
        // The node has entries it has not sent us: whatever its lag, we are behind.
        return Fail("a heartbeat at " + std::to_string(h->sequence) + " after revoke " +
                    std::to_string(feed_.last_sequence_));
      }
      Vouch(h->lag_ms);
    } else {
      // A frame the SDK does not understand might carry revocations: it cannot vouch past it.
      return Fail("an event of unknown type \"" + f.event.substr(0, 32) + "\"");
    }
    ++frames_;
    delivered_ = true;
    return true;
  }

  // Publishes what the chunk's frames changed: the set first, then the freshness that vouches
  // for it, then the counters (a test that sees the counter sees the effect).
  void Flush() {
    feed_.MaybePrune(pending_);
    if (pending_ && pending_->changed()) feed_.Publish(pending_->Build());
    pending_.reset();
    if (lost_entries_) {
      feed_.MarkStale();
    } else if (fresh_until_) {
      feed_.fresh_until_.store(*fresh_until_, std::memory_order_release);
    }
    fresh_until_.reset();
    feed_.sequence_.store(feed_.last_sequence_, std::memory_order_relaxed);
    feed_.snapshots_.fetch_add(snapshots_, std::memory_order_relaxed);
    feed_.frames_.fetch_add(frames_, std::memory_order_release);
    snapshots_ = frames_ = 0;
  }

  RevocationFeed& feed_;
  SseParser parser_;
  RealClock::time_point last_frame_;  // Or the connection's start.
  bool checked_ = false;              // The status and Content-Type were checked.
  bool delivered_ = false;            // At least one frame was applied.
  bool lost_entries_ = false;
  std::string error_;
  // What the current chunk changed, not yet published.
  std::optional<RevocationSetBuilder> pending_;
  std::optional<std::int64_t> fresh_until_;
  std::uint64_t snapshots_ = 0, frames_ = 0;
};

// --- RevocationFeed ------------------------------------------------------------------------------

RevocationFeed::RevocationFeed(RevocationFeedOptions options, const Clock& wall,
                               const MonotonicClock& mono)
    : options_(std::move(options)), wall_(wall), mono_(mono) {
  CurlGlobalInit();
  multi_ = curl_multi_init();
  published_ = std::make_shared<const RevocationSet>();
  Publish(published_);
}

RevocationFeed::~RevocationFeed() {
  {
    std::lock_guard lock(wait_mu_);
    stop_.store(true);
  }
  wait_cv_.notify_all();
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void RevocationFeed::Start() {
  thread_ = std::thread([this] { Run(); });
}

inline const RevocationSet& RevocationFeed::Current() const {
  // While the set is unchanged (nearly always), this is one load of a line nobody writes; only
  // after a publication does each thread take the lock once to refresh its copy.
  if (reader_slot.version == version_.load(std::memory_order_acquire)) [[likely]] {
    return *reader_slot.set;
  }
  return RefreshCurrent();
}

[[gnu::noinline]] const RevocationSet& RevocationFeed::RefreshCurrent() const {
  std::lock_guard lock(publish_mu_);
  reader_slot.set = current_;
  reader_slot.version = current_version_;
  return *reader_slot.set;
}

void RevocationFeed::Publish(std::shared_ptr<const RevocationSet> set) {
  published_ = set;
  sessions_.store(set->sessions(), std::memory_order_relaxed);
  users_.store(set->users(), std::memory_order_relaxed);
  std::shared_ptr<const RevocationSet> old;
  {
    std::lock_guard lock(publish_mu_);
    old = std::move(current_);
    current_ = std::move(set);
    current_version_ = next_version.fetch_add(1, std::memory_order_relaxed);
    version_.store(current_version_, std::memory_order_release);
  }
  // `old` is freed here, outside the lock (unless a reader's copy still holds it).
}

void RevocationFeed::MarkStale() {
  if (fresh_until_.load(std::memory_order_relaxed) != kNever) {
    fresh_until_.store(kStaleNow, std::memory_order_release);
  }
}

void RevocationFeed::RecordFailure(std::string why) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(error_mu_);
  last_error_ = std::move(why);
}

std::int64_t RevocationFeed::Cutoff() const {
  // A JWT is accepted while now < exp + tolerance, and exp <= relevant_until for every JWT an
  // entry names: once relevant_until <= now - tolerance, nothing it names can be accepted.
  return ToUnixSeconds(wall_.Now()) - options_.clock_tolerance.count();
}

void RevocationFeed::MaybePrune(std::optional<RevocationSetBuilder>& pending) {
  const std::int64_t now = ToUnixSeconds(wall_.Now());
  const std::int64_t cutoff = now - options_.clock_tolerance.count();
  if (published_->earliest_relevant_until() > cutoff) return;
  // A wall clock stepped back counts as long ago, so a step cannot stall pruning.
  if (last_prune_ && now >= *last_prune_ && now - *last_prune_ < kPruneIntervalSeconds) return;
  last_prune_ = now;
  if (!pending) pending.emplace(hasher_, published_);
  pending->Prune(cutoff);
}

RevocationVerdict RevocationFeed::Check(const RevocationKey& key, std::int64_t iat,
                                        std::int64_t exp, std::int64_t now_s) const {
  // The mark first: it is stored after the set it vouches for, so the set read below is at least
  // that one.
  const std::int64_t fresh_until = fresh_until_.load(std::memory_order_acquire);
  const RevocationSet& set = Current();
  // A revocation found is definitive whatever the freshness: revocations are never undone.
  if (set.SessionRevoked(key.session_id, key.session_hash)) {
    return RevocationVerdict::kSessionRevoked;
  }
  if (const auto not_before = set.UserNotBefore(key.user_id, key.user_hash);
      not_before && iat <= *not_before) {
    return RevocationVerdict::kUserRevoked;
  }
  if (fresh_until == kNever) return RevocationVerdict::kNoSnapshot;
  if (Ticks(mono_.Now()) > fresh_until) return RevocationVerdict::kStale;
  if (exp <= now_s - options_.clock_tolerance.count()) return RevocationVerdict::kBeyondTolerance;
  return RevocationVerdict::kAccept;
}

RevocationFeedStats RevocationFeed::stats() const {
  RevocationFeedStats s;
  s.connections = connections_.load();
  s.failures = failures_.load();
  s.snapshots = snapshots_.load();
  s.frames = frames_.load(std::memory_order_acquire);
  s.sequence = sequence_.load();
  s.sessions = sessions_.load();
  s.users = users_.load();
  std::lock_guard lock(error_mu_);
  s.last_error = last_error_;
  return s;
}

// --- The thread ----------------------------------------------------------------------------------

void RevocationFeed::Run() {
  std::minstd_rand jitter(std::random_device{}());
  CURLM* multi = static_cast<CURLM*>(multi_);
  int failed_attempts = 0;
  const milliseconds poll =
      std::clamp(std::chrono::duration_cast<milliseconds>(options_.heartbeat_timeout / 4),
                 milliseconds(10), milliseconds(100));
  while (!stop_.load()) {
    Stream stream(*this);
    CURL* easy = curl_easy_init();
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, ("Authorization: " + options_.authorization).c_str());
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    headers = curl_slist_append(headers, "Cache-Control: no-store");
    if (have_snapshot_) {
      // Resume: the server sends every entry after this one (or a snapshot if it cannot).
      headers =
          curl_slist_append(headers, ("Last-Event-ID: " + std::to_string(last_sequence_)).c_str());
    }
    struct Context {
      Stream* stream;
      CURL* easy;
    } context{&stream, easy};
    const auto write = +[](char* data, std::size_t size, std::size_t n, void* user) -> std::size_t {
      auto* c = static_cast<Context*>(user);
      return c->stream->OnBytes(c->easy, std::string_view(data, size * n)) ? size * n : 0;
    };
    curl_easy_setopt(easy, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &context);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "tessera-cpp-sdk/0.1");
    curl_multi_add_handle(multi, easy);

    CURLcode result = CURLE_OK;
    bool done = false;
    while (!stop_.load()) {
      int running = 0;
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        stream.set_error("curl_multi_perform failed");
        break;
      }
      int queued = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
        if (m->msg == CURLMSG_DONE && m->easy_handle == easy) {
          result = m->data.result;
          done = true;
        }
      }
      if (done || running == 0) break;
      // No frame for heartbeat_timeout (or no answer at all since the request): the connection
      // is presumed dead, or its node unable to vouch; another may serve.
      if (stream.Silence() > options_.heartbeat_timeout) {
        stream.set_error("no frame for " + std::to_string(options_.heartbeat_timeout.count()) +
                         " ms");
        break;
      }
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(poll.count()), nullptr);
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    if (stop_.load()) break;

    if (stream.error().empty()) {
      if (done && result != CURLE_OK) {
        stream.set_error(std::string("connection failed: ") + curl_easy_strerror(result));
      } else if (status != 200) {
        stream.set_error("the feed answered HTTP " + std::to_string(status));
      } else {
        stream.set_error("the stream ended");
      }
    }
    RecordFailure(stream.error());
    failed_attempts = stream.delivered() ? 0 : failed_attempts + 1;

    // Capped exponential backoff with jitter (half to all of the step), so that followers cut off
    // together do not come back together.
    auto step = options_.initial_backoff;
    for (int i = 0; i < failed_attempts && step < options_.max_backoff; ++i) step *= 2;
    step = std::min(step, options_.max_backoff);
    const auto half = step.count() / 2;
    const milliseconds delay(half + static_cast<std::int64_t>(jitter() % (half + 1)));
    std::unique_lock lock(wait_mu_);
    wait_cv_.wait_for(lock, delay, [this] { return stop_.load(); });
    lock.unlock();
    std::optional<RevocationSetBuilder> pending;
    MaybePrune(pending);
    if (pending && pending->changed()) Publish(pending->Build());
  }
}

}  // namespace tessera::client
