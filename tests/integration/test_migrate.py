"""passwords/migrate (spec-next §4.1) and `tessera users import`: hashes made by independent
implementations (legacy_hashes.py) for random passwords, migrated through the API and the CLI,
then signed in with the right password and refused with a wrong one; the hash replaced by
Tessera's Argon2id at the first sign-in; every refusal a 400 with its Stytch error type; the
import's refused lines, re-runs, exit status, and memory on a large file."""

import json
import os
import resource
import subprocess
import time
import unittest

from harness import Case, ServerCase, create_project, run_cli, tessera_bin, child_env, \
    unique_email, STRONG_PASSWORD
from legacy_hashes import FORMS, make_request, random_password

MIGRATE_KEYS = {"request_id", "status_code", "user_id", "email_id", "user_created", "user"}

# A bcrypt hash of "imported-password-1" at cost 4, made once by python3-bcrypt:
# bcrypt.hashpw(b"imported-password-1", bcrypt.gensalt(4)).
BCRYPT_IMPORTED = "$2b$04$WAmiA9P38OMhDG27OlezAOHLlNbcyloIee4e9m1Bw64kNDPnYi6fS"


def stored_hash(db, project_id, email):
    rows = db.query("SELECT u.password_hash FROM users u JOIN user_emails e ON "
                    "e.project_id = u.project_id AND e.user_id = u.user_id WHERE "
                    f"u.project_id = '{project_id}' AND e.email_normalized = '{email.lower()}'")
    return rows[0][0] if rows else None


