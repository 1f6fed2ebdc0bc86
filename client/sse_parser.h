// An incremental parser of server-sent events (text/event-stream, WHATWG HTML §9.2.6) for the
// revocation feed: bytes go in as the network delivers them, in chunks split anywhere (even inside
// a CR LF pair), and complete frames come out. Bounded: a frame larger than its limit is an error,
// so a broken or hostile stream cannot fill memory.
#ifndef TESSERA_CLIENT_SSE_PARSER_H_
#define TESSERA_CLIENT_SSE_PARSER_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tessera::client {

// One dispatched event. `data` is the frame's data lines joined by '\n' (without the last one).
struct SseFrame {
  std::string event;  // "" when the frame has no event line (SSE's "message").
  std::string data;
  // The frame's own `id:` line, if it had one (SSE carries the last id forward across frames;
  // the feed needs to know which frame named it).
  std::optional<std::string> id;
};

struct SseLimits {
  // The largest frame (the sum of its lines, terminators included) of any event but the one below.
  std::size_t max_frame_bytes = std::size_t{1} << 20;
  // Frames whose `event:` line names `large_event` may grow to `max_large_frame_bytes`: the feed's
  // snapshot carries every live entry in one frame. The event line must come before the frame
  // passes max_frame_bytes for the larger limit to apply.
  std::string large_event;
  std::size_t max_large_frame_bytes = std::size_t{1} << 20;
};

class SseParser {
 public:
  explicit SseParser(SseLimits limits) : limits_(std::move(limits)) {}

  // Consumes `chunk`, calling `on_frame` for each frame it completes, in order. Returns false
  // (and the parser must not be fed again) when a frame outgrows its limit, or when `on_frame`
  // returns false; true otherwise. Comment lines (":...") and frames without data are skipped;
  // fields other than event, data and id are ignored (retry among them).
  bool Feed(std::string_view chunk, const std::function<bool(SseFrame&)>& on_frame);

  // Bytes held for the frame in progress (for tests of the bound).
  std::size_t buffered() const { return line_.size() + frame_bytes_; }
  // Why Feed returned false, or "".
  const std::string& error() const { return error_; }

 private:
  bool EndLine(const std::function<bool(SseFrame&)>& on_frame);
  std::size_t LimitNow() const;

  const SseLimits limits_;
  std::string line_;       // The line in progress, without its terminator.
  bool after_cr_ = false;  // The last byte seen was a CR: a LF right after it ends nothing.
  bool at_start_ = true;   // Nothing seen yet: a leading byte-order mark is dropped.
  SseFrame frame_;         // The frame in progress.
  bool has_data_ = false;
  std::size_t frame_bytes_ = 0;  // Of the complete lines of the frame in progress.
  std::string error_;
};

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_SSE_PARSER_H_
