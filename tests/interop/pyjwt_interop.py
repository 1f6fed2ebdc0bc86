#!/usr/bin/python3
"""Interoperability of Tessera's session JWTs with PyJWT, in both directions.

Runs with Debian's /usr/bin/python3 (python3-jwt 2.6.0 and python3-cryptography), the PyJWT the
Stytch Python SDK's verification path is built on. Two directions:

1. Tessera mints (tessera_jwt_tool mint) and PyJWT verifies: the JWKS is loaded through
   jwt.PyJWKClient, as the Python SDK does, and jwt.decode checks signature, audience, issuer and
   the claims the SDK requires. The x5c certificate of each key is parsed with `cryptography` and
   its x5tS256 thumbprint recomputed.
2. PyJWT mints (RS256 with RSA-2048, ES256, EdDSA) and exports the JWKS, and Tessera verifies
   (tessera_jwt_tool verify): good tokens must pass and yield the session; each tampered token must
   fail with one exact Tessera error name.

Prints one line per check and a closing "N passed, N failed"; exits 1 if any check failed.
"""

import argparse
import base64
import copy
import hashlib
import hmac
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

try:
    import jwt
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
except ImportError as error:
    sys.exit(
        f"pyjwt_interop: {error}. Run this test with Debian's /usr/bin/python3 and the packages "
        "python3-jwt and python3-cryptography installed (scripts/install-deps.sh installs them)."
    )

