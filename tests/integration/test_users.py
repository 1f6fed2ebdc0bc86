"""Users: create, get, update, delete, search (spec §2.9)."""

import time
import unittest
import urllib.parse

from harness import ServerCase, create_project, unique_email

CREATE_KEYS = {"request_id", "status_code", "email_id", "phone_id", "status", "user", "user_id"}
UPDATE_KEYS = {"request_id", "status_code", "user_id", "emails", "phone_numbers",
               "crypto_wallets", "user"}


def rfc3339(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def wait_next_second():
    time.sleep(1.05 - (time.time() % 1.0))


def quote(s):
    return urllib.parse.quote(s, safe="")


class UsersCrudTest(ServerCase):
    def test_create_full(self):
        email = unique_email("Ada")
        r = self.c.post("/v1/users", {
            "email": email, "phone_number": "+14155550123",
            "name": {"first_name": "Ada", "middle_name": None, "last_name": "Lovelace"},
            "trusted_metadata": {"tier": "gold", "n": [1, 2]},
            "untrusted_metadata": {"theme": "dark"},
            "external_id": "ext-" + email.split("@")[0],
            "roles": ["admin", "stytch_user"],
            "attributes": {"ip_address": "1.2.3.4"},
        })
        body = self.assertSuccess(r)
        self.assertEqual(set(body), CREATE_KEYS)
        u = body["user"]
        self.assertUser(u)
        self.assertEqual(body["user_id"], u["user_id"])
        self.assertEqual(body["status"], "active")
        self.assertEqual(u["status"], "active")
        self.assertEqual(u["emails"], [{"email": email, "email_id": body["email_id"],
                                        "verified": False}])
        self.assertRegex(body["email_id"], r"^email-test-[0-9a-f-]{36}$")
        self.assertEqual(u["phone_numbers"], [{"phone_id": body["phone_id"],
                                               "phone_number": "+14155550123",
                                               "verified": False}])
        self.assertRegex(body["phone_id"], r"^phone-number-test-[0-9a-f-]{36}$")
        self.assertEqual(u["name"], {"first_name": "Ada", "middle_name": "",
                                     "last_name": "Lovelace"})
        self.assertEqual(u["trusted_metadata"], {"tier": "gold", "n": [1, 2]})
        self.assertEqual(u["untrusted_metadata"], {"theme": "dark"})
        self.assertEqual(u["external_id"], "ext-" + email.split("@")[0])
        self.assertEqual(u["roles"], ["stytch_user", "admin"])
        self.assertIsNone(u["password"])
        self.assertIs(u["is_locked"], False)
        for k in ("webauthn_registrations", "providers", "totps", "crypto_wallets",
                  "biometric_registrations"):
            self.assertEqual(u[k], [])

    def test_create_minimal_and_pending(self):
        body = self.assertSuccess(self.c.post("/v1/users", {"email": unique_email(),
                                                            "create_user_as_pending": True}))
        self.assertEqual(body["status"], "pending")
        self.assertEqual(body["phone_id"], "")
        self.assertEqual(body["user"]["roles"], ["stytch_user"])
        self.assertIsNone(body["user"]["external_id"])
        self.assertEqual(body["user"]["name"], {"first_name": "", "middle_name": "",
                                                "last_name": ""})
        phone_only = self.assertSuccess(self.c.post("/v1/users", {"phone_number": "+4930123456"}))
        self.assertEqual(phone_only["email_id"], "")
        self.assertEqual(phone_only["user"]["emails"], [])

    def test_create_errors(self):
        email = unique_email()
        self.create_user(email=email)
        self.assertError(self.c.post("/v1/users", {"email": email}), 400, "duplicate_email")
        self.assertError(self.c.post("/v1/users", {"email": email.upper()}), 400,
                         "duplicate_email")
        for bad in ("plain", "a@b", "@example.com", "a b@example.com", "a@@example.com",
                    "a@example..com", ""):
            with self.subTest(email=bad):
                self.assertError(self.c.post("/v1/users", {"email": bad}), 400, "invalid_email")
        self.assertError(self.c.post("/v1/users", {}), 400, "bad_request")
        self.assertError(self.c.post("/v1/users", {"phone_number": "555-1234"}), 400,
                         "invalid_phone_number")
        self.assertError(self.c.post("/v1/users", {"email": unique_email(),
                                                   "external_id": "has space"}),
                         400, "invalid_user_id")
        ext = "dup-" + unique_email().split("@")[0]
        self.create_user(external_id=ext)
        self.assertError(self.c.post("/v1/users", {"email": unique_email(), "external_id": ext}),
                         400, "duplicate_user_external_id")
        self.assertError(self.c.post("/v1/users", {"email": unique_email(),
                                                   "trusted_metadata": {"x": "y" * 5000}}),
                         400, "bad_request")

    def test_get(self):
        created = self.create_user(name={"first_name": "Grace"})
        r = self.c.get(f"/v1/users/{created['user_id']}")
        body = self.assertSuccess(r)
        # Flattened: the user's members at top level, no "user" wrapper.
        self.assertNotIn("user", body)
        self.assertUser(body)
        want = dict(created["user"], request_id=body["request_id"], status_code=200)
        self.assertEqual(body, want)

    def test_get_unknown(self):
        for uid in ("user-test-00000000-0000-0000-0000-000000000000", "nobody",
                    quote("a|b c")):
            with self.subTest(uid=uid):
                self.assertError(self.c.get(f"/v1/users/{uid}"), 404, "user_not_found")

    def test_ids_no_store_can_hold_are_not_found(self):
        # Invalid UTF-8 and NUL in the path: a clean 404 on every route, on every store (never a
        # 500, never an update of a truncated id).
        u = self.create_user()
        for uid in ("%FF", "%C3%28", u["user_id"] + "%00junk", "%00"):
            with self.subTest(uid=uid):
                self.assertError(self.c.get(f"/v1/users/{uid}"), 404, "user_not_found")
                self.assertError(self.c.put(f"/v1/users/{uid}", {"name": {"first_name": "x"}}),
                                 404, "user_not_found")
                self.assertError(self.c.delete(f"/v1/users/{uid}"), 404, "user_not_found")
        got = self.assertSuccess(self.c.get(f"/v1/users/{u['user_id']}"))
        self.assertEqual(got["name"]["first_name"], "")

    def test_get_by_external_id_url_encoded(self):
        ext = "tenant|" + unique_email("e").split("@")[0] + ".x_y-z"
        created = self.create_user(external_id=ext)
        for path_id in (quote(ext), ext.replace("|", "%7c"), ext):
            with self.subTest(path_id=path_id):
                body = self.assertSuccess(self.c.get(f"/v1/users/{path_id}?user_id={quote(ext)}"))
                self.assertEqual(body["user_id"], created["user_id"])
                self.assertEqual(body["external_id"], ext)
        # An encoded canonical id works too.
        body = self.assertSuccess(self.c.get(f"/v1/users/{quote(created['user_id'])}"))
        self.assertEqual(body["user_id"], created["user_id"])
        self.assertError(self.c.get("/v1/users/%zz"), 404, "route_not_found")

    def test_update(self):
        created = self.create_user(trusted_metadata={"a": 1}, untrusted_metadata={"u": 1})
        uid = created["user_id"]
        ext = "upd-" + unique_email().split("@")[0]
        r = self.c.put(f"/v1/users/{uid}", {
            "user_id": uid,  # Python repeats the id in the body.
            "name": {"first_name": "New", "last_name": None},
            "trusted_metadata": {"b": 2},
            "external_id": ext,
            "roles": ["editor"],
            "email": "ignored@example.com",
        })
        body = self.assertSuccess(r)
        self.assertEqual(set(body), UPDATE_KEYS)
        self.assertEqual(body["user_id"], uid)
        self.assertEqual(body["crypto_wallets"], [])
        self.assertEqual(body["emails"], created["user"]["emails"])
        u = body["user"]
        self.assertEqual(u["name"]["first_name"], "New")
        self.assertEqual(u["trusted_metadata"], {"b": 2})
        self.assertEqual(u["untrusted_metadata"], {"u": 1})
        self.assertEqual(u["external_id"], ext)
        self.assertEqual(u["roles"], ["stytch_user", "editor"])
        got = self.assertSuccess(self.c.get(f"/v1/users/{uid}"))
        self.assertEqual(got["trusted_metadata"], {"b": 2})
        self.assertEqual(got["emails"], created["user"]["emails"])
        # Update through the external id.
        self.assertSuccess(self.c.put(f"/v1/users/{ext}", {"untrusted_metadata": {"v": 3}}))
        self.assertEqual(self.c.get(f"/v1/users/{uid}").json["untrusted_metadata"], {"v": 3})
        # Roles reach the session and its JWT.
        self.assertError(self.c.put("/v1/users/nobody", {"name": {"first_name": "x"}}), 404,
                         "user_not_found")

    def test_update_roles_reach_sessions(self):
        s = self.signup()
        self.assertSuccess(self.c.put(f"/v1/users/{s['user_id']}", {"roles": ["admin"]}))
        body = self.assertSuccess(self.c.authenticate(session_token=s["session_token"]))
        self.assertEqual(body["session"]["roles"], ["stytch_user", "admin"])
        self.assertEqual(body["user"]["roles"], ["stytch_user", "admin"])

    def test_delete(self):
        s = self.signup()
        uid = s["user_id"]
        other = self.signup()
        body = self.assertSuccess(self.c.delete(f"/v1/users/{uid}", body={}))
        self.assertEqual(set(body), {"request_id", "status_code", "user_id"})
        self.assertEqual(body["user_id"], uid)
        self.assertError(self.c.get(f"/v1/users/{uid}"), 404, "user_not_found")
        # Its sessions are revoked with it.
        self.assertError(self.c.authenticate(session_token=s["session_token"]), 404,
                         "session_not_found")
        self.assertError(self.c.authenticate(session_jwt=s["session_jwt"]), 404,
                         "session_not_found")
        self.assertError(self.c.get(f"/v1/sessions?user_id={uid}"), 404, "user_not_found")
        self.assertError(self.c.delete(f"/v1/users/{uid}"), 404, "user_not_found")
        # Others are untouched, and the email is free again.
        self.assertSuccess(self.c.authenticate(session_token=other["session_token"]))
        self.signup(email=s["user"]["emails"][0]["email"])

    def test_delete_without_body_and_by_external_id(self):
        ext = "del-" + unique_email().split("@")[0]
        created = self.create_user(external_id=ext)
        body = self.assertSuccess(self.c.delete(f"/v1/users/{ext}"))  # No body at all (Python).
        self.assertEqual(body["user_id"], created["user_id"])
        self.assertError(self.c.get(f"/v1/users/{created['user_id']}"), 404, "user_not_found")


class UsersSearchTest(ServerCase):
    """A project of its own, so totals are exact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sp = create_project(cls.db)

    def setUp(self):
        super().setUp()
        self.sc = self.server.client(self.sp)

    def search(self, body, status=200):
        r = self.sc.post("/v1/users/search", body)
        return self.assertSuccess(r)

    def ids(self, body):
        return [u["user_id"] for u in body["results"]]

    def test_search(self):
        # Group A, then (a second later) group B; created_at has second precision.
        a = [self.create_user(client=self.sc, email=f"a{i}-{unique_email()}") for i in range(3)]
        a_pw = self.signup(client=self.sc, minutes=None)
        wait_next_second()
        mid = int(time.time())
        wait_next_second()
        b = [self.create_user(client=self.sc, email=f"b{i}-{unique_email()}",
                              create_user_as_pending=(i == 0)) for i in range(3)]
        a_ids = [u["user_id"] for u in a] + [a_pw["user_id"]]
        b_ids = [u["user_id"] for u in b]
        everyone = set(a_ids) | set(b_ids)

        body = self.search({})
        self.assertEqual(set(body), {"request_id", "status_code", "results", "results_metadata"})
        self.assertEqual(set(self.ids(body)), everyone)
        self.assertEqual(body["results_metadata"], {"total": 7, "next_cursor": None})
        for u in body["results"]:
            self.assertUser(u)

        def q(operator, *operands):
            return {"query": {"operator": operator,
                              "operands": [{"filter_name": n, "filter_value": v}
                                           for n, v in operands]}}

        emails = [a[0]["user"]["emails"][0]["email"], b[1]["user"]["emails"][0]["email"]]
        body = self.search(q("AND", ("email_address", emails)))
        self.assertEqual(set(self.ids(body)), {a[0]["user_id"], b[1]["user_id"]})
        body = self.search(q("AND", ("email_address", [emails[0].upper()])))
        self.assertEqual(self.ids(body), [a[0]["user_id"]])
        body = self.search(q("AND", ("user_id", [b[2]["user_id"]])))
        self.assertEqual(self.ids(body), [b[2]["user_id"]])
        body = self.search(q("AND", ("status", "pending")))
        self.assertEqual(self.ids(body), [b[0]["user_id"]])
        body = self.search(q("AND", ("status", "active")))
        self.assertEqual(body["results_metadata"]["total"], 6)
        body = self.search(q("AND", ("password_exists", True)))
        self.assertEqual(self.ids(body), [a_pw["user_id"]])
        body = self.search(q("AND", ("password_exists", False)))
        self.assertEqual(body["results_metadata"]["total"], 6)
        body = self.search(q("AND", ("created_at_greater_than", rfc3339(mid))))
        self.assertEqual(set(self.ids(body)), set(b_ids))
        body = self.search(q("AND", ("created_at_less_than", rfc3339(mid))))
        self.assertEqual(set(self.ids(body)), set(a_ids))
        body = self.search(q("AND", ("created_at_between",
                                     {"greater_than": rfc3339(mid - 3600),
                                      "less_than": rfc3339(mid)})))
        self.assertEqual(set(self.ids(body)), set(a_ids))
        # AND narrows, OR widens.
        body = self.search(q("AND", ("created_at_greater_than", rfc3339(mid)),
                             ("status", "active")))
        self.assertEqual(set(self.ids(body)), {b[1]["user_id"], b[2]["user_id"]})
        body = self.search(q("OR", ("status", "pending"), ("password_exists", True)))
        self.assertEqual(set(self.ids(body)), {b[0]["user_id"], a_pw["user_id"]})
        body = self.search(q("AND", ("status", "pending"), ("password_exists", True)))
        self.assertEqual(body["results"], [])
        self.assertEqual(body["results_metadata"], {"total": 0, "next_cursor": None})

        # Paging: limit 3 over 7 users, in a stable order, no duplicates.
        seen, cursor, pages = [], None, 0
        while True:
            req = {"limit": 3}
            if cursor is not None:
                req["cursor"] = cursor
            body = self.search(req)
            pages += 1
            self.assertEqual(body["results_metadata"]["total"], 7)
            seen += self.ids(body)
            cursor = body["results_metadata"]["next_cursor"]
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
            self.assertTrue(cursor)
            self.assertLess(pages, 5)
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), 7)
        self.assertEqual(set(seen), everyone)
        # Paging with a filter.
        body = self.search(dict(q("AND", ("status", "active")), limit=5))
        self.assertEqual(len(body["results"]), 5)
        rest = self.search(dict(q("AND", ("status", "active")), limit=5,
                                cursor=body["results_metadata"]["next_cursor"]))
        self.assertEqual(len(rest["results"]), 1)
        self.assertIsNone(rest["results_metadata"]["next_cursor"])
        # Exactly a page's worth: no next cursor.
        body = self.search({"limit": 7})
        self.assertIsNone(body["results_metadata"]["next_cursor"])

    def test_search_errors(self):
        def op(name, value):
            return {"query": {"operator": "AND",
                              "operands": [{"filter_name": name, "filter_value": value}]}}

        for cursor in ("!!!", "bm90LWEtY3Vyc29y", "MTIzOg"):
            with self.subTest(cursor=cursor):
                self.assertError(self.sc.post("/v1/users/search", {"cursor": cursor}), 400,
                                 "invalid_cursor")
        bad_queries = [
            op("full_name_fuzzy", "x"), op("no_such_filter", "x"),
            op("status", "deleted"), op("status", 1), op("password_exists", "yes"),
            op("created_at_greater_than", "yesterday"), op("created_at_between", {}),
            op("email_address", []), op("email_address", [1]), op("user_id", None),
            {"query": {"operator": "XOR", "operands": []}},
            {"query": {"operator": "AND", "operands": "x"}},
            {"query": {"operator": "AND", "operands": [5]}},
            {"query": {"operator": "AND", "operands": [{"filter_name": "status"}]}},
        ]
        for body in bad_queries:
            with self.subTest(body=body):
                self.assertError(self.sc.post("/v1/users/search", body), 400,
                                 "invalid_search_query")
        for limit in (0, 1001, -1):
            with self.subTest(limit=limit):
                self.assertError(self.sc.post("/v1/users/search", {"limit": limit}), 400,
                                 "bad_request")
        self.assertError(self.sc.post("/v1/users/search", {"query": "x"}), 400, "bad_request")
        # An empty query object and null operands mean "everyone".
        self.assertSuccess(self.sc.post("/v1/users/search", {"query": {}}))
        self.assertSuccess(self.sc.post("/v1/users/search",
                                        {"query": {"operator": "OR", "operands": None}}))


if __name__ == "__main__":
    unittest.main()
