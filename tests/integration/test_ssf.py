"""Tessera as an OpenID Shared Signals (SSF 1.0) transmitter (docs/revocation.md, "For OpenID
Shared Signals receivers"), over real HTTP against the real binary: the discovery document, the
project's stream (create, read, delete), poll delivery (RFC 8936) of CAEP session-revoked Security
Event Tokens for each kind of revocation, each SET verified with PyJWT against the project's JWKS
as a receiver would (typ, signature, iss, aud, events, subject), acknowledgements (never sent
again, also after a restart), setErrs, maxEvents, the long poll, and the errors.
"""

import threading
import time
import unittest
import urllib.parse

from harness import (Case, ServerCase, basic_auth, create_project, database_kind, metric,
                     unique_email)

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
POLL = "urn:ietf:rfc:8936"
STREAMS = "/v1/ssf/streams"
# The server's --ssf-poll-wait-seconds in these tests: how long an empty long poll lasts.
POLL_WAIT = 3


def verify_set(token, jwks, issuer, audience):
    """Verifies a SET as an SSF receiver must (SSF §4.1, RFC 8417): explicitly typed
    secevent+jwt, signed by a key of the transmitter's JWKS with that key's algorithm, iss and
    aud as the stream says, no sub and no exp. Returns (header, payload)."""
    import jwt  # python3-jwt, Debian's.
    header = jwt.get_unverified_header(token)
    assert header.get("typ") == "secevent+jwt", header
    assert set(header) == {"alg", "kid", "typ"}, header
    key = next(k for k in jwks if k["kid"] == header["kid"])
    assert header["alg"] == key["alg"], (header, key)
    payload = jwt.decode(token, jwt.PyJWK(key).key, algorithms=[key["alg"]], audience=audience,
                         issuer=issuer, options={"require": ["iat", "iss", "jti", "aud"]})
    assert "sub" not in payload and "exp" not in payload, payload
    return header, payload


class SsfCase(Case):
    """Helpers shared by the tests below: a project with a client, its stream and polls."""

    def stream_of(self, client, **body):
        r = client.post(STREAMS, body)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.headers["content-type"].startswith("application/json"), r)
        return r.json

    def poll(self, client, stream, body=None):
        path = urllib.parse.urlsplit(stream["delivery"]["endpoint_url"]).path
        r = client.post(path, body if body is not None else {"returnImmediately": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"sets", "moreAvailable"}, r)
        return r.json

    def jwks(self, client, project):
        r = client.get(f"/v1/sessions/jwks/{project.project_id}", auth=None)
        self.assertEqual(r.status, 200, r)
        return r.json["keys"]

    def assertSessionRevoked(self, token, jwks, stream, jti, user_id, session_id=None,
                             when=None):
        """One SET of the stream: verified, with the subject of a session (session_id) or of
        every session of a user (session_id None)."""
        pid = stream["aud"]
        _, p = verify_set(token, jwks, stream["iss"], pid)
        self.assertEqual(set(p), {"aud", "events", "iat", "iss", "jti", "sub_id", "txn"}, p)
        self.assertEqual((p["jti"], p["txn"]), (jti, jti))
        self.assertEqual(list(p["events"]), [SESSION_REVOKED], p)
        event = p["events"][SESSION_REVOKED]
        self.assertEqual(set(event), {"event_timestamp", "reason_admin"}, event)
        self.assertTrue(event["reason_admin"]["en"], event)
        if when is not None:
            self.assertTrue(when[0] <= event["event_timestamp"] <= when[1] + 1, (event, when))
        self.assertLessEqual(abs(p["iat"] - time.time()), 60, p)
        user = {"format": "iss_sub", "iss": "stytch.com/" + pid, "sub": user_id}
        if session_id is None:
            self.assertEqual(p["sub_id"], {"format": "complex", "user": user}, p)
        else:
            self.assertEqual(p["sub_id"], {"format": "complex", "user": user,
                                           "session": {"format": "opaque", "id": session_id}}, p)
        return p

    def signup(self, client):
        r = client.post("/v1/passwords", {"email": unique_email(), "session_duration_minutes": 60,
                                          "password": "correct-Horse-battery-staple-91-Quokka"})
        self.assertEqual(r.status, 200, r)
        return r.json

    def revoke_session(self, client, signed_up):
        before = int(time.time())
        r = client.revoke(session_id=signed_up["session"]["session_id"])
        self.assertEqual(r.status, 200, r)
        return before, int(time.time())


