#!/usr/bin/env node
// Template conformance adapter, protocol version 0 (Node 20, built-ins only).
//
// The adapter protocol is described in docs/adapter-protocol.md of
// atproto-cpp. Copy this file next to the library you want to check, then for
// each operation your library can answer:
//
//   1. fill in its function below (every place to do so says PLUG IN),
//   2. remove the unsupported(...) wrapper around it.
//
// /v0/capabilities lists exactly the operations not wrapped in unsupported(),
// so the runner picks the suites that use them and skips the rest. Operations
// left as they are answer 501.
//
// Numbers: JSON.parse turns integers beyond 2^53 into rounded doubles, so
// -9223372036854775809 would reach your library as -9223372036854775808, a
// valid int64. The data/encode cases that send such integers need an exact
// parser: replace parseJson() below with one that keeps them (lossless-json's
// parse, json-bigint with useNativeBigInt, or on Node 21+ a JSON.parse reviver
// reading context.source), and pin that package in your package.json.
//
// Start: node adapter.mjs --port 0   (prints "listening on http://127.0.0.1:PORT")

import http from 'node:http';
import { pathToFileURL } from 'node:url';

// What /v0/capabilities reports: the library under test, not this adapter.
// Read the version from the installed package's package.json when you can.
export const library = { name: 'my-library', version: '0.0.0' };

// Throw to answer 501: the library has no answer for this input (for
// syntax/validate: this type). The runner skips the case.
export class Unsupported extends Error {}

// Marks an operation the wrapped library does not offer.
export function unsupported(fn) {
  fn.unsupported = true;
  return fn;
}

// Binary values: standard base64; Buffer.from accepts input with or without
// '=' padding, and toString('base64') writes it padded. (Inside the atproto
// JSON form, {"$bytes": ...} is written WITHOUT padding.)
export const fromBase64 = (text) => Buffer.from(text, 'base64');
export const toBase64 = (bytes) => Buffer.from(bytes).toString('base64');

// The request body as a value. See "Numbers" above.
export function parseJson(text) {
  return JSON.parse(text);
}

// Operations: each takes the request object and returns the answer object
// (or a promise of it). Rejecting an input is a normal answer ({valid: false}
// or {ok: false, error: '...'}), never an exception: catch your library's
// "invalid input" errors and return the verdict.
export const operations = {
  // {type, value} -> {valid}; throw Unsupported for a type you lack.
  // PLUG IN: (req) => ({ valid: mylib.isValid(req.type, req.value) })
  'syntax/validate': unsupported((req) => {
    throw new Unsupported(req.type);
  }),
  // {json: <atproto JSON form>} -> {ok: true, cbor: <base64>, cid} or {ok: false, error}
  'data/encode': unsupported(() => {
    throw new Unsupported();
  }),
  // {cbor: <base64>} -> {ok: true, json: <atproto JSON form>, cid} or {ok: false, error}
  'data/decode': unsupported(() => {
    throw new Unsupported();
  }),
  // {publicKey, message: <base64>, signature: <base64>} -> {valid}
  'crypto/verify': unsupported(() => {
    throw new Unsupported();
  }),
  // {didKey} -> {ok: true, algorithm: 'ES256' | 'ES256K', publicKeyMultibase} or {ok: false, error}
  'crypto/parse-key': unsupported(() => {
    throw new Unsupported();
  }),
  // {key} -> {height}
  'mst/key-height': unsupported(() => {
    throw new Unsupported();
  }),
  // {entries: [{key, cid}]} -> {ok: true, root} or {ok: false, error}
  'mst/root': unsupported(() => {
    throw new Unsupported();
  }),
  // {keys, leafValue, adds, dels} -> {rootBeforeCommit, rootAfterCommit, blocksInProof}
  'mst/proof': unsupported(() => {
    throw new Unsupported();
  }),
  // {car: <base64>} -> {ok: true, roots, blocks: [{cid, data: <base64>}]} or {ok: false, error}
  'car/read': unsupported(() => {
    throw new Unsupported();
  }),
  // {car: <base64>, did, publicKey} -> {ok: true, rev, data, records: [{path, cid}]} or {ok: false, error}
  'repo/verify': unsupported(() => {
    throw new Unsupported();
  }),
  // {lexicon} -> {valid, error?}
  'lexicon/validate-schema': unsupported(() => {
    throw new Unsupported();
  }),
  // {lexicons, record} -> {valid, error?}
  'lexicon/validate-record': unsupported(() => {
    throw new Unsupported();
  }),
  // {lexicons, nsid, query} -> {valid, error?}
  'lexicon/validate-params': unsupported(() => {
    throw new Unsupported();
  }),
  // {did, log} -> {valid, document?, tombstoned?, error?}
  'plc/validate-log': unsupported(() => {
    throw new Unsupported();
  }),
};

export function capabilities() {
  return {
    name: library.name,
    version: library.version,
    operations: Object.keys(operations).filter((op) => !operations[op].unsupported),
  };
}

// ---------------------------------------------------------------------------
// HTTP plumbing; nothing to change below.

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function handle(req, res) {
  const path = new URL(req.url, 'http://adapter').pathname;
  if (req.method === 'GET' && path === '/v0/capabilities') return send(res, 200, capabilities());
  const op = path.startsWith('/v0/') ? path.slice(4) : '';
  if (req.method !== 'POST' || !Object.hasOwn(operations, op)) {
    return send(res, 404, { error: `unknown operation ${path}` });
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let request;
  try {
    request = parseJson(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return send(res, 400, { error: 'the request body is not JSON' });
  }
  try {
    send(res, 200, await operations[op](request));
  } catch (e) {
    if (e instanceof Unsupported) {
      send(res, 501, { error: `not supported by ${library.name}: ${e.message}` });
    } else {
      // A bug in the adapter or the library: the runner reports it.
      send(res, 500, { error: String(e && e.stack ? e.stack : e) });
    }
  }
}

export function main(argv = process.argv.slice(2)) {
  const at = argv.indexOf('--port');
  const port = at >= 0 ? Number(argv[at + 1]) : 0;
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => send(res, 500, { error: String(e) }));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  });
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
