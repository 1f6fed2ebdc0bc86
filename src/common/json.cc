#include "common/json.h"

#include <cmath>

namespace tessera {

namespace {

// 1e400 parses as infinity; infinity and NaN have no JSON spelling, so a value holding one could
// never be written back out. Depth is bounded by the parse.
bool AllNumbersFinite(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& e : v.get_array()) {
        if (!AllNumbersFinite(e)) return false;
      }
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllNumbersFinite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

Result<boost::json::value> ParseJson(std::string_view text, std::size_t max_depth,
                                     boost::json::storage_ptr sp) {
  boost::json::parse_options opt;
  opt.max_depth = max_depth;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec, std::move(sp), opt);
  if (ec) {
    if (ec == boost::json::error::too_deep) {
      return Error(ErrorCode::kJsonTooDeep, "JSON is nested too deeply");
    }
    return Error(ErrorCode::kMalformedJson, "not valid JSON");
  }
  if (!AllNumbersFinite(v)) {
    return Error(ErrorCode::kMalformedJson, "JSON numbers must be finite");
  }
  return v;
}

Result<boost::json::object> ParseJsonObject(std::string_view text, std::size_t max_depth,
                                            boost::json::storage_ptr sp) {
  TESSERA_ASSIGN_OR_RETURN(boost::json::value v, ParseJson(text, max_depth, std::move(sp)));
  if (!v.is_object()) return Error(ErrorCode::kMalformedJson, "JSON must be an object");
  return std::move(v.as_object());
}

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // Start of the pending run of characters that need no escaping.
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string ToJson(const boost::json::value& v) { return boost::json::serialize(v); }

std::size_t JsonDepth(const boost::json::object& o) {
  std::size_t inner = 0;
  for (const auto& kv : o) inner = std::max(inner, JsonDepth(kv.value()));
  return inner + 1;
}

std::size_t JsonDepth(const boost::json::value& v) {
  std::size_t inner = 0;
  if (v.is_object()) return JsonDepth(v.get_object());
  if (v.is_array()) {
    for (const auto& e : v.get_array()) inner = std::max(inner, JsonDepth(e));
    return inner + 1;
  }
  return 0;
}

}  // namespace tessera