class SsfTest(ServerCase, SsfCase):
    SERVER_ARGS = ("--ssf-poll-wait-seconds", str(POLL_WAIT))

    def fresh(self):
        """A project of its own (each has at most one stream) and its client."""
        project = create_project(self.db)
        return project, self.server.client(project)

    def origin(self):
        # http.client sends "Host: 127.0.0.1:<port>"; without --public-url the issuer is
        # https:// and that host.
        return f"https://127.0.0.1:{self.server.port}"

    def test_discovery_document(self):
        project, c = self.fresh()
        pid = project.project_id
        r = c.get(f"/.well-known/ssf-configuration/{pid}", auth=None)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/json"), r)
        doc = r.json
        issuer = f"{self.origin()}/{pid}"
        self.assertEqual(doc, {
            "spec_version": "1_0",
            "issuer": issuer,
            "jwks_uri": f"{self.origin()}/v1/sessions/jwks/{pid}",
            "delivery_methods_supported": [POLL],
            "configuration_endpoint": f"{self.origin()}{STREAMS}",
            "authorization_schemes": [{"spec_urn": "urn:ietf:rfc:7617"}],
            "default_subjects": "ALL",
        })
        # SSF §7.2: the document lives at the issuer with /.well-known/ssf-configuration
        # inserted between host and path.
        parts = urllib.parse.urlsplit(issuer)
        self.assertEqual("/.well-known/ssf-configuration" + parts.path,
                         f"/.well-known/ssf-configuration/{pid}")
        # The JWKS it names is the project's own.
        self.assertEqual(c.get(urllib.parse.urlsplit(doc["jwks_uri"]).path, auth=None).json["keys"],
                         self.jwks(c, project))
        # Credentials are not needed, and do not change anything.
        self.assertEqual(c.get(f"/.well-known/ssf-configuration/{pid}").json, doc)
        # An unknown project, or no project.
        made_up = "project-test-00000000-0000-0000-0000-000000000000"
        self.assertError(c.get(f"/.well-known/ssf-configuration/{made_up}", auth=None), 404,
                         "project_not_found")
        self.assertError(c.get("/.well-known/ssf-configuration", auth=None), 404,
                         "route_not_found")
        # A Host header that cannot be part of an issuer.
        self.assertError(c.get(f"/.well-known/ssf-configuration/{pid}", auth=None,
                               headers={"Host": "evil.example/x"}), 400, "bad_request")

    def test_stream_configuration(self):
        project, c = self.fresh()
        pid = project.project_id
        self.assertEqual(c.get(STREAMS).json, [])
        s = self.stream_of(c, delivery={"method": POLL}, description="receiver A",
                           events_requested=[SESSION_REVOKED, "urn:example:unknown"])
        self.assertRegex(s["stream_id"], r"^ssf-stream-test-[0-9a-f-]{36}$")
        self.assertEqual(s, {
            "stream_id": s["stream_id"],
            "iss": f"{self.origin()}/{pid}",
            "aud": pid,
            "delivery": {"method": POLL,
                         "endpoint_url": f"{self.origin()}{STREAMS}/{s['stream_id']}/poll"},
            "events_supported": [SESSION_REVOKED],
            "events_requested": [SESSION_REVOKED, "urn:example:unknown"],
            "events_delivered": [SESSION_REVOKED],
            "description": "receiver A",
        })
        # One stream per project (SSF §8.1.1.1: 409 when the transmitter allows one).
        self.assertError(c.post(STREAMS, {}), 409, "stream_already_exists")
        self.assertEqual(c.get(STREAMS).json, [s])
        self.assertEqual(c.get(f"{STREAMS}?stream_id={s['stream_id']}").json, s)
        self.assertError(c.get(f"{STREAMS}?stream_id=ssf-stream-test-nope"), 404,
                         "stream_not_found")
        # Another project sees its own (none), and cannot touch this one.
        other, oc = self.fresh()
        self.assertEqual(oc.get(STREAMS).json, [])
        self.assertError(oc.get(f"{STREAMS}?stream_id={s['stream_id']}"), 404, "stream_not_found")
        self.assertError(oc.delete(f"{STREAMS}?stream_id={s['stream_id']}"), 404,
                         "stream_not_found")
        self.assertError(oc.post(f"{STREAMS}/{s['stream_id']}/poll", {}), 404, "stream_not_found")
        # Delete.
        self.assertError(c.delete(STREAMS), 400, "bad_request")
        self.assertError(c.delete(f"{STREAMS}?stream_id=ssf-stream-test-nope"), 404,
                         "stream_not_found")
        r = c.delete(f"{STREAMS}?stream_id={s['stream_id']}")
        self.assertEqual((r.status, r.raw), (204, b""), r)
        self.assertEqual(c.get(STREAMS).json, [])
        self.assertError(c.post(f"{STREAMS}/{s['stream_id']}/poll", {}), 404, "stream_not_found")
        # Without a delivery member the stream is a poll stream (SSF §8.1.1.1); without
        # events_requested it delivers what is supported; a poll endpoint_url sent is ignored.
        s2 = self.stream_of(c, delivery={"method": POLL, "endpoint_url": "https://r.example/x"})
        self.assertNotEqual(s2["stream_id"], s["stream_id"])
        self.assertEqual(s2["delivery"]["endpoint_url"],
                         f"{self.origin()}{STREAMS}/{s2['stream_id']}/poll")
        self.assertEqual(s2["events_delivered"], [SESSION_REVOKED])
        self.assertNotIn("events_requested", s2)
        self.assertNotIn("description", s2)

    def test_revocations_become_verified_sets_until_acknowledged(self):
        project, c = self.fresh()
        jwks = self.jwks(c, project)
        # Revoked before the stream exists: never sent on it.
        self.revoke_session(c, self.signup(c))
        stream = self.stream_of(c)
        pid = project.project_id
        self.assertEqual(self.poll(c, stream), {"sets": {}, "moreAvailable": False})

        # A session revoked by id, and a user deleted with two sessions (one entry).
        s1 = self.signup(c)
        when1 = self.revoke_session(c, s1)
        doomed = self.signup(c)
        r = c.post("/v1/passwords/authenticate",
                   {"email": doomed["user"]["emails"][0]["email"],
                    "password": "correct-Horse-battery-staple-91-Quokka"})
        self.assertEqual(r.status, 200, r)
        before = int(time.time())
        self.assertEqual(c.delete(f"/v1/users/{doomed['user_id']}").status, 200)
        when2 = (before, int(time.time()))

        got = self.poll(c, stream)
        self.assertFalse(got["moreAvailable"])
        self.assertEqual(len(got["sets"]), 2, got)
        jtis = sorted(got["sets"], key=lambda j: int(j.rsplit(".", 1)[1]))
        first, second = jtis
        self.assertSessionRevoked(got["sets"][first], jwks, stream, first, s1["user_id"],
                                  s1["session"]["session_id"], when1)
        self.assertSessionRevoked(got["sets"][second], jwks, stream, second, doomed["user_id"],
                                  None, when2)
        # jti is stable: project and log position.
        self.assertTrue(first.startswith(pid + "."), first)

        # Not acknowledged: sent again, same jtis.
        again = self.poll(c, stream)
        self.assertEqual(set(again["sets"]), {first, second})
        # Acknowledge-only request (RFC 8936 §2.4.2): nothing sent, nothing more waiting.
        self.assertEqual(self.poll(c, stream, {"ack": [first, second], "maxEvents": 0,
                                               "returnImmediately": True}),
                         {"sets": {}, "moreAvailable": False})
        self.assertEqual(self.poll(c, stream), {"sets": {}, "moreAvailable": False})
        # Acknowledging again, or jtis this project never sent, changes nothing.
        self.assertEqual(self.poll(c, stream, {"ack": [first, "project-test-x.1", "nonsense",
                                                       pid + ".999"],
                                               "returnImmediately": True}),
                         {"sets": {}, "moreAvailable": False})

        # Out of order: the older one stays until it too is acknowledged.
        s3, s4 = self.signup(c), self.signup(c)
        self.revoke_session(c, s3)
        self.revoke_session(c, s4)
        got = self.poll(c, stream)
        j3, j4 = sorted(got["sets"], key=lambda j: int(j.rsplit(".", 1)[1]))
        got = self.poll(c, stream, {"ack": [j4], "returnImmediately": True})
        self.assertEqual(list(got["sets"]), [j3])
        self.assertSessionRevoked(got["sets"][j3], jwks, stream, j3, s3["user_id"],
                                  s3["session"]["session_id"])
        self.assertEqual(self.poll(c, stream, {"ack": [j3], "returnImmediately": True})["sets"],
                         {})

    def test_max_events_oldest_first_and_more_available(self):
        project, c = self.fresh()
        stream = self.stream_of(c)
        users = [self.signup(c) for _ in range(3)]
        for u in users:
            self.revoke_session(c, u)
        got = self.poll(c, stream, {"maxEvents": 2, "returnImmediately": True})
        self.assertTrue(got["moreAvailable"])
        seqs = sorted(int(j.rsplit(".", 1)[1]) for j in got["sets"])
        self.assertEqual(len(seqs), 2)
        got = self.poll(c, stream, {"ack": list(got["sets"]), "maxEvents": 2,
                                    "returnImmediately": True})
        self.assertFalse(got["moreAvailable"])
        self.assertEqual(len(got["sets"]), 1)
        self.assertGreater(int(next(iter(got["sets"])).rsplit(".", 1)[1]), max(seqs))
        # maxEvents 0 says whether anything waits without sending it.
        self.assertEqual(self.poll(c, stream, {"maxEvents": 0}),
                         {"sets": {}, "moreAvailable": True})

    def test_set_errors_count_as_received(self):
        project, c = self.fresh()
        stream = self.stream_of(c)
        self.revoke_session(c, self.signup(c))
        got = self.poll(c, stream)
        (jti,) = got["sets"]
        before = metric(c.metrics(), "tessera_ssf_set_errors_total")
        got = self.poll(c, stream, {"setErrs": {jti: {"err": "invalid_key",
                                                      "description": "no such key"}},
                                    "returnImmediately": True})
        self.assertEqual(got, {"sets": {}, "moreAvailable": False})
        self.assertEqual(metric(c.metrics(), "tessera_ssf_set_errors_total"), before + 1)
        self.assertTrue(any(e.get("msg") == "an SSF receiver reported a SET error" and
                            e.get("jti") == jti and e.get("err") == "invalid_key"
                            for e in self.server.events()), self.server.stderr_text()[-3000:])

    def test_long_poll_waits_and_answers_when_a_revocation_lands(self):
        project, c = self.fresh()
        jwks = self.jwks(c, project)
        stream = self.stream_of(c)
        s = self.signup(c)
        result = {}

        def poll():
            started = time.monotonic()
            result["body"] = self.poll(c, stream, {"returnImmediately": False})
            result["done"] = time.monotonic()
            result["seconds"] = result["done"] - started

        t = threading.Thread(target=poll)
        t.start()
        try:
            time.sleep(1.0)  # The poll is waiting (it would wait POLL_WAIT seconds).
            self.assertNotIn("body", result, "answered before anything happened")
            sent = time.monotonic()
            when = self.revoke_session(c, s)
        finally:
            t.join(30)
        self.assertIn("body", result, "the long poll never answered")
        sets = result["body"]["sets"]
        self.assertEqual(len(sets), 1, result)
        (jti,) = sets
        self.assertSessionRevoked(sets[jti], jwks, stream, jti, s["user_id"],
                                  s["session"]["session_id"], when)
        latency = result["done"] - sent
        self.assertLess(latency, 1.5, f"answered {latency:.2f} s after the revoke")
        self.assertGreaterEqual(result["seconds"], 0.9, result)

        # An unacknowledged SET is sent at once, wait or not; once acknowledged, nothing is new
        # and the wait ends after --ssf-poll-wait-seconds with no SET.
        self.assertEqual(set(self.poll(c, stream, {"returnImmediately": False})["sets"]), {jti})
        started = time.monotonic()
        got = self.poll(c, stream, {"ack": [jti], "returnImmediately": False})
        seconds = time.monotonic() - started
        self.assertEqual(got, {"sets": {}, "moreAvailable": False})
        self.assertTrue(POLL_WAIT - 0.5 <= seconds < POLL_WAIT + 5, f"{seconds:.2f} s")
        # returnImmediately defaults to false (RFC 8936 §2.2): an empty body waits too.
        started = time.monotonic()
        self.assertEqual(self.poll(c, stream, {})["sets"], {})
        self.assertGreaterEqual(time.monotonic() - started, POLL_WAIT - 0.5)

    def test_errors(self):
        project, c = self.fresh()
        stream = self.stream_of(c)
        path = urllib.parse.urlsplit(stream["delivery"]["endpoint_url"]).path
        # Credentials, as on every API call: none, a wrong secret, another project's.
        self.assertError(c.post(path, {}, auth=None), 401, "unauthorized_credentials")
        self.assertError(c.post(path, {}, auth=basic_auth(project.project_id, "secret-test-x")),
                         401, "unauthorized_credentials")
        self.assertError(c.post(path, {}, auth="Basic eA=="), 400, "invalid_authorization_header")
        self.assertError(c.post(STREAMS, {}, auth=None), 401, "unauthorized_credentials")
        self.assertError(c.get(STREAMS, auth=None), 401, "unauthorized_credentials")
        self.assertError(c.delete(f"{STREAMS}?stream_id={stream['stream_id']}", auth=None), 401,
                         "unauthorized_credentials")
        self.assertEqual(c.get(STREAMS).json, [stream])
        # Malformed poll bodies.
        for body in ("not json", "[]", "1", {"ack": "x"}, {"ack": [1]}, {"maxEvents": -1},
                     {"maxEvents": "2"}, {"maxEvents": 1.5}, {"returnImmediately": "yes"},
                     {"setErrs": []}, {"setErrs": {"j": {"description": "no err"}}},
                     {"setErrs": {"j": "invalid_key"}}, {"setErrs": {"j": {"err": 1}}}):
            self.assertError(c.post(path, body), 400, "bad_request")
        # Malformed stream creation (after deleting the stream, so that 409 does not come first).
        self.assertEqual(c.delete(f"{STREAMS}?stream_id={stream['stream_id']}").status, 204)
        for body in ("{", {"delivery": {"method": "urn:ietf:rfc:8935",
                                        "endpoint_url": "https://r.example/events"}},
                     {"delivery": {}}, {"delivery": "poll"}, {"events_requested": SESSION_REVOKED},
                     {"events_requested": [1]}, {"description": 7},
                     {"events_requested": [f"urn:x:{i}" for i in range(65)]}):
            self.assertError(c.post(STREAMS, body), 400, "bad_request")
        self.assertEqual(c.get(STREAMS).json, [])
        # Methods the configuration endpoint does not offer.
        r = c.request("PATCH", STREAMS, body={"stream_id": "x"})
        self.assertError(r, 405, "method_not_allowed")
        self.assertEqual(r.headers.get("allow"), "POST, GET, DELETE")

    def test_a_long_description_is_truncated(self):
        project, c = self.fresh()
        s = self.stream_of(c, description="é" * 600)  # 1200 bytes
        self.assertEqual(s["description"], "é" * 512)

    def test_a_stream_that_requests_other_events_gets_none(self):
        project, c = self.fresh()
        stream = self.stream_of(c, events_requested=["urn:example:other"])
        self.assertEqual(stream["events_delivered"], [])
        self.revoke_session(c, self.signup(c))
        self.assertEqual(self.poll(c, stream), {"sets": {}, "moreAvailable": False})


