// Shared smoke suite (node:test) for the adapters in the sibling folders:
// starts an adapter's server.mjs on a free port, sends a few requests over
// 127.0.0.1 and checks the answers. Node built-ins only.
//
// An adapter's smoke_test.mjs calls smokeTest() once at top level, which
// registers the tests with node:test; run it there with
// `node --test smoke_test.mjs` (needs node_modules: ./run.sh or npm ci first).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// [type, value, verdict] for one valid and one invalid value of each protocol
// type, on which the wrapped implementations agree with the spec.
export const COMMON_VERDICTS = Object.freeze([
  ['handle', 'jay.bsky.social', true],
  ['handle', 'john.0', false],
  ['did', 'did:plc:z72i7hdynmk6r22z27h6tvur', true],
  ['did', 'did:METHOD:val', false],
  ['nsid', 'com.example.fooBar', true],
  ['nsid', 'com.example', false],
  ['at-uri', 'at://did:plc:asdf123/com.example.record/3jzfcijpj2z2a', true],
  ['at-uri', 'https://example.com', false],
  ['tid', '3jzfcijpj2z2a', true],
  ['tid', '3jzfcijpj2z2aa', false],
  ['record-key', 'self', true],
  ['record-key', '..', false],
  ['datetime', '1985-04-12T23:20:50.123Z', true],
  ['datetime', '1985-04-12', false],
  ['language', 'pt-BR', true],
  ['language', 'pt_BR', false],
  ['cid', 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a', true],
  ['cid', 'not-a-cid', false],
  ['at-identifier', 'did:web:example.com', true],
  ['at-identifier', 'not an identifier', false],
  ['uri', 'https://example.com/path?q=1', true],
  ['uri', 'no scheme here', false],
]);

// Registers the smoke tests of one adapter.
//   folder:   URL of the adapter's folder (its server.mjs is started), e.g.
//             new URL('.', import.meta.url) from the adapter's smoke_test.mjs;
//   name:     the `name` its capabilities must report;
//   verdicts: [type, value, expected verdict] triples, e.g. COMMON_VERDICTS.
export function smokeTest({ folder, name, verdicts }) {
  const server = fileURLToPath(new URL('server.mjs', folder));

  let child;
  let base;

  before(async () => {
    child = spawn(process.execPath, [server, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout });
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => line),
      once(child, 'exit').then(([code]) => {
        throw new Error(`adapter exited early with code ${code}`);
      }),
    ]);
    const match = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(first);
    assert.ok(match, `unexpected first line: ${first}`);
    assert.notEqual(Number(match[2]), 0);
    base = match[1];
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  async function post(path, body) {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  async function validate(type, value) {
    const { status, body } = await post('/v0/syntax/validate', { type, value });
    assert.equal(status, 200, `${type} ${JSON.stringify(value)} -> HTTP ${status}`);
    return body.valid;
  }

  test('capabilities', async () => {
    const res = await fetch(base + '/v0/capabilities');
    assert.equal(res.status, 200);
    const caps = await res.json();
    assert.equal(caps.name, name);
    assert.match(caps.version, /^\d+\.\d+\.\d+/);
    // Each adapter offers its own set; these every adapter here answers.
    for (const op of ['syntax/validate', 'data/encode', 'data/decode', 'crypto/verify']) {
      assert.ok(caps.operations.includes(op), `${op} missing from ${caps.operations}`);
    }
    assert.equal(new Set(caps.operations).size, caps.operations.length);
  });

  test('verdicts', async () => {
    for (const [type, value, expected] of verdicts) {
      assert.equal(await validate(type, value), expected, `${type} ${JSON.stringify(value)}`);
    }
  });

  test('concurrent requests', async () => {
    const values = Array.from({ length: 50 }, (_, i) => (i % 2 ? `h${i}.example.com` : `h${i}.0`));
    const results = await Promise.all(values.map((v) => validate('handle', v)));
    assert.deepEqual(results, values.map((_, i) => i % 2 === 1));
  });

  // One valid encode, one invalid encode and one decode, on which the wrapped
  // implementations agree with the spec.
  test('data/encode and data/decode', async () => {
    const link = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
    let r = await post('/v0/data/encode', { json: { a: 1, b: { $link: link }, c: { $bytes: 'AQID' } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      ok: true,
      cbor: 'o2FhAWFi2CpYJQABcRIgZQYqWloA/BbXPGlEI3zLwVscSnI0SJM2iR0JF0GiOdBhY0MBAgM=',
      cid: 'bafyreianofoobnekmlcypcaspdnx4rib6ix6uzxbhv2tfgmap7avgmznfm',
    });
    r = await post('/v0/data/encode', { json: { l: { $link: 'not-a-cid' } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, false);
    assert.equal(typeof r.body.error, 'string');
    r = await post('/v0/data/decode', { cbor: 'oWFhAQ' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      ok: true,
      json: { a: 1 },
      cid: 'bafyreihltcnuuyqp2jm24aqydpnlj7b6w3ogwrplomrjtg5rifv44mmjey',
    });
  });

  // A K-256 signature from vectors/crypto/verify.json (k256-key-a-hello), and its
  // high-S twin, which atproto rejects; and the K-256 example of the spec page.
  test('crypto/verify and crypto/parse-key', async () => {
    const publicKey = 'did:key:zQ3shZp3Nz5QmNVhz7KTmwJbcMiehBSsceu2jQxjZXkaRd48m';
    const message = 'aGVsbG8gYXRwcm90bw==';
    const low = 'hyLbw679hXJA1dCWLogCc5aLlVUH1s29NQu9mHSzo4ddom2e4kZkFbubVRUkEvqpDawscL19Itj0hFJD7d4Ujw==';
    const high = 'hyLbw679hXJA1dCWLogCc5aLlVUH1s29NQu9mHSzo4eiXZJhHbmb6kRkqurb7QVVrQKwdfHLfWLLTgxI4lgssg==';
    let r = await post('/v0/crypto/verify', { publicKey, message, signature: low });
    assert.equal(r.status, 200);
    assert.equal(r.body.valid, true);
    r = await post('/v0/crypto/verify', { publicKey, message, signature: high });
    assert.equal(r.status, 200);
    assert.equal(r.body.valid, false);
    const didKey = 'did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc';
    r = await post('/v0/crypto/parse-key', { didKey });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true, algorithm: 'ES256K', publicKeyMultibase: didKey.slice(8) });
  });

  test('unknown operation is 404', async () => {
    const { status } = await post('/v0/no-such/operation', {});
    assert.equal(status, 404);
  });

  test('malformed JSON is 400', async () => {
    const { status } = await post('/v0/syntax/validate', '{"type": "handle", ');
    assert.equal(status, 400);
  });

  test('unsupported type is 501', async () => {
    const { status, body } = await post('/v0/syntax/validate', { type: 'no-such-type', value: 'x' });
    assert.equal(status, 501);
    assert.deepEqual(body, { error: 'unsupported type' });
  });
}
