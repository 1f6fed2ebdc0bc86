"""Several `tessera serve` nodes on one PostgreSQL database (one schema) behave as one service:
a session made on one node works on all; a revocation or user deletion on one is refused by the
others on their very next request, cached or not; key rotation reaches every node within seconds;
last_accessed_at written by several nodes never moves backwards; a database outage answers 503
and every node recovers by itself; a node with another master key refuses to start; nodes that
start together on an empty schema migrate it once.

PostgreSQL mode only (TESSERA_TEST_DATABASE=postgresql): one SQLite file serves one node.
"""

import calendar
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import (Case, Client, PostgresDatabase, Server, create_project, database_kind,
                     jwt_parts, metric, rotate_keys, run_cli, unique_email, verify_jwt, ERROR_KEYS,
                     STRONG_PASSWORD)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_CLUSTER = os.path.join(REPO, "scripts", "pg-cluster.sh")

NODES = 3
# Rotation is promised within about a second (a NOTIFY, and a poll of config_version every
# second); 3 s leaves room for a loaded or sanitizer machine.
ROTATION_DEADLINE = 3.0
# An outage may not hold a request longer than this: the 5 s statement timeout, the client-side
# deadline half a second past it (src/store/postgres/pg.h), and slack for a loaded machine.
OUTAGE_MAX_REQUEST_SECONDS = 7.0
# Every node serves again within this long after PostgreSQL is back (backoff caps at 5 s).
RECOVERY_DEADLINE = 15.0
# A node answers authenticate from its caches for at most one lease (2 s, docs/scaling.md) after
# its last renewal: nothing can be revoked while the database is gone, so such an answer is
# still true. Past it, authenticate needs the database like everything else.
LEASE_SECONDS = 2.0


def setUpModule():
    if database_kind() != "postgresql":
        raise unittest.SkipTest("several nodes need a shared store: run with "
                                "TESSERA_TEST_DATABASE=postgresql (a SQLite file serves one node)")