class SsfRestartTest(SsfCase):
    """What the receiver acknowledged stays acknowledged across a restart (the store keeps it),
    and --public-url names the issuer."""

    def test_acknowledgements_survive_a_restart(self):
        db = self.new_database()
        project = create_project(db)
        server = self.start_server(db)
        c = server.client(project)
        stream = self.stream_of(c)
        old, kept = self.signup(c), self.signup(c)
        self.revoke_session(c, old)
        self.revoke_session(c, kept)
        got = self.poll(c, stream)
        jtis = sorted(got["sets"], key=lambda j: int(j.rsplit(".", 1)[1]))
        self.assertEqual(len(jtis), 2)
        self.poll(c, stream, {"ack": [jtis[0]], "maxEvents": 0, "returnImmediately": True})
        self.assertEqual(server.stop(), 0)

        server = self.start_server(db, "--public-url", "https://tessera.test/")
        c = server.client(project)
        pid = project.project_id
        doc = c.get(f"/.well-known/ssf-configuration/{pid}", auth=None).json
        self.assertEqual(doc["issuer"], f"https://tessera.test/{pid}")
        self.assertEqual(doc["jwks_uri"], f"https://tessera.test/v1/sessions/jwks/{pid}")
        self.assertEqual(doc["configuration_endpoint"], f"https://tessera.test{STREAMS}")
        (now,) = c.get(STREAMS).json
        self.assertEqual(now["stream_id"], stream["stream_id"])
        self.assertEqual(now["iss"], f"https://tessera.test/{pid}")
        got = self.poll(c, now)
        self.assertEqual(list(got["sets"]), [jtis[1]], got)
        self.assertSessionRevoked(got["sets"][jtis[1]], self.jwks(c, project), now, jtis[1],
                                  kept["user_id"], kept["session"]["session_id"])