PROJECT = "project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b"
ISSUER = "stytch.com/" + PROJECT
ALGORITHMS = ["RS256", "ES256", "EdDSA"]
REQUIRED_CLAIMS = ["aud", "iss", "exp", "iat", "nbf"]
SESSION_CLAIM = "https://stytch.com/session"
# Members of a published RSA key, exactly as Stytch publishes them (spec §2.4); the Python SDK's JWK
# model requires all nine.
RSA_JWK_MEMBERS = {"alg", "e", "key_ops", "kid", "kty", "n", "use", "x5c", "x5tS256"}
# Order of the session claim's members in Stytch's tokens (spec §3.2).
SESSION_MEMBER_ORDER = [
    "id",
    "started_at",
    "last_accessed_at",
    "expires_at",
    "attributes",
    "authentication_factors",
    "roles",
]
# A fixed minting time for the tokens PyJWT signs, so Tessera's verdict never depends on the clock.
FIXED_IAT = 1772375115  # 2026-03-01T14:25:15Z, the iat of the real token in spec §3.2.


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        return condition

    def equal(self, name, actual, expected):
        return self.check(name, actual == expected, f"got {actual!r}, want {expected!r}")

    def raises(self, name, expected_type, fn):
        try:
            fn()
        except expected_type:
            return self.check(name, True)
        except Exception as error:  # noqa: BLE001 - any other exception is the failure reported
            return self.check(name, False, f"raised {type(error).__name__}: {error}")
        return self.check(name, False, f"did not raise {expected_type.__name__}")


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rfc3339(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tool:
    """Runs tessera_jwt_tool and returns its JSON answer."""

    def __init__(self, path):
        self.path = path

    def run(self, *args, stdin=None):
        result = subprocess.run(
            [self.path, *args], input=stdin, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            # Not a verdict: a usage error or a crash (a sanitizer report lands on stderr).
            raise RuntimeError(
                f"tessera_jwt_tool {' '.join(args)} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return json.loads(result.stdout)

    def verify(self, jwks_path, token, now):
        return self.run(
            "verify", "--jwks", str(jwks_path), "--project", PROJECT, "--now", str(now),
            stdin=token,
        )


# --------------------------------------------------------------------------------------------------
# Direction 1: Tessera mints, PyJWT verifies.


def check_certificate(checks, name, jwk, minted_at):
    der = base64.b64decode(jwk["x5c"][0], validate=True)  # x5c is standard base64 (RFC 7517 §4.7)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode()
    checks.equal(f"{name}: x5tS256 is base64url(sha256(x5c[0])) with padding", jwk["x5tS256"],
                 thumbprint)
    checks.check(f"{name}: x5tS256 keeps its '=' padding", jwk["x5tS256"].endswith("="),
                 jwk["x5tS256"])
    cert = x509.load_der_x509_certificate(der)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der_encoding = serialization.Encoding.DER
    cert_key = cert.public_key().public_bytes(der_encoding, spki)
    jwk_key = jwt.PyJWK(jwk).key.public_bytes(der_encoding, spki)
    checks.equal(f"{name}: certificate holds the JWK's public key", cert_key, jwk_key)
    checks.equal(f"{name}: certificate is self-issued", cert.issuer, cert.subject)
    checks.equal(f"{name}: certificate subject", cert.subject.rfc4514_string(), "O=Tessera")
    checks.equal(f"{name}: certificate serial", cert.serial_number, 1)
    checks.equal(f"{name}: certificate valid from the minting time",
                 int(cert.not_valid_before.replace(tzinfo=timezone.utc).timestamp()), minted_at)
    validity_days = (cert.not_valid_after - cert.not_valid_before).days
    checks.check(f"{name}: certificate valid for ten years", 3650 <= validity_days <= 3660,
                 f"{validity_days} days")
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    checks.check(f"{name}: keyUsage is critical digitalSignature only",
                 key_usage.critical and key_usage.value.digital_signature
                 and not key_usage.value.key_cert_sign, str(key_usage))
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    checks.check(f"{name}: basicConstraints is critical CA:FALSE",
                 basic.critical and not basic.value.ca, str(basic))


def tessera_to_pyjwt(checks, tool, work):
    # PyJWT reads the clock itself, so these tokens are minted at the real current time.
    now = int(time.time())
    out = work / "tessera"
    out.mkdir()
    summary = tool.run("mint", "--project", PROJECT, "--out", str(out), "--now", str(now))
    jwks_path = pathlib.Path(summary["jwks"])
    jwks = json.loads(jwks_path.read_text())

    by_alg = {key["alg"]: key for key in jwks["keys"]}
    checks.equal("tessera JWKS: one key per algorithm", sorted(by_alg), sorted(ALGORITHMS))
    rsa_jwk = by_alg["RS256"]
    checks.equal("tessera JWKS: RSA key has exactly Stytch's members", set(rsa_jwk),
                 RSA_JWK_MEMBERS)
    checks.equal("tessera JWKS: RSA modulus is 2048 bits", len(b64url_decode(rsa_jwk["n"])) * 8,
                 2048)
    for alg in ALGORITHMS:
        jwk = by_alg[alg]
        checks.equal(f"tessera JWKS {alg}: use", jwk.get("use"), "sig")
        checks.equal(f"tessera JWKS {alg}: key_ops", jwk.get("key_ops"), ["verify"])
        checks.equal(f"tessera JWKS {alg}: members in alphabetical order", list(jwk),
                     sorted(jwk))
        check_certificate(checks, f"tessera JWKS {alg}", jwk, now)

    # The Python SDK loads keys with PyJWKClient; a file: URL takes the same path as HTTP.
    client = jwt.PyJWKClient(jwks_path.as_uri())
    for alg in ALGORITHMS:
        name = f"tessera->pyjwt {alg}"
        token = pathlib.Path(summary["tokens"][alg]).read_text()
        header_json = b64url_decode(token.split(".")[0]).decode()
        expected_header = json.dumps({"alg": alg, "kid": summary["kids"][alg], "typ": "JWT"},
                                     separators=(",", ":"))
        checks.equal(f"{name}: header is exactly alg, kid, typ", header_json, expected_header)
        signing_key = client.get_signing_key_from_jwt(token)
        checks.equal(f"{name}: PyJWKClient picks the key by kid", signing_key.key_id,
                     summary["kids"][alg])
        try:
            payload = jwt.decode(token, signing_key.key, algorithms=[alg], audience=PROJECT,
                                 issuer=ISSUER, options={"require": REQUIRED_CLAIMS})
        except jwt.PyJWTError as error:
            checks.check(f"{name}: jwt.decode accepts the token", False,
                         f"{type(error).__name__}: {error}")
            continue
        checks.check(f"{name}: jwt.decode accepts the token", True)
        checks.equal(f"{name}: aud", payload["aud"], [PROJECT])
        checks.equal(f"{name}: sub", payload["sub"], summary["user_id"])
        checks.equal(f"{name}: iat", payload["iat"], now)
        checks.equal(f"{name}: nbf = iat", payload["nbf"], now)
        checks.equal(f"{name}: exp = iat + 300", payload["exp"], now + 300)
        checks.check(f"{name}: no jti", "jti" not in payload)
        checks.equal(f"{name}: custom claim", payload.get("id"), summary["custom_claims"]["id"])
        checks.equal(f"{name}: top-level claims sorted", list(payload), sorted(payload))
        session = payload[SESSION_CLAIM]
        checks.equal(f"{name}: session claim members in Stytch's order", list(session),
                     SESSION_MEMBER_ORDER)
        checks.equal(f"{name}: session id", session["id"], summary["session_id"])
        checks.equal(f"{name}: started_at", session["started_at"], rfc3339(now))
        checks.equal(f"{name}: expires_at", session["expires_at"],
                     rfc3339(summary["session_expires_at"]))
        checks.equal(f"{name}: attributes", session["attributes"],
                     {"user_agent": summary["user_agent"], "ip_address": summary["ip_address"]})
        checks.equal(f"{name}: roles", session["roles"], ["stytch_user"])
        checks.equal(f"{name}: factor type", session["authentication_factors"][0]["type"],
                     "magic_link")

        # PyJWT's acceptance above means something only if PyJWT would reject a bad token.
        sig = bytearray(b64url_decode(token.split(".")[2]))
        sig[len(sig) // 2] ^= 0x01
        tampered = ".".join(token.split(".")[:2] + [b64url_encode(bytes(sig))])
        checks.raises(f"{name}: PyJWT rejects a flipped signature byte",
                      jwt.InvalidSignatureError,
                      lambda: jwt.decode(tampered, signing_key.key, algorithms=[alg],
                                         audience=PROJECT, issuer=ISSUER))
        checks.raises(f"{name}: PyJWT rejects another audience", jwt.InvalidAudienceError,
                      lambda: jwt.decode(token, signing_key.key, algorithms=[alg],
                                         audience="project-test-other", issuer=ISSUER))


# --------------------------------------------------------------------------------------------------
# Direction 2: PyJWT mints, Tessera verifies.


def full_length_ec_key():
    # PyJWT 2.6.0's ECAlgorithm.to_jwk drops leading zero bytes of x and y, which RFC 7518
    # §6.2.1.2 forbids and Tessera refuses (see short_coordinate_case). One key in 128 is affected,
    # so draw until both coordinates are full length to keep the main cases deterministic.
    for _ in range(1000):
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        if len(b64url_decode(jwk["x"])) == 32 and len(b64url_decode(jwk["y"])) == 32:
            return key
    raise RuntimeError("no full-length P-256 key in 1000 draws")


def new_private_key(alg):
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return full_length_ec_key()
    return ed25519.Ed25519PrivateKey.generate()


def make_keys():
    """alg -> (kid, private key, public JWK as PyJWT exports it plus kid, alg and use)."""
    classes = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}
    out = {}
    for alg in ALGORITHMS:
        private_key = new_private_key(alg)
        kid = f"jwk-test-pyjwt-{alg.lower()}"
        jwk = json.loads(classes[alg].to_jwk(private_key.public_key()))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        out[alg] = (kid, private_key, jwk)
    return out


def session_claims(iat, exp=None, aud=None, sub="user-test-pyjwt-3cf138f5"):
    """A payload shaped like a real Stytch session JWT (spec §3.2)."""
    return {
        "aud": aud if aud is not None else [PROJECT],
        "exp": exp if exp is not None else iat + 300,
        SESSION_CLAIM: {
            "id": "session-test-pyjwt-1682d7d5",
            "started_at": rfc3339(iat - 120),
            "last_accessed_at": rfc3339(iat),
            "expires_at": rfc3339(iat + 3600),
            "attributes": {"user_agent": "pyjwt", "ip_address": "198.51.100.4"},
            "authentication_factors": [{
                "type": "magic_link",
                "delivery_method": "email",
                "last_authenticated_at": rfc3339(iat - 120),
                "email_factor": {"email_id": "email-test-1", "email_address": "a@example.com"},
            }],
            "roles": ["stytch_user", "admin"],
        },
        "iat": iat,
        "iss": ISSUER,
        "nbf": iat,
        "sub": sub,
        "id": "c_pyjwt_custom",
    }


def public_pem(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def hs256_token(secret, kid, claims):
    # Built by hand: PyJWT refuses a PEM key as an HMAC secret, and this is exactly the forgery
    # (RFC 8725 §2.1) a verifier that trusts the header's alg would accept.
    header = b64url_encode(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
    payload = b64url_encode(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


def expect_error(checks, name, answer, stage, error):
    checks.equal(name, (answer.get("ok"), answer.get("stage"), answer.get("error")),
                 (False, stage, error))


def short_coordinate_case(checks, tool, work):
    # Finds, deterministically, a P-256 key whose x coordinate starts with a zero byte, so PyJWT
    # 2.6.0 exports a 31-byte "x". RFC 7518 §6.2.1.2 says the coordinate MUST be full length;
    # Tessera refuses the whole document instead of guessing, and this pins that behaviour.
    for scalar in range(1, 5000):
        key = ec.derive_private_key(scalar, ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        if len(b64url_decode(jwk["x"])) < 32:
            break
    else:
        checks.check("pyjwt->tessera ES256: a short-coordinate key was found", False)
        return
    jwk.update({"kid": "jwk-test-pyjwt-short", "alg": "ES256", "use": "sig"})
    path = work / "short-coordinate-jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    token = jwt.encode(session_claims(FIXED_IAT), key, algorithm="ES256",
                       headers={"kid": "jwk-test-pyjwt-short"})
    expect_error(checks, "pyjwt->tessera ES256: 31-byte x coordinate (PyJWT 2.6 to_jwk) is refused",
                 tool.verify(path, token, FIXED_IAT + 60), "jwks", "jwks_invalid")


def pyjwt_to_tessera(checks, tool, work):
    keys = make_keys()
    jwks_path = work / "pyjwt-jwks.json"
    jwks_path.write_text(json.dumps({"keys": [jwk for _, _, jwk in keys.values()]}))
    now = FIXED_IAT + 60

    for index, alg in enumerate(ALGORITHMS):
        kid, private_key, _ = keys[alg]
        name = f"pyjwt->tessera {alg}"
        claims = session_claims(FIXED_IAT)
        token = jwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid})
        checks.equal(f"{name}: PyJWT header is alg, kid, typ", jwt.get_unverified_header(token),
                     {"alg": alg, "kid": kid, "typ": "JWT"})

        answer = tool.verify(jwks_path, token, now)
        if checks.equal(f"{name}: Tessera accepts the token", answer.get("ok"), True):
            session = claims[SESSION_CLAIM]
            checks.equal(f"{name}: alg and kid", (answer["alg"], answer["kid"]), (alg, kid))
            checks.equal(f"{name}: sub", answer["sub"], claims["sub"])
            checks.equal(f"{name}: project from aud", answer["project_id"], PROJECT)
            checks.equal(f"{name}: times", (answer["iat"], answer["nbf"], answer["exp"]),
                         (FIXED_IAT, FIXED_IAT, FIXED_IAT + 300))
            read = answer["session"]
            checks.equal(f"{name}: session id", read["id"], session["id"])
            checks.equal(f"{name}: session times",
                         (read["started_at"], read["last_accessed_at"], read["expires_at"]),
                         (FIXED_IAT - 120, FIXED_IAT, FIXED_IAT + 3600))
            checks.equal(f"{name}: attributes", (read["user_agent"], read["ip_address"]),
                         ("pyjwt", "198.51.100.4"))
            checks.equal(f"{name}: factors", read["authentication_factors"],
                         session["authentication_factors"])
            checks.equal(f"{name}: roles", read["roles"], session["roles"])
            checks.equal(f"{name}: custom claims", answer["custom_claims"],
                         {"id": "c_pyjwt_custom"})

        # The same token from a file (the path the mint direction uses) gives the same verdict.
        token_file = work / f"pyjwt-{alg}.jwt"
        token_file.write_text(token + "\n")
        from_file = tool.run("verify", "--jwks", str(jwks_path), "--project", PROJECT, "--now",
                             str(now), "--token-file", str(token_file))
        checks.equal(f"{name}: --token-file gives the same answer", from_file, answer)

        header, payload, signature = token.split(".")
        sig = bytearray(b64url_decode(signature))
        sig[len(sig) // 2] ^= 0x01
        expect_error(checks, f"{name}: flipped signature byte",
                     tool.verify(jwks_path, f"{header}.{payload}.{b64url_encode(bytes(sig))}", now),
                     "verify", "jwt_signature_invalid")

        changed = copy.deepcopy(claims)
        changed["sub"] = "user-test-attacker"
        changed_payload = b64url_encode(json.dumps(changed, separators=(",", ":")).encode())
        expect_error(checks, f"{name}: changed payload, original signature",
                     tool.verify(jwks_path, f"{header}.{changed_payload}.{signature}", now),
                     "verify", "jwt_signature_invalid")

        other_key = new_private_key(alg)
        expect_error(checks, f"{name}: signed by another key under the published kid",
                     tool.verify(jwks_path, jwt.encode(claims, other_key, algorithm=alg,
                                                       headers={"kid": kid}), now),
                     "verify", "jwt_signature_invalid")

        unsecured = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
        checks.check(f"{name}: PyJWT's alg none token has an empty signature",
                     unsecured.endswith("."), unsecured)
        expect_error(checks, f"{name}: alg none, empty signature",
                     tool.verify(jwks_path, unsecured, now), "verify", "jwt_malformed")
        expect_error(checks, f"{name}: alg none with the original signature kept",
                     tool.verify(jwks_path, unsecured + signature, now),
                     "verify", "jwt_algorithm_not_allowed")

        expect_error(checks, f"{name}: HS256 with the public key PEM as HMAC secret",
                     tool.verify(jwks_path, hs256_token(public_pem(private_key), kid, claims), now),
                     "verify", "jwt_algorithm_not_allowed")

        wrong_audience = jwt.encode(session_claims(FIXED_IAT, aud=["project-test-other"]),
                                    private_key, algorithm=alg, headers={"kid": kid})
        expect_error(checks, f"{name}: wrong audience",
                     tool.verify(jwks_path, wrong_audience, now), "verify",
                     "jwt_audience_invalid")

        expired = jwt.encode(session_claims(now - 300), private_key, algorithm=alg,
                             headers={"kid": kid})
        expect_error(checks, f"{name}: expired (exp == now)",
                     tool.verify(jwks_path, expired, now), "verify", "jwt_expired")
        checks.equal(f"{name}: one second before expiry it is accepted",
                     tool.verify(jwks_path, expired, now - 1).get("ok"), True)

        unknown_kid = jwt.encode(claims, private_key, algorithm=alg,
                                 headers={"kid": "jwk-test-not-published"})
        expect_error(checks, f"{name}: unknown kid", tool.verify(jwks_path, unknown_kid, now),
                     "verify", "jwt_kid_unknown")

        other_alg = ALGORITHMS[(index + 1) % len(ALGORITHMS)]
        mismatched = jwt.encode(claims, private_key, algorithm=alg,
                                headers={"kid": keys[other_alg][0]})
        expect_error(checks, f"{name}: kid of the {other_alg} key",
                     tool.verify(jwks_path, mismatched, now), "verify", "jwt_key_mismatch")

    short_coordinate_case(checks, tool, work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, help="path of tessera_jwt_tool")
    parser.add_argument("--work-dir", required=True, help="scratch directory (created)")
    args = parser.parse_args()

    print(f"PyJWT {jwt.__version__} from {os.path.dirname(jwt.__file__)}")
    base = pathlib.Path(args.work_dir)
    base.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="pyjwt-", dir=base))
    checks = Checks()
    tool = Tool(args.tool)
    tessera_to_pyjwt(checks, tool, work)
    pyjwt_to_tessera(checks, tool, work)

    print(f"{checks.passed} passed, {checks.failed} failed")
    if checks.failed == 0 and checks.passed > 0:
        shutil.rmtree(work)
        return 0
    print(f"files kept in {work}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
