"""Email sign-in through the frontend SDK's API (/sdk/v1) against the real binary and an SMTP
sink: magic links and email passcodes sent and authenticated as @stytch/vanilla-js does it (Basic
public_token:public_token, an allowed Origin, its exact bodies), the {"data": ...} envelope, the
session members the SDK writes into its cookies, refusals for other origins, reused tokens and
redirect URLs off the project's list."""

import base64
import json
import unittest

from harness import metric, run_cli, unique_email
from test_email import (EmailCase, LOGIN_URL, SIGNUP_URL, code_of, link_of, pkce_pair,
                        token_of)

ORIGIN = "http://127.0.0.1:5173"
OTHER_ORIGIN = "http://127.0.0.1:5174"


def sdk_auth(public_token, session_token=None):
    """What the SDK sends: the public token twice when it holds no session."""
    raw = f"{public_token}:{session_token or public_token}".encode()
    return "Basic " + base64.b64encode(raw).decode()


class SdkEmailCase(EmailCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        out = run_cli("projects", "list", *cls.db.args(), "--json").stdout
        (cls.public_token,) = [p["public_token"] for p in json.loads(out)["projects"]
                               if p["project_id"] == cls.project.project_id]
        run_cli("sdk-origins", "add", *cls.db.args(), "--project", cls.project.project_id,
                "--origin", ORIGIN)

    def sdk(self, path, body=None, session_token=None, origin=ORIGIN):
        headers = {"Origin": origin} if origin else {}
        return self.c.post("/sdk/v1" + path, body or {},
                           auth=sdk_auth(self.public_token, session_token), headers=headers)

    def assertData(self, r):
        """A success as the SDK reads it: {"data": <the usual answer>}, with CORS for the page."""
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"data"}, r)
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN, r)
        self.assertEqual(r.headers.get("access-control-allow-credentials"), "true", r)
        data = r.json["data"]
        self.assertEqual(data["status_code"], 200, r)
        self.assertTrue(data["request_id"].startswith("request-id-test-"), r)
        return data

    def assertSignedIn(self, data, email):
        """What the SDK needs to keep the session: both cookie values non-empty, and the session
        usable by the backend."""
        self.assertToken(data["session_token"])
        self.assertEqual(data["session_jwt"].count("."), 2, data)
        self.assertSession(data["session"], data["user_id"])
        self.assertUser(data["user"])
        self.assertIn(email, [e["email"] for e in data["user"]["emails"]])
        self.assertSuccess(self.c.authenticate(session_token=data["session_token"]))
        self.assertSuccess(self.c.authenticate(session_jwt=data["session_jwt"]))
        # And by the SDK's own refresh.
        again = self.assertData(self.sdk("/sessions/authenticate",
                                         session_token=data["session_token"]))
        self.assertEqual(again["session"]["session_id"], data["session"]["session_id"])


