// Heterogeneous lookup for unordered containers keyed by std::string: find() with a
// std::string_view builds no temporary string (no allocation on hot paths).
#ifndef TESSERA_COMMON_STRING_HASH_H_
#define TESSERA_COMMON_STRING_HASH_H_

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tessera {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

}  // namespace tessera

#endif  // TESSERA_COMMON_STRING_HASH_H_
