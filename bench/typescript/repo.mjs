// The TypeScript side of bench-repo (bench/repo_bench.cpp): @atproto/repo
// building the same 100,000-record repository in memory (Repo.create with
// the records as initial writes), 1,000 single-record commits on top
// (applyWrites), a full export (getFullRepo), and verifying the C++ side's
// export DIR/repo.car (verifyRepoCar). Same records, keys and signing key,
// so the MST roots printed as `check` must agree.
// Usage: node repo.mjs DIR

import fs from 'node:fs';
import path from 'node:path';

import { Secp256k1Keypair } from '@atproto/crypto';
import { getFullRepo, MemoryBlockstore, Repo, verifyRepoCar, WriteOpAction } from '@atproto/repo';

import { reportOnce, selected } from './bench.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node repo.mjs DIR');
  process.exit(2);
}

const RECORDS = 100_000;
const COMMITS = 1_000;
const DID = 'did:plc:benchbenchbenchbenchbenc';
const KEY_HEX = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const BASE_MICROS = 1_700_000_000_000_000n;
const S32 = '234567abcdefghijklmnopqrstuvwxyz';

// A TID: 13 base32-sortable characters of (timestamp << 10 | clock id 0).
function tid(micros) {
  let n = micros << 10n;
  let out = '';
  for (let i = 0; i < 13; i++) {
    out = S32[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}
const rkey = (i) => tid(BASE_MICROS + BigInt(i) * 1000n);
const post = (i) => ({
  $type: 'app.bsky.feed.post',
  text: `bench post number ${i}`,
  createdAt: '2023-11-14T22:13:20.000Z',
});
const create = (i) => ({
  action: WriteOpAction.Create,
  collection: 'app.bsky.feed.post',
  rkey: rkey(i),
  record: post(i),
});
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const now = () => performance.now() / 1000;

const keypair = await Secp256k1Keypair.import(KEY_HEX);
const storage = new MemoryBlockstore();

let start = now();
const writes = [];
for (let i = 0; i < RECORDS; i++) writes.push(create(i));
let repo = await Repo.create(storage, DID, keypair, writes);
writes.length = 0;
reportOnce({ id: 'repo.build.100k', what: 'build a 100,000-record repository' },
  repo.data.pointer.toString(), now() - start, { peak_rss_mb: peakRssMb() });

if (selected('repo.commit') || selected('repo.export') || selected('repo.import')) {
  start = now();
  for (let i = 0; i < COMMITS; i++) repo = await repo.applyWrites(create(RECORDS + i), keypair);
  const root = (await repo.data.getPointer()).toString();
  reportOnce({ id: 'repo.commit.1000', what: '1,000 single-record commits on top' }, root,
    now() - start);

  start = now();
  const chunks = [];
  for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk);
  const car = Buffer.concat(chunks);
  reportOnce({ id: 'repo.export', what: 'export the 101,000-record repository as a CAR',
    bytes: car.length }, root, now() - start);
}

const cppCar = new Uint8Array(fs.readFileSync(path.join(dir, 'repo.car')));
start = now();
const verified = await verifyRepoCar(cppCar, DID, keypair.did());
const data = (await repo.data.getPointer()).toString();
reportOnce({ id: 'repo.import-verify', what: 'import and verify that CAR', bytes: cppCar.length },
  `${data} ${verified.creates.length}`, now() - start, { peak_rss_mb: peakRssMb() });
