// Compatibility of the tessera server with the official Stytch Node SDK (npm `stytch`), unmodified.
//
// The SDK version is pinned exactly in package.json / package-lock.json (`npm ci` in this folder;
// scripts/test.sh does it before ctest). The script starts the real `tessera` binary (path in the
// environment variable TESSERA_BIN) on a fresh SQLite database in a temporary folder, or with
// TESSERA_TEST_DATABASE=postgresql on a fresh PostgreSQL database (see "The database" below),
// creates two projects, and drives it through
// `new stytch.Client({project_id, secret, env: "http://127.0.0.1:PORT/"})`.
// `env`, not `custom_base_url`: the SDK rejects a non-https custom_base_url (spec §1.1).
//
// Every scenario asserts concrete values of what the SDK returns or throws: sign-up and sign-in,
// authenticate by token and by JWT, local JWT verification against the server's JWKS (the SDK
// fetches it itself through jose), the local/remote choice of authenticateJwt (proved with the
// server's request counters in /metrics), custom claims, users get/search/searchAll, revoke, user
// delete, isolation between two projects, the error shape the SDK surfaces, and a key rotation
// while the server runs (old JWTs keep verifying, new ones carry the new kid, jose refetches on an
// unknown kid). The last test stops the server with SIGTERM and requires exit status 0, so a
// sanitizer report at shutdown fails the run.
//
// Usage: TESSERA_BIN=/path/to/tessera node stytch_node_compat.mjs
//        TESSERA_TEST_DATABASE=postgresql TESSERA_TEST_POSTGRES_URL=postgresql://... TESSERA_BIN=...
//          node stytch_node_compat.mjs
// Output: node's test runner (TAP); exit status non-zero if anything failed.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

// --- The SDK: the pinned version from this folder's node_modules, or a loud failure -----------

function die(message) {
  console.error(`stytch_node_compat: ${message}`);
  process.exit(1);
}

const pinned = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies
  ?.stytch;
const installedManifest = path.join(here, 'node_modules', 'stytch', 'package.json');
if (!existsSync(installedManifest)) {
  die(
    `the npm package "stytch" is not installed in ${here}/node_modules.\n` +
      `Run \`npm ci\` in ${here} (scripts/test.sh does this before ctest). ` +
      'A compatibility test that cannot load the SDK fails; it never passes silently.',
  );
}
const installed = JSON.parse(readFileSync(installedManifest, 'utf8')).version;
if (installed !== pinned) {
  die(
    `node_modules holds stytch ${installed} but package.json pins ${pinned}; run \`npm ci\` in ${here}.`,
  );
}
const stytch = createRequire(path.join(here, 'package.json'))('stytch');
const { Client, StytchError, ClientError } = stytch;

const TESSERA_BIN = process.env.TESSERA_BIN;
if (!TESSERA_BIN || !existsSync(TESSERA_BIN)) {
  die(`TESSERA_BIN must name the tessera binary (got ${JSON.stringify(TESSERA_BIN ?? null)}).`);
}

// The SDK warns on every Client built with a custom `env`; that is expected here.
const originalWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes("Using a custom 'env' value")) return;
  originalWarn(...args);
};

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- The server --------------------------------------------------------------------------------

// tessera runs under a small sh that holds the read end of a pipe from this process: when this
// process exits for any reason, even SIGKILL, the pipe closes, `read` returns and the shell sends
// SIGTERM to the server, so no server outlives the test. The shell's exit status is the server's.
const WATCHDOG =
  '"$0" "$@" </dev/null & pid=$!; echo "$pid"; read _line; kill -TERM "$pid" 2>/dev/null; wait "$pid"';

// --- The database: a fresh SQLite file (default) or a fresh PostgreSQL database ----------------

// TESSERA_TEST_DATABASE=postgresql: a fresh database in the cluster named by
// TESSERA_TEST_POSTGRES_URL (or the file TESSERA_TEST_POSTGRES_URL_FILE, which ctest's `postgres`
// fixture writes), made with psql and dropped at the end, and an explicit master key file
// (PostgreSQL has no file to keep it beside). A database rather than a schema in the shared one:
// LISTEN/NOTIFY channels are per database, and the server would hear every other test's change
// notifications (one arriving during shutdown once made tessera read freed caches, since fixed:
// tests/integration/test_multinode.py, ShutdownTest).
const DATABASE_KIND = process.env.TESSERA_TEST_DATABASE || 'sqlite';
if (DATABASE_KIND !== 'sqlite' && DATABASE_KIND !== 'postgresql') {
  die(`unknown TESSERA_TEST_DATABASE=${DATABASE_KIND} (expected sqlite or postgresql)`);
}
const PSQL = existsSync('/usr/bin/psql') ? '/usr/bin/psql' : 'psql';

function postgresBaseUrl() {
  let url = process.env.TESSERA_TEST_POSTGRES_URL || '';
  const urlFile = process.env.TESSERA_TEST_POSTGRES_URL_FILE || '';
  if (!url && urlFile) {
    try {
      url = readFileSync(urlFile, 'utf8').trim();
    } catch (error) {
      die(`cannot read TESSERA_TEST_POSTGRES_URL_FILE=${urlFile}: ${error.message}`);
    }
  }
  if (!/^postgres(ql)?:\/\//.test(url)) {
    die(
      'TESSERA_TEST_DATABASE=postgresql needs TESSERA_TEST_POSTGRES_URL or ' +
        `TESSERA_TEST_POSTGRES_URL_FILE naming a postgresql:// URL (got ${JSON.stringify(url)})`,
    );
  }
  return url;
}

// psql with only the PG* part of our environment (never a TESSERA_* variable).
function psql(url, sql) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')),
  );
  return execFileP(
    PSQL,
    ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { env: { ...env, PGCONNECT_TIMEOUT: '10' }, timeout: 60_000 },
  );
}

