"""Harness for Tessera's integration tests: the real `tessera` binary on port 0, a fresh database
per server, an HTTP client with Basic auth, and helpers that mint users and sessions.

Configuration (environment):
  TESSERA_BIN               path of the `tessera` binary (set by ctest; required).
  TESSERA_TEST_DATABASE     "sqlite" (default: a fresh file per database) or "postgresql" (a
                            fresh schema per database, created with psql in a database of the
                            test process's own, and an explicit --master-key-file in the test's
                            temporary directory).
  TESSERA_TEST_POSTGRES_URL postgresql mode: the libpq URL of a cluster where the tests may
                            create databases, e.g. postgresql://postgres@127.0.0.1:5432/tessera.
  TESSERA_TEST_POSTGRES_URL_FILE
                            postgresql mode, when TESSERA_TEST_POSTGRES_URL is unset: a file
                            holding that URL (ctest's `postgres` fixture writes one).
  TESSERA_TEST_KEEP         when set, temporary directories are kept for inspection.

Invariant: no server outlives its test. Every Server registers its own cleanup (addCleanup or
addClassCleanup) *before* it is started, and the cleanup kills it whatever the test's outcome.
"""

import atexit
import base64
import copy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

# --- Configuration ---------------------------------------------------------------------------

# Argon2id cheap enough for the sanitizer build; tests that need slow hashing pass their own.
CHEAP_ARGON2 = ("--argon2-memory-kib", "1024", "--argon2-iterations", "1")

# How long a server gets to print "listening" (the ASan build opens the store slowly).
START_TIMEOUT = 60.0

# A password zxcvbn scores 4, used wherever the password itself does not matter.
STRONG_PASSWORD = "correct-Horse-battery-staple-91-Quokka"

ERROR_KEYS = {"status_code", "request_id", "error_type", "error_message", "error_url"}

POST_ROUTES = (
    "/v1/sessions/authenticate",
    "/v1/sessions/revoke",
    "/v1/users",
    "/v1/users/search",
    "/v1/passwords",
    "/v1/passwords/authenticate",
    "/v1/passwords/migrate",
    "/v1/passwords/strength_check",
)


def tessera_bin():
    path = os.environ.get("TESSERA_BIN", "")
    if not path:
        raise RuntimeError("TESSERA_BIN is not set: run through ctest, or export "
                           "TESSERA_BIN=<build dir>/tessera")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"TESSERA_BIN={path} is not an executable file")
    return path


