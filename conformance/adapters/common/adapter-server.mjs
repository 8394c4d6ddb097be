// Shared plumbing of the conformance adapters (protocol version 0) in the
// sibling folders: command line and PORT parsing, the node:http server on
// 127.0.0.1, routing of GET /v0/capabilities and POST /v0/<operation>, body
// limits and error statuses, the `syntax/validate` operation, the request and
// answer plumbing of `data/encode` and `data/decode` (base64, ok/error), and
// the lookup of an installed package's version.
//
// Protocol: ../../../docs/adapter-protocol.md (the contract every
// adapter follows). Operations an adapter does not list answer 404,
// which the runner reports as "skipped".
//
// Node built-ins only: this folder has no package.json and no dependencies.
// An adapter's server.mjs imports it relatively and calls serveAdapter().

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Version of a wrapped package, read from its installed package.json (not
// from the adapter's own package.json), so capabilities report what actually
// runs. `resolve` is the calling adapter's import.meta.resolve: the package is
// installed in the adapter's node_modules, which this folder cannot see.

export function installedVersion(resolve, pkgName) {
  // Walk up from the resolved entry point to the package root rather than
  // relying on "<pkg>/package.json" being listed in the package's exports
  // (the @atproto packages only export ".").
  let dir = path.dirname(fileURLToPath(resolve(pkgName)));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const meta = JSON.parse(fs.readFileSync(candidate, 'utf8'));
      if (meta.name === pkgName) return meta.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json of ${pkgName} not found`);
    dir = parent;
  }
}

// ---------------------------------------------------------------------------
// HTTP plumbing (node:http only).

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function sendJson(res, status, body, extraHeaders = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new HttpError(413, 'request body too large'));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function readJsonObject(req) {
  const raw = await readBody(req);
  let parsed;
  try {
    parsed = JSON.parse(utf8.decode(raw));
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8 JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return parsed;
}

// ---------------------------------------------------------------------------
// `syntax/validate`, given one validator per protocol type. A validator
// returns a boolean; anything but `true`, or a throw, means "invalid" (the
// ensure*/assert* style functions signal failure by throwing).

export function syntaxValidate(validators) {
  return async (req, res) => {
    const body = await readJsonObject(req);
    const { type, value } = body;
    if (typeof type !== 'string') throw new HttpError(400, '"type" must be a string');
    if (typeof value !== 'string') throw new HttpError(400, '"value" must be a string');
    if (!Object.hasOwn(validators, type)) {
      // Supported operation, type this adapter cannot check: "not supported".
      sendJson(res, 501, { error: 'unsupported type' });
      return;
    }
    let valid;
    try {
      valid = validators[type](value) === true;
    } catch {
      valid = false;
    }
    sendJson(res, 200, { valid });
  };
}

// ---------------------------------------------------------------------------
// Routing: GET /v0/capabilities, and POST /v0/<op> for each operation given.

function makeRoutes({ name, version, packages, operations }) {
  const capabilities = {
    name,
    version,
    operations: Object.keys(operations),
    // Extra, informational: every wrapped package and its installed version.
    packages,
  };
  const routes = {
    '/v0/capabilities': { GET: (req, res) => sendJson(res, 200, capabilities) },
  };
  for (const [op, handler] of Object.entries(operations)) {
    routes[`/v0/${op}`] = { POST: handler };
  }
  return routes;
}

function makeRequestListener(routes) {
  async function handle(req, res) {
    const pathname = new URL(req.url, 'http://adapter').pathname;
    const route = routes[pathname];
    if (!route) {
      req.resume();
      sendJson(res, 404, { error: 'unknown operation' });
      return;
    }
    const handler = route[req.method];
    if (!handler) {
      req.resume();
      sendJson(res, 405, { error: 'method not allowed' }, { allow: Object.keys(route).join(', ') });
      return;
    }
    await handler(req, res);
  }

  return (req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) console.error(err);
      if (!res.headersSent) sendJson(res, status, { error: err.message });
      else res.destroy();
    });
  };
}

// ---------------------------------------------------------------------------
// Startup.

function parsePort(argv, env) {
  let port = env.PORT ?? '0';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') {
      if (i + 1 >= argv.length) throw new Error('--port needs a value');
      port = argv[++i];
    } else if (arg.startsWith('--port=')) {
      port = arg.slice('--port='.length);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (!/^\d+$/.test(String(port)) || Number(port) > 65535) {
    throw new Error(`invalid port: ${port}`);
  }
  return Number(port);
}

// Starts the adapter: parses --port N / --port=N / env PORT (0 = any free
// port; anything else exits 2 with a usage line), listens on 127.0.0.1,
// prints exactly one line `listening on http://127.0.0.1:<port>` once ready,
// and stops on SIGINT or SIGTERM.
//   name, version: what GET /v0/capabilities reports;
//   packages:      { "<package>": "<installed version>" }, reported as well;
//   operations:    { "<op>": async (req, res) => ... }, served as POST /v0/<op>.
export function serveAdapter({ name, version, packages, operations }) {
  let port;
  try {
    port = parsePort(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`error: ${err.message}`);
    console.error('usage: node server.mjs [--port N]   (env PORT also accepted; 0 = any free port)');
    process.exit(2);
  }
  const routes = makeRoutes({ name, version, packages, operations });
  const server = http.createServer(makeRequestListener(routes));
  server.on('error', (err) => {
    console.error(`error: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, HOST, () => {
    process.stdout.write(`listening on http://${HOST}:${server.address().port}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// ---------------------------------------------------------------------------
// `data/encode` and `data/decode`: the request/answer plumbing shared by the
// adapters; the adapter passes the library calls. Base64 is the standard
// alphabet, padding optional on input and written with padding.
//
//   encode(json) -> { cbor: Uint8Array, cid: string }
//   decode(bytes) -> { json, cid: string }
// Both throw to reject the input; the message becomes the `error` of an
// `ok: false` answer. The top-level-object check of strict mode belongs to
// the adapter (isPlainObject below helps); every other check is the library's.

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function base64Decode(text) {
  const unpadded = text.replace(/=+$/, '');
  if (!BASE64.test(text) || unpadded.length % 4 === 1 ||
      (text.length !== unpadded.length && text.length % 4 !== 0)) {
    throw new HttpError(400, '"cbor" must be base64');
  }
  return new Uint8Array(Buffer.from(unpadded, 'base64'));
}

export function base64Encode(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

// A plain object (a map of the data model), not an array, null, a class
// instance (CID, bytes wrapper, Uint8Array) or a scalar.
export function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function failure(err) {
  return { ok: false, error: String(err?.message ?? err) || 'rejected' };
}

export function dataOperations({ encode, decode }) {
  return {
    'data/encode': async (req, res) => {
      const body = await readJsonObject(req);
      if (!Object.hasOwn(body, 'json')) throw new HttpError(400, 'data/encode needs a "json" field');
      let answer;
      try {
        const { cbor, cid } = await encode(body.json);
        answer = { ok: true, cbor: base64Encode(cbor), cid };
      } catch (err) {
        answer = failure(err);
      }
      sendJson(res, 200, answer);
    },
    'data/decode': async (req, res) => {
      const body = await readJsonObject(req);
      if (typeof body.cbor !== 'string') throw new HttpError(400, 'data/decode needs a string "cbor" (base64)');
      const bytes = base64Decode(body.cbor);
      let answer;
      try {
        const { json, cid } = await decode(bytes);
        answer = { ok: true, json, cid };
      } catch (err) {
        answer = failure(err);
      }
      sendJson(res, 200, answer);
    },
  };
}

// ---------------------------------------------------------------------------
// `car/read`: the request/answer plumbing shared by the adapters; the adapter
// passes the library's reader.
//
//   read(bytes) -> { roots: [string], blocks: [{ cid: string, bytes: Uint8Array }] }
//
// It throws to reject the file. The protocol's car/read also requires the
// first root (the commit) among the blocks (car.roots.commit-included); that
// check is done here, once for every adapter, on what the library returned.

export function carOperations({ read }) {
  return {
    'car/read': async (req, res) => {
      const body = await readJsonObject(req);
      if (typeof body.car !== 'string') throw new HttpError(400, 'car/read needs a string "car" (base64)');
      const bytes = base64Decode(body.car);
      let answer;
      try {
        const { roots, blocks } = await read(bytes);
        if (roots.length === 0) throw new Error('the CAR header has no roots');
        if (!blocks.some((block) => block.cid === roots[0])) {
          throw new Error(`the first root ${roots[0]} is not among the blocks`);
        }
        answer = {
          ok: true,
          roots,
          blocks: blocks.map((block) => ({ cid: block.cid, data: base64Encode(block.bytes) })),
        };
      } catch (err) {
        answer = failure(err);
      }
      sendJson(res, 200, answer);
    },
  };
}
