// The peer of bench/client_bench.cc: the official Stytch Node SDK (npm `stytch`, the exact version
// pinned in package.json and package-lock.json, the same as tests/compat) verifying one session
// JWT locally with sessions.authenticateJwtLocal, over and over.
//
//   TESSERA_BENCH_BASE_URL=http://127.0.0.1:PORT TESSERA_BENCH_PROJECT_ID=project-test-... \
//   TESSERA_BENCH_SECRET=secret-test-... TESSERA_BENCH_JWT=eyJ... \
//     node bench/node_peer/verify_local.mjs [rounds] [seconds_per_round]
//
// Starts nothing: bench/run_client.sh runs the server and passes the JWT it minted. The SDK
// fetches the JWKS from the server itself (during the warm-up, outside the timing; jose caches it),
// so every timed call is local. Prints each round, then the median round as "RESULT key=value"
// lines for run_client.sh.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`verify_local.mjs: ${message}`);
  process.exit(1);
}

// The installed SDK must be the pinned one: a figure for another version would be mislabelled.
const pinned = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8')).dependencies.stytch;
let installed;
try {
  installed = JSON.parse(
    readFileSync(path.join(here, 'node_modules', 'stytch', 'package.json'), 'utf8')).version;
} catch {
  fail('node_modules/stytch is missing: run `npm ci` in bench/node_peer');
}
if (installed !== pinned) fail(`stytch ${installed} installed, ${pinned} pinned: run \`npm ci\``);
const { Client } = require('stytch');

const env = (name) => process.env[name] || fail(`${name} is not set`);
const baseUrl = env('TESSERA_BENCH_BASE_URL');
const projectId = env('TESSERA_BENCH_PROJECT_ID');
const secret = env('TESSERA_BENCH_SECRET');
const jwt = env('TESSERA_BENCH_JWT');
const rounds = Number(process.argv[2] || 5);
const secondsPerRound = Number(process.argv[3] || 1);

// `env`, not `custom_base_url`: the SDK refuses a non-https custom_base_url (tests/compat).
const client = new Client({ project_id: projectId, secret, env: baseUrl.replace(/\/?$/, '/') });

// Warm-up: the JWKS fetch, then enough calls for the JIT to settle.
const first = await client.sessions.authenticateJwtLocal({ session_jwt: jwt });
if (!first.session_id || !first.user_id) fail(`unexpected result: ${JSON.stringify(first)}`);
for (let i = 0; i < 2000; i++) await client.sessions.authenticateJwtLocal({ session_jwt: jwt });

const results = [];
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(secondsPerRound * 1e9));
  let n = 0;
  let now = start;
  while (now < deadline) {
    await client.sessions.authenticateJwtLocal({ session_jwt: jwt });
    n++;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  results.push({ opsPerS: n / seconds, usPerOp: (seconds * 1e6) / n });
  console.log(`round ${r + 1}: ${n} verifications in ${seconds.toFixed(3)} s, ` +
              `${(n / seconds).toFixed(0)}/s, ${((seconds * 1e6) / n).toFixed(2)} us/op`);
}
results.sort((a, b) => a.usPerOp - b.usPerOp);
const median = results[Math.floor(results.length / 2)];
console.log(`stytch ${installed} on Node ${process.version}: median ${median.opsPerS.toFixed(0)}/s, ` +
            `${median.usPerOp.toFixed(2)} us/op (JWT ${jwt.length} bytes)`);
console.log(`RESULT node_ops_per_s=${median.opsPerS.toFixed(1)}`);
console.log(`RESULT node_us_per_op=${median.usPerOp.toFixed(3)}`);
console.log(`RESULT node_stytch_version=${installed}`);
console.log(`RESULT node_version=${process.version}`);
