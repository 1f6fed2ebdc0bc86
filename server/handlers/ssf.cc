// The OpenID Shared Signals (SSF 1.0) transmitter: each project's revocation log served to SSF
// receivers as CAEP session-revoked Security Event Tokens (docs/revocation.md, "For OpenID Shared
// Signals receivers").
//
//   GET    /.well-known/ssf-configuration/{project_id}  the discovery document (SSF §7)
//   POST   /v1/ssf/streams                              create the project's stream (§8.1.1.1)
//   GET    /v1/ssf/streams[?stream_id=]                 read it (§8.1.1.2)
//   DELETE /v1/ssf/streams?stream_id=                   delete it (§8.1.1.5)
//   POST   /v1/ssf/streams/{stream_id}/poll             poll delivery (RFC 8936)
//
// Success bodies are exactly the specifications' JSON (a stream list is a bare array, so the
// API's request_id member has no place in them); errors are the API's usual error body.
#include "service/ssf.h"

#include <algorithm>
#include <span>

#include "common/json.h"
#include "server/access_log.h"
#include "server/handlers/handlers.h"
#include "server/json_body.h"
#include "server/router.h"
#include "service/ids.h"
#include "service/revocation_feed.h"

namespace tessera::server::handlers {
namespace {

using SteadyTime = ResponseStream::SteadyTime;

// Receiver-supplied strings are kept, so they are bounded: SSF §8.1.1 lets the transmitter
// truncate a description; an events_requested list longer than this is not a real one.
constexpr std::size_t kMaxDescriptionBytes = 1024;
constexpr std::size_t kMaxEventsRequested = 64;
constexpr std::size_t kMaxEventTypeBytes = 512;
// Entries read from the view at a time while looking for unacknowledged ones.
constexpr std::size_t kScanBatch = 1000;

ApiResponse JsonAnswer(unsigned status, std::string body, std::string_view request_id) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  r.request_id = std::string(request_id);
  return r;
}

// The stream's events_delivered (SSF §8.1.1): session-revoked unless the receiver asked for
// events and not for it.
bool DeliversSessionRevoked(const SsfStream& s) {
  return !s.events_requested || std::find(s.events_requested->begin(), s.events_requested->end(),
                                          kCaepSessionRevoked) != s.events_requested->end();
}

void AppendStringArray(std::span<const std::string> items, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(items[i], out);
  }
  out.push_back(']');
}

std::string PollUrl(std::string_view origin, std::string_view stream_id) {
  return std::string(origin) + "/v1/ssf/streams/" + std::string(stream_id) + "/poll";
}

// The stream configuration object (SSF §8.1.1).
void AppendStream(const SsfStream& s, std::string_view origin, std::string& out) {
  out += "{\"stream_id\":";
  AppendJsonString(s.stream_id, out);
  out += ",\"iss\":";
  AppendJsonString(SsfIssuer(origin, s.project_id), out);
  out += ",\"aud\":";
  AppendJsonString(s.project_id, out);
  out += ",\"delivery\":{\"method\":";
  AppendJsonString(kPollDeliveryMethod, out);
  out += ",\"endpoint_url\":";
  AppendJsonString(PollUrl(origin, s.stream_id), out);
  out += "},\"events_supported\":[";
  AppendJsonString(kCaepSessionRevoked, out);
  out += "]";
  if (s.events_requested) {
    out += ",\"events_requested\":";
    AppendStringArray(*s.events_requested, out);
  }
  out += ",\"events_delivered\":[";
  if (DeliversSessionRevoked(s)) AppendJsonString(kCaepSessionRevoked, out);
  out += "]";
  if (s.description) {
    out += ",\"description\":";
    AppendJsonString(*s.description, out);
  }
  out += "}";
}

// Cut at `max` bytes, never inside a UTF-8 sequence.
std::string TruncateUtf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

