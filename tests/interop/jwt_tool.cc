// tessera_jwt_tool: Tessera's JWT minting and verification as a command-line program, so that the
// interoperability tests written in Python (PyJWT) and JavaScript (jose) can drive the real core
// library in both directions without a C++ binding.
//
//   tessera_jwt_tool mint --project P --out DIR --now UNIX_SECONDS [--alg RS256|ES256|EdDSA]...
//       Generates one key per algorithm (all three when no --alg is given), each with a
//       self-signed certificate, and writes DIR/jwks.json (the public keys, as the JWKS endpoint
//       publishes them) and DIR/<alg>.jwt (a session JWT minted at --now). Prints a JSON summary
//       of what it minted (kids and the session values), so the tests can compare against it.
//
//   tessera_jwt_tool verify --jwks FILE --project P --now UNIX_SECONDS [--token-file FILE]
//       Verifies one JWT (read from --token-file, else stdin) with VerifyJwt and the project's
//       standard options, then reads its session with SessionClaimsFromJwt. Prints one line:
//         {"ok":true,"sub":...,...}                   everything passed
//         {"ok":false,"stage":S,"error":E,...}        S is jwks, verify or session; E is the
//                                                     ErrorCodeName of the failure
//
// The exit status is 0 whenever a result line was printed, accepted or not, and 2 for a usage or
// file error: a crash (for example a sanitizer report) therefore never looks like a rejection.
// Time comes only from --now, so expiry checks are deterministic.
#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/status.h"
#include "tessera/token/jwt.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"
#include "tessera/token/session_jwt.h"

namespace {

using tessera::ErrorCodeName;
using tessera::JwtAlgorithm;
using tessera::Status;

// Values of the session every minted JWT describes. They follow the real token in spec §3.2, so a
// test that finds them in a decoded payload knows the claim round-tripped unchanged.
constexpr std::string_view kUserId = "user-test-3cf138f5-d77f-44eb-8a02-acae8a734706";
constexpr std::string_view kSessionId = "session-test-1682d7d5-b952-44d6-95e0-718144fed722";
constexpr std::string_view kUserAgent = "interop-test/1.0";
constexpr std::string_view kIpAddress = "203.0.113.7";
constexpr std::int64_t kSessionLifetimeSeconds = 600;

int UsageError(std::string_view message) {
  std::cerr << "tessera_jwt_tool: " << message << "\n"
            << "usage: tessera_jwt_tool mint --project P --out DIR --now UNIX_SECONDS "
               "[--alg RS256|ES256|EdDSA]...\n"
               "       tessera_jwt_tool verify --jwks FILE --project P --now UNIX_SECONDS "
               "[--token-file FILE]\n";
  return 2;
}

// Options as name -> values, in the order given ("--alg" may repeat).
using Flags = std::map<std::string, std::vector<std::string>>;

std::optional<Flags> ParseFlags(int argc, char** argv, int first) {
  Flags flags;
  for (int i = first; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (name.substr(0, 2) != "--" || i + 1 >= argc) return std::nullopt;
    flags[std::string(name.substr(2))].emplace_back(argv[i + 1]);
  }
  return flags;
}

// The single value of a required flag, or nullopt when it is missing or repeated.
std::optional<std::string> Single(const Flags& flags, const std::string& name) {
  const auto it = flags.find(name);
  if (it == flags.end() || it->second.size() != 1) return std::nullopt;
  return it->second.front();
}

std::optional<std::int64_t> ParseUnixSeconds(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end != text.c_str() + text.size() || value < 0) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return contents.str();
}

bool WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  return static_cast<bool>(out);
}

// Tokens are written by other tools with or without a final newline; whitespace is never part of a
// compact JWS, so trimming it changes nothing a verifier should see.
std::string_view TrimWhitespace(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int PrintFailure(std::string_view stage, const Status& status) {
  boost::json::object out;
  out["ok"] = false;
  out["stage"] = stage;
  out["error"] = ErrorCodeName(status.code());
  out["message"] = status.message();
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}

// Stderr for failures the tests do not expect to provoke (key generation, writing files).
int InternalFailure(std::string_view what, const Status& status) {
  std::cerr << "tessera_jwt_tool: " << what << ": " << status.ToString() << "\n";
  return 2;
}

std::string KidFor(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kRS256:
      return "jwk-test-interop-rs256";
    case JwtAlgorithm::kES256:
      return "jwk-test-interop-es256";
    case JwtAlgorithm::kEdDSA:
      return "jwk-test-interop-eddsa";
  }
  return "jwk-test-interop";
}

