// Interoperability of Tessera's session JWTs with jose (npm), in both directions.
//
// jose is the library the Stytch Node SDK verifies session JWTs with; the version is pinned in
// package.json / package-lock.json to the one that SDK ships. Two directions:
//
// 1. Tessera mints (tessera_jwt_tool mint) and jose verifies: createLocalJWKSet over the published
//    JWKS and jwtVerify with the options the SDK passes (audience, issuer, typ "JWT"). Each key's
//    x5c certificate is parsed with node:crypto's X509Certificate, its x5tS256 recomputed, and the
//    token verified a second time with the key taken from the certificate (importX509).
// 2. jose mints (RS256 with RSA-2048, ES256, EdDSA) and exports the JWKS, and Tessera verifies
//    (tessera_jwt_tool verify): good tokens must pass and yield the session; each tampered token must
//    fail with one exact Tessera error name.
//
// Usage: node jose_interop.mjs --tool PATH_OF_tessera_jwt_tool --work-dir DIR
// Prints one line per check and a closing "N passed, N failed"; exits 1 if any check failed.

import { execFileSync } from 'node:child_process';
import { createHash, createHmac, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

// jose comes from tests/interop/node_modules (`npm ci` there). Without it the test must fail
// loudly: a skipped interop test would look exactly like a passing one.
let jose;
try {
  jose = await import('jose');
} catch (error) {
  console.error(
    `jose_interop: cannot load the npm package "jose" (${error.code ?? error.message}).\n` +
      `Run \`npm ci\` in ${path.dirname(new URL(import.meta.url).pathname)} ` +
      '(scripts/test.sh does this before ctest).',
  );
  process.exit(1);
}
const joseVersion = createRequire(import.meta.url)('jose/package.json').version;

const PROJECT = 'project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b';
const ISSUER = `stytch.com/${PROJECT}`;
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const SESSION_CLAIM = 'https://stytch.com/session';
// Members of a published RSA key, exactly as Stytch publishes them (spec §2.4).
const RSA_JWK_MEMBERS = ['alg', 'e', 'key_ops', 'kid', 'kty', 'n', 'use', 'x5c', 'x5tS256'];
// jose takes the time as an argument, so both directions run at a fixed instant:
// 2026-03-01T14:25:15Z, the iat of the real token in spec §3.2.
const FIXED_IAT = 1772375115;

let passed = 0;
let failed = 0;

function check(name, condition, detail = '') {
  if (condition) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
  return condition;
}

function equal(name, actual, expected) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return check(name, a === e, `got ${a}, want ${e}`);
}

