// Conformance adapter (protocol version 0) for the independent @atcute
// implementation of atproto: the syntax validators of @atcute/lexicons
// (module "@atcute/lexicons/syntax") for `syntax/validate`; @atcute/cbor
// (DAG-CBOR straight from/to the atproto JSON form) and @atcute/cid (CIDs) for
// `data/encode` and `data/decode`; @atcute/car's reader for `car/read`;
// @atcute/crypto for `crypto/verify` and `crypto/parse-key`.
//
// Protocol: ../../../docs/adapter-protocol.md (the contract every
// adapter follows). Only `syntax/validate`, `data/encode`,
// `data/decode`, `car/read`, `crypto/verify` and `crypto/parse-key` are implemented here; every other operation
// answers 404, which the runner reports as "skipped".
// The HTTP plumbing is shared with the other adapters: ../common/adapter-server.mjs.
//
// Start: ./run.sh [--port N]   (or: node server.mjs [--port N]; env PORT works too)
// Prints exactly one line `listening on http://127.0.0.1:<port>` once ready.

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

import { encode as cborEncode, decode as cborDecode } from '@atcute/cbor';
import * as CID from '@atcute/cid';
import { fromUint8Array as readCar } from '@atcute/car';
import { parseDidKey, verifySigWithDidKey } from '@atcute/crypto';
import { toBase58Btc } from '@atcute/multibase';

import {
  HttpError,
  carOperations,
  dataOperations,
  installedVersion,
  isPlainObject,
  readJsonObject,
  sendJson,
  serveAdapter,
  syntaxValidate,
} from '../common/adapter-server.mjs';

// Version of the wrapped package, read from its installed package.json (not
// from our own package.json), so capabilities report what actually runs.
const LEXICONS_VERSION = installedVersion(import.meta.resolve, '@atcute/lexicons');
const CBOR_VERSION = installedVersion(import.meta.resolve, '@atcute/cbor');
const CID_VERSION = installedVersion(import.meta.resolve, '@atcute/cid');
const CAR_VERSION = installedVersion(import.meta.resolve, '@atcute/car');
const CRYPTO_VERSION = installedVersion(import.meta.resolve, '@atcute/crypto');

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
// data/encode and data/decode. @atcute/cbor encodes the atproto JSON form
// directly ({"$link"} and {"$bytes"} objects become tag 42 and byte strings)
// and decodes to the same form (CidLinkWrapper / BytesWrapper, whose toJSON
// gives {"$link"} / {"$bytes"}). Its checks are the only ones applied: the
// adapter adds just the top-level-object check and the JSON round trip of the
// decoded value. The top-level check looks at what atcute makes of the value:
// the block must be a CBOR map (major type 5), so a top-level {"$link"} or
// {"$bytes"} that atcute turns into a link or a byte string is not an object.
// Whatever atcute accepts is reported as accepted.

function requireMap(cbor) {
  if (cbor.length === 0 || cbor[0] >> 5 !== 5) throw new Error('top-level value is not an object');
}

async function encode(json) {
  if (!isPlainObject(json)) throw new Error('top-level value is not an object');
  const cbor = cborEncode(json);
  requireMap(cbor);
  const cid = await CID.create(CID.CODEC_DCBOR, cbor);
  return { cbor, cid: CID.toString(cid) };
}

async function decode(bytes) {
  const value = cborDecode(bytes);
  requireMap(bytes);
  const cid = await CID.create(CID.CODEC_DCBOR, bytes);
  return { json: JSON.parse(JSON.stringify(value)), cid: CID.toString(cid) };
}

// car/read: @atcute/car's in-memory reader, as it comes. It checks framing
// and that every block CID is blessed; it does not hash the blocks (whoever
// needs that verifies them), which the runner reports.
function readCarFile(bytes) {
  const car = readCar(bytes);
  const blocks = [];
  for (const { cid, bytes: data } of car) blocks.push({ cid: CID.toString(cid), bytes: data });
  return { roots: car.roots.map((root) => root.$link), blocks };
}

// ---------------------------------------------------------------------------
// crypto/verify: verifySigWithDidKey (strict by default: 64-byte signatures,
// low-S). crypto/parse-key: parseDidKey, whose publicKeyBytes are written back
// as a multikey with the same multicodec. A bare multikey publicKey gets the
// did:key: prefix the library takes. A throw means invalid.

const MULTICODEC = { secp256k1: [0xe7, 0x01], p256: [0x80, 0x24] };

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
    const valid = (await verifySigWithDidKey(didKey, signature, message)) === true;
    sendJson(res, 200, { valid });
  } catch (err) {
    sendJson(res, 200, { valid: false, error: String(err?.message ?? err) });
  }
}

async function cryptoParseKey(req, res) {
  const body = await readJsonObject(req);
  if (typeof body.didKey !== 'string') throw new HttpError(400, '"didKey" must be a string');
  try {
    const key = parseDidKey(body.didKey);
    const prefixed = new Uint8Array([...MULTICODEC[key.type], ...key.publicKeyBytes]);
    sendJson(res, 200, { ok: true, algorithm: key.jwtAlg, publicKeyMultibase: `z${toBase58Btc(prefixed)}` });
  } catch (err) {
    sendJson(res, 200, { ok: false, error: String(err?.message ?? err) });
  }
}

serveAdapter({
  name: 'atcute',
  version: LEXICONS_VERSION,
  packages: {
    '@atcute/lexicons': LEXICONS_VERSION,
    '@atcute/cbor': CBOR_VERSION,
    '@atcute/cid': CID_VERSION,
    '@atcute/car': CAR_VERSION,
    '@atcute/crypto': CRYPTO_VERSION,
  },
  operations: {
    'syntax/validate': syntaxValidate(VALIDATORS),
    ...dataOperations({ encode, decode }),
    ...carOperations({ read: readCarFile }),
    'crypto/verify': cryptoVerify,
    'crypto/parse-key': cryptoParseKey,
  },
});
