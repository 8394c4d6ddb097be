// mst/key-height, mst/root, mst/proof and repo/verify for the TypeScript
// adapter, with @atproto/repo: mstUtil.leadingZerosOnHash, MST.create + add,
// MST.getCoveringProof (the union over the changed keys, as the official
// commit-proof fixtures are checked), and verifyRepoCar (signature, DID,
// and every record block of the tree). A throw means "rejected".
import { MemoryBlockstore, MST, mstUtil, readCarWithRoot, verifyRepoCar } from '@atproto/repo';
import { decode as cborDecode } from '@atproto/lex-cbor';
import { CID } from '@atproto/lex-data';

import { HttpError, readJsonObject, sendJson } from '../common/adapter-server.mjs';

function failure(err) {
  return { ok: false, error: String(err?.message ?? err) };
}

function stringArray(body, field) {
  const value = body[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new HttpError(400, `"${field}" must be an array of strings`);
  }
  return value;
}

async function keyHeight(req, res) {
  const body = await readJsonObject(req);
  if (typeof body.key !== 'string') throw new HttpError(400, '"key" must be a string');
  sendJson(res, 200, { height: await mstUtil.leadingZerosOnHash(body.key) });
}

async function mstRoot(req, res) {
  const body = await readJsonObject(req);
  if (!Array.isArray(body.entries)) throw new HttpError(400, '"entries" must be an array');
  let answer;
  try {
    let mst = await MST.create(new MemoryBlockstore());
    for (const entry of body.entries) {
      mst = await mst.add(entry.key, CID.parse(entry.cid));
    }
    answer = { ok: true, root: (await mst.getPointer()).toString() };
  } catch (err) {
    answer = failure(err);
  }
  sendJson(res, 200, answer);
}

async function mstProof(req, res) {
  const body = await readJsonObject(req);
  const keys = stringArray(body, 'keys');
  const adds = stringArray(body, 'adds');
  const dels = stringArray(body, 'dels');
  if (typeof body.leafValue !== 'string') throw new HttpError(400, '"leafValue" must be a string');
  const leaf = CID.parse(body.leafValue);
  let mst = await MST.create(new MemoryBlockstore());
  for (const key of keys) mst = await mst.add(key, leaf);
  const rootBeforeCommit = (await mst.getPointer()).toString();
  for (const key of adds) mst = await mst.add(key, leaf);
  for (const key of dels) mst = await mst.delete(key);
  const rootAfterCommit = (await mst.getPointer()).toString();
  const blocksInProof = [];
  for (const key of [...adds, ...dels]) {
    const proof = await mst.getCoveringProof(key);
    for (const cid of proof.cids()) {
      const text = cid.toString();
      if (!blocksInProof.includes(text)) blocksInProof.push(text);
    }
  }
  sendJson(res, 200, { rootBeforeCommit, rootAfterCommit, blocksInProof });
}

async function repoVerify(req, res) {
  const body = await readJsonObject(req);
  for (const field of ['car', 'did', 'publicKey']) {
    if (typeof body[field] !== 'string') throw new HttpError(400, `"${field}" must be a string`);
  }
  const bytes = new Uint8Array(Buffer.from(body.car, 'base64'));
  let answer;
  try {
    const verified = await verifyRepoCar(bytes, body.did, body.publicKey);
    const car = await readCarWithRoot(bytes);
    const commit = cborDecode(car.blocks.get(car.root));
    const records = verified.creates
      .map((c) => ({ path: `${c.collection}/${c.rkey}`, cid: c.cid.toString() }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    answer = { ok: true, rev: verified.commit.rev, data: commit.data.toString(), records };
  } catch (err) {
    answer = failure(err);
  }
  sendJson(res, 200, answer);
}

export function repoOperations() {
  return {
    'mst/key-height': keyHeight,
    'mst/root': mstRoot,
    'mst/proof': mstProof,
    'repo/verify': repoVerify,
  };
}
