// Stytch's sandbox values (spec-next §7), answered in test projects only, without touching the
// store or sending anything, so the official SDKs' sandbox tests pass unchanged.
#ifndef TESSERA_SERVICE_EMAIL_SANDBOX_H_
#define TESSERA_SERVICE_EMAIL_SANDBOX_H_

#include <memory>
#include <string_view>

#include "service/caches.h"

namespace tessera::sandbox {

inline constexpr std::string_view kEmail = "sandbox@stytch.com";
inline constexpr std::string_view kPhone = "+10000000000";
inline constexpr std::string_view kUserId = "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd";
inline constexpr std::string_view kEmailId = "email-test-23873e89-d4ed-4e92-b3b9-e5c7198fa286";
// Not documented by Stytch; the docs' example phone id.
inline constexpr std::string_view kPhoneId =
    "phone-number-test-d5a3b680-e8a3-40c0-b815-ab79986666d0";
inline constexpr std::string_view kCode = "000000";
inline constexpr std::string_view kGoodToken = "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94=";
inline constexpr std::string_view kUsedToken = "3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU=";
inline constexpr std::string_view kUnknownToken = "CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM=";

// True for the sandbox address (compared without regard to case).
bool IsEmail(std::string_view email);

// The sandbox user: active, its email and phone verified, created 2021-08-28T00:41:58Z.
std::shared_ptr<const CachedUser> User();

}  // namespace tessera::sandbox

#endif  // TESSERA_SERVICE_EMAIL_SANDBOX_H_
