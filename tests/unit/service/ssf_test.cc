// The SSF transmitter's vocabulary (service/ssf.h): issuers, origins, jtis and the CAEP
// session-revoked event each kind of revocation log entry becomes.
#include "service/ssf.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "status_matchers.h"

namespace tessera {
namespace {

constexpr std::string_view kPid = "project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b";

TEST(Ssf, OptionsAreValidatedAndNormalized) {
  SsfOptions o;
  EXPECT_OK(ValidateSsfOptions(o));  // The defaults.
  o.public_url = "https://auth.example.com/";
  EXPECT_OK(ValidateSsfOptions(o));
  EXPECT_EQ(o.public_url, "https://auth.example.com");
  for (const char* ok :
       {"https://auth.example.com:8443", "http://127.0.0.1:8080", "https://[::1]"}) {
    o.public_url = ok;
    EXPECT_OK(ValidateSsfOptions(o)) << ok;
  }
  for (const char* bad :
       {"auth.example.com", "ftp://x", "https://", "https://a.example/path",
        "https://a.example?q=1", "https://a.example#f", "https://u@a.example", "https://a b"}) {
    o.public_url = bad;
    EXPECT_ERROR(ValidateSsfOptions(o), ErrorCode::kInvalidArgument) << bad;
  }
  o = SsfOptions{};
  o.poll_wait = Seconds(0);
  EXPECT_ERROR(ValidateSsfOptions(o), ErrorCode::kInvalidArgument);
  o = SsfOptions{};
  o.max_events = 0;
  EXPECT_ERROR(ValidateSsfOptions(o), ErrorCode::kInvalidArgument);
}

TEST(Ssf, OriginIsThePublicUrlOrHttpsAndTheHostHeader) {
  SsfOptions o;
  auto origin = SsfOrigin(o, "auth.example.com:8443");
  ASSERT_OK(origin);
  EXPECT_EQ(*origin, "https://auth.example.com:8443");
  ASSERT_OK(SsfOrigin(o, "[::1]:80"));
  // Nothing but a host and port may become part of an issuer.
  for (const char* bad :
       {"", "a.example/x", "a.example\"", "u@a.example", "a example", ":80", "a.example\r\nX: y"}) {
    EXPECT_ERROR(SsfOrigin(o, bad), ErrorCode::kBadRequest) << bad;
  }
  o.public_url = "https://auth.example.com";
  origin = SsfOrigin(o, "evil.example");
  ASSERT_OK(origin);
  EXPECT_EQ(*origin, "https://auth.example.com");
  ASSERT_OK(SsfOrigin(o, ""));  // HTTP/1.0 without Host is fine then.
}

TEST(Ssf, IssuerMirrorsTheSessionJwtIssuer) {
  EXPECT_EQ(SsfIssuer("https://auth.example.com", kPid),
            "https://auth.example.com/" + std::string(kPid));
}

TEST(Ssf, JtisNameOneEntryOfOneProject) {
  EXPECT_EQ(SsfJti(kPid, 42), std::string(kPid) + ".42");
  for (const std::int64_t n : {std::int64_t{1}, std::int64_t{42}, INT64_MAX}) {
    EXPECT_EQ(SsfSequenceOf(kPid, SsfJti(kPid, n)), n);
  }
  const std::string p(kPid);
  for (const std::string& bad :
       {std::string(), p, p + ".", p + ".0", p + ".042", p + ".-1", p + ".+1", p + ".1a", p + ". 1",
        p + ".99999999999999999999", p + "x.1", std::string("project-test-other.1"), "x" + p + ".1",
        p.substr(0, p.size() - 1) + ".1"}) {
    EXPECT_EQ(SsfSequenceOf(kPid, bad), std::nullopt) << bad;
  }
}

RevocationEntry Entry(RevocationEntry::Kind kind) {
  RevocationEntry e;
  e.project_id = std::string(kPid);
  e.sequence = 7;
  e.kind = kind;
  if (kind == RevocationEntry::Kind::kSession) e.session_id = "session-test-1";
  e.user_id = "user-test-1";
  e.revoked_at = FromUnixSeconds(1772375000);
  return e;
}

TEST(Ssf, ASessionEntryRevokesThatSessionOfThatUser) {
  const SecurityEvent e = SessionRevokedEvent(Entry(RevocationEntry::Kind::kSession),
                                              "https://a.example/" + std::string(kPid), kPid);
  EXPECT_EQ(e.issuer, "https://a.example/" + std::string(kPid));
  EXPECT_EQ(e.audience, kPid);
  EXPECT_EQ(e.jti, std::string(kPid) + ".7");
  EXPECT_EQ(e.txn, e.jti);
  EXPECT_EQ(e.event_type, "https://schemas.openid.net/secevent/caep/event-type/session-revoked");
  EXPECT_EQ(boost::json::serialize(e.subject),
            R"({"format":"complex","session":{"format":"opaque","id":"session-test-1"},)"
            R"("user":{"format":"iss_sub","iss":"stytch.com/)" +
                std::string(kPid) + R"(","sub":"user-test-1"}})");
  EXPECT_EQ(boost::json::serialize(e.event),
            R"({"event_timestamp":1772375000,"reason_admin":{"en":"The session was revoked."}})");
}

TEST(Ssf, AUserEntryRevokesEverySessionOfTheUser) {
  const SecurityEvent e =
      SessionRevokedEvent(Entry(RevocationEntry::Kind::kUser), "https://a.example/x", kPid);
  EXPECT_EQ(boost::json::serialize(e.subject),
            R"({"format":"complex","user":{"format":"iss_sub","iss":"stytch.com/)" +
                std::string(kPid) + R"(","sub":"user-test-1"}})");
  EXPECT_EQ(e.event.at("event_timestamp").as_int64(), 1772375000);
  EXPECT_FALSE(e.event.at("reason_admin").at("en").as_string().empty());
}

}  // namespace
}  // namespace tessera
