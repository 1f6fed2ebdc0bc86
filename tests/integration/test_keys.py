"""Signing keys: rotation through the CLI while the server runs, retiring a next key, and the
non-RS256 algorithms."""

import json
import time
import unittest

from harness import (Case, create_project, jwt_parts, rotate_keys, run_cli, unique_email,
                     verify_jwt, STRONG_PASSWORD)


class KeyRotationTest(Case):
    def poll(self, what, fn, timeout):
        deadline = time.monotonic() + timeout
        while True:
            value = fn()
            if value:
                return value
            self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
            time.sleep(0.05)

    def jwks(self, c, pid):
        return self.assertSuccess(c.get(f"/v1/sessions/jwks/{pid}", auth=None))["keys"]

    def signup(self, c):
        return self.assertSuccess(c.post("/v1/passwords", {
            "email": unique_email(), "password": STRONG_PASSWORD,
            "session_duration_minutes": 60}))

    def test_rotate_while_serving(self):
        db = self.new_database()
        project = create_project(db)
        pid = project.project_id
        server = self.start_server(db, "--jwt-reuse-seconds", "5")
        c = server.client(project)
        before = self.jwks(c, pid)
        listed = run_cli("keys", "list", *db.args(), "--project", pid, "--json").stdout
        states = {k["kid"]: k["state"] for k in json.loads(listed)["keys"]}
        self.assertEqual(sorted(states.values()), ["active", "next"])
        old_kid = next(k for k, st in states.items() if st == "active")
        next_kid = next(k for k, st in states.items() if st == "next")
        self.assertEqual({k["kid"] for k in before}, {old_kid, next_kid})
        s = self.signup(c)
        self.assertEqual(jwt_parts(s["session_jwt"])[0]["kid"], old_kid)

        rotated = rotate_keys(db, pid)
        self.assertEqual(rotated["active_kid"], next_kid)
        new_next = {k["kid"] for k in rotated["keys"] if k["state"] == "next"}
        self.assertEqual(len(new_next), 1)
        (new_next_kid,) = new_next

        # The server polls the store every second: the JWKS gains the fresh next key.
        after = self.poll("the new next key in the JWKS",
                          lambda: (lambda ks: ks if new_next_kid in {k["kid"] for k in ks}
                                   else None)(self.jwks(c, pid)), 5.0)
        # The retired key stays published: its JWTs are still out there.
        self.assertEqual({k["kid"] for k in after}, {old_kid, next_kid, new_next_kid})

        # New JWTs are signed by the newly active key (a reused JWT of the old key is not
        # returned once the key changed).
        fresh = self.poll(
            "a JWT signed by the new active key",
            lambda: (lambda b: b if jwt_parts(b["session_jwt"])[0]["kid"] == next_kid else None)(
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))), 5.0)
        self.assertEqual(verify_jwt(fresh["session_jwt"], after, pid)["sub"], s["user_id"])
        s2 = self.signup(c)
        self.assertEqual(jwt_parts(s2["session_jwt"])[0]["kid"], next_kid)
        # The old JWT still authenticates and still verifies against the published keys.
        body = self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
        self.assertEqual(body["session"]["session_id"], s["session"]["session_id"])
        self.assertEqual(verify_jwt(s["session_jwt"], after, pid)["sub"], s["user_id"])

        # Withdrawing the (never used) next key removes it from the JWKS.
        run_cli("keys", "retire", *db.args(), "--project", pid, "--kid", new_next_kid)
        self.poll("the retired next key to leave the JWKS",
                  lambda: new_next_kid not in {k["kid"] for k in self.jwks(c, pid)}, 5.0)
        # The active key cannot be retired.
        r = run_cli("keys", "retire", *db.args(), "--project", pid, "--kid", next_kid,
                    check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertSuccess(c.authenticate(session_token=s2["session_token"]))

    def test_rotate_unknown_project_fails(self):
        db = self.new_database()
        create_project(db)
        r = run_cli("keys", "rotate", *db.args(), "--project",
                    "project-test-00000000-0000-0000-0000-000000000000", check=False)
        self.assertNotEqual(r.returncode, 0)


class AlgorithmsTest(Case):
    def test_es256_and_eddsa_projects(self):
        db = self.new_database()
        projects = {alg: create_project(db, "--jwt-algorithm", alg) for alg in ("ES256", "EdDSA")}
        server = self.start_server(db)
        for alg, project in projects.items():
            with self.subTest(alg=alg):
                c = server.client(project)
                keys = self.assertSuccess(
                    c.get(f"/v1/sessions/jwks/{project.project_id}", auth=None))["keys"]
                self.assertEqual(len(keys), 2)
                for k in keys:
                    self.assertEqual(k["alg"], alg)
                    self.assertEqual(k["use"], "sig")
                    self.assertEqual(k["key_ops"], ["verify"])
                    if alg == "ES256":
                        self.assertEqual((k["kty"], k["crv"]), ("EC", "P-256"))
                        self.assertIn("x", k)
                        self.assertIn("y", k)
                    else:
                        self.assertEqual((k["kty"], k["crv"]), ("OKP", "Ed25519"))
                        self.assertIn("x", k)
                s = self.assertSuccess(c.post("/v1/passwords", {
                    "email": unique_email(), "password": STRONG_PASSWORD,
                    "session_duration_minutes": 60}))
                header, _ = jwt_parts(s["session_jwt"])
                self.assertEqual((header["alg"], header["typ"]), (alg, "JWT"))
                claims = verify_jwt(s["session_jwt"], keys, project.project_id)
                self.assertEqual(claims["sub"], s["user_id"])
                body = self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
                self.assertEqual(body["session_token"], s["session_token"])


if __name__ == "__main__":
    unittest.main()
