"""API credentials (HTTP Basic project_id:secret) and isolation between projects."""

import base64
import unittest

from harness import ServerCase, basic_auth, create_project, unique_email, STRONG_PASSWORD


def b64(s):
    return base64.b64encode(s.encode()).decode()


class CredentialsTest(ServerCase):
    def authenticated_requests(self):
        """One request per authenticated route."""
        return (("POST", "/v1/sessions/authenticate", {"session_token": "A" * 44}),
                ("GET", "/v1/sessions?user_id=x", None),
                ("POST", "/v1/sessions/revoke", {"session_id": "x"}),
                ("POST", "/v1/users", {"email": unique_email()}),
                ("GET", "/v1/users/x", None),
                ("PUT", "/v1/users/x", {}),
                ("DELETE", "/v1/users/x", None),
                ("POST", "/v1/users/search", {}),
                ("POST", "/v1/passwords", {"email": unique_email(), "password": STRONG_PASSWORD}),
                ("POST", "/v1/passwords/authenticate", {"email": "a@b.co", "password": "x"}),
                ("POST", "/v1/passwords/strength_check", {"password": "x"}),
                ("GET", "/v1/rbac/policy", None))

    def test_missing_authorization(self):
        for method, path, body in self.authenticated_requests():
            with self.subTest(method=method, path=path):
                self.assertError(self.c.request(method, path, body=body, auth=None), 401,
                                 "unauthorized_credentials")

    def test_malformed_authorization(self):
        pid, secret = self.project.project_id, self.project.secret
        for header in (f"Bearer {b64(pid + ':' + secret)}",
                       "Basic",
                       "Basic ",
                       "Basic !!!not-base64!!!",
                       "Basic " + b64(pid + secret),          # No colon.
                       "Basic " + b64(":" + secret),          # Empty project id.
                       b64(pid + ":" + secret),               # No scheme.
                       "Basic " + "A" * 2000):                # Absurdly long.
            with self.subTest(header=header[:40]):
                self.assertError(self.c.post("/v1/users/search", {}, auth=header), 400,
                                 "invalid_authorization_header")

    def test_wrong_credentials(self):
        pid, secret = self.project.project_id, self.project.secret
        for user, password in ((pid, secret + "x"), (pid, ""), (pid, secret[:-1]),
                               ("project-test-00000000-0000-0000-0000-000000000000", secret),
                               ("someone", "else")):
            with self.subTest(user=user):
                self.assertError(self.c.post("/v1/users/search", {},
                                             auth=basic_auth(user, password)),
                                 401, "unauthorized_credentials")

    def test_scheme_is_case_insensitive(self):
        raw = b64(f"{self.project.project_id}:{self.project.secret}")
        for scheme in ("Basic", "basic", "BASIC"):
            with self.subTest(scheme=scheme):
                self.assertSuccess(self.c.post("/v1/users/search", {},
                                               auth=f"{scheme} {raw}"))

    def test_unknown_and_wrong_secret_look_alike(self):
        a = self.c.post("/v1/users/search", {}, auth=basic_auth(self.project.project_id, "nope"))
        b = self.c.post("/v1/users/search", {},
                        auth=basic_auth("project-test-11111111-1111-1111-1111-111111111111",
                                        "nope"))
        self.assertEqual((a.status, a.json["error_message"]), (b.status, b.json["error_message"]))


class IsolationTest(ServerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = create_project(cls.db)

    def test_projects_cannot_see_each_other(self):
        a = self.c
        b = self.server.client(self.other)
        sb = self.signup(client=b)
        uid = sb["user_id"]
        email = sb["user"]["emails"][0]["email"]
        # B's session with A's credentials.
        self.assertError(a.authenticate(session_token=sb["session_token"]), 404,
                         "session_not_found")
        self.assertError(a.authenticate(session_jwt=sb["session_jwt"]), 401,
                         "unable_to_parse_session_jwt")
        self.assertError(a.revoke(session_token=sb["session_token"]), 404, "session_not_found")
        self.assertError(a.revoke(session_id=sb["session"]["session_id"]), 404,
                         "session_not_found")
        # B's user with A's credentials.
        self.assertError(a.get(f"/v1/users/{uid}"), 404, "user_not_found")
        self.assertError(a.put(f"/v1/users/{uid}", {"name": {"first_name": "x"}}), 404,
                         "user_not_found")
        self.assertError(a.delete(f"/v1/users/{uid}"), 404, "user_not_found")
        self.assertError(a.get(f"/v1/sessions?user_id={uid}"), 404, "user_not_found")
        self.assertError(a.post("/v1/passwords/authenticate",
                                {"email": email, "password": STRONG_PASSWORD}),
                         404, "email_not_found")
        body = self.assertSuccess(a.post("/v1/users/search", {"query": {
            "operator": "AND", "operands": [{"filter_name": "user_id", "filter_value": [uid]}]}}))
        self.assertEqual(body["results"], [])
        # The same email may exist in both projects.
        self.signup(client=a, email=email)
        # Nothing above touched B's data.
        self.assertSuccess(b.authenticate(session_token=sb["session_token"]))
        got = self.assertSuccess(b.get(f"/v1/users/{uid}"))
        self.assertEqual(got["name"]["first_name"], "")
        self.assertEqual(len(self.assertSuccess(
            b.get(f"/v1/sessions?user_id={uid}"))["sessions"]), 1)

    def test_secret_of_one_project_does_not_open_another(self):
        self.assertError(self.c.post("/v1/users/search", {},
                                     auth=basic_auth(self.other.project_id,
                                                     self.project.secret)),
                         401, "unauthorized_credentials")


if __name__ == "__main__":
    unittest.main()
