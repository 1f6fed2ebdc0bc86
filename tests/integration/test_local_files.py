"""Local files: a master key file owned by another user is refused."""

import os
import subprocess
import unittest

from harness import (CHEAP_ARGON2, START_TIMEOUT, STRONG_PASSWORD, Case, create_project,
                     run_cli, unique_email)


class LocalFilesCase(Case):
    def setUp(self):
        super().setUp()
        # The usual umask, under which files created with the default mode (0644) are readable by
        # everyone: the modes checked below must come from Tessera, not from a strict umask.
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)

    def serve_once(self, db):
        """`tessera serve` expected to refuse: returns the CompletedProcess (a server that does
        start is killed by the timeout and fails the test)."""
        try:
            return run_cli("serve", *db.args(), "--listen", "127.0.0.1:0", "--access-log", "off",
                           *CHEAP_ARGON2, check=False, timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("tessera serve started (it should have refused)")

    def signup(self, c):
        return self.assertSuccess(c.post("/v1/passwords", {
            "email": unique_email(), "password": STRONG_PASSWORD,
            "session_duration_minutes": 60}))


class MasterKeyOwnerTest(LocalFilesCase):
    @unittest.skipUnless(os.geteuid() == 0, "chown to another user needs root")
    def test_a_master_key_owned_by_another_user_is_refused(self):
        db = self.new_database()
        project = create_project(db)
        key = db.master_key_file or db.sqlite_path() + ".master-key"
        os.chown(key, 65534, -1)  # nobody
        r = self.serve_once(db)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn(key, r.stderr)
        self.assertIn("owned by uid 65534", r.stderr)
        self.assertIn("chown", r.stderr)
        r = run_cli("projects", "list", *db.args(), "--json", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("owned by uid 65534", r.stderr)
        # Given back to the user the server runs as, the same key serves the same project.
        os.chown(key, os.geteuid(), -1)
        server = self.start_server(db)
        self.signup(server.client(project))


if __name__ == "__main__":
    unittest.main()
