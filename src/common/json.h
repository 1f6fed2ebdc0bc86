// JSON helpers on top of Boost.JSON: parsing with limits, and the small amount of hand-written
// serialization that hot paths need.
#ifndef TESSERA_COMMON_JSON_H_
#define TESSERA_COMMON_JSON_H_

#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "tessera/result.h"

namespace tessera {

// Parses `text` as one JSON value. Nesting deeper than `max_depth` fails with kJsonTooDeep as soon
// as the parser reaches that depth; anything else that is not JSON fails with kMalformedJson.
// Duplicate object keys keep the last value (RFC 8259 leaves this open; the SDKs send none).
Result<boost::json::value> ParseJson(std::string_view text, std::size_t max_depth,
                                     boost::json::storage_ptr sp = {});

// As ParseJson, and requires an object (kMalformedJson otherwise).
Result<boost::json::object> ParseJsonObject(std::string_view text, std::size_t max_depth,
                                            boost::json::storage_ptr sp = {});

// Appends `s` as a JSON string literal (quotes included), escaping as RFC 8259 requires.
void AppendJsonString(std::string_view s, std::string& out);

// Compact serialization.
std::string ToJson(const boost::json::value& v);

// The nesting depth of `v`: 0 for a scalar, 1 for a flat array or object.
std::size_t JsonDepth(const boost::json::value& v);
std::size_t JsonDepth(const boost::json::object& o);

}  // namespace tessera

#endif  // TESSERA_COMMON_JSON_H_
