"""The C++ SDK as a user gets it: installed, then used from outside Tessera's build.

  1. `cmake --install <build> --prefix <tmp>/prefix`, and the expected files are there;
  2. examples/protected_api is configured and built against that prefix with plain
     `cmake -S ... -B ... -DCMAKE_PREFIX_PATH=<prefix>` (find_package(Tessera) -> Tessera::client);
  3. `pkg-config --cflags --libs tessera-client` points into the prefix, and a one-file program
     compiled with g++ and those flags runs against a live server;
  4. the real `tessera serve` and the example run, and GET /me answers as the example promises for
     no credential, a bearer JWT, the JWT cookie, the token cookie, a tampered JWT, custom claims, a
     revoked session (its token and its JWT), another path and another method; once following the
     revocation feed (the default) and once with --no-revocation-feed;
  5. both servers exit 0 on SIGTERM (under ASan that also means no leak).

Usage (ctest passes these; TESSERA_SANITIZE=ON in the environment when the build is sanitized):
  protected_api_test.py --build-dir <main build> --example-dir <examples/protected_api>
                        --tessera <path of the tessera binary>

Invariant: nothing outlives the script. Children log to files (so no reader threads exist when
the next child is forked), die with the script (PR_SET_PDEATHSIG, in case ctest kills it on a
timeout), and are stopped and the temporary directory removed in a `finally`, whatever failed.
Set TESSERA_TEST_KEEP=1 to keep the directory for inspection.
"""

import argparse
import base64
import ctypes
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The flags of the main build under TESSERA_SANITIZE (top-level CMakeLists.txt). The installed
# libtessera_client.so is sanitized then, and the ASan runtime must come first in the program
# that loads it, so everything built here gets the same flags.
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                  "-fno-omit-frame-pointer"]

# The sanitizer build starts slowly; a hang still fails well within ctest's timeout.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
CHEAP_ARGON2 = ["--argon2-memory-kib", "1024", "--argon2-iterations", "1"]
STRONG_PASSWORD = "correct-Horse-battery-staple-91-Quokka"

# A client of the installed SDK through pkg-config alone: authenticates the JWT given on the
# command line and prints the user id and how it was verified.
SMOKE_PROGRAM = r"""
#include <tessera/client/client.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  tessera::client::ClientOptions options;
  options.base_url = argv[1];
  options.project_id = argv[2];
  options.secret = argv[3];
  // One call and out: the revocation feed could not deliver its snapshot before it, so the JWT
  // would always go to the API. A long-running service keeps the feed on.
  options.revocation_feed = false;
  auto client = tessera::client::Client::Create(options);
  if (!client.ok()) return 3;
  auto result = (*client)->Sessions().AuthenticateJwt(argv[4]);
  if (!result.ok()) {
    std::cerr << result.error().error_type << ": " << result.error().error_message << "\n";
    return 4;
  }
  std::cout << result->session->user_id << " "
            << (result->verified_by == tessera::client::VerifiedBy::kLocal ? "local" : "api")
            << "\n";
  return 0;
}
"""


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def step(text):
    print(f"--- {text}", flush=True)


# --- Processes ---------------------------------------------------------------------------------