def child_env():
    """The environment for the binary: ours minus every TESSERA_* variable, so that a developer's
    TESSERA_DATABASE or TESSERA_MASTER_KEY_FILE can never redirect a test to a real database."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}


def run_cli(*args, check=True, timeout=120):
    """Runs `tessera <args>`; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([tessera_bin(), *args], env=child_env(), capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"tessera {' '.join(args)} exited {proc.returncode}:\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


# --- Databases -------------------------------------------------------------------------------

class Database:
    """Where a server keeps its state: a URL plus, where the URL names no file to keep it beside,
    an explicit master key file. Everything that starts the binary passes `args()`; tests that
    must look behind the API (an expiry moved into the past, a write-behind value) use `query()`,
    whose SQL is written to mean the same in SQLite and PostgreSQL."""

    kind = "abstract"

    def __init__(self, workdir):
        self.workdir = workdir
        self.url = None
        self.master_key_file = None  # None: the binary's default (SQLite: <file>.master-key).

    def args(self):
        a = ["--database", self.url]
        if self.master_key_file:
            a += ["--master-key-file", self.master_key_file]
        return a

    def with_master_key_file(self, path):
        """The same database opened with another master key file (the original is unchanged)."""
        other = copy.copy(self)
        other.master_key_file = path
        return other

    def sqlite_path(self):
        """The database file, or None when the database is not SQLite."""
        return None

    def query(self, sql, write=False):
        """Runs `sql` (one statement) beside the binary; returns its rows as lists of strings.
        Reads may run while a server does; `write` says the statement changes data (SQLite: only
        with the server stopped, a second writer on the file is not supported)."""
        raise NotImplementedError

    def cleanup(self):
        """Drops what the database holds outside the test's temporary directory."""


class SqliteDatabase(Database):
    kind = "sqlite"

    def __init__(self, workdir, name="tessera.db"):
        super().__init__(workdir)
        self.path = os.path.join(workdir, name)
        self.url = "sqlite:" + self.path

    def sqlite_path(self):
        return self.path

    def query(self, sql, write=False):
        sqlite3 = shutil.which("sqlite3")
        if sqlite3 is None:
            raise unittest.SkipTest("the sqlite3 CLI is not installed (apt-get install sqlite3)")
        cmd = [sqlite3, "-batch", "-noheader", "-separator", "|"]
        if not write:
            cmd.append("-readonly")
        out = subprocess.run([*cmd, self.path, sql], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError(f"sqlite3 {sql!r} exited {out.returncode}: {out.stderr}")
        return [line.split("|") for line in out.stdout.splitlines()]


def postgres_base_url():
    """The URL postgresql mode starts from (it makes its own database in that cluster)."""
    url = os.environ.get("TESSERA_TEST_POSTGRES_URL", "")
    if not url:
        url_file = os.environ.get("TESSERA_TEST_POSTGRES_URL_FILE", "")
        if not url_file:
            raise RuntimeError("TESSERA_TEST_DATABASE=postgresql needs TESSERA_TEST_POSTGRES_URL "
                               "or TESSERA_TEST_POSTGRES_URL_FILE (ctest's `postgres` fixture "
                               "sets the latter; by hand: scripts/pg-cluster.sh start DIR)")
        try:
            with open(url_file) as f:
                url = f.read().strip()
        except OSError as e:
            raise RuntimeError(f"cannot read TESSERA_TEST_POSTGRES_URL_FILE={url_file}: {e} "
                               "(did the pg_cluster_start fixture run?)") from e
    if not url.startswith(("postgresql://", "postgres://")):
        raise RuntimeError(f"not a PostgreSQL URL: {url!r}")
    return url


# Debian's wrapper picks the newest installed client.
PSQL = "/usr/bin/psql" if os.access("/usr/bin/psql", os.X_OK) else "psql"


def psql(url, sql, timeout=30):
    """Runs `sql` with psql against `url`; returns its rows (unaligned, '|'-separated)."""
    env = dict(child_env(), PGCONNECT_TIMEOUT="10")
    out = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                          "-d", url, "-c", sql],
                         env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"psql {sql!r} exited {out.returncode}: {out.stderr}")
    return [line.split("|") for line in out.stdout.splitlines()]


