"""The unauthenticated service endpoints and routing: /healthz, /readyz, /metrics, the JWKS,
unknown routes, wrong methods and HEAD."""

import base64
import hashlib
import time
import unittest

from harness import ServerCase, basic_auth, metric, jwt_parts, verify_jwt


class HealthTest(ServerCase):
    def test_healthz(self):
        r = self.c.get("/healthz", auth=None)
        body = self.assertSuccess(r)
        self.assertEqual(body["status"], "ok")
        self.assertEqual(r.headers["content-type"], "application/json")

    def test_readyz(self):
        body = self.assertSuccess(self.c.get("/readyz", auth=None))
        self.assertEqual(body["status"], "ready")

    def test_health_ignores_credentials(self):
        # Wrong credentials on an unauthenticated route change nothing.
        self.assertSuccess(self.c.get("/healthz", auth="Basic Zm9vOmJhcg=="))

    def test_request_ids_are_unique(self):
        ids = {self.c.get("/healthz", auth=None).json["request_id"] for _ in range(20)}
        self.assertEqual(len(ids), 20)


class MetricsTest(ServerCase):
    def metrics_after(self, ready, timeout=10.0):
        """The metrics once `ready` holds (the server counts a request just after sending its
        response, so the last one may lag a little, a lot on a loaded machine)."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.c.metrics()
            if ready(m):
                return m
            if time.monotonic() > deadline:
                self.fail(f"the counters did not move within {timeout} s")
            time.sleep(0.02)

    def test_prometheus_text(self):
        r = self.c.get("/metrics", auth=None)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"), r.headers)
        text = r.raw.decode()
        self.assertIn("# TYPE tessera_http_requests_total counter", text)
        self.assertIn("# TYPE tessera_http_failures_total counter", text)
        self.assertIn("tessera_connections ", text)

    def test_counters_move(self):
        route = "POST /v1/sessions/authenticate"
        before = self.c.metrics()
        s = self.signup()
        for _ in range(3):
            self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        unknown = "A" * 44
        self.assertError(self.c.authenticate(session_token=unknown), 404, "session_not_found")
        # The server counts a request just after sending its response, and a scrape reads the
        # request counters before the failure counters, so one scrape can hold a failure without
        # its request: wait for every counter this test reads.
        after = self.metrics_after(
            lambda m: metric(m, "tessera_http_failures_total", route=route,
                             error_type="session_not_found") >
            metric(before, "tessera_http_failures_total", route=route,
                   error_type="session_not_found") and
            metric(m, "tessera_http_requests_total", route=route, status="404") >
            metric(before, "tessera_http_requests_total", route=route, status="404") and
            metric(m, "tessera_http_requests_total", route=route, status="200") >=
            metric(before, "tessera_http_requests_total", route=route, status="200") + 3)
        self.assertEqual(metric(after, "tessera_http_requests_total", route=route, status="200") -
                         metric(before, "tessera_http_requests_total", route=route, status="200"),
                         3)
        self.assertEqual(metric(after, "tessera_http_requests_total", route=route, status="404") -
                         metric(before, "tessera_http_requests_total", route=route, status="404"),
                         1)
        self.assertEqual(
            metric(after, "tessera_http_failures_total", route=route,
                   error_type="session_not_found") -
            metric(before, "tessera_http_failures_total", route=route,
                   error_type="session_not_found"), 1)
        create = "POST /v1/passwords"
        self.assertGreaterEqual(
            metric(after, "tessera_http_requests_total", route=create, status="200"), 1)
        self.assertGreater(
            metric(after, "tessera_http_request_duration_seconds_count", route=route),
            metric(before, "tessera_http_request_duration_seconds_count", route=route))

    def test_unmatched_routes_are_counted(self):
        before = self.c.metrics()
        self.c.get("/nope", auth=None)
        after = self.metrics_after(
            lambda m: metric(m, "tessera_http_failures_total", route="unmatched",
                             error_type="route_not_found") >
            metric(before, "tessera_http_failures_total", route="unmatched",
                   error_type="route_not_found"))
        self.assertEqual(
            metric(after, "tessera_http_failures_total", route="unmatched",
                   error_type="route_not_found") -
            metric(before, "tessera_http_failures_total", route="unmatched",
                   error_type="route_not_found"), 1)


class JwksTest(ServerCase):
    def test_rsa_keys_have_the_nine_members(self):
        r = self.c.get(f"/v1/sessions/jwks/{self.project.project_id}", auth=None)
        body = self.assertSuccess(r)
        self.assertEqual(set(body), {"keys", "request_id", "status_code"})
        keys = body["keys"]
        # A new project publishes its active key and the next one.
        self.assertEqual(len(keys), 2, keys)
        self.assertEqual(len({k["kid"] for k in keys}), 2)
        for k in keys:
            self.assertEqual(set(k), {"alg", "e", "key_ops", "kid", "kty", "n", "use", "x5c",
                                      "x5tS256"}, k)
            self.assertEqual((k["alg"], k["kty"], k["use"], k["key_ops"], k["e"]),
                             ("RS256", "RSA", "sig", ["verify"], "AQAB"))
            self.assertRegex(k["kid"], r"^jwk-test-[0-9a-f-]{36}$")
            n = base64.urlsafe_b64decode(k["n"] + "=" * (-len(k["n"]) % 4))
            self.assertGreaterEqual(len(n) * 8, 2048)
            self.assertNotIn("=", k["n"])
            self.assertEqual(len(k["x5c"]), 1)
            der = base64.b64decode(k["x5c"][0], validate=True)
            self.assertEqual(k["x5tS256"],
                             base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode())
            self.assertTrue(k["x5tS256"].endswith("="))

    def test_jwks_with_credentials_and_query_params(self):
        # Node sends Basic auth, Python appends ?project_id=; both are accepted.
        pid = self.project.project_id
        self.assertSuccess(self.c.get(f"/v1/sessions/jwks/{pid}"))
        self.assertSuccess(self.c.get(f"/v1/sessions/jwks/{pid}?project_id={pid}", auth=None))

    def test_unknown_project(self):
        r = self.c.get("/v1/sessions/jwks/project-test-00000000-0000-0000-0000-000000000000",
                       auth=None)
        self.assertError(r, 404, "project_not_found")

    def test_unknown_projects_are_read_from_the_store_once(self):
        # Made-up project ids (JWKS without credentials, or Basic auth naming one) must not each
        # cost a database read.
        def reads():
            return metric(self.c.metrics(), "tessera_store_operation_duration_seconds_count",
                          operation="get_project")
        made_up = "project-test-11111111-2222-4333-8444-555555555555"
        before = reads()
        for _ in range(20):
            self.assertError(self.c.get(f"/v1/sessions/jwks/{made_up}", auth=None), 404,
                             "project_not_found")
            self.assertError(self.c.post("/v1/sessions/authenticate", {"session_token": "A" * 44},
                                         auth=basic_auth(made_up, "secret-test-x")),
                             401, "unauthorized_credentials")
        self.assertLessEqual(reads() - before, 1)

    def test_jwt_verifies_against_jwks(self):
        s = self.signup()
        keys = self.c.get(f"/v1/sessions/jwks/{self.project.project_id}", auth=None).json["keys"]
        header, _ = jwt_parts(s["session_jwt"])
        self.assertEqual(header["typ"], "JWT")
        self.assertEqual(header["alg"], "RS256")
        self.assertIn(header["kid"], {k["kid"] for k in keys})
        claims = verify_jwt(s["session_jwt"], keys, self.project.project_id)
        self.assertEqual(claims["sub"], s["user_id"])
        self.assertEqual(claims["aud"], [self.project.project_id])
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertEqual(claims["nbf"], claims["iat"])
        self.assertNotIn("jti", claims)
        sc = claims["https://stytch.com/session"]
        self.assertEqual(sc["id"], s["session"]["session_id"])
        self.assertEqual(sc["expires_at"], s["session"]["expires_at"])
        for k in ("started_at", "last_accessed_at", "attributes", "authentication_factors",
                  "roles"):
            self.assertIn(k, sc)
        self.assertEqual(sc["authentication_factors"][0]["type"], "password")
        self.assertNotIn("created_at", sc["authentication_factors"][0])


class RoutingTest(ServerCase):
    def test_unknown_route(self):
        for method, path in (("GET", "/"), ("GET", "/v1/nope"), ("POST", "/v1/sessions/nope"),
                             ("GET", "/v1/users/a/b"), ("DELETE", "/v2/users"),
                             ("GET", "/v1/sessions/jwks/")):
            with self.subTest(method=method, path=path):
                self.assertError(self.c.request(method, path), 404, "route_not_found")

    def test_unknown_route_without_credentials(self):
        self.assertError(self.c.get("/v1/nope", auth=None), 404, "route_not_found")

    def test_wrong_method(self):
        cases = (("GET", "/v1/sessions/authenticate", "POST"),
                 ("PUT", "/v1/sessions/revoke", "POST"),
                 ("DELETE", "/v1/passwords", "POST"),
                 ("POST", "/healthz", "GET"),
                 ("POST", f"/v1/sessions/jwks/{self.project.project_id}", "GET"),
                 ("POST", "/v1/sessions", "GET"),
                 ("PATCH", "/v1/users/user-test-x", "GET, PUT, DELETE"),
                 ("GET", "/v1/users", "POST"))
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                r = self.c.request(method, path, body={})
                self.assertError(r, 405, "method_not_allowed")
                self.assertEqual(r.headers.get("allow"), allow)

    def test_head_on_get_routes(self):
        pid = self.project.project_id
        for path in ("/healthz", "/readyz", "/metrics", f"/v1/sessions/jwks/{pid}"):
            with self.subTest(path=path):
                r = self.c.request("HEAD", path, auth=None)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.raw, b"")
                self.assertGreater(int(r.headers["content-length"]), 0)
        u = self.create_user()
        r = self.c.request("HEAD", f"/v1/users/{u['user_id']}")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, b"")

    def test_responses_are_not_cacheable(self):
        r = self.c.get("/healthz", auth=None)
        self.assertEqual(r.headers.get("cache-control"), "no-store")


if __name__ == "__main__":
    unittest.main()
