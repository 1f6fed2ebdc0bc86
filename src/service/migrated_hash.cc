#include "service/migrated_hash.h"
// ^ This file's own header: first, so it must compile alone.

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <memory>

#include "common/base64.h"
#include "crypto/openssl_util.h"
#include "service/argon2.h"
#include "service/migrated_hash_internal.h"

namespace tessera {
namespace {

using B = MigratedHashBounds;
using migrated_hash_internal::Kind;
using migrated_hash_internal::kItoa64;
using migrated_hash_internal::Parsed;
using migrated_hash_internal::Verify;

constexpr std::pair<Kind, std::string_view> kKindNames[] = {
    {Kind::kBcrypt, "bcrypt"},    {Kind::kMd5, "md_5"},
    {Kind::kSha1, "sha_1"},       {Kind::kSha512, "sha_512"},
    {Kind::kArgon2i, "argon_2i"}, {Kind::kArgon2id, "argon_2id"},
    {Kind::kScrypt, "scrypt"},    {Kind::kPbkdf2, "pbkdf_2"},
    {Kind::kPhpass, "phpass"},    {Kind::kFirebaseScrypt, "firebase_scrypt"},
};

std::optional<Kind> KindFromName(std::string_view name) {
  for (const auto& [kind, n] : kKindNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view KindName(Kind kind) {
  for (const auto& [k, n] : kKindNames) {
    if (k == kind) return n;
  }
  return "";
}

// --- Encodings
// ------------------------------------------------------------------------------------

// Base64 as exports spell it: the standard or the URL-safe alphabet, padded or not (Firebase's
// CLI writes one, its Admin SDK the other). Anything else is refused.
std::optional<std::string> DecodeBase64(std::string_view in) {
  std::string s(in);
  std::size_t pad = 0;
  while (!s.empty() && s.back() == '=' && pad < 2) {
    s.pop_back();
    ++pad;
  }
  if (pad > 0 && (s.size() + pad) % 4 != 0) return std::nullopt;
  for (char& c : s) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  auto out = Base64UrlDecode(s);
  if (!out.ok()) return std::nullopt;
  return std::move(*out);
}

std::optional<std::string> DecodeHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// A decimal number of at most 10 digits without sign or leading zeros; nullopt otherwise.
std::optional<std::int64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsPowerOfTwo(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

bool AllItoa64(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return kItoa64.find(c) != std::string_view::npos; });
}

// --- Checks: form and bounds, shared by new input and stored forms ------------------------------

Status CheckBcrypt(std::string_view h) {
  const auto bad = [] {
    return Error(ErrorCode::kInvalidBcryptHash,
                 "hash must be a bcrypt string: $2a$, $2b$ or $2y$, a two-digit cost, $, and 53 "
                 "characters of ./A-Za-z0-9.");
  };
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') ||
      h[3] != '$' || h[6] != '$' || !AllItoa64(h.substr(7))) {
    return bad();
  }
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return bad();
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < B::kBcryptMinCost || cost > B::kBcryptMaxCost) {
    return Error(ErrorCode::kInvalidBcryptCost, "The bcrypt cost must be between " +
                                                    std::to_string(B::kBcryptMinCost) + " and " +
                                                    std::to_string(B::kBcryptMaxCost) + ".");
  }
  // libxcrypt's own opinion of the setting (salt alphabet and padding bits), without hashing.
  const std::string z(h);
  if (crypt_checksalt(z.c_str()) != CRYPT_SALT_OK) return bad();
  return Status::Ok();
}

Status CheckPhpass(std::string_view h) {
  if (h.substr(0, 3) != "$P$" && h.substr(0, 3) != "$H$") {
    return Error(ErrorCode::kInvalidPhpassHashPrefix, "A phpass hash starts with $P$ or $H$.");
  }
  if (h.size() != 34 || !AllItoa64(h.substr(3))) {
    return Error(ErrorCode::kInvalidPhpassHashFormat,
                 "A phpass hash is 34 characters: $P$, the iteration count, 8 salt characters "
                 "and 22 hash characters from ./0-9A-Za-z.");
  }
  const auto log2 = static_cast<int>(kItoa64.find(h[3]));
  if (log2 < B::kPhpassMinLog2 || log2 > B::kPhpassMaxLog2) {
    return Error(ErrorCode::kInvalidPhpassHashFormat,
                 "The phpass iteration count must be between 2^" +
                     std::to_string(B::kPhpassMinLog2) + " and 2^" +
                     std::to_string(B::kPhpassMaxLog2) + ".");
  }
  return Status::Ok();
}

Status CheckArgon2Parameters(std::int64_t salt_bytes, std::int64_t t, std::int64_t m,
                             std::int64_t p, std::int64_t key_bytes) {
  if (salt_bytes < static_cast<std::int64_t>(B::kArgon2MinSaltBytes) ||
      salt_bytes > static_cast<std::int64_t>(B::kArgon2MaxSaltBytes)) {
    return Error(ErrorCode::kInvalidArgon2Salt, "The Argon2 salt must be 8 to 64 bytes.");
  }
  if (p < 1 || p > B::kArgon2MaxThreads) {
    return Error(ErrorCode::kInvalidArgon2Threads, "Argon2 threads must be between 1 and 16.");
  }
  if (t < 1 || t > B::kArgon2MaxIterations) {
    return Error(ErrorCode::kInvalidArgon2IterationAmount,
                 "The Argon2 iteration_amount must be between 1 and 16.");
  }
  if (m < 8 * p || m > B::kArgon2MaxMemoryKib) {
    return Error(ErrorCode::kInvalidArgon2Memory,
                 "Argon2 memory must be between 8 KiB per thread and 262144 KiB (256 MiB).");
  }
  if (m * t > B::kArgon2MaxWorkKib) {
    return Error(ErrorCode::kInvalidArgon2IterationAmount,
                 "Argon2 memory times iteration_amount must be at most 1048576 KiB.");
  }
  if (key_bytes < static_cast<std::int64_t>(B::kMinKeyBytes) ||
      key_bytes > static_cast<std::int64_t>(B::kMaxKeyBytes)) {
    return Error(ErrorCode::kInvalidArgon2KeyLength,
                 "The Argon2 hash (key_length) must be 16 to 128 bytes.");
  }
  return Status::Ok();
}

// Parses "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>" (standard base64 without padding),
// checks it and returns it in the spelling libsodium reads.
Result<std::string> CheckArgon2Encoded(std::string_view h, Kind kind) {
  const std::string_view want = kind == Kind::kArgon2id ? "$argon2id$" : "$argon2i$";
  const auto bad = [&] {
    return Error(ErrorCode::kInvalidHash,
                 "hash must be an encoded " + std::string(want) +
                     "v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> string (or the hex hash "
                     "with argon_2_config).");
  };
  if (h.substr(0, want.size()) != want) return bad();
  std::string_view rest = h.substr(want.size());
  const auto take = [&](char sep) {
    const std::size_t i = rest.find(sep);
    std::string_view part = rest.substr(0, i);
    rest = i == std::string_view::npos ? std::string_view() : rest.substr(i + 1);
    return part;
  };
  if (take('$') != "v=19") {
    return Error(ErrorCode::kInvalidHash, "Only Argon2 version 19 (v=19) hashes are supported.");
  }
  const std::string_view m_part = take(','), t_part = take(','), p_part = take('$');
  if (m_part.substr(0, 2) != "m=" || t_part.substr(0, 2) != "t=" || p_part.substr(0, 2) != "p=") {
    return bad();
  }
  const auto m = ParseDecimal(m_part.substr(2)), t = ParseDecimal(t_part.substr(2)),
             p = ParseDecimal(p_part.substr(2));
  const std::string_view salt_b64 = take('$');
  const std::string_view hash_b64 = rest;
  if (!m || !t || !p || hash_b64.find('$') != std::string_view::npos ||
      salt_b64.find('=') != std::string_view::npos ||
      hash_b64.find('=') != std::string_view::npos) {
    return bad();
  }
  const auto salt = DecodeBase64(salt_b64);
  if (!salt) return Error(ErrorCode::kInvalidArgon2Salt, "The Argon2 salt is not base64.");
  const auto hash = DecodeBase64(hash_b64);
  if (!hash) return bad();
  TESSERA_RETURN_IF_ERROR(CheckArgon2Parameters(static_cast<std::int64_t>(salt->size()), *t, *m, *p,
                                                static_cast<std::int64_t>(hash->size())));
  return EncodeArgon2String({kind == Kind::kArgon2id, static_cast<std::uint32_t>(*m),
                             static_cast<std::uint32_t>(*t), static_cast<std::uint32_t>(*p), *salt,
                             *hash});
}

Status CheckScryptParameters(std::int64_t n, std::int64_t r, std::int64_t p) {
  if (!IsPowerOfTwo(n) || n < 2 || n > B::kScryptMaxN) {
    return Error(ErrorCode::kInvalidScryptNParameter,
                 "The scrypt n_parameter must be a power of two greater than 1 and less than "
                 "262,145.");
  }
  if (r < 1 || r > B::kScryptMaxR || p < 1 || p > B::kScryptMaxP) {
    return Error(ErrorCode::kInvalidScryptParameters,
                 "The scrypt r_parameter must be 1 to 32 and p_parameter 1 to 16.");
  }
  if (128 * n * r > B::kScryptMaxMemoryBytes || n * r * p > B::kScryptMaxWork) {
    return Error(ErrorCode::kInvalidScryptParameters,
                 "scrypt parameters too costly: 128·N·r must be at most 256 MiB and N·r·p at "
                 "most 2^22.");
  }
  return Status::Ok();
}

// Form and bounds of a parsed hash. The codes are the caller's; a stored form that fails here is
// reported as kStoreCorrupt by Decode.
Status Check(Parsed& h) {
  switch (h.kind) {
    case Kind::kBcrypt:
      return CheckBcrypt(h.text);
    case Kind::kPhpass:
      return CheckPhpass(h.text);
    case Kind::kArgon2i:
    case Kind::kArgon2id: {
      TESSERA_ASSIGN_OR_RETURN(h.text, CheckArgon2Encoded(h.text, h.kind));
      return Status::Ok();
    }
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha512: {
      const std::size_t want = h.kind == Kind::kMd5 ? 16 : h.kind == Kind::kSha1 ? 20 : 64;
      if (h.digest.size() != want) {
        const ErrorCode code = h.kind == Kind::kMd5    ? ErrorCode::kInvalidMd5Hash
                               : h.kind == Kind::kSha1 ? ErrorCode::kInvalidSha1Hash
                                                       : ErrorCode::kInvalidSha512Hash;
        return Error(code, "hash must be " + std::to_string(want * 2) + " hex digits.");
      }
      if (h.prepend.size() > B::kMaxPlainSaltBytes || h.prepend.find('\0') != std::string::npos) {
        return Error(ErrorCode::kInvalidPrependSalt,
                     "prepend_salt must be at most 256 bytes, without NUL characters.");
      }
      if (h.append.size() > B::kMaxPlainSaltBytes || h.append.find('\0') != std::string::npos) {
        return Error(ErrorCode::kInvalidAppendSalt,
                     "append_salt must be at most 256 bytes, without NUL characters.");
      }
      return Status::Ok();
    }
    case Kind::kScrypt:
      if (h.salt.empty() || h.salt.size() > B::kMaxSaltBytes) {
        return Error(ErrorCode::kInvalidScryptSaltLength,
                     "The scrypt salt must be 1 to 256 bytes.");
      }
      TESSERA_RETURN_IF_ERROR(CheckScryptParameters(h.n, h.r, h.p));
      if (h.digest.size() < B::kMinKeyBytes || h.digest.size() > B::kMaxKeyBytes) {
        return Error(ErrorCode::kInvalidBase64ScryptHash,
                     "The scrypt hash must be 16 to 128 bytes.");
      }
      return Status::Ok();
    case Kind::kPbkdf2:
      if (h.salt.empty() || h.salt.size() > B::kMaxSaltBytes) {
        return Error(ErrorCode::kInvalidPbkdf2Salt, "The PBKDF2 salt must be 1 to 256 bytes.");
      }
      if (h.iterations < 1 || h.iterations > B::kPbkdf2MaxIterations) {
        return Error(ErrorCode::kInvalidPbkdf2IterationAmount,
                     "The PBKDF2 iteration_amount must be between 1 and 2,000,000.");
      }
      if (h.digest.size() < B::kMinKeyBytes || h.digest.size() > B::kMaxKeyBytes) {
        return Error(ErrorCode::kInvalidPbkdf2Hash, "The PBKDF2 hash must be 16 to 128 bytes.");
      }
      return Status::Ok();
    case Kind::kFirebaseScrypt:
      if (h.salt.empty() || h.salt.size() > B::kMaxSaltBytes) {
        return Error(ErrorCode::kInvalidScryptSaltLength,
                     "The Firebase scrypt salt must be 1 to 256 bytes.");
      }
      if (h.separator.size() > B::kFirebaseMaxSeparatorBytes) {
        return Error(ErrorCode::kInvalidScryptParameters,
                     "base64_salt_separator must be at most 64 bytes.");
      }
      if (h.signer_key.empty() || h.signer_key.size() > B::kFirebaseMaxSignerKeyBytes) {
        return Error(ErrorCode::kInvalidScryptParameters,
                     "base64_signer_key must be 1 to 128 bytes.");
      }
      if (h.r < 1 || h.r > B::kFirebaseMaxRounds || h.mem_cost < 1 ||
          h.mem_cost > B::kFirebaseMaxMemCost) {
        return Error(ErrorCode::kInvalidScryptParameters,
                     "Firebase rounds must be 1 to 8 and mem_cost 1 to 14.");
      }
      if (h.digest.size() != h.signer_key.size()) {
        return Error(ErrorCode::kScryptKeyLengthMismatch,
                     "A Firebase scrypt hash is as long as the signer key.");
      }
      return Status::Ok();
  }
  return Error(ErrorCode::kInternal, "unknown hash kind");
}

// --- Input: the passwords/migrate request -------------------------------------------------------

Result<Parsed> FromInput(const MigratedHashInput& in) {
  const auto kind = KindFromName(in.hash_type);
  if (!kind) {
    return Error(ErrorCode::kInvalidHashType,
                 "hash_type must be one of bcrypt, md_5, sha_1, sha_512, argon_2i, argon_2id, "
                 "scrypt, pbkdf_2, phpass, firebase_scrypt.");
  }
  if (in.hash.empty()) return Error(ErrorCode::kInvalidHash, "hash is required.");
  if (in.hash.size() > 1024) return Error(ErrorCode::kInvalidHash, "hash is too long.");
  Parsed h;
  h.kind = *kind;
  switch (h.kind) {
    case Kind::kBcrypt:
    case Kind::kPhpass:
      h.text = in.hash;
      break;
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha512: {
      const std::optional<SaltConfig>& config = h.kind == Kind::kMd5    ? in.md_5_config
                                                : h.kind == Kind::kSha1 ? in.sha_1_config
                                                                        : in.sha_512_config;
      h.digest = DecodeHex(in.hash).value_or("");  // A wrong length is reported by Check.
      if (config) {
        h.prepend = config->prepend_salt;
        h.append = config->append_salt;
      }
      break;
    }
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      if (in.hash[0] == '$') {
        h.text = in.hash;
        break;
      } else {
        if (!in.argon_2_config) {
          return Error(ErrorCode::kInvalidHash,
                       "An Argon2 hash in hex needs argon_2_config (or send the encoded "
                       "$argon2...$ string).");
        }
        const Argon2Config& c = *in.argon_2_config;
        const auto raw = DecodeHex(in.hash);
        if (!raw) {
          return Error(ErrorCode::kInvalidHash,
                       "hash must be the Argon2 hash in hex, or the encoded $argon2...$ string.");
        }
        if (c.key_length != static_cast<std::int64_t>(raw->size())) {
          return Error(ErrorCode::kArgon2KeyLengthMismatch,
                       "The key_length value doesn't match the length of the provided hash.");
        }
        if (c.salt.find('\0') != std::string::npos) {
          return Error(ErrorCode::kInvalidArgon2Salt, "The Argon2 salt must not contain NUL.");
        }
        TESSERA_RETURN_IF_ERROR(CheckArgon2Parameters(static_cast<std::int64_t>(c.salt.size()),
                                                      c.iteration_amount, c.memory, c.threads,
                                                      c.key_length));
        h.text =
            EncodeArgon2String({h.kind == Kind::kArgon2id, static_cast<std::uint32_t>(c.memory),
                                static_cast<std::uint32_t>(c.iteration_amount),
                                static_cast<std::uint32_t>(c.threads), c.salt, *raw});
      }
      break;
    case Kind::kScrypt:
      if (in.hash.starts_with("$scrypt$")) {
        // The PHC string passlib and others write: $scrypt$ln=<log2 N>,r=<r>,p=<p>$salt$hash.
        std::string_view rest = std::string_view(in.hash).substr(8);
        const auto take = [&](char sep) {
          const std::size_t i = rest.find(sep);
          std::string_view part = rest.substr(0, i);
          rest = i == std::string_view::npos ? std::string_view() : rest.substr(i + 1);
          return part;
        };
        const std::string_view ln = take(','), r = take(','), p = take('$');
        const std::string_view salt = take('$'), hash = rest;
        const auto bad = [] {
          return Error(ErrorCode::kInvalidBase64ScryptHash,
                       "hash must be base64 (with scrypt_config) or a "
                       "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash> string.");
        };
        if (!ln.starts_with("ln=") || !r.starts_with("r=") || !p.starts_with("p=")) return bad();
        const auto lnv = ParseDecimal(ln.substr(3)), rv = ParseDecimal(r.substr(2)),
                   pv = ParseDecimal(p.substr(2));
        if (!lnv || !rv || !pv || *lnv < 1 || *lnv > 30) return bad();
        const auto s = DecodeBase64(salt);
        if (!s) return Error(ErrorCode::kInvalidBase64ScryptSalt, "The scrypt salt is not base64.");
        const auto d = DecodeBase64(hash);
        if (!d) return bad();
        h.n = std::int64_t{1} << *lnv;
        h.r = *rv;
        h.p = *pv;
        h.salt = *s;
        h.digest = *d;
      } else {
        if (!in.scrypt_config) {
          return Error(ErrorCode::kInvalidHash,
                       "A base64 scrypt hash needs scrypt_config (or send a $scrypt$ PHC string).");
        }
        const ScryptConfig& c = *in.scrypt_config;
        const auto d = DecodeBase64(in.hash);
        if (!d) return Error(ErrorCode::kInvalidBase64ScryptHash, "The scrypt hash is not base64.");
        const auto s = DecodeBase64(c.salt);
        if (!s) return Error(ErrorCode::kInvalidBase64ScryptSalt, "The scrypt salt is not base64.");
        if (c.key_length != static_cast<std::int64_t>(d->size())) {
          return Error(ErrorCode::kScryptKeyLengthMismatch,
                       "The key_length value doesn't match the length of the provided hash.");
        }
        h.n = c.n_parameter;
        h.r = c.r_parameter;
        h.p = c.p_parameter;
        h.salt = *s;
        h.digest = *d;
      }
      break;
    case Kind::kPbkdf2: {
      if (!in.pbkdf_2_config) {
        return Error(ErrorCode::kInvalidHash, "A pbkdf_2 hash needs pbkdf_2_config.");
      }
      const Pbkdf2Config& c = *in.pbkdf_2_config;
      if (c.algorithm != "" && c.algorithm != "sha256" && c.algorithm != "sha512") {
        return Error(ErrorCode::kInvalidPbkdf2Algorithm,
                     "pbkdf_2_config.algorithm must be sha256 or sha512.");
      }
      const auto d = DecodeBase64(in.hash);
      if (!d) return Error(ErrorCode::kInvalidPbkdf2Hash, "The PBKDF2 hash is not base64.");
      const auto s = DecodeBase64(c.salt);
      if (!s) return Error(ErrorCode::kInvalidPbkdf2Salt, "The PBKDF2 salt is not base64.");
      if (c.key_length != static_cast<std::int64_t>(d->size())) {
        return Error(ErrorCode::kPbkdf2KeyLengthMismatch,
                     "The key_length value doesn't match the length of the provided hash.");
      }
      h.sha512 = c.algorithm == "sha512";
      h.iterations = c.iteration_amount;
      h.salt = *s;
      h.digest = *d;
      break;
    }
    case Kind::kFirebaseScrypt: {
      if (!in.firebase_scrypt_config) {
        return Error(ErrorCode::kInvalidHash,
                     "A firebase_scrypt hash needs firebase_scrypt_config.");
      }
      const FirebaseScryptConfig& c = *in.firebase_scrypt_config;
      const auto d = DecodeBase64(in.hash);
      if (!d) return Error(ErrorCode::kInvalidBase64ScryptHash, "The hash is not base64.");
      const auto s = DecodeBase64(c.salt);
      if (!s) return Error(ErrorCode::kInvalidBase64ScryptSalt, "The salt is not base64.");
      const auto sep = DecodeBase64(c.base64_salt_separator);
      const auto key = DecodeBase64(c.base64_signer_key);
      if (!sep || !key) {
        return Error(ErrorCode::kInvalidScryptParameters,
                     "base64_salt_separator and base64_signer_key must be base64.");
      }
      h.digest = *d;
      h.salt = *s;
      h.separator = *sep;
      h.signer_key = *key;
      h.r = c.rounds;
      h.mem_cost = c.mem_cost;
      break;
    }
  }
  TESSERA_RETURN_IF_ERROR(Check(h));
  return h;
}

// --- The stored form
// ------------------------------------------------------------------------------

constexpr std::string_view kPrefix = "migrated:";

std::string Encode(const Parsed& h) {
  boost::json::object o;
  o["type"] = KindName(h.kind);
  const auto b64 = [](std::string_view bytes) { return Base64EncodeUnpadded(AsBytes(bytes)); };
  switch (h.kind) {
    case Kind::kBcrypt:
    case Kind::kPhpass:
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      o["hash"] = h.text;
      break;
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha512:
      o["hash"] = b64(h.digest);
      o["prepend_salt"] = b64(h.prepend);
      o["append_salt"] = b64(h.append);
      break;
    case Kind::kScrypt:
      o["hash"] = b64(h.digest);
      o["salt"] = b64(h.salt);
      o["n"] = h.n;
      o["r"] = h.r;
      o["p"] = h.p;
      break;
    case Kind::kPbkdf2:
      o["hash"] = b64(h.digest);
      o["salt"] = b64(h.salt);
      o["iterations"] = h.iterations;
      o["algorithm"] = h.sha512 ? "sha512" : "sha256";
      break;
    case Kind::kFirebaseScrypt:
      o["hash"] = b64(h.digest);
      o["salt"] = b64(h.salt);
      o["salt_separator"] = b64(h.separator);
      o["signer_key"] = b64(h.signer_key);
      o["rounds"] = h.r;
      o["mem_cost"] = h.mem_cost;
      break;
  }
  return std::string(kPrefix) + boost::json::serialize(o);
}

Result<Parsed> Decode(std::string_view stored) {
  const auto corrupt = [] {
    return Error(ErrorCode::kStoreCorrupt, "a migrated password hash could not be read");
  };
  if (!stored.starts_with(kPrefix)) return corrupt();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(stored.substr(kPrefix.size()), ec);
  if (ec || !v.is_object()) return corrupt();
  const boost::json::object& o = v.get_object();
  const auto str = [&](std::string_view k) -> std::optional<std::string> {
    const auto* p = o.if_contains(k);
    if (!p || !p->is_string()) return std::nullopt;
    return std::string(p->get_string());
  };
  const auto bytes = [&](std::string_view k) -> std::optional<std::string> {
    const auto s = str(k);
    if (!s) return std::nullopt;
    return DecodeBase64(*s);
  };
  const auto num = [&](std::string_view k) -> std::optional<std::int64_t> {
    const auto* p = o.if_contains(k);
    if (!p || !p->is_int64()) return std::nullopt;
    return p->get_int64();
  };
  const auto type = str("type");
  const auto kind = type ? KindFromName(*type) : std::nullopt;
  if (!kind) return corrupt();
  Parsed h;
  h.kind = *kind;
  bool ok = true;
  const auto need = [&](auto opt, auto& into) {
    if (opt) {
      into = *opt;
    } else {
      ok = false;
    }
  };
  switch (h.kind) {
    case Kind::kBcrypt:
    case Kind::kPhpass:
    case Kind::kArgon2i:
    case Kind::kArgon2id:
      need(str("hash"), h.text);
      break;
    case Kind::kMd5:
    case Kind::kSha1:
    case Kind::kSha512:
      need(bytes("hash"), h.digest);
      need(bytes("prepend_salt"), h.prepend);
      need(bytes("append_salt"), h.append);
      break;
    case Kind::kScrypt:
      need(bytes("hash"), h.digest);
      need(bytes("salt"), h.salt);
      need(num("n"), h.n);
      need(num("r"), h.r);
      need(num("p"), h.p);
      break;
    case Kind::kPbkdf2: {
      need(bytes("hash"), h.digest);
      need(bytes("salt"), h.salt);
      need(num("iterations"), h.iterations);
      std::string algorithm;
      need(str("algorithm"), algorithm);
      if (algorithm != "sha256" && algorithm != "sha512") ok = false;
      h.sha512 = algorithm == "sha512";
      break;
    }
    case Kind::kFirebaseScrypt:
      need(bytes("hash"), h.digest);
      need(bytes("salt"), h.salt);
      need(bytes("salt_separator"), h.separator);
      need(bytes("signer_key"), h.signer_key);
      need(num("rounds"), h.r);
      need(num("mem_cost"), h.mem_cost);
      break;
  }
  if (!ok || !Check(h).ok()) return corrupt();
  return h;
}

}  // namespace

Result<std::string> PrepareMigratedHash(const MigratedHashInput& input) {
  TESSERA_ASSIGN_OR_RETURN(Parsed h, FromInput(input));
  return Encode(h);
}

bool IsMigratedHash(std::string_view stored) { return stored.starts_with(kPrefix); }

Result<std::string> MigratedHashType(std::string_view stored) {
  TESSERA_ASSIGN_OR_RETURN(Parsed h, Decode(stored));
  return std::string(KindName(h.kind));
}

Result<bool> VerifyMigratedHash(std::string_view stored, std::string_view password) {
  TESSERA_ASSIGN_OR_RETURN(Parsed h, Decode(stored));
  return Verify(h, password);
}

}  // namespace tessera
