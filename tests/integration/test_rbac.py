"""Roles and permissions (spec §5): GET /v1/rbac/policy, `tessera rbac set/get`, and
`authorization_check` on POST /v1/sessions/authenticate, enforced exactly."""

import json
import os
import tempfile
import time
import unittest

from harness import ServerCase, create_project, jwt_parts, run_cli, STRONG_PASSWORD

DENIED_MESSAGE = "The User is not authorized to perform the requested action on that resource."

# The example policy of docs/rbac.md.
POLICY = {
    "resources": [
        {"resource_id": "documents", "description": "Team documents",
         "actions": ["create", "read", "write", "delete"]},
        {"resource_id": "images", "actions": ["create", "read", "delete"]},
        {"resource_id": "announcements", "description": "", "actions": ["read"]},
    ],
    "roles": [
        {"role_id": "editor", "description": "Writes documents",
         "permissions": [{"resource_id": "documents", "actions": ["read", "write"]},
                         {"resource_id": "images", "actions": ["create", "read", "delete"]}]},
        {"role_id": "reader",
         "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
        {"role_id": "admin", "description": "Everything on documents",
         "permissions": [{"resource_id": "documents", "actions": ["*"]}]},
        {"role_id": "stytch_user", "description": "Every user",
         "permissions": [{"resource_id": "announcements", "actions": ["read"]}]},
    ],
    "scopes": [
        {"scope": "read:documents", "description": "Reads documents",
         "permissions": [{"resource_id": "documents", "actions": ["read"]}]},
    ],
}


def write_policy(workdir, policy):
    fd, path = tempfile.mkstemp(dir=workdir, suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(policy if isinstance(policy, str) else json.dumps(policy))
    return path


def rbac_set(db, workdir, project_id, policy, *flags, check=True):
    return run_cli("rbac", "set", *db.args(), "--project", project_id,
                   "--file", write_policy(workdir, policy), "--json", *flags, check=check)


def rbac_get(db, project_id):
    return json.loads(run_cli("rbac", "get", *db.args(), "--project", project_id).stdout)


def wait_until(predicate, timeout=10.0, what="condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.1)


class PolicyTest(ServerCase):
    def test_default_policy_is_complete(self):
        other = create_project(self.db)
        body = self.assertSuccess(self.server.client(other).get("/v1/rbac/policy"))
        self.assertEqual(set(body), {"request_id", "status_code", "policy"})
        self.assertEqual(body["policy"]["resources"], [])
        self.assertEqual(body["policy"]["scopes"], [])
        self.assertEqual([r["role_id"] for r in body["policy"]["roles"]], ["stytch_user"])
        role = body["policy"]["roles"][0]
        self.assertEqual(set(role), {"role_id", "description", "permissions"})
        self.assertIsInstance(role["description"], str)
        self.assertEqual(role["permissions"], [])

    def test_set_is_served_and_versioned(self):
        project = create_project(self.db)
        c = self.server.client(project)
        self.assertEqual(rbac_get(self.db, project.project_id)["version"], 0)
        out = json.loads(rbac_set(self.db, self.workdir, project.project_id, POLICY).stdout)
        self.assertEqual(out["version"], 1)
        self.assertEqual(out["project_id"], project.project_id)
        # The running server serves it within its poll interval.
        policy = wait_until(
            lambda: (lambda p: p if len(p["roles"]) > 1 else None)(
                self.assertSuccess(c.get("/v1/rbac/policy"))["policy"]),
            what="the new policy served")
        # stytch_user first, then the others in the file's order; every member present.
        self.assertEqual([r["role_id"] for r in policy["roles"]],
                         ["stytch_user", "editor", "reader", "admin"])
        self.assertEqual(policy["roles"][2],
                         {"role_id": "reader", "description": "",
                          "permissions": [{"resource_id": "documents", "actions": ["read"]}]})
        self.assertEqual(policy["resources"][1],
                         {"resource_id": "images", "description": "",
                          "actions": ["create", "read", "delete"]})
        self.assertEqual(policy["scopes"], POLICY["scopes"])
        # `rbac get` prints the same policy, and reads back as input.
        got = rbac_get(self.db, project.project_id)
        self.assertEqual(got["version"], 1)
        self.assertEqual(got["policy"], policy)
        again = json.loads(rbac_set(self.db, self.workdir, project.project_id,
                                    json.dumps(got)).stdout)
        self.assertEqual(again["version"], 2)
        self.assertEqual(again["policy"], policy)

    def test_set_refuses_invalid_policies_and_changes_nothing(self):
        project = create_project(self.db)
        rbac_set(self.db, self.workdir, project.project_id, POLICY)
        bad = [
            ({"roles": [{"role_id": "a", "permissions": [
                {"resource_id": "nowhere", "actions": ["read"]}]}]}, "not defined"),
            ({"resources": [{"resource_id": "d", "actions": ["r"]}],
              "roles": [{"role_id": "a", "permissions": [
                  {"resource_id": "d", "actions": ["w"]}]}]}, "not an action"),
            ({"resources": [{"resource_id": "stytch_things", "actions": ["r"]}]}, "reserved"),
            ({"roles": [{"role_id": "a"}, {"role_id": "a"}]}, "defined twice"),
            ("{not json", "not JSON"),
        ]
        for policy, message in bad:
            with self.subTest(policy=policy):
                proc = rbac_set(self.db, self.workdir, project.project_id, policy, check=False)
                self.assertNotEqual(proc.returncode, 0)
                self.assertIn(message, proc.stderr)
        self.assertEqual(rbac_get(self.db, project.project_id)["version"], 1)

    def test_expect_version_refuses_a_stale_write(self):
        project = create_project(self.db)
        rbac_set(self.db, self.workdir, project.project_id, POLICY, "--expect-version", "0")
        proc = rbac_set(self.db, self.workdir, project.project_id, {}, "--expect-version", "0",
                        check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("version 1", proc.stderr)
        ok = json.loads(rbac_set(self.db, self.workdir, project.project_id, {},
                                 "--expect-version", "1").stdout)
        self.assertEqual(ok["version"], 2)

    def test_master_key_file_is_accepted_and_ignored(self):
        # The policy is not sealed: rbac never reads the key file, so one that does not exist
        # changes nothing, and the help says so. Scripts can pass every command the same flags.
        project = create_project(self.db)
        db = self.db.with_master_key_file(os.path.join(self.workdir, "no", "such", "key"))
        body = json.loads(rbac_set(db, self.workdir, project.project_id, POLICY).stdout)
        self.assertEqual(body["version"], 1)
        self.assertEqual(rbac_get(db, project.project_id)["version"], 1)
        for sub in ("set", "get"):
            self.assertIn("Accepted and ignored", run_cli("rbac", sub, "--help").stdout)
        self.assertNotIn("Accepted and ignored", run_cli("projects", "list", "--help").stdout)

    def test_unknown_project(self):
        proc = run_cli("rbac", "get", *self.db.args(), "--project", "project-test-nope",
                       check=False)
        self.assertNotEqual(proc.returncode, 0)
        proc = rbac_set(self.db, self.workdir, "project-test-nope", POLICY, check=False)
        self.assertNotEqual(proc.returncode, 0)


class AuthorizationCheckTest(ServerCase):
    SERVER_ARGS = ("--jwt-reuse-seconds", "0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rbac_set(cls.db, cls.workdir, cls.project.project_id, POLICY)

    def setUp(self):
        super().setUp()
        # The class's policy is in force (the server polls for it).
        wait_until(lambda: len(self.assertSuccess(
            self.c.get("/v1/rbac/policy"))["policy"]["roles"]) == 4, what="policy loaded")

    def check(self, resource_id, action, **session):
        return self.c.authenticate(**session,
                                   authorization_check={"resource_id": resource_id,
                                                        "action": action})

    def assertGranted(self, r, roles):
        body = self.assertSuccess(r)
        self.assertEqual(body["verdict"], {"authorized": True, "granting_roles": roles})
        return body

    def assertDenied(self, r):
        body = self.assertError(r, 403, "consumer_session_authorization_error")
        self.assertEqual(body["error_message"], DENIED_MESSAGE)

    def test_granted_by_token_and_by_jwt(self):
        s = self.signup(roles=["editor"])
        for session in ({"session_token": s["session_token"]}, {"session_jwt": s["session_jwt"]}):
            with self.subTest(**session):
                body = self.assertGranted(self.check("documents", "write", **session), ["editor"])
                self.assertEqual(body["session"]["session_id"], s["session"]["session_id"])
                self.assertEqual(body["session"]["roles"], ["stytch_user", "editor"])
                self.assertEqual(body["user"]["user_id"], s["user_id"])
                self.assertTrue(body["session_jwt"])

    def test_denied_by_token_and_by_jwt(self):
        s = self.signup(roles=["reader"])
        for session in ({"session_token": s["session_token"]}, {"session_jwt": s["session_jwt"]}):
            with self.subTest(**session):
                self.assertDenied(self.check("documents", "write", **session))
                self.assertDenied(self.check("images", "read", **session))
                self.assertDenied(self.check("videos", "read", **session))
                self.assertDenied(self.check("Documents", "read", **session))
                self.assertGranted(self.check("documents", "read", **session), ["reader"])

    def test_wildcard_and_additive_roles(self):
        s = self.signup(roles=["reader", "admin", "editor"])
        token = {"session_token": s["session_token"]}
        # Policy order, not the user's order.
        self.assertGranted(self.check("documents", "read", **token), ["editor", "reader", "admin"])
        self.assertGranted(self.check("documents", "delete", **token), ["admin"])
        self.assertGranted(self.check("documents", "archive", **token), ["admin"])
        self.assertGranted(self.check("images", "create", **token), ["editor"])
        self.assertDenied(self.check("images", "write", **token))

    def test_implicit_stytch_user(self):
        s = self.signup()
        token = {"session_token": s["session_token"]}
        self.assertGranted(self.check("announcements", "read", **token), ["stytch_user"])
        self.assertDenied(self.check("documents", "read", **token))

    def test_unknown_roles_grant_nothing(self):
        s = self.signup(roles=["superuser"])
        self.assertDenied(self.check("documents", "read", session_token=s["session_token"]))

    def test_no_check_no_verdict(self):
        s = self.signup(roles=["editor"])
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertNotIn("verdict", body)

    def test_session_is_authenticated_first(self):
        self.assertError(self.check("documents", "read", session_token="A" * 44), 404,
                         "session_not_found")
        self.assertError(self.check("documents", "read", session_jwt="x.y.z"), 401,
                         "unable_to_parse_session_jwt")

    def test_malformed_checks(self):
        s = self.signup(roles=["editor"])
        for check in ({}, {"resource_id": "documents"}, {"action": "read"},
                      {"resource_id": "documents", "action": ""},
                      {"resource_id": 5, "action": "read"}, "documents", ["documents", "read"]):
            with self.subTest(check=check):
                self.assertError(self.c.authenticate(session_token=s["session_token"],
                                                     authorization_check=check),
                                 400, "bad_request")
        # null is absent.
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"],
                                                      authorization_check=None))
        self.assertNotIn("verdict", body)

    def test_denial_changes_nothing(self):
        s = self.signup(roles=["reader"])
        before = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        time.sleep(1.1)
        self.assertDenied(self.c.authenticate(
            session_token=s["session_token"], session_duration_minutes=600,
            session_custom_claims={"tier": "gold"},
            authorization_check={"resource_id": "documents", "action": "write"}))
        after = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(after["session"]["expires_at"], before["session"]["expires_at"])
        self.assertEqual(after["session"]["custom_claims"], {})
        # Granted with options: extended and merged as without a check.
        granted = self.assertGranted(self.c.authenticate(
            session_token=s["session_token"], session_duration_minutes=600,
            session_custom_claims={"tier": "gold"},
            authorization_check={"resource_id": "documents", "action": "read"}), ["reader"])
        self.assertNotEqual(granted["session"]["expires_at"], before["session"]["expires_at"])
        self.assertEqual(granted["session"]["custom_claims"], {"tier": "gold"})

    def test_role_change_takes_effect_on_next_authenticate(self):
        s = self.signup(roles=["reader"])
        jwt = s["session_jwt"]
        self.assertDenied(self.check("documents", "write", session_jwt=jwt))
        self.assertSuccess(self.c.put(f"/v1/users/{s['user_id']}", {"roles": ["editor"]}))
        # The old JWT still says "reader"; the server checks the user's current roles.
        body = self.assertGranted(self.check("documents", "write", session_jwt=jwt), ["editor"])
        self.assertEqual(body["session"]["roles"], ["stytch_user", "editor"])
        _, claims = jwt_parts(body["session_jwt"])
        self.assertEqual(claims["https://stytch.com/session"]["roles"], ["stytch_user", "editor"])
        self.assertSuccess(self.c.put(f"/v1/users/{s['user_id']}", {"roles": []}))
        self.assertDenied(self.check("documents", "write", session_token=s["session_token"]))
        self.assertDenied(self.check("documents", "read", session_token=s["session_token"]))

    def test_users_create_roles(self):
        u = self.create_user(roles=["admin"])
        self.assertEqual(u["user"]["roles"], ["stytch_user", "admin"])


class PolicyChangeTest(ServerCase):
    """A running server enforces a new policy within seconds, without a restart."""

    def test_policy_change_is_enforced_within_seconds(self):
        project = create_project(self.db)
        c = self.server.client(project)
        rbac_set(self.db, self.workdir, project.project_id, POLICY)
        s = self.assertSuccess(c.post("/v1/passwords", {
            "email": f"change-{time.time_ns()}@example.com", "password": STRONG_PASSWORD,
            "session_duration_minutes": 60, "roles": ["editor"]}))
        check = {"resource_id": "documents", "action": "write"}

        def status():
            return c.authenticate(session_token=s["session_token"],
                                  authorization_check=check).status

        wait_until(lambda: status() == 200, what="editor may write")
        # Editors lose write on documents.
        changed = json.loads(json.dumps(POLICY))
        changed["roles"][0]["permissions"][0]["actions"] = ["read"]
        started = time.monotonic()
        rbac_set(self.db, self.workdir, project.project_id, changed)
        wait_until(lambda: status() == 403, timeout=5.0, what="the new policy enforced")
        self.assertLess(time.monotonic() - started, 5.0)
        policy = self.assertSuccess(c.get("/v1/rbac/policy"))["policy"]
        self.assertEqual(policy["roles"][1]["permissions"][0]["actions"], ["read"])


if __name__ == "__main__":
    unittest.main()
