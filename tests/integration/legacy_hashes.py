"""Password hashes made by implementations independent of Tessera, in the shape of a
passwords/migrate request: python3-bcrypt, python3-argon2 (argon2-cffi), python3-passlib and
Python's hashlib, each on Debian 12's own package.

`make_request(hash_type, email, password)` returns the JSON body that migrates `password`'s hash;
`ALL_TYPES` lists every hash_type, each in every form Tessera accepts (encoded strings and the
hex/base64 forms with a config object). Costs are the lowest each algorithm accepts, or close, so
that the tests stay fast under the sanitizers; the verifiers do the same work at any cost.
"""

import base64
import hashlib
import os
import secrets
import string

try:
    import argon2.low_level as argon2_low
    import bcrypt
    from passlib.hash import phpass as passlib_phpass
    from passlib.hash import scrypt as passlib_scrypt
except ImportError as e:  # A missing package fails loudly, never skips.
    raise ImportError(f"{e}: the migration tests need python3-bcrypt, python3-argon2 and "
                      "python3-passlib (scripts/install-deps.sh installs them)") from e


def b64(data):
    return base64.b64encode(data).decode()


def random_password(n=20):
    """Random printable ASCII with at least one non-alphanumeric (as exports hold them)."""
    alphabet = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_{|}~ "
    return "".join(secrets.choice(alphabet) for _ in range(n - 1)) + "é"


def _argon2_encoded(password, kind):
    t = argon2_low.Type.ID if kind == "argon_2id" else argon2_low.Type.I
    return argon2_low.hash_secret(password.encode(), os.urandom(16), time_cost=2,
                                  memory_cost=1024, parallelism=2, hash_len=32, type=t).decode()


def _argon2_hex(password, kind):
    t = argon2_low.Type.ID if kind == "argon_2id" else argon2_low.Type.I
    salt = secrets.token_hex(8)  # The config's salt is taken as its UTF-8 bytes.
    raw = argon2_low.hash_secret_raw(password.encode(), salt.encode(), time_cost=1,
                                     memory_cost=512, parallelism=1, hash_len=24, type=t)
    return raw.hex(), {"salt": salt, "iteration_amount": 1, "memory": 512, "threads": 1,
                       "key_length": 24}


# (form name, hash_type, builder(password) -> dict of request members)
FORMS = [
    ("bcrypt_2b", "bcrypt",
     lambda pw: {"hash": bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4)).decode()}),
    ("bcrypt_2a", "bcrypt",
     lambda pw: {"hash": bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4, prefix=b"2a")).decode()}),
    ("md_5", "md_5", lambda pw: {
        "hash": hashlib.md5(b"pre" + pw.encode() + b"app").hexdigest(),
        "md_5_config": {"prepend_salt": "pre", "append_salt": "app"}}),
    ("sha_1", "sha_1", lambda pw: {
        "hash": hashlib.sha1(pw.encode() + b"!s4lt").hexdigest(),
        "sha_1_config": {"prepend_salt": "", "append_salt": "!s4lt"}}),
    ("sha_512", "sha_512", lambda pw: {
        "hash": hashlib.sha512(b"p" + pw.encode()).hexdigest(),
        "sha_512_config": {"prepend_salt": "p", "append_salt": ""}}),
    ("argon_2id_encoded", "argon_2id", lambda pw: {"hash": _argon2_encoded(pw, "argon_2id")}),
    ("argon_2i_encoded", "argon_2i", lambda pw: {"hash": _argon2_encoded(pw, "argon_2i")}),
    ("argon_2id_hex", "argon_2id", lambda pw: dict(
        zip(("hash", "argon_2_config"), _argon2_hex(pw, "argon_2id")))),
    ("argon_2i_hex", "argon_2i", lambda pw: dict(
        zip(("hash", "argon_2_config"), _argon2_hex(pw, "argon_2i")))),
    ("scrypt_config", "scrypt", lambda pw: (lambda salt: {
        "hash": b64(hashlib.scrypt(pw.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)),
        "scrypt_config": {"salt": b64(salt), "n_parameter": 1024, "r_parameter": 8,
                          "p_parameter": 1, "key_length": 32}})(os.urandom(16))),
    ("scrypt_phc", "scrypt",
     lambda pw: {"hash": passlib_scrypt.using(rounds=10).hash(pw)}),
    ("pbkdf_2_sha256", "pbkdf_2", lambda pw: (lambda salt: {
        "hash": b64(hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 2000, 32)),
        "pbkdf_2_config": {"salt": b64(salt), "iteration_amount": 2000, "key_length": 32,
                           "algorithm": "sha256"}})(os.urandom(12))),
    ("pbkdf_2_sha512", "pbkdf_2", lambda pw: (lambda salt: {
        "hash": b64(hashlib.pbkdf2_hmac("sha512", pw.encode(), salt, 2000, 64)),
        "pbkdf_2_config": {"salt": b64(salt), "iteration_amount": 2000, "key_length": 64,
                           "algorithm": "sha512"}})(os.urandom(12))),
    ("phpass_P", "phpass", lambda pw: {"hash": passlib_phpass.using(rounds=8).hash(pw)}),
    ("phpass_H", "phpass", lambda pw: {"hash": passlib_phpass.using(rounds=7,
                                                                    ident="H").hash(pw)}),
]


def make_request(form, email, password):
    """The passwords/migrate body for `password`, hashed in `form` (a FORMS name)."""
    for name, hash_type, build in FORMS:
        if name == form:
            return {"email": email, "hash_type": hash_type, **build(password)}
    raise KeyError(form)
