"""Email sign-in against the real binary and a real SMTP server on 127.0.0.1 (Debian's
python3-aiosmtpd): magic links, email passcodes and password resets, every link and code read from
the message the server delivered; reuse, expiry, concurrent use, PKCE, redirect allow-lists,
sandbox values, rate limits, templates, the outbox through an SMTP outage, and on PostgreSQL two
nodes sharing one outbox without sending anything twice."""

import concurrent.futures
import email
import email.policy
import hashlib
import base64
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from aiosmtpd.controller import Controller

from harness import (Case, STRONG_PASSWORD, Server, ServerCase, create_project, database_kind,
                     metric, run_cli, unique_email)

LOGIN_URL = "https://app.example.com/authenticate"
SIGNUP_URL = "https://app.example.com/signup?step=2"
INVITE_URL = "https://app.example.com/invite"
RESET_URL = "https://app.example.com/reset"

SANDBOX_USER = "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd"
SANDBOX_EMAIL_ID = "email-test-23873e89-d4ed-4e92-b3b9-e5c7198fa286"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.cond:
            self.sink.messages.append((envelope.rcpt_tos, msg))
            self.sink.cond.notify_all()
        return "250 OK"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it receives. stop() and start() again
    on the same port simulate an outage of the relay."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.cond = threading.Condition()
        self.controller = None

    def start(self):
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address):
        with self.cond:
            return [m for rcpt, m in self.messages if address in rcpt]

    def wait_for(self, address, count=1, timeout=20.0):
        """The `count`th message to `address` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [m for rcpt, m in self.messages if address in rcpt]
                if len(got) >= count:
                    return got[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no message #{count} to {address} within {timeout} s "
                                         f"(have {len(got)})")
                self.cond.wait(left)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content()


def html_of(msg):
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def link_of(msg, token_type="magic_links"):
    for url in re.findall(r"https?://\S+|myapp://\S+", text_of(msg)):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        if q.get("stytch_token_type") == [token_type]:
            return url
    raise AssertionError(f"no {token_type} link in:\n{text_of(msg)}")


def token_of(msg, token_type="magic_links"):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(link_of(msg, token_type)).query)
    return q["token"][0]


def code_of(msg):
    m = re.search(r"\b(\d{6})\b", text_of(msg))
    assert m, text_of(msg)
    return m.group(1)


def pkce_pair():
    verifier = os.urandom(32).hex()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def add_redirect_urls(db, project_id):
    for t, url in (("login", LOGIN_URL), ("signup", SIGNUP_URL), ("invite", INVITE_URL),
                   ("reset_password", RESET_URL)):
        run_cli("redirect-urls", "add", *db.args(), "--project", project_id, "--type", t, "--url",
                url, "--default")
    run_cli("redirect-urls", "add", *db.args(), "--project", project_id, "--type", "login",
            "--url", "myapp://callback")


# Fast delivery and retries for tests; rate limits off unless a test turns them on.
FAST_DELIVERY = ("--outbox-poll-ms", "100", "--smtp-retry-base-seconds", "1",
                 "--smtp-retry-max-seconds", "1", "--email-from", "Tessera Tests <tests@example.com>")
NO_LIMITS = ("--email-rate-limit-per-address", "0", "--email-rate-limit-per-ip", "0")
FAST = FAST_DELIVERY + NO_LIMITS


class EmailCase(ServerCase):
    """One server with an SMTP sink and a project whose redirect URLs are set."""

    PROJECT_FLAGS = ("--name", "Email Tests", "--lock-threshold", "3")

    @classmethod
    def setUpClass(cls):
        cls.sink = SmtpSink().start()
        cls.addClassCleanup(cls.sink.stop)
        cls.SERVER_ARGS = ("--smtp-url", cls.sink.url(), *FAST)
        super().setUpClass()
        add_redirect_urls(cls.db, cls.project.project_id)

    def login_or_create(self, email=None, **extra):
        email = email or unique_email("ml")
        body = self.assertSuccess(self.c.post("/v1/magic_links/email/login_or_create",
                                              {"email": email, **extra}))
        return email, body

    def magic_token(self, email=None, count=1, **extra):
        email, body = self.login_or_create(email, **extra)
        return email, body, token_of(self.sink.wait_for(email, count))

    def authenticate(self, token, **extra):
        return self.c.post("/v1/magic_links/authenticate", {"token": token, **extra})


class MagicLinkTest(EmailCase):

    def test_login_or_create_then_authenticate_with_the_link_from_the_email(self):
        email, body = self.login_or_create(session_duration_minutes=None)
        self.assertEqual(set(body), {"request_id", "status_code", "user_id", "email_id",
                                     "user_created"})
        self.assertTrue(body["user_created"])
        msg = self.sink.wait_for(email)
        self.assertEqual(msg["To"], email)
        self.assertIn("Tessera Tests", msg["From"])
        self.assertIn("Email Tests", msg["Subject"])  # The project's name.
        self.assertIn("sign", msg["Subject"].lower())  # A new user gets a sign-up link.
        link = link_of(msg)
        self.assertTrue(link.startswith(SIGNUP_URL + "&stytch_token_type=magic_links&token="), link)
        self.assertIn(urllib.parse.quote(token_of(msg), safe=""), html_of(msg).replace("&amp;", "&"))
        token = token_of(msg)
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}=$")
        r = self.assertSuccess(self.authenticate(token, session_duration_minutes=60))
        self.assertEqual(r["user_id"], body["user_id"])
        self.assertEqual(r["method_id"], body["email_id"])
        self.assertIs(r["reset_sessions"], False)
        self.assertIsNone(r["user_device"])
        self.assertUser(r["user"])
        self.assertEqual(r["user"]["emails"], [{"email": email, "email_id": body["email_id"],
                                                "verified": True}])
        self.assertEqual(r["user"]["status"], "active")
        self.assertSession(r["session"], body["user_id"])
        factor = r["session"]["authentication_factors"][0]
        self.assertEqual(factor["type"], "magic_link")
        self.assertEqual(factor["delivery_method"], "email")
        self.assertEqual(factor["email_factor"], {"email_address": email,
                                                  "email_id": body["email_id"]})
        self.assertToken(r["session_token"])
        self.assertTrue(r["session_jwt"])
        # The session works.
        self.assertSuccess(self.c.authenticate(session_token=r["session_token"]))
        # A token works once.
        self.assertError(self.authenticate(token), 401, "unable_to_auth_magic_link")

    def test_no_session_without_a_duration(self):
        _, _, token = self.magic_token()
        r = self.assertSuccess(self.authenticate(token))
        self.assertIsNone(r["session"])
        self.assertEqual((r["session_token"], r["session_jwt"]), ("", ""))

    def test_an_active_user_gets_a_login_link_and_send_needs_an_existing_email(self):
        email, body, token = self.magic_token()
        self.assertSuccess(self.authenticate(token))
        r = self.assertSuccess(self.c.post("/v1/magic_links/email/send", {"email": email}))
        self.assertEqual(set(r), {"request_id", "status_code", "user_id", "email_id"})
        self.assertEqual(r["user_id"], body["user_id"])
        msg = self.sink.wait_for(email, 2)
        self.assertIn("login", msg["Subject"].lower())
        self.assertTrue(link_of(msg).startswith(LOGIN_URL + "?stytch_token_type=magic_links"))
        again = self.assertSuccess(self.c.post("/v1/magic_links/email/login_or_create",
                                               {"email": email}))
        self.assertFalse(again["user_created"])
        self.assertError(self.c.post("/v1/magic_links/email/send", {"email": unique_email()}),
                         404, "email_not_found")

    def test_unknown_token_and_bad_input(self):
        self.assertError(self.authenticate("x" * 44), 404, "magic_link_not_found")
        self.assertError(self.authenticate(""), 404, "magic_link_not_found")
        self.assertError(self.c.post("/v1/magic_links/authenticate", {}), 400, "bad_request")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": "not-an-email"}), 400, "invalid_email")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(), "login_expiration_minutes": 4}),
                         400, "invalid_expiration")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(), "signup_expiration_minutes": 10081}),
                         400, "invalid_expiration")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(), "locale": "xx"}),
                         400, "invalid_locale")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(), "signup_template_id": "nope"}),
                         404, "email_template_not_found")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create", {"email": 5}),
                         400, "bad_request")
        _, _, token = self.magic_token()
        self.assertError(self.authenticate(token, session_duration_minutes=4), 400,
                         "invalid_session_duration_minutes")
        self.assertError(self.authenticate(token, session_token="a" * 44, session_jwt="b.c.d"),
                         400, "too_many_session_arguments")
        # None of the refusals used the token up.
        self.assertSuccess(self.authenticate(token))

    def test_pending_user_becomes_active(self):
        email, body, token = self.magic_token(create_user_as_pending=True)
        user = self.assertSuccess(self.c.get(f"/v1/users/{body['user_id']}"))
        self.assertEqual(user["status"], "pending")
        r = self.assertSuccess(self.authenticate(token))
        self.assertEqual(r["user"]["status"], "active")

    def test_redirect_urls_must_be_on_the_projects_list(self):
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(),
                                      "signup_magic_link_url": "https://evil.example.com/"}),
                         400, "no_match_for_provided_magic_link_url")
        self.assertError(self.c.post("/v1/magic_links/email/login_or_create",
                                     {"email": unique_email(), "signup_magic_link_url": "not a url"}),
                         400, "invalid_signup_magic_link_url")
        # A listed URL other than the default is used as given, its query kept.
        email = unique_email()
        self.assertSuccess(self.c.post("/v1/magic_links/email/login_or_create",
                                       {"email": email, "signup_magic_link_url": SIGNUP_URL}))
        self.assertIn("step=2", link_of(self.sink.wait_for(email)))
        # A native callback needs PKCE.
        email, _, token = self.magic_token()
        self.assertSuccess(self.authenticate(token))
        self.assertError(self.c.post("/v1/magic_links/email/send",
                                     {"email": email, "login_magic_link_url": "myapp://callback"}),
                         400, "pkce_required_for_native_callback")
        _, challenge = pkce_pair()
        self.assertSuccess(self.c.post("/v1/magic_links/email/send",
                                       {"email": email, "login_magic_link_url": "myapp://callback",
                                        "code_challenge": challenge}))
        self.assertTrue(link_of(self.sink.wait_for(email, 2)).startswith("myapp://callback?"))

    def test_pkce(self):
        verifier, challenge = pkce_pair()
        _, _, token = self.magic_token(code_challenge=challenge)
        self.assertError(self.authenticate(token), 400, "pkce_expected_code_verifier")
        self.assertError(self.authenticate(token, code_verifier="wrong" * 10), 400, "pkce_mismatch")
        self.assertSuccess(self.authenticate(token, code_verifier=verifier))
        _, _, plain = self.magic_token()
        self.assertError(self.authenticate(plain, code_verifier=verifier), 400,
                         "pkce_did_not_expect_code_verifier")

    def test_attributes_must_match_when_asked(self):
        attrs = {"ip_address": "203.0.113.9", "user_agent": "ua-1"}
        _, _, token = self.magic_token(attributes=attrs)
        self.assertError(self.authenticate(token, options={"ip_match_required": True},
                                           attributes={"ip_address": "198.51.100.1"}),
                         401, "attribute_mismatch")
        self.assertError(self.authenticate(token, options={"user_agent_match_required": True},
                                           attributes={"ip_address": "203.0.113.9",
                                                       "user_agent": "other"}),
                         401, "attribute_mismatch")
        self.assertSuccess(self.authenticate(token, attributes=attrs,
                                             options={"ip_match_required": True,
                                                      "user_agent_match_required": True}))

    def test_attach_to_an_existing_session(self):
        email = unique_email("attach")
        signup = self.signup(email=email)
        _, _, token = self.magic_token(email)
        r = self.assertSuccess(self.authenticate(token, session_token=signup["session_token"]))
        self.assertEqual(r["session"]["session_id"], signup["session"]["session_id"])
        self.assertEqual(r["session_token"], signup["session_token"])
        types = sorted(f["type"] for f in r["session"]["authentication_factors"])
        self.assertEqual(types, ["magic_link", "password"])
        # Another user's session: refused, and the token is still good.
        other = self.signup()
        _, _, token2 = self.magic_token(email, count=2)
        self.assertError(self.authenticate(token2, session_token=other["session_token"]), 404,
                         "session_not_found")
        self.assertSuccess(self.authenticate(token2, session_jwt=signup["session_jwt"]))

    def test_send_adds_an_email_to_a_user_named_by_id(self):
        user = self.create_user()
        extra = unique_email("extra")
        r = self.assertSuccess(self.c.post("/v1/magic_links/email/send",
                                           {"email": extra, "user_id": user["user_id"]}))
        self.assertEqual(r["user_id"], user["user_id"])
        token = token_of(self.sink.wait_for(extra))
        a = self.assertSuccess(self.authenticate(token))
        verified = {e["email"]: e["verified"] for e in a["user"]["emails"]}
        self.assertEqual(verified[extra], True)

    def test_invite_accept_and_revoke(self):
        email = unique_email("invite")
        r = self.assertSuccess(self.c.post("/v1/magic_links/email/invite",
                                           {"email": email, "name": {"first_name": "Ada"},
                                            "untrusted_metadata": {"team": "x"}}))
        self.assertEqual(set(r), {"request_id", "status_code", "user_id", "email_id"})
        user = self.assertSuccess(self.c.get(f"/v1/users/{r['user_id']}"))
        self.assertEqual((user["status"], user["name"]["first_name"]), ("pending", "Ada"))
        msg = self.sink.wait_for(email)
        self.assertIn("invited", msg["Subject"].lower())
        self.assertTrue(link_of(msg).startswith(INVITE_URL + "?"))
        a = self.assertSuccess(self.authenticate(token_of(msg), session_duration_minutes=30))
        self.assertEqual(a["user"]["status"], "active")
        self.assertTrue(a["user"]["emails"][0]["verified"])
        # An active user is not invited again.
        self.assertError(self.c.post("/v1/magic_links/email/invite", {"email": email}), 400,
                         "duplicate_email")
        # A revoked invite: its link no longer works, the pending user is gone.
        email2 = unique_email("revoked")
        r2 = self.assertSuccess(self.c.post("/v1/magic_links/email/invite", {"email": email2}))
        token2 = token_of(self.sink.wait_for(email2))
        self.assertEqual(set(self.assertSuccess(self.c.post(
            "/v1/magic_links/email/revoke_invite", {"email": email2}))),
            {"request_id", "status_code"})
        self.assertError(self.authenticate(token2), 401, "unable_to_auth_magic_link")
        self.assertError(self.c.get(f"/v1/users/{r2['user_id']}"), 404, "user_not_found")
        self.assertError(self.c.post("/v1/magic_links/email/revoke_invite", {"email": email2}),
                         404, "email_not_found")
        self.assertError(self.c.post("/v1/magic_links/email/invite",
                                     {"email": unique_email(), "invite_expiration_minutes": 0}),
                         400, "invalid_expiration")

    def test_embeddable_links(self):
        user = self.create_user()
        r = self.assertSuccess(self.c.post("/v1/magic_links", {"user_id": user["user_id"]}))
        self.assertEqual(set(r), {"request_id", "status_code", "user_id", "token"})
        a = self.assertSuccess(self.authenticate(r["token"], session_duration_minutes=5))
        self.assertEqual(a["method_id"], "")
        factor = a["session"]["authentication_factors"][0]
        self.assertEqual((factor["type"], factor["delivery_method"]), ("magic_link", "embedded"))
        self.assertFalse(a["user"]["emails"][0]["verified"])  # Embeddable links verify nothing.
        self.assertError(self.authenticate(r["token"]), 401, "unable_to_auth_magic_link")
        self.assertError(self.c.post("/v1/magic_links", {"user_id": "user-test-nope"}), 404,
                         "user_not_found")
        self.assertError(self.c.post("/v1/magic_links", {"user_id": user["user_id"],
                                                         "expiration_minutes": 10081}),
                         400, "invalid_expiration")

    def test_concurrent_use_succeeds_once(self):
        _, _, token = self.magic_token()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: self.server.client(self.project).post(
                "/v1/magic_links/authenticate", {"token": token}), range(8)))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] + [401] * 7, results)

    def test_no_token_in_the_log_or_the_database(self):
        email, body, token = self.magic_token()
        code_email = unique_email("otp")
        self.assertSuccess(self.c.post("/v1/otps/email/login_or_create", {"email": code_email}))
        code = code_of(self.sink.wait_for(code_email))
        time.sleep(0.3)  # Let the sender finish with the outbox row.
        log = self.server.stderr_text()
        self.assertNotIn(token, log)
        self.assertNotIn(urllib.parse.quote(token, safe=""), log)
        # Delivered messages leave the outbox; the tokens table holds digests only.
        self.assertEqual(self.db.query(
            "SELECT COUNT(*) FROM email_outbox WHERE state = 'pending'"), [["0"]])
        rows = self.db.query(f"SELECT email, method_id FROM one_time_tokens WHERE "
                             f"user_id = '{body['user_id']}'")
        self.assertEqual(rows, [[email, body["email_id"]]])
        dump = "\n".join("|".join(r) for r in self.db.query(
            "SELECT token_id, kind, user_id, method_id, email, code_challenge, ip_address, "
            "user_agent FROM one_time_tokens"))
        self.assertNotIn(token, dump)
        self.assertNotIn(code, log)


class SandboxTest(EmailCase):

    def test_sandbox_values(self):
        for route in ("send", "login_or_create", "invite"):
            r = self.assertSuccess(self.c.post(f"/v1/magic_links/email/{route}",
                                               {"email": "sandbox@stytch.com"}))
            self.assertEqual((r["user_id"], r["email_id"]), (SANDBOX_USER, SANDBOX_EMAIL_ID))
        self.assertSuccess(self.c.post("/v1/magic_links/email/revoke_invite",
                                       {"email": "sandbox@stytch.com"}))
        r = self.assertSuccess(self.authenticate("DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94="))
        self.assertEqual(r["user_id"], SANDBOX_USER)
        self.assertEqual(r["user"]["emails"][0]["email"], "sandbox@stytch.com")
        e = self.assertError(self.authenticate("3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU="),
                             401, "unable_to_auth_magic_link")
        self.assertEqual(e["error_message"],
                         "The magic link could not be authenticated because it was either already "
                         "used or expired. Send another magic link to this user.")
        e = self.assertError(self.authenticate("CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM="),
                             404, "magic_link_not_found")
        self.assertEqual(e["error_message"],
                         "The magic link could not be authenticated, try sending another magic "
                         "link to the user.")
        for route in ("send", "login_or_create"):
            r = self.assertSuccess(self.c.post(f"/v1/otps/email/{route}",
                                               {"email": "sandbox@stytch.com"}))
            self.assertEqual(r["email_id"], SANDBOX_EMAIL_ID)
        r = self.assertSuccess(self.c.post("/v1/otps/authenticate",
                                           {"method_id": SANDBOX_EMAIL_ID, "code": "000000"}))
        self.assertEqual(r["user_id"], SANDBOX_USER)
        self.assertError(self.c.post("/v1/otps/authenticate",
                                     {"method_id": SANDBOX_EMAIL_ID, "code": "123456"}),
                         404, "otp_code_not_found")
        for channel in ("sms", "whatsapp"):
            r = self.assertSuccess(self.c.post(f"/v1/otps/{channel}/send",
                                               {"phone_number": "+10000000000"}))
            self.assertSuccess(self.c.post("/v1/otps/authenticate",
                                           {"method_id": r["phone_id"], "code": "000000"}))
        time.sleep(0.5)
        self.assertEqual(self.sink.to("sandbox@stytch.com"), [])  # Nothing was sent.

    def test_sms_and_whatsapp_have_no_provider(self):
        for channel in ("sms", "whatsapp"):
            for route in ("send", "login_or_create"):
                e = self.assertError(self.c.post(f"/v1/otps/{channel}/{route}",
                                                 {"phone_number": "+15555550100"}),
                                     400, "sms_provider_not_configured")
                self.assertIn("SMS provider", e["error_message"])
        self.assertError(self.c.post("/v1/otps/sms/send", {"phone_number": "555"}), 400,
                         "invalid_phone_number")


class OtpTest(EmailCase):

    def send(self, email, route="login_or_create", **extra):
        return self.assertSuccess(self.c.post(f"/v1/otps/email/{route}", {"email": email, **extra}))

    def otp_auth(self, method_id, code, **extra):
        return self.c.post("/v1/otps/authenticate", {"method_id": method_id, "code": code, **extra})

    def test_code_from_the_email_authenticates_once(self):
        email = unique_email("otp")
        r = self.send(email)
        self.assertEqual(set(r), {"request_id", "status_code", "user_id", "email_id",
                                  "user_created"})
        msg = self.sink.wait_for(email)
        code = code_of(msg)
        self.assertIn(code, msg["Subject"])
        a = self.assertSuccess(self.otp_auth(r["email_id"], code, session_duration_minutes=60))
        self.assertEqual((a["user_id"], a["method_id"]), (r["user_id"], r["email_id"]))
        factor = a["session"]["authentication_factors"][0]
        self.assertEqual((factor["type"], factor["delivery_method"]), ("otp", "email"))
        self.assertTrue(a["user"]["emails"][0]["verified"])
        self.assertError(self.otp_auth(r["email_id"], code), 401, "unable_to_auth_otp_code")
        s = self.send(email, route="send")
        self.assertEqual(set(s), {"request_id", "status_code", "user_id", "email_id"})
        self.assertError(self.c.post("/v1/otps/email/send", {"email": unique_email()}), 404,
                         "email_not_found")

    def test_a_new_code_cancels_the_previous_one(self):
        email = unique_email("otp2")
        r = self.send(email)
        first = code_of(self.sink.wait_for(email))
        self.send(email)
        second = code_of(self.sink.wait_for(email, 2))
        if first != second:
            self.assertError(self.otp_auth(r["email_id"], first), 401, "unable_to_auth_otp_code")
        self.assertSuccess(self.otp_auth(r["email_id"], second))

    def test_bad_input(self):
        r = self.send(unique_email("otp3"))
        self.assertError(self.otp_auth(r["email_id"], "12345"), 400, "invalid_code")
        self.assertError(self.otp_auth(r["email_id"], "abcdef"), 400, "invalid_code")
        self.assertError(self.otp_auth("nope", "123456"), 400, "invalid_method_id")
        self.assertError(self.otp_auth("email-test-00000000-0000-4000-8000-000000000000",
                                       "123456"), 404, "otp_code_not_found")
        self.assertError(self.c.post("/v1/otps/email/login_or_create",
                                     {"email": unique_email(), "expiration_minutes": 11}),
                         400, "invalid_expiration_otp")
        self.assertError(self.c.post("/v1/otps/email/login_or_create",
                                     {"email": unique_email(), "expiration_minutes": 0}),
                         400, "invalid_expiration_otp")

    def test_wrong_codes_lock_the_user(self):
        email = unique_email("otp-lock")
        r = self.send(email)
        code = code_of(self.sink.wait_for(email))
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        for _ in range(3):  # The project's lock threshold.
            self.assertError(self.otp_auth(r["email_id"], wrong), 404, "otp_code_not_found")
        self.assertError(self.otp_auth(r["email_id"], code), 429, "user_lock_limit_reached")
        user = self.assertSuccess(self.c.get(f"/v1/users/{r['user_id']}"))
        self.assertTrue(user["is_locked"])


class PasswordResetTest(EmailCase):

    def reset_start(self, email, **extra):
        return self.c.post("/v1/passwords/email/reset/start", {"email": email, **extra})

    def test_reset_by_email_revokes_the_other_sessions(self):
        email = unique_email("reset")
        first = self.signup(email=email)
        second = self.login(email)
        r = self.assertSuccess(self.reset_start(email))
        self.assertEqual(set(r), {"request_id", "status_code", "user_id", "email_id"})
        msg = self.sink.wait_for(email)
        self.assertIn("password", msg["Subject"].lower())
        token = token_of(msg, "reset_password")
        self.assertTrue(link_of(msg, "reset_password").startswith(RESET_URL + "?"))
        login_token = token_of(msg, "login")  # The "log in without a password" link.
        e = self.c.post("/v1/passwords/email/reset", {"token": token, "password": "password"})
        self.assertError(e, 400, "weak_password")
        before = self.db.query(f"SELECT COUNT(*) FROM revocation_log WHERE user_id = "
                               f"'{r['user_id']}' AND kind = 'user'")
        new_password = STRONG_PASSWORD + "-Reset"
        a = self.assertSuccess(self.c.post("/v1/passwords/email/reset",
                                           {"token": token, "password": new_password,
                                            "session_duration_minutes": 60}))
        self.assertEqual(a["user_id"], r["user_id"])
        self.assertSession(a["session"], r["user_id"])
        for old in (first, second):
            self.assertError(self.c.authenticate(session_token=old["session_token"]), 404,
                             "session_not_found")
        after = self.db.query(f"SELECT COUNT(*) FROM revocation_log WHERE user_id = "
                              f"'{r['user_id']}' AND kind = 'user'")
        self.assertEqual(int(after[0][0]) - int(before[0][0]), 1)  # One entry for both sessions.
        self.assertSuccess(self.c.authenticate(session_token=a["session_token"]))
        self.login(email, password=new_password)
        self.assertError(self.c.post("/v1/passwords/email/reset",
                                     {"token": token, "password": new_password}),
                         401, "unable_to_auth_magic_link")
        self.assertSuccess(self.authenticate(login_token))
        self.assertError(self.c.post("/v1/passwords/email/reset",
                                     {"token": "x" * 44, "password": new_password}),
                         404, "magic_link_not_found")
        self.assertError(self.reset_start(unique_email()), 404, "email_not_found")
        self.assertError(self.reset_start(email, reset_password_expiration_minutes=4), 400,
                         "invalid_expiration")
        self.assertError(self.reset_start(email, reset_password_redirect_url="https://x.example/"),
                         400, "no_match_for_provided_magic_link_url")

    def test_reset_with_pkce(self):
        email = unique_email("reset-pkce")
        self.signup(email=email, minutes=None)
        verifier, challenge = pkce_pair()
        self.assertSuccess(self.reset_start(email, code_challenge=challenge))
        token = token_of(self.sink.wait_for(email), "reset_password")
        body = {"token": token, "password": STRONG_PASSWORD + "-P"}
        self.assertError(self.c.post("/v1/passwords/email/reset", body), 400,
                         "pkce_expected_code_verifier")
        self.assertSuccess(self.c.post("/v1/passwords/email/reset",
                                       {**body, "code_verifier": verifier}))

    def test_existing_password_reset(self):
        email = unique_email("existing")
        first = self.signup(email=email)
        body = {"email": email, "existing_password": "wrong-" + STRONG_PASSWORD,
                "new_password": STRONG_PASSWORD + "-New"}
        self.assertError(self.c.post("/v1/passwords/existing_password/reset", body), 401,
                         "unauthorized_credentials")
        body["existing_password"] = STRONG_PASSWORD
        self.assertError(self.c.post("/v1/passwords/existing_password/reset",
                                     {**body, "new_password": "password"}), 400, "weak_password")
        a = self.assertSuccess(self.c.post("/v1/passwords/existing_password/reset",
                                           {**body, "session_duration_minutes": 30}))
        self.assertSession(a["session"], first["user_id"])
        self.assertError(self.c.authenticate(session_token=first["session_token"]), 404,
                         "session_not_found")
        self.login(email, password=STRONG_PASSWORD + "-New")
        self.assertError(self.c.post("/v1/passwords/existing_password/reset",
                                     {**body, "email": unique_email()}), 404, "email_not_found")

    def test_session_reset_keeps_its_own_session(self):
        email = unique_email("session-reset")
        other = self.signup(email=email)
        mine = self.login(email)
        a = self.assertSuccess(self.c.post("/v1/passwords/session/reset",
                                           {"password": STRONG_PASSWORD + "-S",
                                            "session_token": mine["session_token"]}))
        self.assertEqual(a["session"]["session_id"], mine["session"]["session_id"])
        self.assertSuccess(self.c.authenticate(session_token=mine["session_token"]))
        self.assertError(self.c.authenticate(session_token=other["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.post("/v1/passwords/session/reset", {"password": "x"}), 400,
                         "no_session_arguments")
        # A session whose only factor is an embeddable link is not recent proof of anything.
        user = self.create_user()
        link = self.assertSuccess(self.c.post("/v1/magic_links", {"user_id": user["user_id"]}))
        s = self.assertSuccess(self.authenticate(link["token"], session_duration_minutes=30))
        self.assertError(self.c.post("/v1/passwords/session/reset",
                                     {"password": STRONG_PASSWORD, "session_token":
                                      s["session_token"]}),
                         400, "session_too_old_to_reset_password")


EMAIL_ROUTES = (
    "/v1/magic_links/email/login_or_create", "/v1/magic_links/email/send",
    "/v1/magic_links/email/invite", "/v1/magic_links/email/revoke_invite", "/v1/magic_links",
    "/v1/magic_links/authenticate", "/v1/otps/email/login_or_create", "/v1/otps/email/send",
    "/v1/otps/sms/send", "/v1/otps/sms/login_or_create", "/v1/otps/whatsapp/send",
    "/v1/otps/whatsapp/login_or_create", "/v1/otps/authenticate",
    "/v1/passwords/email/reset/start", "/v1/passwords/email/reset",
    "/v1/passwords/existing_password/reset", "/v1/passwords/session/reset",
)


class EmailBadInputTest(EmailCase):
    """Bad input is a 4xx on every email route, never a 5xx (odd values may also be fine: 200)."""

    def test_malformed_bodies(self):
        deep = '{"zz":' + "[" * 5000 + "]" * 5000 + "}"
        for route in EMAIL_ROUTES:
            for body in ("{", "[]", '"x"', "5", "null", '{"a":1,}', b'{"email":"\xff@x.com"}',
                         deep):
                with self.subTest(route=route, body=body[:20]):
                    self.assertError(self.c.post(route, body), 400, "bad_request")
            with self.subTest(route=route, body="{}"):
                r = self.c.post(route, {})
                self.assertEqual(r.status, 400, r)
            with self.subTest(route=route, auth=None):
                self.assertError(self.c.post(route, {}, auth=None), 401,
                                 "unauthorized_credentials")

    def test_wrong_types_and_odd_values(self):
        values = (5, True, [], {}, "", "x" * 5000, "\u0000", -1, 1e30, None)
        fields = ("email", "token", "method_id", "code", "password", "login_magic_link_url",
                  "signup_magic_link_url", "invite_magic_link_url", "reset_password_redirect_url",
                  "login_expiration_minutes", "signup_expiration_minutes", "expiration_minutes",
                  "invite_expiration_minutes", "reset_password_expiration_minutes",
                  "code_challenge", "code_verifier", "attributes", "options", "locale",
                  "session_token", "session_jwt", "session_duration_minutes", "user_id",
                  "phone_number", "name", "create_user_as_pending", "existing_password",
                  "new_password", "login_template_id")
        kc = self.server.client(self.project, keep_alive=True)
        self.addCleanup(kc.close)
        for route in EMAIL_ROUTES:
            for field in fields:
                for value in values:
                    body = {"email": unique_email(), "token": "t" * 44, "method_id": "m",
                            "code": "123456", "password": "p", "user_id": "u",
                            "phone_number": "+15555550100", field: value}
                    r = kc.request("POST", route, body=body)
                    with self.subTest(route=route, field=field, value=str(value)[:20]):
                        self.assertLess(r.status, 500, r)
                        if r.status != 200:
                            self.assertErrorBody(r)


class RedirectUrlCliTest(Case):

    def test_add_list_remove(self):
        db = self.new_database()
        project = create_project(db)
        base = ("--project", project.project_id, *db.args())
        run_cli("redirect-urls", "add", *base, "--type", "login", "--url", LOGIN_URL, "--default")
        run_cli("redirect-urls", "add", *base, "--type", "login", "--url", LOGIN_URL + "/2")
        out = json.loads(run_cli("redirect-urls", "list", *base, "--json").stdout)
        self.assertEqual([(u["type"], u["url"], u["default"]) for u in out["redirect_urls"]],
                         [("login", LOGIN_URL, True), ("login", LOGIN_URL + "/2", False)])
        run_cli("redirect-urls", "add", *base, "--type", "login", "--url", LOGIN_URL + "/2",
                "--default")
        out = json.loads(run_cli("redirect-urls", "list", *base, "--json").stdout)
        self.assertEqual([u["default"] for u in out["redirect_urls"]], [False, True])
        run_cli("redirect-urls", "remove", *base, "--type", "login", "--url", LOGIN_URL)
        bad = run_cli("redirect-urls", "remove", *base, "--type", "login", "--url", LOGIN_URL,
                      check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("no such redirect URL", bad.stderr)
        bad = run_cli("redirect-urls", "add", *base, "--type", "nope", "--url", LOGIN_URL,
                      check=False)
        self.assertNotEqual(bad.returncode, 0)
        bad = run_cli("redirect-urls", "add", *base, "--type", "login", "--url", "not a url",
                      check=False)
        self.assertNotEqual(bad.returncode, 0)
        bad = run_cli("redirect-urls", "add", *db.args(), "--project", "project-test-nope",
                      "--type", "login", "--url", LOGIN_URL, check=False)
        self.assertNotEqual(bad.returncode, 0)

    def test_no_urls_configured(self):
        db = self.new_database()
        project = create_project(db)
        server = self.start_server(db, *FAST)
        c = server.client(project)
        self.assertError(c.post("/v1/magic_links/email/login_or_create",
                                {"email": unique_email()}), 400, "no_signup_redirect_urls_set")
        self.assertError(c.post("/v1/magic_links/email/invite", {"email": unique_email()}), 400,
                         "no_invite_redirect_urls_set")
        c.post("/v1/users", {"email": "known@example.com"})
        self.assertError(c.post("/v1/magic_links/email/send", {"email": "known@example.com"}),
                         400, "no_login_redirect_urls_set")
        self.assertError(c.post("/v1/passwords/email/reset/start",
                                {"email": "known@example.com"}),
                         400, "no_reset_password_redirect_urls_set")


class DeliveryTest(Case):
    """Servers of their own: outages, expiry, rate limits, templates, the file sink."""

    def new_setup(self, *args, sink=True, flags=()):
        db = self.new_database()
        project = create_project(db, "--name", "Delivery", *flags)
        add_redirect_urls(db, project.project_id)
        s = None
        limits = () if any(a.startswith("--email-rate-limit") for a in args) else NO_LIMITS
        extra = [*FAST_DELIVERY, *limits]
        if sink:
            s = SmtpSink().start()
            self.addCleanup(s.stop)
            extra = ["--smtp-url", s.url(), *extra]
        server = self.start_server(db, *extra, *args)
        return db, project, server, s

    def test_outage_answers_200_and_every_message_arrives_later(self):
        db, project, server, sink = self.new_setup()
        c = server.client(project)
        sink.stop()
        emails = [unique_email("outage") for _ in range(5)]
        for e in emails:
            self.assertSuccess(c.post("/v1/magic_links/email/login_or_create", {"email": e}))
        deadline = time.monotonic() + 20
        while True:
            m = c.metrics()
            if (metric(m, "tessera_email_delivery_failures_total") >= 1 and
                    metric(m, "tessera_email_outbox_pending") == 5):
                break
            self.assertLess(time.monotonic(), deadline, m)
            time.sleep(0.2)
        self.assertGreater(metric(m, "tessera_email_outbox_oldest_pending_seconds"), -1)
        sink.start()
        for e in emails:
            token_of(sink.wait_for(e, timeout=30))
        deadline = time.monotonic() + 20
        while metric(c.metrics(), "tessera_email_outbox_pending") != 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        self.assertEqual(metric(c.metrics(), "tessera_emails_sent_total"), 5)
        for e in emails:
            self.assertEqual(len(sink.to(e)), 1)

    def test_messages_survive_a_restart_without_delivery(self):
        db = self.new_database()
        project = create_project(db, "--name", "Restart")
        add_redirect_urls(db, project.project_id)
        first = self.start_server(db, *FAST)  # No --smtp-url: nothing is delivered.
        email = unique_email("later")
        self.assertSuccess(first.client(project).post("/v1/magic_links/email/login_or_create",
                                                      {"email": email}))
        self.assertEqual(first.stop(), 0)
        sink = SmtpSink().start()
        self.addCleanup(sink.stop)
        second = self.start_server(db, "--smtp-url", sink.url(), *FAST)
        token = token_of(sink.wait_for(email))
        self.assertSuccess(second.client(project).post("/v1/magic_links/authenticate",
                                                       {"token": token}))

    def test_expired_tokens(self):
        db, project, server, sink = self.new_setup()
        c = server.client(project)
        email = unique_email("expire")
        self.assertSuccess(c.post("/v1/magic_links/email/login_or_create", {"email": email}))
        token = token_of(sink.wait_for(email))
        otp_email = unique_email("expire-otp")
        otp = self.assertSuccess(c.post("/v1/otps/email/login_or_create", {"email": otp_email}))
        code = code_of(sink.wait_for(otp_email))
        # Move every expiry into the past (with the server stopped: SQLite has one writer).
        if db.kind == "sqlite":
            self.assertEqual(server.stop(), 0)
        db.query(f"UPDATE one_time_tokens SET expires_at = {int(time.time()) - 1}", write=True)
        if db.kind == "sqlite":
            server = self.start_server(db, "--smtp-url", sink.url(), *FAST)
            c = server.client(project)
        self.assertError(c.post("/v1/magic_links/authenticate", {"token": token}), 401,
                         "unable_to_auth_magic_link")
        self.assertError(c.post("/v1/otps/authenticate",
                                {"method_id": otp["email_id"], "code": code}),
                         401, "unable_to_auth_otp_code")

    def test_rate_limits(self):
        db, project, server, sink = self.new_setup(
            "--email-rate-limit-per-address", "2", "--email-rate-limit-address-window-seconds",
            "3600", "--email-rate-limit-per-ip", "3", "--email-rate-limit-ip-window-seconds",
            "3600")
        c = server.client(project)
        email = unique_email("limited")
        for _ in range(2):
            self.assertSuccess(c.post("/v1/magic_links/email/login_or_create", {"email": email}))
        e = self.assertError(c.post("/v1/otps/email/login_or_create", {"email": email}), 429,
                             "too_many_requests")
        self.assertEqual(e["error_message"], "Too many requests have been made.")
        # Per client IP: the end user's address when the caller passes it.
        attrs = {"ip_address": "198.51.100.7"}
        for _ in range(3):
            self.assertSuccess(c.post("/v1/magic_links/email/login_or_create",
                                      {"email": unique_email(), "attributes": attrs}))
        self.assertError(c.post("/v1/magic_links/email/login_or_create",
                                {"email": unique_email(), "attributes": attrs}),
                         429, "too_many_requests")
        self.assertSuccess(c.post("/v1/magic_links/email/login_or_create",
                                  {"email": unique_email(),
                                   "attributes": {"ip_address": "198.51.100.8"}}))

    def test_templates_replace_the_built_in_ones(self):
        tdir = self.new_workdir()
        with open(os.path.join(tdir, "magic_link_signup.subject"), "w") as f:
            f.write("Welcome aboard {{project_name}}\n")
        with open(os.path.join(tdir, "welcome.subject"), "w") as f:
            f.write("Custom {{email}}\n")
        with open(os.path.join(tdir, "welcome.txt"), "w") as f:
            f.write("Go: {{link}} ({{expiration_minutes}} min)\n")
        db, project, server, sink = self.new_setup("--email-templates", tdir)
        c = server.client(project)
        email = unique_email("tpl")
        self.assertSuccess(c.post("/v1/magic_links/email/login_or_create", {"email": email}))
        msg = sink.wait_for(email)
        self.assertEqual(msg["Subject"], "Welcome aboard Delivery")
        self.assertIn("sign", text_of(msg).lower())  # The built-in body stays.
        email2 = unique_email("tpl2")
        self.assertSuccess(c.post("/v1/magic_links/email/login_or_create",
                                  {"email": email2, "signup_template_id": "welcome"}))
        msg = sink.wait_for(email2)
        self.assertEqual(msg["Subject"], f"Custom {email2}")
        self.assertIn("(10080 min)", text_of(msg))
        self.assertFalse(msg.is_multipart())  # No .html: a text-only message.
        self.assertSuccess(c.post("/v1/magic_links/authenticate", {"token": token_of(msg)}))

    def test_file_sink_writes_eml_files(self):
        db = self.new_database()
        project = create_project(db, "--name", "Files")
        add_redirect_urls(db, project.project_id)
        outdir = os.path.join(self.new_workdir(), "mail")
        server = self.start_server(db, "--smtp-url", "file:" + outdir, *FAST)
        c = server.client(project)
        address = unique_email("file")
        self.assertSuccess(c.post("/v1/magic_links/email/login_or_create", {"email": address}))
        deadline = time.monotonic() + 20
        while not [f for f in os.listdir(outdir) if f.endswith(".eml")]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        name = [f for f in os.listdir(outdir) if f.endswith(".eml")][0]
        path = os.path.join(outdir, name)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, "rb") as f:
            raw = f.read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg["To"], address)
        # The link is readable as it is in the file (a person can follow it from the demo).
        self.assertIn(b"stytch_token_type=magic_links&token=", raw)
        self.assertSuccess(c.post("/v1/magic_links/authenticate", {"token": token_of(msg)}))

    def test_bad_configuration_is_refused_at_start(self):
        db = self.new_database()
        for args in (("--smtp-url", "http://example.com"), ("--email-from", "not an address"),
                     ("--smtp-retry-base-seconds", "0"),
                     ("--email-templates", "/nonexistent-dir")):
            server = Server(db, *args)
            self.addCleanup(server.cleanup)
            with self.assertRaises(AssertionError):
                server.start()


@unittest.skipUnless(database_kind() == "postgresql", "several nodes share PostgreSQL only")
class TwoNodesTest(Case):

    def test_two_nodes_never_send_a_message_twice(self):
        db = self.new_database()
        project = create_project(db, "--name", "Nodes")
        add_redirect_urls(db, project.project_id)
        sink = SmtpSink().start()
        self.addCleanup(sink.stop)
        sink.stop()  # Messages pile up first, so both nodes find the same due rows.
        a = self.start_server(db, "--smtp-url", sink.url(), *FAST)
        b = self.start_server(db, "--smtp-url", sink.url(), *FAST)
        emails = [unique_email("node") for _ in range(30)]
        for i, e in enumerate(emails):
            node = a if i % 2 == 0 else b
            self.assertSuccess(node.client(project).post("/v1/magic_links/email/login_or_create",
                                                         {"email": e}))
        sink.start()
        tokens = [token_of(sink.wait_for(e, timeout=30)) for e in emails]
        time.sleep(2)  # Anything sent twice would arrive by now.
        for e in emails:
            self.assertEqual(len(sink.to(e)), 1, e)
        ids = [m["Message-ID"] for _, m in sink.messages]
        self.assertEqual(len(ids), len(set(ids)))
        sent = sum(metric(n.client().metrics(), "tessera_emails_sent_total") for n in (a, b))
        self.assertEqual(sent, 30)
        # A token works once across the two nodes.
        results = [a.client(project).post("/v1/magic_links/authenticate", {"token": tokens[0]}),
                   b.client(project).post("/v1/magic_links/authenticate", {"token": tokens[0]})]
        self.assertEqual(sorted(r.status for r in results), [200, 401])


if __name__ == "__main__":
    unittest.main()