def epoch(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def wait_next_second():
    time.sleep(1.05 - (time.time() % 1.0))


class MultiNodeCase(Case):
    """Helpers: start N nodes on one database at once, sign up through a node, poll."""

    def start_nodes(self, db, n=NODES, *args):
        nodes = [Server(db, *args) for _ in range(n)]
        for node in nodes:
            self.addCleanup(node.cleanup)  # Registered before the process exists.
        for node in nodes:
            node.launch()  # All at once: start-up (and migration) overlaps.
        for node in nodes:
            node.wait_listening()
        return nodes

    def setup_cluster(self, *args, n=NODES):
        """A fresh schema, a project, `n` nodes and one keep-alive client per node."""
        self.db = self.new_database()
        self.project = create_project(self.db)
        self.nodes = self.start_nodes(self.db, n, *args)
        self.clients = []
        for node in self.nodes:
            c = node.client(self.project, keep_alive=True)
            self.addCleanup(c.close)
            self.clients.append(c)
        return self.clients

    def signup(self, c, **extra):
        body = {"email": unique_email(), "password": STRONG_PASSWORD,
                "session_duration_minutes": 60, **extra}
        return self.assertSuccess(c.post("/v1/passwords", body))

    def login(self, c, email):
        return self.assertSuccess(c.post("/v1/passwords/authenticate", {
            "email": email, "password": STRONG_PASSWORD, "session_duration_minutes": 60}))

    def jwks(self, c):
        return self.assertSuccess(
            c.get(f"/v1/sessions/jwks/{self.project.project_id}", auth=None))["keys"]

    def poll(self, what, fn, timeout):
        deadline = time.monotonic() + timeout
        while True:
            value = fn()
            if value:
                return value
            self.assertLess(time.monotonic(), deadline, f"timed out ({timeout} s) waiting for "
                            f"{what}")
            time.sleep(0.05)

    def assertNotFoundEverywhere(self, clients, s, where):
        for i, c in clients:
            with self.subTest(node=i, where=where):
                self.assertError(c.authenticate(session_token=s["session_token"]), 404,
                                 "session_not_found")
                self.assertError(c.authenticate(session_jwt=s["session_jwt"]), 404,
                                 "session_not_found")


class SharedSessionsTest(MultiNodeCase):
    def test_session_made_on_one_node_works_on_all(self):
        cs = self.setup_cluster()
        keys = [self.jwks(c) for c in cs]
        self.assertEqual(keys[1], keys[0])
        self.assertEqual(keys[2], keys[0])
        s = self.signup(cs[0], session_custom_claims={"tenant": "t1"})
        sid = s["session"]["session_id"]
        for i, c in enumerate(cs):
            with self.subTest(node=i):
                by_token = self.assertSuccess(c.authenticate(session_token=s["session_token"]))
                self.assertEqual(by_token["session"]["session_id"], sid)
                self.assertEqual(by_token["session_token"], s["session_token"])
                self.assertEqual(by_token["session"]["custom_claims"], {"tenant": "t1"})
                self.assertEqual(by_token["user"]["user_id"], s["user_id"])
                claims = verify_jwt(by_token["session_jwt"], keys[0], self.project.project_id)
                self.assertEqual(claims["sub"], s["user_id"])
                self.assertEqual(claims["tenant"], "t1")
                by_jwt = self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
                self.assertEqual(by_jwt["session"]["session_id"], sid)
                self.assertEqual(by_jwt["session_token"], s["session_token"])
                user = self.assertSuccess(c.get(f"/v1/users/{s['user_id']}"))
                self.assertEqual(user["emails"], s["user"]["emails"])
                listed = self.assertSuccess(c.get(f"/v1/sessions?user_id={s['user_id']}"))
                self.assertEqual([x["session_id"] for x in listed["sessions"]], [sid])
        # A user made on node 1 signs in on node 3; the session is node 2's too.
        s3 = self.login(cs[2], s["user"]["emails"][0]["email"])
        self.assertSuccess(cs[1].authenticate(session_token=s3["session_token"]))
        # An email is unique across nodes.
        self.assertError(cs[1].post("/v1/passwords", {"email": s["user"]["emails"][0]["email"],
                                                      "password": STRONG_PASSWORD}),
                         400, "duplicate_email")

    def test_extension_and_custom_claims_are_seen_by_every_node(self):
        cs = self.setup_cluster()
        s = self.signup(cs[0])
        token = s["session_token"]
        for c in cs:  # Every node caches the session.
            self.assertSuccess(c.authenticate(session_token=token))
            self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
        # Node 1 extends and sets claims; node 3's next authenticate, by token and by the JWT it
        # minted before, returns them (and mints a JWT carrying them).
        extended = self.assertSuccess(cs[0].authenticate(
            session_token=token, session_duration_minutes=600,
            session_custom_claims={"tenant": "t1", "plan": {"tier": "pro"}}))
        self.assertGreater(epoch(extended["session"]["expires_at"]),
                           epoch(s["session"]["expires_at"]))
        for i in (2, 1):
            with self.subTest(node=i):
                body = self.assertSuccess(cs[i].authenticate(session_token=token))
                self.assertEqual(body["session"]["expires_at"], extended["session"]["expires_at"])
                self.assertEqual(body["session"]["custom_claims"],
                                 {"tenant": "t1", "plan": {"tier": "pro"}})
                _, payload = jwt_parts(body["session_jwt"])
                self.assertEqual((payload["tenant"], payload["plan"]), ("t1", {"tier": "pro"}))
                self.assertEqual(payload["https://stytch.com/session"]["expires_at"],
                                 extended["session"]["expires_at"])
                body = self.assertSuccess(cs[i].authenticate(session_jwt=s["session_jwt"]))
                self.assertEqual(body["session"]["custom_claims"],
                                 {"tenant": "t1", "plan": {"tier": "pro"}})
        # Back and forth, no sleeps: each change is seen on the other nodes' next request.
        for n in range(12):
            writer = n % NODES
            claims = {"n": n, "plan": None} if n == 0 else {"n": n}
            changed = self.assertSuccess(cs[writer].authenticate(session_token=token,
                                                                 session_custom_claims=claims))
            self.assertEqual(changed["session"]["custom_claims"], {"tenant": "t1", "n": n})
            for i in range(NODES):
                if i == writer:
                    continue
                with self.subTest(n=n, node=i):
                    body = self.assertSuccess(cs[i].authenticate(session_token=token))
                    self.assertEqual(body["session"]["custom_claims"], {"tenant": "t1", "n": n})
                    self.assertEqual(jwt_parts(body["session_jwt"])[1]["n"], n)


class SharedUsersTest(MultiNodeCase):
    def test_user_changes_are_seen_by_every_node_on_its_next_request(self):
        cs = self.setup_cluster()
        s = self.signup(cs[0])
        uid = s["user_id"]
        for c in cs:  # Every node caches the user and the session.
            self.assertSuccess(c.get(f"/v1/users/{uid}"))
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        for n in range(15):
            writer = n % NODES
            self.assertSuccess(cs[writer].put(f"/v1/users/{uid}",
                                              {"trusted_metadata": {"n": n}}))
            for i in range(NODES):
                if i == writer:
                    continue
                with self.subTest(n=n, node=i):
                    got = self.assertSuccess(cs[i].get(f"/v1/users/{uid}"))
                    self.assertEqual(got["trusted_metadata"], {"n": n})
                    body = self.assertSuccess(cs[i].authenticate(session_token=s["session_token"]))
                    self.assertEqual(body["user"]["trusted_metadata"], {"n": n})

    def test_claims_written_on_several_nodes_at_once_are_all_kept(self):
        # Each node merges its own keys into the same session's claims concurrently: the
        # session's version makes a lost update retry instead of overwrite.
        self.setup_cluster()
        s = self.signup(self.clients[0])
        failures = []

        def writer(i):
            c = Client(self.nodes[i].host, self.nodes[i].port, self.project, keep_alive=True)
            try:
                for k in range(15):
                    r = c.authenticate(session_token=s["session_token"],
                                       session_custom_claims={f"n{i}_{k}": k})
                    if r.status != 200:
                        failures.append(r)
            finally:
                c.close()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(NODES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(failures, [])
        want = {f"n{i}_{k}": k for i in range(NODES) for k in range(15)}
        for i, c in enumerate(self.clients):
            with self.subTest(node=i):
                body = self.assertSuccess(c.authenticate(session_token=s["session_token"]))
                self.assertEqual(body["session"]["custom_claims"], want)

    def test_password_lockout_counts_failures_on_every_node(self):
        self.db = self.new_database()
        self.project = create_project(self.db, "--lock-threshold", "3")
        nodes = self.start_nodes(self.db)
        cs = [n.client(self.project) for n in nodes]
        email = self.signup(cs[0])["user"]["emails"][0]["email"]
        for c in cs:  # One wrong password on each node: three in all.
            self.assertError(c.post("/v1/passwords/authenticate", {
                "email": email, "password": "wrong-" + STRONG_PASSWORD}),
                401, "unauthorized_credentials")
        for i, c in enumerate(cs):
            with self.subTest(node=i):
                self.assertError(c.post("/v1/passwords/authenticate", {
                    "email": email, "password": STRONG_PASSWORD}), 429, "user_lock_limit_reached")


class RevocationTest(MultiNodeCase):
    def test_revocation_is_refused_by_every_node_on_its_next_request(self):
        cs = self.setup_cluster()
        email = self.signup(cs[0])["user"]["emails"][0]["email"]
        how = ("session_id", "session_token", "session_jwt")
        for n in range(30):  # No sleeps anywhere: a race shows up as a 200 below.
            maker, revoker = n % NODES, (n + 1) % NODES
            s = self.login(cs[maker], email)
            for c in cs:  # Cached on every node, by token and by JWT.
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))
                self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
            field = how[n % len(how)]
            value = s["session"]["session_id"] if field == "session_id" else s[field]
            self.assertSuccess(cs[revoker].revoke(**{field: value}))
            others = [(i, c) for i, c in enumerate(cs) if i != revoker]
            # JWT first on half the rounds: each path must consult the store, not the cache.
            if n % 2:
                for i, c in others:
                    with self.subTest(n=n, node=i):
                        self.assertError(c.authenticate(session_jwt=s["session_jwt"]), 404,
                                         "session_not_found")
            self.assertNotFoundEverywhere(others, s, f"round {n}, revoked by {field} on node "
                                                     f"{revoker}")
            for i, c in others:
                with self.subTest(n=n, node=i):
                    self.assertError(c.revoke(session_id=s["session"]["session_id"]), 404,
                                     "session_not_found")

    def test_no_request_after_a_revoke_succeeds_anywhere(self):
        # Readers hammer nodes 1 and 3 while node 2 revokes: every request that *started* after
        # the revoke's response must be refused.
        cs = self.setup_cluster()
        email = self.signup(cs[0])["user"]["emails"][0]["email"]
        for n in range(5):
            s = self.login(cs[0], email)
            stop = threading.Event()
            results = []  # (started, status, kind, node)
            lock = threading.Lock()

            def reader(node, kind):
                c = Client(self.nodes[node].host, self.nodes[node].port, self.project,
                           keep_alive=True)
                try:
                    while not stop.is_set():
                        started = time.monotonic()
                        r = c.authenticate(**{kind: s[kind]})
                        with lock:
                            results.append((started, r.status, kind, node, r))
                finally:
                    c.close()

            threads = [threading.Thread(target=reader, args=(node, kind))
                       for node in (0, 2) for kind in ("session_token", "session_jwt")]
            for t in threads:
                t.start()
            try:
                time.sleep(0.3)
                self.assertSuccess(cs[1].revoke(session_token=s["session_token"]))
                revoked_at = time.monotonic()
                time.sleep(0.3)
            finally:
                stop.set()
                for t in threads:
                    t.join(30)
            before = [x for x in results if x[0] < revoked_at]
            after = [x for x in results if x[0] >= revoked_at]
            self.assertTrue(before and after, (len(before), len(after)))
            self.assertTrue(all(x[1] in (200, 404) for x in results),
                            [x for x in results if x[1] not in (200, 404)][:3])
            late = [x for x in after if x[1] != 404]
            self.assertEqual(late, [], f"round {n}: served after the revoke")
            for x in after:
                self.assertError(x[4], 404, "session_not_found")

    def test_user_delete_ends_the_users_sessions_on_every_node(self):
        cs = self.setup_cluster()
        for n in range(6):
            deleter = n % NODES
            s = self.signup(cs[(n + 1) % NODES])
            s2 = self.login(cs[(n + 2) % NODES], s["user"]["emails"][0]["email"])
            for c in cs:
                for x in (s, s2):
                    self.assertSuccess(c.authenticate(session_token=x["session_token"]))
                    self.assertSuccess(c.authenticate(session_jwt=x["session_jwt"]))
                self.assertSuccess(c.get(f"/v1/users/{s['user_id']}"))
            self.assertSuccess(cs[deleter].delete(f"/v1/users/{s['user_id']}"))
            others = [(i, c) for i, c in enumerate(cs) if i != deleter]
            self.assertNotFoundEverywhere(others, s, f"round {n}")
            self.assertNotFoundEverywhere(others, s2, f"round {n}")
            for i, c in others:
                with self.subTest(n=n, node=i):
                    self.assertError(c.get(f"/v1/users/{s['user_id']}"), 404, "user_not_found")
                    self.assertError(c.post("/v1/passwords/authenticate", {
                        "email": s["user"]["emails"][0]["email"], "password": STRONG_PASSWORD}),
                        404, "email_not_found")


