// Text that every store can keep exactly: valid UTF-8 without NUL characters.
//
// PostgreSQL refuses invalid UTF-8 in text and cuts C-string parameters at the first NUL, so a
// string outside this set would be refused by one store and silently changed (or worse, matched
// against another record) by another. Services check ids and stored strings with IsStorableText
// before they reach a store, so every backend gives the same answer.
#ifndef TESSERA_COMMON_TEXT_H_
#define TESSERA_COMMON_TEXT_H_

#include <string_view>

namespace tessera {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Valid UTF-8 and no U+0000.
inline bool IsStorableText(std::string_view s) {
  return s.find('\0') == std::string_view::npos && IsValidUtf8(s);
}

}  // namespace tessera

#endif  // TESSERA_COMMON_TEXT_H_