def database_url(base, name):
    """`base` naming the database `name` instead (user, host, port and parameters kept)."""
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def schema_url(base, schema):
    """`base` with every connection's search_path set to `schema` (libpq's `options`)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


_process_database = {}  # base URL -> URL of this process's database (see process_database_url)
_process_database_lock = threading.Lock()


def process_database_url(base):
    """A database of this test process's own in the cluster at `base`, made on first use and
    dropped at exit; the schemas of PostgresDatabase live in it.

    Why not schemas straight in `base`'s database: LISTEN/NOTIFY channels are per database, so
    servers in other schemas of a shared database (the other test modules ctest runs beside this
    one) would hear every change notification of every test. That made a server-side bug fail
    tests at random (a notification arriving during shutdown read destroyed caches; fixed, and
    guarded by test_multinode.ShutdownTest). The tests of one process run one after another, so
    with a database per process a server hears only the servers of its own test, like the nodes
    of one deployment."""
    with _process_database_lock:
        if base not in _process_database:
            name = f"it_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            psql(base, f"CREATE DATABASE {name}")
            if not os.environ.get("TESSERA_TEST_KEEP"):
                atexit.register(_drop_database, base, name)
            _process_database[base] = database_url(base, name)
        return _process_database[base]


def _drop_database(base, name):
    try:  # Best effort: the cluster is thrown away after the run anyway.
        psql(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except (AssertionError, subprocess.TimeoutExpired, OSError):
        pass


class PostgresDatabase(Database):
    """A fresh schema (the equivalent of a fresh SQLite file) and a master key file in `workdir`:
    PostgreSQL has no file to keep the key beside, so the binary requires it explicitly. The
    schema is made in this process's database in the test cluster, or in the database at
    `base_url` when given (a test's private cluster)."""

    kind = "postgresql"

    def __init__(self, workdir, base_url=None):
        super().__init__(workdir)
        self.base_url = base_url or process_database_url(postgres_base_url())
        self.schema = "it_" + uuid.uuid4().hex[:20]
        psql(self.base_url, f"CREATE SCHEMA {self.schema}")
        self.url = schema_url(self.base_url, self.schema)
        self.master_key_file = os.path.join(workdir, "master-key")

    def query(self, sql, write=False):
        return psql(self.url, sql)

    def cleanup(self):
        if os.environ.get("TESSERA_TEST_KEEP"):
            return
        try:  # Best effort, as above.
            psql(self.base_url, f"SET lock_timeout = '10s'; DROP SCHEMA {self.schema} CASCADE")
        except (AssertionError, subprocess.TimeoutExpired):
            pass


def database_kind():
    kind = os.environ.get("TESSERA_TEST_DATABASE", "sqlite")
    if kind not in ("sqlite", "postgresql"):
        raise RuntimeError(f"unknown TESSERA_TEST_DATABASE={kind!r} (expected sqlite or "
                           "postgresql)")
    return kind


def expected_failure_on(kind):
    """A decorator: unittest.expectedFailure when the tests run on database `kind`, the test as
    it is otherwise. For a bug of one backend only, pinned with a "BUG:" comment beside it."""
    if database_kind() == kind:
        return unittest.expectedFailure
    return lambda test: test


def new_database(workdir):
    if database_kind() == "postgresql":
        return PostgresDatabase(workdir)
    return SqliteDatabase(workdir)


# --- Projects --------------------------------------------------------------------------------

class Project:
    def __init__(self, project_id, secret):
        self.project_id = project_id
        self.secret = secret

    def auth(self):
        return basic_auth(self.project_id, self.secret)


def basic_auth(user, password):
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def create_project(db, *flags):
    """`tessera projects create --json <flags>` on `db`."""
    out = run_cli("projects", "create", *db.args(), "--json", *flags).stdout
    obj = json.loads(out.strip().splitlines()[-1])
    assert obj["project_id"].startswith("project-test-"), obj
    assert obj["secret"], obj
    return Project(obj["project_id"], obj["secret"])


def rotate_keys(db, project_id):
    out = run_cli("keys", "rotate", *db.args(), "--project", project_id, "--json").stdout
    return json.loads(out.strip().splitlines()[-1])


# --- The server process ----------------------------------------------------------------------

class Server:
    """One `tessera serve` on 127.0.0.1 port 0. stderr is read by a thread (so the pipe never fills)
    and kept in `self.log_lines`."""

    def __init__(self, db, *extra_args, cheap_argon2=True, access_log="off"):
        self.db = db
        self.args = list(extra_args)
        self.env = {}  # Variables added to the server's environment (e.g. a preloaded library).
        if cheap_argon2:
            self.args += list(CHEAP_ARGON2)
        self.access_log = access_log
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.log_lines = []
        self._lines_lock = threading.Lock()
        self._listening = threading.Event()
        self._reader = None
        self._stopping = False  # Set once the test itself signals or kills the process.

    @property
    def address(self):
        return (self.host, self.port)

    def start(self):
        self.launch()
        return self.wait_listening()

    def launch(self):
        """Starts the process and returns at once (see wait_listening)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._listening.clear()
        self.port = None
        self._stopping = False
        cmd = [tessera_bin(), "serve", *self.db.args(), "--listen", "127.0.0.1:0",
               "--access-log", self.access_log, *self.args]
        self.proc = subprocess.Popen(cmd, env={**child_env(), **self.env}, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True)
        self._reader.start()
        return self

    def wait_listening(self):
        """Waits for the "listening" line; fails if the process exits first or takes too long."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None:
                self._stopping = True  # Reported here; the cleanup need not report it again.
                self._reader.join(5)
                raise AssertionError(f"tessera serve exited {self.proc.returncode} before "
                                     f"listening:\n{self.stderr_text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"tessera serve did not listen within {START_TIMEOUT} s:\n"
                                     f"{self.stderr_text()}")
        return self

    def _read_stderr(self, proc):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lines_lock:
                self.log_lines.append(line)
            if self.port is None and '"listening"' in line:
                try:
                    event = json.loads(line)
                    host, port = event["address"].rsplit(":", 1)
                    self.host, self.port = host, int(port)
                    self._listening.set()
                except (ValueError, KeyError):
                    pass
        proc.stderr.close()

    def stderr_text(self):
        with self._lines_lock:
            return "\n".join(self.log_lines)

    def events(self):
        """The JSON event lines logged on stderr so far."""
        out = []
        with self._lines_lock:
            lines = list(self.log_lines)
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self._stopping = True
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM and wait; returns the exit code. Kills (and fails) on timeout."""
        if self.proc is None:
            return None
        self._stopping = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"tessera serve did not exit within {timeout} s of "
                                     f"SIGTERM:\n{self.stderr_text()}")
        self._reader.join(10)
        return self.proc.returncode

    def kill(self):
        """SIGKILL, for crash tests and for cleanup; never raises."""
        self._stopping = True
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self._reader is not None:
            self._reader.join(10)

    def cleanup(self):
        """Test cleanup: SIGTERM, kill if that does not work. A server still running here must
        exit 0: a sanitizer report (leak at exit, UB) or a hung drain fails the test then.
        Servers the test already stopped or killed are left to the test's own assertions."""
        if self.proc is None:
            return
        if not self.running():
            if not self._stopping:
                self._reader.join(10)
                raise AssertionError(f"tessera serve died on its own (exit "
                                     f"{self.proc.returncode}):\n{self.stderr_text()[-20000:]}")
            return
        self._stopping = True
        code = None
        try:
            self.proc.send_signal(signal.SIGTERM)
            code = self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()
        if code != 0:
            raise AssertionError(f"tessera serve exited {code} after SIGTERM (expected 0):\n"
                                 f"{self.stderr_text()[-20000:]}")

    def client(self, project=None, **kw):
        return Client(self.host, self.port, project, **kw)


# --- HTTP ------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<Response {self.status} {self.raw[:400]!r}>"


_UNSET = object()


class Client:
    """HTTP/1.1 client for one server. With keep_alive the same connection is reused; otherwise
    every request opens its own (so a test never depends on connection state by accident)."""

    def __init__(self, host, port, project=None, keep_alive=False, timeout=30.0):
        self.host = host
        self.port = port
        self.project = project
        self.keep_alive = keep_alive
        self.timeout = timeout
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self):
        if not self.keep_alive:
            return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(self, method, path, body=_UNSET, auth=_UNSET, headers=None):
        """`body`: a dict/list (sent as JSON), str/bytes (sent as is) or None (no body).
        `auth`: an Authorization header value, None for none; default: the project's."""
        hdrs = {"User-Agent": "tessera-integration-tests"}
        if auth is _UNSET:
            auth = self.project.auth() if self.project else None
        if auth is not None:
            hdrs["Authorization"] = auth
        data = None
        if body is not _UNSET and body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            hdrs["Content-Type"] = "application/json"
        if headers:
            hdrs.update(headers)
        conn = self._connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            return Response(resp.status, resp.getheaders(), raw)
        finally:
            if not self.keep_alive:
                conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body if body is not None else {}, **kw)

    def delete(self, path, body=_UNSET, **kw):
        return self.request("DELETE", path, body=body, **kw)

    # Routes, for readability of the tests.
    def authenticate(self, **body):
        return self.post("/v1/sessions/authenticate", body)

    def revoke(self, **body):
        return self.post("/v1/sessions/revoke", body)

    def metrics(self):
        r = self.get("/metrics", auth=None)
        assert r.status == 200, r
        return parse_metrics(r.raw.decode())


