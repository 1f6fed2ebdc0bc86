"""The revocation feed, GET /v1/sessions/revocations (docs/revocation.md), over real HTTP against
the real binary: the server-sent event stream (headers, snapshot, revoke frames with their exact
members and consecutive ids, heartbeats with sequence and lag_ms), resuming with Last-Event-ID or
`after` (also across a restart), the long poll, isolation between projects, the time from a
revoke to its frame, several nodes (PostgreSQL), a node whose database stops answering going
silent so that its followers fail closed (PostgreSQL), and SIGSTOP / SIGTERM of the server.

The stream is read by EventStream below: a raw socket, a thread that decodes the chunked body and
the frames and stamps each frame with the time it arrived, so that the tests can count heartbeats
and measure latencies while they make revocations. Timing assertions are generous ranges (the
machine may be loaded); the latencies observed are written to stderr.
"""

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import (Case, PostgresDatabase, Server, ServerCase, basic_auth, create_project,
                     database_kind, run_cli, unique_email, ERROR_KEYS, STRONG_PASSWORD)

FEED = "/v1/sessions/revocations"
SESSION_ENTRY = {"sequence", "kind", "session_id", "user_id", "revoked_at", "relevant_until"}
USER_ENTRY = {"sequence", "kind", "user_id", "not_before", "revoked_at", "relevant_until"}
JWT_LIFETIME = 300  # relevant_until - revoked_at (docs/revocation.md).

# A revoke reaches an open stream of the same node (or of another node, PostgreSQL) within this
# long: the feed promises 100 ms to the SDK; 1 s leaves room for a loaded or sanitizer machine.
FRAME_DEADLINE = 1.0
# How long to wait for a frame that must come (a heartbeat comes every 250 ms).
FRAME_TIMEOUT = 5.0

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_CLUSTER = os.path.join(REPO, "scripts", "pg-cluster.sh")

LATENCIES = {}  # What -> [seconds]: reported at the end of the module.


def tearDownModule():
    for what, values in sorted(LATENCIES.items()):
        if values:
            sys.stderr.write(f"\n  revoke -> frame ({what}): n={len(values)} "
                             f"median {statistics.median(values) * 1000:.1f} ms, "
                             f"max {max(values) * 1000:.1f} ms")
    if LATENCIES:
        sys.stderr.write("\n")


# --- Reading the stream ----------------------------------------------------------------------

class Frame:
    """One server-sent event: its fields (`event`, `id` or None), `data` parsed as JSON, the field
    names in the order sent, and `t`, the monotonic time its last byte arrived."""

    def __init__(self, fields, t):
        self.names = [name for name, _ in fields]
        values = dict(fields)
        self.event = values.get("event")
        self.id = values.get("id")
        self.raw_data = "\n".join(v for name, v in fields if name == "data")
        self.data = json.loads(self.raw_data) if "data" in values else None
        self.t = t

    def __repr__(self):
        return f"<{self.event} id={self.id} {self.raw_data[:300]}>"


