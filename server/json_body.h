// Typed access to a JSON request body, with one clear error per mistake.
//
// Rules (spec §1.2): an empty body reads as {}; unknown members are ignored whatever their type
// (SDKs send extra fields); `null` reads as "not provided"; a known member of the wrong type is a
// 400 naming the member and the type expected.
#ifndef TESSERA_SERVER_JSON_BODY_H_
#define TESSERA_SERVER_JSON_BODY_H_

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"

namespace tessera::server {

// Maximum nesting of a request body (metadata and custom claims are limited further).
inline constexpr std::size_t kMaxBodyDepth = 32;

class JsonBody {
 public:
  // kBadRequest when `text` is not a JSON object (or is nested beyond kMaxBodyDepth). `sp` may be a
  // caller's arena (e.g. a stack monotonic_resource); the body must not outlive it then.
  static Result<JsonBody> Parse(std::string_view text, boost::json::storage_ptr sp = {});

  Result<std::optional<std::string>> OptString(std::string_view name) const;
  // As OptString, without copying; valid while this body lives.
  Result<std::optional<std::string_view>> OptStringView(std::string_view name) const;
  Result<std::string> String(std::string_view name) const;  // Required.
  Result<std::optional<std::int64_t>> OptInt(std::string_view name) const;
  Result<std::optional<bool>> OptBool(std::string_view name) const;
  Result<std::optional<boost::json::object>> OptObject(std::string_view name) const;
  Result<std::optional<std::vector<std::string>>> OptStringArray(std::string_view name) const;
  // Any JSON value except null.
  std::optional<boost::json::value> OptValue(std::string_view name) const;
  // A member that must be an object, read with the same rules as a body of its own; its errors
  // name the member as "<name>.<member>".
  Result<std::optional<JsonBody>> OptNested(std::string_view name) const;

  const boost::json::object& object() const { return object_; }

 private:
  explicit JsonBody(boost::json::object o, std::string prefix = "")
      : object_(std::move(o)), prefix_(std::move(prefix)) {}
  const boost::json::value* Find(std::string_view name) const;
  // `name` as error messages spell it.
  std::string Named(std::string_view name) const { return prefix_ + std::string(name); }
  boost::json::object object_;
  std::string prefix_;  // "<member>." for a nested body, else empty.
};

// kBadRequest "<name> must be <what>".
Status WrongType(std::string_view name, std::string_view what);

}  // namespace tessera::server

#endif  // TESSERA_SERVER_JSON_BODY_H_
