"""Local files: a SQLite database and its -wal and -shm files are readable by their owner only;
one `tessera serve` per SQLite file (a second one is refused while the first keeps serving and the
CLI keeps working beside it); a master key file owned by another user is refused. The SQLite
tests skip on PostgreSQL, where several servers on one database are the point (test_multinode)."""

import copy
import os
import stat
import subprocess
import unittest

from harness import (CHEAP_ARGON2, START_TIMEOUT, STRONG_PASSWORD, Case, create_project,
                     database_kind, rotate_keys, run_cli, unique_email)


NO_FILE = "a PostgreSQL database has no file here"
SHARED = "several servers on one PostgreSQL database are supported (test_multinode)"


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class LocalFilesCase(Case):
    def setUp(self):
        super().setUp()
        # The usual umask, under which files created with the default mode (0644) are readable by
        # everyone: the modes checked below must come from Tessera, not from a strict umask.
        old = os.umask(0o022)
        self.addCleanup(os.umask, old)

    def sqlite_database(self, why):
        if database_kind() != "sqlite":
            self.skipTest(f"SQLite only: {why}")
        return self.new_database()

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


class DatabaseModeTest(LocalFilesCase):
    def assertPrivate(self, path):
        for f in (path, path + "-wal", path + "-shm"):
            self.assertEqual(oct(mode(f)), oct(0o600), f)

    def test_database_wal_and_shm_are_private_after_the_server_wrote(self):
        # Created by the CLI (the documented first step), then by the server itself.
        for created_by in ("cli", "serve"):
            with self.subTest(created_by=created_by):
                db = self.sqlite_database(NO_FILE)
                if created_by == "cli":
                    project = create_project(db)
                    server = self.start_server(db)
                else:
                    server = self.start_server(db)
                    project = create_project(db)
                c = server.client(project)
                s = self.signup(c)
                self.assertSuccess(c.revoke(session_token=s["session_token"]))
                self.assertPrivate(db.sqlite_path())
                self.assertEqual(server.stop(), 0, server.stderr_text())

    def test_an_existing_database_others_can_read_is_reported_and_left_alone(self):
        db = self.sqlite_database(NO_FILE)
        project = create_project(db)
        path = db.sqlite_path()
        os.chmod(path, 0o644)  # As an older Tessera created it.
        server = self.start_server(db)
        warnings = [e for e in server.events() if e.get("msg") == "store warning"]
        self.assertEqual(len(warnings), 1, server.stderr_text())
        self.assertEqual(warnings[0]["level"], "warn")
        self.assertIn(f"{path} (mode 0644)", warnings[0]["detail"])
        self.assertIn("chmod 600", warnings[0]["detail"])
        self.signup(server.client(project))  # Serves all the same.
        self.assertEqual(oct(mode(path)), oct(0o644))
        # The CLI says so too, on stderr (stdout stays one JSON object).
        r = run_cli("projects", "list", *db.args(), "--json")
        self.assertIn(f"tessera: warning: group or others may access {path} (mode 0644)",
                      r.stderr)
        self.assertIn(project.project_id, r.stdout)


class OneServerPerFileTest(LocalFilesCase):
    def test_a_second_server_on_the_same_file_is_refused(self):
        db = self.sqlite_database(SHARED)
        project = create_project(db)
        first = self.start_server(db)
        c = first.client(project)
        s = self.signup(c)

        r = self.serve_once(db)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("cannot open the database", r.stderr)
        self.assertIn(f"in use by another tessera serve (pid {first.proc.pid})", r.stderr)
        self.assertIn("one server per SQLite file", r.stderr)
        # Under another name of the same file too (the lock sits beside the resolved path).
        link = os.path.join(os.path.dirname(db.sqlite_path()), "link.db")
        os.symlink(db.sqlite_path(), link)
        other = copy.copy(db)
        other.url = "sqlite:" + link
        other.master_key_file = db.sqlite_path() + ".master-key"
        r = self.serve_once(other)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"(pid {first.proc.pid})", r.stderr)

        # The first server never noticed, and the CLI works beside it.
        self.assertTrue(first.running(), first.stderr_text())
        self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        late = create_project(db)
        rotate_keys(db, project.project_id)
        self.signup(first.client(late))
        self.assertEqual(first.stop(), 0, first.stderr_text())

    def test_the_lock_goes_with_the_server_even_after_kill_9(self):
        db = self.sqlite_database(SHARED)
        project = create_project(db)
        first = self.start_server(db)
        s = self.signup(first.client(project))
        first.kill()  # SIGKILL: no cleanup of any kind; the kernel drops the lock.
        second = self.start_server(db)
        self.assertSuccess(second.client(project).authenticate(session_token=s["session_token"]))
        self.assertEqual(second.stop(), 0, second.stderr_text())
        third = self.start_server(db)  # After a clean stop too.
        self.assertTrue(third.running())


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
