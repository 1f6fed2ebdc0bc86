// Password strength policies: zxcvbn (Debian's libzxcvbn) and LUDS.
#ifndef TESSERA_SERVICE_PASSWORD_STRENGTH_H_
#define TESSERA_SERVICE_PASSWORD_STRENGTH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/store/store.h"

namespace tessera {

// Passwords longer than this are refused before any estimate or hash (zxcvbn's matching grows
// faster than linearly with length). Counted in bytes.
inline constexpr std::size_t kMaxPasswordBytes = 256;

struct LudsRequirements {
  bool has_lower_case = false;
  bool has_upper_case = false;
  bool has_digit = false;
  bool has_symbol = false;  // Any character that is not an ASCII letter or digit.
  int missing_complexity = 0;
  int missing_characters = 0;
};

struct StrengthResult {
  bool valid = false;
  int score = 0;  // zxcvbn score 0..4, reported under both policies.
  PasswordPolicy policy = PasswordPolicy::kZxcvbn;
  std::string warning;
  std::vector<std::string> suggestions;
  std::optional<LudsRequirements> luds;  // Set under the LUDS policy.
};

// Evaluates `password` under the project's policy. `user_inputs` (e.g. the email address) count
// as known words for zxcvbn.
StrengthResult CheckPasswordStrength(std::string_view password,
                                     const std::vector<std::string>& user_inputs,
                                     const ProjectSettings& settings);

}  // namespace tessera

#endif  // TESSERA_SERVICE_PASSWORD_STRENGTH_H_