class KeyRotationTest(MultiNodeCase):
    def test_rotation_reaches_every_node(self):
        cs = self.setup_cluster()
        pid = self.project.project_id
        before = self.jwks(cs[0])
        s = self.signup(cs[0])
        old_kid = jwt_parts(s["session_jwt"])[0]["kid"]
        for c in cs:
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        rotated = rotate_keys(self.db, pid)
        rotated_at = time.monotonic()
        new_kid = rotated["active_kid"]
        (new_next,) = [k["kid"] for k in rotated["keys"] if k["state"] == "next"]
        self.assertNotEqual(new_kid, old_kid)
        self.assertIn(new_kid, {k["kid"] for k in before})

        def rotated_on(c):
            if new_next not in {k["kid"] for k in self.jwks(c)}:
                return None
            body = self.assertSuccess(c.authenticate(session_token=s["session_token"]))
            return body if jwt_parts(body["session_jwt"])[0]["kid"] == new_kid else None

        for i, c in enumerate(cs):
            with self.subTest(node=i):
                remaining = max(0.0, ROTATION_DEADLINE - (time.monotonic() - rotated_at))
                fresh = self.poll(f"node {i} to sign with {new_kid}", lambda: rotated_on(c),
                                  remaining)
                keys = self.jwks(c)
                self.assertEqual({k["kid"] for k in keys}, {old_kid, new_kid, new_next})
                self.assertEqual(verify_jwt(fresh["session_jwt"], keys, pid)["sub"],
                                 s["user_id"])
        keys = self.jwks(cs[0])
        for i, c in enumerate(cs):
            with self.subTest(node=i):
                self.assertEqual(self.jwks(c), keys)
                # New sessions sign with the new key; the old JWT still refreshes everywhere.
                s2 = self.signup(c)
                self.assertEqual(jwt_parts(s2["session_jwt"])[0]["kid"], new_kid)
                body = self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
                self.assertEqual(body["session"]["session_id"], s["session"]["session_id"])
                self.assertEqual(jwt_parts(body["session_jwt"])[0]["kid"], new_kid)
                self.assertEqual(verify_jwt(s["session_jwt"], keys, pid)["sub"], s["user_id"])


