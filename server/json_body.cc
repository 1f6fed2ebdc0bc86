#include "server/json_body.h"

#include <cmath>

#include "common/json.h"

namespace tessera::server {

Status WrongType(std::string_view name, std::string_view what) {
  return Error(ErrorCode::kBadRequest, std::string(name) + " must be " + std::string(what) + ".");
}

Result<JsonBody> JsonBody::Parse(std::string_view text, boost::json::storage_ptr sp) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) {
    ++i;
  }
  if (i == text.size()) return JsonBody(boost::json::object(sp));
  auto parsed = ParseJson(text, kMaxBodyDepth, sp);
  if (!parsed.ok()) {
    if (parsed.status().code() == ErrorCode::kJsonTooDeep) {
      return Error(ErrorCode::kBadRequest, "The request body is nested too deeply.");
    }
    return Error(ErrorCode::kBadRequest, "The request body is not valid JSON.");
  }
  if (!parsed->is_object()) {
    return Error(ErrorCode::kBadRequest, "The request body must be a JSON object.");
  }
  return JsonBody(std::move(parsed->get_object()));
}

const boost::json::value* JsonBody::Find(std::string_view name) const {
  const auto it = object_.find(name);
  if (it == object_.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

Result<std::optional<std::string>> JsonBody::OptString(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(Named(name), "a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

Result<std::optional<std::string_view>> JsonBody::OptStringView(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<std::string_view>();
  if (!v->is_string()) return WrongType(Named(name), "a string");
  return std::optional<std::string_view>(std::string_view(v->get_string()));
}

Result<std::string> JsonBody::String(std::string_view name) const {
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(name));
  if (!s) return Error(ErrorCode::kBadRequest, Named(name) + " is required.");
  return std::move(*s);
}

Result<std::optional<std::int64_t>> JsonBody::OptInt(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  }
  // JavaScript has only doubles; 60.0 is an integer.
  if (v->is_double()) {
    const double d = v->get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) {
      return std::optional<std::int64_t>(static_cast<std::int64_t>(d));
    }
  }
  return WrongType(Named(name), "an integer");
}

Result<std::optional<bool>> JsonBody::OptBool(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_bool()) return WrongType(Named(name), "a boolean");
  return std::optional<bool>(v->get_bool());
}

Result<std::optional<boost::json::object>> JsonBody::OptObject(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<boost::json::object>();
  if (!v->is_object()) return WrongType(Named(name), "an object");
  return std::optional<boost::json::object>(v->get_object());
}

Result<std::optional<std::vector<std::string>>> JsonBody::OptStringArray(
    std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return WrongType(Named(name), "an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v->get_array()) {
    if (!e.is_string()) return WrongType(Named(name), "an array of strings");
    out.emplace_back(e.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

std::optional<boost::json::value> JsonBody::OptValue(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::nullopt;
  return *v;
}

Result<std::optional<JsonBody>> JsonBody::OptNested(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr) return std::optional<JsonBody>();
  if (!v->is_object()) return WrongType(Named(name), "an object");
  return std::optional<JsonBody>(JsonBody(v->get_object(), Named(name) + "."));
}

}  // namespace tessera::server