def _die_with_parent():
    """In the child, before exec: SIGKILL it when the script dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def child_env(**extra):
    """Ours minus TESSERA_* (a developer's TESSERA_DATABASE must never reach the binary)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(extra)
    return env


def run(cmd, env=None, timeout=600):
    """Runs a build step; its output goes to ours, and a failure stops the test."""
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    sys.stdout.write(proc.stdout)
    check(proc.returncode == 0, f"{cmd[0]} exited {proc.returncode}")
    return proc.stdout


class Service:
    """A long-running child whose stderr goes to a file; `wait_for` polls that file."""

    def __init__(self, name, cmd, log_path, env):
        self.name = name
        self.log_path = log_path
        print("$ " + " ".join(cmd), flush=True)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log,
                                         preexec_fn=_die_with_parent)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_for(self, pattern):
        """The first match of `pattern` in the log, once it appears."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log())
            if match:
                return match
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited {self.proc.returncode} before "
                              f"listening:\n{self.log()}")
            time.sleep(0.05)
        raise Failure(f"{self.name} did not start within {START_TIMEOUT} s:\n{self.log()}")

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# --- HTTP --------------------------------------------------------------------------------------

def http_request(address, method, path, headers=None, body=None):
    """(status, headers, body): the body parsed as JSON, or as text when it is not JSON."""
    host, port = address
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        res = conn.getresponse()
        raw = res.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return res.status, {k.lower(): v for k, v in res.getheaders()}, parsed
    finally:
        conn.close()


def basic_auth(project):
    raw = f"{project['project_id']}:{project['secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def tessera_call(address, project, path, body):
    status, _, parsed = http_request(address, "POST", path, basic_auth(project), body)
    check(status == 200, f"POST {path} answered {status}: {parsed}")
    return parsed


def tamper(jwt):
    """The JWT with one character in the middle of its signature changed."""
    header, payload, signature = jwt.split(".")
    i = len(signature) // 2
    flipped = "B" if signature[i] == "A" else "A"
    return ".".join([header, payload, signature[:i] + flipped + signature[i + 1:]])


# --- The test ----------------------------------------------------------------------------------

def expect_error(address, what, status, headers, method="GET", path="/me"):
    got, hdrs, body = http_request(address, method, path, headers)
    check(got == status, f"{what}: expected {status}, got {got} {body}")
    check(hdrs.get("content-type", "").startswith("application/json"),
          f"{what}: Content-Type is {hdrs.get('content-type')!r}")
    check(isinstance(body, dict) and set(body) == {"error_type", "error_message"} and
          all(isinstance(v, str) and v for v in body.values()),
          f"{what}: not the example's JSON error body: {body}")
    print(f"ok: {what} -> {got} {body['error_type']}", flush=True)
    return body


def serves_feed(address, project):
    """Whether the server serves the revocation feed (GET /v1/sessions/revocations, long poll)."""
    status, _, _ = http_request(address, "GET", "/v1/sessions/revocations?wait=0",
                                basic_auth(project))
    check(status in (200, 404), f"probing the revocation feed answered {status}")
    return status == 200


def wait_for_local(address, jwt):
    """Until /me verifies `jwt` locally: the feed's first snapshot has arrived."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        status, _, body = http_request(address, "GET", "/me", {"Authorization": "Bearer " + jwt})
        if status == 200 and body.get("verified_by") == "local":
            return
        time.sleep(0.05)
    raise Failure("the example with the revocation feed never verified a JWT locally")