class RbacPolicyTest(MultiNodeCase):
    def set_policy(self, policy):
        path = os.path.join(self.new_workdir(), "policy.json")
        with open(path, "w") as f:
            json.dump(policy, f)
        run_cli("rbac", "set", *self.db.args(), "--project", self.project.project_id,
                "--file", path)
        return time.monotonic()

    def test_policy_change_reaches_every_node(self):
        cs = self.setup_cluster()
        policy = {"resources": [{"resource_id": "documents", "actions": ["read", "write"]}],
                  "roles": [{"role_id": "editor", "permissions": [
                      {"resource_id": "documents", "actions": ["read", "write"]}]}]}
        s = self.signup(cs[0], roles=["editor"])
        write = {"resource_id": "documents", "action": "write"}

        def status(c):
            return c.authenticate(session_token=s["session_token"],
                                  authorization_check=write).status

        # Before any policy: denied everywhere (and every node has the project cached).
        for i, c in enumerate(cs):
            with self.subTest(node=i, policy="none"):
                self.assertError(c.authenticate(session_token=s["session_token"],
                                                authorization_check=write),
                                 403, "consumer_session_authorization_error")
        set_at = self.set_policy(policy)
        for i, c in enumerate(cs):
            with self.subTest(node=i, policy="editors write"):
                remaining = max(0.0, ROTATION_DEADLINE - (time.monotonic() - set_at))
                self.poll(f"node {i} to grant", lambda: status(c) == 200, remaining)
                body = self.assertSuccess(c.authenticate(session_token=s["session_token"],
                                                         authorization_check=write))
                self.assertEqual(body["verdict"],
                                 {"authorized": True, "granting_roles": ["editor"]})
        policy["roles"][0]["permissions"][0]["actions"] = ["read"]
        set_at = self.set_policy(policy)
        for i, c in enumerate(cs):
            with self.subTest(node=i, policy="editors read"):
                remaining = max(0.0, ROTATION_DEADLINE - (time.monotonic() - set_at))
                self.poll(f"node {i} to deny", lambda: status(c) == 403, remaining)
                served = self.assertSuccess(c.get("/v1/rbac/policy"))["policy"]
                self.assertEqual(served["roles"][1]["permissions"][0]["actions"], ["read"])

    def test_role_change_on_one_node_is_enforced_by_every_node(self):
        cs = self.setup_cluster()
        self.set_policy({"resources": [{"resource_id": "documents", "actions": ["read"]}],
                         "roles": [{"role_id": "reader", "permissions": [
                             {"resource_id": "documents", "actions": ["read"]}]}]})
        s = self.signup(cs[0], roles=["reader"])
        read = {"resource_id": "documents", "action": "read"}
        for i, c in enumerate(cs):
            self.poll(f"node {i} to grant", lambda: c.authenticate(
                session_token=s["session_token"], authorization_check=read).status == 200, 3.0)
        self.assertSuccess(cs[1].put(f"/v1/users/{s['user_id']}", {"roles": []}))
        for i, c in enumerate(cs):
            with self.subTest(node=i):
                self.assertError(c.authenticate(session_token=s["session_token"],
                                                authorization_check=read),
                                 403, "consumer_session_authorization_error")


