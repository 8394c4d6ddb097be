// The TypeScript side of bench-plc (bench/plc_bench.cpp): @did-plc/lib
// validating the 100-operation logs bench-plc wrote to DIR/plc.json with
// validateOperationLog (its check of a log without forks).
// Usage: node plc.mjs DIR

import fs from 'node:fs';
import path from 'node:path';

import { validateOperationLog } from '@did-plc/lib';

import { measure } from './bench.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node plc.mjs DIR');
  process.exit(2);
}
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'plc.json'), 'utf8'));

for (const curve of ['k256', 'p256']) {
  const { did, log } = inputs[curve];
  const bytes = JSON.stringify(log).length;
  const ops = log.map((entry) => entry.operation);
  let check;
  try {
    const data = await validateOperationLog(did, ops);
    check = `valid ${data.alsoKnownAs[0]}`;
  } catch (err) {
    check = `invalid: ${err?.message ?? err}`;
  }
  await measure({ id: `plc.validate-log.100.${curve}`,
    what: `validate a 100-operation audit log, ${curve} signatures`, bytes },
  check, () => validateOperationLog(did, log.map((entry) => entry.operation)));
}