class SdkMagicLinkTest(SdkEmailCase):

    def test_login_or_create_then_authenticate(self):
        email = unique_email("sdkml")
        sent = self.assertData(self.sdk("/magic_links/email/login_or_create", {
            "email": email, "login_magic_link_url": LOGIN_URL,
            "signup_magic_link_url": SIGNUP_URL, "login_expiration_minutes": 30,
            "signup_expiration_minutes": 30}))
        # Nothing about the user is told to a page that only knows an address.
        self.assertEqual(set(sent), {"request_id", "status_code"})
        msg = self.sink.wait_for(email)
        self.assertTrue(link_of(msg).startswith(SIGNUP_URL + "&stytch_token_type=magic_links"))
        token = token_of(msg)
        data = self.assertData(self.sdk("/magic_links/authenticate",
                                        {"token": token, "session_duration_minutes": 60}))
        self.assertSignedIn(data, email)
        self.assertTrue(data["method_id"].startswith("email-test-"), data)
        factor = data["session"]["authentication_factors"][0]
        self.assertEqual((factor["type"], factor["delivery_method"]), ("magic_link", "email"))
        # The browser's own request, not the body, says who the session's client is.
        self.assertEqual(data["session"]["attributes"]["user_agent"], "tessera-integration-tests")
        # A token works once: the second try is a flat error the SDK reads, with CORS.
        r = self.sdk("/magic_links/authenticate",
                     {"token": token, "session_duration_minutes": 60})
        self.assertError(r, 401, "unable_to_auth_magic_link")
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN, r)

    def test_send_primary_needs_an_existing_user_and_uses_the_default_login_url(self):
        email = unique_email("sdkprim")
        self.assertError(self.sdk("/magic_links/email/send/primary", {"email": email}), 404,
                         "email_not_found")
        self.signup(email=email)
        self.assertData(self.sdk("/magic_links/email/send/primary", {"email": email}))
        msg = self.sink.wait_for(email)
        self.assertTrue(link_of(msg).startswith(LOGIN_URL + "?stytch_token_type=magic_links"))
        data = self.assertData(self.sdk("/magic_links/authenticate", {
            "token": token_of(msg), "session_duration_minutes": 30}))
        self.assertSignedIn(data, email)

    def test_send_secondary_adds_the_address_to_the_signed_in_user(self):
        first = self.signup()
        added = unique_email("sdksec")
        # Without a session the SDK would not call it; if it does, it is told to sign in.
        self.assertError(self.sdk("/magic_links/email/send/secondary", {"email": added}), 401,
                         "unauthorized_credentials")
        self.assertData(self.sdk("/magic_links/email/send/secondary", {"email": added},
                                 session_token=first["session_token"]))
        data = self.assertData(self.sdk("/magic_links/authenticate", {
            "token": token_of(self.sink.wait_for(added)), "session_duration_minutes": 30}))
        self.assertEqual(data["user_id"], first["user_id"])
        self.assertSignedIn(data, added)
        # A session that is over is one the SDK clears (session_not_found), not one it retries.
        self.assertSuccess(self.c.revoke(session_token=first["session_token"]))
        self.assertError(self.sdk("/magic_links/email/send/secondary",
                                  {"email": unique_email("sdksec")},
                                  session_token=first["session_token"]), 404, "session_not_found")

    def test_pkce(self):
        email = unique_email("sdkpkce")
        verifier, challenge = pkce_pair()
        self.assertData(self.sdk("/magic_links/email/login_or_create",
                                 {"email": email, "code_challenge": challenge}))
        token = token_of(self.sink.wait_for(email))
        self.assertError(self.sdk("/magic_links/authenticate", {
            "token": token, "session_duration_minutes": 30, "code_verifier": "0" * 64}),
            400, "pkce_mismatch")
        data = self.assertData(self.sdk("/magic_links/authenticate", {
            "token": token, "session_duration_minutes": 30, "code_verifier": verifier}))
        self.assertSignedIn(data, email)

    def test_redirect_urls_come_from_the_projects_list(self):
        # As on /v1, the URL the email will carry is checked: the sign-up URL for a new address,
        # the login URL for an active user; a native callback needs PKCE.
        existing = unique_email("sdkredir")
        self.signup(email=existing)
        for email, member, url, error in (
                (unique_email("sdkredir"), "signup_magic_link_url", "https://evil.example.com/",
                 "no_match_for_provided_magic_link_url"),
                (existing, "login_magic_link_url", "https://evil.example.com/",
                 "no_match_for_provided_magic_link_url"),
                (existing, "login_magic_link_url", "myapp://callback",
                 "pkce_required_for_native_callback")):
            with self.subTest(member=member, url=url):
                self.assertError(self.sdk("/magic_links/email/login_or_create",
                                          {"email": email, member: url}), 400, error)
        self.assertEqual(self.sink.to(existing), [])

    def test_the_body_cannot_name_a_user_or_a_session(self):
        other = self.signup()
        email = unique_email("sdkbody")
        # user_id and session_token in the body are the backend's to give; the SDK route ignores
        # them: the address is not added to that user, and no session of theirs is extended.
        self.assertData(self.sdk("/magic_links/email/login_or_create", {
            "email": email, "user_id": other["user_id"],
            "session_token": other["session_token"]}))
        data = self.assertData(self.sdk("/magic_links/authenticate", {
            "token": token_of(self.sink.wait_for(email)), "session_duration_minutes": 30,
            "session_token": other["session_token"]}))
        self.assertNotEqual(data["user_id"], other["user_id"])
        self.assertNotEqual(data["session"]["session_id"], other["session"]["session_id"])
        user = self.assertSuccess(self.c.get(f"/v1/users/{other['user_id']}"))
        self.assertNotIn(email, [e["email"] for e in user["emails"]])


