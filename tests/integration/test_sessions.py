"""POST /v1/sessions/authenticate, GET /v1/sessions, POST /v1/sessions/revoke (spec §2.1-§2.3,
§3.5, §3.6)."""

import base64
import calendar
import json
import time
import unittest
import urllib.parse

from harness import (Case, ServerCase, create_project, jwt_parts, metric, unique_email,
                     verify_jwt, STRONG_PASSWORD)

AUTH_KEYS = {"request_id", "status_code", "session", "session_jwt", "session_token", "user"}


def epoch(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def wait_next_second():
    """Sleeps into the next wall-clock second (JWTs have second resolution: two minted in the
    same second for the same state are byte-identical)."""
    time.sleep(1.05 - (time.time() % 1.0))


def tamper(jwt_text, part, index=5):
    parts = jwt_text.split(".")
    s = parts[part]
    c = "A" if s[index] != "A" else "B"
    parts[part] = s[:index] + c + s[index + 1:]
    return ".".join(parts)


class AuthenticateTest(ServerCase):
    # Mint on every call, so "a new JWT" is observable.
    SERVER_ARGS = ("--jwt-reuse-seconds", "0")

    def test_by_token(self):
        s = self.signup()
        token = s["session_token"]
        self.assertToken(token)
        r = self.c.authenticate(session_token=token)
        body = self.assertSuccess(r)
        self.assertEqual(set(body), AUTH_KEYS)
        self.assertEqual(body["session_token"], token)
        self.assertSession(body["session"], s["user_id"])
        self.assertEqual(body["session"]["session_id"], s["session"]["session_id"])
        self.assertEqual(body["session"]["started_at"], s["session"]["started_at"])
        self.assertEqual(body["session"]["expires_at"], s["session"]["expires_at"])
        self.assertUser(body["user"])
        self.assertEqual(body["user"]["user_id"], s["user_id"])
        _, claims = jwt_parts(body["session_jwt"])
        self.assertEqual(claims["https://stytch.com/session"]["id"],
                         s["session"]["session_id"])

    def test_last_accessed_at_moves(self):
        s = self.signup()
        wait_next_second()
        before = int(time.time())
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        after = int(time.time())
        la = epoch(body["session"]["last_accessed_at"])
        self.assertGreater(la, epoch(s["session"]["last_accessed_at"]))
        self.assertTrue(before <= la <= after, (before, la, after))
        self.assertEqual(body["session"]["expires_at"], s["session"]["expires_at"])

    def test_by_jwt_returns_new_jwt_and_same_token(self):
        s = self.signup()
        first_jwt = s["session_jwt"]
        wait_next_second()
        body = self.assertSuccess(self.c.authenticate(session_jwt=first_jwt))
        self.assertEqual(set(body), AUTH_KEYS)
        self.assertEqual(body["session_token"], s["session_token"])
        self.assertNotEqual(body["session_jwt"], first_jwt)
        _, old = jwt_parts(first_jwt)
        _, new = jwt_parts(body["session_jwt"])
        self.assertGreater(new["iat"], old["iat"])
        self.assertEqual(new["exp"], new["iat"] + 300)
        self.assertEqual(new["https://stytch.com/session"]["id"], s["session"]["session_id"])
        # The older JWT of a live session still works (the refresh path ignores exp and age).
        again = self.assertSuccess(self.c.authenticate(session_jwt=first_jwt))
        self.assertEqual(again["session"]["session_id"], s["session"]["session_id"])

    def test_jwt_is_valid_against_jwks(self):
        s = self.signup()
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        keys = self.c.get(f"/v1/sessions/jwks/{self.project.project_id}", auth=None).json["keys"]
        claims = verify_jwt(body["session_jwt"], keys, self.project.project_id)
        self.assertEqual(claims["https://stytch.com/session"]["last_accessed_at"],
                         body["session"]["last_accessed_at"])

    def test_duration_extends(self):
        s = self.signup(minutes=60)
        last = None
        for minutes in (5, 527040, 61):
            with self.subTest(minutes=minutes):
                before = int(time.time())
                body = self.assertSuccess(self.c.authenticate(
                    session_token=s["session_token"], session_duration_minutes=minutes))
                after = int(time.time())
                exp = epoch(body["session"]["expires_at"])
                self.assertTrue(before + 60 * minutes <= exp <= after + 60 * minutes,
                                (before, exp, after, minutes))
                _, claims = jwt_parts(body["session_jwt"])
                self.assertEqual(claims["https://stytch.com/session"]["expires_at"],
                                 body["session"]["expires_at"])
                last = body["session"]["expires_at"]
        # Kept: a later plain authenticate does not extend, and the store has the new expiry.
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(body["session"]["expires_at"], last)
        listed = self.assertSuccess(self.c.get(f"/v1/sessions?user_id={s['user_id']}"))
        self.assertEqual(listed["sessions"][0]["expires_at"], last)

    def test_escaped_member_names_mean_the_same(self):
        # JSON escapes in a member name change nothing: the request is read after parsing.
        s = self.signup(minutes=60)
        r = self.c.post("/v1/sessions/authenticate",
                        '{"session_token":"%s","session\\u005fduration_minutes":600,'
                        '"\\u0073ession_custom_claims":{"k":1}}' % s["session_token"])
        body = self.assertSuccess(r)
        self.assertGreaterEqual(epoch(body["session"]["expires_at"]),
                                epoch(s["session"]["expires_at"]) + 540 * 60)
        self.assertEqual(body["session"]["custom_claims"], {"k": 1})

    def test_duration_extends_via_jwt(self):
        s = self.signup(minutes=60)
        body = self.assertSuccess(self.c.authenticate(session_jwt=s["session_jwt"],
                                                      session_duration_minutes=600))
        self.assertGreaterEqual(epoch(body["session"]["expires_at"]),
                                epoch(s["session"]["expires_at"]) + 540 * 60)

    def test_duration_out_of_range(self):
        s = self.signup()
        for minutes in (4, 527041, 0, -5, 10 ** 12):
            with self.subTest(minutes=minutes):
                self.assertError(self.c.authenticate(session_token=s["session_token"],
                                                     session_duration_minutes=minutes),
                                 400, "invalid_session_duration_minutes")
        # The session is untouched by the refused calls.
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(body["session"]["expires_at"], s["session"]["expires_at"])

    def test_duration_as_float_integer_is_accepted(self):
        # JavaScript numbers: 60.0 is an integer.
        s = self.signup()
        self.assertSuccess(self.c.post("/v1/sessions/authenticate", '{"session_token":"%s",'
                                       '"session_duration_minutes":60.0}' % s["session_token"]))
        self.assertError(self.c.authenticate(session_token=s["session_token"],
                                             session_duration_minutes=60.5),
                         400, "bad_request")

    def test_too_many_and_no_arguments(self):
        s = self.signup()
        self.assertError(self.c.authenticate(session_token=s["session_token"],
                                             session_jwt=s["session_jwt"]),
                         400, "too_many_session_arguments")
        self.assertError(self.c.authenticate(), 400, "no_session_arguments")
        # "" and null mean "not given" (SDKs send them).
        self.assertError(self.c.authenticate(session_token="", session_jwt=None), 400,
                         "no_session_arguments")
        self.assertError(self.c.post("/v1/sessions/authenticate", None), 400,
                         "no_session_arguments")
        self.assertSuccess(self.c.authenticate(session_token=s["session_token"], session_jwt=""))

    def test_malformed_token(self):
        for token in ("short", "A" * 43, "A" * 45, "!" * 44, "A" * 43 + "=",
                      "A" * 43 + "\u00e9"):
            with self.subTest(token=token):
                self.assertError(self.c.authenticate(session_token=token), 400,
                                 "invalid_session_token")

    def test_unknown_token(self):
        self.assertError(self.c.authenticate(session_token="x" * 44), 404, "session_not_found")

    def test_tampered_jwt(self):
        s = self.signup()
        jwt_text = s["session_jwt"]
        header, payload = jwt_parts(jwt_text)
        forged_payload = dict(payload, sub="user-test-00000000-0000-0000-0000-000000000000")
        forged = ".".join([jwt_text.split(".")[0],
                           base64.urlsafe_b64encode(json.dumps(forged_payload).encode())
                           .decode().rstrip("="), jwt_text.split(".")[2]])
        none_alg = ".".join([
            base64.urlsafe_b64encode(json.dumps(dict(header, alg="none")).encode())
            .decode().rstrip("="), jwt_text.split(".")[1], ""])
        bad = {
            "signature bit": tamper(jwt_text, 2, 10),
            "payload byte": tamper(jwt_text, 1, 20),
            "header byte": tamper(jwt_text, 0, 3),
            "forged sub": forged,
            "alg none": none_alg,
            "truncated": jwt_text[:-10],
            "garbage": "not-a-jwt",
            "three empty parts": "..",
            "two parts": "abc.def",
        }
        for name, value in bad.items():
            with self.subTest(name=name):
                self.assertError(self.c.authenticate(session_jwt=value), 401,
                                 "unable_to_parse_session_jwt")
        self.assertSuccess(self.c.authenticate(session_jwt=jwt_text))

    # Regression (fixed): a session_jwt whose header cannot be decoded is answered 400 bad_request instead of
    # 401 unable_to_parse_session_jwt like every other unusable JWT (a bad signature, a header
    # that is JSON but not an object, ...). VerifyJwt (src/token/jwt_verify.cc, per the contract
    # in include/tessera/token/jwt.h) fails with kMalformedBase64 ("header is not base64url"),
    # kMalformedJson ("header is not JSON") or kJsonTooDeep ("header is nested too deeply"),
    # and server/error_mapping.cc maps those generic codes to bad_request. Same on
    # sessions/revoke and for passwords/authenticate's session_jwt. Fix: translate non-kJwt*
    # failures of VerifyJwt into kJwtMalformed in SessionService::FindByJwt.
    def test_jwt_with_undecodable_header(self):
        s = self.signup()
        _, payload, sig = s["session_jwt"].split(".")
        enc = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
        deep = b'{"alg":"RS256","kid":"k","typ":"JWT","x":{"a":{"b":1}}}'
        for name, value in (("a.b.c", "a.b.c"), ("*.*.*", "*.*.*"),
                            ("standard base64", "eyJ+.eyJ/.sig="),
                            ("header not JSON", f"{enc(b'not json')}.{payload}.{sig}"),
                            ("header too deep", f"{enc(deep)}.{payload}.{sig}")):
            with self.subTest(name=name):
                self.assertError(self.c.authenticate(session_jwt=value), 401,
                                 "unable_to_parse_session_jwt")
                self.assertError(self.c.revoke(session_jwt=value), 401,
                                 "unable_to_parse_session_jwt")

    def test_jwt_of_another_project(self):
        other = create_project(self.db)
        oc = self.server.client(other)
        s = self.signup(client=oc)
        # B's JWT with A's credentials: signed by a key A does not publish, for another audience.
        self.assertError(self.c.authenticate(session_jwt=s["session_jwt"]), 401,
                         "unable_to_parse_session_jwt")
        self.assertError(self.c.revoke(session_jwt=s["session_jwt"]), 401,
                         "unable_to_parse_session_jwt")
        self.assertSuccess(oc.authenticate(session_jwt=s["session_jwt"]))


class CustomClaimsTest(ServerCase):
    SERVER_ARGS = ("--jwt-reuse-seconds", "0")

    def claims_of(self, body):
        _, payload = jwt_parts(body["session_jwt"])
        return {k: v for k, v in payload.items()
                if k not in ("aud", "exp", "iat", "iss", "nbf", "sub",
                             "https://stytch.com/session")}

    def test_merge_semantics(self):
        s = self.signup(session_custom_claims={"a": 1, "keep": "yes",
                                               "e": {"nested1": "val1", "nested2": "val2"}})
        self.assertEqual(s["session"]["custom_claims"],
                         {"a": 1, "keep": "yes", "e": {"nested1": "val1", "nested2": "val2"}})
        self.assertEqual(self.claims_of(s), s["session"]["custom_claims"])
        body = self.assertSuccess(self.c.authenticate(
            session_token=s["session_token"],
            session_custom_claims={"a": None, "b": [1, 2], "keep": "replaced",
                                   "e": {"nested1": None, "nested3": "val3"},
                                   "fresh": {"x": None, "y": 2}}))
        want = {"b": [1, 2], "keep": "replaced", "e": {"nested2": "val2", "nested3": "val3"},
                "fresh": {"y": 2}}
        self.assertEqual(body["session"]["custom_claims"], want)
        self.assertEqual(self.claims_of(body), want)
        # Stored: a plain authenticate (and one by JWT) sees the merged claims.
        again = self.assertSuccess(self.c.authenticate(session_jwt=body["session_jwt"]))
        self.assertEqual(again["session"]["custom_claims"], want)
        self.assertEqual(self.claims_of(again), want)
        # An empty update changes nothing.
        same = self.assertSuccess(self.c.authenticate(session_token=s["session_token"],
                                                      session_custom_claims={}))
        self.assertEqual(same["session"]["custom_claims"], want)

    def test_default_is_empty_object(self):
        s = self.signup()
        self.assertEqual(s["session"]["custom_claims"], {})
        self.assertEqual(self.claims_of(s), {})

    def test_reserved_names(self):
        s = self.signup()
        for name in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti"):
            with self.subTest(name=name):
                self.assertError(self.c.authenticate(session_token=s["session_token"],
                                                     session_custom_claims={name: "x"}),
                                 400, "reserved_claims_in_custom_claims")
        for name in ("https://stytch.com/session", "https://stytch.com/anything"):
            with self.subTest(name=name):
                self.assertError(self.c.authenticate(session_token=s["session_token"],
                                                     session_custom_claims={name: {}}),
                                 400, "stytch_claims_in_custom_claims")
        # Also refused at session creation.
        self.assertError(self.c.post("/v1/passwords", {
            "email": unique_email(), "password": STRONG_PASSWORD,
            "session_duration_minutes": 60, "session_custom_claims": {"sub": "me"}}),
            400, "reserved_claims_in_custom_claims")
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(body["session"]["custom_claims"], {})

    def test_too_large(self):
        s = self.signup()
        self.assertError(self.c.authenticate(session_token=s["session_token"],
                                             session_custom_claims={"big": "x" * 4100}),
                         400, "custom_claims_too_large")
        # The limit applies to the merged set: two halves that fit alone do not fit together.
        self.assertSuccess(self.c.authenticate(session_token=s["session_token"],
                                               session_custom_claims={"h1": "x" * 2500}))
        self.assertError(self.c.authenticate(session_token=s["session_token"],
                                             session_custom_claims={"h2": "y" * 2500}),
                         400, "custom_claims_too_large")
        # Deleting makes room again.
        body = self.assertSuccess(self.c.authenticate(
            session_token=s["session_token"],
            session_custom_claims={"h1": None, "h2": "y" * 2500}))
        self.assertEqual(set(body["session"]["custom_claims"]), {"h2"})
        deep = {}
        cur = deep
        for _ in range(12):
            cur["d"] = {}
            cur = cur["d"]
        self.assertError(self.c.authenticate(session_token=s["session_token"],
                                             session_custom_claims=deep),
                         400, "custom_claims_too_large")

    def test_not_an_object(self):
        s = self.signup()
        for value in ([1], "claims", 5, True):
            with self.subTest(value=value):
                self.assertError(self.c.authenticate(session_token=s["session_token"],
                                                     session_custom_claims=value),
                                 400, "bad_request")


class JwtReuseTest(ServerCase):
    # The default --jwt-reuse-seconds (5 s).
    def test_unchanged_session_reuses_jwt(self):
        s = self.signup()
        a = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        b = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(a["session_jwt"], b["session_jwt"])
        # A change to the session mints a new one at once.
        c = self.assertSuccess(self.c.authenticate(session_token=s["session_token"],
                                                   session_duration_minutes=123))
        self.assertNotEqual(c["session_jwt"], b["session_jwt"])
        _, claims = jwt_parts(c["session_jwt"])
        self.assertEqual(claims["https://stytch.com/session"]["expires_at"],
                         c["session"]["expires_at"])


class SessionsGetTest(ServerCase):
    def test_lists_active_sessions(self):
        s = self.signup()
        email = s["user"]["emails"][0]["email"]
        second = self.login(email)
        third = self.login(email)
        body = self.assertSuccess(self.c.get(f"/v1/sessions?user_id={s['user_id']}"))
        self.assertEqual(set(body), {"request_id", "status_code", "sessions"})
        ids = {x["session_id"] for x in body["sessions"]}
        self.assertEqual(ids, {s["session"]["session_id"], second["session"]["session_id"],
                               third["session"]["session_id"]})
        for x in body["sessions"]:
            self.assertSession(x, s["user_id"])
        self.assertSuccess(self.c.revoke(session_id=second["session"]["session_id"]))
        body = self.assertSuccess(self.c.get(f"/v1/sessions?user_id={s['user_id']}"))
        self.assertEqual({x["session_id"] for x in body["sessions"]},
                         {s["session"]["session_id"], third["session"]["session_id"]})

    def test_user_without_sessions(self):
        u = self.create_user()
        body = self.assertSuccess(self.c.get(f"/v1/sessions?user_id={u['user_id']}"))
        self.assertEqual(body["sessions"], [])

    def test_by_external_id_url_encoded(self):
        ext = "ext|id.with-chars_" + unique_email("x").split("@")[0]
        s = self.signup()
        self.assertSuccess(self.c.put(f"/v1/users/{s['user_id']}", {"external_id": ext}))
        q = urllib.parse.urlencode({"user_id": ext})
        body = self.assertSuccess(self.c.get(f"/v1/sessions?{q}&unknown=1"))
        self.assertEqual([x["session_id"] for x in body["sessions"]],
                         [s["session"]["session_id"]])

    def test_unknown_user(self):
        self.assertError(
            self.c.get("/v1/sessions?user_id=user-test-00000000-0000-0000-0000-000000000000"),
            404, "user_not_found")

    def test_missing_user_id(self):
        for q in ("", "?", "?user_id=", "?other=1", "?user_id=%zz"):
            with self.subTest(q=q):
                self.assertError(self.c.get(f"/v1/sessions{q}"), 400, "bad_request")


class RevokeTest(ServerCase):
    def test_revoke_by_session_id(self):
        s = self.signup()
        body = self.assertSuccess(self.c.revoke(session_id=s["session"]["session_id"]))
        self.assertEqual(set(body), {"request_id", "status_code"})
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.authenticate(session_jwt=s["session_jwt"]), 404,
                         "session_not_found")

    def test_revoke_by_token(self):
        s = self.signup()
        self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))  # Cached.
        self.assertSuccess(self.c.revoke(session_token=s["session_token"]))
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")

    def test_revoke_by_jwt(self):
        s = self.signup()
        self.assertSuccess(self.c.revoke(session_jwt=s["session_jwt"]))
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.authenticate(session_jwt=s["session_jwt"]), 404,
                         "session_not_found")

    def test_revoke_twice(self):
        s = self.signup()
        self.assertSuccess(self.c.revoke(session_id=s["session"]["session_id"]))
        self.assertError(self.c.revoke(session_id=s["session"]["session_id"]), 404,
                         "session_not_found")
        self.assertError(self.c.revoke(session_token=s["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.revoke(session_jwt=s["session_jwt"]), 404, "session_not_found")

    def test_only_the_revoked_session_dies(self):
        s = self.signup()
        other = self.login(s["user"]["emails"][0]["email"])
        self.assertSuccess(self.c.revoke(session_token=s["session_token"]))
        self.assertSuccess(self.c.authenticate(session_token=other["session_token"]))

    def test_selector_errors(self):
        s = self.signup()
        sid = s["session"]["session_id"]
        for body in ({"session_id": sid, "session_token": s["session_token"]},
                     {"session_id": sid, "session_jwt": s["session_jwt"]},
                     {"session_token": s["session_token"], "session_jwt": s["session_jwt"]},
                     {"session_id": sid, "session_token": s["session_token"],
                      "session_jwt": s["session_jwt"]}):
            with self.subTest(keys=sorted(body)):
                self.assertError(self.c.revoke(**body), 400, "too_many_session_revoke_arguments")
        for body in ({}, {"session_id": ""}, {"session_id": None, "session_token": ""}):
            with self.subTest(body=body):
                self.assertError(self.c.revoke(**body), 400, "no_session_revoke_arguments")
        self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))

    def test_unknown(self):
        self.assertError(
            self.c.revoke(session_id="session-test-00000000-0000-0000-0000-000000000000"),
            404, "session_not_found")
        self.assertError(self.c.revoke(session_id="whatever"), 404, "session_not_found")
        self.assertError(self.c.revoke(session_token="y" * 44), 404, "session_not_found")
        self.assertError(self.c.revoke(session_token="bad"), 400, "invalid_session_token")
        self.assertError(self.c.revoke(session_jwt="not-a-jwt"), 401,
                         "unable_to_parse_session_jwt")


class NoSessionCacheTest(ServerCase):
    """--session-cache-size 0 keeps no session in memory: every authenticate reads the database."""
    SERVER_ARGS = ("--session-cache-size", "0")

    def test_sessions_work_without_a_cache(self):
        s = self.signup(minutes=60)
        for _ in range(3):
            self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
            self.assertSuccess(self.c.authenticate(session_jwt=s["session_jwt"]))
        self.assertSuccess(self.c.authenticate(session_token=s["session_token"],
                                               session_duration_minutes=120))
        self.assertSuccess(self.c.revoke(session_token=s["session_token"]))
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")
        self.assertEqual(metric(self.c.metrics(), "tessera_session_cache_entries"), 0)
        self.assertTrue(self.server.running())


if __name__ == "__main__":
    unittest.main()