// Passes when `promise` rejects with a jose error whose code is `code`.
async function rejectsWith(name, code, promise) {
  try {
    await promise;
    return check(name, false, `accepted; wanted ${code}`);
  } catch (error) {
    return check(name, error.code === code, `${error.code}: ${error.message}`);
  }
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const fromB64url = (text) => Buffer.from(text, 'base64url');
const rfc3339 = (seconds) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const sorted = (list) => [...list].sort();

function flipSignatureByte(token) {
  const [header, payload, signature] = token.split('.');
  const sig = fromB64url(signature);
  sig[sig.length >> 1] ^= 0x01;
  return `${header}.${payload}.${b64url(sig)}`;
}

// Runs tessera_jwt_tool. A non-zero exit is a usage error or a crash (a sanitizer report), never
// a verdict, so it throws and fails the whole test.
function runTool(tool, args, input) {
  const stdout = execFileSync(tool, args, {
    input: input ?? '',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
    timeout: 120_000,
  });
  return JSON.parse(stdout);
}

// --------------------------------------------------------------------------------------------------
// Direction 1: Tessera mints, jose verifies.

async function checkCertificate(name, jwk, token) {
  const der = Buffer.from(jwk.x5c[0], 'base64');
  // x5tS256 is base64url WITH padding (spec §2.4); Node's 'base64url' drops the padding.
  const thumbprint = createHash('sha256')
    .update(der)
    .digest('base64')
    .replaceAll('+', '-')
    .replaceAll('/', '_');
  equal(`${name}: x5tS256 is base64url(sha256(x5c[0])) with padding`, jwk.x5tS256, thumbprint);
  check(`${name}: x5tS256 keeps its '=' padding`, jwk.x5tS256.endsWith('='), jwk.x5tS256);

  const cert = new X509Certificate(der);
  equal(`${name}: certificate subject`, cert.subject, 'O=Tessera');
  equal(`${name}: certificate is self-issued`, cert.issuer, cert.subject);
  equal(`${name}: certificate serial`, cert.serialNumber, '01');
  check(`${name}: certificate signature verifies with its own key`, cert.verify(cert.publicKey));
  check(`${name}: certificate is not a CA`, !cert.ca);
  const certJwk = cert.publicKey.export({ format: 'jwk' });
  const members = jwk.kty === 'RSA' ? ['kty', 'n', 'e'] : ['kty', 'crv', 'x', 'y'];
  equal(
    `${name}: certificate holds the JWK's public key`,
    members.map((m) => certJwk[m]),
    members.map((m) => jwk[m]),
  );

  // What a verifier that trusts x5c would do: take the key from the certificate.
  const pem = `-----BEGIN CERTIFICATE-----\n${jwk.x5c[0]}\n-----END CERTIFICATE-----`;
  const certKey = await jose.importX509(pem, jwk.alg);
  try {
    await jose.jwtVerify(token, certKey, {
      audience: PROJECT,
      issuer: ISSUER,
      typ: 'JWT',
      currentDate: new Date(FIXED_IAT * 1000),
    });
    check(`${name}: token verifies with the key from x5c`, true);
  } catch (error) {
    check(`${name}: token verifies with the key from x5c`, false, `${error.code}: ${error.message}`);
  }
}

async function tesseraToJose(tool, work) {
  const out = path.join(work, 'tessera');
  mkdirSync(out);
  const summary = runTool(tool, [
    'mint', '--project', PROJECT, '--out', out, '--now', String(FIXED_IAT),
  ]);
  const jwks = JSON.parse(readFileSync(summary.jwks, 'utf8'));
  const byAlg = Object.fromEntries(jwks.keys.map((k) => [k.alg, k]));
  equal('tessera JWKS: one key per algorithm', sorted(Object.keys(byAlg)), sorted(ALGORITHMS));
  equal('tessera JWKS: RSA key has exactly Stytch\'s members', sorted(Object.keys(byAlg.RS256)),
    RSA_JWK_MEMBERS);
  equal('tessera JWKS: RSA modulus is 2048 bits', fromB64url(byAlg.RS256.n).length * 8, 2048);

  const keySet = jose.createLocalJWKSet(jwks);
  // The options the Stytch Node SDK passes (spec §3.3), with the claims Python and Java require.
  const options = (now) => ({
    audience: PROJECT,
    issuer: ISSUER,
    typ: 'JWT',
    currentDate: new Date(now * 1000),
    requiredClaims: ['aud', 'iss', 'exp', 'iat', 'nbf', 'sub'],
  });

  for (const alg of ALGORITHMS) {
    const name = `tessera->jose ${alg}`;
    const token = readFileSync(summary.tokens[alg], 'utf8');
    let result;
    try {
      result = await jose.jwtVerify(token, keySet, { ...options(FIXED_IAT), algorithms: [alg] });
      check(`${name}: jwtVerify accepts the token`, true);
    } catch (error) {
      check(`${name}: jwtVerify accepts the token`, false, `${error.code}: ${error.message}`);
      continue;
    }
    const { payload, protectedHeader } = result;
    equal(`${name}: header is exactly alg, kid, typ`, protectedHeader,
      { alg, kid: summary.kids[alg], typ: 'JWT' });
    equal(`${name}: aud`, payload.aud, [PROJECT]);
    equal(`${name}: sub`, payload.sub, summary.user_id);
    equal(`${name}: iat, nbf, exp`, [payload.iat, payload.nbf, payload.exp],
      [FIXED_IAT, FIXED_IAT, FIXED_IAT + 300]);
    check(`${name}: no jti`, !('jti' in payload));
    equal(`${name}: custom claim`, payload.id, summary.custom_claims.id);
    equal(`${name}: top-level claims sorted`, Object.keys(payload), sorted(Object.keys(payload)));
    const session = payload[SESSION_CLAIM];
    equal(`${name}: session claim members in Stytch's order`, Object.keys(session),
      ['id', 'started_at', 'last_accessed_at', 'expires_at', 'attributes',
        'authentication_factors', 'roles']);
    equal(`${name}: session id`, session.id, summary.session_id);
    equal(`${name}: expires_at`, session.expires_at, rfc3339(summary.session_expires_at));
    equal(`${name}: attributes`, session.attributes,
      { user_agent: summary.user_agent, ip_address: summary.ip_address });
    equal(`${name}: roles`, session.roles, ['stytch_user']);

    // jose's acceptance above means something only if jose rejects bad tokens too.
    await rejectsWith(`${name}: jose rejects a flipped signature byte`,
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', jose.jwtVerify(flipSignatureByte(token), keySet,
        options(FIXED_IAT)));
    await rejectsWith(`${name}: jose rejects it at exp`, 'ERR_JWT_EXPIRED',
      jose.jwtVerify(token, keySet, options(FIXED_IAT + 300)));
    await rejectsWith(`${name}: jose rejects another audience`, 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      jose.jwtVerify(token, keySet, { ...options(FIXED_IAT), audience: 'project-test-other' }));

    await checkCertificate(`tessera JWKS ${alg}`, byAlg[alg], token);
  }
}

