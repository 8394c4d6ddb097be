// Conformance adapter (protocol version 0) for the official TypeScript atproto
// implementation: @atproto/syntax, plus @atproto/lexicon for the one string
// format that @atproto/syntax has no validator for (cid), for `syntax/validate`;
// @atproto/lex-json (atproto JSON form <-> data model, strict mode),
// @atproto/lex-cbor (DAG-CBOR) and @atproto/lex-data (CIDs) for `data/encode`
// and `data/decode`; @atproto/repo's readCar (CIDs verified) for `car/read`;
// @did-plc/lib for `plc/validate-log` (plc-ops.mjs).
//
// Protocol: ../../../docs/adapter-protocol.md (the contract every
// adapter follows). Only `syntax/validate`, `data/encode`,
// `data/decode` and `car/read` are implemented here; every other operation
// answers 404, which the runner reports as "skipped".
// The HTTP plumbing is shared with the other adapters: ../common/adapter-server.mjs.
//
// Start: ./run.sh [--port N]   (or: node server.mjs [--port N]; env PORT works too)
// Prints exactly one line `listening on http://127.0.0.1:<port>` once ready.

import {
  ensureValidHandle,
  ensureValidDid,
  ensureValidNsid,
  assertAtUriString,
  ensureValidTid,
  ensureValidRecordKey,
  ensureValidDatetime,
  isValidLanguage,
  ensureValidAtIdentifier,
  isValidUri,
} from '@atproto/syntax';
import { Lexicons } from '@atproto/lexicon';
import { encode as cborEncode, decode as cborDecode } from '@atproto/lex-cbor';
import { cidForCbor } from '@atproto/lex-data';
import { jsonToLex, lexToJson } from '@atproto/lex-json';
import { formatMultikey, parseDidKey, verifySignature } from '@atproto/crypto';
import { readCar } from '@atproto/repo';

import {
  carOperations,
  dataOperations,
  HttpError,
  installedVersion,
  isPlainObject,
  readJsonObject,
  sendJson,
  serveAdapter,
  syntaxValidate,
} from '../common/adapter-server.mjs';
import { repoOperations } from './repo-ops.mjs';
import { lexiconOperations } from './lexicon-ops.mjs';
import { plcOperations } from './plc-ops.mjs';

// Versions of the wrapped packages, read from the installed package.json files
// (not from our own package.json), so capabilities report what actually runs.
const SYNTAX_VERSION = installedVersion(import.meta.resolve, '@atproto/syntax');
const LEXICON_VERSION = installedVersion(import.meta.resolve, '@atproto/lexicon');
const LEX_CBOR_VERSION = installedVersion(import.meta.resolve, '@atproto/lex-cbor');
const LEX_DATA_VERSION = installedVersion(import.meta.resolve, '@atproto/lex-data');
const LEX_JSON_VERSION = installedVersion(import.meta.resolve, '@atproto/lex-json');
const CRYPTO_VERSION = installedVersion(import.meta.resolve, '@atproto/crypto');
const REPO_VERSION = installedVersion(import.meta.resolve, '@atproto/repo');
const PLC_LIB_VERSION = installedVersion(import.meta.resolve, '@did-plc/lib');

// ---------------------------------------------------------------------------
// cid: @atproto/syntax has no CID validator. The official stack checks the
// Lexicon `cid` string format inside @atproto/lexicon (validators/formats.js,
// which parses the string with multiformats' CID.parse). That module is not a
// public export, so we reach it through the public API: a one-field object
// schema whose field has `format: "cid"`, validated with Lexicons#validate.

const FORMAT_LEXICON_ID = 'dev.conformance.adapter.formats';
const lexicons = new Lexicons([
  {
    lexicon: 1,
    id: FORMAT_LEXICON_ID,
    defs: {
      cid: {
        type: 'object',
        required: ['value'],
        properties: { value: { type: 'string', format: 'cid' } },
      },
    },
  },
]);

function validateLexiconFormat(defName, value) {
  const result = lexicons.validate(`${FORMAT_LEXICON_ID}#${defName}`, { value });
  return result.success === true;
}

// ---------------------------------------------------------------------------
// One validator per protocol type. Each returns a boolean; a throw also means
// "invalid" (the ensure*/assert* functions signal failure by throwing).

function fromEnsure(ensureFn) {
  return (value) => {
    ensureFn(value);
    return true;
  };
}