tessera::SessionClaims SampleSession(const std::string& project, std::int64_t now) {
  tessera::SessionClaims c;
  c.project_id = project;
  c.user_id = std::string(kUserId);
  c.session_id = std::string(kSessionId);
  c.started_at = tessera::FromUnixSeconds(now);
  c.last_accessed_at = tessera::FromUnixSeconds(now);
  c.expires_at = tessera::FromUnixSeconds(now + kSessionLifetimeSeconds);
  c.attributes.user_agent = std::string(kUserAgent);
  c.attributes.ip_address = std::string(kIpAddress);
  c.authentication_factors.push_back(boost::json::parse(R"({
      "type": "magic_link", "delivery_method": "email",
      "last_authenticated_at": "2026-03-01T14:25:15Z",
      "email_factor": {"email_id": "email-test-81bf03a7", "email_address": "a@example.com"}})"));
  c.roles = {"stytch_user"};
  c.custom_claims = boost::json::parse(R"({"id": "c_gPAWHhTLLpicnmZfKP9pPG"})").as_object();
  return c;
}

int Mint(const Flags& flags) {
  const auto project = Single(flags, "project");
  const auto out_dir = Single(flags, "out");
  const auto now_text = Single(flags, "now");
  if (!project || !out_dir || !now_text) return UsageError("mint needs --project, --out, --now");
  const auto now = ParseUnixSeconds(*now_text);
  if (!now) return UsageError("--now must be a non-negative integer of Unix seconds");

  std::vector<JwtAlgorithm> algs;
  if (const auto it = flags.find("alg"); it != flags.end()) {
    for (const auto& name : it->second) {
      const auto alg = tessera::AlgorithmFromName(name);
      if (!alg) return UsageError("unknown --alg " + name);
      algs.push_back(*alg);
    }
  } else {
    algs = {JwtAlgorithm::kRS256, JwtAlgorithm::kES256, JwtAlgorithm::kEdDSA};
  }
  for (const auto& name : flags) {
    if (name.first != "project" && name.first != "out" && name.first != "now" &&
        name.first != "alg") {
      return UsageError("mint does not take --" + name.first);
    }
  }

  const tessera::SessionClaims session = SampleSession(*project, *now);
  std::vector<std::shared_ptr<const tessera::PublicKey>> public_keys;
  boost::json::object kids;
  boost::json::object tokens;
  for (const JwtAlgorithm alg : algs) {
    auto generated = tessera::SigningKey::Generate(alg, KidFor(alg));
    if (!generated.ok()) return InternalFailure("generating a key", generated.status());
    // Every key gets the certificate Stytch publishes for its RSA keys (spec §2.4), so the
    // libraries check x5c/x5tS256 for each key type Tessera can publish.
    auto certificate = generated->SelfSignedCertificate(tessera::FromUnixSeconds(*now));
    if (!certificate.ok()) return InternalFailure("making a certificate", certificate.status());
    auto key = generated->WithCertificate(std::move(*certificate));
    if (!key.ok()) return InternalFailure("attaching the certificate", key.status());

    auto jwt = tessera::MintSessionJwt(*key, session, tessera::FromUnixSeconds(*now));
    if (!jwt.ok()) return InternalFailure("minting", jwt.status());
    const std::string name(tessera::AlgorithmName(alg));
    const std::string path = *out_dir + "/" + name + ".jwt";
    if (!WriteFile(path, *jwt)) {
      std::cerr << "tessera_jwt_tool: cannot write " << path << "\n";
      return 2;
    }
    kids[name] = key->kid();
    tokens[name] = path;
    public_keys.push_back(key->public_key());
  }
  auto key_set = tessera::KeySet::FromKeys(std::move(public_keys));
  if (!key_set.ok()) return InternalFailure("building the key set", key_set.status());
  const std::string jwks_path = *out_dir + "/jwks.json";
  if (!WriteFile(jwks_path, (*key_set)->ToJwksJson())) {
    std::cerr << "tessera_jwt_tool: cannot write " << jwks_path << "\n";
    return 2;
  }

  boost::json::object summary;
  summary["jwks"] = jwks_path;
  summary["tokens"] = std::move(tokens);
  summary["kids"] = std::move(kids);
  summary["project_id"] = *project;
  summary["user_id"] = kUserId;
  summary["session_id"] = kSessionId;
  summary["user_agent"] = kUserAgent;
  summary["ip_address"] = kIpAddress;
  summary["iat"] = *now;
  summary["session_expires_at"] = *now + kSessionLifetimeSeconds;
  summary["custom_claims"] = session.custom_claims;
  std::cout << boost::json::serialize(summary) << "\n";
  return 0;
}

