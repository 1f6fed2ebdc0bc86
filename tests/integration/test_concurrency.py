"""Concurrency: parallel authenticates, revoke racing authenticate, parallel sign-ups of one
email."""

import threading
import time
import unittest

from harness import ServerCase, unique_email, STRONG_PASSWORD


def run_threads(n, target):
    errors = []

    def wrapped(i):
        try:
            target(i)
        except BaseException as e:  # Surfaced in the main thread.
            errors.append((i, e))

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


class ConcurrencyTest(ServerCase):
    SERVER_ARGS = ("--threads", "2", "--workers", "4")

    def test_parallel_authenticates(self):
        sessions = [self.signup() for _ in range(8)]
        results = [[] for _ in sessions]

        def worker(i):
            c = self.server.client(self.project, keep_alive=True)
            try:
                for n in range(50):
                    if n % 10 == 9:
                        r = c.authenticate(session_jwt=sessions[i]["session_jwt"])
                    else:
                        r = c.authenticate(session_token=sessions[i]["session_token"])
                    results[i].append((r.status, r.json["session"]["session_id"]
                                       if r.status == 200 else r.raw))
            finally:
                c.close()

        self.assertEqual(run_threads(8, worker), [])
        for i, s in enumerate(sessions):
            self.assertEqual(results[i], [(200, s["session"]["session_id"])] * 50)

    def test_revoke_racing_authenticate(self):
        for round_ in range(6):
            s = self.signup()
            token = s["session_token"]
            stop = threading.Event()
            revoked_at = [None]
            seen = [[] for _ in range(4)]

            def hammer(i):
                c = self.server.client(self.project, keep_alive=True)
                try:
                    while not stop.is_set():
                        started = time.monotonic()
                        r = c.authenticate(session_token=token)
                        seen[i].append((started, r.status))
                finally:
                    c.close()

            threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.05 + 0.02 * round_)
            r = self.c.revoke(session_token=token if round_ % 2 else None,
                              session_id=None if round_ % 2 else s["session"]["session_id"])
            revoked_at[0] = time.monotonic()
            self.assertSuccess(r)
            time.sleep(0.1)
            stop.set()
            for t in threads:
                t.join(30)
            for i in range(4):
                self.assertLessEqual({st for _, st in seen[i]}, {200, 404})
                after = [st for started, st in seen[i] if started > revoked_at[0]]
                self.assertTrue(after, "no request started after the revoke")
                self.assertEqual(set(after), {404}, f"round {round_}, thread {i}")
                # Per connection, once 404 always 404.
                statuses = [st for _, st in seen[i]]
                if 404 in statuses:
                    first = statuses.index(404)
                    self.assertEqual(set(statuses[first:]), {404}, statuses)

    def test_parallel_signups_of_one_email(self):
        email = unique_email()
        statuses = [None] * 8

        def worker(i):
            c = self.server.client(self.project)
            r = c.post("/v1/passwords", {"email": email, "password": STRONG_PASSWORD,
                                         "session_duration_minutes": 60})
            statuses[i] = (r.status, r.json.get("error_type"))

        self.assertEqual(run_threads(8, worker), [])
        self.assertEqual(sorted(statuses),
                         [(200, None)] + [(400, "duplicate_email")] * 7, statuses)
        found = self.assertSuccess(self.c.post("/v1/users/search", {"query": {
            "operator": "AND", "operands": [{"filter_name": "email_address",
                                             "filter_value": [email]}]}}))
        self.assertEqual(found["results_metadata"]["total"], 1)

    def test_parallel_logins_create_distinct_sessions(self):
        s = self.signup(minutes=None)
        email = s["user"]["emails"][0]["email"]
        tokens = [None] * 8

        def worker(i):
            c = self.server.client(self.project)
            r = c.post("/v1/passwords/authenticate", {"email": email, "password": STRONG_PASSWORD,
                                                      "session_duration_minutes": 60})
            tokens[i] = (r.status, r.json.get("session_token"))

        self.assertEqual(run_threads(8, worker), [])
        self.assertEqual({st for st, _ in tokens}, {200})
        self.assertEqual(len({t for _, t in tokens}), 8)
        listed = self.assertSuccess(self.c.get(f"/v1/sessions?user_id={s['user_id']}"))
        self.assertEqual(len(listed["sessions"]), 8)


if __name__ == "__main__":
    unittest.main()