// Unacknowledged entries after `after`, at most `limit`, skipping those in `acked` (sorted).
// `more`: further ones exist. `scanned`: the highest sequence looked at (or `after`), where a long
// poll that found nothing resumes. `read(after)` returns the next entries of the log after
// `after`, oldest first, up to kScanBatch of them.
struct Pending {
  std::vector<RevocationEntry> entries;
  bool more = false;
  std::int64_t scanned = 0;
};

template <typename ReadAfter>
Result<Pending> FindPending(ReadAfter read, std::int64_t after, std::span<const std::int64_t> acked,
                            std::size_t limit) {
  Pending p;
  p.scanned = after;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<RevocationEntry> batch, read(p.scanned));
    for (RevocationEntry& e : batch) {
      if (std::binary_search(acked.begin(), acked.end(), e.sequence)) {
        p.scanned = e.sequence;
        continue;
      }
      if (p.entries.size() == limit) {
        p.more = true;
        return p;
      }
      p.scanned = e.sequence;
      p.entries.push_back(std::move(e));
    }
    if (batch.size() < kScanBatch) return p;
  }
}

// {"sets":{jti: SET, ...},"moreAvailable":bool} (RFC 8936 §2.3), each SET signed now.
Result<std::string> SetsBody(const std::vector<RevocationEntry>& entries, bool more,
                             const SigningKey& key, std::string_view issuer,
                             std::string_view audience, TimePoint now) {
  std::string out = "{\"sets\":{";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const SecurityEvent event = SessionRevokedEvent(entries[i], issuer, audience);
    TESSERA_ASSIGN_OR_RETURN(std::string set, MintSecurityEventToken(key, event, now));
    if (i > 0) out.push_back(',');
    AppendJsonString(event.jti, out);
    out.push_back(':');
    AppendJsonString(set, out);
  }
  out += "},\"moreAvailable\":";
  out += more ? "true" : "false";
  out += "}";
  return out;
}

// A poll with returnImmediately false that found nothing: answers once an unacknowledged entry
// reaches the node's view (woken by it), or with no SET at the deadline or when the server
// drains. Signs on the I/O thread, as an authenticate that mints a JWT does: at most `limit`
// SETs, usually one.
class PollWait final : public ResponseStream {
 public:
  PollWait(std::shared_ptr<const RevocationView> view, std::shared_ptr<const SigningKey> key,
           const Clock& clock, Metrics& metrics, std::string issuer, std::string audience,
           std::int64_t after, std::vector<std::int64_t> acked, bool delivers, std::size_t limit,
           SteadyTime deadline)
      : view_(std::move(view)),
        key_(std::move(key)),
        clock_(clock),
        metrics_(metrics),
        issuer_(std::move(issuer)),
        audience_(std::move(audience)),
        after_(after),
        acked_(std::move(acked)),
        delivers_(delivers),
        limit_(limit),
        deadline_(deadline) {}

  bool incremental() const override { return false; }

  bool Poll(SteadyTime now, bool ending, std::string& out) override {
    const bool timed_out = now >= deadline_ || ending;
    Pending p;
    if (delivers_) {
      // Memory only (the node's view of the log), so it may run on the I/O thread.
      const auto read = [&](std::int64_t after) -> Result<std::vector<RevocationEntry>> {
        return view_->After(after, now, kScanBatch).entries;
      };
      p = FindPending(read, after_, acked_, limit_).value();
    }
    if (p.entries.empty() && !timed_out) {
      after_ = p.scanned;  // Acknowledged ones need not be looked at again.
      return false;
    }
    auto body = SetsBody(p.entries, p.more, *key_, issuer_, audience_, clock_.Now());
    if (!body.ok()) {
      // The status is sent already (200). Nothing is lost: unacknowledged SETs come again.
      LogEvent("error", "signing SSF events failed", {{"detail", body.status().ToString()}});
      out = "{\"sets\":{},\"moreAvailable\":true}";
      return true;
    }
    metrics_.SsfSetsSent(p.entries.size());
    out = *std::move(body);
    return true;
  }

