#include "service/sdk_origins.h"

#include <cctype>

namespace tessera {
namespace {

Status Invalid(std::string_view origin, std::string_view why) {
  std::string message = "not a web origin (";
  message.append(why).append("): ").append(origin.substr(0, 200));
  return Error(ErrorCode::kInvalidArgument, std::move(message));
}

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

Result<std::string> NormalizeSdkOrigin(std::string_view origin) {
  if (origin.size() > 300) return Invalid(origin, "longer than 300 characters");
  std::string_view rest = origin;
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::string out;
  std::string_view default_port;
  for (const auto& [scheme, port] :
       {std::pair<std::string_view, std::string_view>{"http://", "80"}, {"https://", "443"}}) {
    if (rest.size() >= scheme.size()) {
      std::string head;
      for (const char c : rest.substr(0, scheme.size())) head.push_back(Lower(c));
      if (head == scheme) {
        out = head;
        default_port = port;
        rest.remove_prefix(scheme.size());
        break;
      }
    }
  }
  if (out.empty()) return Invalid(origin, "the scheme must be http:// or https://");
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return Invalid(origin, "an origin has no path, query or fragment");
  }
  if (rest.find('@') != std::string_view::npos) return Invalid(origin, "no user info");
  // The port follows the last ':' outside an IPv6 literal's brackets.
  std::string_view host = rest, port;
  const std::size_t bracket = rest.rfind(']');
  const std::size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos || port.front() == '0' ||
        std::stoi(std::string(port)) > 65535) {
      return Invalid(origin, "the port must be 1-65535");
    }
  }
  if (host.empty()) return Invalid(origin, "no host");
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 4 ||
        host.substr(1, host.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") !=
            std::string_view::npos) {
      return Invalid(origin, "not an IPv6 literal");
    }
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789.-") != std::string_view::npos) {
    return Invalid(origin, "the host may hold letters, digits, '.' and '-' only");
  }
  for (const char c : host) out.push_back(Lower(c));
  if (!port.empty() && port != default_port) out.append(":").append(port);
  return out;
}

}  // namespace tessera
