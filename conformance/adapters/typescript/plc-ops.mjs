// plc/validate-log for the TypeScript adapter, with @did-plc/lib (the
// library of the official PLC directory). The library has no audit-log
// validator: validateOperationLog checks a chain without forks, and the
// directory admits each submitted operation with assureValidNextOp, which
// applies the recovery rules (higher-priority key, 72 hours measured with
// Date.now()). So the adapter replays the log the way the directory built
// it: each entry is submitted with assureValidNextOp against the operations
// still in effect, with Date.now() set to the entry's createdAt; the
// operations it nullifies are dropped. The log is valid when every entry is
// admitted and the nullified flags it carries are the ones the replay gives;
// the document is formatDidDoc(opToData(...)) of the last operation in effect.
// A tombstone there gives none (opToData is null): the log is valid and the
// DID deactivated, answered {valid: true, tombstoned: true} with no document
// (plc.tombstoned). A throw means invalid. The entries' did
// and cid fields are not read: the library computes CIDs itself
// (getLastOpWithCid) and has no notion of an audit-log entry.
import { assureValidNextOp, formatDidDoc, getLastOpWithCid, opToData } from '@did-plc/lib';

import { HttpError, readJsonObject, sendJson } from '../common/adapter-server.mjs';

async function replay(did, log) {
  if (!Array.isArray(log)) throw new Error('the log is not an array');
  let inEffect = [];
  const nullified = new Set();
  const cids = [];
  const realNow = Date.now;
  try {
    for (const entry of log) {
      const at = new Date(entry.createdAt);
      Date.now = () => at.getTime();
      const result = await assureValidNextOp(did, inEffect, entry.operation);
      const gone = new Set(result.nullified.map((cid) => cid.toString()));
      for (const op of inEffect) {
        if (gone.has(op.cid.toString())) nullified.add(op.cid.toString());
      }
      inEffect = inEffect.filter((op) => !gone.has(op.cid.toString()));
      const { cid } = await getLastOpWithCid([entry.operation]);
      cids.push(cid.toString());
      inEffect.push({ did, operation: entry.operation, cid, nullified: false, createdAt: at });
    }
  } finally {
    Date.now = realNow;
  }
  log.forEach((entry, i) => {
    if (entry.nullified !== nullified.has(cids[i])) {
      throw new Error(`entry ${i}: its nullified flag is not what the recovery rules give`);
    }
  });
  if (inEffect.length === 0) throw new Error('empty log');
  const data = opToData(did, inEffect[inEffect.length - 1].operation);
  if (data === null) return { valid: true, tombstoned: true };
  return { valid: true, document: formatDidDoc(data) };
}

async function validateLog(req, res) {
  const body = await readJsonObject(req);
  if (typeof body.did !== 'string' || !('log' in body)) {
    throw new HttpError(400, 'needs a string "did" and a "log"');
  }
  try {
    sendJson(res, 200, await replay(body.did, body.log));
  } catch (err) {
    sendJson(res, 200, { valid: false, error: String(err?.message ?? err) });
  }
}

export function plcOperations() {
  return { 'plc/validate-log': validateLog };
}
