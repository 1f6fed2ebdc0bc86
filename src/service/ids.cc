#include "service/ids.h"

namespace tessera {

Result<std::string> NewId(std::string_view kind, bool live, RandomSource& random) {
  TESSERA_ASSIGN_OR_RETURN(std::string uuid, NewUuid(random));
  std::string id(kind);
  id += live ? "-live-" : "-test-";
  id += uuid;
  return id;
}

bool IsIdOfKind(std::string_view id, std::string_view kind) {
  if (!id.starts_with(kind)) return false;
  id.remove_prefix(kind.size());
  if (!id.starts_with("-test-") && !id.starts_with("-live-")) return false;
  id.remove_prefix(6);
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace tessera