class MigrateApiTest(ServerCase):
    def migrate(self, body):
        return self.c.post("/v1/passwords/migrate", body)

    def sign_in(self, email, password):
        return self.c.post("/v1/passwords/authenticate", {"email": email, "password": password})

    def test_every_hash_type_signs_in_and_is_replaced_by_argon2id(self):
        for form, hash_type, _ in FORMS:
            with self.subTest(form=form):
                email, password = unique_email(form.replace("_", "-")), random_password()
                body = self.assertSuccess(self.migrate(make_request(form, email, password)))
                self.assertEqual(set(body), MIGRATE_KEYS)
                self.assertIs(body["user_created"], True)
                self.assertUser(body["user"])
                self.assertEqual(body["user"]["emails"][0]["email_id"], body["email_id"])
                self.assertRegex(body["user"]["password"]["password_id"],
                                 r"^password-test-[0-9a-f-]{36}$")
                self.assertTrue(stored_hash(self.db, self.project.project_id,
                                            email).startswith("migrated:"))

                self.assertError(self.sign_in(email, password + "x"), 401,
                                 "unauthorized_credentials")
                self.assertError(self.sign_in(email, password[:-1]), 401,
                                 "unauthorized_credentials")
                login = self.assertSuccess(self.sign_in(email, password))
                self.assertEqual(login["user_id"], body["user_id"])
                # The first sign-in replaced the migrated hash with Tessera's own.
                self.assertTrue(stored_hash(self.db, self.project.project_id,
                                            email).startswith("$argon2id$v=19$"))
                self.assertEqual(self.assertSuccess(self.sign_in(email, password))["user_id"],
                                 body["user_id"])
                self.assertError(self.sign_in(email, password + "x"), 401,
                                 "unauthorized_credentials")

    def test_user_fields(self):
        email = unique_email()
        req = make_request("bcrypt_2b", email, "a-Password-1")
        req.update({"name": {"first_name": "Ada", "middle_name": "K", "last_name": "Lovelace"},
                    "trusted_metadata": {"plan": "pro"}, "untrusted_metadata": {"theme": "dark"},
                    "external_id": "legacy-42", "roles": ["editor"], "set_email_verified": True,
                    "phone_number": "+15555550123", "set_phone_number_verified": True})
        u = self.assertSuccess(self.migrate(req))["user"]
        self.assertEqual(u["name"], {"first_name": "Ada", "middle_name": "K",
                                     "last_name": "Lovelace"})
        self.assertEqual(u["trusted_metadata"], {"plan": "pro"})
        self.assertEqual(u["untrusted_metadata"], {"theme": "dark"})
        self.assertEqual(u["external_id"], "legacy-42")
        self.assertIn("editor", u["roles"])
        self.assertIs(u["emails"][0]["verified"], True)
        self.assertEqual(u["phone_numbers"][0]["phone_number"], "+15555550123")
        self.assertIs(u["phone_numbers"][0]["verified"], True)
        got = self.assertSuccess(self.c.get("/v1/users/legacy-42"))
        self.assertEqual(got["user_id"], u["user_id"])
        session = self.assertSuccess(self.c.post("/v1/passwords/authenticate", {
            "email": email, "password": "a-Password-1", "session_duration_minutes": 10}))
        self.assertIn("editor", session["session"]["roles"])

    def test_existing_user_without_password_gets_it_once(self):
        email = unique_email()
        created = self.create_user(email=email, name={"first_name": "Old"})
        body = self.assertSuccess(self.migrate(
            {**make_request("md_5", email, "pw-of-old-user"), "name": {"last_name": "New"}}))
        self.assertIs(body["user_created"], False)
        self.assertEqual(body["user_id"], created["user_id"])
        self.assertEqual(body["email_id"], created["email_id"])
        self.assertEqual(body["user"]["name"]["first_name"], "Old")
        self.assertEqual(body["user"]["name"]["last_name"], "New")
        self.assertSuccess(self.sign_in(email, "pw-of-old-user"))
        # Now it has one: a second migration is refused whatever its hash.
        self.assertError(self.migrate(make_request("sha_1", email, "other")), 400,
                         "password_already_exists")
        self.assertError(self.migrate(make_request("sha_1", email.upper(), "other")), 400,
                         "password_already_exists")
        other = unique_email()
        self.signup(email=other)
        self.assertError(self.migrate(make_request("md_5", other, "x")), 400,
                         "password_already_exists")

    def test_duplicates(self):
        email = unique_email()
        self.assertSuccess(self.migrate({**make_request("md_5", email, "x"),
                                         "external_id": "dup-ext-1",
                                         "phone_number": "+15555550999"}))
        self.assertError(self.migrate({**make_request("md_5", unique_email(), "x"),
                                       "external_id": "dup-ext-1"}), 400,
                         "duplicate_user_external_id")
        self.assertError(self.migrate({**make_request("md_5", unique_email(), "x"),
                                       "phone_number": "+15555550999"}), 400,
                         "duplicate_phone_number")

    def test_refusals(self):
        bcrypt_hash = make_request("bcrypt_2b", "a@example.com", "pw")["hash"]
        cases = [
            ({"hash_type": "sha256", "hash": "00"}, "invalid_hash_type"),
            ({"hash_type": "bcrypt", "hash": "not-a-hash"}, "invalid_bcrypt_hash"),
            ({"hash_type": "bcrypt", "hash": "$2b$31$" + bcrypt_hash[7:]}, "invalid_bcrypt_cost"),
            ({"hash_type": "md_5", "hash": "abc"}, "invalid_md_5_hash"),
            ({"hash_type": "sha_1", "hash": "0" * 32}, "invalid_sha_1_hash"),
            ({"hash_type": "sha_512", "hash": "0" * 40}, "invalid_sha_512_hash"),
            ({"hash_type": "md_5", "hash": "0" * 32,
              "md_5_config": {"prepend_salt": "x" * 300, "append_salt": ""}},
             "invalid_prepend_salt"),
            ({"hash_type": "argon_2id", "hash": "00" * 32,
              "argon_2_config": {"salt": "saltsalt", "iteration_amount": 2, "memory": 1024,
                                 "threads": 1, "key_length": 16}},
             "argon_2_key_length_mismatch"),
            ({"hash_type": "argon_2id", "hash": "00" * 32,
              "argon_2_config": {"salt": "salt", "iteration_amount": 2, "memory": 1024,
                                 "threads": 1, "key_length": 32}}, "invalid_argon_2_salt"),
            ({"hash_type": "argon_2id", "hash": "00" * 32,
              "argon_2_config": {"salt": "saltsalt", "iteration_amount": 2,
                                 "memory": 4 * 1024 * 1024, "threads": 1, "key_length": 32}},
             "invalid_argon_2_memory"),
            ({"hash_type": "argon_2id", "hash": "00" * 32,
              "argon_2_config": {"salt": "saltsalt", "iteration_amount": 2, "memory": 1024,
                                 "threads": 64, "key_length": 32}}, "invalid_argon_2_threads"),
            ({"hash_type": "scrypt", "hash": "AAAA" * 8,
              "scrypt_config": {"salt": "c2FsdA==", "n_parameter": 1 << 20, "r_parameter": 8,
                                "p_parameter": 1, "key_length": 24}},
             "invalid_scrypt_n_parameter"),
            ({"hash_type": "scrypt", "hash": "AAAA" * 8,
              "scrypt_config": {"salt": "c2FsdA==", "n_parameter": 1024, "r_parameter": 8,
                                "p_parameter": 1, "key_length": 32}},
             "scrypt_key_length_mismatch"),
            ({"hash_type": "scrypt", "hash": "!!!!",
              "scrypt_config": {"salt": "c2FsdA==", "n_parameter": 1024, "r_parameter": 8,
                                "p_parameter": 1, "key_length": 3}}, "invalid_base64_scrypt_hash"),
            ({"hash_type": "pbkdf_2", "hash": "AAAA" * 8,
              "pbkdf_2_config": {"salt": "c2FsdA==", "iteration_amount": 10 ** 9,
                                 "key_length": 24, "algorithm": "sha256"}},
             "invalid_pbkdf_2_iteration_amount"),
            ({"hash_type": "pbkdf_2", "hash": "AAAA" * 8,
              "pbkdf_2_config": {"salt": "c2FsdA==", "iteration_amount": 1000,
                                 "key_length": 24, "algorithm": "md5"}},
             "invalid_pbkdf_2_algorithm"),
            ({"hash_type": "pbkdf_2", "hash": "AAAA" * 8,
              "pbkdf_2_config": {"salt": "c2FsdA==", "iteration_amount": 1000,
                                 "key_length": 32, "algorithm": "sha256"}},
             "pbkdf_2_key_length_mismatch"),
            ({"hash_type": "phpass", "hash": "$Q$" + "a" * 31}, "invalid_phpass_hash_prefix"),
            ({"hash_type": "phpass", "hash": "$P$Z" + "a" * 30}, "invalid_phpass_hash_format"),
            ({"hash_type": "bcrypt", "hash": ""}, "invalid_hash"),
        ]
        for extra, error_type in cases:
            with self.subTest(error_type=error_type):
                email = unique_email()
                self.assertError(self.migrate({"email": email, **extra}), 400, error_type)
                # Nothing was created.
                self.assertError(self.sign_in(email, "pw"), 404, "email_not_found")
        self.assertError(self.migrate({"email": "not-an-email", "hash_type": "bcrypt",
                                       "hash": bcrypt_hash}), 400, "invalid_email")
        self.assertError(self.migrate({"email": unique_email(), "hash_type": "bcrypt"}), 400,
                         "bad_request")
        self.assertError(self.migrate({"email": unique_email(), "hash_type": "md_5",
                                       "hash": "0" * 32, "md_5_config": "pre"}), 400,
                         "bad_request")
        self.assertError(self.migrate({"email": unique_email(), "hash_type": "argon_2id",
                                       "hash": "00" * 32,
                                       "argon_2_config": {"memory": "lots"}}), 400, "bad_request")
        self.assertError(self.migrate({**make_request("md_5", unique_email(), "x"),
                                       "external_id": "bad id!"}), 400, "invalid_user_id")

    def test_go_style_omitted_members(self):
        """Go omits zero values: missing salts read as "" and a missing algorithm as sha256."""
        import hashlib
        import base64
        email = unique_email()
        salt = b"0123456789ab"
        body = {"email": email, "hash_type": "pbkdf_2",
                "hash": base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"go-pw", salt, 1000,
                                                             32)).decode(),
                "pbkdf_2_config": {"salt": base64.b64encode(salt).decode(),
                                   "iteration_amount": 1000, "key_length": 32},
                "md_5_config": {}}
        self.assertSuccess(self.migrate(body))
        self.assertSuccess(self.sign_in(email, "go-pw"))
        email2 = unique_email()
        self.assertSuccess(self.migrate({"email": email2, "hash_type": "md_5",
                                         "hash": hashlib.md5(b"go-pw").hexdigest(),
                                         "md_5_config": {}}))
        self.assertSuccess(self.sign_in(email2, "go-pw"))

    def test_no_hash_or_password_in_logs(self):
        email, password = unique_email(), random_password()
        req = make_request("sha_1", email, password)
        self.assertSuccess(self.migrate(req))
        self.assertSuccess(self.sign_in(email, password))
        self.migrate({**req, "hash": "$2b$31$" + "a" * 53, "hash_type": "bcrypt"})
        log = self.server.stderr_text()
        for secret in (req["hash"], password):
            self.assertNotIn(secret, log)


