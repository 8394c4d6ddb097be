// The TypeScript side of bench-lexicon (bench/lexicon_bench.cpp): the
// official @atproto/lexicon validating the same app.bsky.feed.post against
// the same official Lexicon documents, which bench-lexicon wrote to DIR.
// Usage: node lexicon.mjs DIR

import fs from 'node:fs';
import path from 'node:path';

import { Lexicons, jsonToLex } from '@atproto/lexicon';

import { measure } from './bench.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node lexicon.mjs DIR');
  process.exit(2);
}
const readJson = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));

const lexicons = new Lexicons(readJson('lexicons.json'));
const post = readJson('post.json');
const bytes = Buffer.byteLength(JSON.stringify(post));
const value = jsonToLex(post);
lexicons.assertValidRecord('app.bsky.feed.post', value);

await measure({ id: 'lexicon.validate.post', what: 'validate app.bsky.feed.post', bytes },
  'valid', () => { lexicons.assertValidRecord('app.bsky.feed.post', value); });

await measure({ id: 'lexicon.validate.post-json', what: 'jsonToLex + validate', bytes },
  'valid', () => { lexicons.assertValidRecord('app.bsky.feed.post', jsonToLex(post)); });

const bad = structuredClone(post);
bad.embed.images[1].alt = 5;
const badValue = jsonToLex(bad);
await measure({ id: 'lexicon.validate.post-invalid', what: 'reject a bad image alt', bytes },
  'invalid', () => {
    try {
      lexicons.assertValidRecord('app.bsky.feed.post', badValue);
    } catch {
      return;
    }
    throw new Error('the bad post validated');
  });
