#include "store/records_json.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"

namespace tessera {
namespace {

constexpr std::size_t kStoredDepth = 32;

Status Corrupt(std::string_view what) {
  return Error(ErrorCode::kStoreCorrupt, "stored " + std::string(what) + " is not valid");
}

}  // namespace

std::string SettingsToJson(const ProjectSettings& s) {
  boost::json::object o;
  o["password_policy"] = s.password_policy == PasswordPolicy::kLuds ? "luds" : "zxcvbn";
  o["luds_min_length"] = s.luds_min_length;
  o["luds_min_complexity"] = s.luds_min_complexity;
  o["enumeration_protection"] = s.enumeration_protection;
  o["lock_threshold"] = s.lock_threshold;
  o["lock_window_seconds"] = s.lock_window.count();
  o["lock_duration_seconds"] = s.lock_duration.count();
  o["jwt_algorithm"] = AlgorithmName(s.jwt_algorithm);
  return boost::json::serialize(o);
}

Result<ProjectSettings> SettingsFromJson(std::string_view json) {
  auto parsed = ParseJsonObject(json, kStoredDepth);
  if (!parsed.ok()) return Corrupt("project settings");
  ProjectSettings s;
  const auto& o = *parsed;
  const auto int_of = [&](std::string_view k, auto& out) {
    if (auto it = o.find(k); it != o.end() && it->value().is_int64()) {
      out = static_cast<std::remove_reference_t<decltype(out)>>(it->value().get_int64());
    }
  };
  if (auto it = o.find("password_policy"); it != o.end() && it->value().is_string()) {
    s.password_policy =
        it->value().get_string() == "luds" ? PasswordPolicy::kLuds : PasswordPolicy::kZxcvbn;
  }
  int_of("luds_min_length", s.luds_min_length);
  int_of("luds_min_complexity", s.luds_min_complexity);
  int_of("lock_threshold", s.lock_threshold);
  std::int64_t window = s.lock_window.count(), duration = s.lock_duration.count();
  int_of("lock_window_seconds", window);
  int_of("lock_duration_seconds", duration);
  s.lock_window = Seconds(window);
  s.lock_duration = Seconds(duration);
  if (auto it = o.find("enumeration_protection"); it != o.end() && it->value().is_bool()) {
    s.enumeration_protection = it->value().get_bool();
  }
  if (auto it = o.find("jwt_algorithm"); it != o.end() && it->value().is_string()) {
    const auto alg = AlgorithmFromName(it->value().get_string());
    if (!alg) return Corrupt("project settings");
    s.jwt_algorithm = *alg;
  }
  return s;
}

std::string RolesToJson(const std::vector<std::string>& roles) {
  boost::json::array a;
  for (const auto& r : roles) a.emplace_back(r);
  return boost::json::serialize(a);
}

Result<std::vector<std::string>> RolesFromJson(std::string_view json) {
  auto parsed = ParseJson(json, kStoredDepth);
  if (!parsed.ok() || !parsed->is_array()) return Corrupt("roles");
  std::vector<std::string> out;
  for (const auto& v : parsed->get_array()) {
    if (!v.is_string()) return Corrupt("roles");
    out.emplace_back(v.get_string());
  }
  return out;
}

std::string StringListToJson(const std::vector<std::string>& list) { return RolesToJson(list); }

Result<std::vector<std::string>> StringListFromJson(std::string_view json, std::string_view what) {
  auto parsed = ParseJson(json, kStoredDepth);
  if (!parsed.ok() || !parsed->is_array()) return Corrupt(what);
  std::vector<std::string> out;
  for (const auto& v : parsed->get_array()) {
    if (!v.is_string()) return Corrupt(what);
    out.emplace_back(v.get_string());
  }
  return out;
}

Result<std::vector<std::int64_t>> SequenceListFromText(std::string_view text,
                                                       std::string_view what) {
  std::vector<std::int64_t> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (ec != std::errc() || end != item.data() + item.size()) return Corrupt(what);
    out.push_back(v);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<boost::json::object> StoredObject(std::string_view json) {
  auto parsed = ParseJson(json, kStoredDepth);
  if (!parsed.ok() || !parsed->is_object()) return Corrupt("JSON object");
  return std::move(parsed->get_object());
}

Result<boost::json::array> StoredArray(std::string_view json) {
  auto parsed = ParseJson(json, kStoredDepth);
  if (!parsed.ok() || !parsed->is_array()) return Corrupt("JSON array");
  return std::move(parsed->get_array());
}

std::string NormalizeEmail(std::string_view email) {
  std::string out(email);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

}  // namespace tessera