// --------------------------------------------------------------------------------------------------
// Direction 2: jose mints, Tessera verifies.

function sessionClaims(iat, { aud = [PROJECT], sub = 'user-test-jose-3cf138f5' } = {}) {
  return {
    aud,
    exp: iat + 300,
    [SESSION_CLAIM]: {
      id: 'session-test-jose-1682d7d5',
      started_at: rfc3339(iat - 120),
      last_accessed_at: rfc3339(iat),
      expires_at: rfc3339(iat + 3600),
      attributes: { user_agent: 'jose', ip_address: '198.51.100.9' },
      authentication_factors: [{
        type: 'email_otp',
        delivery_method: 'email',
        last_authenticated_at: rfc3339(iat - 120),
        email_factor: { email_id: 'email-test-2', email_address: 'b@example.com' },
      }],
      roles: ['stytch_user'],
    },
    iat,
    iss: ISSUER,
    nbf: iat,
    sub,
    id: 'c_jose_custom',
  };
}

async function newKeyPair(alg) {
  const options = { extractable: true };
  if (alg === 'RS256') options.modulusLength = 2048;
  if (alg === 'EdDSA') options.crv = 'Ed25519';
  return jose.generateKeyPair(alg, options);
}

async function sign(claims, privateKey, alg, kid) {
  return new jose.SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey);
}