  SteadyTime NextPoll() const override { return deadline_; }

  void SetWake(std::function<void()> wake) override { view_->Watch(token_, std::move(wake)); }

 private:
  const std::shared_ptr<const RevocationView> view_;
  const std::shared_ptr<const SigningKey> key_;
  const Clock& clock_;
  Metrics& metrics_;
  const std::string issuer_;
  const std::string audience_;
  std::int64_t after_;
  const std::vector<std::int64_t> acked_;
  const bool delivers_;
  const std::size_t limit_;
  const SteadyTime deadline_;
  const std::shared_ptr<int> token_ = std::make_shared<int>(0);  // Lives as long as the wait.
};

struct PollRequest {
  std::vector<std::int64_t> acked;  // From `ack` and the keys of `setErrs`.
  std::optional<std::int64_t> max_events;
  bool return_immediately = false;
};

Result<PollRequest> ParsePoll(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  PollRequest req;
  const std::string& pid = call.project().project.project_id;
  TESSERA_ASSIGN_OR_RETURN(req.max_events, body.OptInt("maxEvents"));
  if (req.max_events && *req.max_events < 0) {
    return WrongType("maxEvents", "a non-negative integer");
  }
  TESSERA_ASSIGN_OR_RETURN(auto immediately, body.OptBool("returnImmediately"));
  req.return_immediately = immediately.value_or(false);
  TESSERA_ASSIGN_OR_RETURN(auto ack, body.OptStringArray("ack"));
  // jtis of other projects or streams, or made up, name nothing here: ignored.
  for (const std::string& jti : ack.value_or(std::vector<std::string>{})) {
    if (auto s = SsfSequenceOf(pid, jti)) req.acked.push_back(*s);
  }
  TESSERA_ASSIGN_OR_RETURN(auto errs, body.OptObject("setErrs"));
  if (errs) {
    for (const auto& kv : *errs) {
      const auto* err =
          kv.value().is_object() ? kv.value().get_object().if_contains("err") : nullptr;
      const auto* description =
          kv.value().is_object() ? kv.value().get_object().if_contains("description") : nullptr;
      if (err == nullptr || !err->is_string() ||
          (description != nullptr && !description->is_string() && !description->is_null())) {
        return WrongType("setErrs",
                         "an object whose members are {\"err\": string, \"description\": string}");
      }
    }
    for (const auto& kv : *errs) {
      // A SET reported in error was received: sending it again would fail the same way. It
      // counts as acknowledged, and the operator hears about it.
      const auto s = SsfSequenceOf(pid, kv.key());
      if (!s) continue;
      req.acked.push_back(*s);
      const auto& o = kv.value().get_object();
      const auto* description = o.if_contains("description");
      const std::string detail = description != nullptr && description->is_string()
                                     ? TruncateUtf8(std::string(description->get_string()), 256)
                                     : std::string();
      const std::string err = TruncateUtf8(std::string(o.at("err").get_string()), 64);
      LogEvent("warn", "an SSF receiver reported a SET error",
               {{"request_id", call.request_id},
                {"project_id", pid},
                {"jti", kv.key()},
                {"err", err},
                {"description", detail}});
      call.services.metrics.SsfSetErrors(1);
    }
  }
  return req;
}

}  // namespace