class LockoutOnMigratedHashTest(ServerCase):
    PROJECT_FLAGS = ("--lock-threshold", "3")

    def test_wrong_passwords_count_and_lock(self):
        email = unique_email()
        self.assertSuccess(self.c.post("/v1/passwords/migrate",
                                       make_request("phpass_P", email, "right-one")))
        for _ in range(3):
            self.assertError(self.c.post("/v1/passwords/authenticate",
                                         {"email": email, "password": "wrong"}), 401,
                             "unauthorized_credentials")
        self.assertError(self.c.post("/v1/passwords/authenticate",
                                     {"email": email, "password": "right-one"}), 429,
                         "user_lock_limit_reached")


def write_lines(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(line if isinstance(line, str) else json.dumps(line))
            f.write("\n")


def run_import(db, project_id, path, *extra, timeout=600):
    return run_cli("users", "import", *db.args(), "--project", project_id, "--file", path,
                   *extra, check=False, timeout=timeout)


class ImportTest(Case):
    def setUp(self):
        super().setUp()
        self.db = self.new_database()
        self.project = create_project(self.db)
        self.dir = self.new_workdir()

    def test_every_hash_type_through_the_cli(self):
        users = []
        lines = []
        for form, _, _ in FORMS:
            email, password = unique_email(form.replace("_", "-")), random_password()
            users.append((email, password))
            lines.append({**make_request(form, email, password), "name": {"first_name": form}})
        path = os.path.join(self.dir, "users.jsonl")
        write_lines(path, lines)
        proc = run_import(self.db, self.project.project_id, path, "--progress", "lines")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(summary, {"lines": len(FORMS), "created": len(FORMS), "attached": 0,
                                   "skipped": 0, "refused": 0})
        server = self.start_server(self.db)
        c = server.client(self.project)
        for email, password in users:
            with self.subTest(email=email):
                r = c.post("/v1/passwords/authenticate", {"email": email, "password": password})
                self.assertSuccess(r)
                r = c.post("/v1/passwords/authenticate", {"email": email, "password": password + "!"})
                self.assertError(r, 401, "unauthorized_credentials")

    def test_refused_lines_rerun_and_exit_status(self):
        good = [make_request("bcrypt_2b", unique_email(), f"pw-{i}") for i in range(5)]
        bad_cost = {**good[0], "email": unique_email(), "hash": "$2b$31$" + good[0]["hash"][7:]}
        lines = [
            good[0],                                             # 1
            "{not json",                                         # 2
            bad_cost,                                            # 3
            good[1],                                             # 4
            "",                                                  # 5: blank, ignored
            {"email": "nope", "hash_type": "bcrypt", "hash": good[2]["hash"]},  # 6
            good[2],                                             # 7
            {**good[3], "hash_type": "md5"},                     # 8
            good[4],                                             # 9
            {**good[0], "hash": good[1]["hash"]},                # 10: same email as line 1
            "x" * (70 * 1024),                                   # 11: longer than a body may be
        ]
        path = os.path.join(self.dir, "users.jsonl")
        report = os.path.join(self.dir, "report.jsonl")
        write_lines(path, lines)
        proc = run_import(self.db, self.project.project_id, path, "--report", report,
                          "--batch-size", "3")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(summary, {"lines": 10, "created": 4, "attached": 0, "skipped": 1,
                                   "refused": 5})
        with open(report) as f:
            refused = [json.loads(line) for line in f]
        self.assertEqual([(r["line"], r["error_type"]) for r in refused], [
            (2, "bad_request"), (3, "invalid_bcrypt_cost"), (6, "invalid_email"),
            (8, "invalid_hash_type"), (11, "request_body_too_large")])
        for r in refused:
            self.assertTrue(r["error_message"])
            self.assertIn(f"line {r['line']}: {r['error_type']}: ", proc.stderr)
        for line in lines:
            if isinstance(line, dict) and line.get("hash"):
                self.assertNotIn(line["hash"], proc.stderr)  # Reasons never quote a hash.

        # Fix the refused lines and run again: what is in is skipped, the rest goes in.
        lines[2] = {**bad_cost, "hash": good[0]["hash"]}
        lines[1] = make_request("md_5", unique_email(), "fixed")
        lines[5] = {**lines[5], "email": unique_email()}
        lines[7] = good[3]
        lines[10] = make_request("sha_1", unique_email(), "fixed-too")
        write_lines(path, lines)
        proc = run_import(self.db, self.project.project_id, path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(summary, {"lines": 10, "created": 5, "attached": 0, "skipped": 5,
                                   "refused": 0})
        # And again: everything is present.
        proc = run_import(self.db, self.project.project_id, path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout.strip().splitlines()[-1])["skipped"], 10)

        server = self.start_server(self.db)
        c = server.client(self.project)
        for i, g in enumerate(good):
            self.assertSuccess(c.post("/v1/passwords/authenticate",
                                      {"email": g["email"], "password": f"pw-{i}"}))
        # Line 10 named line 1's email with another hash: line 1's password is the one in.
        self.assertError(c.post("/v1/passwords/authenticate",
                                {"email": good[0]["email"], "password": "pw-1"}), 401,
                         "unauthorized_credentials")

    def test_existing_users_by_email_and_external_id(self):
        server = self.start_server(self.db)
        c = server.client(self.project)
        no_password = unique_email()
        self.assertSuccess(c.post("/v1/users", {"email": no_password}))
        with_password = unique_email()
        self.assertSuccess(c.post("/v1/passwords", {"email": with_password,
                                                    "password": STRONG_PASSWORD}))
        self.assertSuccess(c.post("/v1/users", {"email": unique_email(),
                                                "external_id": "ext-present"}))
        path = os.path.join(self.dir, "users.jsonl")
        write_lines(path, [
            make_request("sha_512", no_password, "attached-pw"),
            make_request("sha_512", with_password, "ignored"),
            {**make_request("sha_512", unique_email(), "ignored"), "external_id": "ext-present"},
        ])
        proc = run_import(self.db, self.project.project_id, path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout.strip().splitlines()[-1]),
                         {"lines": 3, "created": 0, "attached": 1, "skipped": 2, "refused": 0})
        self.assertSuccess(c.post("/v1/passwords/authenticate",
                                  {"email": no_password, "password": "attached-pw"}))
        self.assertSuccess(c.post("/v1/passwords/authenticate",
                                  {"email": with_password, "password": STRONG_PASSWORD}))

    def test_unknown_project_and_missing_file(self):
        path = os.path.join(self.dir, "users.jsonl")
        write_lines(path, [])
        proc = run_import(self.db, "project-test-00000000-0000-4000-8000-000000000000", path)
        self.assertNotEqual(proc.returncode, 0)
        proc = run_import(self.db, self.project.project_id, os.path.join(self.dir, "missing"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("cannot open", proc.stderr)

    def test_stdin_and_plain_progress_lines(self):
        body = "\n".join(json.dumps(make_request("md_5", unique_email(), "p")) for _ in range(3))
        proc = subprocess.run([tessera_bin(), "users", "import", *self.db.args(), "--project",
                               self.project.project_id, "--file", "-", "--progress", "lines"],
                              input=body, env=child_env(), capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout.strip().splitlines()[-1])["created"], 3)
        self.assertRegex(proc.stderr, r"import: 3 lines: 3 created, 0 attached, 0 skipped, "
                                      r"0 refused; \d+ lines/s")

    def test_large_file_in_bounded_memory(self):
        """The import holds one batch at a time: with the page cache and the batch held small,
        peak RSS for a file 10x larger stays the same (within 16 MiB), and every line is in.
        (Its defaults, 64 MiB of cache and 5000 users a batch, raise the bound, not the growth.)"""
        small, large = 5000, 50000 if self.db.kind == "sqlite" else 20000

        def run(n, tag):
            path = os.path.join(self.dir, f"{tag}.jsonl")
            with open(path, "w") as f:
                for i in range(n):
                    f.write(json.dumps({"email": f"{tag}-{i}@example.com", "hash_type": "bcrypt",
                                        "hash": BCRYPT_IMPORTED,
                                        "name": {"first_name": f"user {i}"},
                                        "trusted_metadata": {"n": i}}) + "\n")
            env = child_env()
            if "ASAN_OPTIONS" in env:
                # AddressSanitizer keeps freed memory in quarantine (256 MiB by default), which
                # fills as more lines pass through: growth, not what the import holds.
                env["ASAN_OPTIONS"] += ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
            before = time.monotonic()
            proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kib=%M", tessera_bin(), "users",
                                   "import", *self.db.args(), "--project",
                                   self.project.project_id, "--file", path, "--progress", "off",
                                   "--cache-mib", "2", "--batch-size", "500"],
                                  env=env, capture_output=True, text=True, timeout=900)
            elapsed = time.monotonic() - before
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(json.loads(proc.stdout.strip().splitlines()[-1])["created"], n)
            rss = int(proc.stderr.strip().rsplit("maxrss_kib=", 1)[1])
            return rss, elapsed

        if not os.access("/usr/bin/time", os.X_OK):
            self.fail("/usr/bin/time is needed (apt-get install time)")
        rss_small, _ = run(small, "small")
        rss_large, elapsed = run(large, "large")
        self.assertLess(rss_large, rss_small + 16 * 1024,
                        f"peak RSS {rss_small} KiB for {small} lines, {rss_large} KiB for {large}")
        print(f"\n{large} lines in {elapsed:.1f} s ({large / elapsed:.0f}/s); peak RSS "
              f"{rss_small} KiB ({small} lines) vs {rss_large} KiB ({large} lines)")
        server = self.start_server(self.db)
        c = server.client(self.project)
        self.assertSuccess(c.post("/v1/passwords/authenticate",
                                  {"email": f"large-{large - 1}@example.com",
                                   "password": "imported-password-1"}))


DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                    "migration.md")

# The passwords docs/migration.md names beside its example lines.
DOCS_PASSWORDS = {
    "ada@example.com": "Ocelot-Pancake-42",
    "grace@example.com": "user1password",
    "linus@example.com": "Marmalade-Tuesday-7",
    "rosalind@example.com": "Lantern-Quiet-93",
}


def docs_lines():
    """Every line of the ```jsonl blocks of docs/migration.md."""
    lines, inside = [], False
    with open(DOCS) as f:
        for line in f:
            if line.startswith("```"):
                inside = line.strip() == "```jsonl"
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


class DocsExamplesTest(Case):
    """The worked examples of docs/migration.md are exact: each line goes in through the API and
    through the CLI, and its user signs in with the password the page names."""

    def setUp(self):
        super().setUp()
        self.db = self.new_database()
        self.lines = docs_lines()
        self.assertEqual(sorted(json.loads(l)["email"] for l in self.lines),
                         sorted(DOCS_PASSWORDS))

    def check_sign_ins(self, c):
        for email, password in DOCS_PASSWORDS.items():
            with self.subTest(email=email):
                self.assertError(c.post("/v1/passwords/authenticate",
                                        {"email": email, "password": password + "?"}),
                                 401, "unauthorized_credentials")
                self.assertSuccess(c.post("/v1/passwords/authenticate",
                                          {"email": email, "password": password}))

    def test_through_the_api(self):
        project = create_project(self.db)
        server = self.start_server(self.db)
        c = server.client(project)
        for line in self.lines:
            body = self.assertSuccess(c.post("/v1/passwords/migrate", json.loads(line)))
            self.assertIs(body["user_created"], True)
        self.check_sign_ins(c)

    def test_through_the_cli(self):
        project = create_project(self.db)
        path = os.path.join(self.new_workdir(), "docs.jsonl")
        write_lines(path, self.lines)
        proc = run_import(self.db, project.project_id, path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        server = self.start_server(self.db)
        self.check_sign_ins(server.client(project))


if __name__ == "__main__":
    unittest.main()