async function joseToTessera(tool, work) {
  const keys = {};
  for (const alg of ALGORITHMS) {
    const kid = `jwk-test-jose-${alg.toLowerCase()}`;
    const { publicKey, privateKey } = await newKeyPair(alg);
    const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
    keys[alg] = { kid, publicKey, privateKey, jwk };
  }
  const jwksPath = path.join(work, 'jose-jwks.json');
  writeFileSync(jwksPath, JSON.stringify({ keys: ALGORITHMS.map((alg) => keys[alg].jwk) }));
  const now = FIXED_IAT + 60;
  const verify = (token, at = now) =>
    runTool(tool, ['verify', '--jwks', jwksPath, '--project', PROJECT, '--now', String(at)], token);
  const expectError = (name, answer, stage, error) =>
    equal(name, [answer.ok, answer.stage, answer.error], [false, stage, error]);

  for (const [index, alg] of ALGORITHMS.entries()) {
    const { kid, publicKey, privateKey } = keys[alg];
    const name = `jose->tessera ${alg}`;
    const claims = sessionClaims(FIXED_IAT);
    const token = await sign(claims, privateKey, alg, kid);

    const answer = verify(token);
    if (equal(`${name}: Tessera accepts the token`, answer.ok, true)) {
      const session = claims[SESSION_CLAIM];
      equal(`${name}: alg and kid`, [answer.alg, answer.kid], [alg, kid]);
      equal(`${name}: sub`, answer.sub, claims.sub);
      equal(`${name}: project from aud`, answer.project_id, PROJECT);
      equal(`${name}: times`, [answer.iat, answer.nbf, answer.exp],
        [FIXED_IAT, FIXED_IAT, FIXED_IAT + 300]);
      equal(`${name}: session id`, answer.session.id, session.id);
      equal(`${name}: session times`,
        [answer.session.started_at, answer.session.last_accessed_at, answer.session.expires_at],
        [FIXED_IAT - 120, FIXED_IAT, FIXED_IAT + 3600]);
      equal(`${name}: attributes`, [answer.session.user_agent, answer.session.ip_address],
        ['jose', '198.51.100.9']);
      equal(`${name}: factors`, answer.session.authentication_factors,
        session.authentication_factors);
      equal(`${name}: roles`, answer.session.roles, session.roles);
      equal(`${name}: custom claims`, answer.custom_claims, { id: 'c_jose_custom' });
    }

    const [header, payload, signature] = token.split('.');
    expectError(`${name}: flipped signature byte`, verify(flipSignatureByte(token)), 'verify',
      'jwt_signature_invalid');

    const changed = b64url(JSON.stringify({ ...claims, sub: 'user-test-attacker' }));
    expectError(`${name}: changed payload, original signature`,
      verify(`${header}.${changed}.${signature}`), 'verify', 'jwt_signature_invalid');

    const other = await newKeyPair(alg);
    expectError(`${name}: signed by another key under the published kid`,
      verify(await sign(claims, other.privateKey, alg, kid)), 'verify', 'jwt_signature_invalid');

    // jose's UnsecuredJWT writes {"alg":"none"} and an empty signature.
    const unsecured = new jose.UnsecuredJWT(claims).encode();
    check(`${name}: jose's unsecured JWT has an empty signature`, unsecured.endsWith('.'),
      unsecured);
    expectError(`${name}: alg none, empty signature`, verify(unsecured), 'verify',
      'jwt_malformed');
    const noneHeader = b64url(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }));
    expectError(`${name}: alg none with kid, typ and the original signature kept`,
      verify(`${noneHeader}.${payload}.${signature}`), 'verify', 'jwt_algorithm_not_allowed');

    // The key-confusion forgery (RFC 8725 §2.1): HMAC keyed with the public key's PEM, under the
    // published kid. jose signs HS256 with any byte string as the secret.
    const pem = await jose.exportSPKI(publicKey);
    const hs256 = await sign(claims, new TextEncoder().encode(pem), 'HS256', kid);
    // Guard the fixture itself: it really is HMAC-SHA256 keyed with the PEM.
    const [hsHeader, hsPayload, hsSignature] = hs256.split('.');
    equal(`${name}: HS256 fixture is keyed with the PEM`, hsSignature,
      createHmac('sha256', pem).update(`${hsHeader}.${hsPayload}`).digest('base64url'));
    expectError(`${name}: HS256 with the public key PEM as HMAC secret`, verify(hs256), 'verify',
      'jwt_algorithm_not_allowed');

    expectError(`${name}: wrong audience`,
      verify(await sign(sessionClaims(FIXED_IAT, { aud: ['project-test-other'] }), privateKey, alg,
        kid)), 'verify', 'jwt_audience_invalid');

    const expired = await sign(sessionClaims(now - 300), privateKey, alg, kid);
    expectError(`${name}: expired (exp == now)`, verify(expired), 'verify', 'jwt_expired');
    equal(`${name}: one second before expiry it is accepted`, verify(expired, now - 1).ok, true);

    expectError(`${name}: unknown kid`,
      verify(await sign(claims, privateKey, alg, 'jwk-test-not-published')), 'verify',
      'jwt_kid_unknown');

    const otherAlg = ALGORITHMS[(index + 1) % ALGORITHMS.length];
    expectError(`${name}: kid of the ${otherAlg} key`,
      verify(await sign(claims, privateKey, alg, keys[otherAlg].kid)), 'verify',
      'jwt_key_mismatch');
  }
}

const { values: args } = parseArgs({
  options: { tool: { type: 'string' }, 'work-dir': { type: 'string' } },
});
if (!args.tool || !args['work-dir']) {
  console.error('usage: node jose_interop.mjs --tool PATH --work-dir DIR');
  process.exit(2);
}
console.log(`jose ${joseVersion}, node ${process.version}`);
mkdirSync(args['work-dir'], { recursive: true });
const work = mkdtempSync(path.join(args['work-dir'], 'jose-'));
await tesseraToJose(args.tool, work);
await joseToTessera(args.tool, work);

console.log(`${passed} passed, ${failed} failed`);
if (failed === 0 && passed > 0) {
  rmSync(work, { recursive: true });
} else {
  console.log(`files kept in ${work}`);
  process.exitCode = 1;
}
