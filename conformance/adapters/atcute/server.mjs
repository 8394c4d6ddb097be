// Conformance adapter (protocol version 0) for the independent @atcute
// implementation of atproto: the syntax validators of @atcute/lexicons
// (module "@atcute/lexicons/syntax").
//
// Protocol: ../../../../shared/conformance-adapter.md (documented for
// implementers under docs/). Only `syntax/validate` is implemented here; every
// other operation answers 404, which the runner reports as "skipped".
//
// Start: ./run.sh [--port N]   (or: node server.mjs [--port N]; env PORT works too)
// Prints exactly one line `listening on http://127.0.0.1:<port>` once ready.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  isHandle,
  isDid,
  isNsid,
  isResourceUri,
  isTid,
  isRecordKey,
  isDatetime,
  isLanguageCode,
  isCid,
  isActorIdentifier,
  isGenericUri,
} from '@atcute/lexicons/syntax';

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Version of the wrapped package, read from its installed package.json (not
// from our own package.json), so capabilities report what actually runs.

function installedVersion(pkgName) {
  // Walk up from the resolved entry point to the package root rather than
  // relying on "<pkg>/package.json" being listed in the package's exports.
  let dir = path.dirname(fileURLToPath(import.meta.resolve(pkgName)));
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

const LEXICONS_VERSION = installedVersion('@atcute/lexicons');

// ---------------------------------------------------------------------------
// One validator per protocol type: the same predicates @atcute/lexicons uses
// for the matching Lexicon string formats (see its validations module). A
// throw would also mean "invalid", although these predicates do not throw.

const VALIDATORS = {
  handle: isHandle,
  did: isDid,
  nsid: isNsid,
  // isResourceUri is what atcute checks for the Lexicon `at-uri` format
  // (authority may be a handle; optional collection, rkey and #/fragment).
  // isCanonicalResourceUri is the narrower did/collection/rkey form.
  'at-uri': isResourceUri,
  tid: isTid,
  'record-key': isRecordKey,
  datetime: isDatetime,
  language: isLanguageCode,
  // atcute accepts only DASL CIDs: CIDv1, base32, sha2-256, dag-cbor or raw.
  cid: isCid,
  'at-identifier': isActorIdentifier,
  uri: isGenericUri,
};

// ---------------------------------------------------------------------------
// HTTP plumbing (node:http only).

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function sendJson(res, status, body, extraHeaders = {}) {
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

async function readJsonObject(req) {
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

function capabilities() {
  return {
    name: 'atcute',
    version: LEXICONS_VERSION,
    operations: ['syntax/validate'],
    // Extra, informational: every wrapped package and its installed version.
    packages: {
      '@atcute/lexicons': LEXICONS_VERSION,
    },
  };
}

async function syntaxValidate(req, res) {
  const body = await readJsonObject(req);
  const { type, value } = body;
  if (typeof type !== 'string') throw new HttpError(400, '"type" must be a string');
  if (typeof value !== 'string') throw new HttpError(400, '"value" must be a string');
  if (!Object.hasOwn(VALIDATORS, type)) {
    // Supported operation, type this adapter cannot check: "not supported".
    sendJson(res, 501, { error: 'unsupported type' });
    return;
  }
  let valid;
  try {
    valid = VALIDATORS[type](value) === true;
  } catch {
    valid = false;
  }
  sendJson(res, 200, { valid });
}

const ROUTES = {
  '/v0/capabilities': { GET: (req, res) => sendJson(res, 200, capabilities()) },
  '/v0/syntax/validate': { POST: syntaxValidate },
};

async function handle(req, res) {
  const pathname = new URL(req.url, 'http://adapter').pathname;
  const route = ROUTES[pathname];
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

function onRequest(req, res) {
  handle(req, res).catch((err) => {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) console.error(err);
    if (!res.headersSent) sendJson(res, status, { error: err.message });
    else res.destroy();
  });
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

function main() {
  let port;
  try {
    port = parsePort(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`error: ${err.message}`);
    console.error('usage: node server.mjs [--port N]   (env PORT also accepted; 0 = any free port)');
    process.exit(2);
  }
  const server = http.createServer(onRequest);
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

main();
