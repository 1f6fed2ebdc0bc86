"""The access log: one JSON object per request, never a secret."""

import json
import os
import unittest

from harness import Case, basic_auth, create_project, unique_email

# Unusual enough that a match can only be a leak.
PASSWORD = "Zebra-Quasar-Marmalade-4711-Outrigger"
ENTRY_KEYS = {"ts", "request_id", "method", "route", "status", "duration_ms", "bytes_in",
              "bytes_out", "remote"}


class AccessLogTest(Case):
    def test_lines_and_secrets(self):
        db = self.new_database()
        project = create_project(db)
        log_path = os.path.join(self.new_workdir(), "access.log")
        server = self.start_server(db, access_log=log_path)
        c = server.client(project)
        email = unique_email()
        responses = []

        def call(method, path, body=None, **kw):
            r = c.request(method, path, body=body, **kw)
            responses.append(r)
            return r

        s = call("POST", "/v1/passwords", {"email": email, "password": PASSWORD,
                                           "session_duration_minutes": 60}).json
        self.assertEqual(responses[-1].status, 200, responses[-1])
        token, jwt_text = s["session_token"], s["session_jwt"]
        refreshed = call("POST", "/v1/sessions/authenticate", {"session_jwt": jwt_text}).json
        call("POST", "/v1/sessions/authenticate", {"session_token": token})
        call("POST", "/v1/passwords/authenticate", {"email": email, "password": PASSWORD,
                                                    "session_token": token})
        call("POST", "/v1/passwords/authenticate", {"email": email, "password": PASSWORD + "x"})
        call("POST", "/v1/passwords/strength_check", {"password": PASSWORD})
        call("GET", f"/v1/sessions?user_id={s['user_id']}")
        call("POST", "/v1/users/search", {}, auth=basic_auth(project.project_id, "wrong"))
        call("POST", "/v1/users/search", {}, auth=None)
        call("GET", "/healthz", auth=None)
        call("GET", "/nope", auth=None)
        call("POST", "/v1/sessions/authenticate", "{bad json")
        call("POST", "/v1/sessions/revoke", {"session_token": token})
        self.assertEqual(server.stop(), 0, server.stderr_text())  # Flushes the log.

        with open(log_path, "rb") as f:
            raw = f.read()
        lines = raw.decode("utf-8").splitlines()
        self.assertEqual(len(lines), len(responses), raw.decode())
        entries = [json.loads(line) for line in lines]
        for e in entries:
            self.assertIsInstance(e, dict)
            self.assertLessEqual(ENTRY_KEYS, set(e), e)
        # Lines are written just after each response is sent, so two requests in a row on
        # different connections may be logged in either order: match them by request id.
        by_id = {e["request_id"]: e for e in entries}
        self.assertEqual(set(by_id), {r.json["request_id"] for r in responses})
        for r in responses:
            e = by_id[r.json["request_id"]]
            self.assertEqual(e["status"], r.status, e)
            if r.status >= 400:
                self.assertEqual(e["error_type"], r.json["error_type"])
            else:
                self.assertNotIn("error_type", e)
            self.assertEqual(e["remote"], "127.0.0.1")
            self.assertIsInstance(e["duration_ms"], (int, float))
        first = by_id[responses[0].json["request_id"]]
        self.assertEqual((first["method"], first["route"]), ("POST", "POST /v1/passwords"))
        self.assertGreater(first["bytes_in"], 0)
        self.assertEqual(first["bytes_out"], len(responses[0].raw))
        self.assertEqual(by_id[responses[-3].json["request_id"]]["route"], "unmatched")
        # Secrets appear nowhere, in any form we can think of.
        for name, secret in (("session token", token), ("session JWT", jwt_text),
                             ("refreshed JWT", refreshed["session_jwt"]),
                             ("JWT signature", jwt_text.rsplit(".", 1)[1]),
                             ("project secret", project.secret),
                             ("authorization header", project.auth().split(" ")[1]),
                             ("password", PASSWORD), ("email", email)):
            with self.subTest(secret=name):
                self.assertNotIn(secret.encode(), raw)
        # Nor on stderr.
        for name, secret in (("token", token), ("secret", project.secret),
                             ("password", PASSWORD)):
            self.assertNotIn(secret, server.stderr_text(), name)

    def test_access_log_off_and_stdout(self):
        db = self.new_database()
        project = create_project(db)
        server = self.start_server(db, access_log="off")
        self.assertSuccess(server.client(project).get("/healthz", auth=None))
        self.assertEqual(server.stop(), 0)
        # "stdout" is accepted (the harness discards stdout).
        server = self.start_server(db, access_log="stdout")
        self.assertSuccess(server.client(project).get("/healthz", auth=None))
        self.assertEqual(server.stop(), 0)

    def test_unwritable_access_log_fails_at_start(self):
        db = self.new_database()
        create_project(db)
        from harness import Server
        server = Server(db, access_log="/nonexistent-dir/sub/access.log")
        self.addCleanup(server.cleanup)
        with self.assertRaises(AssertionError):
            server.start()
        self.assertNotEqual(server.proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
