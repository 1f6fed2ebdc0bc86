// The official Stytch frontend SDK (@stytch/vanilla-js, unmodified) against Tessera in headless
// Chromium: the example page (examples/web) signs up, survives a reload, its cookie opens
// examples/protected_api, a second browser signs in, sign-out clears the cookies and the API then
// refuses them, a session revoked by the backend is dropped by the SDK, and a page on an origin
// the project does not allow is refused. Every request to a host other than 127.0.0.1 is blocked
// and counted; the count must be 0.
//
// Environment (ctest sets it, tests/browser/CMakeLists.txt): TESSERA_BIN, PROTECTED_API_BIN,
// EXAMPLE_WEB_DIR, CHROMIUM (default /usr/bin/chromium), ARTIFACTS_DIR (screenshots).
// TESSERA_TEST_KEEP=1 keeps the temporary directory (database, server logs).
//
// Invariant: nothing outlives the script. Every child is stopped and the browser closed in a
// `finally`, whatever failed.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] || fallback;
  if (!v) throw new Error(`${name} must be set (ctest sets it; see tests/browser/CMakeLists.txt)`);
  return v;
};
const TESSERA = env('TESSERA_BIN');
const PROTECTED_API = env('PROTECTED_API_BIN');
const WEB_DIR = env('EXAMPLE_WEB_DIR');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const ARTIFACTS = env('ARTIFACTS_DIR');
const PASSWORD = 'Correct-Horse-battery-staple-93';
const START_TIMEOUT_MS = 30000;

for (const [what, file] of [
  ['Chromium (scripts/install-deps.sh installs Debian\'s `chromium`)', CHROMIUM],
  ['the SDK bundle (run `npm ci` in examples/web)',
   path.join(WEB_DIR, 'node_modules/@stytch/vanilla-js/dist/iife/index.headless.js')],
]) {
  if (!existsSync(file)) throw new Error(`missing ${what}: ${file}`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tessera-browser-'));
const database = `sqlite:${path.join(tmp, 'tessera.db')}`;
mkdirSync(ARTIFACTS, { recursive: true });
const children = [];
let browser = null;
let step = 0;

function log(message) {
  console.log(`[browser e2e] ${message}`);
}

function tessera(...args) {
  return execFileSync(TESSERA, [...args, '--database', database], { encoding: 'utf8' });
}

// Starts a child whose stdout and stderr go to a log file, and waits for `pattern` in it.
async function start(name, command, args, pattern) {
  const logFile = path.join(tmp, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  children.push({ name, child });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const text = readFileSync(logFile, 'utf8');
    const m = text.match(pattern);
    if (m) return { child, match: m, logFile };
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${text}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopAll() {
  for (const { name, child } of children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      log(`${name} ignored SIGTERM; killing it`);
      child.kill('SIGKILL');
    }, 10000);
    await exited;
    clearTimeout(timer);
  }
}

async function backend(api, pathname, body, project) {
  const res = await fetch(`${api}${pathname}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Authorization: `Basic ${Buffer.from(`${project.project_id}:${project.secret}`).toString('base64')}`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function screenshot(page, name) {
  step += 1;
  const file = path.join(ARTIFACTS, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

// Waits until the page's last SDK call finished (the example counts them in data-done).
async function click(page, button) {
  const before = Number((await page.locator('#out').getAttribute('data-done')) || 0);
  await page.click(button);
  await page.waitForFunction(
    (n) => Number(document.querySelector('#out').dataset.done || 0) > n, before);
  return page.locator('#out').getAttribute('data-error');
}

async function sessionCookies(context) {
  const all = await context.cookies('http://127.0.0.1/');
  return Object.fromEntries(all.filter((c) => c.name.startsWith('stytch_')).map((c) => [c.name, c]));
}

// A browser context in which every request to a host other than 127.0.0.1 is blocked and
// recorded, and every uncaught page error and CORS complaint is recorded.
async function newContext(external, problems) {
  const context = await browser.newContext();
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => {
    external.push(route.request().url());
    return route.abort();
  });
  context.on('page', (page) => {
    page.on('pageerror', (e) => problems.push(`page error: ${e}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /CORS|Access-Control/i.test(m.text())) {
        problems.push(`console: ${m.text()}`);
      }
    });
  });
  return context;
}

