"""Connection handling: keep-alive, idle and read timeouts, the connection limit, and the graceful
drain on SIGTERM."""

import http.client
import json
import signal
import socket
import threading
import time
import unittest

from harness import Case, ServerCase, create_project, unique_email, STRONG_PASSWORD


def closed_by_peer(sock, timeout):
    """True when the peer closes `sock` within `timeout` seconds (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class KeepAliveTest(ServerCase):
    SERVER_ARGS = ("--idle-timeout", "1", "--read-timeout", "2")

    def test_many_requests_on_one_connection(self):
        s = self.signup()
        kc = self.server.client(self.project, keep_alive=True)
        self.addCleanup(kc.close)
        self.assertSuccess(kc.get("/healthz", auth=None))
        sock = kc._conn.sock
        for i in range(200):
            if i % 4 == 0:
                r = kc.authenticate(session_token=s["session_token"])
            elif i % 4 == 1:
                r = kc.get(f"/v1/users/{s['user_id']}")
            elif i % 4 == 2:
                r = kc.authenticate(session_token="A" * 44)  # Errors keep the connection too.
                self.assertError(r, 404, "session_not_found")
                continue
            else:
                r = kc.post("/v1/sessions/authenticate", "{bad json")
                self.assertError(r, 400, "bad_request")
                continue
            self.assertSuccess(r)
            self.assertNotEqual(r.headers.get("connection", "").lower(), "close")
        self.assertIs(kc._conn.sock, sock, "the server closed the keep-alive connection")

    def test_pipelined_requests(self):
        reqs = b"".join(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(5))
        reqs += b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(reqs)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 6, data)
        self.assertIn(b'"status":"ready"', data)

    def test_idle_connection_is_closed(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b'"status":"ok"}' not in data:
                data += s.recv(65536)
            started = time.monotonic()
            self.assertTrue(closed_by_peer(s, 10), "idle connection was never closed")
            waited = time.monotonic() - started
            self.assertGreater(waited, 0.5)
            self.assertLess(waited, 5)

    def test_slow_request_is_cut_by_read_timeout(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # Headers never finish.
            started = time.monotonic()
            self.assertTrue(closed_by_peer(s, 12), "half-sent request was never cut")
            self.assertLess(time.monotonic() - started, 8)
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            self.assertTrue(closed_by_peer(s, 12), "half-sent body was never cut")

    def test_connection_close_is_honoured(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertIn(b"Connection: close", data)
        # HTTP/1.0 without keep-alive closes too.
        with socket.create_connection(self.server.address, timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.0 200"), data)


class KeepAliveReadTimeoutTest(ServerCase):
    """On a keep-alive connection the idle timeout covers only the wait for the next request; once
    its first byte arrives, the whole request must arrive within the read timeout."""
    SERVER_ARGS = ("--idle-timeout", "30", "--read-timeout", "2")

    def trickle(self, s, data, interval, budget):
        """Sends `data` a byte at a time; True when the server closed the connection meanwhile."""
        deadline = time.monotonic() + budget
        for i in range(len(data)):
            try:
                s.sendall(data[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)
        return False

    def first_response(self, s):
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while b'"status":"ok"}' not in data:
            data += s.recv(65536)

    def test_trickled_headers_after_a_first_request_are_cut(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            self.first_response(s)
            started = time.monotonic()
            second = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
            cut = self.trickle(s, second, 0.1, 12) or closed_by_peer(s, 3)
            self.assertTrue(cut, "a keep-alive request trickled past the read timeout was served")
            self.assertLess(time.monotonic() - started, 8)

    def test_headers_and_body_share_one_deadline(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            self.first_response(s)
            started = time.monotonic()
            # Headers in ~1.5 s, then the body a byte at a time: the 2 s count from the first byte.
            head = b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"
            cut = self.trickle(s, head, 1.5 / len(head), 5)
            cut = cut or self.trickle(s, b"{" + b" " * 38 + b"}", 0.2, 12) or closed_by_peer(s, 3)
            self.assertTrue(cut, "a request whose body trickled past the read timeout was served")
            self.assertLess(time.monotonic() - started, 6)

    def test_idle_keep_alive_connection_waits_for_the_idle_timeout(self):
        with socket.create_connection(self.server.address, timeout=10) as s:
            self.first_response(s)
            # Longer than the read timeout but shorter than the idle timeout: still open.
            self.assertFalse(closed_by_peer(s, 3.5))
            self.first_response(s)


class ConnectionLimitTest(ServerCase):
    SERVER_ARGS = ("--max-connections", "3", "--idle-timeout", "30")

    def test_connections_beyond_the_limit_are_closed(self):
        held = []
        try:
            for _ in range(3):
                s = socket.create_connection(self.server.address, timeout=10)
                held.append(s)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while b'"status":"ok"}' not in data:
                    data += s.recv(65536)
            extra = socket.create_connection(self.server.address, timeout=10)
            held.append(extra)
            try:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(closed_by_peer(extra, 10))
        finally:
            for s in held:
                s.close()
        # Once they are gone, the server serves again and counted the rejection.
        deadline = time.monotonic() + 10
        while True:
            try:
                samples = self.c.metrics()
                break
            except (ConnectionError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.assertGreaterEqual(samples[("tessera_connections_rejected_total", frozenset())], 1)


class DrainTest(Case):
    """SIGTERM with requests in flight: they complete, new connections are refused, exit 0."""

    # Argon2id slow enough that a passwords/authenticate is still running when SIGTERM lands.
    SLOW_ARGON2 = ("--argon2-memory-kib", "262144", "--argon2-iterations", "2")

    def test_graceful_drain(self):
        db = self.new_database()
        project = create_project(db)
        server = self.start_server(db, *self.SLOW_ARGON2, "--workers", "4", "--drain-timeout",
                                   "30", cheap_argon2=False)
        c = server.client(project, timeout=60)
        email = unique_email()
        started = time.monotonic()
        created = c.post("/v1/passwords", {"email": email, "password": STRONG_PASSWORD})
        self.assertEqual(created.status, 200, created)
        hash_seconds = time.monotonic() - started
        # An idle keep-alive connection must not hold the drain up.
        idle = socket.create_connection(server.address, timeout=10)
        self.addCleanup(idle.close)

        results = [None] * 3
        sent = [threading.Event() for _ in results]

        def login(i):
            conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
            try:
                body = json.dumps({"email": email, "password": STRONG_PASSWORD,
                                   "session_duration_minutes": 60})
                conn.request("POST", "/v1/passwords/authenticate", body=body,
                             headers={"Authorization": project.auth(),
                                      "Content-Type": "application/json"})
                sent[i].set()
                resp = conn.getresponse()
                results[i] = (resp.status, json.loads(resp.read()), time.monotonic())
            except Exception as e:  # Recorded and asserted below.
                sent[i].set()
                results[i] = ("exception", repr(e), time.monotonic())
            finally:
                conn.close()

        threads = [threading.Thread(target=login, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for e in sent:
            self.assertTrue(e.wait(30))
        time.sleep(min(0.15, hash_seconds / 4))  # Accepted and hashing, far from done.
        signalled = time.monotonic()
        server.signal(signal.SIGTERM)

        # Once the server says it is draining, new connections are refused.
        deadline = time.monotonic() + 10
        while not any(e.get("msg", "").startswith("draining") for e in server.events()):
            self.assertLess(time.monotonic(), deadline, server.stderr_text())
            time.sleep(0.01)
        refused = False
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                socket.create_connection(server.address, timeout=2).close()
                time.sleep(0.01)
            except ConnectionRefusedError:
                refused = True
                break
        self.assertTrue(refused, "new connections were still accepted while draining")

        for t in threads:
            t.join(60)
        for status, body, done in results:
            self.assertEqual(status, 200, body)
            self.assertEqual(body["status_code"], 200)
            self.assertTrue(body["session_token"])
            self.assertGreater(done, signalled)  # It really was in flight.
        self.assertTrue(closed_by_peer(idle, 5), "idle connection kept open during the drain")
        code = server.proc.wait(10)
        self.assertEqual(code, 0, server.stderr_text())
        self.assertLess(time.monotonic() - signalled, 10)
        self.assertTrue(any(e.get("msg") == "stopped" for e in server.events()))
        # The sessions created during the drain were committed.
        server2 = self.start_server(db)
        c2 = server2.client(project)
        for _, body, _ in results:
            r = c2.authenticate(session_token=body["session_token"])
            self.assertEqual(r.status, 200, r)

    def test_sigterm_when_idle_exits_at_once(self):
        db = self.new_database()
        create_project(db)
        server = self.start_server(db)
        started = time.monotonic()
        self.assertEqual(server.stop(timeout=10), 0, server.stderr_text())
        self.assertLess(time.monotonic() - started, 3)

    def test_sigint_also_drains(self):
        db = self.new_database()
        create_project(db)
        server = self.start_server(db)
        server.signal(signal.SIGINT)
        self.assertEqual(server.proc.wait(10), 0, server.stderr_text())


if __name__ == "__main__":
    unittest.main()
