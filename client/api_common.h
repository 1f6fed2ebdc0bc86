// What Client::Impl and the endpoint facades (sessions.cc, users.cc, passwords.cc, rbac.cc) share
// for talking to the API: the errors for bad arguments and unexpected answers, reading an
// answer's members, and building a request's. Internal to the SDK: not installed.
#ifndef TESSERA_CLIENT_API_COMMON_H_
#define TESSERA_CLIENT_API_COMMON_H_

#include <boost/json.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/client/client.h"

namespace tessera::client {

// The deepest JSON an API answer may nest.
constexpr std::size_t kMaxResponseDepth = 64;

// kInvalidArgument: the caller passed something the SDK refuses before any request.
Error ArgumentError(std::string message);

// kProtocol: the server answered something that is not the API's shape.
Error ProtocolError(std::string message);

// The string member `name` of `o`; "" when it is missing or not a string.
std::string StringMember(const boost::json::object& o, std::string_view name);

// The strings of the array member `name` of `o` (other elements skipped); empty when it is
// missing or not an array.
std::vector<std::string> StringArray(const boost::json::object& o, std::string_view name);

// A session or user object of an API answer; members missing or of the wrong type are left
// empty (or false).
Session SessionFromApi(const boost::json::object& o);
User UserFromApi(const boost::json::object& o);

// `*text` parsed as a JSON object (at most 16 deep), else kInvalidArgument naming `name`.
// REQUIRES: `text` holds a value.
Outcome<boost::json::value> ParseClaimsJson(const std::optional<std::string>& text,
                                            std::string_view name);

boost::json::array ToJsonArray(const std::vector<std::string>& v);

// `s` percent-encoded for a URL path segment or query value: all but RFC 3986's unreserved
// characters.
std::string UrlEncode(std::string_view s);

}  // namespace tessera::client

#endif  // TESSERA_CLIENT_API_COMMON_H_
