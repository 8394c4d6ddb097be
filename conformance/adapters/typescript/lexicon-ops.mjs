// lexicon/validate-schema and lexicon/validate-record for the TypeScript
// adapter, with @atproto/lexicon: a document is valid when parseLexiconDoc
// accepts it (the library's zod schema for Lexicon documents; Lexicons.add
// itself does not check); a record is valid when
// assertValidRecord accepts it, after the library's own jsonToLex turns the
// atproto JSON into its values (CIDs, BlobRefs, bytes). A throw means
// "invalid". lexicon/validate-params is not offered: the library checks
// already-decoded parameters, and decoding query text belongs to
// @atproto/xrpc-server.
import { Lexicons, jsonToLex, parseLexiconDoc } from '@atproto/lexicon';

import { HttpError, readJsonObject, sendJson } from '../common/adapter-server.mjs';

function invalid(err) {
  return { valid: false, error: String(err?.message ?? err) };
}

async function validateSchema(req, res) {
  const body = await readJsonObject(req);
  if (!('lexicon' in body)) throw new HttpError(400, 'needs a "lexicon" field');
  try {
    parseLexiconDoc(body.lexicon);
    sendJson(res, 200, { valid: true });
  } catch (err) {
    sendJson(res, 200, invalid(err));
  }
}

async function validateRecord(req, res) {
  const body = await readJsonObject(req);
  if (!Array.isArray(body.lexicons) || !('record' in body)) {
    throw new HttpError(400, 'needs "lexicons" (array) and "record"');
  }
  let lexicons;
  try {
    lexicons = new Lexicons(body.lexicons);
  } catch (err) {
    throw new HttpError(400, `a Lexicon does not load: ${err?.message ?? err}`);
  }
  try {
    const record = body.record;
    const type = record && typeof record === 'object' ? record.$type : undefined;
    if (typeof type !== 'string') throw new Error('record has no $type string');
    lexicons.assertValidRecord(type, jsonToLex(record));
    sendJson(res, 200, { valid: true });
  } catch (err) {
    sendJson(res, 200, invalid(err));
  }
}

export function lexiconOperations() {
  return {
    'lexicon/validate-schema': validateSchema,
    'lexicon/validate-record': validateRecord,
  };
}
