#include "client/sse_parser.h"

#include <algorithm>

namespace tessera::client {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

std::size_t SseParser::LimitNow() const {
  if (!limits_.large_event.empty() && frame_.event == limits_.large_event) {
    return std::max(limits_.max_large_frame_bytes, limits_.max_frame_bytes);
  }
  return limits_.max_frame_bytes;
}

bool SseParser::Feed(std::string_view chunk, const std::function<bool(SseFrame&)>& on_frame) {
  if (!error_.empty()) return false;
  while (!chunk.empty()) {
    if (after_cr_ && chunk.front() == '\n') {  // The LF of a CR LF split across two chunks.
      chunk.remove_prefix(1);
      after_cr_ = false;
      continue;
    }
    after_cr_ = false;
    const std::size_t end = chunk.find_first_of("\r\n");
    const std::string_view part = chunk.substr(0, end);
    // The check comes before the append, so the buffer never holds more than the limit.
    if (line_.size() + part.size() + frame_bytes_ > LimitNow()) {
      error_ = "a frame is larger than " + std::to_string(LimitNow()) + " bytes";
      return false;
    }
    line_.append(part);
    if (end == std::string_view::npos) return true;  // The line goes on in the next chunk.
    after_cr_ = chunk[end] == '\r';
    chunk.remove_prefix(end + 1);
    if (!EndLine(on_frame)) return false;
  }
  return true;
}

bool SseParser::EndLine(const std::function<bool(SseFrame&)>& on_frame) {
  std::string line = std::move(line_);
  line_ = std::string();
  if (at_start_) {
    at_start_ = false;
    if (line.starts_with(kByteOrderMark)) line.erase(0, kByteOrderMark.size());
  }
  if (line.empty()) {  // A blank line ends the frame.
    const bool dispatch = has_data_;
    SseFrame frame = std::move(frame_);
    frame_ = SseFrame();
    has_data_ = false;
    frame_bytes_ = 0;
    if (!dispatch) return true;
    frame.data.pop_back();  // The '\n' after the last data line.
    if (!on_frame(frame)) {
      error_ = "frame refused";
      return false;
    }
    return true;
  }
  if (line.front() == ':') return true;  // A comment (keep-alive): not part of any frame.
  frame_bytes_ += line.size() + 1;
  const std::size_t colon = line.find(':');
  const std::string_view name = std::string_view(line).substr(0, colon);
  std::size_t value_at = colon == std::string::npos ? line.size() : colon + 1;
  if (value_at < line.size() && line[value_at] == ' ') ++value_at;
  if (name == "data") {
    has_data_ = true;
    if (frame_.data.empty()) {
      // The usual single data line (a snapshot's can be megabytes): moved, not copied.
      line.erase(0, value_at);
      frame_.data = std::move(line);
    } else {
      frame_.data.append(line, value_at);
    }
    frame_.data.push_back('\n');
  } else if (name == "event") {
    frame_.event.assign(line, value_at);
  } else if (name == "id") {
    if (line.find('\0', value_at) == std::string::npos) frame_.id = line.substr(value_at);
  }
  return true;
}

}  // namespace tessera::client
