#include "server/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace tessera::server {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b/c" -> {"a", "b", "c"}; "/" -> {""}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

[[noreturn]] void BadTable(std::string_view path, const char* why) {
  std::fprintf(stderr, "route table: %.*s: %s\n", static_cast<int>(path.size()), path.data(), why);
  std::abort();
}

}  // namespace

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

Router::Router(std::span<const RouteDef> routes) : routes_(routes) {
  std::unordered_map<std::string_view, std::size_t> by_path;
  for (RouteId id = 0; id < routes.size(); ++id) {
    const RouteDef& r = routes[id];
    if (!r.path.starts_with('/')) BadTable(r.path, "a path starts with '/'");
    if (r.handler == nullptr) BadTable(r.path, "no handler");
    std::vector<std::string> names;
    const std::vector<std::string_view> segments = Segments(r.path);
    for (const std::string_view s : segments) {
      if (IsParam(s)) {
        names.emplace_back(s.substr(1, s.size() - 2));
      } else if (s.find_first_of("{}") != std::string_view::npos) {
        BadTable(r.path, "a parameter is a whole segment");
      }
    }
    auto [it, added] = by_path.emplace(r.path, groups_.size());
    if (added) groups_.push_back(Group{segments, {}, {}});
    Group& g = groups_[it->second];
    for (const RouteId other : g.routes) {
      if (routes[other].method == r.method) BadTable(r.path, "a method appears twice");
    }
    g.routes.push_back(id);
    if (!g.allow.empty()) g.allow += ", ";
    g.allow += MethodName(r.method);
    labels_.push_back(std::string(MethodName(r.method)) + " " + std::string(r.path));
    param_names_.push_back(std::move(names));
  }
  labels_.emplace_back("unmatched");
  param_names_.emplace_back();

  for (std::size_t i = 0; i < groups_.size(); ++i) {
    const auto& segs = groups_[i].segments;
    if (std::none_of(segs.begin(), segs.end(), IsParam)) {
      literal_.emplace(routes[groups_[i].routes[0]].path, i);
    } else {
      patterns_.push_back(i);
    }
  }
  // Most specific first: at the first segment where two patterns differ in kind, the literal wins.
  std::stable_sort(patterns_.begin(), patterns_.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = groups_[a].segments;
    const auto& y = groups_[b].segments;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      const bool px = IsParam(x[i]), py = IsParam(y[i]);
      if (px != py) return !px;
    }
    return false;
  });
}

std::optional<std::size_t> Router::FindGroup(std::string_view path) const {
  if (const auto it = literal_.find(path); it != literal_.end()) return it->second;
  if (patterns_.empty() || !path.starts_with('/')) return std::nullopt;
  const std::vector<std::string_view> segments = Segments(path);
  for (const std::size_t g : patterns_) {
    const auto& pattern = groups_[g].segments;
    if (pattern.size() != segments.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; ok && i < pattern.size(); ++i) {
      ok = IsParam(pattern[i]) ? !segments[i].empty() : pattern[i] == segments[i];
    }
    if (ok) return g;
  }
  return std::nullopt;
}

RouteMatch Router::Match(Method method, std::string_view path) const {
  RouteMatch m;
  m.id = unmatched();
  const std::optional<std::size_t> found = FindGroup(path);
  if (!found) {
    m.error = Error(ErrorCode::kRouteNotFound, "No route matches this path.");
    return m;
  }
  const Group& g = groups_[*found];
  if (g.segments.size() > 1 || IsParam(g.segments[0])) {
    const std::vector<std::string_view> segments = Segments(path);
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (!IsParam(g.segments[i])) continue;
      std::string decoded;
      if (!PercentDecode(segments[i], false, decoded)) {
        m.params.clear();
        m.error = Error(ErrorCode::kRouteNotFound, "The path is not valid.");
        return m;
      }
      m.params.push_back(std::move(decoded));
    }
  }
  const Method wanted = method == Method::kHead ? Method::kGet : method;
  for (const RouteId id : g.routes) {
    if (routes_[id].method == wanted) {
      m.route = &routes_[id];
      m.id = id;
      return m;
    }
  }
  m.params.clear();
  m.error = Error(ErrorCode::kMethodNotAllowed,
                  "This route does not accept this method; allowed: " + g.allow + ".");
  m.allow = g.allow;
  return m;
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    std::string key;
    if (!PercentDecode(pair.substr(0, eq), true, key) || key != name) continue;
    std::string value;
    if (eq == std::string_view::npos) return value;
    if (!PercentDecode(pair.substr(eq + 1), true, value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace tessera::server
