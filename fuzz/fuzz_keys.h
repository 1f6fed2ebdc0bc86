// Fixed keys, verification options and time shared by the fuzz targets and the corpus generator.
//
// The keys are throwaway test keys (openssl genpkey, PKCS#8), used nowhere but here. They are
// fixed rather than generated at start-up so that the committed seed tokens carry signatures that
// verify: without that, every seed stops at the signature check and the fuzzer never reaches the
// payload and claim checks behind it.
#ifndef TESSERA_FUZZ_FUZZ_KEYS_H_
#define TESSERA_FUZZ_FUZZ_KEYS_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "tessera/clock.h"
#include "tessera/token/jwt.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"
#include "tessera/token/session_jwt.h"

namespace tessera::fuzz {

inline constexpr std::string_view kProject = "project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b";
// The seed tokens are minted at this time (2026-03-01T14:25:15Z) and verified a minute later, so
// the valid seeds are within their five-minute lifetime.
inline constexpr std::int64_t kMintTime = 1772375115;
inline constexpr std::int64_t kVerifyTime = kMintTime + 60;

inline constexpr std::string_view kRsa2048Pkcs8 =
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC7E2hARIEgfza92QiCkHPH3RabO2aD1v53lqGW"
    "cYX7PSGFhg3TEFhXMUZD+F7vdCpcsZ4oUu3639XrNVgCTJIofzvRvi4zZgO//KdoQxEWloGbsnFl99U4s+B74szj"
    "k7b8fkuT80zNdjV4i60cM5uEbqVP7Jq9sOcSO3WZ1tr1TjHXMGLXegvWxX6F6Ns5/Aor08pwVYFweTmsA6N5aLdO"
    "8AyeXpHxQgVrrn2V2YXQZI3R1DyQCH7extGG4oNTPR0uRZM+13gOPvIIOqB782FWaiixrilbqaboSqXDBM5nCOon"
    "Xlz3QhkCHWH5bikng+nnoc4N/rYoV1vUYMZ1k5blAgMBAAECggEAAYCxcHQNfAPGYqC/TutQmKQZbxaD9kLRSCFe"
    "7LcCzIoCmkojrSfZ461pWYOwh8zgpZGAFNToGmdsWpM5WnS1M/t5ZE3Arfyuj38BFvtpmW1qq7UAZ/0LrvxJCwn6"
    "6ll4LMlhdStq+yaX1OWOVKhczN+hdMfdd87PEjpjT0cTYUCUtHTZPiPsrfvDK9fr0tb9YnvQunm3tGdbysnq4Zz0"
    "2pRpx7TEOct463kNQx9gKLkyv7yyqH6r0OJzf3/seKlviNO5gDZrqHztRai4V1M3s/W35qqGPhk9xxsR+hm+33qh"
    "3JoR9+irTlWqlpn2NM0FkWlS6xLTXPRoGHDTOmZd4QKBgQD2kjcm5NNcxYZNt+RlBkmVMb/dmo3oZFH10fV9d7Me"
    "apXDNPE09JTPtM7MWlO0PbIkfAMIsp05AQcxwghVue9DGSwomY/asbI8JLln+zEncW7rsrUmNGH47Qn90YrgFc1p"
    "/K+IoKk3lsjY4GK7gOFZ+toe+xk8GlhlJnYNZuGr1QKBgQDCOsSRuAUxZ+IvZETYtgySLvhYtxapieCoVDkijioU"
    "gYFz53/5AhNKnn3yaHQxAAUP33KB+6sV15av0wJLh2vfwfrERGqTupLCigPGDoATrtShKdGeVYSXTCHEy2eoxALH"
    "fTUPcvZOXOabOEGlZemG+ixU7s71umamIGE/S0oW0QKBgFdr1+oOT3IhBlEf1faLmCMxlFk5pv6yMuz5GBT4D6XF"
    "HHwtlSe1X92UuY1yqSLKjRKqdVjsGxpO5wIZTWM3nUEo96MdbweW4R651pKrWO4nJbCjl96HzAS55kT7ukVg9YeS"
    "c5n5fIWdDHD4fYkFVODWM+ewF25b2ONkE48E3xZRAoGAd2QigqRIZOdDjPgorcGyFoXS2M2qm4qKU056VHho+3Pj"
    "/DgYXRteembUapa0nY4yjmA/BhGKSAHeubOOXJkgwUl++PhJPwfXwMePrEYrim3UfEC1fot41nvQ4iRaUs4yGygm"
    "3pk/OEo44r8A80ei9fqAF7E3/KqZAJM00/BW2ZECgYAH3NJuuTocU53hfzucxkQy/nXd/KEf615z0FFGA/7ZuKDk"
    "7w2IhhWBU71ZFqyxGFyCNjWlbvSw+4LxoIzpbI8E6z1bX46uAo3Je6ZYQB8k7gKWUTUNCcu9tkgEGjLjI96rNH9b"
    "+FusuEH3l4De0dkVv//wQ6CNrnl5h8UzaXkimg==";

inline constexpr std::string_view kP256Pkcs8 =
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYbrqglxk7Sc91u+o0P+SbkSA2MJ325lTXdjLkM2T"
    "0rmhRANCAAQIJ+S5r82DgfGr+3xDD7Pzj+zDcZijEbqMSR9dWQr7g8kwd0ZJDlvgHRvk61+lSIVHoOiuB8H13SDE"
    "/esU6LWx";

inline constexpr std::string_view kEd25519Pkcs8 =
    "MC4CAQAwBQYDK2VwBCIEIOua8bM2FX9M7zATadmXfwMRob7cYDgxvqHv3F9fT32n";

// The fixed key for `alg`, kid "jwk-fuzz-<alg>". Built on first use and deliberately never
// destroyed, so no static-destruction order at exit can reach it; it stays reachable, so
// LeakSanitizer does not count it.
inline const SigningKey& FuzzKey(JwtAlgorithm alg) {
  static const SigningKey* keys[3] = {};
  const int index = static_cast<int>(alg);
  if (keys[index] == nullptr) {
    std::string_view b64 = kRsa2048Pkcs8;
    if (alg == JwtAlgorithm::kES256) b64 = kP256Pkcs8;
    if (alg == JwtAlgorithm::kEdDSA) b64 = kEd25519Pkcs8;
    auto der = Base64Decode(b64);
    if (!der.ok()) std::abort();
    auto key = SigningKey::FromPkcs8("jwk-fuzz-" + std::string(AlgorithmName(alg)), alg, *der, {});
    if (!key.ok()) std::abort();
    keys[index] = new SigningKey(std::move(*key));
  }
  return *keys[index];
}

// One key of each algorithm, as a verifier of a project using all three would hold them.
inline const KeySet& FuzzKeySet() {
  static const auto* set = [] {
    auto s = KeySet::FromKeys({FuzzKey(JwtAlgorithm::kRS256).public_key(),
                               FuzzKey(JwtAlgorithm::kES256).public_key(),
                               FuzzKey(JwtAlgorithm::kEdDSA).public_key()});
    if (!s.ok()) std::abort();
    return new std::shared_ptr<const KeySet>(std::move(*s));
  }();
  return **set;
}

inline JwtVerifyOptions FuzzOptions(bool check_expiry) {
  JwtVerifyOptions options = SessionJwtOptions(kProject);
  options.check_expiry = check_expiry;
  return options;
}

}  // namespace tessera::fuzz

#endif  // TESSERA_FUZZ_FUZZ_KEYS_H_