class EventStream:
    """A GET of the feed as server-sent events on a socket of its own. `status`, `headers`
    (lower-case names) and, for an answer that is not a stream, `body` / `json` are set when the
    constructor returns; a stream's frames are then read by a thread into `frames`.

    `ended` is None while the stream is open, then "complete" (the last chunk arrived),
    "eof" (closed without it) or "reset"."""

    def __init__(self, address, auth, query="", headers=None, accept="text/event-stream",
                 timeout=10.0):
        self.frames = []
        self.ended = None
        self.ended_at = None
        self._pos = 0
        self._cond = threading.Condition()
        self._thread = None
        self.sock = socket.create_connection(address, timeout=timeout)
        lines = [f"GET {FEED}{query} HTTP/1.1", f"Host: {address[0]}:{address[1]}",
                 "User-Agent: tessera-integration-tests"]
        if accept:
            lines.append(f"Accept: {accept}")
        if auth:
            lines.append(f"Authorization: {auth}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._buf = b""
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"the connection closed before the response headers: "
                                     f"{self._buf!r}")
            self._buf += chunk
        head, _, self._buf = self._buf.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        self.status = int(head_lines[0].split(" ")[1])
        self.headers = {}
        for line in head_lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.body = None
        self.json = None
        if self.headers.get("transfer-encoding") != "chunked":
            # An ordinary answer (an error): read its body and close.
            length = int(self.headers.get("content-length", "0"))
            while len(self._buf) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self._buf += chunk
            self.body = self._buf[:length]
            try:
                self.json = json.loads(self.body)
            except ValueError:
                pass
            self.sock.close()
            self.ended = "not a stream"
            return
        self.sock.settimeout(None)  # The thread blocks in recv until data, EOF or close().
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def __repr__(self):
        return f"<EventStream {self.status} {self.headers} body={self.body!r}>"

    # The reader thread ---------------------------------------------------------------------

    def _recv(self):
        try:
            return self.sock.recv(65536)
        except OSError:
            return None

    def _read(self):
        buf, text, how = self._buf, "", None
        try:
            while how is None:
                # One chunk: "<hex size>\r\n<data>\r\n"; size 0 ends the body.
                while b"\r\n" not in buf:
                    more = self._recv()
                    if not more:
                        how = "eof" if more == b"" else "reset"
                        break
                    buf += more
                if how:
                    break
                size_line, _, buf = buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(buf) < size + 2:
                    more = self._recv()
                    if not more:
                        how = "eof" if more == b"" else "reset"
                        break
                    buf += more
                if how:
                    break
                data, buf = buf[:size], buf[size + 2:]
                if size == 0:
                    how = "complete"
                    break
                text += data.decode("utf-8")
                now = time.monotonic()
                while "\n\n" in text:
                    block, _, text = text.partition("\n\n")
                    fields = []
                    for line in block.split("\n"):
                        if line.startswith(":"):
                            continue  # A comment.
                        name, _, value = line.partition(":")
                        fields.append((name, value[1:] if value.startswith(" ") else value))
                    frame = Frame(fields, now)
                    with self._cond:
                        self.frames.append(frame)
                        self._cond.notify_all()
        finally:
            with self._cond:
                self.ended = how or "reset"
                self.ended_at = time.monotonic()
                self._cond.notify_all()

    # For the tests -------------------------------------------------------------------------

    def close(self):
        if self._thread is None:
            return
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(10)
        self.sock.close()

    def next(self, timeout=FRAME_TIMEOUT, skip_heartbeats=True):
        """The next frame not consumed yet (heartbeats skipped unless asked for); fails on
        timeout or when the stream ends first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                while self._pos < len(self.frames):
                    frame = self.frames[self._pos]
                    self._pos += 1
                    if not (skip_heartbeats and frame.event == "heartbeat"):
                        return frame
                if self.ended is not None:
                    raise AssertionError(f"the stream ended ({self.ended}) while a frame was "
                                         f"expected; frames: {self.frames[-5:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no frame within {timeout} s; last frames: "
                                         f"{self.frames[-5:]}")
                self._cond.wait(left)

    def heartbeat_after(self, t, timeout=FRAME_TIMEOUT):
        """The first heartbeat that arrived after monotonic time `t` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for frame in self.frames:
                    if frame.event == "heartbeat" and frame.t > t:
                        return frame
                if self.ended is not None:
                    raise AssertionError(f"the stream ended ({self.ended}) before a heartbeat")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no heartbeat within {timeout} s; last frames: "
                                         f"{self.frames[-5:]}")
                self._cond.wait(left)

    def pending(self):
        """Frames not consumed yet, other than heartbeats (the cursor does not move)."""
        with self._cond:
            return [f for f in self.frames[self._pos:] if f.event != "heartbeat"]

    def between(self, t0, t1, event=None):
        with self._cond:
            return [f for f in self.frames if t0 <= f.t < t1 and event in (None, f.event)]

    def wait_ended(self, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.ended is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.ended


# --- Shared helpers --------------------------------------------------------------------------

class FeedCase(Case):
    """Opening streams and long polls, making and revoking sessions, and the frame checks."""

    def open_stream(self, server, project, **kw):
        s = EventStream(server.address, project.auth(), **kw)
        self.addCleanup(s.close)
        return s

    def open_feed(self, server, project, **kw):
        """A stream that must answer 200 as server-sent events; returns (stream, first frame)."""
        s = self.open_stream(server, project, **kw)
        self.assertEqual(s.status, 200, s)
        return s, s.next()

    def long_poll(self, server, project, query, timeout=45.0):
        """(response, seconds it took) of GET FEED?query (a long poll: `wait` in the query)."""
        c = server.client(project, timeout=timeout)
        started = time.monotonic()
        r = c.get(FEED + query)
        return r, time.monotonic() - started

    def head(self, server, project):
        """The project's head sequence number (a long poll that does not wait)."""
        r, _ = self.long_poll(server, project, "?wait=0")
        return self.assertSuccess(r)["sequence"]

    def signup(self, c):
        body = {"email": unique_email(), "password": STRONG_PASSWORD,
                "session_duration_minutes": 60}
        return self.assertSuccess(c.post("/v1/passwords", body))

    def login(self, c, email):
        return self.assertSuccess(c.post("/v1/passwords/authenticate", {
            "email": email, "password": STRONG_PASSWORD, "session_duration_minutes": 60}))

    def revoke(self, c, s, by="session_id"):
        """Revokes session `s` (a signup/login body) by `by`; returns the wall-clock bounds of
        the revocation (whole seconds) for checking revoked_at."""
        value = s["session"]["session_id"] if by == "session_id" else s[by]
        before = int(time.time())
        self.assertSuccess(c.revoke(**{by: value}))
        return before, int(time.time())

    def revoke_concurrently(self, clients, sessions):
        """Revokes `sessions` from one thread per client (each its share, by all three means);
        returns {session_id: session}."""
        failures = []

        def worker(i):
            c = clients[i]
            for n, s in enumerate(sessions[i::len(clients)]):
                by = ("session_id", "session_token", "session_jwt")[n % 3]
                value = s["session"]["session_id"] if by == "session_id" else s[by]
                r = c.revoke(**{by: value})
                if r.status != 200:
                    failures.append(r)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        return {s["session"]["session_id"]: s for s in sessions}

    def assertAllInOrder(self, stream, revoked, what):
        """The next len(revoked) frames are revoke frames 1, 2, ... naming exactly `revoked`."""
        got = []
        for n in range(1, len(revoked) + 1):
            f = stream.next()
            self.assertRevokeFrame(f, n)
            got.append(f.data["session_id"])
        self.assertEqual(sorted(got), sorted(revoked), what)
        self.assertQuiet(stream, len(revoked), what)
        return got

    def assertSessionEntry(self, e, sequence, s, when):
        self.assertEqual(set(e), SESSION_ENTRY, e)
        self.assertEqual((e["sequence"], e["kind"], e["session_id"], e["user_id"]),
                         (sequence, "session", s["session"]["session_id"], s["user_id"]), e)
        self.assertIsInstance(e["revoked_at"], int, e)
        self.assertTrue(when[0] <= e["revoked_at"] <= when[1], (e, when))
        self.assertEqual(e["relevant_until"], e["revoked_at"] + JWT_LIFETIME, e)

    def assertUserEntry(self, e, sequence, user_id, when):
        self.assertEqual(set(e), USER_ENTRY, e)
        self.assertEqual((e["sequence"], e["kind"], e["user_id"]), (sequence, "user", user_id), e)
        self.assertIsInstance(e["revoked_at"], int, e)
        self.assertTrue(when[0] <= e["revoked_at"] <= when[1], (e, when))
        # Moved forward by the 5 s of clock difference the nodes tolerate (docs/revocation.md).
        self.assertEqual(e["not_before"], e["revoked_at"] + 5, e)
        self.assertEqual(e["relevant_until"], e["revoked_at"] + JWT_LIFETIME, e)

    def assertRevokeFrame(self, f, sequence):
        """A revoke frame: event, id (= the entry's sequence) and data, in that order."""
        self.assertEqual((f.event, f.names), ("revoke", ["event", "id", "data"]), f)
        self.assertEqual(f.id, str(sequence), f)
        self.assertEqual(f.data["sequence"], sequence, f)

    def assertSnapshot(self, f):
        self.assertEqual((f.event, f.names), ("snapshot", ["event", "id", "data"]), f)
        self.assertEqual(set(f.data), {"sequence", "lag_ms", "entries"}, f)
        self.assertEqual(f.id, str(f.data["sequence"]), f)
        self.assertIsInstance(f.data["entries"], list, f)
        return f.data

    def assertHeartbeat(self, f, sequence=None, fresh=True):
        self.assertEqual((f.event, f.names), ("heartbeat", ["event", "data"]), f)
        self.assertEqual(set(f.data), {"sequence", "lag_ms"}, f)
        self.assertIsInstance(f.data["lag_ms"], int, f)
        self.assertGreaterEqual(f.data["lag_ms"], 0, f)
        if fresh:  # A node sends no heartbeat it cannot vouch for (staleness bound: 1 s).
            self.assertLessEqual(f.data["lag_ms"], 1000, f)
        if sequence is not None:
            self.assertEqual(f.data["sequence"], sequence, f)
        return f.data

    def assertQuiet(self, stream, sequence, what):
        """No revoke or snapshot frame is pending on `stream`, and a heartbeat sent at least
        0.3 s after this call (three poll intervals: the node has read the log again since)
        still says `sequence`: nothing was added."""
        hb = stream.heartbeat_after(time.monotonic() + 0.3)
        self.assertEqual(stream.pending(), [], what)
        self.assertHeartbeat(hb, sequence)

    def assertLongPoll(self, r, snapshot):
        body = self.assertSuccess(r)
        self.assertEqual(set(body), {"request_id", "status_code", "snapshot", "sequence",
                                     "lag_ms", "entries"}, body)
        self.assertIs(body["snapshot"], snapshot, body)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r)
        self.assertEqual(r.headers.get("cache-control"), "no-store", r)
        self.assertLessEqual(body["lag_ms"], 1000, body)
        return body


