// Consumes a PDS's firehose (com.atproto.sync.subscribeRepos) with the
// official consumer, @atproto/sync's Firehose, verifying every event: each
// commit's operations against its signed commit and MST proof with the
// account's signing key from the PLC directory (unauthenticatedCommits off),
// each identity event's handle bidirectionally (unauthenticatedHandles off).
//
// Usage: node firehose.mjs PDS_URL --plc PLC_URL [--cursor N]
//        [--expect-min N] [--timeout S] [--out FILE] [--handles URL[,URL...]]
//
// PDS_URL may be any subscribeRepos service, a relay among them; --handles
// names the PDS that answers /.well-known/atproto-did for the .test handles
// (default: PDS_URL), or several, comma-separated, for a relay crawling more
// than one PDS.
//
// Writes one JSON line per event received, to FILE or stdout:
//   {"type": "commit"|"identity"|"account"|"sync", "seq", "did", "time",
//    "verified": bool, ...}
// commit: "rev", "ops" [{action, path, cid}] as sent, "verifiedOps" [paths
//   the consumer verified and delivered]; verified = every op delivered.
// identity: "handle" as sent, "verifiedHandle" (the consumer's, undefined
//   when it did not verify); account: "active", "status"; sync: "rev".
// Every onError becomes {"type": "error", "error", "cause"}. The last line is
// {"summary": {"events", "errors", "increasing"}}.
// With --expect-min N it stops once N events arrived (exit 0) or when
// --timeout passes (default 60 s; exit 1); otherwise it runs until SIGTERM
// or SIGINT (exit 0) or the timeout.
import fs from 'node:fs'
import { Firehose } from '@atproto/sync'
import { def, getAndParseByDef, readCarWithRoot, verifyCommitSig } from '@atproto/repo'
import { cli } from './cli.mjs'
import { makeResolver } from './resolver.mjs'

const args = cli(
  'node firehose.mjs PDS_URL --plc PLC_URL [--cursor N] [--expect-min N] [--timeout S] [--out FILE] [--handles URL[,URL...]]',
  {
    plc: { type: 'string' },
    handles: { type: 'string' },
    cursor: { type: 'string' },
    'expect-min': { type: 'string', default: '0' },
    timeout: { type: 'string', default: '60' },
    out: { type: 'string' },
  },
  ['plc'],
)
const pdsUrl = args.url
const plcUrl = args.plc
const cursor = args.cursor === undefined ? undefined : Number(args.cursor)
const expectMin = Number(args['expect-min'])
const timeoutS = Number(args.timeout)
const outFile = args.out ?? null

const out = outFile ? fs.openSync(outFile, 'a') : 1
const emit = (line) => fs.writeSync(out, JSON.stringify(line) + '\n')

let events = 0
let errors = 0
let lastSeq = null
let increasing = true
let finished = false

const idResolver = makeResolver(plcUrl, args.handles ?? pdsUrl)
const firehose = new Firehose({
  idResolver,
  service: pdsUrl.replace(/^http/, 'ws'),
  unauthenticatedCommits: false,
  unauthenticatedHandles: false,
  subscriptionReconnectDelay: 500,
  // The first connection starts at --cursor; a reconnection continues after
  // the last event seen. A getter, not a function: this release reads
  // `runner?.getCursor() ?? opts.getCursor` and awaits the result without
  // calling it, so a function would be sent as the cursor ("Cannot encode
  // functions into query params"); a value works.
  get getCursor() {
    return lastSeq ?? cursor
  },
  handleEvent: () => {},
  onError: (err) => {
    errors++
    emit({
      type: 'error',
      error: `${err?.name}: ${err?.message}`,
      cause: err?.cause ? String(err.cause?.message ?? err.cause) : undefined,
      seq: err?.event?.seq,
    })
  },
})

// The consumer delivers only what it verified; to see what it dropped, wrap
// its per-event parse and compare what was sent with what came out.
const parse = firehose.parseEvt.bind(firehose)
firehose.parseEvt = async (evt) => {
  const parsed = await parse(evt)
  const type = String(evt.$type ?? '').split('#')[1] ?? 'unknown'
  const line = { type, seq: evt.seq, did: evt.repo ?? evt.did, time: evt.time }
  if (type === 'commit') {
    line.rev = evt.rev
    line.ops = evt.ops.map((op) => ({
      action: op.action, path: op.path, cid: op.cid ? op.cid.toString() : null,
    }))
    line.verifiedOps = parsed.map((p) => `${p.collection}/${p.rkey}`)
    if (line.ops.length > 0) {
      line.verified = line.verifiedOps.length === line.ops.length
    } else {
      // No operations (an account's first, empty commit): the consumer
      // checks nothing, so check the signed commit here the same way.
      line.verified = await verifyEmptyCommit(evt)
      line.verifiedBy = 'commit signature'
    }
    line.tooBig = evt.tooBig
  } else if (type === 'identity') {
    line.handle = evt.handle
    line.verifiedHandle = parsed[0]?.handle
    line.verified = parsed.length === 1 && (evt.handle === undefined ||
      parsed[0].handle === evt.handle)
  } else if (type === 'account') {
    line.active = evt.active
    line.status = evt.status
    line.verified = parsed.length === 1
  } else if (type === 'sync') {
    line.rev = evt.rev
    line.verified = parsed.length === 1
  } else {
    line.verified = false
  }
  if (typeof evt.seq === 'number') {
    if (lastSeq !== null && evt.seq <= lastSeq) increasing = false
    lastSeq = evt.seq
  }
  events++
  emit(line)
  if (expectMin && events >= expectMin) finish(0)
  return parsed
}

async function verifyEmptyCommit(evt) {
  try {
    const car = await readCarWithRoot(evt.blocks)
    if (!car.root.equals(evt.commit)) return false
    const { obj } = await getAndParseByDef(car.blocks, car.root, def.commit)
    if (obj.did !== evt.repo || obj.rev !== evt.rev) return false
    const key = await idResolver.did.resolveAtprotoKey(evt.repo)
    return await verifyCommitSig(obj, key)
  } catch (err) {
    errors++
    emit({ type: 'error', error: `empty commit: ${err?.message}`, seq: evt.seq })
    return false
  }
}

async function finish(code) {
  if (finished) return
  finished = true
  emit({ summary: { events, errors, increasing, lastSeq } })
  await Promise.race([firehose.destroy(), new Promise((r) => setTimeout(r, 2000))])
  process.exit(code)
}

process.on('SIGTERM', () => finish(0))
process.on('SIGINT', () => finish(0))
setTimeout(() => finish(expectMin ? 1 : 0), timeoutS * 1000).unref()
firehose.start()