class LastAccessedTest(MultiNodeCase):
    """Each node writes last_accessed_at behind (about every 500 ms, and at shutdown), with
    GREATEST: a node that flushes an older second after another node flushed a newer one must
    not move the stored value back. SIGSTOP holds a node's flush back to force that order."""

    def stored(self, sid):
        rows = self.db.query(f"SELECT last_accessed_at FROM sessions WHERE session_id = '{sid}'")
        self.assertEqual(len(rows), 1, rows)
        return int(rows[0][0])

    def touch(self, i, token):
        return epoch(self.assertSuccess(
            self.clients[i].authenticate(session_token=token))["session"]["last_accessed_at"])

    def wait_stored(self, sid, want, what):
        self.poll(f"last_accessed_at {want} ({what}); stored {self.stored(sid)}",
                  lambda: self.stored(sid) == want, 4.0)

    def touches_written(self, i):
        return self.clients[i].metrics()[("tessera_touches_written_total", frozenset())]

    def test_last_accessed_at_never_moves_backwards(self):
        cs = self.setup_cluster()
        s = self.signup(cs[0])
        sid, token = s["session"]["session_id"], s["session_token"]
        self.assertEqual(self.stored(sid), epoch(s["session"]["last_accessed_at"]))
        # Every node in turn, one second apart: the stored value follows the newest.
        newest = epoch(s["session"]["last_accessed_at"])
        for i in (1, 2, 0):
            wait_next_second()
            t = self.touch(i, token)
            self.assertGreater(t, newest)
            newest = t
            self.wait_stored(sid, newest, f"touched on node {i}")

        # A stale flush arrives last: node 2 touches at second t and is stopped before its
        # flusher runs; node 3 touches at t+1 and flushes; node 2 resumes and writes t.
        for attempt in range(3):
            wait_next_second()
            written = self.touches_written(1)
            stale = self.touch(1, token)
            self.nodes[1].proc.send_signal(signal.SIGSTOP)
            try:
                held = self.stored(sid) != stale  # False: node 2 flushed before it stopped.
                wait_next_second()
                newest = self.touch(2, token)
                self.assertGreater(newest, stale)
                self.wait_stored(sid, newest, "node 3's touch")
            finally:
                self.nodes[1].proc.send_signal(signal.SIGCONT)
            self.poll("node 2 to flush after SIGCONT",
                      lambda: self.touches_written(1) > written, 4.0)
            time.sleep(0.2)
            self.assertEqual(self.stored(sid), newest, "a stale flush moved last_accessed_at back")
            if held:
                sys.stderr.write(f"\n  stale flush held back on attempt {attempt + 1}\n")
                break
        else:
            self.skipTest("node 2 flushed before SIGSTOP every time; the stale flush never "
                          "arrived last")
        listed = self.assertSuccess(cs[0].get(f"/v1/sessions?user_id={s['user_id']}"))
        self.assertEqual(epoch(listed["sessions"][0]["last_accessed_at"]), newest)

        # The same at shutdown: node 1's final flush holds an older second than node 3's.
        wait_next_second()
        stale = self.touch(0, token)
        self.nodes[0].proc.send_signal(signal.SIGSTOP)
        try:
            wait_next_second()
            newest = self.touch(2, token)
            self.assertEqual(self.nodes[2].stop(), 0, self.nodes[2].stderr_text())
            self.assertEqual(self.stored(sid), newest, "node 3's shutdown flush")
        finally:
            self.nodes[0].proc.send_signal(signal.SIGCONT)
        self.assertGreater(newest, stale)
        self.assertEqual(self.nodes[0].stop(), 0, self.nodes[0].stderr_text())
        self.assertEqual(self.nodes[1].stop(), 0, self.nodes[1].stderr_text())
        self.assertEqual(self.stored(sid), newest, "a shutdown flush moved last_accessed_at back")


class MasterKeyTest(MultiNodeCase):
    def serve_once(self, db):
        """`tessera serve` expected to refuse: returns the CompletedProcess (a server that does
        start is killed by the timeout and fails the test)."""
        try:
            return run_cli("serve", *db.args(), "--listen", "127.0.0.1:0", "--access-log", "off",
                           check=False, timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("tessera serve started (it should have refused)")

    def test_a_node_with_another_master_key_refuses_to_start(self):
        cs = self.setup_cluster(n=2)
        s = self.signup(cs[0])
        other = self.db.with_master_key_file(os.path.join(self.new_workdir(), "other-key"))
        r = self.serve_once(other)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("master key", r.stderr)
        self.assertIn("does not open this database", r.stderr)
        # The CLI refuses it too, and changes nothing.
        r = run_cli("projects", "create", *other.args(), "--json", check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("master key", r.stderr)
        # Without any master key file: refused, naming the flag.
        without = self.db.with_master_key_file(None)
        r = self.serve_once(without)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("--master-key-file", r.stderr)
        # The running nodes never noticed.
        for c in cs:
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        listed = run_cli("projects", "list", *self.db.args(), "--json").stdout
        self.assertEqual(listed.count("project-test-"), 1, listed)


class StartTogetherTest(MultiNodeCase):
    def test_nodes_started_together_on_an_empty_schema_all_serve(self):
        # The migration runs under an advisory lock, and the master key file (absent) is made
        # by whichever node wins; each round is a fresh empty schema.
        for round_ in range(3):
            with self.subTest(round=round_):
                db = self.new_database()
                self.assertFalse(os.path.exists(db.master_key_file))
                nodes = self.start_nodes(db, NODES)
                # Every migration ran exactly once, in order, whichever node ran it.
                self.assertEqual(db.query("SELECT count(*) = max(version) AND min(version) = 1 "
                                          "FROM schema_migrations"), [["t"]])
                project = create_project(db)
                sessions = []
                for node in nodes:
                    c = node.client(project)
                    self.assertSuccess(c.get("/readyz", auth=None))
                    sessions.append(self.signup(c))
                for node in nodes:
                    c = node.client(project)
                    for x in sessions:
                        self.assertSuccess(c.authenticate(session_token=x["session_token"]))
                for node in nodes:
                    self.assertEqual(node.stop(), 0, node.stderr_text())


class ShutdownTest(MultiNodeCase):
    # Regression test (fixed in 9840b69): a node stopping while other nodes wrote used its caches
    # after they were destroyed. The store's LISTEN thread delivered other nodes' change
    # notifications to the listener Serve() registered, which captures the session, user and
    # project caches by reference, and Serve() destroyed the caches before the store that owns
    # the thread. ASan build: heap-use-after-free in UserCache::Evict (src/service/caches.cc:137)
    # from the listener (server/app.cc:173, Deliver, Listen) on thread T1, freed by
    # ~UserCache() in Serve() (server/app.cc:200), after {"msg":"stopped"}: SIGABRT instead of
    # exit 0, on the first attempt every time. Release build: once SIGSEGV (exit -11 after
    # "stopped") while ctest ran modules side by side. Only the ASan build detects the stale
    # read reliably; the Release build runs the test too.
    def test_a_node_stops_cleanly_while_other_nodes_write(self):
        cs = self.setup_cluster(n=2)
        s = self.signup(cs[1])
        stop = threading.Event()

        def writer():  # Every user update notifies every node.
            c = Client(self.nodes[1].host, self.nodes[1].port, self.project, keep_alive=True)
            n = 0
            try:
                while not stop.is_set():
                    c.put(f"/v1/users/{s['user_id']}", {"trusted_metadata": {"n": n}})
                    n += 1
            finally:
                c.close()

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            for attempt in range(3):
                node = self.nodes[0] if attempt == 0 else self.start_nodes(self.db, 1)[0]
                c = node.client(self.project)
                # Something in each cache: the project, users and sessions.
                for _ in range(3):
                    x = self.signup(c)
                    self.assertSuccess(c.authenticate(session_token=x["session_token"]))
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))
                code = node.stop()
                self.assertEqual(code, 0, f"attempt {attempt}: exit {code}:\n"
                                          f"{node.stderr_text()[-6000:]}")
        finally:
            stop.set()
            thread.join(30)


