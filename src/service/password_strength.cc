#include "service/password_strength.h"

#include <zxcvbn.h>

#include <algorithm>
#include <cmath>

namespace tessera {
namespace {

// zxcvbn's score from an entropy estimate in bits, using the guess thresholds of the reference
// implementation (10^3, 10^6, 10^8, 10^10 guesses).
int ScoreFromEntropy(double bits) {
  const double log10_guesses = bits * std::log10(2.0);
  if (log10_guesses < 3) return 0;
  if (log10_guesses < 6) return 1;
  if (log10_guesses < 8) return 2;
  if (log10_guesses < 10) return 3;
  return 4;
}

}  // namespace

StrengthResult CheckPasswordStrength(std::string_view password,
                                     const std::vector<std::string>& user_inputs,
                                     const ProjectSettings& settings) {
  StrengthResult r;
  r.policy = settings.password_policy;

  // zxcvbn: the estimate and the weakest kinds of pattern it found.
  // zxcvbn reads a C string: an embedded NUL would end the password early and make a strong one
  // look weak. Stand-in bytes keep the length and count as unguessable characters.
  std::string pwd(password);
  for (char& c : pwd) {
    if (c == '\0') c = '\x01';
  }
  std::vector<const char*> dict;
  for (const auto& w : user_inputs) dict.push_back(w.c_str());
  dict.push_back(nullptr);
  ZxcMatch_t* info = nullptr;
  const double bits = password.empty() ? 0.0 : ZxcvbnMatch(pwd.c_str(), dict.data(), &info);
  bool dictionary = false, sequence = false, repeats = false, spatial = false, dates = false,
       user = false;
  for (ZxcMatch_t* m = info; m != nullptr; m = m->Next) {
    const int type = m->Type & ~MULTIPLE_MATCH;
    // Only patterns that cover a real part of the password deserve a warning.
    if (m->Length * 2 < static_cast<int>(password.size())) continue;
    dictionary = dictionary || type == DICTIONARY_MATCH || type == DICT_LEET_MATCH;
    user = user || type == USER_MATCH || type == USER_LEET_MATCH;
    sequence = sequence || type == SEQUENCE_MATCH;
    repeats = repeats || type == REPEATS_MATCH;
    spatial = spatial || type == SPATIAL_MATCH;
    dates = dates || type == DATE_MATCH || type == YEAR_MATCH;
  }
  if (info != nullptr) ZxcvbnFreeInfo(info);
  std::fill(pwd.begin(), pwd.end(), '\0');
  r.score = ScoreFromEntropy(bits);

  if (settings.password_policy == PasswordPolicy::kLuds) {
    LudsRequirements l;
    for (const unsigned char c : password) {
      if (c >= 'a' && c <= 'z')
        l.has_lower_case = true;
      else if (c >= 'A' && c <= 'Z')
        l.has_upper_case = true;
      else if (c >= '0' && c <= '9')
        l.has_digit = true;
      else
        l.has_symbol = true;  // Includes every byte of a non-ASCII UTF-8 character.
    }
    const int classes = l.has_lower_case + l.has_upper_case + l.has_digit + l.has_symbol;
    l.missing_complexity = std::max(0, settings.luds_min_complexity - classes);
    l.missing_characters =
        std::max(0, settings.luds_min_length - static_cast<int>(password.size()));
    r.valid = l.missing_complexity == 0 && l.missing_characters == 0;
    if (l.missing_characters > 0) {
      r.suggestions.push_back("Use at least " + std::to_string(settings.luds_min_length) +
                              " characters.");
    }
    if (l.missing_complexity > 0) {
      r.suggestions.push_back(
          "Use a mix of lower-case and upper-case letters, digits and symbols.");
    }
    r.luds = l;
    return r;
  }

  r.valid = r.score >= 3;
  if (r.valid) return r;
  if (user) {
    r.warning = "Passwords that contain your email address are easy to guess.";
  } else if (dictionary) {
    r.warning = "This is similar to a commonly used password.";
  } else if (sequence) {
    r.warning = "Sequences like abc or 6543 are easy to guess.";
  } else if (repeats) {
    r.warning = "Repeats like \"aaa\" are easy to guess.";
  } else if (spatial) {
    r.warning = "Straight rows of keys are easy to guess.";
  } else if (dates) {
    r.warning = "Dates are often easy to guess.";
  } else {
    r.warning = "This password is too easy to guess.";
  }
  r.suggestions.push_back("Add another word or two. Uncommon words are better.");
  if (password.size() < 12) r.suggestions.push_back("Use a longer password.");
  return r;
}

}  // namespace tessera
