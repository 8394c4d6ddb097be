// The load generator of `tools/bench pds`: the same code measures our PDS
// and the official one, so the two figures compare.
//
// Usage: node load.mjs PDS_URL [--seconds S] [--records N] [--consumers N]
//                     [--phases createRecord,getRepo,firehose]
//
// Measures, printing one JSON line each (the protocol of bench/README.md):
//   pds.createRecord.c1 / .c8  createRecord (app.bsky.feed.post) by 1 and by
//       8 concurrent clients, each its own account, over keep-alive HTTP/1.1;
//       ops/s, and p50_ms / p99_ms of the request latency
//   pds.getRepo.N  com.atproto.sync.getRepo of an account holding N records
//       (filled with applyWrites), repeated; ms per getRepo; the CAR is
//       verified once with @atproto/repo and must hold N records (check)
//   pds.firehose.consumersN  E createRecord events are written (8 clients)
//       while one live consumer notes their first seq; then N WebSocket
//       consumers replay those same E events at once (cursor just before
//       them); events delivered per second over all of them (frames counted,
//       not decoded: the server's delivery is measured, not the consumer's)
// Plain node:http and ws, no client library in the timed path. tools/bench
// runs only getRepo and firehose from here: createRecord is timed by
// bench/pds_load.cpp, whose client costs the server's two cores far less CPU
// per request than Node's (the createRecord phase stays for a quick run by
// hand and gives the same JSON line).
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { verifyRepoCar } from '@atproto/repo'
import WebSocket from 'ws'
import { cli } from './cli.mjs'

const args = cli(
  'node load.mjs PDS_URL [--seconds S] [--records N] [--consumers N] [--events E] ' +
    '[--phases createRecord,getRepo,firehose]',
  {
    seconds: { type: 'string', default: process.env.ATPROTO_BENCH_SECONDS || '2' },
    records: { type: 'string', default: '2000' },
    consumers: { type: 'string', default: '10' },
    events: { type: 'string', default: '200' },
    phases: { type: 'string', default: 'createRecord,getRepo,firehose' },
  },
)
const base = args.url
const seconds = Number(args.seconds)
const records = Number(args.records)
const consumers = Number(args.consumers)
const events = Number(args.events)
const url = new URL(base)
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })

function call(method, nsid, { body, token, query } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body))
    const headers = {}
    if (data) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = data.length
    }
    if (token) headers.authorization = `Bearer ${token}`
    const qs = query ? '?' + new URLSearchParams(query).toString() : ''
    const req = http.request({
      host: url.hostname, port: url.port, method, path: `/xrpc/${nsid}${qs}`, headers, agent,
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const buf = Buffer.concat(chunks)
        if (res.statusCode !== 200) {
          reject(new Error(`${nsid}: HTTP ${res.statusCode} ${buf.toString('utf8').slice(0, 300)}`))
        } else {
          resolve(buf)
        }
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`${nsid}: timeout`)))
    if (data) req.write(data)
    req.end()
  })
}
const json = async (...a) => JSON.parse((await call(...a)).toString('utf8'))

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`
let accounts = 0
async function newAccount() {
  const n = accounts++
  const desc = await json('GET', 'com.atproto.server.describeServer')
  const handle = `b${run}x${n}${desc.availableUserDomains[0]}`
  const out = await json('POST', 'com.atproto.server.createAccount', {
    body: { handle, email: `b${run}x${n}@example.com`, password: `pw-${run}-${n}` },
  })
  return { did: out.did, token: out.accessJwt }
}

const post = (i) => ({
  $type: 'app.bsky.feed.post',
  text: `bench post ${i}: the quick brown fox jumps over the lazy dog`,
  createdAt: new Date().toISOString(),
})
const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0
const round = (x) => Math.round(x * 1000) / 1000
const emit = (line) => console.log(JSON.stringify(line))

async function createRecords(concurrency) {
  const clients = []
  for (let c = 0; c < concurrency; c++) clients.push(await newAccount())
  const latencies = []
  const once = async (client, i) => {
    const t0 = performance.now()
    await call('POST', 'com.atproto.repo.createRecord', {
      token: client.token,
      body: { repo: client.did, collection: 'app.bsky.feed.post', record: post(i) },
    })
    return performance.now() - t0
  }
  // Warm up: a few writes per client, not timed.
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; i < 5; i++) await once(c, i)
  }))
  const start = performance.now()
  const end = start + seconds * 1000
  await Promise.all(clients.map(async (c) => {
    for (let i = 0; performance.now() < end; i++) latencies.push(await once(c, i))
  }))
  const elapsed = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  emit({
    id: `pds.createRecord.c${concurrency}`,
    what: `createRecord, ${concurrency} concurrent client${concurrency > 1 ? 's' : ''}`,
    ops: latencies.length, seconds: round(elapsed), bytes: 0, check: 'ok',
    p50_ms: round(quantile(latencies, 0.5)), p99_ms: round(quantile(latencies, 0.99)),
  })
}

async function getRepo() {
  const acct = await newAccount()
  const batch = 100
  for (let i = 0; i < records; i += batch) {
    const writes = []
    for (let j = i; j < Math.min(records, i + batch); j++) {
      writes.push({ $type: 'com.atproto.repo.applyWrites#create',
        collection: 'app.bsky.feed.post', value: post(j) })
    }
    await call('POST', 'com.atproto.repo.applyWrites', {
      token: acct.token, body: { repo: acct.did, writes },
    })
  }
  const fetchRepo = () => call('GET', 'com.atproto.sync.getRepo', { query: { did: acct.did } })
  const car = await fetchRepo()
  const verified = await verifyRepoCar(car, acct.did)
  for (let i = 0; i < 2; i++) await fetchRepo()
  let ops = 0
  const start = performance.now()
  while (ops < 5 || performance.now() - start < seconds * 1000) {
    await fetchRepo()
    ops++
  }
  const elapsed = (performance.now() - start) / 1000
  emit({
    id: `pds.getRepo.${records}`, what: `getRepo of a ${records}-record repository`,
    ops, seconds: round(elapsed), bytes: car.length, check: String(verified.creates.length),
    ms: round((elapsed * 1000) / ops),
  })
}

// Reads subscribeRepos; stops after `want` frames, after 1 s without one,
// or after 120 s. With onFrame, hands each frame to it.
function consume(cursor, want, onFrame) {
  return new Promise((resolve) => {
    const qs = cursor === null ? '' : `?cursor=${cursor}`
    const ws = new WebSocket(`ws://${url.host}/xrpc/com.atproto.sync.subscribeRepos${qs}`,
      { perMessageDeflate: false })
    let frames = 0
    let last = performance.now()
    let idle = null
    let finished = false
    const done = () => {
      if (finished) return
      finished = true
      clearTimeout(idle)
      clearTimeout(cap)
      ws.terminate()
      resolve({ frames, last })
    }
    const arm = () => {
      clearTimeout(idle)
      idle = setTimeout(done, onFrame ? 30_000 : 1000)
    }
    ws.on('message', (data) => {
      frames++
      last = performance.now()
      if (onFrame) onFrame(data)
      if (want && frames >= want) done()
      else arm()
    })
    ws.on('open', () => {
      if (onFrame) onFrame(null) // connected
      arm()
    })
    ws.on('error', (err) => {
      if (onFrame) onFrame(undefined, err) // never connected, or dropped
      done()
    })
    const cap = setTimeout(done, 120_000)
  })
}