def raw_exchange(address, data, timeout=10.0, read_all=True):
    """Sends raw bytes on a new TCP connection and returns whatever comes back until the server
    closes (or, without read_all, until one complete response has arrived)."""
    s = socket.create_connection(address, timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server may answer and close before reading everything we send.
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_all and _complete_response(b"".join(chunks)):
                break
        return b"".join(chunks)
    finally:
        s.close()


def _complete_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return m is not None and len(body) >= int(m.group(1))


def parse_raw_response(data):
    """(status, headers dict lower-case, body bytes) of the first response in `data`."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return status, headers, body


_METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')


def parse_metrics(text):
    """{(name, frozenset of (label, value))): float} from Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- JWTs ------------------------------------------------------------------------------------

def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token):
    """(header, payload) of a compact JWS, decoded without verification."""
    h, p, _ = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p))


def verify_jwt(token, jwks, project_id):
    """Verifies `token` with PyJWT against the JWKS `keys` array; returns the payload. exp is not
    checked (tests may hold a JWT for a while); aud and iss are."""
    import jwt  # python3-jwt, Debian's; only the tests that verify JWTs need it.
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks if k["kid"] == header["kid"])
    pyjwk = jwt.PyJWK(key)
    return jwt.decode(token, pyjwk.key, algorithms=[key["alg"]], audience=project_id,
                      issuer="stytch.com/" + project_id, options={"verify_exp": False})