const VALIDATORS = {
  handle: fromEnsure(ensureValidHandle),
  did: fromEnsure(ensureValidDid),
  nsid: fromEnsure(ensureValidNsid),
  // Strict mode (the default of assertAtUriString): no query, no trailing
  // slash, record key must be valid. This is the check @atproto/lexicon uses
  // for the `at-uri` string format. (ensureValidAtUri is the deprecated,
  // non-strict variant.)
  'at-uri': fromEnsure(assertAtUriString),
  tid: fromEnsure(ensureValidTid),
  'record-key': fromEnsure(ensureValidRecordKey),
  // Strict RFC-3339/atproto datetime (alias of assertDatetimeString). The
  // Lexicon format check in @atproto/lexicon is the lenient variant.
  datetime: fromEnsure(ensureValidDatetime),
  // Well-formed BCP 47 (what the Lexicon `language` format uses).
  language: (value) => isValidLanguage(value),
  cid: (value) => validateLexiconFormat('cid', value),
  'at-identifier': fromEnsure(ensureValidAtIdentifier),
  uri: (value) => isValidUri(value),
};

// ---------------------------------------------------------------------------
// data/encode and data/decode. Strict mode is the library's own: jsonToLex
// with { strict: true } rejects non-integer numbers, malformed $link/$bytes,
// a bad $type and malformed blobs; lex-cbor's encode/decode enforce DAG-CBOR.
// The adapter adds only the top-level-object check (on the data-model value,
// so a top-level {"$link"} or {"$bytes"} is not an object). Whatever the
// library accepts is reported as accepted: no extra checks here.

function requireObject(value) {
  if (!isPlainObject(value)) throw new Error('top-level value is not an object');
  return value;
}

async function encode(json) {
  const lex = requireObject(jsonToLex(json, { strict: true }));
  const cbor = cborEncode(lex);
  const cid = await cidForCbor(cbor);
  return { cbor, cid: cid.toString() };
}

async function decode(bytes) {
  const lex = requireObject(cborDecode(bytes));
  const cid = await cidForCbor(bytes);
  return { json: lexToJson(lex), cid: cid.toString() };
}

// ---------------------------------------------------------------------------
// car/read: readCar from @atproto/repo with its defaults (every block's CID is
// verified against its bytes). It returns a BlockMap keyed by CID, so a block
// that appears twice is reported once, in the order of its first appearance;
// the protocol compares block sets as sets, which allows that.

async function readCarFile(bytes) {
  const { roots, blocks } = await readCar(bytes);
  return {
    roots: roots.map((root) => root.toString()),
    blocks: blocks.entries().map(({ cid, bytes: data }) => ({ cid: cid.toString(), bytes: data })),
  };
}

// ---------------------------------------------------------------------------
// crypto/verify and crypto/parse-key: @atproto/crypto's verifySignature (its
// strict default: compact signatures, low-S) and parseDidKey + formatMultikey.
// The protocol's publicKey may be a bare multikey; the adapter prefixes
// "did:key:" since the library only takes did:key. A throw means invalid.

function bytesField(body, field) {
  const text = body[field];
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new HttpError(400, `"${field}" must be a base64 string`);
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
}

async function cryptoVerify(req, res) {
  const body = await readJsonObject(req);
  if (typeof body.publicKey !== 'string') throw new HttpError(400, '"publicKey" must be a string');
  const message = bytesField(body, 'message');
  const signature = bytesField(body, 'signature');
  const didKey = body.publicKey.startsWith('did:') ? body.publicKey : `did:key:${body.publicKey}`;
  try {
    const valid = (await verifySignature(didKey, message, signature)) === true;
    sendJson(res, 200, { valid });
  } catch (err) {
    sendJson(res, 200, { valid: false, error: String(err?.message ?? err) });
  }
}

async function cryptoParseKey(req, res) {
  const body = await readJsonObject(req);
  if (typeof body.didKey !== 'string') throw new HttpError(400, '"didKey" must be a string');
  try {
    const { jwtAlg, keyBytes } = parseDidKey(body.didKey);
    sendJson(res, 200, {
      ok: true,
      algorithm: jwtAlg,
      publicKeyMultibase: formatMultikey(jwtAlg, keyBytes),
    });
  } catch (err) {
    sendJson(res, 200, { ok: false, error: String(err?.message ?? err) });
  }
}

serveAdapter({
  name: 'atproto-typescript',
  version: SYNTAX_VERSION,
  packages: {
    '@atproto/syntax': SYNTAX_VERSION,
    '@atproto/lexicon': LEXICON_VERSION,
    '@atproto/lex-cbor': LEX_CBOR_VERSION,
    '@atproto/lex-data': LEX_DATA_VERSION,
    '@atproto/lex-json': LEX_JSON_VERSION,
    '@atproto/crypto': CRYPTO_VERSION,
    '@atproto/repo': REPO_VERSION,
    '@did-plc/lib': PLC_LIB_VERSION,
  },
  operations: {
    'syntax/validate': syntaxValidate(VALIDATORS),
    ...dataOperations({ encode, decode }),
    ...repoOperations(),
    'crypto/verify': cryptoVerify,
    'crypto/parse-key': cryptoParseKey,
    ...carOperations({ read: readCarFile }),
    ...lexiconOperations(),
    ...plcOperations(),
  },
});
