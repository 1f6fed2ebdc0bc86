// Serves the example page, its script, and the official Stytch frontend SDK straight from
// node_modules (nothing is fetched from a CDN), on 127.0.0.1 only.
//
//   node server.mjs --tessera-url http://127.0.0.1:8080 --public-token public-token-test-...
//                   [--protected-url http://127.0.0.1:8081] [--port 5173]
//
// Port 0 picks a free port. The bound address is printed as `listening on http://127.0.0.1:PORT`;
// that origin is what `tessera sdk-origins add` must allow.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const options = { port: '5173', protectedUrl: '' };
  const names = {
    '--port': 'port',
    '--tessera-url': 'tesseraUrl',
    '--public-token': 'publicToken',
    '--protected-url': 'protectedUrl',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name || argv[i + 1] === undefined) {
      throw new Error(`unknown option or missing value: ${argv[i]}`);
    }
    options[name] = argv[i + 1];
  }
  if (!options.tesseraUrl || !options.publicToken) {
    throw new Error('--tessera-url and --public-token are required');
  }
  // The SDK appends /sdk/v1/... to the base: no trailing slash.
  options.tesseraUrl = options.tesseraUrl.replace(/\/+$/, '');
  options.protectedUrl = options.protectedUrl.replace(/\/+$/, '');
  return options;
}

const options = parseArgs(process.argv.slice(2));

// The SDK's self-contained browser build. The package's `exports` map does not expose dist/iife,
// so it is read by path.
const sdkBundle = path.join(here, 'node_modules/@stytch/vanilla-js/dist/iife/index.headless.js');

const files = {
  '/': { file: path.join(here, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(here, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/vendor/stytch-headless.js': { file: sdkBundle, type: 'text/javascript; charset=utf-8' },
};

const config = `window.TESSERA_CONFIG = ${JSON.stringify({
  tesseraUrl: options.tesseraUrl,
  publicToken: options.publicToken,
  protectedUrl: options.protectedUrl,
})};\n`;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
    return;
  }
  if (url.pathname === '/config.js') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : config);
    return;
  }
  const entry = files[url.pathname];
  if (!entry) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  try {
    const body = await readFile(entry.file);
    res.writeHead(200, { ...headers, 'Content-Type': entry.type });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (e) {
    res.writeHead(500, { ...headers, 'Content-Type': 'text/plain' }).end(`${e.message}\n`);
  }
});

server.listen(Number(options.port), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
