#!/usr/bin/python3
"""Can response time tell a real account from an unknown email under enumeration protection?

    bench/enumeration_bench.py [--bin PATH] [--sessions N] [--requests N] [--argon2 cheap|default]

Starts one `tessera serve` (default: build/tessera) on a throw-away SQLite database with a project
created with --enumeration-protection, fills the session cache with N sessions of another user
(each a real sign-in), then sends, alternating one by one on one keep-alive connection:
  real     passwords/authenticate for an existing account with a wrong password
  unknown  passwords/authenticate for an email that names no user (a new one each time)
Both must answer 401 unauthorized_credentials. Prints each class's latency quantiles and the
difference of medians. The project's lock threshold is raised so no account locks meanwhile.
"--argon2 cheap" (1 MiB, 1 pass) makes every other cost stand out against the hash; "default" is
what a production server runs (19 MiB, 2 passes).
"""

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "tessera bench passphrase 2026"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tessera"))
    ap.add_argument("--sessions", type=int, default=20000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--argon2", choices=("cheap", "default"), default="cheap")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="tessera-enum-")
    proc = None
    try:
        db = ["--database", f"sqlite:{work}/t.db", "--master-key-file", f"{work}/master.key"]
        project = json.loads(subprocess.run(
            [args.bin, "projects", "create", *db, "--json", "--enumeration-protection",
             "--lock-threshold", "1000"], check=True, capture_output=True, text=True).stdout)
        argon2 = ["--argon2-memory-kib", "1024", "--argon2-iterations", "1"] \
            if args.argon2 == "cheap" else []
        proc = subprocess.Popen(
            [args.bin, "serve", *db, "--listen", "127.0.0.1:0", "--access-log", "off",
             "--session-cache-size", str(max(args.sessions + 1000, 200000)), *argon2],
            stderr=subprocess.PIPE, text=True)
        address = None
        for line in proc.stderr:
            m = re.search(r'"address":"([^"]+)"', line)
            if m:
                address = m.group(1)
                break
        if address is None:
            sys.exit("the server did not start")
        threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
        host, port = address.rsplit(":", 1)
        auth = "Basic " + base64.b64encode(
            f"{project['project_id']}:{project['secret']}".encode()).decode()

        def client():
            return http.client.HTTPConnection(host, int(port), timeout=60)

        def post(conn, path, body):
            conn.request("POST", path, json.dumps(body),
                         {"Authorization": auth, "Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, json.loads(r.read())

        c = client()
        for email in ("filler@example.com", "real@example.com"):
            status, _ = post(c, "/v1/passwords", {"email": email, "password": PASSWORD})
            assert status == 200, status

        # The cache: N sessions of one other user, signed in from 8 connections at once.
        started = time.monotonic()
        def fill(n):
            fc = client()
            for _ in range(n):
                status, _ = post(fc, "/v1/passwords/authenticate",
                                 {"email": "filler@example.com", "password": PASSWORD,
                                  "session_duration_minutes": 600})
                assert status == 200, status
        per = args.sessions // 8
        threads = [threading.Thread(target=fill, args=(per,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fill_seconds = time.monotonic() - started

        c = client()  # The first one may have idled past the keep-alive timeout meanwhile.
        times = {"real": [], "unknown": []}
        for i in range(args.requests):
            order = ("real", "unknown") if i % 2 == 0 else ("unknown", "real")
            for kind in order:
                email = "real@example.com" if kind == "real" else f"ghost-{i}@example.com"
                t0 = time.perf_counter()
                status, body = post(c, "/v1/passwords/authenticate",
                                    {"email": email, "password": "not the password"})
                times[kind].append(time.perf_counter() - t0)
                assert status == 401 and body["error_type"] == "unauthorized_credentials", body

        print(f"binary: {args.bin}")
        print(f"argon2: {args.argon2}; cached sessions: {per * 8} (filled in {fill_seconds:.0f} s); "
              f"{args.requests} requests per class, interleaved")
        print("| class | min | p25 | median | p75 | p90 |")
        print("|---|---:|---:|---:|---:|---:|")
        med = {}
        for kind, ts in times.items():
            ts = sorted(ts)
            q = lambda f: ts[int(f * (len(ts) - 1))] * 1e3
            med[kind] = statistics.median(ts) * 1e3
            print(f"| {kind} | {q(0):.2f} ms | {q(0.25):.2f} ms | {med[kind]:.2f} ms | "
                  f"{q(0.75):.2f} ms | {q(0.9):.2f} ms |")
        print(f"median(real) - median(unknown) = {med['real'] - med['unknown']:+.2f} ms")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
