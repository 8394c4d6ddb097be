// The TypeScript side of bench-crypto (bench/crypto_bench.cpp): @atproto/crypto
// signing and verifying with the keys, message and signatures bench-crypto
// wrote to DIR/crypto.json.
// Usage: node crypto.mjs DIR

import fs from 'node:fs';
import path from 'node:path';

import { P256Keypair, Secp256k1Keypair, verifySignature } from '@atproto/crypto';

import { measure } from './bench.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node crypto.mjs DIR');
  process.exit(2);
}
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'crypto.json'), 'utf8'));
const fromHex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');
const message = fromHex(inputs.message_hex);

const keypairs = {
  k256: await Secp256k1Keypair.import(fromHex(inputs.k256.private_key_hex)),
  p256: await P256Keypair.import(fromHex(inputs.p256.private_key_hex)),
};

for (const name of ['k256', 'p256']) {
  const keypair = keypairs[name];
  const did = inputs[name].did_key;
  if (keypair.did() !== did) throw new Error(`${name}: did:key differs: ${keypair.did()} vs ${did}`);
  const sig = await keypair.sign(message);
  // K-256: RFC 6979 on both sides, so the bytes must agree; P-256: they must verify.
  const check = name === 'k256' ? toHex(sig)
    : ((await verifySignature(did, message, sig)) ? 'verifies' : 'BAD');
  await measure({ id: `crypto.sign.${name}`, what: `sign 200 B, ${name}`, bytes: message.length },
    check, () => keypair.sign(message));
}
for (const name of ['k256', 'p256']) {
  const did = inputs[name].did_key;
  const sig = fromHex(inputs[name].signature_hex);
  const check = (await verifySignature(did, message, sig)) ? 'valid' : 'invalid';
  await measure({ id: `crypto.verify.${name}`, what: `verify 200 B from did:key, ${name}`,
    bytes: message.length }, check, () => verifySignature(did, message, sig));
}
