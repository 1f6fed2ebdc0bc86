// GET /v1/sessions/revocations: the project's revocation feed, as server-sent events or as a long
// poll (docs/revocation.md). The frames are built here from the node's view of the log
// (service/revocation_feed.h); this file never reads the store.
#include <charconv>

#include "common/json.h"
#include "server/handlers/handlers.h"
#include "server/router.h"
#include "service/project_registry.h"
#include "service/revocation_feed.h"

namespace tessera::server::handlers {
namespace {

using SteadyTime = ResponseStream::SteadyTime;

// Entries written per Poll; a longer backlog continues on the next one, at once.
constexpr std::size_t kBatch = 1000;
constexpr std::int64_t kMaxWaitSeconds = 30;

void AppendEntry(const RevocationEntry& e, Seconds jwt_lifetime, std::string& out) {
  const std::int64_t revoked = ToUnixSeconds(e.revoked_at);
  out += "{\"sequence\":" + std::to_string(e.sequence);
  if (e.kind == RevocationEntry::Kind::kSession) {
    out += ",\"kind\":\"session\",\"session_id\":";
    AppendJsonString(e.session_id, out);
    out += ",\"user_id\":";
    AppendJsonString(e.user_id, out);
  } else {
    out += ",\"kind\":\"user\",\"user_id\":";
    AppendJsonString(e.user_id, out);
    // Moved forward by the clock difference the nodes tolerate: a JWT minted just before the
    // revocation by a node whose clock runs ahead carries an iat after the revoking node's
    // time. (A JWT minted in those few seconds after it is refused locally and checked by the
    // API instead, which costs a round trip, never a wrong answer.)
    out += ",\"not_before\":" + std::to_string(revoked + kRefreshClockSkew.count());
  }
  out += ",\"revoked_at\":" + std::to_string(revoked);
  out += ",\"relevant_until\":" + std::to_string(revoked + jwt_lifetime.count()) + "}";
}

void AppendEntries(const std::vector<RevocationEntry>& entries, Seconds jwt_lifetime,
                   std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendEntry(entries[i], jwt_lifetime, out);
  }
  out.push_back(']');
}

std::optional<std::int64_t> ParseSequence(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

// Whether the view was confirmed complete by a read of the store that started at or after
// `since`: only such a view may conclude that a position beyond its head does not exist.
bool ConfirmedSince(const RevocationState& s, SteadyTime now, SteadyTime since) {
  return s.caught_up_once && now - s.lag >= since;
}

// The feed as server-sent events: a snapshot (unless resuming), then each entry, and heartbeats.
class EventStream final : public ResponseStream {
 public:
  EventStream(std::shared_ptr<const RevocationView> view, const RevocationFeedOptions& options,
              TimePoint now, std::optional<std::int64_t> resume_after)
      : view_(std::move(view)), options_(options), started_wall_(now), resume_(resume_after) {}

  bool incremental() const override { return true; }

  bool Poll(SteadyTime now, bool ending, std::string& out) override {
    if (!started_) {
      started_ = true;
      started_steady_ = now;
      const RevocationState bounds = view_->After(INT64_MAX, now, 0);
      if (!resume_ || *resume_ < bounds.first_kept - 1) {
        Snapshot(now, out);
      } else if (*resume_ <= bounds.head) {
        cursor_ = *resume_;  // Everything after it is still held: no snapshot needed.
      } else {
        holding_ = true;  // Beyond this node's head: see below.
      }
    }
    if (holding_) {
      // A position beyond the head is either one this node has not read yet (another node is a
      // poll ahead) or one that does not exist (a restored or failed-over database, another
      // deployment). Say nothing, heartbeats included, until the view reaches it, or until a
      // read that began after this stream did shows the store's head below it: then the
      // position is void and a snapshot replaces it. Never skip entries silently.
      const RevocationState s = view_->After(*resume_, now, 0);
      if (s.head >= *resume_) {
        cursor_ = *resume_;
        holding_ = false;
      } else if (ConfirmedSince(s, now, started_steady_) || ending) {
        Snapshot(now, out);
        holding_ = false;
      } else {
        return false;
      }
    }
    const RevocationState state = view_->After(cursor_, now, kBatch);
    for (const RevocationEntry& e : state.entries) {
      out += "event: revoke\nid: " + std::to_string(e.sequence) + "\ndata: ";
      AppendEntry(e, options_.jwt_lifetime, out);
      out += "\n\n";
      cursor_ = e.sequence;
    }
    more_ = state.entries.size() == kBatch;
    if (now >= next_heartbeat_ && !more_) {
      // Silence, not a heartbeat, from a node that cannot vouch for its view: followers then
      // fail closed on their own clock. None either while a backlog is still being sent, so
      // a heartbeat never claims a sequence whose entries have not gone out.
      if (state.caught_up_once && state.lag <= options_.stale_after) {
        out += "event: heartbeat\ndata: {\"sequence\":" + std::to_string(cursor_) +
               ",\"lag_ms\":" + std::to_string(state.lag.count()) + "}\n\n";
      }
      next_heartbeat_ = now + options_.heartbeat_interval;
    }
    return ending;
  }

  SteadyTime NextPoll() const override {
    if (more_) return std::chrono::steady_clock::now();
    if (holding_) return std::min(next_heartbeat_, std::chrono::steady_clock::now() + kHoldPoll);
    return next_heartbeat_;
  }

  void SetWake(std::function<void()> wake) override { view_->Watch(token_, std::move(wake)); }

 private:
  static constexpr std::chrono::milliseconds kHoldPoll{20};

  void Snapshot(SteadyTime now, std::string& out) {
    const RevocationState snap =
        view_->Relevant(started_wall_, now, options_.jwt_lifetime, options_.max_tolerance);
    out += "event: snapshot\nid: " + std::to_string(snap.head) +
           "\ndata: {\"sequence\":" + std::to_string(snap.head) +
           ",\"lag_ms\":" + std::to_string(snap.lag.count()) + ",\"entries\":";
    AppendEntries(snap.entries, options_.jwt_lifetime, out);
    out += "}\n\n";
    cursor_ = snap.head;
  }

  const std::shared_ptr<const RevocationView> view_;
  const RevocationFeedOptions& options_;
  const TimePoint started_wall_;
  const std::optional<std::int64_t> resume_;
  const std::shared_ptr<int> token_ = std::make_shared<int>(0);  // Lives as long as the stream.
  bool started_ = false;
  bool holding_ = false;
  bool more_ = false;
  SteadyTime started_steady_{};
  std::int64_t cursor_ = 0;
  SteadyTime next_heartbeat_{};  // The first Poll sends one at once.
};

// The feed as a long poll: one JSON answer once an entry after `after` exists, or at the deadline.
class LongPoll final : public ResponseStream {
 public:
  LongPoll(std::shared_ptr<const RevocationView> view, const RevocationFeedOptions& options,
           TimePoint now, std::optional<std::int64_t> after, SteadyTime deadline,
           std::string request_id)
      : view_(std::move(view)),
        options_(options),
        wall_(now),
        after_(after),
        deadline_(deadline),
        request_id_(std::move(request_id)) {}

  bool incremental() const override { return false; }

  bool Poll(SteadyTime now, bool ending, std::string& out) override {
    if (!started_) {
      started_ = true;
      started_steady_ = now;
    }
    const RevocationState bounds = view_->After(INT64_MAX, now, 0);
    const bool timed_out = now >= deadline_ || ending;
    bool snapshot = !after_ || *after_ < bounds.first_kept - 1;
    holding_ = false;
    if (!snapshot && *after_ > bounds.head) {
      // Beyond the head: wait for the view to reach it; a read that began after this poll did
      // and still stops short, or the end of the wait, makes it void (see EventStream).
      if (!ConfirmedSince(bounds, now, started_steady_) && !timed_out) {
        holding_ = true;
        return false;
      }
      snapshot = true;
    }
    RevocationState state =
        snapshot ? view_->Relevant(wall_, now, options_.jwt_lifetime, options_.max_tolerance)
                 : view_->After(*after_, now, kBatch);
    if (!snapshot && state.entries.empty() && !timed_out) return false;
    std::int64_t sequence = snapshot ? state.head : std::max(*after_, state.head);
    if (!snapshot && state.entries.size() == kBatch) sequence = state.entries.back().sequence;
    out += "{\"request_id\":";
    AppendJsonString(request_id_, out);
    out += ",\"status_code\":200,\"snapshot\":";
    out += snapshot ? "true" : "false";
    out += ",\"sequence\":" + std::to_string(sequence) +
           ",\"lag_ms\":" + std::to_string(state.lag.count()) + ",\"entries\":";
    AppendEntries(state.entries, options_.jwt_lifetime, out);
    out += "}";
    return true;
  }

  SteadyTime NextPoll() const override {
    // New entries wake the poll; only a position beyond the head needs looking at meanwhile.
    if (!holding_) return deadline_;
    return std::min(deadline_, std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
  }

  void SetWake(std::function<void()> wake) override { view_->Watch(token_, std::move(wake)); }

 private:
  const std::shared_ptr<const RevocationView> view_;
  const RevocationFeedOptions& options_;
  const TimePoint wall_;
  const std::optional<std::int64_t> after_;
  const SteadyTime deadline_;
  const std::string request_id_;
  const std::shared_ptr<int> token_ = std::make_shared<int>(0);
  bool started_ = false;
  bool holding_ = false;
  SteadyTime started_steady_{};
};

}  // namespace

Result<ApiResponse> SessionsRevocations(Call& call) {
  const auto bad = [](const char* what) { return Error(ErrorCode::kBadRequest, what); };
  std::optional<std::int64_t> after;
  if (auto text = QueryParam(call.request.query, "after")) {
    after = ParseSequence(*text);
    if (!after) return bad("after must be a sequence number (a non-negative integer).");
  }
  std::optional<std::int64_t> wait;
  if (auto text = QueryParam(call.request.query, "wait")) {
    wait = ParseSequence(*text);
    if (!wait || *wait > kMaxWaitSeconds) return bad("wait must be 0 to 30 (seconds).");
  }
  RevocationFeed& feed = call.services.revocations;
  const std::string& pid = call.project().project.project_id;
  std::shared_ptr<const RevocationView> view;
  if (call.on_worker()) {
    TESSERA_ASSIGN_OR_RETURN(view, feed.Follow(pid));
  } else {
    view = feed.Followed(pid);
    if (!view) return call.ToWorker();  // The first follower of this project reads the store.
  }
  ApiResponse r;
  r.request_id = std::string(call.request_id);
  if (wait) {
    r.content_type = "application/json";
    r.stream = std::make_shared<LongPoll>(
        std::move(view), feed.options(), call.now, after,
        std::chrono::steady_clock::now() + std::chrono::seconds(*wait), r.request_id);
  } else {
    // Last-Event-ID is how EventSource resumes; `after` does the same for other clients.
    std::optional<std::int64_t> resume = after;
    if (!call.request.last_event_id.empty()) resume = ParseSequence(call.request.last_event_id);
    r.content_type = "text/event-stream";
    r.stream = std::make_shared<EventStream>(std::move(view), feed.options(), call.now, resume);
  }
  return r;
}

}  // namespace tessera::server::handlers