const work = mkdtempSync(path.join(tmpdir(), 'tessera-compat-'));
const db = { url: null, args: null, describe: null, create: null, cleanup: async () => {} };
if (DATABASE_KIND === 'postgresql') {
  const base = postgresBaseUrl();
  const name = `compat_${randomBytes(8).toString('hex')}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  db.url = url.href;
  db.args = ['--database', db.url, '--master-key-file', path.join(work, 'master-key')];
  db.describe = `PostgreSQL database ${name}`;
  db.create = () => psql(base, `CREATE DATABASE ${name}`);
  db.cleanup = async () => {
    try {
      await psql(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch {} // Best effort: the cluster is thrown away after the run.
  };
} else {
  db.url = `sqlite:${path.join(work, 'tessera.db')}`;
  db.args = ['--database', db.url]; // The master key goes to <file>.master-key.
  db.describe = 'SQLite';
  db.create = async () => {};
}
const server = { child: null, pid: null, exited: null, stderr: [], base: null, port: null };
const MAIL_DIR = path.join(work, 'mail');
const LOGIN_URL = 'https://app.example.com/authenticate';
const RESET_URL = 'https://app.example.com/reset';

async function tesseraCli(...args) {
  try {
    const { stdout } = await execFileP(TESSERA_BIN, [...args, ...db.args], {
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    throw new Error(`tessera ${args.join(' ')} failed: ${error.message}\n${error.stderr ?? ''}`);
  }
}

async function createProject(name) {
  const out = JSON.parse(await tesseraCli('projects', 'create', '--name', name, '--json'));
  assert.match(out.project_id, /^project-test-[0-9a-f-]{36}$/);
  assert.equal(typeof out.secret, 'string');
  return out;
}

function startServer() {
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      WATCHDOG,
      TESSERA_BIN,
      'serve',
      ...db.args,
      '--listen',
      '127.0.0.1:0',
      '--access-log',
      'off',
      '--argon2-memory-kib',
      '1024',
      '--argon2-iterations',
      '1',
      // Email sign-in (scenarios 13a-13c): each message written as an .eml file.
      '--smtp-url',
      `file:${MAIL_DIR}`,
      '--email-from',
      'Compat <compat@example.com>',
      '--outbox-poll-ms',
      '100',
      '--email-rate-limit-per-address',
      '0',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  server.child = child;
  server.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.once('data', (d) => {
    server.pid = Number.parseInt(d, 10);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`tessera did not log "listening" within 90 s:\n${server.stderr.join('\n')}`),
        ),
      90_000,
    );
    let pending = '';
    child.stderr.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        server.stderr.push(line);
        process.stderr.write(`[tessera] ${line}\n`);
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening' && typeof entry.address === 'string') {
            clearTimeout(timer);
            resolve(entry.address);
          }
        } catch {
          // Not a JSON log line (e.g. a sanitizer report): kept for the failure message.
        }
      }
    });
    server.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `tessera exited early (code ${code}, signal ${signal}):\n${server.stderr.join('\n')}`,
        ),
      );
    });
  });
}

// Closes the watchdog's pipe (the shell then sends SIGTERM) and waits for the exit status.
async function stopServer() {
  if (!server.child || server.child.exitCode !== null || server.child.signalCode !== null) {
    return server.exited ? server.exited : null;
  }
  server.child.stdin.end();
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), 60_000);
  });
  const result = await Promise.race([server.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    if (server.pid) {
      try {
        process.kill(server.pid, 'SIGKILL');
      } catch {}
    }
    server.child.kill('SIGKILL');
    return { code: null, signal: 'SIGKILL (drain timed out)' };
  }
  return result;
}

process.on('exit', () => {
  if (
    server.pid &&
    server.child &&
    server.child.exitCode === null &&
    server.child.signalCode === null
  ) {
    try {
      process.kill(server.pid, 'SIGTERM');
    } catch {}
  }
});

// --- Helpers -----------------------------------------------------------------------------------

const TOKEN_RE = /^[A-Za-z0-9_-]{44}$/;
const REQUEST_ID_RE =
  /^request-id-test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SESSION_CLAIM = 'https://stytch.com/session';

// 24 random printable ASCII characters, as the SDK's own integration tests make passwords.
function randomPassword() {
  let s = '';
  for (let i = 0; i < 24; i++) s += String.fromCharCode(randomInt(0x20, 0x7f));
  return s;
}
const randomEmail = (tag) => `compat-${tag}-${randomBytes(6).toString('hex')}@example.com`;

function decodeJwt(jwt) {
  assert.equal(typeof jwt, 'string');
  const parts = jwt.split('.');
  assert.equal(parts.length, 3, `a JWT has three parts: ${jwt}`);
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
  };
}

// The envelope of every success body (spec §1.4).
function assertSuccess(res) {
  assert.equal(res.status_code, 200);
  assert.match(res.request_id, REQUEST_ID_RE);
}

// What a StytchError thrown by the SDK must carry (spec §1.3, §5.1): the Stytch mapping, never
// the OAuth2 one (which the SDK takes when the body has an `error` key).
function assertErrorShape(err, status, type) {
  assert.ok(
    err instanceof StytchError,
    `expected a StytchError, got ${err?.constructor?.name}: ${err?.message}`,
  );
  const body = JSON.parse(err.message);
  assert.ok(!('error' in body), `error body must not have an "error" key: ${err.message}`);
  assert.equal(err.status_code, status, err.message);
  assert.equal(err.error_type, type, err.message);
  assert.equal(body.status_code, status);
  assert.match(err.request_id, REQUEST_ID_RE);
  assert.equal(err.request_id, body.request_id);
  assert.equal(typeof err.error_message, 'string');
  assert.ok(err.error_message.length > 0, 'error_message is empty');
  assert.equal(typeof err.error_url, 'string');
  assert.ok(err.error_url.includes(type), `error_url ${err.error_url} names the error type`);
}

async function rejectsStytch(promise, status, type) {
  let err;
  try {
    const value = await promise;
    assert.fail(
      `expected StytchError ${status} ${type}, got success: ${JSON.stringify(value).slice(0, 300)}`,
    );
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assertErrorShape(err, status, type);
  return err;
}

async function rejectsClient(promise, code) {
  let err;
  try {
    const value = await promise;
    assert.fail(
      `expected ClientError ${code}, got success: ${JSON.stringify(value).slice(0, 300)}`,
    );
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(
    err instanceof ClientError,
    `expected a ClientError, got ${err?.constructor?.name}: ${err?.message}`,
  );
  assert.equal(err.code, code, err.message);
  return err;
}

// Requests the server counted for one route (all statuses), read from its Prometheus endpoint.
async function requestCount(route) {
  const res = await fetch(`${server.base}metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^tessera_http_requests_total\{route="([^"]*)",status="[^"]*"\} (\d+)$/.exec(line);
    if (m && m[1] === route) n += Number(m[2]);
  }
  return n;
}
// The server counts a request just after sending its response, so a count read right after a
// call may not include it yet: baselines are read once in-flight counts have settled, and an
// expected count is waited for (and then checked again for extra requests).
async function settledCount(route) {
  await sleep(200);
  return requestCount(route);
}
async function expectCount(route, expected, message) {
  const deadline = Date.now() + 5000;
  while ((await requestCount(route)) < expected && Date.now() < deadline) await sleep(50);
  assert.equal(await settledCount(route), expected, message);
}
const AUTHENTICATE_ROUTE = 'POST /v1/sessions/authenticate';
const JWKS_ROUTE = 'GET /v1/sessions/jwks/{project_id}';

// --- Shared state, filled in order -------------------------------------------------------------

const A = {}; // project A: { project_id, secret }
const B = {};
let client; // project A, env with a trailing slash
let clientB; // project B, env without one: both forms are what apps write
let rotationClient; // project A; fetches the JWKS once early and keeps it for the rotation test
let rotationClientFetchedAt = 0;
const alice = {}; // the user signed up in scenario 1

before(async () => {
  try {
    await db.create();
  } catch (error) {
    die(`cannot create the database (${db.describe}): ${error.message}\n${error.stderr ?? ''}`);
  }
  Object.assign(A, await createProject('compat A'));
  Object.assign(B, await createProject('compat B'));
  for (const [type, url] of [
    ['login', LOGIN_URL],
    ['signup', LOGIN_URL],
    ['invite', LOGIN_URL],
    ['reset_password', RESET_URL],
  ]) {
    await tesseraCli('redirect-urls', 'add', '--project', A.project_id, '--type', type, '--url', url,
      '--default');
  }
  const address = await startServer();
  server.base = `http://${address}/`;
  client = new Client({ project_id: A.project_id, secret: A.secret, env: server.base });
  clientB = new Client({ project_id: B.project_id, secret: B.secret, env: `http://${address}` });
  rotationClient = new Client({ project_id: A.project_id, secret: A.secret, env: server.base });
});

after(async () => {
  await stopServer();
  await db.cleanup();
  rmSync(work, { recursive: true, force: true });
});

// --- 1. Sign-up ---------------------------------------------------------------------------------

