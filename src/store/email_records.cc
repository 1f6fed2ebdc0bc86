// Names of the email sign-in records' enumerations, as both stores keep them.
#include "tessera/store/one_time_token_store.h"
#include "tessera/store/redirect_url_store.h"

namespace tessera {

std::string_view OneTimeTokenKindName(OneTimeTokenKind kind) {
  switch (kind) {
    case OneTimeTokenKind::kMagicLink:
      return "magic_link";
    case OneTimeTokenKind::kInvite:
      return "invite";
    case OneTimeTokenKind::kEmbedded:
      return "embedded";
    case OneTimeTokenKind::kEmailOtp:
      return "email_otp";
    case OneTimeTokenKind::kPasswordReset:
      return "password_reset";
  }
  return "magic_link";  // Unreachable for valid enumerators.
}

std::optional<OneTimeTokenKind> OneTimeTokenKindFromName(std::string_view name) {
  for (const OneTimeTokenKind k :
       {OneTimeTokenKind::kMagicLink, OneTimeTokenKind::kInvite, OneTimeTokenKind::kEmbedded,
        OneTimeTokenKind::kEmailOtp, OneTimeTokenKind::kPasswordReset}) {
    if (OneTimeTokenKindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view RedirectUrlTypeName(RedirectUrlType type) {
  switch (type) {
    case RedirectUrlType::kLogin:
      return "login";
    case RedirectUrlType::kSignup:
      return "signup";
    case RedirectUrlType::kInvite:
      return "invite";
    case RedirectUrlType::kResetPassword:
      return "reset_password";
  }
  return "login";  // Unreachable for valid enumerators.
}

std::optional<RedirectUrlType> RedirectUrlTypeFromName(std::string_view name) {
  for (const RedirectUrlType t : {RedirectUrlType::kLogin, RedirectUrlType::kSignup,
                                  RedirectUrlType::kInvite, RedirectUrlType::kResetPassword}) {
    if (RedirectUrlTypeName(t) == name) return t;
  }
  return std::nullopt;
}

}  // namespace tessera