class OutageTest(MultiNodeCase):
    """PostgreSQL stops in the middle of traffic and comes back on the same port. A private
    cluster: restarting the shared one would break the tests running beside this one."""

    def private_cluster(self):
        # pg-cluster.sh keeps the cluster itself in a /tmp directory of its own; `parent` holds
        # only its record (the cluster's path and URL).
        parent = tempfile.mkdtemp(prefix="tessera-it-pg-")
        if not os.environ.get("TESSERA_TEST_KEEP"):
            self.addCleanup(shutil.rmtree, parent, True)
        cluster = os.path.join(parent, "pg")
        self.addCleanup(self.cluster_cmd, "stop", cluster)  # After the nodes' cleanups (LIFO).
        url = self.cluster_cmd("start", cluster).strip().splitlines()[-1]
        return cluster, url

    def cluster_cmd(self, cmd, cluster):
        out = subprocess.run([PG_CLUSTER, cmd, cluster], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, f"pg-cluster.sh {cmd}: {out.stdout}{out.stderr}")
        return out.stdout

    def postgres_processes(self, cluster):
        """The postmaster of `cluster` and its children (from /proc)."""
        with open(os.path.join(cluster, "cluster")) as f:
            data = os.path.join(f.read().strip(), "data")
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(entry))
        return pids

    def assertUnavailable(self, r):
        self.assertEqual((r.status, (r.json or {}).get("error_type")),
                         (503, "service_unavailable"), r)
        self.assertEqual(set(r.json), ERROR_KEYS, r)
        self.assertEqual(r.json["status_code"], 503, r)

    def test_database_restart_during_traffic(self):
        cluster, url = self.private_cluster()
        self.db = PostgresDatabase(self.new_workdir(), base_url=url)
        self.addCleanup(self.db.cleanup)
        self.project = create_project(self.db)
        self.nodes = self.start_nodes(self.db, NODES)
        cs = [n.client(self.project) for n in self.nodes]
        sessions = [self.signup(cs[i % NODES]) for i in range(6)]
        for c in cs:
            for s in sessions:
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))

        # One traffic thread per node: authenticate (token, JWT), sign-ups and /readyz in turn.
        stop = threading.Event()
        log = []  # (node, what, started, seconds, status or exception text, response)
        lock = threading.Lock()

        def traffic(i):
            c = Client(self.nodes[i].host, self.nodes[i].port, self.project, timeout=30)
            n = 0
            while not stop.is_set():
                s = sessions[n % len(sessions)]
                what = ("token", "jwt", "readyz", "signup")[n % 4]
                started = time.monotonic()
                try:
                    if what == "token":
                        r = c.authenticate(session_token=s["session_token"])
                    elif what == "jwt":
                        r = c.authenticate(session_jwt=s["session_jwt"])
                    elif what == "readyz":
                        r = c.get("/readyz", auth=None)
                    else:
                        r = c.post("/v1/passwords", {"email": unique_email(),
                                                     "password": STRONG_PASSWORD})
                    outcome = r.status
                except Exception as e:  # A reset or a hang: recorded and failed below.
                    r, outcome = None, f"{type(e).__name__}: {e}"
                with lock:
                    log.append((i, what, started, time.monotonic() - started, outcome, r))
                n += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=traffic, args=(i,)) for i in range(NODES)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            self.cluster_cmd("pause", cluster)
            down = time.monotonic()
            # The outage as the API sees it, once no lease can vouch for a node's caches.
            time.sleep(LEASE_SECONDS + 0.5)
            for i, c in enumerate(cs):
                with self.subTest(node=i, during="outage"):
                    for r in (c.get("/readyz", auth=None),
                              c.authenticate(session_token=sessions[0]["session_token"]),
                              c.authenticate(session_jwt=sessions[1]["session_jwt"]),
                              c.revoke(session_id=sessions[2]["session"]["session_id"]),
                              c.get(f"/v1/users/{sessions[3]['user_id']}")):
                        self.assertUnavailable(r)
            time.sleep(1.0)
            self.cluster_cmd("resume", cluster)
            up = time.monotonic()

            def recovered(c):
                if c.get("/readyz", auth=None).status != 200:
                    return False
                return all(c.authenticate(session_token=s["session_token"]).status == 200
                           for s in sessions)

            for i, c in enumerate(cs):
                with self.subTest(node=i, during="recovery"):
                    self.poll(f"node {i} to recover",
                              lambda: recovered(c),
                              max(0.0, RECOVERY_DEADLINE - (time.monotonic() - up)))
            recovered_at = time.monotonic() - up
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(60)

        # authenticate may be answered from a node's caches while its lease lasts.
        during = [x for x in log if x[2] + x[3] <= up and x[2] >= down +
                  (LEASE_SECONDS + 0.2 if x[1] in ("token", "jwt") else 0.2)]
        sys.stderr.write(
            f"\n  outage: {len(log)} requests, {len(during)} during the outage "
            f"({sum(1 for x in during if x[4] == 503)} answered 503), slowest "
            f"{max(x[3] for x in log):.2f} s, every node recovered {recovered_at:.1f} s after "
            f"PostgreSQL was back\n")
        for i, node in enumerate(self.nodes):
            self.assertTrue(node.running(), f"node {i} died:\n{node.stderr_text()[-5000:]}")
        broken = [x for x in log if not isinstance(x[4], int)]
        self.assertEqual(broken, [], "requests that got no HTTP response")
        bad = [x for x in log if x[4] not in (200, 503)]
        self.assertEqual(bad, [], "only 200 and 503 may be answered")
        for x in log:
            if x[4] == 503:
                self.assertUnavailable(x[5])
        slow = [x[:5] for x in log if x[3] > OUTAGE_MAX_REQUEST_SECONDS]
        self.assertEqual(slow, [], "requests held too long")
        self.assertTrue(during, "no traffic during the outage")
        self.assertEqual([x[:5] for x in during if x[4] != 503], [],
                         "served during the outage")
        self.assertTrue(any(x[4] == 200 and x[2] > up + recovered_at for x in log),
                        "no traffic served after the recovery")

        # Afterwards the nodes are one service again: writes, NOTIFY-driven caches, revocation.
        s = self.signup(cs[0])
        for c in cs:
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        self.assertSuccess(cs[1].revoke(session_token=sessions[0]["session_token"]))
        for i, c in enumerate(cs):
            with self.subTest(node=i, after="revoke"):
                self.assertError(c.authenticate(session_token=sessions[0]["session_token"]),
                                 404, "session_not_found")
        rotated = rotate_keys(self.db, self.project.project_id)
        (new_next,) = [k["kid"] for k in rotated["keys"] if k["state"] == "next"]
        for i, c in enumerate(cs):
            with self.subTest(node=i, after="rotate"):
                self.poll(f"node {i} to publish the rotated keys",
                          lambda: new_next in {k["kid"] for k in self.jwks(c)}, ROTATION_DEADLINE)

    # Regression test (fixed in 9840b69): a database that stops answering (a frozen host, a
    # network path that drops packets) held every request that needed it for as long as it was
    # gone, /readyz included, instead of answering 503 after the 5 s timeouts: statement_timeout
    # is enforced by the PostgreSQL server, which was not running, and libpq waited on the socket
    # without a deadline. Evidence then (Release, one node, every PostgreSQL process SIGSTOPped
    # for 15 s): /healthz and /metrics answered at once, but /readyz and authenticate sent at
    # t=0 answered 200 after 15.0 s and those sent at t=6 s after 9.0 s, exactly when the
    # processes were continued.
    def test_unresponsive_database_answers_503_within_seconds(self):
        cluster, url = self.private_cluster()
        self.db = PostgresDatabase(self.new_workdir(), base_url=url)
        self.addCleanup(self.db.cleanup)
        self.project = create_project(self.db)
        (node,) = self.start_nodes(self.db, 1)
        s = self.signup(node.client(self.project))
        pids = self.postgres_processes(cluster)

        def thaw():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass

        self.addCleanup(thaw)  # Before the cluster's stop, which a frozen postmaster would ignore.
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        results = []
        lock = threading.Lock()

        def request(what):
            c = node.client(self.project, timeout=OUTAGE_MAX_REQUEST_SECONDS + 2)
            started = time.monotonic()
            try:
                if what == "readyz":
                    r = c.get("/readyz", auth=None)
                elif what == "token":
                    r = c.authenticate(session_token=s["session_token"])
                else:
                    r = c.authenticate(session_jwt=s["session_jwt"])
                outcome = r
            except OSError as e:  # socket.timeout included: the request hung.
                outcome = f"{type(e).__name__} after {time.monotonic() - started:.1f} s"
            with lock:
                results.append((what, time.monotonic() - started, outcome))

        # At most four requests in flight, so that none waits for a worker (four by default)
        # held by another request's timeout.
        threads = [threading.Thread(target=request, args=("readyz",))]
        for t in threads:
            t.start()
        time.sleep(LEASE_SECONDS + 0.5)  # No lease vouches for the node's caches any more.
        more = [threading.Thread(target=request, args=(w,)) for w in ("readyz", "token", "jwt")]
        for t in more:
            t.start()
        threads += more
        for t in threads:
            t.join(60)
        thaw()
        c = node.client(self.project)
        self.poll("the node to serve again", lambda: c.get("/readyz", auth=None).status == 200
                  and c.authenticate(session_token=s["session_token"]).status == 200,
                  RECOVERY_DEADLINE)
        for what, seconds, outcome in results:
            with self.subTest(what=what):
                self.assertNotIsInstance(outcome, str, f"{what}: {outcome}")
                self.assertUnavailable(outcome)
                self.assertLessEqual(seconds, OUTAGE_MAX_REQUEST_SECONDS)


