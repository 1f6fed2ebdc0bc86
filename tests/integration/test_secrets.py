"""Project secrets: replacing a secret without downtime. A second secret is created with the CLI
while the server runs, both work, the first is deleted and is refused from then on, all without a
restart; a project never holds a third secret nor loses its last one."""

import hashlib
import json
import time
import unittest

from harness import Case, Project, create_project, run_cli, unique_email

# A secret created or deleted by the CLI counts on a running server within the config poll (every
# second; on PostgreSQL a NOTIFY arrives sooner): 2 s leaves the poll a second of slack.
SECRET_DEADLINE = 2.0


class SecretRotationTest(Case):
    def secrets(self, db, *args, check=True):
        return run_cli("secrets", *args, *db.args(), check=check)

    def listed(self, db, pid):
        out = self.secrets(db, "list", "--project", pid, "--json").stdout
        return json.loads(out)

    def search(self, client):
        """One authenticated call; its response."""
        return client.post("/v1/users/search", {})

    def wait_for(self, what, fn, deadline):
        """Polls `fn` until it returns a true value; fails after `deadline` seconds."""
        start = time.monotonic()
        while True:
            value = fn()
            if value:
                return value, time.monotonic() - start
            self.assertLess(time.monotonic() - start, deadline,
                            f"timed out ({deadline} s) waiting for {what}")
            time.sleep(0.05)

    def test_replace_a_secret_while_serving(self):
        db = self.new_database()
        project = create_project(db)
        pid = project.project_id
        server = self.start_server(db)
        first = server.client(project)
        self.assertSuccess(self.search(first))
        (only,) = self.listed(db, pid)["secrets"]
        first_id = only["secret_id"]
        self.assertRegex(first_id, r"^secret-id-test-[0-9a-f-]{36}$")

        # A second secret: printed once; both work.
        created = json.loads(self.secrets(db, "create", "--project", pid, "--json").stdout)
        self.assertEqual(created["project_id"], pid)
        self.assertRegex(created["secret"], r"^secret-test-[A-Za-z0-9_-]{48}$")
        self.assertRegex(created["secret_id"], r"^secret-id-test-[0-9a-f-]{36}$")
        self.assertNotEqual(created["secret"], project.secret)
        second = server.client(Project(pid, created["secret"]))
        self.wait_for("the new secret to be accepted",
                      lambda: self.search(second).status == 200, SECRET_DEADLINE)
        self.assertSuccess(self.search(second))
        self.assertSuccess(self.search(first))
        # Both open the same project: a user made with one is seen with the other.
        email = unique_email()
        user = self.assertSuccess(second.post("/v1/users", {"email": email}))
        self.assertSuccess(first.get(f"/v1/users/{user['user_id']}"))

        # The list names both by id and time, and never shows a secret or its digest.
        listing = self.secrets(db, "list", "--project", pid).stdout
        as_json = self.listed(db, pid)
        # By creation time (to the second; ties in id order).
        self.assertEqual(sorted(s["secret_id"] for s in as_json["secrets"]),
                         sorted([first_id, created["secret_id"]]))
        for s in as_json["secrets"]:
            self.assertEqual(set(s), {"secret_id", "created_at"})
            self.assertRegex(s["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        for secret in (project.secret, created["secret"]):
            digest = hashlib.sha256(secret.encode()).hexdigest()
            for text in (listing, json.dumps(as_json)):
                self.assertNotIn(secret, text)
                self.assertNotIn(digest, text.lower())
                self.assertNotIn(secret[len("secret-test-"):], text)

        # No third secret.
        r = self.secrets(db, "create", "--project", pid, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("delete one first", r.stderr)
        self.assertNotIn("secret-test-", r.stdout)
        self.assertEqual(len(self.listed(db, pid)["secrets"]), 2)

        # Delete the first: refused within the poll, without a restart; the second still works.
        deleted = self.secrets(db, "delete", "--project", pid, "--secret-id", first_id)
        self.assertIn(first_id, deleted.stdout)
        refused, elapsed = self.wait_for("the deleted secret to be refused",
                                         lambda: (lambda r: r if r.status == 401 else None)(
                                             self.search(first)),
                                         SECRET_DEADLINE)
        self.assertError(refused, 401, "unauthorized_credentials")
        self.assertLess(elapsed, SECRET_DEADLINE)
        self.assertError(first.get(f"/v1/users/{user['user_id']}"), 401,
                         "unauthorized_credentials")
        self.assertSuccess(self.search(second))
        self.assertSuccess(second.get(f"/v1/users/{user['user_id']}"))
        self.assertTrue(server.running())

        # Not the last one.
        r = self.secrets(db, "delete", "--project", pid, "--secret-id", created["secret_id"],
                         check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("last secret", r.stderr)
        self.assertEqual([s["secret_id"] for s in self.listed(db, pid)["secrets"]],
                         [created["secret_id"]])
        time.sleep(1.2)  # A poll later, the remaining secret still works.
        self.assertSuccess(self.search(second))

        # A deleted or unknown id names nothing.
        r = self.secrets(db, "delete", "--project", pid, "--secret-id", first_id, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no secret", r.stderr)

    def test_secrets_of_one_project_do_not_open_another(self):
        db = self.new_database()
        a = create_project(db)
        b = create_project(db)
        created = json.loads(self.secrets(db, "create", "--project", a.project_id,
                                          "--json").stdout)
        server = self.start_server(db)
        self.assertSuccess(self.search(server.client(Project(a.project_id, created["secret"]))))
        self.assertError(self.search(server.client(Project(b.project_id, created["secret"]))),
                         401, "unauthorized_credentials")
        self.assertSuccess(self.search(server.client(b)))
        # Another project's secret id cannot be deleted through this one.
        r = self.secrets(db, "delete", "--project", b.project_id, "--secret-id",
                         created["secret_id"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(len(self.listed(db, a.project_id)["secrets"]), 2)

    def test_unknown_project_and_help(self):
        db = self.new_database()
        create_project(db)
        missing = "project-test-00000000-0000-0000-0000-000000000000"
        for args in (("create", "--project", missing), ("list", "--project", missing),
                     ("delete", "--project", missing, "--secret-id", "secret-id-test-x")):
            with self.subTest(args=args):
                r = self.secrets(db, *args, check=False)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("roject", r.stderr)
        text = run_cli("secrets", "--help").stdout
        for word in ("create", "list", "delete", "without downtime"):
            self.assertIn(word, text)
        for sub in ("create", "list", "delete"):
            with self.subTest(sub=sub):
                text = run_cli("secrets", sub, "--help").stdout
                self.assertIn("--project", text)
                self.assertIn("--database", text)
                self.assertIn("--master-key-file", text)
        self.assertIn("--secret-id", run_cli("secrets", "delete", "--help").stdout)


if __name__ == "__main__":
    unittest.main()