class SdkOtpTest(SdkEmailCase):

    def test_login_or_create_then_authenticate(self):
        email = unique_email("sdkotp")
        sent = self.assertData(self.sdk("/otps/email/login_or_create",
                                        {"email": email, "expiration_minutes": 5}))
        self.assertEqual(set(sent), {"request_id", "status_code", "method_id"})
        self.assertTrue(sent["method_id"].startswith("email-test-"), sent)
        code = code_of(self.sink.wait_for(email))
        body = {"token": code, "method_id": sent["method_id"], "session_duration_minutes": 60}
        data = self.assertData(self.sdk("/otps/authenticate", body))
        self.assertSignedIn(data, email)
        self.assertEqual(data["method_id"], sent["method_id"])
        self.assertEqual(data["session"]["authentication_factors"][0]["delivery_method"], "email")
        # A code works once.
        self.assertError(self.sdk("/otps/authenticate", body), 401, "unable_to_auth_otp_code")

    def test_send_primary_and_secondary(self):
        email = unique_email("sdkotpp")
        self.assertError(self.sdk("/otps/email/send/primary", {"email": email}), 404,
                         "email_not_found")
        user = self.signup(email=email)
        sent = self.assertData(self.sdk("/otps/email/send/primary", {"email": email}))
        data = self.assertData(self.sdk("/otps/authenticate", {
            "token": code_of(self.sink.wait_for(email)), "method_id": sent["method_id"],
            "session_duration_minutes": 30}))
        self.assertEqual(data["user_id"], user["user_id"])
        added = unique_email("sdkotps")
        sent = self.assertData(self.sdk("/otps/email/send/secondary", {"email": added},
                                        session_token=data["session_token"]))
        data = self.assertData(self.sdk("/otps/authenticate", {
            "token": code_of(self.sink.wait_for(added)), "method_id": sent["method_id"],
            "session_duration_minutes": 30}))
        self.assertEqual(data["user_id"], user["user_id"])
        self.assertSignedIn(data, added)

    def test_a_wrong_code_is_refused_and_does_not_sign_in(self):
        email = unique_email("sdkotpw")
        sent = self.assertData(self.sdk("/otps/email/login_or_create", {"email": email}))
        code = code_of(self.sink.wait_for(email))
        wrong = f"{(int(code) + 1) % 1000000:06d}"
        r = self.sdk("/otps/authenticate", {"token": wrong, "method_id": sent["method_id"],
                                            "session_duration_minutes": 30})
        self.assertEqual(r.status // 100, 4, r)
        self.assertNotIn("data", r.json)
        self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN, r)


class SdkAccessTest(SdkEmailCase):

    ROUTES = ("/magic_links/email/login_or_create", "/magic_links/email/send/primary",
              "/magic_links/email/send/secondary", "/magic_links/authenticate",
              "/otps/email/login_or_create", "/otps/email/send/primary",
              "/otps/email/send/secondary", "/otps/authenticate")

    def test_other_origins_are_refused_before_anything_is_sent(self):
        email = unique_email("sdkorigin")
        for path in self.ROUTES:
            for origin in (OTHER_ORIGIN, None):
                with self.subTest(path=path, origin=origin):
                    r = self.sdk(path, {"email": email, "token": "x" * 44, "method_id": "m"},
                                 origin=origin)
                    self.assertError(r, 403, "bad_domain_for_stytch_sdk")
        self.assertEqual(self.sink.to(email), [])

    def test_made_up_public_tokens_and_secret_key_auth_are_refused(self):
        for path in self.ROUTES:
            with self.subTest(path=path):
                r = self.c.post("/sdk/v1" + path, {"email": unique_email()},
                                auth=sdk_auth("public-token-test-00000000-0000-4000-8000-"
                                              "000000000000"),
                                headers={"Origin": ORIGIN})
                self.assertError(r, 401, "unauthorized_credentials")
                # The project's secret is the backend's credential, not the SDK's.
                r = self.c.post("/sdk/v1" + path, {"email": unique_email()},
                                headers={"Origin": ORIGIN})
                self.assertError(r, 401, "unauthorized_credentials")

    def test_made_up_public_tokens_are_read_from_the_store_once(self):
        def reads():
            return metric(self.c.metrics(), "tessera_store_operation_duration_seconds_count",
                          operation="find_project_by_public_token")

        def attempt(made_up):
            before = reads()
            for path in self.ROUTES:
                for _ in range(3):
                    r = self.c.post("/sdk/v1" + path, {"email": unique_email()},
                                    auth=sdk_auth(made_up), headers={"Origin": ORIGIN})
                    self.assertError(r, 401, "unauthorized_credentials")
            return reads() - before

        # Unknown tokens are forgotten when the project list changes, and the server notices the
        # origins and redirect URLs this class added with its next poll (every second): an attempt
        # that straddles that moment reads twice. A fresh token each time.
        for i in range(3):
            delta = attempt(f"public-token-test-11111111-2222-4333-8444-55555555555{i}")
            self.assertLessEqual(delta, 2)
            if delta == 1:
                break
        self.assertEqual(delta, 1)

    def test_preflight(self):
        for path in self.ROUTES:
            r = self.c.request("OPTIONS", "/sdk/v1" + path, auth=None, headers={
                "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})
            self.assertEqual(r.status, 204, r)
            self.assertEqual(r.headers.get("access-control-allow-origin"), ORIGIN, r)


if __name__ == "__main__":
    unittest.main()
