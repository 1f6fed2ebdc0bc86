// The secrets of email sign-in: magic-link tokens, six-digit passcodes, their keyed digests, and
// the PKCE check.
#ifndef TESSERA_SERVICE_EMAIL_ONE_TIME_SECRETS_H_
#define TESSERA_SERVICE_EMAIL_ONE_TIME_SECRETS_H_

#include <string>
#include <string_view>

#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/result.h"
#include "tessera/store/one_time_token_store.h"

namespace tessera {

// A magic-link, invite, embeddable or reset token: 32 bytes from the CSPRNG in base64url with its
// one `=` pad, 44 characters, the shape of Stytch's sandbox tokens (spec §2.1).
Result<std::string> GenerateMagicToken(RandomSource& random);

// A six-digit passcode, uniform over 000000..999999 (rejection sampling, no modulo bias).
Result<std::string> GenerateOtpCode(RandomSource& random);

// True for exactly six ASCII digits.
bool IsOtpCodeShape(std::string_view code);

// The lookup digest of a token (any kind but passcodes): keyed, so the database alone reveals
// nothing.
OneTimeDigest DigestMagicToken(const MasterKey& key, std::string_view token);
// The lookup digest of a passcode, bound to its method_id (a code means nothing without it).
OneTimeDigest DigestOtpCode(const MasterKey& key, std::string_view method_id,
                            std::string_view code);

// PKCE S256 (spec §8.4): OK when neither is given or when base64url(SHA-256(verifier)) equals the
// challenge (with or without `=` padding). kPkceExpectedCodeVerifier,
// kPkceDidNotExpectCodeVerifier, kPkceMismatch.
Status CheckPkce(std::string_view code_challenge, std::string_view code_verifier);

}  // namespace tessera

#endif  // TESSERA_SERVICE_EMAIL_ONE_TIME_SECRETS_H_