// The seq of a frame: the first "seq" key of the body. Frames are a CBOR
// header then a CBOR body; "seq" is a text key (0x63 's' 'e' 'q') followed by
// an unsigned integer.
function seqOf(buf) {
  const i = buf.indexOf(Buffer.from([0x63, 0x73, 0x65, 0x71]))
  if (i < 0) return null
  const b = buf[i + 4]
  const info = b & 0x1f
  if (b >> 5 !== 0) return null
  if (info < 24) return info
  if (info === 24) return buf[i + 5]
  if (info === 25) return buf.readUInt16BE(i + 5)
  if (info === 26) return buf.readUInt32BE(i + 5)
  if (info === 27) return Number(buf.readBigUInt64BE(i + 5))
  return null
}

async function firehose() {
  const clients = []
  for (let c = 0; c < 8; c++) clients.push(await newAccount())
  let firstSeq = null
  let connected
  const ready = new Promise((r) => (connected = r))
  let failure = null
  const live = consume(null, events, (frame, err) => {
    if (err) failure = err
    if (!frame) return connected()
    if (firstSeq === null) firstSeq = seqOf(frame)
  })
  await ready
  if (failure) throw new Error(`subscribeRepos: ${failure.message}`)
  let written = 0
  await Promise.all(clients.map(async (c) => {
    while (written < events) {
      written++
      await call('POST', 'com.atproto.repo.createRecord', {
        token: c.token, body: { repo: c.did, collection: 'app.bsky.feed.post', record: post(written) },
      })
    }
  }))
  const seen = await live
  if (seen.frames < events || firstSeq === null) {
    throw new Error(`live consumer saw ${seen.frames} of ${events} events`)
  }
  const start = performance.now()
  const results = await Promise.all(
    Array.from({ length: consumers }, () => consume(firstSeq - 1, events)))
  const frames = results.reduce((n, r) => n + r.frames, 0)
  const elapsed = (Math.max(...results.map((r) => r.last)) - start) / 1000
  const each = results.map((r) => r.frames)
  emit({
    id: `pds.firehose.consumers${consumers}`,
    what: `firehose: ${events} events replayed to ${consumers} consumers at once`,
    ops: frames, seconds: round(elapsed), bytes: 0,
    check: each.every((n) => n === events) ? String(events) : `counts ${each.join(',')}`,
  })
}

// A measurement that fails still prints its line, with ops 0 and the reason
// as its check, so the table shows it instead of dropping the row.
const allPhases = [
  ['createRecord', `pds.createRecord.c1`, 'createRecord, 1 concurrent client', () => createRecords(1)],
  ['createRecord', `pds.createRecord.c8`, 'createRecord, 8 concurrent clients', () => createRecords(8)],
  ['getRepo', `pds.getRepo.${records}`, `getRepo of a ${records}-record repository`, getRepo],
  ['firehose', `pds.firehose.consumers${consumers}`, 'firehose replay', firehose],
]
const wanted = args.phases.split(',')
for (const name of wanted) {
  if (!allPhases.some((p) => p[0] === name)) {
    console.error(`load.mjs: unknown phase ${name} (have createRecord, getRepo, firehose)`)
    process.exit(2)
  }
}
const phases = allPhases.filter((p) => wanted.includes(p[0])).map((p) => p.slice(1))
let failures = 0
for (const [id, what, fn] of phases) {
  try {
    await fn()
  } catch (err) {
    failures++
    console.error(`load.mjs: ${id}: ${err.message}`)
    emit({ id, what, ops: 0, seconds: 0, bytes: 0, check: `failed: ${err.message}`.slice(0, 200) })
  }
}
agent.destroy()
process.exit(failures === phases.length ? 1 : 0)
