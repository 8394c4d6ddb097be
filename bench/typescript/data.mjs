// The TypeScript side of bench-data (bench/data_bench.cpp): the official
// @atproto/lex-json, lex-cbor, lex-data and repo packages doing the same work
// on the inputs bench-data wrote to DIR.
// Usage: node data.mjs DIR

import fs from 'node:fs';
import path from 'node:path';

import { encode, decode } from '@atproto/lex-cbor';
import { cidForCbor } from '@atproto/lex-data';
import { jsonToLex } from '@atproto/lex-json';
import { readCar } from '@atproto/repo';

import { measure } from './bench.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node data.mjs DIR');
  process.exit(2);
}
const readJson = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));

async function benchRecord(name, what, json) {
  const value = jsonToLex(json, { strict: true });
  const bytes = encode(value);
  const cid = (await cidForCbor(bytes)).toString();
  const size = `(${bytes.length} B)`;
  await measure({ id: `data.encode.${name}`, what: `encode ${what} ${size}`, bytes: bytes.length },
    cid, () => { encode(value); });
  const recheck = (await cidForCbor(encode(decode(bytes)))).toString();
  await measure({ id: `data.decode.${name}`, what: `decode ${what} ${size}`, bytes: bytes.length },
    recheck, () => { decode(bytes); });
  // The C++ side also decodes to a view (data.decode.<name>-view); the
  // official decoder has one form, measured again beside it.
  await measure({ id: `data.decode.${name}-view`, what: `decode ${what} ${size}`, bytes: bytes.length },
    recheck, () => { decode(bytes); });
}

await benchRecord('post', 'post record', readJson('post.json'));
await benchRecord('large', '~1 MB nested record', readJson('large.json'));

{
  const bytes = encode(jsonToLex(readJson('post.json'), { strict: true }));
  const cid = (await cidForCbor(bytes)).toString();
  await measure({ id: 'data.cid.post', what: 'CID of post bytes', bytes: bytes.length }, cid,
    () => cidForCbor(bytes));
}
{
  const car = new Uint8Array(fs.readFileSync(path.join(dir, 'blocks.car')));
  // readCar verifies every block's CID against its bytes by default, as ours does.
  const read = await readCar(car);
  const check = `${read.blocks.size} blocks, root ${read.roots[0].toString()}`;
  await measure({ id: 'car.read.10k', what: 'read + verify 10,000-block CAR', bytes: car.length },
    check, () => readCar(car));
}