Result<ApiResponse> SsfConfiguration(Call& call) {
  ProjectRegistry& projects = call.services.projects;
  const std::string_view id = call.Param("project_id");
  TESSERA_ASSIGN_OR_RETURN(auto project,
                           call.on_worker() ? projects.Get(id) : projects.GetCached(id));
  if (project == nullptr) return call.ToWorker();
  TESSERA_ASSIGN_OR_RETURN(const std::string origin,
                           SsfOrigin(call.services.ssf, call.request.host));
  const std::string& pid = project->project.project_id;
  // SSF §7.1; claims with zero elements are omitted (§7.2.3). HTTP Basic (RFC 7617) is how
  // receivers authenticate, with the project's id and secret.
  std::string b = "{\"spec_version\":\"1_0\",\"issuer\":";
  AppendJsonString(SsfIssuer(origin, pid), b);
  b += ",\"jwks_uri\":";
  AppendJsonString(origin + "/v1/sessions/jwks/" + pid, b);
  b += ",\"delivery_methods_supported\":[";
  AppendJsonString(kPollDeliveryMethod, b);
  b += "],\"configuration_endpoint\":";
  AppendJsonString(origin + "/v1/ssf/streams", b);
  b += ",\"authorization_schemes\":[{\"spec_urn\":\"urn:ietf:rfc:7617\"}]";
  b += ",\"default_subjects\":\"ALL\"}";
  return JsonAnswer(200, std::move(b), call.request_id);
}

Result<ApiResponse> SsfStreamsCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(const std::string origin,
                           SsfOrigin(call.services.ssf, call.request.host));
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  // No `delivery` means poll (SSF §8.1.1.1); poll is the only method offered. A poll stream's
  // endpoint_url is the transmitter's to choose, so one sent is ignored.
  TESSERA_ASSIGN_OR_RETURN(auto delivery, body.OptObject("delivery"));
  if (delivery) {
    const auto* method = delivery->if_contains("method");
    if (method == nullptr || !method->is_string()) {
      return WrongType("delivery.method", "a string");
    }
    if (method->get_string() != kPollDeliveryMethod) {
      return Error(ErrorCode::kBadRequest,
                   "Tessera delivers SETs by poll only: delivery.method must be "
                   "urn:ietf:rfc:8936.");
    }
  }
  SsfStream stream;
  stream.project_id = call.project().project.project_id;
  TESSERA_ASSIGN_OR_RETURN(stream.events_requested, body.OptStringArray("events_requested"));
  if (stream.events_requested) {
    if (stream.events_requested->size() > kMaxEventsRequested) {
      return Error(ErrorCode::kBadRequest, "events_requested may list at most 64 event types.");
    }
    for (const std::string& e : *stream.events_requested) {
      if (e.size() > kMaxEventTypeBytes) {
        return Error(ErrorCode::kBadRequest,
                     "An event type in events_requested is longer than 512 bytes.");
      }
    }
  }
  TESSERA_ASSIGN_OR_RETURN(auto description, body.OptString("description"));
  if (description) stream.description = TruncateUtf8(*std::move(description), kMaxDescriptionBytes);
  TESSERA_ASSIGN_OR_RETURN(stream.stream_id,
                           NewId("ssf-stream", call.project().project.live, call.services.random));
  stream.created_at = call.now;
  TESSERA_ASSIGN_OR_RETURN(const SsfStream created, call.services.store.CreateSsfStream(stream));
  std::string b;
  AppendStream(created, origin, b);
  return JsonAnswer(201, std::move(b), call.request_id);
}

Result<ApiResponse> SsfStreamsGet(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(const std::string origin,
                           SsfOrigin(call.services.ssf, call.request.host));
  TESSERA_ASSIGN_OR_RETURN(auto stream,
                           call.services.store.GetSsfStream(call.project().project.project_id));
  std::string b;
  if (auto id = QueryParam(call.request.query, "stream_id")) {
    if (!stream || stream->stream_id != *id) {
      return Error(ErrorCode::kSsfStreamNotFound, "The project has no SSF stream with this id.");
    }
    AppendStream(*stream, origin, b);
  } else {
    // Without stream_id: the list of the receiver's streams, empty when none (§8.1.1.2).
    b.push_back('[');
    if (stream) AppendStream(*stream, origin, b);
    b.push_back(']');
  }
  return JsonAnswer(200, std::move(b), call.request_id);
}