int Verify(const Flags& flags) {
  const auto jwks_path = Single(flags, "jwks");
  const auto project = Single(flags, "project");
  const auto now_text = Single(flags, "now");
  if (!jwks_path || !project || !now_text) {
    return UsageError("verify needs --jwks, --project, --now");
  }
  const auto now = ParseUnixSeconds(*now_text);
  if (!now) return UsageError("--now must be a non-negative integer of Unix seconds");
  for (const auto& name : flags) {
    if (name.first != "jwks" && name.first != "project" && name.first != "now" &&
        name.first != "token-file") {
      return UsageError("verify does not take --" + name.first);
    }
  }

  std::string token_text;
  if (flags.count("token-file") != 0) {
    const auto token_path = Single(flags, "token-file");
    const auto contents = token_path ? ReadFile(*token_path) : std::nullopt;
    if (!contents) return UsageError("cannot read --token-file");
    token_text = *contents;
  } else {
    token_text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  const auto jwks = ReadFile(*jwks_path);
  if (!jwks) return UsageError("cannot read --jwks " + *jwks_path);

  auto key_set = tessera::KeySet::FromJwks(*jwks);
  if (!key_set.ok()) return PrintFailure("jwks", key_set.status());

  auto verified =
      tessera::VerifyJwt(TrimWhitespace(token_text), **key_set,
                         tessera::SessionJwtOptions(*project), tessera::FromUnixSeconds(*now));
  if (!verified.ok()) return PrintFailure("verify", verified.status());
  auto session = tessera::SessionClaimsFromJwt(*verified);
  if (!session.ok()) return PrintFailure("session", session.status());

  boost::json::object claim;
  claim["id"] = session->session_id;
  claim["started_at"] = tessera::ToUnixSeconds(session->started_at);
  claim["last_accessed_at"] = tessera::ToUnixSeconds(session->last_accessed_at);
  claim["expires_at"] = tessera::ToUnixSeconds(session->expires_at);
  claim["user_agent"] = session->attributes.user_agent;
  claim["ip_address"] = session->attributes.ip_address;
  claim["authentication_factors"] = session->authentication_factors;
  boost::json::array roles;
  for (const auto& role : session->roles) roles.emplace_back(role);
  claim["roles"] = std::move(roles);

  boost::json::object out;
  out["ok"] = true;
  out["alg"] = tessera::AlgorithmName(verified->alg);
  out["kid"] = verified->kid;
  out["iss"] = verified->issuer;
  out["sub"] = verified->subject;
  out["iat"] = verified->issued_at;
  out["nbf"] = verified->not_before;
  out["exp"] = verified->expires_at;
  out["project_id"] = session->project_id;
  out["user_id"] = session->user_id;
  out["session"] = std::move(claim);
  out["custom_claims"] = session->custom_claims;
  std::cout << boost::json::serialize(out) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return UsageError("no subcommand");
  const std::string_view command = argv[1];
  const auto flags = ParseFlags(argc, argv, 2);
  if (!flags) return UsageError("options must be --name value pairs");
  if (command == "mint") return Mint(*flags);
  if (command == "verify") return Verify(*flags);
  return UsageError("unknown subcommand " + std::string(command));
}
