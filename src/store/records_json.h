// JSON forms of store records that databases keep as text (settings, factors, claims, roles).
#ifndef TESSERA_STORE_RECORDS_JSON_H_
#define TESSERA_STORE_RECORDS_JSON_H_

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"
#include "tessera/store/store.h"

namespace tessera {

std::string SettingsToJson(const ProjectSettings& settings);
// Unknown members are ignored and missing ones keep their defaults, so older rows stay readable.
Result<ProjectSettings> SettingsFromJson(std::string_view json);

std::string RolesToJson(const std::vector<std::string>& roles);
Result<std::vector<std::string>> RolesFromJson(std::string_view json);

// A list of strings as a JSON array (an SSF stream's events_requested); kStoreCorrupt naming
// `what` when the stored text is not one.
std::string StringListToJson(const std::vector<std::string>& list);
Result<std::vector<std::string>> StringListFromJson(std::string_view json, std::string_view what);

// "3,5,9" (as GROUP_CONCAT / string_agg write them; "" or NULL for none), sorted ascending;
// kStoreCorrupt naming `what` for anything else.
Result<std::vector<std::int64_t>> SequenceListFromText(std::string_view text,
                                                       std::string_view what);

// Parses a stored JSON object or array; kStoreCorrupt when the text is not one.
Result<boost::json::object> StoredObject(std::string_view json);
Result<boost::json::array> StoredArray(std::string_view json);

// Lower-cases ASCII letters: the key under which emails are unique.
std::string NormalizeEmail(std::string_view email);

}  // namespace tessera

#endif  // TESSERA_STORE_RECORDS_JSON_H_