Result<ApiResponse> SsfStreamsDelete(Call& call) {
  const auto id = QueryParam(call.request.query, "stream_id");
  if (!id || id->empty()) {
    return Error(ErrorCode::kBadRequest, "stream_id is required (a query parameter).");
  }
  TESSERA_RETURN_IF_ERROR(
      call.services.store.DeleteSsfStream(call.project().project.project_id, *id));
  return JsonAnswer(204, "", call.request_id);
}

Result<ApiResponse> SsfPoll(Call& call) {
  const SsfOptions& options = call.services.ssf;
  TESSERA_ASSIGN_OR_RETURN(const std::string origin, SsfOrigin(options, call.request.host));
  TESSERA_ASSIGN_OR_RETURN(const PollRequest req, ParsePoll(call));
  const ProjectContext& project = call.project();
  const std::string& pid = project.project.project_id;
  const std::string_view stream_id = call.Param("stream_id");
  SessionStore& store = call.services.store;

  // Acknowledgements first, so that what they release is never sent again (RFC 8936 §2.4).
  SsfStream stream;
  if (!req.acked.empty()) {
    TESSERA_ASSIGN_OR_RETURN(stream, store.AckSsfEvents(pid, stream_id, req.acked));
  } else {
    TESSERA_ASSIGN_OR_RETURN(auto found, store.GetSsfStream(pid));
    if (!found || found->stream_id != stream_id) {
      return Error(ErrorCode::kSsfStreamNotFound, "The project has no SSF stream with this id.");
    }
    stream = *std::move(found);
  }
  if (project.signing_key == nullptr) {
    return Error(ErrorCode::kNoActiveKey, "the project has no key that may sign");
  }
  // No limit asked is no limit (RFC 8936 §2.2), within the server's own per-answer bound.
  const std::size_t limit = static_cast<std::size_t>(
      std::min<std::int64_t>(req.max_events.value_or(options.max_events), options.max_events));
  const bool delivers = DeliversSessionRevoked(stream);
  Pending pending;
  pending.scanned = stream.acked_through;
  if (delivers) {
    // From the store, not the node's view of the log: an answer reflects every revocation
    // committed before the poll, on any node. maxEvents 0 is an acknowledge-only request (RFC
    // 8936 §2.4.2): nothing is sent, but moreAvailable still tells whether anything waits.
    const auto read = [&](std::int64_t after) -> Result<std::vector<RevocationEntry>> {
      TESSERA_ASSIGN_OR_RETURN(RevocationBatch batch,
                               store.ReadRevocations(pid, after, static_cast<int>(kScanBatch)));
      return std::move(batch.entries);
    };
    TESSERA_ASSIGN_OR_RETURN(pending,
                             FindPending(read, stream.acked_through, stream.acked_after, limit));
  }
  const std::string issuer = SsfIssuer(origin, pid);
  if (!pending.entries.empty() || pending.more || req.return_immediately || limit == 0) {
    TESSERA_ASSIGN_OR_RETURN(
        std::string b, SetsBody(pending.entries, pending.more, *project.signing_key, issuer, pid,
                                call.services.clock.Now()));
    call.services.metrics.SsfSetsSent(pending.entries.size());
    return JsonAnswer(200, std::move(b), call.request_id);
  }
  // Nothing to send: wait on the node's view of the log, which new revocations wake (from
  // this node at once, from other nodes within the feed's poll interval).
  TESSERA_ASSIGN_OR_RETURN(auto view, call.services.revocations.Follow(pid));
  ApiResponse r;
  r.request_id = std::string(call.request_id);
  r.content_type = "application/json";
  r.stream = std::make_shared<PollWait>(std::move(view), project.signing_key, call.services.clock,
                                        call.services.metrics, issuer, pid, pending.scanned,
                                        std::move(stream.acked_after), delivers, limit,
                                        std::chrono::steady_clock::now() + options.poll_wait);
  return r;
}

}  // namespace tessera::server::handlers