class SsfMultinodeTest(SsfCase):
    """Nodes of one PostgreSQL deployment serve one stream: what one node delivered and the
    receiver acknowledged, no node sends again; a revocation on one node ends a long poll on
    another."""

    @unittest.skipUnless(database_kind() == "postgresql", "several nodes need PostgreSQL")
    def test_nodes_share_the_stream_and_its_acknowledgements(self):
        db = self.new_database()
        project = create_project(db)
        # One public URL, as behind a load balancer (each node here has a port of its own, so
        # the Host header would name two issuers).
        args = ("--ssf-poll-wait-seconds", "20", "--public-url", "https://tessera.test")
        a = self.start_server(db, *args).client(project)
        b = self.start_server(db, *args).client(project)
        stream = self.stream_of(a)
        (same,) = b.get(STREAMS).json
        self.assertEqual(same["stream_id"], stream["stream_id"])
        s1 = self.signup(b)
        self.revoke_session(b, s1)
        got = self.poll(a, stream)  # Read from the database: no node's lag shows.
        (jti,) = got["sets"]
        self.poll(a, stream, {"ack": [jti], "maxEvents": 0, "returnImmediately": True})
        self.assertEqual(self.poll(b, stream), {"sets": {}, "moreAvailable": False})

        s2 = self.signup(a)
        result = {}

        def poll():
            result["body"] = self.poll(b, stream, {"returnImmediately": False})
            result["done"] = time.monotonic()

        t = threading.Thread(target=poll)
        t.start()
        try:
            time.sleep(1.0)
            self.assertNotIn("body", result, "answered before anything happened")
            sent = time.monotonic()
            self.revoke_session(a, s2)
        finally:
            t.join(40)
        self.assertIn("body", result, "the long poll never answered")
        (jti2,) = result["body"]["sets"]
        self.assertNotEqual(jti2, jti)
        self.assertSessionRevoked(result["body"]["sets"][jti2], self.jwks(b, project), stream,
                                  jti2, s2["user_id"], s2["session"]["session_id"])
        self.assertLess(result["done"] - sent, 2.0)


if __name__ == "__main__":
    unittest.main()