async function main() {
  // --- The servers ------------------------------------------------------------------------------
  const project = JSON.parse(tessera('projects', 'create', '--json', '--name', 'Browser test'));
  assert.match(project.public_token, /^public-token-test-[0-9a-f-]{36}$/);
  const listed = JSON.parse(tessera('projects', 'list', '--json')).projects;
  assert.equal(listed.find((p) => p.project_id === project.project_id).public_token,
               project.public_token);

  const server = await start('tessera', TESSERA,
    ['serve', '--database', database, '--listen', '127.0.0.1:0', '--access-log', 'off',
     '--argon2-memory-kib', '1024', '--argon2-iterations', '1'],
    /"msg":"listening","address":"([0-9.]+:[0-9]+)"/);
  const api = `http://${server.match[1]}`;
  const protectedApi = await start('protected_api', PROTECTED_API,
    ['--listen', '127.0.0.1:0', '--tessera-url', api, '--project-id', project.project_id,
     '--secret', project.secret],
    /listening on ([0-9.]+:[0-9]+)/);
  const protectedUrl = `http://${protectedApi.match[1]}`;
  const web = async (name) => {
    const s = await start(name, process.execPath,
      [path.join(WEB_DIR, 'server.mjs'), '--port', '0', '--tessera-url', api,
       '--public-token', project.public_token, '--protected-url', protectedUrl],
      /listening on (http:\/\/127\.0\.0\.1:[0-9]+)/);
    return s.match[1];
  };
  const allowed = await web('web-allowed');
  const refused = await web('web-refused');

  // Only the first page's origin is allowed; the running server picks the change up.
  tessera('sdk-origins', 'add', '--project', project.project_id, '--origin', allowed);
  const origins = JSON.parse(tessera('sdk-origins', 'list', '--project', project.project_id,
                                     '--json'));
  assert.deepEqual(origins.origins.map((o) => o.origin), [allowed]);
  const bootstrap = `${api}/sdk/v1/projects/bootstrap/${project.public_token}`;
  for (let i = 0; ; ++i) {
    const res = await fetch(bootstrap, { headers: { Origin: allowed } });
    if (res.status === 200) break;
    assert.ok(i < 100, `the server did not allow ${allowed} within 10 s (last: ${res.status})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`tessera ${api}, protected_api ${protectedUrl}, pages ${allowed} (allowed), ` +
      `${refused} (not allowed)`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--disable-dev-shm-usage'],
  });
  log(`Chromium ${browser.version()}`);
  const external = [];
  const problems = [];
  const email = `user-${Date.now()}@example.com`;

  // --- Sign-up ---------------------------------------------------------------------------------
  const first = await newContext(external, problems);
  const page = await first.newPage();
  await page.goto(allowed);
  await page.waitForFunction(() => document.querySelector('#out').textContent === 'Signed out.');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  assert.equal(await click(page, '#signup'), '');
  const out = page.locator('#out');
  const sessionId = await out.getAttribute('data-session-id');
  const userId = await out.getAttribute('data-user-id');
  assert.match(sessionId, /^session-test-/);
  assert.match(userId, /^user-test-/);
  await screenshot(page, 'signed-up');

  let cookies = await sessionCookies(first);
  for (const name of ['stytch_session', 'stytch_session_jwt']) {
    assert.ok(cookies[name], `the SDK set ${name}`);
    assert.ok(cookies[name].value.length > 0, `${name} is not empty`);
    assert.equal(cookies[name].path, '/');
    assert.equal(cookies[name].httpOnly, false);
    assert.equal(cookies[name].sameSite, 'Lax');
  }
  // The cookie's token is the session the page shows, as the backend API sees it.
  const checked = await backend(api, '/v1/sessions/authenticate',
                                { session_token: cookies.stytch_session.value }, project);
  assert.equal(checked.status, 200, JSON.stringify(checked.json));
  assert.equal(checked.json.session.session_id, sessionId);

  // The SDK's other password and user calls, from the page.
  const strength = await page.evaluate(
    () => window.stytchClient.passwords.strengthCheck({ password: 'password' }));
  assert.equal(strength.valid_password, false);
  assert.equal(strength.strength_policy, 'zxcvbn');
  const me = await page.evaluate(() => window.stytchClient.user.get());
  assert.equal(me.user_id, userId);
  assert.equal(me.emails[0].email, email);

  // --- Reload: the session is kept, and refreshed from Tessera -----------------------------------
  const refreshed = page.waitForResponse(
    (r) => r.url() === `${api}/sdk/v1/sessions/authenticate` && r.request().method() === 'POST');
  await page.reload();
  const refresh = await refreshed;
  assert.equal(refresh.status(), 200);
  assert.equal((await refresh.json()).data.session.session_id, sessionId);
  await page.waitForFunction(
    (id) => document.querySelector('#out').dataset.sessionId === id, sessionId);
  await screenshot(page, 'reloaded');

  // --- The protected API, called by the browser with its cookie ------------------------------------
  const apiPage = await first.newPage();
  const meResponse = await apiPage.goto(`${protectedUrl}/me`);
  assert.equal(meResponse.status(), 200);
  const meJson = await meResponse.json();
  assert.equal(meJson.user_id, userId);
  assert.equal(meJson.session_id, sessionId);
  await screenshot(apiPage, 'protected-api');

  // --- Sign-in from a second browser, after a wrong password ---------------------------------------
  const second = await newContext(external, problems);
  const page2 = await second.newPage();
  await page2.goto(allowed);
  await page2.fill('#email', email);
  await page2.fill('#password', 'Wrong-password-1234567');
  assert.equal(await click(page2, '#login'), 'unauthorized_credentials');
  assert.equal(await page2.locator('#out').getAttribute('data-session-id'), '');
  await page2.fill('#password', PASSWORD);
  assert.equal(await click(page2, '#login'), '');
  const sessionId2 = await page2.locator('#out').getAttribute('data-session-id');
  assert.match(sessionId2, /^session-test-/);
  assert.notEqual(sessionId2, sessionId);
  assert.equal(await page2.locator('#out').getAttribute('data-user-id'), userId);
  await screenshot(page2, 'second-browser-signed-in');

  // --- Sign-out: cookies gone, and the old cookie is refused ---------------------------------------
  const oldCookies = cookies;
  assert.equal(await click(page, '#logout'), '');
  assert.equal(await out.getAttribute('data-session-id'), '');
  await screenshot(page, 'signed-out');
  cookies = await sessionCookies(first);
  assert.deepEqual(Object.keys(cookies), [], 'sign-out removed the stytch_* cookies');
  const afterLogout = await apiPage.goto(`${protectedUrl}/me`);
  assert.equal(afterLogout.status(), 401);
  // The JWT of the revoked session, presented on purpose, is refused too.
  const replay = await fetch(`${protectedUrl}/me`, {
    headers: { Cookie: `stytch_session_jwt=${oldCookies.stytch_session_jwt.value}` },
  });
  assert.equal(replay.status, 401);
  const dead = await backend(api, '/v1/sessions/authenticate',
                             { session_token: oldCookies.stytch_session.value }, project);
  assert.equal(dead.json.error_type, 'session_not_found');
  // The second browser's session is untouched.
  const alive = await second.cookies('http://127.0.0.1/');
  const token2 = alive.find((c) => c.name === 'stytch_session').value;
  assert.equal((await backend(api, '/v1/sessions/authenticate', { session_token: token2 },
                              project)).status, 200);

  // --- A session the backend revokes is dropped by the SDK at its next refresh ---------------------
  assert.equal((await backend(api, '/v1/sessions/revoke', { session_id: sessionId2 }, project))
    .status, 200);
  await page2.reload();
  await page2.waitForFunction(() => document.querySelector('#out').dataset.sessionId === '');
  assert.deepEqual(Object.keys(await sessionCookies(second)), [],
                   'the SDK removed the cookies of the revoked session');
  await screenshot(page2, 'revoked-by-backend');

  // --- A page on an origin the project does not allow --------------------------------------------
  const stranger = await newContext(external, problems);
  const page3 = await stranger.newPage();
  await page3.goto(refused);
  const otherEmail = `stranger-${Date.now()}@example.com`;
  await page3.fill('#email', otherEmail);
  await page3.fill('#password', PASSWORD);
  assert.equal(await click(page3, '#signup'), 'bad_domain_for_stytch_sdk');
  assert.equal(await page3.locator('#out').getAttribute('data-session-id'), '');
  assert.deepEqual(Object.keys(await sessionCookies(stranger)), []);
  await screenshot(page3, 'origin-refused');
  const notCreated = await backend(api, '/v1/passwords/authenticate',
                                   { email: otherEmail, password: PASSWORD }, project);
  assert.equal(notCreated.json.error_type, 'email_not_found', 'the refused sign-up created nobody');

  // --- Nothing left 127.0.0.1; no page error, no CORS complaint ------------------------------------
  assert.deepEqual(external, [], `requests to other hosts: ${external.join(', ')}`);
  assert.deepEqual(problems, []);
  log(`passed: ${step} screenshots in ${ARTIFACTS}; 0 requests to other hosts`);
}

try {
  await main();
} finally {
  if (browser) await browser.close();
  await stopAll();
  if (process.env.TESSERA_TEST_KEEP === '1') {
    log(`kept ${tmp}`);
  } else {
    rmSync(tmp, { recursive: true, force: true });
  }
}
