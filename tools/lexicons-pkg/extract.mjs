// Writes the Lexicon documents bundled in the pinned @atproto/api package
// as one JSON file per NSID (a.b.c.d -> a/b/c/d.json) under the folder given
// on the command line. Run by tools/fetch-lexicons after `npm ci`.
//
// The bundle is generated code: every reference in it was rewritten to a
// fully qualified `lex:<nsid>#<name>` form. We undo that so each file reads
// like its published source: the `lex:` prefix is dropped, a reference to a
// def of the same document becomes the local `#name` form, and `#main` is
// left out.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { schemas } from '@atproto/api'

const out = process.argv[2]
if (!out) {
  console.error('usage: node extract.mjs OUTPUT_DIR')
  process.exit(2)
}

function unprefix(ref, docId) {
  if (typeof ref !== 'string' || !ref.startsWith('lex:')) return ref
  let r = ref.slice(4)
  const hash = r.indexOf('#')
  const nsid = hash < 0 ? r : r.slice(0, hash)
  const name = hash < 0 ? 'main' : r.slice(hash + 1)
  if (nsid === docId) return '#' + name
  return name === 'main' ? nsid : `${nsid}#${name}`
}

// Copies a JSON value, rewriting `ref` strings and `refs` arrays.
function restore(value, docId) {
  if (Array.isArray(value)) return value.map((v) => restore(v, docId))
  if (value === null || typeof value !== 'object') return value
  const copy = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === 'ref' && typeof v === 'string') copy[key] = unprefix(v, docId)
    else if (key === 'refs' && Array.isArray(v)) copy[key] = v.map((r) => unprefix(r, docId))
    else copy[key] = restore(v, docId)
  }
  return copy
}

let count = 0
for (const doc of schemas) {
  const file = join(out, ...doc.id.split('.')) + '.json'
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, JSON.stringify(restore(doc, doc.id), null, 2) + '\n')
  count += 1
}
console.log(`extracted ${count} lexicons into ${out}`)
