// Conformance adapter (protocol version 0) for the independent @atcute
// implementation of atproto: the syntax validators of @atcute/lexicons
// (module "@atcute/lexicons/syntax").
//
// Protocol: ../../../../shared/conformance-adapter.md (documented for
// implementers under docs/). Only `syntax/validate` is implemented here; every
// other operation answers 404, which the runner reports as "skipped".
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

import { installedVersion, serveAdapter, syntaxValidate } from '../common/adapter-server.mjs';

// Version of the wrapped package, read from its installed package.json (not
// from our own package.json), so capabilities report what actually runs.
const LEXICONS_VERSION = installedVersion(import.meta.resolve, '@atcute/lexicons');

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

serveAdapter({
  name: 'atcute',
  version: LEXICONS_VERSION,
  packages: {
    '@atcute/lexicons': LEXICONS_VERSION,
  },
  operations: { 'syntax/validate': syntaxValidate(VALIDATORS) },
});