test('1. passwords.create signs a user up with a 60-minute session', async (t) => {
  t.diagnostic(
    `Stytch Node SDK ${installed}, node ${process.version}, server ${server.base}, ${db.describe}`,
  );
  alice.email = randomEmail('alice');
  alice.password = randomPassword();
  const before = Date.now();
  const res = await client.passwords.create({
    email: alice.email,
    password: alice.password,
    session_duration_minutes: 60,
  });
  assertSuccess(res);
  assert.match(res.user_id, /^user-test-[0-9a-f-]{36}$/);
  assert.match(res.email_id, /^email-test-[0-9a-f-]{36}$/);
  assert.match(res.session_token, TOKEN_RE);
  assert.equal(res.session_token.length, 44);
  assert.equal(res.session.user_id, res.user_id);
  assert.match(res.session.session_id, /^session-test-[0-9a-f-]{36}$/);
  assert.match(res.session.started_at, RFC3339_RE);
  assert.match(res.session.expires_at, RFC3339_RE);
  const lifetime = Date.parse(res.session.expires_at) - before;
  assert.ok(
    lifetime > 59 * 60_000 && lifetime <= 61 * 60_000,
    `expires_at ${res.session.expires_at}`,
  );
  assert.deepEqual(res.session.roles, ['stytch_user']);
  assert.deepEqual(res.session.custom_claims, {});
  assert.equal(res.session.authentication_factors.length, 1);
  assert.equal(res.session.authentication_factors[0].type, 'password');
  assert.equal(res.session.authentication_factors[0].delivery_method, 'knowledge');
  assert.equal(res.user.user_id, res.user_id);
  assert.deepEqual(
    res.user.emails.map((e) => e.email),
    [alice.email],
  );
  assert.equal(res.user.emails[0].email_id, res.email_id);

  // The JWT: what every SDK's local verification needs (spec §3, §6.2, §6.14).
  const { header, payload } = decodeJwt(res.session_jwt);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  assert.match(header.kid, /^jwk-test-[0-9a-f-]{36}$/);
  assert.equal(payload.iss, `stytch.com/${A.project_id}`);
  assert.deepEqual(payload.aud, [A.project_id]);
  assert.equal(payload.sub, res.user_id);
  assert.equal(payload.exp, payload.iat + 300);
  assert.equal(payload.nbf, payload.iat);
  assert.ok(!('jti' in payload), 'no jti (Go would surface it as a custom claim)');
  assert.equal(payload[SESSION_CLAIM].id, res.session.session_id);

  Object.assign(alice, {
    user_id: res.user_id,
    email_id: res.email_id,
    session_id: res.session.session_id,
    session_token: res.session_token,
    session_jwt: res.session_jwt,
    kid: header.kid,
  });

  // The rotation client fetches the JWKS now and keeps it (jose caches it for 10 minutes and
  // refetches on an unknown kid only 30 s after its last fetch); scenario 13 relies on that.
  const jwksBefore = await settledCount(JWKS_ROUTE);
  const local = await rotationClient.sessions.authenticateJwtLocal({
    session_jwt: res.session_jwt,
  });
  rotationClientFetchedAt = Date.now();
  assert.equal(local.session_id, alice.session_id);
  await expectCount(JWKS_ROUTE, jwksBefore + 1, 'the SDK fetched the JWKS once');
});

// --- 2. Sign-in ---------------------------------------------------------------------------------

test('2. passwords.authenticate signs in; wrong password and unknown email fail as Stytch does', async () => {
  const res = await client.passwords.authenticate({
    email: alice.email,
    password: alice.password,
    session_duration_minutes: 60,
  });
  assertSuccess(res);
  assert.equal(res.user_id, alice.user_id);
  assert.equal(res.user.user_id, alice.user_id);
  assert.match(res.session_token, TOKEN_RE);
  assert.notEqual(res.session_token, alice.session_token, 'a sign-in starts a new session');
  assert.notEqual(res.session.session_id, alice.session_id);
  assert.equal(res.session.user_id, alice.user_id);
  assert.equal(decodeJwt(res.session_jwt).payload.sub, alice.user_id);
  alice.second_session_id = res.session.session_id;
  alice.second_session_token = res.session_token;

  await rejectsStytch(
    client.passwords.authenticate({
      email: alice.email,
      password: `${alice.password}x`,
      session_duration_minutes: 60,
    }),
    401,
    'unauthorized_credentials',
  );
  await rejectsStytch(
    client.passwords.authenticate({
      email: randomEmail('nobody'),
      password: alice.password,
      session_duration_minutes: 60,
    }),
    404,
    'email_not_found',
  );

  // Without session_duration_minutes no session is created (spec §2.0.4).
  const noSession = await client.passwords.authenticate({
    email: alice.email,
    password: alice.password,
  });
  assertSuccess(noSession);
  assert.equal(noSession.user_id, alice.user_id);
  assert.equal(noSession.session_token, '');
  assert.equal(noSession.session_jwt, '');
  assert.ok(noSession.session == null);
});

// --- 2b. Password migration ------------------------------------------------------------------

// Hashes made outside Tessera: Node's own crypto for the digests, scrypt and PBKDF2, and two fixed
// vectors from Debian's python3 packages for bcrypt and Argon2id.
//   bcrypt.hashpw(b"migrated-via-node-1", b"$2b$04$CCCCCCCCCCCCCCCCCCCCC.")      (python3-bcrypt)
const BCRYPT_VECTOR = '$2b$04$CCCCCCCCCCCCCCCCCCCCC.x/QASTJYNI5wdeChUJV3AVCe7fSXWEO';
//   argon2.low_level.hash_secret(b"migrated-via-node-1", b"somesaltsomesalt", time_cost=1,
//       memory_cost=256, parallelism=2, hash_len=32, type=Type.ID)             (python3-argon2)
const ARGON2_VECTOR =
  '$argon2id$v=19$m=256,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$N+BxqujZ1rWzK0zIRTpPAK9T4CylRuy5yOx7FMCL8BA';

test('2b. passwords.migrate imports hashes made elsewhere; they sign in, then are Argon2id', async () => {
  const { createHash, pbkdf2Sync, scryptSync } = await import('node:crypto');
  // A project of its own, made while the server runs: the users below stay out of project A's
  // user counts (scenario 8).
  const C = await createProject('compat migrate');
  const mc = new Client({ project_id: C.project_id, secret: C.secret, env: server.base });
  const password = randomPassword();
  const salt = randomBytes(16);
  const requests = [
    {
      hash_type: 'md_5',
      hash: createHash('md5').update(`pre${password}`).digest('hex'),
      md_5_config: { prepend_salt: 'pre', append_salt: '' },
      password,
    },
    {
      hash_type: 'sha_1',
      hash: createHash('sha1').update(`${password}post`).digest('hex'),
      sha_1_config: { prepend_salt: '', append_salt: 'post' },
      password,
    },
    {
      hash_type: 'scrypt',
      hash: scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64'),
      scrypt_config: {
        salt: salt.toString('base64'),
        n_parameter: 1024,
        r_parameter: 8,
        p_parameter: 1,
        key_length: 32,
      },
      password,
    },
    {
      hash_type: 'pbkdf_2',
      hash: pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64'),
      pbkdf_2_config: {
        salt: salt.toString('base64'),
        iteration_amount: 1000,
        key_length: 32,
        algorithm: 'sha256',
      },
      password,
    },
    { hash_type: 'bcrypt', hash: BCRYPT_VECTOR, password: 'migrated-via-node-1' },
    { hash_type: 'argon_2id', hash: ARGON2_VECTOR, password: 'migrated-via-node-1' },
  ];
  for (const { password: pw, ...req } of requests) {
    const email = randomEmail(`migrate-${req.hash_type}`);
    const res = await mc.passwords.migrate({
      email,
      ...req,
      name: { first_name: 'Mig', last_name: req.hash_type },
      trusted_metadata: { source: 'node' },
      external_id: `node-${req.hash_type}-${randomBytes(4).toString('hex')}`,
    });
    assertSuccess(res);
    assert.equal(res.user_created, true, req.hash_type);
    assert.equal(res.user.user_id, res.user_id);
    assert.equal(res.user.emails[0].email_id, res.email_id);
    assert.equal(res.user.name.last_name, req.hash_type);
    assert.deepEqual(res.user.trusted_metadata, { source: 'node' });
    assert.ok(res.user.password?.password_id, 'the user has a password');

    await rejectsStytch(
      mc.passwords.authenticate({ email, password: `${pw}x` }),
      401,
      'unauthorized_credentials',
    );
    const login = await mc.passwords.authenticate({
      email,
      password: pw,
      session_duration_minutes: 5,
    });
    assertSuccess(login);
    assert.equal(login.user_id, res.user_id, req.hash_type);
    // Now under Tessera's Argon2id: the same password again, and a second migration refused.
    assertSuccess(await mc.passwords.authenticate({ email, password: pw }));
    await rejectsStytch(
      mc.passwords.migrate({ email, ...req }),
      400,
      'password_already_exists',
    );
  }

  // Onto an existing password-less user, as stytch-python's own integration test does.
  const email = randomEmail('migrate-existing');
  const created = await mc.users.create({ email });
  const onto = await mc.passwords.migrate({
    email,
    hash_type: 'bcrypt',
    hash: BCRYPT_VECTOR,
  });
  assert.equal(onto.user_created, false);
  assert.equal(onto.user_id, created.user_id);

  await rejectsStytch(
    mc.passwords.migrate({ email: randomEmail('x'), hash_type: 'bcrypt', hash: 'nope' }),
    400,
    'invalid_bcrypt_hash',
  );
  await rejectsStytch(
    mc.passwords.migrate({
      email: randomEmail('x'),
      hash_type: 'bcrypt',
      hash: `$2b$31$${BCRYPT_VECTOR.slice(7)}`,
    }),
    400,
    'invalid_bcrypt_cost',
  );
  await rejectsStytch(
    mc.passwords.migrate({ email: randomEmail('x'), hash_type: 'md5', hash: '00' }),
    400,
    'invalid_hash_type',
  );
});