class LeaseTest(MultiNodeCase):
    """Nodes answer authenticate from their caches while their lease vouches that every
    acknowledged change reached them (docs/scaling.md); each failure of that machinery must leave
    the guarantee intact: a revoke that returned is refused by every node's next request."""

    def current(self, c):
        return metric(c.metrics(), "tessera_caches_current") == 1.0

    def stamp_reads(self, c):
        return metric(c.metrics(), "tessera_store_operation_duration_seconds_count",
                      operation="get_session_stamp")

    def wait_current(self, cs):
        for i, c in enumerate(cs):
            self.poll(f"node {i} to hold its lease", lambda c=c: self.current(c), 10)

    def revoke_and_check(self, cs, revoker, s, where):
        self.assertSuccess(cs[revoker].revoke(session_token=s["session_token"]))
        self.assertNotFoundEverywhere([(i, c) for i, c in enumerate(cs)], s, where)

    def test_nodes_answer_from_their_caches_while_their_lease_holds(self):
        cs = self.setup_cluster(n=2)
        self.wait_current(cs)
        s = self.signup(cs[0])
        for c in cs:
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        before = self.stamp_reads(cs[1])
        for _ in range(50):
            self.assertSuccess(cs[1].authenticate(session_token=s["session_token"]))
            self.assertSuccess(cs[1].authenticate(session_jwt=s["session_jwt"]))
        self.assertEqual(self.stamp_reads(cs[1]), before, "the database was asked anyway")
        self.revoke_and_check(cs, 0, s, "after serving from the cache")

    def test_a_killed_listen_connection_loses_nothing(self):
        cs = self.setup_cluster(n=2)
        self.wait_current(cs)
        email = self.signup(cs[0])["user"]["emails"][0]["email"]
        for n in range(5):
            killed = self.db.query(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "datname = current_database() AND query LIKE 'LISTEN tessera_changes%'",
                write=True)
            self.assertGreaterEqual(int(killed[0][0]), 1 if n == 0 else 0, killed)
            s = self.login(cs[0], email)
            for c in cs:
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))
            self.revoke_and_check(cs, n % 2, s, f"round {n}, LISTEN connections killed")

    def test_a_paused_node_is_waited_for_at_most_one_lease(self):
        cs = self.setup_cluster(n=2)
        self.wait_current(cs)
        s = self.signup(cs[0])
        for c in cs:  # Cached on both.
            self.assertSuccess(c.authenticate(session_token=s["session_token"]))
        paused = self.nodes[1].proc.pid
        os.kill(paused, signal.SIGSTOP)
        resumed = False
        try:
            started = time.monotonic()
            self.assertSuccess(cs[0].revoke(session_token=s["session_token"]))
            waited = time.monotonic() - started
            # It waited for the paused node's lease to lapse (2 s), and no longer.
            self.assertLess(waited, 3.5, f"the revoke waited {waited:.2f} s")
            os.kill(paused, signal.SIGCONT)
            resumed = True
        finally:
            if not resumed:
                os.kill(paused, signal.SIGCONT)
        # The paused node's very next request: its lease lapsed while it was stopped, so it must
        # not trust the cache that still holds the session.
        self.assertNotFoundEverywhere([(1, cs[1]), (0, cs[0])], s, "after the pause")
        # And it catches up and answers from its caches again.
        self.wait_current(cs)
        s2 = self.signup(cs[1])
        self.revoke_and_check(cs, 1, s2, "after recovery")

    def test_a_node_whose_clock_runs_ahead_loses_nothing(self):
        # Leases are judged on each node's steady clock and the database's clock, never by
        # comparing two machines' wall clocks: a node 3 s ahead (within the JWT skew that nodes
        # tolerate) keeps every guarantee.
        # The library is preloaded into the server itself: Debian's faketime command forks and
        # waits, so a SIGTERM sent to it would never reach the server's graceful shutdown.
        libs = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
        if not libs:
            self.skipTest("libfaketime is not installed (scripts/install-deps.sh installs it)")
        self.db = self.new_database()
        self.project = create_project(self.db)
        nodes = [Server(self.db) for _ in range(2)]
        nodes[1].env = {"LD_PRELOAD": libs[0], "FAKETIME": "+3s", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                        # Under AddressSanitizer its runtime must otherwise come first.
                        "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") +
                                         ":verify_asan_link_order=0").lstrip(":")}
        for node in nodes:
            self.addCleanup(node.cleanup)
            node.start()
        self.nodes = nodes
        cs = []
        for node in nodes:
            c = node.client(self.project, keep_alive=True)
            self.addCleanup(c.close)
            cs.append(c)
        self.wait_current(cs)
        email = self.signup(cs[0])["user"]["emails"][0]["email"]
        for n in range(6):
            s = self.login(cs[n % 2], email)
            for c in cs:  # Each node refreshes the other's JWT.
                self.assertSuccess(c.authenticate(session_jwt=s["session_jwt"]))
                self.assertSuccess(c.authenticate(session_token=s["session_token"]))
            self.revoke_and_check(cs, (n + 1) % 2, s, f"round {n}, node 1 three seconds ahead")


if __name__ == "__main__":
    unittest.main()
