#include "client/revocation_frames.h"

#include <boost/json.hpp>

#include "common/json.h"

namespace tessera::client {
namespace {

namespace json = boost::json;

// Frames are flat: an entry is an object inside the snapshot's array inside its object.
constexpr std::size_t kMaxDepth = 8;

Error FeedError(std::string message) {
  return Error{ErrorKind::kProtocol, 0, "feed_protocol", std::move(message), ""};
}

std::optional<std::int64_t> Int(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  // Boost.JSON keeps integers above INT64_MAX as uint64: no time or lag is that large.
  return std::nullopt;
}

std::optional<std::uint64_t> NonNegative(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return std::nullopt;
}

std::optional<std::string> NonEmptyString(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) return std::nullopt;
  return std::string(v->get_string());
}

Outcome<RevocationEntry> EntryFromJson(const json::value& v) {
  if (!v.is_object()) return FeedError("an entry is not a JSON object");
  const json::object& o = v.get_object();
  RevocationEntry e;
  const auto sequence = NonNegative(o, "sequence");
  if (!sequence) return FeedError("an entry has no valid sequence");
  e.sequence = *sequence;
  const auto relevant_until = Int(o, "relevant_until");
  if (!relevant_until) return FeedError("an entry has no valid relevant_until");
  e.relevant_until = *relevant_until;
  const json::value* kind = o.if_contains("kind");
  if (kind == nullptr || !kind->is_string()) return FeedError("an entry has no kind");
  if (kind->get_string() == "session") {
    e.kind = RevocationEntry::Kind::kSession;
    auto session_id = NonEmptyString(o, "session_id");
    if (!session_id) return FeedError("a session entry has no session_id");
    e.session_id = std::move(*session_id);
    if (const json::value* user = o.if_contains("user_id"); user != nullptr && user->is_string()) {
      e.user_id = std::string(user->get_string());
    }
  } else if (kind->get_string() == "user") {
    e.kind = RevocationEntry::Kind::kUser;
    auto user_id = NonEmptyString(o, "user_id");
    if (!user_id) return FeedError("a user entry has no user_id");
    e.user_id = std::move(*user_id);
    const auto not_before = Int(o, "not_before");
    if (!not_before) return FeedError("a user entry has no valid not_before");
    e.not_before = *not_before;
  } else {
    return FeedError("an entry of unknown kind \"" +
                     std::string(std::string_view(kind->get_string()).substr(0, 32)) + "\"");
  }
  return e;
}

// The frame's object, parsed into `resource` (a snapshot's thousands of small objects are
// allocated from one arena and freed at once).
Outcome<json::object> FrameObject(std::string_view data, json::storage_ptr sp) {
  auto parsed = ParseJsonObject(data, kMaxDepth, std::move(sp));
  if (!parsed.ok()) return FeedError("a frame's data is not a JSON object");
  return std::move(*parsed);
}

}  // namespace

Outcome<RevocationEntry> DecodeRevokeFrame(std::string_view data) {
  auto o = FrameObject(data, {});
  if (!o.ok()) return o.error();
  return EntryFromJson(*o);
}

Outcome<SnapshotFrame> DecodeSnapshotFrame(std::string_view data) {
  json::monotonic_resource arena;
  auto o = FrameObject(data, &arena);
  if (!o.ok()) return o.error();
  SnapshotFrame s;
  const auto sequence = NonNegative(*o, "sequence");
  if (!sequence) return FeedError("a snapshot has no valid sequence");
  s.sequence = *sequence;
  const auto lag = NonNegative(*o, "lag_ms");
  if (!lag) return FeedError("a snapshot has no valid lag_ms");
  s.lag_ms = static_cast<std::int64_t>(std::min<std::uint64_t>(*lag, INT64_MAX));
  const json::value* entries = o->if_contains("entries");
  if (entries == nullptr || !entries->is_array()) return FeedError("a snapshot has no entries");
  s.entries.reserve(entries->get_array().size());
  for (const json::value& v : entries->get_array()) {
    auto e = EntryFromJson(v);
    if (!e.ok()) return e.error();
    if (e->sequence > s.sequence) return FeedError("a snapshot holds an entry after its sequence");
    s.entries.push_back(std::move(*e));
  }
  return s;
}

Outcome<HeartbeatFrame> DecodeHeartbeatFrame(std::string_view data) {
  auto o = FrameObject(data, {});
  if (!o.ok()) return o.error();
  HeartbeatFrame h;
  const auto sequence = NonNegative(*o, "sequence");
  if (!sequence) return FeedError("a heartbeat has no valid sequence");
  h.sequence = *sequence;
  const auto lag = NonNegative(*o, "lag_ms");
  if (!lag) return FeedError("a heartbeat has no valid lag_ms");
  h.lag_ms = static_cast<std::int64_t>(std::min<std::uint64_t>(*lag, INT64_MAX));
  return h;
}

std::optional<std::uint64_t> ParseEventId(std::string_view id) {
  if (id.empty() || id.size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace tessera::client