// --- 3. Authenticate by token ------------------------------------------------------------------

test('3. sessions.authenticate by session_token echoes the token with a fresh JWT', async (t) => {
  const res = await client.sessions.authenticate({ session_token: alice.session_token });
  assertSuccess(res);
  assert.equal(res.session.session_id, alice.session_id);
  assert.equal(res.session_token, alice.session_token);
  assert.equal(res.user.user_id, alice.user_id);
  assert.match(res.session.last_accessed_at, RFC3339_RE);
  const { header, payload } = decodeJwt(res.session_jwt);
  assert.equal(header.kid, alice.kid);
  assert.equal(payload[SESSION_CLAIM].id, alice.session_id);
  // The server may hand back the JWT it minted for this unchanged session within its
  // --jwt-reuse-seconds window (default 5 s); either way the JWT is at most that old.
  assert.ok(Date.now() / 1000 - payload.iat <= 7, `JWT iat ${payload.iat} is fresh`);
  if (res.session_jwt === alice.session_jwt) {
    t.diagnostic('the server returned the JWT minted at sign-up (JWT reuse window), not a new one');
  }

  // Extending the session changes it, so the JWT must be newly minted with the new expiry.
  const before = Date.now();
  await sleep(1100);
  const extended = await client.sessions.authenticate({
    session_token: alice.session_token,
    session_duration_minutes: 120,
  });
  assertSuccess(extended);
  assert.equal(extended.session_token, alice.session_token);
  assert.notEqual(extended.session_jwt, alice.session_jwt);
  const fresh = decodeJwt(extended.session_jwt).payload;
  assert.ok(fresh.iat * 1000 >= before, 'a newly minted JWT');
  assert.equal(fresh[SESSION_CLAIM].expires_at, extended.session.expires_at);
  const lifetime = Date.parse(extended.session.expires_at) - before;
  assert.ok(lifetime > 119 * 60_000 && lifetime <= 121 * 60_000, extended.session.expires_at);
  alice.session_jwt = extended.session_jwt;
  alice.session = extended.session;
});

// --- 4. Authenticate by JWT --------------------------------------------------------------------

test('4. sessions.authenticate by session_jwt returns the session token', async () => {
  const res = await client.sessions.authenticate({ session_jwt: alice.session_jwt });
  assertSuccess(res);
  assert.equal(res.session_token, alice.session_token);
  assert.equal(res.session.session_id, alice.session_id);
  assert.equal(res.user.user_id, alice.user_id);
  assert.equal(decodeJwt(res.session_jwt).payload[SESSION_CLAIM].id, alice.session_id);
});

// --- 5. Local verification ---------------------------------------------------------------------