def wait_for_refusal(address, what, headers):
    """Until /me answers 401 (the revocation is in the feed, or the API refuses)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        status, _, _ = http_request(address, "GET", "/me", headers)
        if status == 401:
            return expect_error(address, what, 401, headers)
        time.sleep(0.02)
    raise Failure(f"{what}: never refused")


def expect_me(address, what, headers, user_id, session_id, verified_by, claims):
    got, hdrs, body = http_request(address, "GET", "/me", headers)
    check(got == 200, f"{what}: expected 200, got {got} {body}")
    check(hdrs.get("content-type", "").startswith("application/json"),
          f"{what}: Content-Type is {hdrs.get('content-type')!r}")
    expected = {"user_id": user_id, "session_id": session_id, "custom_claims": claims,
                "verified_by": verified_by}
    check(body == expected, f"{what}: expected {expected}, got {body}")
    print(f"ok: {what} -> 200 verified_by={verified_by}", flush=True)


def install_and_build(args, tmp, sanitize):
    prefix = os.path.join(tmp, "prefix")
    step("install the SDK")
    run(["cmake", "--install", args.build_dir, "--prefix", prefix])
    for header in ("tessera/client/client.h", "tessera/client/outcome.h",
                   "tessera/client/transport.h", "tessera/clock.h"):
        check(os.path.isfile(os.path.join(prefix, "include", header)), f"{header} not installed")
    configs = glob.glob(os.path.join(prefix, "lib*", "**", "cmake", "Tessera",
                                     "TesseraConfig.cmake"), recursive=True)
    check(len(configs) == 1, f"expected one TesseraConfig.cmake under {prefix}, found {configs}")
    pcs = glob.glob(os.path.join(prefix, "lib*", "**", "pkgconfig", "tessera-client.pc"),
                    recursive=True)
    check(len(pcs) == 1, f"expected one tessera-client.pc under {prefix}, found {pcs}")

    step("build examples/protected_api against the installed package")
    build = os.path.join(tmp, "build")
    configure = ["cmake", "-S", args.example_dir, "-B", build, "-DCMAKE_PREFIX_PATH=" + prefix]
    if sanitize:
        configure.append("-DCMAKE_CXX_FLAGS=" + " ".join(SANITIZE_FLAGS))
    run(configure)
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        found = re.search(r"^Tessera_DIR:PATH=(.*)$", f.read(), re.M)
    check(found and found.group(1).startswith(prefix),
          f"find_package(Tessera) did not use the prefix: {found and found.group(1)}")
    output = run(["cmake", "--build", build, "-j2"])
    # Only the example's own code counts: GCC reports -Wmaybe-uninitialized false positives inside
    # Boost.Beast when optimizing with the sanitizers on, despite Boost being a system header.
    own_warning = re.compile("^" + re.escape(os.path.realpath(args.example_dir)) +
                             r"/[^:]+:\d+:\d+: warning:", re.M)
    check(not own_warning.search(output), "the example compiles with warnings")
    example = os.path.join(build, "protected_api")
    check(os.access(example, os.X_OK), f"{example} was not built")

    step("pkg-config tessera-client")
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]))
    flags = run(["pkg-config", "--cflags", "--libs", "tessera-client"], env=env).split()
    libdir = run(["pkg-config", "--variable=libdir", "tessera-client"], env=env).strip()
    check(f"-I{prefix}/include" in flags, f"--cflags does not point into the prefix: {flags}")
    check(os.path.realpath(libdir) == os.path.realpath(os.path.dirname(os.path.dirname(pcs[0]))),
          f"libdir {libdir} is not where the .pc file was installed")
    source = os.path.join(tmp, "smoke.cc")
    with open(source, "w") as f:
        f.write(SMOKE_PROGRAM)
    smoke = os.path.join(tmp, "smoke")
    run(["g++", "-std=c++20", *(SANITIZE_FLAGS if sanitize else []), source, "-o", smoke,
         *flags])
    return example, smoke, libdir


def run_servers(args, tmp, example, smoke, libdir, services):
    step("start tessera serve and the example")
    db = "sqlite:" + os.path.join(tmp, "tessera.db")
    out = run([args.tessera, "projects", "create", "--database", db, "--json"], env=child_env())
    project = json.loads(out.strip().splitlines()[-1])
    tessera = Service("tessera serve",
                      [args.tessera, "serve", "--database", db, "--listen", "127.0.0.1:0",
                       "--access-log", "off", *CHEAP_ARGON2],
                      os.path.join(tmp, "tessera.log"), child_env())
    services.append(tessera)
    match = tessera.wait_for(r'"msg":"listening".*?"address":"([0-9.]+):(\d+)"')
    api = (match.group(1), int(match.group(2)))
    base_url = f"http://{api[0]}:{api[1]}"

    # FEED: `tessera serve` does not serve the revocation feed yet (it is being built). With the
    # feed on (the default), the example then sends every JWT to the API, as the SDK fails
    # closed; once the server serves it, JWTs are verified locally again and a revoked session's
    # JWT is refused at once. This test checks whichever the server under test does.
    feed = serves_feed(api, project)
    print(f"tessera serve {'serves' if feed else 'does not serve'} the revocation feed", flush=True)
    jwt_verified_by = "local" if feed else "api"
    example_args = ["--listen", "127.0.0.1:0", "--tessera-url", base_url,
                    "--project-id", project["project_id"], "--secret", project["secret"]]
    service = Service("protected_api", [example, *example_args],
                      os.path.join(tmp, "example.log"), child_env())
    services.append(service)
    match = service.wait_for(r"listening on ([0-9.]+):(\d+)")
    me = (match.group(1), int(match.group(2)))
    no_feed = Service("protected_api --no-revocation-feed",
                      [example, *example_args, "--no-revocation-feed"],
                      os.path.join(tmp, "example-no-feed.log"), child_env())
    services.append(no_feed)
    match = no_feed.wait_for(r"listening on ([0-9.]+):(\d+)")
    me_no_feed = (match.group(1), int(match.group(2)))

    step("a password user with a session")
    created = tessera_call(api, project, "/v1/passwords",
                           {"email": "example-user@example.com", "password": STRONG_PASSWORD,
                            "session_duration_minutes": 60})
    user_id = created["user_id"]
    token, jwt = created["session_token"], created["session_jwt"]
    session_id = created["session"]["session_id"]
    check(user_id and token and jwt and session_id, f"no session in {created}")

    step("GET /me")
    if feed:
        wait_for_local(me, jwt)
    expect_error(me, "no credential", 401, {})
    expect_error(me, "Authorization: Basic (not a bearer)", 401,
                 {"Authorization": "Basic dXNlcjpwYXNz"})
    expect_me(me, "bearer JWT", {"Authorization": "Bearer " + jwt}, user_id, session_id,
              jwt_verified_by, {})
    expect_me(me, "JWT cookie", {"Cookie": "theme=dark; stytch_session_jwt=" + jwt}, user_id,
              session_id, jwt_verified_by, {})
    expect_me(me_no_feed, "bearer JWT, feed off", {"Authorization": "Bearer " + jwt}, user_id,
              session_id, "local", {})
    expect_me(me, "token cookie", {"Cookie": "stytch_session=" + token + "; theme=dark"},
              user_id, session_id, "api", {})
    expect_error(me, "tampered JWT", 401, {"Authorization": "Bearer " + tamper(jwt)})
    expect_error(me, "tampered JWT cookie", 401, {"Cookie": "stytch_session_jwt=" + tamper(jwt)})
    expect_error(me, "unknown token", 401, {"Cookie": "stytch_session=" + "x" * 44})
    expect_error(me, "another path", 404, {"Authorization": "Bearer " + jwt}, path="/admin")
    expect_error(me, "another method", 405, {"Authorization": "Bearer " + jwt}, method="POST")

    step("custom claims")
    claims = {"plan": "pro", "org": {"id": 42, "name": "Acme \"Quoted\""}}
    refreshed = tessera_call(api, project, "/v1/sessions/authenticate",
                             {"session_token": token, "session_custom_claims": claims})
    expect_me(me, "bearer JWT with custom claims",
              {"Authorization": "Bearer " + refreshed["session_jwt"]}, user_id, session_id,
              jwt_verified_by, claims)
    expect_me(me, "token cookie with custom claims", {"Cookie": "stytch_session=" + token},
              user_id, session_id, "api", claims)

    step("the pkg-config program against the live server")
    proc = subprocess.run([smoke, base_url, project["project_id"], project["secret"], jwt],
                          env=dict(os.environ, LD_LIBRARY_PATH=libdir), capture_output=True,
                          text=True, timeout=60)
    check(proc.returncode == 0 and proc.stdout.split() == [user_id, "local"],
          f"smoke program exited {proc.returncode}: {proc.stdout!r} {proc.stderr!r}")
    print(f"ok: smoke program -> {proc.stdout.strip()}", flush=True)

    step("revoke")
    tessera_call(api, project, "/v1/sessions/revoke", {"session_token": token})
    expect_error(me, "revoked token cookie", 401, {"Cookie": "stytch_session=" + token})
    # Following the feed, a JWT issued before the revocation is refused too: locally once the
    # revocation arrives (within about 100 ms), or by the API while the feed cannot vouch.
    wait_for_refusal(me, "revoked session's bearer JWT", {"Authorization": "Bearer " + jwt})
    expect_error(me, "revoked session's JWT cookie", 401, {"Cookie": "stytch_session_jwt=" + jwt})
    # Without the feed, it still verifies locally until it expires (5 minutes): the trade-off
    # plain local verification makes, which is why /me reports verified_by.
    expect_me(me_no_feed, "revoked session's bearer JWT, feed off",
              {"Authorization": "Bearer " + jwt}, user_id, session_id, "local", {})

    step("SIGTERM")
    for s in (service, no_feed, tessera):
        code = s.stop()
        check(code == 0, f"{s.name} exited {code} on SIGTERM:\n{s.log()}")
        print(f"ok: {s.name} exited 0", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--example-dir", required=True)
    parser.add_argument("--tessera", required=True)
    args = parser.parse_args()
    sanitize = os.environ.get("TESSERA_SANITIZE", "OFF").upper() in ("1", "ON", "TRUE", "YES")

    # ctest stops a test with SIGTERM (or SIGINT on ^C): unwind so the `finally` runs.
    def interrupted(signum, _):
        raise Failure(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    tmp = tempfile.mkdtemp(prefix="tessera-example-")
    services = []
    try:
        example, smoke, libdir = install_and_build(args, tmp, sanitize)
        run_servers(args, tmp, example, smoke, libdir, services)
    except (Failure, OSError, subprocess.SubprocessError) as e:
        print(f"FAIL: {e}", flush=True)
        for s in services:
            print(f"--- {s.name} log:\n{s.log()}", flush=True)
        return 1
    finally:
        for s in services:
            s.stop()
        if os.environ.get("TESSERA_TEST_KEEP"):
            print(f"kept {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
