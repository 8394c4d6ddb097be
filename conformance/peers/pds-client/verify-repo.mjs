// Fetches accounts' repositories (com.atproto.sync.getRepo) and verifies each
// with @atproto/repo's verifyRepo: the signed commit against the signing key
// the PLC directory lists for the DID, and every MST node and record block.
//
// Usage: node verify-repo.mjs PDS_URL --plc PLC_URL --did DID [--did DID ...]
//
// Prints one JSON line per DID:
//   {"did", "ok": true, "commit", "rev", "records": {"collection/rkey": cid}}
//   {"did", "ok": false, "error"}
// Exits 1 when any repository failed to verify.
import { AtpAgent } from '@atproto/api'
import { readCarWithRoot, verifyRepo } from '@atproto/repo'
import { cli } from './cli.mjs'
import { makeResolver } from './resolver.mjs'

const args = cli(
  'node verify-repo.mjs PDS_URL --plc PLC_URL --did DID [--did DID ...]',
  { plc: { type: 'string' }, did: { type: 'string', multiple: true } },
  ['plc', 'did'],
)
const resolver = makeResolver(args.plc, args.url)
const agent = new AtpAgent({ service: args.url })

let failures = 0
for (const did of args.did) {
  try {
    const key = await resolver.did.resolveAtprotoKey(did, true)
    const { data } = await agent.com.atproto.sync.getRepo({ did })
    const car = await readCarWithRoot(data)
    const verified = await verifyRepo(car.blocks, car.root, did, key)
    const records = {}
    for (const c of verified.creates) records[`${c.collection}/${c.rkey}`] = c.cid.toString()
    console.log(JSON.stringify({
      did, ok: true, commit: car.root.toString(), rev: verified.commit.rev, records,
    }))
  } catch (err) {
    failures++
    console.log(JSON.stringify({ did, ok: false, error: `${err?.name}: ${err?.message}` }))
  }
}
process.exit(failures ? 1 : 0)