test('5. authenticateJwtLocal verifies against the server JWKS; a tampered JWT is jwt_invalid', async () => {
  const jwksBefore = await settledCount(JWKS_ROUTE);
  const authBefore = await settledCount(AUTHENTICATE_ROUTE);
  const s = await client.sessions.authenticateJwtLocal({ session_jwt: alice.session_jwt });
  assert.equal(s.session_id, alice.session_id);
  assert.equal(s.user_id, alice.user_id);
  assert.deepEqual(s.custom_claims, {}, 'no stray top-level claims surface as custom claims');
  assert.deepEqual(s.roles, ['stytch_user']);
  assert.equal(s.authentication_factors[0].type, 'password');
  assert.equal(s.authentication_factors[0].delivery_method, 'knowledge');
  assert.equal(s.started_at, alice.session.started_at);
  assert.match(s.last_accessed_at, RFC3339_RE);
  // The SDK rebuilds expires_at with milliseconds (spec §6.13); the instant is the session's.
  assert.equal(s.expires_at, new Date(alice.session.expires_at).toISOString());
  assert.deepEqual(s.attributes, alice.session.attributes);
  await expectCount(JWKS_ROUTE, jwksBefore + 1, 'the SDK fetched the JWKS itself');
  await expectCount(AUTHENTICATE_ROUTE, authBefore, 'and called no API');

  // Tampering: claim another subject and keep the signature.
  const [h, p, sig] = alice.session_jwt.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  payload.sub = 'user-test-00000000-0000-4000-8000-000000000000';
  const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
  const err = await rejectsClient(
    client.sessions.authenticateJwtLocal({ session_jwt: forged }),
    'jwt_invalid',
  );
  assert.equal(err.cause?.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', String(err.cause));
  // A flipped signature byte, too, and the server refuses the forgery remotely.
  const flipped = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
  await rejectsClient(
    client.sessions.authenticateJwtLocal({ session_jwt: flipped }),
    'jwt_invalid',
  );
  await rejectsStytch(
    client.sessions.authenticate({ session_jwt: forged }),
    401,
    'unable_to_parse_session_jwt',
  );

  // max_token_age_seconds: 0 means "always too old" locally (spec §6.11).
  await rejectsClient(
    client.sessions.authenticateJwtLocal({
      session_jwt: alice.session_jwt,
      max_token_age_seconds: 0,
    }),
    'jwt_too_old',
  );
});

// --- 6. authenticateJwt: local first, remote when told --------------------------------------

test('6. authenticateJwt stays local for a fresh JWT and goes remote with max_token_age_seconds 0', async () => {
  let count = await settledCount(AUTHENTICATE_ROUTE);
  const local = await client.sessions.authenticateJwt({
    session_jwt: alice.session_jwt,
    max_token_age_seconds: 60,
  });
  assert.equal(local.session.session_id, alice.session_id);
  assert.equal(local.session.user_id, alice.user_id);
  assert.equal(local.session_jwt, alice.session_jwt, 'the local path returns the JWT it was given');
  assert.ok(!('user' in local), 'the local path has no user');
  await expectCount(AUTHENTICATE_ROUTE, count, 'no API call');

  const remote = await client.sessions.authenticateJwt({
    session_jwt: alice.session_jwt,
    max_token_age_seconds: 0,
  });
  assertSuccess(remote);
  assert.equal(remote.user.user_id, alice.user_id, 'only the remote path returns the user');
  assert.equal(remote.session.session_id, alice.session_id);
  assert.equal(remote.session_token, alice.session_token);
  await expectCount(AUTHENTICATE_ROUTE, count + 1, 'exactly one API call');
  count += 1;

  // A JWT that fails locally (here: judged at a time after its exp) falls back to the API, which
  // accepts it because the session is alive.
  const later = new Date(Date.now() + 10 * 60_000);
  await rejectsClient(
    client.sessions.authenticateJwtLocal({ session_jwt: alice.session_jwt, current_date: later }),
    'jwt_invalid',
  );
  const fallback = await client.sessions.authenticateJwt({
    session_jwt: alice.session_jwt,
    current_date: later,
  });
  assertSuccess(fallback);
  assert.equal(fallback.user.user_id, alice.user_id);
  assert.equal(fallback.session.session_id, alice.session_id);
  await expectCount(AUTHENTICATE_ROUTE, count + 1);
});

// --- 7. Custom claims --------------------------------------------------------------------------

test('7. session_custom_claims merge, surface in authenticateJwtLocal, and null deletes', async () => {
  const steps = [
    [
      { role: 'admin', nested: { a: 1 } },
      { role: 'admin', nested: { a: 1 } },
    ],
    [{ nested: { b: 2 } }, { role: 'admin', nested: { a: 1, b: 2 } }],
    [{ nested: null }, { role: 'admin' }],
  ];
  for (const [sent, expected] of steps) {
    const res = await client.sessions.authenticate({
      session_token: alice.session_token,
      session_duration_minutes: 60,
      session_custom_claims: sent,
    });
    assertSuccess(res);
    assert.deepEqual(res.session.custom_claims, expected, `after sending ${JSON.stringify(sent)}`);
    const { payload } = decodeJwt(res.session_jwt);
    assert.equal(payload.role, 'admin', 'custom claims are top-level JWT members');
    const local = await client.sessions.authenticateJwtLocal({ session_jwt: res.session_jwt });
    assert.deepEqual(
      local.custom_claims,
      expected,
      `locally, after sending ${JSON.stringify(sent)}`,
    );
    assert.equal(local.session_id, alice.session_id);
    alice.session_jwt = res.session_jwt;
  }
  // The claims stay on the session: a plain authenticate returns them.
  const plain = await client.sessions.authenticate({ session_token: alice.session_token });
  assert.deepEqual(plain.session.custom_claims, { role: 'admin' });
});

// --- 8. Listing, users get and search ----------------------------------------------------------

test('8. sessions.get, users.get, users.search and searchAll', async () => {
  const list = await client.sessions.get({ user_id: alice.user_id });
  assertSuccess(list);
  const ids = list.sessions.map((s) => s.session_id).sort();
  assert.deepEqual(ids, [alice.session_id, alice.second_session_id].sort());
  for (const s of list.sessions) assert.equal(s.user_id, alice.user_id);

  const user = await client.users.get({ user_id: alice.user_id });
  assertSuccess(user);
  assert.equal(user.user_id, alice.user_id);
  // A password sign-up proves no ownership of the address, so it stays unverified (the reason for
  // Stytch's reset_password rule on a later first passwordless login, spec §2.10).
  assert.deepEqual(user.emails, [
    { email: alice.email, email_id: alice.email_id, verified: false },
  ]);
  assert.deepEqual(user.roles, ['stytch_user']);
  assert.equal(user.status, 'active');
  assert.match(user.password.password_id, /^password-test-[0-9a-f-]{36}$/);
  assert.equal(user.is_locked, false);
  for (const k of [
    'phone_numbers',
    'webauthn_registrations',
    'providers',
    'totps',
    'crypto_wallets',
    'biometric_registrations',
  ]) {
    assert.deepEqual(user[k], [], k);
  }

  const found = await client.users.search({
    limit: 10,
    query: {
      operator: 'AND',
      operands: [{ filter_name: 'email_address', filter_value: [alice.email] }],
    },
  });
  assertSuccess(found);
  assert.deepEqual(
    found.results.map((u) => u.user_id),
    [alice.user_id],
  );
  assert.equal(found.results_metadata.total, 1);
  assert.ok(
    found.results_metadata.next_cursor == null || found.results_metadata.next_cursor === '',
  );

  // Two more users, then page through the whole project one user at a time.
  const extra = [];
  for (const tag of ['bob', 'carol']) {
    const created = await client.users.create({ email: randomEmail(tag) });
    assertSuccess(created);
    assert.match(created.user_id, /^user-test-/);
    assert.equal(created.status, 'active');
    extra.push(created.user_id);
  }
  const seen = [];
  let pages = 0;
  for await (const page of client.users.searchAll({ limit: 1 })) {
    pages += 1;
    assert.ok(pages <= 10, 'searchAll must terminate (next_cursor null on the last page)');
    assert.ok(page.length <= 1);
    for (const u of page) seen.push(u.user_id);
  }
  assert.deepEqual([...seen].sort(), [alice.user_id, ...extra].sort(), 'every user exactly once');
  alice.extra_users = extra;
});

// --- 9. Revoke ---------------------------------------------------------------------------------

test('9. sessions.revoke by session_id, session_token and session_jwt', async () => {
  const signIn = async () => {
    const r = await client.passwords.authenticate({
      email: alice.email,
      password: alice.password,
      session_duration_minutes: 30,
    });
    return { id: r.session.session_id, token: r.session_token, jwt: r.session_jwt };
  };
  const byId = await signIn();
  const byToken = await signIn();
  const byJwt = await signIn();

  const r1 = await client.sessions.revoke({ session_id: byId.id });
  assertSuccess(r1);
  await rejectsStytch(
    client.sessions.authenticate({ session_token: byId.token }),
    404,
    'session_not_found',
  );

  const r2 = await client.sessions.revoke({ session_token: byToken.token });
  assertSuccess(r2);
  await rejectsStytch(
    client.sessions.authenticate({ session_token: byToken.token }),
    404,
    'session_not_found',
  );
  await rejectsStytch(
    client.sessions.authenticate({ session_jwt: byToken.jwt }),
    404,
    'session_not_found',
  );

  const r3 = await client.sessions.revoke({ session_jwt: byJwt.jwt });
  assertSuccess(r3);
  await rejectsStytch(
    client.sessions.authenticate({ session_jwt: byJwt.jwt }),
    404,
    'session_not_found',
  );
  await rejectsStytch(
    client.sessions.authenticate({ session_token: byJwt.token }),
    404,
    'session_not_found',
  );

  // A revoked session's JWT still verifies locally until its exp (spec §6.10); forcing the
  // remote check is how an app sees the revocation.
  const local = await client.sessions.authenticateJwtLocal({ session_jwt: byJwt.jwt });
  assert.equal(local.session_id, byJwt.id);
  await rejectsStytch(
    client.sessions.authenticateJwt({ session_jwt: byJwt.jwt, max_token_age_seconds: 0 }),
    404,
    'session_not_found',
  );

  const list = await client.sessions.get({ user_id: alice.user_id });
  const ids = list.sessions.map((s) => s.session_id);
  for (const gone of [byId.id, byToken.id, byJwt.id])
    assert.ok(!ids.includes(gone), `${gone} is not listed`);
  assert.ok(ids.includes(alice.session_id));
});

// --- 10. User delete ---------------------------------------------------------------------------

test('10. users.delete ends the user and every session of theirs', async () => {
  const email = randomEmail('dave');
  const password = randomPassword();
  const dave = await client.passwords.create({ email, password, session_duration_minutes: 60 });
  const del = await client.users.delete({ user_id: dave.user_id });
  assertSuccess(del);
  assert.equal(del.user_id, dave.user_id);
  await rejectsStytch(
    client.sessions.authenticate({ session_token: dave.session_token }),
    404,
    'session_not_found',
  );
  await rejectsStytch(
    client.sessions.authenticate({ session_jwt: dave.session_jwt }),
    404,
    'session_not_found',
  );
  await rejectsStytch(client.users.get({ user_id: dave.user_id }), 404, 'user_not_found');
  await rejectsStytch(client.users.delete({ user_id: dave.user_id }), 404, 'user_not_found');
  await rejectsStytch(
    client.passwords.authenticate({ email, password, session_duration_minutes: 60 }),
    404,
    'email_not_found',
  );
});

// --- 11. Isolation between projects ------------------------------------------------------------

test('11. project B cannot use project A sessions, users or JWTs', async (t) => {
  // The same email signs up independently in B.
  const bobInB = await clientB.passwords.create({
    email: alice.email,
    password: randomPassword(),
    session_duration_minutes: 60,
  });
  assertSuccess(bobInB);
  assert.notEqual(bobInB.user_id, alice.user_id);
  assert.equal(decodeJwt(bobInB.session_jwt).payload.iss, `stytch.com/${B.project_id}`);
  // B's client verifies B's JWT locally (its env has no trailing slash).
  const own = await clientB.sessions.authenticateJwtLocal({ session_jwt: bobInB.session_jwt });
  assert.equal(own.user_id, bobInB.user_id);

  await rejectsStytch(
    clientB.sessions.authenticate({ session_token: alice.session_token }),
    404,
    'session_not_found',
  );
  await rejectsStytch(clientB.users.get({ user_id: alice.user_id }), 404, 'user_not_found');
  await rejectsStytch(clientB.users.delete({ user_id: alice.user_id }), 404, 'user_not_found');
  await rejectsStytch(
    clientB.sessions.revoke({ session_id: alice.session_id }),
    404,
    'session_not_found',
  );
  const search = await clientB.users.search({
    query: {
      operator: 'AND',
      operands: [{ filter_name: 'user_id', filter_value: [alice.user_id] }],
    },
  });
  assert.deepEqual(search.results, []);

  // A's JWT locally with B's client: B's JWKS lacks A's kid (and aud/iss name A).
  const err = await rejectsClient(
    clientB.sessions.authenticateJwtLocal({ session_jwt: alice.session_jwt }),
    'jwt_invalid',
  );
  assert.ok(
    ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWT_CLAIM_VALIDATION_FAILED'].includes(err.cause?.code),
    String(err.cause),
  );
  // authenticateJwt falls back to B's API, which refuses A's JWT (spec §8.1 leaves the exact
  // answer open between these two).
  let remoteErr;
  try {
    await clientB.sessions.authenticateJwt({ session_jwt: alice.session_jwt });
  } catch (e) {
    remoteErr = e;
  }
  assert.ok(remoteErr instanceof StytchError, `B's API must refuse A's JWT, got ${remoteErr}`);
  const expected = { 401: 'unable_to_parse_session_jwt', 404: 'session_not_found' };
  assert.ok(remoteErr.status_code in expected, remoteErr.message);
  assertErrorShape(remoteErr, remoteErr.status_code, expected[remoteErr.status_code]);
  t.diagnostic(`B's API answered A's JWT with ${remoteErr.status_code} ${remoteErr.error_type}`);

  // A's session is untouched by all of that.
  const still = await client.sessions.authenticate({ session_token: alice.session_token });
  assert.equal(still.session.session_id, alice.session_id);
});

// --- 12. Error shape ---------------------------------------------------------------------------

test('12. StytchError carries status_code, request_id, error_type, error_message', async () => {
  const err = await rejectsStytch(
    client.sessions.authenticate({ session_token: 'x'.repeat(44) }),
    404,
    'session_not_found',
  );
  assert.equal(err.error_message, 'Session could not be found.');
  assert.equal(err.error_url, 'https://stytch.com/docs/api/errors/404#session_not_found');

  // Exactly one of token/JWT (spec §5.2).
  await rejectsStytch(
    client.sessions.authenticate({
      session_token: alice.session_token,
      session_jwt: alice.session_jwt,
    }),
    400,
    'too_many_session_arguments',
  );

  // Wrong secret, and a secret of another project.
  const wrongSecret = new Client({
    project_id: A.project_id,
    secret: `${A.secret}x`,
    env: server.base,
  });
  await rejectsStytch(
    wrongSecret.users.get({ user_id: alice.user_id }),
    401,
    'unauthorized_credentials',
  );
  const crossed = new Client({ project_id: A.project_id, secret: B.secret, env: server.base });
  await rejectsStytch(
    crossed.sessions.authenticate({ session_token: alice.session_token }),
    401,
    'unauthorized_credentials',
  );
});

// --- 13. Key rotation while the server runs ----------------------------------------------------

async function waitForJwks(kids, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${server.base}v1/sessions/jwks/${A.project_id}`);
    const body = await res.json();
    const have = body.keys.map((k) => k.kid);
    if (kids.every((k) => have.includes(k))) return have;
    if (Date.now() > deadline) assert.fail(`JWKS never showed ${kids}: has ${have}`);
    await sleep(250);
  }
}

async function rotate() {
  const out = JSON.parse(await tesseraCli('keys', 'rotate', '--project', A.project_id, '--json'));
  assert.equal(out.project_id, A.project_id);
  const next = out.keys.filter((k) => k.state === 'next').map((k) => k.kid);
  assert.equal(next.length, 1, JSON.stringify(out));
  return { active: out.active_kid, next: next[0] };
}

test('13. keys rotate: new JWTs carry the new kid and verify locally, old JWTs still verify', async () => {
  const jwks0 = await client.sessions.getJWKS({ project_id: A.project_id });
  assertSuccess(jwks0);
  const kids0 = jwks0.keys.map((k) => k.kid);
  assert.equal(kids0.length, 2, 'a new project publishes its active key and its next key');
  assert.ok(kids0.includes(alice.kid));
  for (const k of jwks0.keys) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.alg, 'RS256');
    assert.equal(k.use, 'sig');
  }
  const oldJwt = alice.session_jwt; // signed by alice.kid

  // Rotation 1 activates the key published since the project was made.
  const r1 = await rotate();
  assert.notEqual(r1.active, alice.kid);
  assert.ok(kids0.includes(r1.active), 'the key that becomes active was already published');
  await waitForJwks([alice.kid, r1.active, r1.next]);
  await sleep(2500); // the server reloads keys every second
  const login1 = await client.passwords.authenticate({
    email: alice.email,
    password: alice.password,
    session_duration_minutes: 60,
  });
  assert.equal(
    decodeJwt(login1.session_jwt).header.kid,
    r1.active,
    'a fresh login signs with the new key',
  );
  // client's cached JWKS (fetched in scenario 5) already holds the new key: no refetch needed.
  let jwksCount = await settledCount(JWKS_ROUTE);
  const v1 = await client.sessions.authenticateJwtLocal({ session_jwt: login1.session_jwt });
  assert.equal(v1.session_id, login1.session.session_id);
  const vOld = await client.sessions.authenticateJwtLocal({ session_jwt: oldJwt });
  assert.equal(vOld.session_id, alice.session_id);
  await expectCount(JWKS_ROUTE, jwksCount, 'verified from the cached JWKS');

  // Rotation 2 activates a key that rotationClient's JWKS (fetched in scenario 1) lacks.
  const r2 = await rotate();
  assert.equal(r2.active, r1.next);
  assert.ok(!kids0.includes(r2.active));
  await waitForJwks([alice.kid, r1.active, r2.active, r2.next]);
  await sleep(2500);
  const login2 = await client.passwords.authenticate({
    email: alice.email,
    password: alice.password,
    session_duration_minutes: 60,
  });
  assert.equal(decodeJwt(login2.session_jwt).header.kid, r2.active);
  // jose refetches on an unknown kid only 30 s after its previous fetch (its cooldown).
  const wait = rotationClientFetchedAt + 31_000 - Date.now();
  if (wait > 0) await sleep(wait);
  jwksCount = await settledCount(JWKS_ROUTE);
  const v2 = await rotationClient.sessions.authenticateJwtLocal({
    session_jwt: login2.session_jwt,
  });
  assert.equal(v2.session_id, login2.session.session_id);
  assert.equal(v2.user_id, alice.user_id);
  await expectCount(JWKS_ROUTE, jwksCount + 1, 'jose refetched the JWKS on the unknown kid');
  // The keys retired by both rotations are still published for the JWTs they signed.
  const vOld2 = await rotationClient.sessions.authenticateJwtLocal({ session_jwt: oldJwt });
  assert.equal(vOld2.session_id, alice.session_id);
  const v1Again = await rotationClient.sessions.authenticateJwtLocal({
    session_jwt: login1.session_jwt,
  });
  assert.equal(v1Again.session_id, login1.session.session_id);
  // And the remote path accepts all three.
  for (const jwt of [oldJwt, login1.session_jwt, login2.session_jwt]) {
    const r = await client.sessions.authenticate({ session_jwt: jwt });
    assertSuccess(r);
    assert.equal(r.user.user_id, alice.user_id);
  }
});

// --- 13a-c. Email sign-in: magic links, passcodes, password resets ----------------------------

// The next message to `address` the server delivered (an .eml file in MAIL_DIR), as text.
const seenMail = new Set();
async function nextMail(address) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const name of readdirSync(MAIL_DIR).filter((n) => n.endsWith('.eml')).sort()) {
      if (seenMail.has(name)) continue;
      const text = readFileSync(path.join(MAIL_DIR, name), 'utf8');
      if (new RegExp(`^To: ${address.replace(/[.+]/g, '\\$&')}\r?$`, 'm').test(text)) {
        seenMail.add(name);
        return text;
      }
    }
    assert.ok(Date.now() < deadline, `no email to ${address} within 20 s`);
    await sleep(100);
  }
}
function tokenIn(mail, type = 'magic_links') {
  const m = new RegExp(`stytch_token_type=${type}&token=([^\\s"&<]+)`).exec(mail);
  assert.ok(m, `no ${type} link in:\n${mail}`);
  return decodeURIComponent(m[1]);
}

test('13a. magicLinks: loginOrCreate, send, invite, revokeInvite, create, authenticate', async () => {
  const email = randomEmail('ml');
  const created = await client.magicLinks.email.loginOrCreate({ email });
  assertSuccess(created);
  assert.equal(created.user_created, true);
  assert.match(created.user_id, /^user-test-/);
  assert.match(created.email_id, /^email-test-/);
  const token = tokenIn(await nextMail(email));
  const auth = await client.magicLinks.authenticate({ token, session_duration_minutes: 60 });
  assertSuccess(auth);
  assert.equal(auth.user_id, created.user_id);
  assert.equal(auth.method_id, created.email_id);
  assert.equal(auth.reset_sessions, false);
  assert.equal(auth.user.emails[0].verified, true);
  assert.match(auth.session_token, TOKEN_RE);
  const claim = decodeJwt(auth.session_jwt).payload[SESSION_CLAIM];
  assert.equal(claim.authentication_factors[0].type, 'magic_link');
  assert.equal(claim.authentication_factors[0].delivery_method, 'email');
  assert.deepEqual(claim.authentication_factors[0].email_factor, {
    email_address: email,
    email_id: created.email_id,
  });
  // (Remotely: the keys rotated in scenario 13 may still be outside jose's JWKS cooldown.)
  const viaJwt = await client.sessions.authenticate({ session_jwt: auth.session_jwt });
  assert.equal(viaJwt.session.user_id, created.user_id);
  await rejectsStytch(client.magicLinks.authenticate({ token }), 401, 'unable_to_auth_magic_link');
  await rejectsStytch(
    client.magicLinks.authenticate({ token: 'CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM=' }),
    404,
    'magic_link_not_found',
  );

  const sent = await client.magicLinks.email.send({ email, login_magic_link_url: LOGIN_URL });
  assertSuccess(sent);
  assert.equal(sent.user_id, created.user_id);
  const noSession = await client.magicLinks.authenticate({ token: tokenIn(await nextMail(email)) });
  assert.equal(noSession.session, null);
  assert.equal(noSession.session_token, '');
  await rejectsStytch(client.magicLinks.email.send({ email: randomEmail('none') }), 404,
    'email_not_found');
  await rejectsStytch(
    client.magicLinks.email.send({ email, login_magic_link_url: 'https://evil.example.com/' }),
    400,
    'no_match_for_provided_magic_link_url',
  );

  const invitee = randomEmail('invite');
  const invited = await client.magicLinks.email.invite({
    email: invitee,
    name: { first_name: 'Grace' },
  });
  assertSuccess(invited);
  const inviteToken = tokenIn(await nextMail(invitee));
  const pending = await client.users.get({ user_id: invited.user_id });
  assert.equal(pending.status, 'pending');
  assertSuccess(await client.magicLinks.email.revokeInvite({ email: invitee }));
  await rejectsStytch(client.magicLinks.authenticate({ token: inviteToken }), 401,
    'unable_to_auth_magic_link');

  const embedded = await client.magicLinks.create({ user_id: created.user_id });
  assertSuccess(embedded);
  const viaEmbedded = await client.magicLinks.authenticate({
    token: embedded.token,
    session_token: auth.session_token,
  });
  assert.equal(viaEmbedded.session.session_id, auth.session.session_id);
  assert.deepEqual(
    viaEmbedded.session.authentication_factors.map((f) => f.delivery_method).sort(),
    ['email', 'embedded'],
  );

  // Sandbox values (test projects).
  const sandbox = await client.magicLinks.email.loginOrCreate({ email: 'sandbox@stytch.com' });
  assert.equal(sandbox.user_id, 'user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd');
  const sandboxAuth = await client.magicLinks.authenticate({
    token: 'DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94=',
  });
  assert.equal(sandboxAuth.user_id, 'user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd');
  const err = await rejectsStytch(
    client.magicLinks.authenticate({ token: '3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU=' }),
    401,
    'unable_to_auth_magic_link',
  );
  assert.equal(err.error_url, 'https://stytch.com/docs/api/errors/401#unable_to_auth_magic_link');
});

test('13b. otps: email loginOrCreate and send, authenticate, SMS without a provider', async () => {
  const email = randomEmail('otp');
  const sent = await client.otps.email.loginOrCreate({ email, expiration_minutes: 5 });
  assertSuccess(sent);
  assert.equal(sent.user_created, true);
  const code = /\b(\d{6})\b/.exec(await nextMail(email))[1];
  const auth = await client.otps.authenticate({
    method_id: sent.email_id,
    code,
    session_duration_minutes: 30,
  });
  assertSuccess(auth);
  assert.equal(auth.method_id, sent.email_id);
  assert.equal(auth.session.authentication_factors[0].type, 'otp');
  await rejectsStytch(client.otps.authenticate({ method_id: sent.email_id, code }), 401,
    'unable_to_auth_otp_code');
  const again = await client.otps.email.send({ email });
  assertSuccess(again);
  const code2 = /\b(\d{6})\b/.exec(await nextMail(email))[1];
  const wrong = String((Number(code2) + 1) % 1000000).padStart(6, '0');
  await rejectsStytch(client.otps.authenticate({ method_id: sent.email_id, code: wrong }), 404,
    'otp_code_not_found');
  assertSuccess(await client.otps.authenticate({ method_id: sent.email_id, code: code2 }));
  await rejectsStytch(client.otps.email.loginOrCreate({ email, expiration_minutes: 11 }), 400,
    'invalid_expiration_otp');
  await rejectsStytch(client.otps.sms.send({ phone_number: '+15555550100' }), 400,
    'sms_provider_not_configured');
  await rejectsStytch(client.otps.whatsapp.loginOrCreate({ phone_number: '+15555550100' }), 400,
    'sms_provider_not_configured');
  const sandbox = await client.otps.email.send({ email: 'sandbox@stytch.com' });
  const sandboxAuth = await client.otps.authenticate({ method_id: sandbox.email_id, code: '000000' });
  assert.equal(sandboxAuth.user_id, 'user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd');
});

test('13c. passwords: email resetStart and reset, existingPassword.reset, sessions.reset', async () => {
  const email = randomEmail('reset');
  const password = randomPassword();
  const signup = await client.passwords.create({ email, password, session_duration_minutes: 60 });
  const started = await client.passwords.email.resetStart({
    email,
    reset_password_redirect_url: RESET_URL,
  });
  assertSuccess(started);
  assert.equal(started.user_id, signup.user_id);
  const token = tokenIn(await nextMail(email), 'reset_password');
  const second = randomPassword();
  const reset = await client.passwords.email.reset({
    token,
    password: second,
    session_duration_minutes: 60,
  });
  assertSuccess(reset);
  assert.equal(reset.user_id, signup.user_id);
  assert.match(reset.session_token, TOKEN_RE);
  await rejectsStytch(client.sessions.authenticate({ session_token: signup.session_token }), 404,
    'session_not_found');
  await rejectsStytch(client.passwords.email.reset({ token, password: second }), 401,
    'unable_to_auth_magic_link');

  const third = randomPassword();
  const existing = await client.passwords.existingPassword.reset({
    email,
    existing_password: second,
    new_password: third,
    session_duration_minutes: 60,
  });
  assertSuccess(existing);
  await rejectsStytch(
    client.passwords.existingPassword.reset({ email, existing_password: second, new_password: third }),
    401,
    'unauthorized_credentials',
  );

  const fourth = randomPassword();
  const bySession = await client.passwords.sessions.reset({
    password: fourth,
    session_token: existing.session_token,
  });
  assertSuccess(bySession);
  assert.equal(bySession.session.session_id, existing.session.session_id);
  const login = await client.passwords.authenticate({ email, password: fourth });
  assert.equal(login.user_id, signup.user_id);
});

// --- 14. Clean shutdown ------------------------------------------------------------------------

// --- 14. Roles and permissions (spec §5) -----------------------------------------------------------

const RBAC_POLICY_ROUTE = 'GET /v1/rbac/policy';

test('14. RBAC: rbac.policy(), authorization_check on authenticate, authenticateJwt local and remote', async () => {
  // A client of its own (project B, whose keys never rotate here), so its policy cache starts empty.
  const rc = new Client({ project_id: B.project_id, secret: B.secret, env: server.base });

  // The default policy is complete: the SDKs dereference every array.
  const empty = await rc.rbac.policy();
  assertSuccess(empty);
  assert.deepEqual(empty.policy.resources, []);
  assert.deepEqual(empty.policy.scopes, []);
  assert.deepEqual(empty.policy.roles.map((r) => r.role_id), ['stytch_user']);
  assert.deepEqual(empty.policy.roles[0].permissions, []);
  assert.equal(typeof empty.policy.roles[0].description, 'string');

  const policy = {
    resources: [
      { resource_id: 'documents', description: 'Team documents', actions: ['create', 'read', 'write', 'delete'] },
      { resource_id: 'images', description: '', actions: ['create', 'read', 'delete'] },
    ],
    roles: [
      { role_id: 'editor', description: 'Writes documents', permissions: [
        { resource_id: 'documents', actions: ['read', 'write'] },
        { resource_id: 'images', actions: ['create', 'read', 'delete'] }] },
      { role_id: 'reader', description: '', permissions: [{ resource_id: 'documents', actions: ['read'] }] },
      { role_id: 'wildcard_role', description: '', permissions: [{ resource_id: 'documents', actions: ['*'] }] },
    ],
    scopes: [
      { scope: 'read:data', description: 'Reads documents', permissions: [{ resource_id: 'documents', actions: ['read'] }] },
    ],
  };
  const file = path.join(work, 'rbac-policy.json');
  writeFileSync(file, JSON.stringify(policy));
  const set = JSON.parse(
    await tesseraCli('rbac', 'set', '--project', B.project_id, '--file', file, '--json'),
  );
  assert.equal(set.version, 1);
  // The running server serves it within its config poll (about a second).
  const deadline = Date.now() + 10_000;
  let served;
  while (Date.now() < deadline) {
    served = await rc.rbac.policy();
    if (served.policy.roles.length === 4) break;
    await sleep(100);
  }
  assertSuccess(served);
  assert.deepEqual(served.policy.roles.map((r) => r.role_id), ['stytch_user', 'editor', 'reader', 'wildcard_role']);
  assert.deepEqual(served.policy.roles[1], policy.roles[0]);
  assert.deepEqual(served.policy.resources, policy.resources);
  assert.deepEqual(served.policy.scopes, policy.scopes);

  // An editor (roles given with users.update, in force from the next authenticate).
  const password = randomPassword();
  const editor = await rc.passwords.create({
    email: randomEmail('editor'), password, session_duration_minutes: 60,
  });
  assertSuccess(await rc.users.update({ user_id: editor.user_id, roles: ['editor'] }));
  const write = { resource_id: 'documents', action: 'write' };
  const granted = await rc.sessions.authenticate({
    session_token: editor.session_token, authorization_check: write,
  });
  assertSuccess(granted);
  assert.deepEqual(granted.verdict, { authorized: true, granting_roles: ['editor'] });
  assert.deepEqual(granted.session.roles, ['stytch_user', 'editor']);
  assert.deepEqual(decodeJwt(granted.session_jwt).payload[SESSION_CLAIM].roles, ['stytch_user', 'editor']);
  await rejectsStytch(
    rc.sessions.authenticate({
      session_token: editor.session_token,
      authorization_check: { resource_id: 'documents', action: 'delete' },
    }),
    403, 'consumer_session_authorization_error',
  );
  const denied = await rejectsStytch(
    rc.sessions.authenticate({
      session_jwt: granted.session_jwt,
      authorization_check: { resource_id: 'videos', action: 'read' },
    }),
    403, 'consumer_session_authorization_error',
  );
  assert.equal(
    denied.error_message,
    'The User is not authorized to perform the requested action on that resource.',
  );

  // authenticateJwt with a check the JWT's roles grant: answered locally, one policy fetch.
  const policyBefore = await settledCount(RBAC_POLICY_ROUTE);
  const authBefore = await settledCount(AUTHENTICATE_ROUTE);
  const local = await rc.sessions.authenticateJwt({
    session_jwt: granted.session_jwt, authorization_check: write,
  });
  assert.equal(local.session_jwt, granted.session_jwt, 'answered locally: the same JWT');
  assert.equal(local.session.session_id, editor.session.session_id);
  const local2 = await rc.sessions.authenticateJwtLocal({
    session_jwt: granted.session_jwt, authorization_check: { resource_id: 'images', action: 'delete' },
  });
  assert.deepEqual(local2.roles, ['stytch_user', 'editor']);
  await expectCount(RBAC_POLICY_ROUTE, policyBefore + 1, 'the SDK fetched the policy once');
  await expectCount(AUTHENTICATE_ROUTE, authBefore, 'and asked the server nothing');

  // Denied locally: authenticateJwtLocal says invalid_permissions; authenticateJwt re-asks the
  // server, whose 403 is what the caller sees.
  await rejectsClient(
    rc.sessions.authenticateJwtLocal({
      session_jwt: granted.session_jwt, authorization_check: { resource_id: 'documents', action: 'delete' },
    }),
    'invalid_permissions',
  );
  await rejectsStytch(
    rc.sessions.authenticateJwt({
      session_jwt: granted.session_jwt, authorization_check: { resource_id: 'documents', action: 'delete' },
    }),
    403, 'consumer_session_authorization_error',
  );
  await expectCount(AUTHENTICATE_ROUTE, authBefore + 1, 'the local denial went to the server');

  // A role given since the JWT was minted: the local check says no (old roles), the server yes.
  assertSuccess(await rc.users.update({ user_id: editor.user_id, roles: ['editor', 'wildcard_role'] }));
  const remote = await rc.sessions.authenticateJwt({
    session_jwt: granted.session_jwt, authorization_check: { resource_id: 'documents', action: 'delete' },
  });
  assertSuccess(remote);
  assert.deepEqual(remote.verdict, { authorized: true, granting_roles: ['wildcard_role'] });
  assert.notEqual(remote.session_jwt, granted.session_jwt);
  assert.deepEqual(remote.session.roles, ['stytch_user', 'editor', 'wildcard_role']);

  // A user with no role but stytch_user: denied everywhere, never authorized by the fallback.
  const plain = await rc.passwords.create({
    email: randomEmail('plain'), password: randomPassword(), session_duration_minutes: 60,
  });
  for (const check of [write, { resource_id: 'documents', action: 'read' }]) {
    await rejectsStytch(
      rc.sessions.authenticateJwt({ session_jwt: plain.session_jwt, authorization_check: check }),
      403, 'consumer_session_authorization_error',
    );
    await rejectsStytch(
      rc.sessions.authenticateJwt({
        session_jwt: plain.session_jwt, authorization_check: check, max_token_age_seconds: 0,
      }),
      403, 'consumer_session_authorization_error',
    );
  }
});

test('15. the server stops on SIGTERM with exit status 0', async () => {
  const { code, signal } = await stopServer();
  assert.equal(signal, null, `terminated by ${signal}`);
  assert.equal(code, 0, `exit status ${code}:\n${server.stderr.slice(-40).join('\n')}`);
  const report = server.stderr.find((l) => /AddressSanitizer|LeakSanitizer|runtime error:/.test(l));
  assert.equal(report, undefined, 'no sanitizer report');
});