# --- Test bases ------------------------------------------------------------------------------

def unique_email(tag="user"):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


class Case(unittest.TestCase):
    """Assertions on the wire contract, and server/project factories whose cleanup is registered
    before anything starts."""

    maxDiff = None

    # Shape checks ----------------------------------------------------------------------------

    def assertSuccess(self, r, status=200):
        self.assertEqual(r.status, status, r)
        self.assertIsInstance(r.json, dict, r)
        self.assertEqual(r.json.get("status_code"), 200, r)
        rid = r.json.get("request_id")
        self.assertIsInstance(rid, str, r)
        self.assertTrue(rid.startswith("request-id-test-"), r)
        self.assertNotIn("error", r.json)
        return r.json

    def assertError(self, r, status, error_type):
        self.assertIsInstance(r.json, dict, r)
        self.assertEqual((r.status, r.json.get("error_type")), (status, error_type), r)
        self.assertEqual(set(r.json), ERROR_KEYS, r)
        self.assertEqual(r.json["status_code"], status, r)
        self.assertTrue(r.json["request_id"].startswith("request-id-"), r)
        self.assertIsInstance(r.json["error_message"], str)
        self.assertTrue(r.json["error_message"], r)
        self.assertEqual(r.json["error_url"],
                         f"https://stytch.com/docs/api/errors/{status}#{error_type}", r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r)
        return r.json

    def assertErrorBody(self, r):
        """Any 4xx with the error body (for generated inputs whose exact error is not fixed)."""
        self.assertTrue(400 <= r.status < 500, r)
        self.assertIsInstance(r.json, dict, r)
        self.assertEqual(set(r.json), ERROR_KEYS, r)
        self.assertEqual(r.json["status_code"], r.status, r)

    def assertSession(self, s, user_id=None):
        self.assertEqual(
            set(s), {"attributes", "authentication_factors", "custom_claims", "expires_at",
                     "last_accessed_at", "roles", "session_id", "started_at", "user_id"}, s)
        self.assertRegex(s["session_id"], r"^session-test-[0-9a-f-]{36}$")
        for k in ("started_at", "last_accessed_at", "expires_at"):
            self.assertRegex(s[k], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn("stytch_user", s["roles"])
        self.assertEqual(set(s["attributes"]), {"ip_address", "user_agent"})
        if user_id is not None:
            self.assertEqual(s["user_id"], user_id)

    def assertUser(self, u):
        for k, t in (("user_id", str), ("emails", list), ("status", str), ("phone_numbers", list),
                     ("webauthn_registrations", list), ("providers", list), ("totps", list),
                     ("crypto_wallets", list), ("biometric_registrations", list),
                     ("is_locked", bool), ("roles", list), ("name", dict),
                     ("created_at", str), ("trusted_metadata", dict),
                     ("untrusted_metadata", dict)):
            self.assertIsInstance(u.get(k), t, (k, u))
        self.assertIn("password", u)
        self.assertIn("external_id", u)
        self.assertRegex(u["user_id"], r"^user-test-[0-9a-f-]{36}$")

    def assertToken(self, token):
        self.assertRegex(token, r"^[A-Za-z0-9_-]{44}$")

    # Factories -------------------------------------------------------------------------------

    def new_workdir(self):
        d = tempfile.mkdtemp(prefix="tessera-it-")
        if not os.environ.get("TESSERA_TEST_KEEP"):
            self.addCleanup(shutil.rmtree, d, True)
        return d

    def new_database(self):
        db = new_database(self.new_workdir())
        self.addCleanup(db.cleanup)  # Runs after the cleanups of servers started later.
        return db

    def start_server(self, db, *args, **kw):
        server = Server(db, *args, **kw)
        self.addCleanup(server.cleanup)  # Registered before the process exists.
        return server.start()


class ServerCase(Case):
    """One server and one project for the whole class (tests use unique emails, so they never
    collide). Subclasses may set SERVER_ARGS and PROJECT_FLAGS."""

    SERVER_ARGS = ()
    PROJECT_FLAGS = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = tempfile.mkdtemp(prefix="tessera-it-")
        if not os.environ.get("TESSERA_TEST_KEEP"):
            cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.db = new_database(cls.workdir)
        cls.addClassCleanup(cls.db.cleanup)
        cls.project = create_project(cls.db, *cls.PROJECT_FLAGS)
        cls.server = Server(cls.db, *cls.SERVER_ARGS)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def setUp(self):
        super().setUp()
        self.assertTrue(self.server.running(), "the class's server died:\n" +
                        self.server.stderr_text())
        self.c = self.server.client(self.project)

    # Fixtures through the API ----------------------------------------------------------------

    def signup(self, client=None, email=None, password=STRONG_PASSWORD, minutes=60, **extra):
        """passwords/create; returns the response body (asserted 200)."""
        client = client or self.c
        body = {"email": email or unique_email(), "password": password, **extra}
        if minutes is not None:
            body["session_duration_minutes"] = minutes
        return self.assertSuccess(client.post("/v1/passwords", body))

    def login(self, email, client=None, password=STRONG_PASSWORD, minutes=60, **extra):
        client = client or self.c
        body = {"email": email, "password": password, **extra}
        if minutes is not None:
            body["session_duration_minutes"] = minutes
        return self.assertSuccess(client.post("/v1/passwords/authenticate", body))

    def create_user(self, client=None, **fields):
        client = client or self.c
        fields.setdefault("email", unique_email())
        return self.assertSuccess(client.post("/v1/users", fields))