class FeedServerCase(FeedCase, ServerCase):
    """One server for the class; each test makes its own project (sequence numbers are per
    project, so every test starts from 0)."""

    def setUp(self):
        super().setUp()
        self.p = create_project(self.db)
        self.c = self.server.client(self.p)


# --- The stream ------------------------------------------------------------------------------

class StreamTest(FeedServerCase):
    def test_headers_snapshot_and_heartbeats(self):
        for accept in ("text/event-stream", None):  # No `wait`: a stream whatever the Accept.
            with self.subTest(accept=accept):
                s = self.open_stream(self.server, self.p, accept=accept)
                self.assertEqual(s.status, 200, s)
                self.assertEqual(s.headers.get("content-type"), "text/event-stream")
                self.assertEqual(s.headers.get("cache-control"), "no-store")
                self.assertEqual(s.headers.get("x-accel-buffering"), "no")
                self.assertEqual(s.headers.get("transfer-encoding"), "chunked")
                self.assertNotIn("content-length", s.headers)
                first = s.next()
                snap = self.assertSnapshot(first)
                self.assertEqual((snap["sequence"], snap["entries"]), (0, []), first)
                self.assertGreaterEqual(snap["lag_ms"], 0)
                self.assertLessEqual(snap["lag_ms"], 1000)
                s.close()
        s = self.open_stream(self.server, self.p)
        self.assertSnapshot(s.next())
        started = time.monotonic()
        time.sleep(2.0)
        beats = s.between(started, time.monotonic(), "heartbeat")
        for hb in beats:
            self.assertHeartbeat(hb, 0)
        # Every 250 ms: about 8 in 2 s. The range only catches "none", "one" or a flood.
        self.assertTrue(4 <= len(beats) <= 16, f"{len(beats)} heartbeats in 2 s: {beats}")
        self.assertEqual(s.pending(), [])
        self.assertIsNone(s.ended)

    def test_credentials_are_required(self):
        other = create_project(self.db)
        pid = self.p.project_id
        for what, auth in (("none", None),
                           ("wrong secret", basic_auth(pid, self.p.secret + "x")),
                           ("another project's secret", basic_auth(pid, other.secret)),
                           ("unknown project", basic_auth(
                               "project-test-00000000-0000-0000-0000-000000000000",
                               self.p.secret))):
            for query in ("", "?after=0&wait=1"):
                with self.subTest(what=what, query=query):
                    s = EventStream(self.server.address, auth, query=query)
                    self.assertEqual(s.ended, "not a stream", s)
                    self.assertEqual((s.status, (s.json or {}).get("error_type")),
                                     (401, "unauthorized_credentials"), s)
                    self.assertEqual(set(s.json), ERROR_KEYS, s.json)
                    self.assertEqual(s.json["status_code"], 401, s.json)
                    self.assertTrue(s.headers.get("content-type", "")
                                    .startswith("application/json"), s)

    def test_bad_parameters(self):
        c = self.server.client(self.p, timeout=10)
        for query in ("?after=-1", "?after=x", "?after=", "?after=1.5", "?after=+1",
                      "?after=99999999999999999999",
                      "?wait=31", "?wait=x", "?wait=-1", "?wait=", "?wait=1e1",
                      "?after=0&wait=31", "?after=-1&wait=1", "?after=0&wait=x"):
            with self.subTest(query=query):
                self.assertError(c.get(FEED + query), 400, "bad_request")

    def test_each_kind_of_revocation_is_one_revoke_frame(self):
        s1, s2, s3 = self.signup(self.c), self.signup(self.c), self.signup(self.c)
        doomed = self.signup(self.c)  # Deleted with three sessions: still one entry.
        email = doomed["user"]["emails"][0]["email"]
        self.login(self.c, email)
        self.login(self.c, email)
        lonely = self.assertSuccess(self.c.post("/v1/users", {"email": unique_email()}))
        stream, first = self.open_feed(self.server, self.p)
        self.assertEqual(self.assertSnapshot(first)["sequence"], 0)

        when = self.revoke(self.c, s1, "session_id")
        f = stream.next()
        self.assertRevokeFrame(f, 1)
        self.assertSessionEntry(f.data, 1, s1, when)
        when = self.revoke(self.c, s2, "session_token")
        f = stream.next()
        self.assertRevokeFrame(f, 2)
        self.assertSessionEntry(f.data, 2, s2, when)
        when = self.revoke(self.c, s3, "session_jwt")
        f = stream.next()
        self.assertRevokeFrame(f, 3)
        self.assertSessionEntry(f.data, 3, s3, when)
        before = int(time.time())
        self.assertSuccess(self.c.delete(f"/v1/users/{doomed['user_id']}"))
        f = stream.next()
        self.assertRevokeFrame(f, 4)
        self.assertUserEntry(f.data, 4, doomed["user_id"], (before, int(time.time())))
        self.assertQuiet(stream, 4, "a deleted user's sessions are not listed one by one")
        before = int(time.time())
        self.assertSuccess(self.c.delete(f"/v1/users/{lonely['user_id']}"))
        f = stream.next()
        self.assertRevokeFrame(f, 5)
        self.assertUserEntry(f.data, 5, lonely["user_id"], (before, int(time.time())))

        # What revokes nothing logs nothing: the same session again, an unknown one, a session
        # of the deleted user, an unknown user.
        self.assertError(self.c.revoke(session_id=s1["session"]["session_id"]), 404,
                         "session_not_found")
        self.assertError(self.c.revoke(session_id="session-test-00000000-0000-0000-0000-"
                                                  "000000000000"), 404, "session_not_found")
        self.assertError(self.c.revoke(session_token=doomed["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.delete(f"/v1/users/{doomed['user_id']}"), 404, "user_not_found")
        self.assertQuiet(stream, 5, "failed revocations")

    def test_a_password_reset_is_one_user_entry(self):
        # Resetting a password ends every session of the user: one entry, however many there were.
        s = self.signup(self.c)
        email = s["user"]["emails"][0]["email"]
        self.login(self.c, email)
        stream, first = self.open_feed(self.server, self.p)
        head = self.assertSnapshot(first)["sequence"]
        before = int(time.time())
        self.assertSuccess(self.c.post("/v1/passwords/existing_password/reset", {
            "email": email, "existing_password": STRONG_PASSWORD,
            "new_password": STRONG_PASSWORD + "-New"}))
        f = stream.next()
        self.assertRevokeFrame(f, head + 1)
        self.assertUserEntry(f.data, head + 1, s["user_id"], (before, int(time.time())))
        self.assertQuiet(stream, head + 1, "the reset's sessions are not listed one by one")
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")

    def test_snapshot_holds_earlier_revocations_of_this_project_only(self):
        other = create_project(self.db)
        oc = self.server.client(other)
        s1, s2 = self.signup(self.c), self.signup(self.c)
        doomed = self.signup(self.c)
        o1, o2 = self.signup(oc), self.signup(oc)
        when1 = self.revoke(self.c, s1, "session_token")
        self.revoke(oc, o1)  # Interleaved with the first project's: numbered on its own.
        when2 = self.revoke(self.c, s2, "session_jwt")
        before = int(time.time())
        self.assertSuccess(self.c.delete(f"/v1/users/{doomed['user_id']}"))
        when3 = (before, int(time.time()))

        stream, first = self.open_feed(self.server, self.p)
        snap = self.assertSnapshot(first)
        self.assertEqual(snap["sequence"], 3, snap)
        entries = snap["entries"]
        self.assertEqual([e["sequence"] for e in entries], [1, 2, 3], entries)
        self.assertSessionEntry(entries[0], 1, s1, when1)
        self.assertSessionEntry(entries[1], 2, s2, when2)
        self.assertUserEntry(entries[2], 3, doomed["user_id"], when3)

        other_stream, other_first = self.open_feed(self.server, other)
        other_snap = self.assertSnapshot(other_first)
        self.assertEqual(other_snap["sequence"], 1, other_snap)
        self.assertEqual([e["session_id"] for e in other_snap["entries"]],
                         [o1["session"]["session_id"]])

        # Live: the other project's revocation reaches its own stream only.
        when = self.revoke(oc, o2)
        f = other_stream.next()
        self.assertRevokeFrame(f, 2)
        self.assertSessionEntry(f.data, 2, o2, when)
        self.assertQuiet(stream, 3, "another project's revocation")
        r, _ = self.long_poll(self.server, self.p, "?after=3&wait=0")
        self.assertEqual(self.assertLongPoll(r, False)["entries"], [])
        r, _ = self.long_poll(self.server, self.p, "?wait=0")
        self.assertEqual([e["sequence"] for e in self.assertLongPoll(r, True)["entries"]],
                         [1, 2, 3])
        all_ids = json.dumps(self.assertLongPoll(r, True)["entries"])
        for s in (o1, o2):
            self.assertNotIn(s["session"]["session_id"], all_ids)
            self.assertNotIn(s["user_id"], all_ids)

    def test_revoke_reaches_an_open_stream_quickly(self):
        # Latency sanity, not a benchmark: from sending the revoke to the frame's arrival.
        sessions = [self.signup(self.c) for _ in range(10)]
        stream, first = self.open_feed(self.server, self.p)
        self.assertSnapshot(first)
        latencies = []
        for n, s in enumerate(sessions, start=1):
            sent = time.monotonic()
            self.assertSuccess(self.c.revoke(session_id=s["session"]["session_id"]))
            f = stream.next()
            self.assertRevokeFrame(f, n)
            latencies.append(f.t - sent)
        LATENCIES.setdefault(f"one node, {database_kind()}", []).extend(latencies)
        self.assertLess(max(latencies), FRAME_DEADLINE, latencies)
        # Several streams of one project all get it.
        streams = [self.open_feed(self.server, self.p)[0] for _ in range(3)]
        s = self.signup(self.c)
        sent = time.monotonic()
        self.assertSuccess(self.c.revoke(session_token=s["session_token"]))
        for st in [stream, *streams]:
            f = st.next()
            self.assertRevokeFrame(f, 11)
            self.assertLess(f.t - sent, FRAME_DEADLINE, f)


class ConcurrencyTest(FeedServerCase):
    def test_concurrent_revocations_arrive_once_each_in_sequence(self):
        # Numbers follow commit order: a follower reading "everything after N" while revokes
        # commit side by side sees every one, once, with ids 1, 2, 3... and no gap.
        sessions = [self.signup(self.c) for _ in range(24)]
        streams = [self.open_feed(self.server, self.p)[0] for _ in range(2)]
        clients = [self.server.client(self.p, keep_alive=True) for _ in range(4)]
        for c in clients:
            self.addCleanup(c.close)
        revoked = self.revoke_concurrently(clients, sessions)
        orders = [self.assertAllInOrder(st, revoked, "concurrent revokes") for st in streams]
        self.assertEqual(orders[0], orders[1], "two followers saw different orders")


class ResumeTest(FeedServerCase):
    def test_last_event_id_resumes_after_a_disconnection(self):
        sessions = [self.signup(self.c) for _ in range(6)]
        stream, first = self.open_feed(self.server, self.p)
        self.assertSnapshot(first)
        when = self.revoke(self.c, sessions[0])
        f = stream.next()
        self.assertSessionEntry(f.data, 1, sessions[0], when)
        last_id = f.id
        stream.close()
        # Made while the follower is away.
        whens = [self.revoke(self.c, sessions[i], by)
                 for i, by in ((1, "session_token"), (2, "session_jwt"))]

        for how in ("Last-Event-ID", "after"):
            with self.subTest(how=how):
                kw = ({"headers": {"Last-Event-ID": last_id}} if how == "Last-Event-ID"
                      else {"query": f"?after={last_id}"})
                resumed, f = self.open_feed(self.server, self.p, **kw)
                self.assertRevokeFrame(f, 2)  # No snapshot: straight to what was missed.
                self.assertSessionEntry(f.data, 2, sessions[1], whens[0])
                f = resumed.next()
                self.assertRevokeFrame(f, 3)
                self.assertSessionEntry(f.data, 3, sessions[2], whens[1])
                self.assertQuiet(resumed, 3, "after the missed entries")
                resumed.close()

        # Resuming at the head: no snapshot, no entry, heartbeats; then the live stream.
        resumed = self.open_stream(self.server, self.p, headers={"Last-Event-ID": "3"},
                                   accept=None)
        self.assertEqual(resumed.status, 200, resumed)
        hb = resumed.heartbeat_after(0)
        self.assertHeartbeat(hb, 3)
        self.assertIs(hb, resumed.frames[0], "the first frame of a resumed stream")
        when = self.revoke(self.c, sessions[3])
        f = resumed.next()
        self.assertRevokeFrame(f, 4)
        self.assertSessionEntry(f.data, 4, sessions[3], when)

        # From 0 (everything is still within the retention): every entry, as revoke frames.
        resumed, f = self.open_feed(self.server, self.p, headers={"Last-Event-ID": "0"})
        got = [f] + [resumed.next() for _ in range(3)]
        for n, f in enumerate(got, start=1):
            self.assertRevokeFrame(f, n)
        self.assertQuiet(resumed, 4, "after a resume from 0")

        # A Last-Event-ID that is not a sequence number: a fresh snapshot.
        fresh, f = self.open_feed(self.server, self.p, headers={"Last-Event-ID": "x"})
        self.assertEqual([e["sequence"] for e in self.assertSnapshot(f)["entries"]],
                         [1, 2, 3, 4])

    def test_resume_across_a_restart(self):
        db = self.new_database()
        p = create_project(db)
        server = Server(db)
        self.addCleanup(server.cleanup)
        server.start()
        c = server.client(p)
        sessions = [self.signup(c) for _ in range(4)]
        stream, first = self.open_feed(server, p)
        self.assertSnapshot(first)
        whens = [self.revoke(c, sessions[0]), self.revoke(c, sessions[1])]
        seen = [stream.next(), stream.next()]
        for n, f in enumerate(seen, start=1):
            self.assertRevokeFrame(f, n)
        self.assertEqual(server.stop(), 0, server.stderr_text())
        self.assertIsNotNone(stream.wait_ended(5), "the stream outlived its server")

        server.start()  # Same database, another port.
        c = server.client(p)
        whens.append(self.revoke(c, sessions[2]))  # While the follower is away.
        resumed, f = self.open_feed(server, p, headers={"Last-Event-ID": seen[-1].id})
        self.assertRevokeFrame(f, 3)
        self.assertSessionEntry(f.data, 3, sessions[2], whens[2])
        whens.append(self.revoke(c, sessions[3]))
        f = resumed.next()
        self.assertRevokeFrame(f, 4)
        self.assertSessionEntry(f.data, 4, sessions[3], whens[3])
        # A new follower's snapshot holds the entries of before and after the restart.
        fresh, f = self.open_feed(server, p)
        snap = self.assertSnapshot(f)
        self.assertEqual(snap["sequence"], 4)
        for n, (e, s, when) in enumerate(zip(snap["entries"], sessions, whens), start=1):
            self.assertSessionEntry(e, n, s, when)


# --- The long poll ---------------------------------------------------------------------------

class LongPollTest(FeedServerCase):
    def test_waits_then_answers_no_entries(self):
        self.revoke(self.c, self.signup(self.c))
        r, seconds = self.long_poll(self.server, self.p, "?after=1&wait=2")
        body = self.assertLongPoll(r, False)
        self.assertEqual((body["sequence"], body["entries"]), (1, []), body)
        self.assertTrue(1.5 <= seconds < 10.0, f"answered after {seconds:.2f} s")

    def test_a_revocation_during_the_wait_is_answered_at_once(self):
        s = self.signup(self.c)
        result = {}

        def poll():
            result["r"], result["seconds"] = self.long_poll(self.server, self.p,
                                                            "?after=0&wait=20")
            result["done"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        try:
            time.sleep(0.5)  # The poll is waiting (it would wait 20 s).
            self.assertNotIn("r", result, "answered before anything happened")
            sent = time.monotonic()
            when = self.revoke(self.c, s, "session_token")
        finally:
            t.join(30)
        body = self.assertLongPoll(result["r"], False)
        self.assertEqual(body["sequence"], 1, body)
        self.assertEqual(len(body["entries"]), 1, body)
        self.assertSessionEntry(body["entries"][0], 1, s, when)
        latency = result["done"] - sent
        LATENCIES.setdefault(f"long poll, {database_kind()}", []).append(latency)
        self.assertLess(latency, FRAME_DEADLINE, f"answered {latency:.2f} s after the revoke")

    def test_entries_already_there_and_wait_zero_answer_at_once(self):
        sessions = [self.signup(self.c) for _ in range(3)]
        whens = [self.revoke(self.c, s) for s in sessions]
        r, seconds = self.long_poll(self.server, self.p, "?after=1&wait=30")
        body = self.assertLongPoll(r, False)
        self.assertEqual(body["sequence"], 3, body)
        for n, e in enumerate(body["entries"], start=2):
            self.assertSessionEntry(e, n, sessions[n - 1], whens[n - 1])
        self.assertEqual(len(body["entries"]), 2, body)
        self.assertLess(seconds, 2.0)
        r, seconds = self.long_poll(self.server, self.p, "?after=3&wait=0")
        body = self.assertLongPoll(r, False)
        self.assertEqual((body["sequence"], body["entries"]), (3, []), body)
        self.assertLess(seconds, 2.0)
        # Without `after`: a snapshot of every relevant entry, also when asked to wait.
        for query in ("?wait=0", "?wait=30"):
            with self.subTest(query=query):
                r, seconds = self.long_poll(self.server, self.p, query)
                body = self.assertLongPoll(r, True)
                self.assertEqual(body["sequence"], 3, body)
                for n, e in enumerate(body["entries"], start=1):
                    self.assertSessionEntry(e, n, sessions[n - 1], whens[n - 1])
                self.assertLess(seconds, 2.0)


# --- Relevance and retention (revoked_at moved back with SQL, no waiting) -----------------------

class RetentionTest(FeedCase):
    def test_old_entries_leave_the_snapshot_and_old_ids_get_one(self):
        # Entry 1 is past the retention (15 min), entry 2 past relevant_until plus the largest
        # verifier tolerance (300 + 300 s), entry 3 past relevant_until only: a verifier with a
        # clock tolerance still needs it. Moved back while the server is stopped (SQLite: one
        # writer), so the node reads the log as it is now when it first follows the project.
        db = self.new_database()
        p = create_project(db)
        server = Server(db)
        self.addCleanup(server.cleanup)
        server.start()
        c = server.client(p)
        sessions = [self.signup(c) for _ in range(4)]
        for s in sessions:
            self.revoke(c, s)
        self.assertEqual(server.stop(), 0, server.stderr_text())
        for sequence, back in ((1, 901), (2, 610), (3, 590)):
            db.query(f"UPDATE revocation_log SET revoked_at = revoked_at - {back} "
                     f"WHERE project_id = '{p.project_id}' AND sequence = {sequence}",
                     write=True)
        server.start()
        stream, f = self.open_feed(server, p)
        snap = self.assertSnapshot(f)
        self.assertEqual(snap["sequence"], 4, snap)
        self.assertEqual([e["sequence"] for e in snap["entries"]], [3, 4], snap)
        e3 = snap["entries"][0]
        self.assertEqual(e3["relevant_until"], e3["revoked_at"] + JWT_LIFETIME, e3)
        self.assertLess(e3["relevant_until"], time.time(), "entry 3 is past relevant_until")
        r, _ = self.long_poll(server, p, "?wait=0")
        self.assertEqual([e["sequence"] for e in self.assertLongPoll(r, True)["entries"]],
                         [3, 4])
        # Resuming after 1: entry 2 is still held (within the retention), so no snapshot.
        resumed, f = self.open_feed(server, p, headers={"Last-Event-ID": "1"})
        self.assertEqual([f.data["sequence"]] + [resumed.next().data["sequence"]
                                                  for _ in range(2)], [2, 3, 4])
        self.assertEqual(f.event, "revoke", f)
        r, _ = self.long_poll(server, p, "?after=1&wait=5")
        self.assertEqual([e["sequence"] for e in self.assertLongPoll(r, False)["entries"]],
                         [2, 3, 4])
        # Resuming after 0: entry 1 is gone, so a fresh snapshot says where the follower stands.
        resumed, f = self.open_feed(server, p, headers={"Last-Event-ID": "0"})
        snap = self.assertSnapshot(f)
        self.assertEqual((snap["sequence"], [e["sequence"] for e in snap["entries"]]),
                         (4, [3, 4]), snap)
        r, seconds = self.long_poll(server, p, "?after=0&wait=5")
        body = self.assertLongPoll(r, True)
        self.assertEqual([e["sequence"] for e in body["entries"]], [3, 4], body)
        self.assertLess(seconds, 2.0, "a snapshot is answered at once")


# --- Options and HTTP corner cases -----------------------------------------------------------

class OptionsTest(FeedCase):
    def test_bad_feed_options_are_refused_at_start(self):
        db = self.new_database()
        for option, value in (("--revocation-heartbeat-ms", "5"),
                              ("--revocation-heartbeat-ms", "1000"),
                              ("--revocation-poll-ms", "0"),
                              ("--revocation-poll-ms", "1000")):
            with self.subTest(option=option, value=value):
                proc = run_cli("serve", *db.args(), "--listen", "127.0.0.1:0", option, value,
                               check=False, timeout=60)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn(option, proc.stderr)

    def test_heartbeat_interval_option(self):
        db = self.new_database()
        p = create_project(db)
        server = self.start_server(db, "--revocation-heartbeat-ms", "100")
        stream, f = self.open_feed(server, p)
        self.assertSnapshot(f)
        started = time.monotonic()
        time.sleep(1.0)
        beats = stream.between(started, time.monotonic(), "heartbeat")
        # Every 100 ms: about 10 in 1 s (the default, 250 ms, would give about 4).
        self.assertTrue(6 <= len(beats) <= 20, f"{len(beats)} heartbeats in 1 s")


class HttpTest(FeedServerCase):
    def raw(self, request, seconds=0.6):
        """What the server sends on a new connection for `request` within `seconds`."""
        s = socket.create_connection(self.server.address, timeout=seconds)
        out = b""
        try:
            s.sendall(request.encode())
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        finally:
            s.close()
        return out

    # HEAD of the feed answers the headers only, as every other GET route does
    # (test_service.test_head_on_get_routes): no frames, no long-poll body.
    def test_head_answers_headers_only(self):
        auth = self.p.auth()
        for query in ("", "?wait=0"):
            with self.subTest(query=query):
                got = self.raw(f"HEAD {FEED}{query} HTTP/1.1\r\nHost: x\r\n"
                               f"Authorization: {auth}\r\n\r\n")
                head, sep, body = got.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 200 "), got[:300])
                self.assertEqual(body, b"", f"a body after the headers of HEAD: {body[:200]!r}")

    # HTTP/1.0 knows no chunked encoding (RFC 9112 6.1): an HTTP/1.0 request gets the frames as
    # they are, the end of the stream marked by closing (nginx talks HTTP/1.0 to upstreams unless
    # proxy_http_version 1.1 is set).
    def test_http_1_0_gets_no_chunked_encoding(self):
        got = self.raw(f"GET {FEED} HTTP/1.0\r\nAuthorization: {self.p.auth()}\r\n\r\n")
        head, _, body = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200 ") or head.startswith(b"HTTP/1.1 200 "),
                        got[:300])
        self.assertNotIn(b"transfer-encoding", head.lower(), head)
        self.assertTrue(body.startswith(b"event: snapshot\nid: 0\n"), body[:200])

    # A Last-Event-ID (or `after`) beyond the project's head (a restored or failed-over
    # database, another deployment's id) never hides entries: the node holds the stream silent
    # until a fresh read shows the position does not exist, then sends a snapshot; the long poll
    # answers a snapshot. (A node a poll behind another also sees such a position for a moment;
    # it then simply continues from it once it has caught up.)
    def test_an_id_beyond_the_head_does_not_hide_entries(self):
        s = self.signup(self.c)
        stream = self.open_stream(self.server, self.p, headers={"Last-Event-ID": "5"})
        self.assertEqual(stream.status, 200, stream)
        time.sleep(0.3)
        when = self.revoke(self.c, s)  # Entry 1 of this project.
        deadline = time.monotonic() + 2.0
        seen = None
        while seen is None and time.monotonic() < deadline:
            for f in stream.frames:
                if f.event == "snapshot":
                    seen = next((e for e in f.data["entries"] if e["sequence"] == 1), seen)
                elif f.event == "revoke" and f.data["sequence"] == 1:
                    seen = f.data
            time.sleep(0.05)
        self.assertIsNotNone(seen, f"entry 1 never reached a follower resuming at 5: "
                                   f"{stream.frames[:4]}")
        self.assertSessionEntry(seen, 1, s, when)
        for f in stream.frames:
            if f.event == "heartbeat":
                self.assertLessEqual(f.data["sequence"], 1, f)
        r, _ = self.long_poll(self.server, self.p, "?after=10&wait=1")
        body = self.assertLongPoll(r, True)
        self.assertEqual(body["sequence"], 1, body)


# --- The server process: SIGSTOP, SIGTERM ----------------------------------------------------

class ProcessTest(FeedCase):
    def setUp(self):
        super().setUp()
        self.db = self.new_database()
        self.p = create_project(self.db)
        self.server = self.start_server(self.db)
        self.c = self.server.client(self.p)

    def test_a_stopped_server_sends_nothing_and_resumes(self):
        s = self.signup(self.c)
        stream, first = self.open_feed(self.server, self.p)
        self.assertSnapshot(first)
        self.assertHeartbeat(stream.heartbeat_after(time.monotonic()), 0)
        pid = self.server.proc.pid

        def cont():
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

        self.addCleanup(cont)  # Runs before the server's cleanup (SIGTERM).
        os.kill(pid, signal.SIGSTOP)
        stopped = time.monotonic()
        time.sleep(1.5)
        continued = time.monotonic()
        cont()
        # What was in flight when the signal landed may still arrive; nothing after that.
        self.assertEqual(stream.between(stopped + 0.2, continued), [])
        self.assertIsNone(stream.ended)
        hb = self.assertHeartbeat(stream.heartbeat_after(continued), 0, fresh=True)
        self.assertGreaterEqual(hb["lag_ms"], 0)
        when = self.revoke(self.c, s)
        f = stream.next()
        self.assertRevokeFrame(f, 1)
        self.assertSessionEntry(f.data, 1, s, when)

    def test_sigterm_ends_an_open_stream_promptly(self):
        stream, first = self.open_feed(self.server, self.p)
        self.assertSnapshot(first)
        idle = self.server.client(self.p, keep_alive=True)  # An idle keep-alive connection too.
        self.addCleanup(idle.close)
        self.assertEqual(idle.get("/healthz", auth=None).status, 200)
        started = time.monotonic()
        self.server.signal(signal.SIGTERM)
        code = self.server.proc.wait(30)
        seconds = time.monotonic() - started
        self.assertEqual(code, 0, self.server.stderr_text())
        self.assertLess(seconds, 5.0, f"exited {seconds:.1f} s after SIGTERM (drain: 9 s)")
        self.assertFalse(any("drain timeout" in line for line in self.server.log_lines),
                         self.server.stderr_text())
        # Ended by the server with the last chunk, not cut.
        self.assertEqual(stream.wait_ended(5), "complete")

    # A long poll does not hold the SIGTERM drain: it is answered (entries: []) or closed at once,
    # and the follower polls another node. Here with a 3 s drain.
    def test_sigterm_ends_an_open_long_poll_promptly(self):
        self.server.stop()
        self.server = self.start_server(self.db, "--drain-timeout", "3")
        head = self.head(self.server, self.p)
        result = {}

        def poll():
            try:
                result["r"], _ = self.long_poll(self.server, self.p, f"?after={head}&wait=30")
            except OSError as e:  # The server may end the poll without an answer.
                result["error"] = e

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.5)
        started = time.monotonic()
        self.server.signal(signal.SIGTERM)
        try:
            code = self.server.proc.wait(30)
        finally:
            t.join(40)
        seconds = time.monotonic() - started
        self.assertEqual(code, 0, self.server.stderr_text())
        self.assertLess(seconds, 2.0, f"exited {seconds:.1f} s after SIGTERM (drain: 3 s)")
        # Either answered (entries: []) or closed: the follower polls another node at once.
        if "r" in result:
            self.assertEqual(self.assertLongPoll(result["r"], False)["entries"], [])


# --- Several nodes and database outages (PostgreSQL) -----------------------------------------

def postgres_only(cls):
    if database_kind() != "postgresql":
        return unittest.skip("needs a shared store (and a PostgreSQL to stop): PostgreSQL only")(
            cls)
    return cls


@postgres_only
class MultiNodeTest(FeedCase):
    def test_a_revocation_on_one_node_reaches_streams_on_the_others(self):
        db = self.new_database()
        p = create_project(db)
        nodes = [Server(db) for _ in range(3)]
        for node in nodes:
            self.addCleanup(node.cleanup)
        for node in nodes:
            node.launch()
        for node in nodes:
            node.wait_listening()
        a = nodes[0].client(p)
        sessions = [self.signup(a) for _ in range(8)]
        doomed = self.signup(a)
        streams = []
        for node in nodes[1:]:
            stream, first = self.open_feed(node, p)
            self.assertEqual(self.assertSnapshot(first)["sequence"], 0)
            streams.append(stream)
        latencies = []
        for n, s in enumerate(sessions, start=1):
            revoker = nodes[n % 3].client(p)  # Every node revokes in turn.
            sent = time.monotonic()
            when = self.revoke(revoker, s, ("session_id", "session_token", "session_jwt")[n % 3])
            for stream in streams:
                f = stream.next()
                self.assertRevokeFrame(f, n)
                self.assertSessionEntry(f.data, n, s, when)
                latencies.append(f.t - sent)
        LATENCIES.setdefault("another node, postgresql", []).extend(latencies)
        self.assertLess(max(latencies), FRAME_DEADLINE, latencies)
        before = int(time.time())
        self.assertSuccess(a.delete(f"/v1/users/{doomed['user_id']}"))
        for stream in streams:
            f = stream.next(timeout=FRAME_DEADLINE)
            self.assertRevokeFrame(f, 9)
            self.assertUserEntry(f.data, 9, doomed["user_id"], (before, int(time.time())))
        # Revokes committed side by side on all three nodes: every node's stream gets each
        # once, numbered 10, 11, ... in the same order (the numbers follow commit order).
        more = [self.signup(a) for _ in range(18)]
        clients = [node.client(p, keep_alive=True) for node in nodes]
        for c in clients:
            self.addCleanup(c.close)
        revoked = self.revoke_concurrently(clients, more)
        orders = []
        for i, stream in enumerate(streams):
            got = []
            for n in range(10, 10 + len(more)):
                f = stream.next()
                self.assertRevokeFrame(f, n)
                got.append(f.data["session_id"])
            self.assertEqual(sorted(got), sorted(revoked), f"node {i + 2}")
            self.assertQuiet(stream, 9 + len(more), f"node {i + 2}")
            orders.append(got)
        self.assertEqual(orders[0], orders[1])
        head = 9 + len(more)
        # A long poll waiting on node 3 is answered when node 1 revokes.
        s = self.signup(a)
        result = {}

        def poll():
            result["r"], _ = self.long_poll(nodes[2], p, f"?after={head}&wait=20")
            result["done"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        try:
            time.sleep(0.5)
            self.assertNotIn("r", result)
            sent = time.monotonic()
            self.assertSuccess(a.revoke(session_id=s["session"]["session_id"]))
        finally:
            t.join(30)
        body = self.assertLongPoll(result["r"], False)
        self.assertEqual([e["sequence"] for e in body["entries"]], [head + 1], body)
        self.assertLess(result["done"] - sent, FRAME_DEADLINE)
        # Resuming on another node than the one followed before: nothing missed.
        resumed, f = self.open_feed(nodes[0], p, headers={"Last-Event-ID": str(head - 1)})
        self.assertEqual([f.data["sequence"], resumed.next().data["sequence"]],
                         [head, head + 1])


@postgres_only
class FailClosedTest(FeedCase):
    """A node whose database stops answering stops vouching for its view: its streams go quiet
    (no heartbeats once lag_ms would pass 1000) so that followers fail closed, and speak again
    once the database is back. A private cluster: stopping the shared one would break the tests
    running beside this one."""

    def private_cluster(self):
        parent = tempfile.mkdtemp(prefix="tessera-it-pg-")
        if not os.environ.get("TESSERA_TEST_KEEP"):
            self.addCleanup(shutil.rmtree, parent, True)
        cluster = os.path.join(parent, "pg")
        self.addCleanup(self.cluster_cmd, "stop", cluster)  # After the node's cleanup (LIFO).
        url = self.cluster_cmd("start", cluster).strip().splitlines()[-1]
        return cluster, url

    def cluster_cmd(self, cmd, cluster):
        out = subprocess.run([PG_CLUSTER, cmd, cluster], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, f"pg-cluster.sh {cmd}: {out.stdout}{out.stderr}")
        return out.stdout

    def postgres_processes(self, cluster):
        """The postmaster of `cluster` and its children (from /proc), as test_multinode does."""
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
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(entry))
        return pids

    def assertGoesQuiet(self, stream, down, what):
        """Heartbeats stop within a couple of seconds of `down`, and none of those sent in
        between claims a lag past the staleness bound (1 s). Waits until down + 3 s."""
        time.sleep(max(0.0, down + 3.0 - time.monotonic()))
        after = stream.between(down, down + 3.0, "heartbeat")
        for hb in after:
            self.assertHeartbeat(hb, fresh=True)
        late = [hb for hb in after if hb.t > down + 2.0]
        self.assertEqual(late, [], f"{what}: heartbeats still sent "
                                   f"{[round(hb.t - down, 2) for hb in late]} s after")
        self.assertIsNone(stream.ended, f"{what}: the stream must stay open (quiet)")

    def assertSpeaksAgain(self, stream, up, timeout, what):
        hb = stream.heartbeat_after(up, timeout=timeout)
        self.assertHeartbeat(hb, fresh=True)
        return hb.t - up

    def test_a_node_without_its_database_goes_quiet_and_recovers(self):
        cluster, url = self.private_cluster()
        db = PostgresDatabase(self.new_workdir(), base_url=url)
        self.addCleanup(db.cleanup)
        p = create_project(db)
        other = create_project(db)
        server = self.start_server(db)
        c = server.client(p)
        self.assertSuccess(server.client(other).post("/v1/users/search", {}))  # Known, cached.
        sessions = [self.signup(c) for _ in range(3)]
        stream, first = self.open_feed(server, p)
        self.assertSnapshot(first)
        self.assertHeartbeat(stream.heartbeat_after(time.monotonic()), 0)

        # 1. The database hangs (every PostgreSQL process SIGSTOPped: a frozen host).
        pids = self.postgres_processes(cluster)

        def thaw():
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass

        self.addCleanup(thaw)  # Before the cluster's stop, which a frozen postmaster ignores.
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        down = time.monotonic()
        self.assertGoesQuiet(stream, down, "database hung")
        # A new follower of the same project gets the node's view, but it says how old it is.
        late, f = self.open_feed(server, p)
        self.assertGreater(self.assertSnapshot(f)["lag_ms"], 1000, f)
        late.close()
        r, _ = self.long_poll(server, p, "?after=0&wait=0")
        self.assertEqual(r.status, 200, r)
        self.assertGreater(r.json["lag_ms"], 1000, r.json)
        thaw()
        up = time.monotonic()
        hung_recovery = self.assertSpeaksAgain(stream, up, 15.0, "after the hang")
        when = self.revoke(c, sessions[0])
        f = stream.next()
        self.assertRevokeFrame(f, 1)
        self.assertSessionEntry(f.data, 1, sessions[0], when)

        # 2. The database is down (stopped: connections refused), then back on the same port.
        self.cluster_cmd("pause", cluster)
        down = time.monotonic()
        self.assertGoesQuiet(stream, down, "database stopped")
        # A project the node does not follow yet cannot be read: 503, not an empty snapshot.
        unfollowed = EventStream(server.address, other.auth())
        self.assertEqual((unfollowed.status, (unfollowed.json or {}).get("error_type")),
                         (503, "service_unavailable"), unfollowed)
        self.cluster_cmd("resume", cluster)
        up = time.monotonic()
        stopped_recovery = self.assertSpeaksAgain(stream, up, 20.0, "after the restart")
        when = self.revoke(c, sessions[1], "session_token")
        f = stream.next()
        self.assertRevokeFrame(f, 2)
        self.assertSessionEntry(f.data, 2, sessions[1], when)
        sys.stderr.write(f"\n  heartbeats resumed {hung_recovery:.2f} s after a hung database "
                         f"was continued, {stopped_recovery:.2f} s after a stopped one was "
                         f"started again\n")


if __name__ == "__main__":
    unittest.main()
