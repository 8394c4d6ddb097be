// Drives a PDS through the whole account and record lifecycle with the
// official client (@atproto/api), and checks what the repository sync
// endpoints serve with the official repository package (@atproto/repo),
// against the DID's signing key from the PLC directory (@atproto/identity).
//
// Usage: node client-lifecycle.mjs PDS_URL --plc PLC_URL [--server-log FILE]
//        [--refresh-grace]
//
// --server-log: the PDS's standard error, where it writes the account
//   deletion token (no mail is sent): "delete_account token for DID: TOKEN".
//   Without it the deletion checks fail.
// --refresh-grace: a used refresh token may be reused once more within a
//   grace period and answer the same successor session (what the official
//   PDS does, for clients that lost the answer); without the flag a used
//   refresh token must be refused.
//
// Prints one JSON line per check ({"check", "ok", "ms", ...; "error",
// "status", "xrpcError" when it failed}), then one summary line
// {"summary": {...}, "did", "expect": {...}} naming the repository writes,
// handle changes and account status changes the firehose must carry.
// Exits 1 when any check failed.
import fs from 'node:fs'
import { performance } from 'node:perf_hooks'
import { AtpAgent } from '@atproto/api'
import { verifySignature } from '@atproto/crypto'
import {
  cborToLexRecord,
  readCarWithRoot,
  verifyProofs,
  verifyRecords,
  verifyRepo,
} from '@atproto/repo'
import { cli } from './cli.mjs'
import { makeResolver } from './resolver.mjs'

const args = cli(
  'node client-lifecycle.mjs PDS_URL --plc PLC_URL [--server-log FILE] [--refresh-grace]',
  {
    plc: { type: 'string' },
    'server-log': { type: 'string' },
    'refresh-grace': { type: 'boolean', default: false },
  },
  ['plc'],
)
const pdsUrl = args.url
const plcUrl = args.plc
const serverLog = args['server-log'] ?? null
const refreshGrace = args['refresh-grace']

const resolver = makeResolver(plcUrl, pdsUrl)
const newAgent = () => new AtpAgent({ service: pdsUrl })
// Calls with an explicit Authorization header (refresh tokens, revoked
// tokens) go through an agent that holds no session of its own.
const raw = newAgent()
const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } })

let passed = 0
let failed = 0
const results = []
// What the firehose must carry, in order: repository writes, handle
// changes, account status changes.
const expect = { writes: [], identity: [], account: [] }

class CheckFailure extends Error {}
function assert(cond, message) {
  if (!cond) throw new CheckFailure(message)
}
function assertEq(actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new CheckFailure(`${what}: got ${a}, want ${e}`)
}

async function check(name, fn) {
  const t0 = performance.now()
  const line = { check: name }
  try {
    const note = await fn()
    line.ok = true
    if (note !== undefined) line.note = note
    passed++
  } catch (err) {
    line.ok = false
    line.error = err?.message ?? String(err)
    if (err?.status !== undefined) line.status = err.status
    if (err?.error !== undefined) line.xrpcError = err.error
    if (!(err instanceof CheckFailure) && err?.stack) {
      line.stack = err.stack.split('\n').slice(0, 4).join(' | ')
    }
    failed++
  }
  line.ms = Math.round((performance.now() - t0) * 10) / 10
  results.push(line)
  console.log(JSON.stringify(line))
  return line.ok
}

// Expects the call to fail with an XRPC error: the HTTP status and, when
// given, the error name. Returns the error.
async function expectXrpcError(promise, status, errorName) {
  let res
  try {
    res = await promise
  } catch (err) {
    if (err instanceof CheckFailure) throw err
    assert(err?.status !== undefined, `expected an XRPC error, got ${err}`)
    if (status !== undefined) {
      const ok = Array.isArray(status) ? status.includes(err.status) : err.status === status
      assert(ok, `expected HTTP ${status}, got ${err.status} ${err.error}: ${err.message}`)
    }
    if (errorName !== undefined) {
      const names = Array.isArray(errorName) ? errorName : [errorName]
      assert(names.includes(err.error), `expected error ${names.join('|')}, got ${err.error}: ${err.message}`)
    }
    return err
  }
  throw new CheckFailure(`expected an error, got success ${JSON.stringify(res?.data ?? null).slice(0, 300)}`)
}

const b64url = (s) => Buffer.from(s, 'base64url')
const jwtPayload = (jwt) => JSON.parse(b64url(jwt.split('.')[1]).toString('utf8'))

// A 1x1 PNG: enough for the image embed, small enough to compare.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
)

const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
const password = `pw-${suffix}-secret`
const email = `lc-${suffix}@example.com`
let domain = '.test'
let handle = null
let did = null
let agent = null // the session from createAccount, managed by AtpAgent
let signingKey = null
let serviceDid = null
const posts = [] // {uri, cid, rkey, text}
let profileCid = null

const now = () => new Date().toISOString()
// A TID (https://atproto.com/specs/tid): microseconds since the epoch and a
// random clock id, in base32-sortable.
const B32 = '234567abcdefghijklmnopqrstuvwxyz'
function tid() {
  let v = ((BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))) << 10n) |
    BigInt(Math.floor(Math.random() * 1024))
  let out = ''
  for (let i = 0; i < 13; i++) {
    out = B32[Number(v & 31n)] + out
    v >>= 5n
  }
  return out
}
const post = (text, extra = {}) => ({
  $type: 'app.bsky.feed.post',
  text,
  createdAt: now(),
  ...extra,
})
const rkeyOf = (uri) => uri.split('/').pop()
const needs = (...what) => {
  for (const w of what) assert(w, 'an earlier check this one depends on failed')
}
function noteWrite(action, collection, rkey, cid) {
  expect.writes.push({ action, path: `${collection}/${rkey}`, cid: cid ?? null })
}

// ---- server and account ------------------------------------------------

await check('server.describeServer', async () => {
  const { data } = await newAgent().com.atproto.server.describeServer()
  assert(Array.isArray(data.availableUserDomains) && data.availableUserDomains.length > 0,
    'availableUserDomains is empty')
  assert(typeof data.did === 'string' && data.did.startsWith('did:'), `service did ${data.did}`)
  assertEq(data.inviteCodeRequired ?? false, false, 'inviteCodeRequired')
  domain = data.availableUserDomains[0]
  serviceDid = data.did
  handle = `lc${suffix}${domain}`
  return { did: data.did, domains: data.availableUserDomains }
})

await check('server.createAccount', async () => {
  needs(handle)
  agent = newAgent()
  const { data } = await agent.createAccount({ handle, email, password })
  assert(data.did?.startsWith('did:plc:'), `did ${data.did}`)
  assertEq(data.handle, handle, 'handle')
  assert(data.accessJwt && data.refreshJwt, 'tokens missing')
  assert(data.accessJwt !== data.refreshJwt, 'access and refresh tokens are the same')
  did = data.did
  expect.account.push({ active: true })
  return { did }
})

await check('identity: the new DID resolves at the PLC directory to this PDS and handle', async () => {
  needs(did)
  const doc = await resolver.did.resolve(did)
  assert(doc, 'DID not found at the PLC directory')
  const data = await resolver.did.resolveAtprotoData(did)
  assertEq(data.handle, handle, 'handle in alsoKnownAs')
  assertEq(new URL(data.pds).port, new URL(pdsUrl).port, 'PDS endpoint port')
  signingKey = data.signingKey
  assert(signingKey.startsWith('did:key:'), `signing key ${signingKey}`)
})

await check('server.createAccount: a taken handle is refused', async () => {
  needs(did)
  await expectXrpcError(
    newAgent().createAccount({ handle, email: `other-${email}`, password }), 400,
    ['HandleNotAvailable', 'InvalidRequest'])
})

await check('server.getSession', async () => {
  needs(agent?.session)
  const { data } = await agent.com.atproto.server.getSession()
  assertEq(data.did, did, 'did')
  assertEq(data.handle, handle, 'handle')
})

await check('server.getSession: no token is refused with 401', async () => {
  await expectXrpcError(newAgent().com.atproto.server.getSession(), 401)
})

let loginByHandle = null
await check('server.createSession by handle', async () => {
  needs(did)
  const a = newAgent()
  const { data } = await a.login({ identifier: handle, password })
  assertEq(data.did, did, 'did')
  assertEq(data.handle, handle, 'handle')
  loginByHandle = data
})

await check('server.createSession by DID', async () => {
  needs(did)
  const { data } = await newAgent().login({ identifier: did, password })
  assertEq(data.did, did, 'did')
})

await check('server.createSession: a wrong password is refused with 401', async () => {
  needs(did)
  await expectXrpcError(newAgent().login({ identifier: handle, password: 'not-it' }), 401,
    'AuthenticationRequired')
})

await check('server.refreshSession rotates the refresh token', async () => {
  needs(loginByHandle)
  const old = loginByHandle.refreshJwt
  const { data } = await raw.com.atproto.server.refreshSession(undefined, bearer(old))
  assertEq(data.did, did, 'did')
  assert(data.refreshJwt && data.refreshJwt !== old, 'no new refresh token')
  assert(data.accessJwt, 'no new access token')
  const session = await raw.com.atproto.server.getSession(undefined, bearer(data.accessJwt))
  assertEq(session.data.did, did, 'getSession with the new access token')
  // A refresh token is not an access token (https://atproto.com/specs/xrpc,
  // domain separation by typ).
  await expectXrpcError(raw.com.atproto.server.getSession(undefined, bearer(data.refreshJwt)),
    [400, 401])
  let reused
  try {
    reused = await raw.com.atproto.server.refreshSession(undefined, bearer(old))
  } catch (err) {
    assert(err?.status === 400 || err?.status === 401,
      `used refresh token: expected 400/401, got ${err?.status} ${err?.error}`)
    loginByHandle = data
    return 'the used refresh token is refused'
  }
  assert(refreshGrace, 'the used refresh token was accepted again (single use expected)')
  // Grace: the same successor session (same token id), not a second chain.
  assertEq(jwtPayload(reused.data.refreshJwt).jti, jwtPayload(data.refreshJwt).jti,
    'the reused token answered a different successor')
  loginByHandle = data
  return 'the used refresh token answered the same successor (grace period)'
})

await check('server.deleteSession revokes the refresh token', async () => {
  needs(loginByHandle)
  const token = loginByHandle.refreshJwt
  await raw.com.atproto.server.deleteSession(undefined, bearer(token))
  await expectXrpcError(raw.com.atproto.server.refreshSession(undefined, bearer(token)),
    [400, 401])
})

// ---- app passwords -----------------------------------------------------

let appPassword = null
let appSession = null
await check('server.createAppPassword', async () => {
  needs(agent?.session)
  const { data } = await agent.com.atproto.server.createAppPassword({ name: `lc-${suffix}` })
  assertEq(data.name, `lc-${suffix}`, 'name')
  assert(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/.test(data.password),
    `password form ${data.password}`)
  appPassword = data.password
})

await check('server.createSession with the app password', async () => {
  needs(appPassword)
  const a = newAgent()
  const { data } = await a.login({ identifier: handle, password: appPassword })
  assertEq(data.did, did, 'did')
  appSession = a
  // An app-password session cannot manage app passwords
  // (https://atproto.com/specs/xrpc#app-passwords).
  await expectXrpcError(a.com.atproto.server.createAppPassword({ name: `x-${suffix}` }),
    [400, 401, 403])
})

await check('server.listAppPasswords', async () => {
  needs(appPassword)
  const { data } = await agent.com.atproto.server.listAppPasswords()
  const names = data.passwords.map((p) => p.name)
  assert(names.includes(`lc-${suffix}`), `names ${JSON.stringify(names)}`)
  assert(data.passwords.every((p) => !('password' in p)), 'list shows the passwords')
})

await check('server.revokeAppPassword', async () => {
  needs(appPassword)
  await agent.com.atproto.server.revokeAppPassword({ name: `lc-${suffix}` })
  const { data } = await agent.com.atproto.server.listAppPasswords()
  assert(!data.passwords.some((p) => p.name === `lc-${suffix}`), 'still listed')
  await expectXrpcError(newAgent().login({ identifier: handle, password: appPassword }), 401)
  if (appSession?.session) {
    await expectXrpcError(raw.com.atproto.server.refreshSession(undefined,
      bearer(appSession.session.refreshJwt)), [400, 401])
  }
})

// ---- records -----------------------------------------------------------

await check('repo.createRecord app.bsky.feed.post', async () => {
  needs(agent?.session)
  const record = post(`hello from the lifecycle ${suffix}`)
  const { data } = await agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post', record,
  })
  assert(data.uri.startsWith(`at://${did}/app.bsky.feed.post/`), `uri ${data.uri}`)
  assert(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(rkeyOf(data.uri)),
    `rkey is not a TID: ${rkeyOf(data.uri)}`)
  assert(data.cid?.startsWith('bafyrei'), `cid ${data.cid}`)
  assert(data.commit?.cid && data.commit?.rev, 'commit missing')
  posts.push({ uri: data.uri, cid: data.cid, rkey: rkeyOf(data.uri), text: record.text })
  noteWrite('create', 'app.bsky.feed.post', rkeyOf(data.uri), data.cid)
})

await check('repo.putRecord app.bsky.actor.profile self', async () => {
  needs(agent?.session)
  const { data } = await agent.com.atproto.repo.putRecord({
    repo: did, collection: 'app.bsky.actor.profile', rkey: 'self',
    record: { $type: 'app.bsky.actor.profile', displayName: 'Lifecycle', description: suffix },
  })
  assertEq(data.uri, `at://${did}/app.bsky.actor.profile/self`, 'uri')
  profileCid = data.cid
  noteWrite('create', 'app.bsky.actor.profile', 'self', data.cid)
})

await check('repo.getRecord', async () => {
  needs(posts[0])
  const { data } = await agent.com.atproto.repo.getRecord({
    repo: did, collection: 'app.bsky.feed.post', rkey: posts[0].rkey,
  })
  assertEq(data.uri, posts[0].uri, 'uri')
  assertEq(data.cid, posts[0].cid, 'cid')
  assertEq(data.value.text, posts[0].text, 'text')
  assertEq(data.value.$type, 'app.bsky.feed.post', '$type')
  // By handle too.
  const byHandle = await newAgent().com.atproto.repo.getRecord({
    repo: handle, collection: 'app.bsky.feed.post', rkey: posts[0].rkey,
  })
  assertEq(byHandle.data.cid, posts[0].cid, 'cid by handle')
})

await check('repo.getRecord: a missing record is 400 RecordNotFound', async () => {
  needs(did)
  await expectXrpcError(newAgent().com.atproto.repo.getRecord({
    repo: did, collection: 'app.bsky.feed.post', rkey: '2222222222222',
  }), 400, 'RecordNotFound')
})

await check('repo.listRecords pages and reverses', async () => {
  needs(agent?.session)
  for (let i = 0; i < 4; i++) {
    const record = post(`post ${i} ${suffix}`)
    const { data } = await agent.com.atproto.repo.createRecord({
      repo: did, collection: 'app.bsky.feed.post', record,
    })
    posts.push({ uri: data.uri, cid: data.cid, rkey: rkeyOf(data.uri), text: record.text })
    noteWrite('create', 'app.bsky.feed.post', rkeyOf(data.uri), data.cid)
  }
  const want = posts.map((p) => p.uri).sort().reverse() // newest (highest TID) first
  const seen = []
  let cursor
  for (let page = 0; page < 10; page++) {
    const { data } = await newAgent().com.atproto.repo.listRecords({
      repo: did, collection: 'app.bsky.feed.post', limit: 2, cursor,
    })
    assert(data.records.length <= 2, `page of ${data.records.length}`)
    seen.push(...data.records.map((r) => r.uri))
    for (const r of data.records) {
      const p = posts.find((x) => x.uri === r.uri)
      assert(p && p.cid === r.cid, `record ${r.uri} cid ${r.cid}`)
    }
    cursor = data.cursor
    if (!cursor || data.records.length === 0) break
  }
  assertEq(seen, want, 'paged listing')
  const rev = await newAgent().com.atproto.repo.listRecords({
    repo: did, collection: 'app.bsky.feed.post', reverse: true, limit: 100,
  })
  assertEq(rev.data.records.map((r) => r.uri), [...want].reverse(), 'reverse listing')
  return { records: seen.length }
})

await check('repo.deleteRecord', async () => {
  needs(posts.length >= 2)
  const gone = posts.splice(1, 1)[0]
  await agent.com.atproto.repo.deleteRecord({
    repo: did, collection: 'app.bsky.feed.post', rkey: gone.rkey,
  })
  noteWrite('delete', 'app.bsky.feed.post', gone.rkey, null)
  await expectXrpcError(newAgent().com.atproto.repo.getRecord({
    repo: did, collection: 'app.bsky.feed.post', rkey: gone.rkey,
  }), 400, 'RecordNotFound')
})

await check('repo.applyWrites create + update + delete in one commit', async () => {
  needs(posts.length >= 2, profileCid)
  const rkey = tid() // a client-chosen record key (a post's key is a TID)
  const gone = posts[1]
  const before = (await newAgent().com.atproto.sync.getLatestCommit({ did })).data
  const { data } = await agent.com.atproto.repo.applyWrites({
    repo: did,
    writes: [
      { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', rkey,
        value: post(`applied ${suffix}`) },
      { $type: 'com.atproto.repo.applyWrites#update', collection: 'app.bsky.actor.profile',
        rkey: 'self',
        value: { $type: 'app.bsky.actor.profile', displayName: 'Updated', description: suffix } },
      { $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.post',
        rkey: gone.rkey },
    ],
  })
  assert(data.commit?.cid && data.commit.cid !== before.cid, 'no new commit')
  assert(data.commit.rev > before.rev, `rev ${data.commit.rev} not after ${before.rev}`)
  assertEq(data.results?.length, 3, 'results')
  assertEq(data.results[0].$type, 'com.atproto.repo.applyWrites#createResult', 'result 0')
  assertEq(data.results[1].$type, 'com.atproto.repo.applyWrites#updateResult', 'result 1')
  assertEq(data.results[2].$type, 'com.atproto.repo.applyWrites#deleteResult', 'result 2')
  assertEq(data.results[0].uri, `at://${did}/app.bsky.feed.post/${rkey}`, 'created uri')
  posts.splice(1, 1)
  posts.push({ uri: data.results[0].uri, cid: data.results[0].cid, rkey, text: `applied ${suffix}` })
  profileCid = data.results[1].cid
  noteWrite('create', 'app.bsky.feed.post', rkey, data.results[0].cid)
  noteWrite('update', 'app.bsky.actor.profile', 'self', data.results[1].cid)
  noteWrite('delete', 'app.bsky.feed.post', gone.rkey, null)
  const after = (await newAgent().com.atproto.sync.getLatestCommit({ did })).data
  assertEq(after.cid, data.commit.cid, 'getLatestCommit after applyWrites')
  const profile = await newAgent().com.atproto.repo.getRecord({
    repo: did, collection: 'app.bsky.actor.profile', rkey: 'self',
  })
  assertEq(profile.data.value.displayName, 'Updated', 'updated profile')
})

await check('repo: a stale swapCommit or swapRecord is 400 InvalidSwap', async () => {
  needs(agent?.session, profileCid)
  const before = (await newAgent().com.atproto.sync.getLatestCommit({ did })).data
  const record = post(`swap ${suffix}`)
  const ok = await agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post', record, swapCommit: before.cid,
  })
  posts.push({ uri: ok.data.uri, cid: ok.data.cid, rkey: rkeyOf(ok.data.uri), text: record.text })
  noteWrite('create', 'app.bsky.feed.post', rkeyOf(ok.data.uri), ok.data.cid)
  await expectXrpcError(agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post', record: post('never'), swapCommit: before.cid,
  }), 400, 'InvalidSwap')
  await expectXrpcError(agent.com.atproto.repo.putRecord({
    repo: did, collection: 'app.bsky.actor.profile', rkey: 'self',
    record: { $type: 'app.bsky.actor.profile', displayName: 'never' },
    swapRecord: posts[0].cid, // a CID, but not the profile's
  }), 400, 'InvalidSwap')
})

await check('repo.createRecord: a record failing its lexicon is 400 InvalidRecord', async () => {
  needs(agent?.session)
  await expectXrpcError(agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text: 12, createdAt: now() },
  }), 400, ['InvalidRecord', 'InvalidRequest'])
  await expectXrpcError(agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text: 'no createdAt' },
  }), 400, ['InvalidRecord', 'InvalidRequest'])
})

await check('repo.createRecord: writing another account\'s repo is refused', async () => {
  needs(agent?.session)
  await expectXrpcError(agent.com.atproto.repo.createRecord({
    repo: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', collection: 'app.bsky.feed.post', record: post('x'),
  }), [400, 401, 403])
})

// ---- blobs -------------------------------------------------------------

await check('repo.uploadBlob, a post embedding it, sync.getBlob', async () => {
  needs(agent?.session)
  const { data } = await agent.com.atproto.repo.uploadBlob(PNG, { encoding: 'image/png' })
  const blob = data.blob
  assertEq(blob.mimeType, 'image/png', 'mimeType')
  assertEq(blob.size, PNG.length, 'size')
  const cid = blob.ref.toString()
  assert(cid.startsWith('bafkrei'), `blob cid ${cid} (raw codec expected)`)
  const record = post(`a pixel ${suffix}`, {
    embed: {
      $type: 'app.bsky.embed.images',
      images: [{ image: blob, alt: 'one pixel', aspectRatio: { width: 1, height: 1 } }],
    },
  })
  const created = await agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post', record,
  })
  posts.push({ uri: created.data.uri, cid: created.data.cid, rkey: rkeyOf(created.data.uri),
    text: record.text })
  noteWrite('create', 'app.bsky.feed.post', rkeyOf(created.data.uri), created.data.cid)
  const got = await newAgent().com.atproto.sync.getBlob({ did, cid })
  assertEq(Buffer.from(got.data).toString('base64'), PNG.toString('base64'), 'blob bytes')
  assertEq((got.headers['content-type'] ?? '').split(';')[0], 'image/png', 'content-type')
  const listed = await newAgent().com.atproto.sync.listBlobs({ did })
  assert(listed.data.cids.includes(cid), `listBlobs ${JSON.stringify(listed.data.cids)}`)
  const rec = await newAgent().com.atproto.repo.getRecord({
    repo: did, collection: 'app.bsky.feed.post', rkey: rkeyOf(created.data.uri),
  })
  assertEq(rec.data.value.embed.images[0].image.ref.toString(), cid, 'embedded blob ref')
})

// ---- repository and identity -------------------------------------------

await check('repo.describeRepo', async () => {
  needs(did)
  const { data } = await newAgent().com.atproto.repo.describeRepo({ repo: did })
  assertEq(data.did, did, 'did')
  assertEq(data.handle, handle, 'handle')
  assertEq(data.didDoc?.id, did, 'didDoc.id')
  assertEq([...data.collections].sort(), ['app.bsky.actor.profile', 'app.bsky.feed.post'],
    'collections')
  assertEq(data.handleIsCorrect, true, 'handleIsCorrect')
})

await check('identity.resolveHandle', async () => {
  needs(did)
  const { data } = await newAgent().com.atproto.identity.resolveHandle({ handle })
  assertEq(data.did, did, 'did')
})

await check('identity.updateHandle', async () => {
  needs(agent?.session)
  const newHandle = `lc2${suffix}${domain}`
  await agent.com.atproto.identity.updateHandle({ handle: newHandle })
  const oldHandle = handle
  handle = newHandle
  expect.identity.push({ handle: newHandle })
  const { data } = await newAgent().com.atproto.identity.resolveHandle({ handle: newHandle })
  assertEq(data.did, did, 'new handle resolves')
  await expectXrpcError(newAgent().com.atproto.identity.resolveHandle({ handle: oldHandle }), 400)
  const atp = await resolver.did.resolveAtprotoData(did)
  assertEq(atp.handle, newHandle, 'handle in the PLC document')
  const repo = await newAgent().com.atproto.repo.describeRepo({ repo: did })
  assertEq(repo.data.handle, newHandle, 'describeRepo handle')
  const session = await agent.com.atproto.server.getSession()
  assertEq(session.data.handle, newHandle, 'getSession handle')
})

await check('server.getServiceAuth', async () => {
  needs(agent?.session, signingKey)
  const aud = 'did:web:feed.example.test'
  const lxm = 'app.bsky.feed.getFeedSkeleton'
  const { data } = await agent.com.atproto.server.getServiceAuth({ aud, lxm })
  const [h, p, s] = data.token.split('.')
  const header = JSON.parse(b64url(h).toString('utf8'))
  const claims = JSON.parse(b64url(p).toString('utf8'))
  assertEq(claims.iss, did, 'iss')
  assertEq(claims.aud, aud, 'aud')
  assertEq(claims.lxm, lxm, 'lxm')
  const t = Math.floor(Date.now() / 1000)
  assert(claims.exp > t && claims.exp <= t + 3600, `exp ${claims.exp}`)
  assert(['ES256K', 'ES256'].includes(header.alg), `alg ${header.alg}`)
  const ok = await verifySignature(signingKey, Buffer.from(`${h}.${p}`, 'utf8'), b64url(s))
  assert(ok, 'signature does not verify against the DID\'s signing key')
})

// ---- account status ----------------------------------------------------

await check('server.deactivateAccount / activateAccount', async () => {
  needs(agent?.session)
  await agent.com.atproto.server.deactivateAccount({})
  expect.account.push({ active: false, status: 'deactivated' })
  const off = await newAgent().com.atproto.sync.getRepoStatus({ did })
  assertEq(off.data.active, false, 'active while deactivated')
  assertEq(off.data.status, 'deactivated', 'status while deactivated')
  await expectXrpcError(newAgent().com.atproto.sync.getRepo({ did }), 400, 'RepoDeactivated')
  await expectXrpcError(agent.com.atproto.repo.createRecord({
    repo: did, collection: 'app.bsky.feed.post', record: post('while deactivated'),
  }), [400, 401, 403])
  await agent.com.atproto.server.activateAccount()
  expect.account.push({ active: true })
  const on = await newAgent().com.atproto.sync.getRepoStatus({ did })
  assertEq(on.data.active, true, 'active after activateAccount')
})

// ---- sync --------------------------------------------------------------

let commit = null // {cid, rev} of the head
await check('sync.getRepo verifies with @atproto/repo and holds every record', async () => {
  needs(signingKey, posts.length)
  const { data } = await newAgent().com.atproto.sync.getRepo({ did })
  const car = await readCarWithRoot(data)
  const verified = await verifyRepo(car.blocks, car.root, did, signingKey)
  assertEq(verified.commit.cid.toString(), car.root.toString(), 'root is the commit')
  const byPath = new Map(verified.creates.map((c) => [`${c.collection}/${c.rkey}`, c]))
  const want = new Map([
    ...posts.map((p) => [`app.bsky.feed.post/${p.rkey}`, p.cid]),
    ['app.bsky.actor.profile/self', profileCid],
  ])
  assertEq([...byPath.keys()].sort(), [...want.keys()].sort(), 'record paths')
  for (const [path, cid] of want) {
    const c = byPath.get(path)
    assertEq(c.cid.toString(), cid, `cid of ${path}`)
    const bytes = car.blocks.get(c.cid)
    assert(bytes, `record block of ${path} missing`)
    const record = cborToLexRecord(bytes)
    const p = posts.find((x) => `app.bsky.feed.post/${x.rkey}` === path)
    if (p) assertEq(record.text, p.text, `text of ${path}`)
  }
  commit = { cid: car.root.toString(), rev: verified.commit.rev }
  return { records: byPath.size, bytes: data.length }
})

await check('sync.getLatestCommit', async () => {
  needs(commit)
  const { data } = await newAgent().com.atproto.sync.getLatestCommit({ did })
  assertEq(data, commit, 'head')
})

await check('sync.getRecord proofs verify (presence and absence)', async () => {
  needs(signingKey, posts[0])
  const p = posts[0]
  const { data } = await newAgent().com.atproto.sync.getRecord({
    did, collection: 'app.bsky.feed.post', rkey: p.rkey,
  })
  const records = await verifyRecords(data, did, signingKey)
  const found = records.find((r) => r.collection === 'app.bsky.feed.post' && r.rkey === p.rkey)
  assert(found, 'the proof does not hold the record')
  assertEq(found.record.text, p.text, 'record text')
  const cid = (await readCarWithRoot(data)).blocks.cids().find((c) => c.toString() === p.cid)
  assert(cid, 'the proof does not carry the record block')
  const proof = await verifyProofs(data, [
    { collection: 'app.bsky.feed.post', rkey: p.rkey, cid },
  ], did, signingKey)
  assertEq(proof.unverified.length, 0, 'unverified claims')
  // A deleted record: a proof of its absence, or RecordNotFound.
  const gone = expect.writes.find((w) => w.action === 'delete')
  assert(gone, 'no record was deleted')
  const rkey = gone.path.split('/')[1]
  let absent
  try {
    absent = (await newAgent().com.atproto.sync.getRecord({
      did, collection: 'app.bsky.feed.post', rkey })).data
  } catch (err) {
    assert(err?.status === 400 || err?.status === 404,
      `absent record: ${err?.status} ${err?.error}: ${err?.message}`)
    assertEq(err.error, 'RecordNotFound', 'error for an absent record')
    return 'absence: RecordNotFound'
  }
  const none = await verifyProofs(absent, [
    { collection: 'app.bsky.feed.post', rkey, cid: null }], did, signingKey)
  assertEq(none.unverified.length, 0, 'absence proof')
  return 'absence: a proof of non-existence'
})

await check('sync.listRepos', async () => {
  needs(commit)
  let cursor
  let mine = null
  for (let page = 0; page < 100 && !mine; page++) {
    const { data } = await newAgent().com.atproto.sync.listRepos({ limit: 100, cursor })
    mine = data.repos.find((r) => r.did === did) ?? null
    cursor = data.cursor
    if (!cursor) break
  }
  assert(mine, 'the account is not listed')
  assertEq(mine.head, commit.cid, 'head')
  assertEq(mine.rev, commit.rev, 'rev')
  assertEq(mine.active ?? true, true, 'active')
})

await check('sync.getRepoStatus', async () => {
  needs(commit)
  const { data } = await newAgent().com.atproto.sync.getRepoStatus({ did })
  assertEq(data.did, did, 'did')
  assertEq(data.active, true, 'active')
  assertEq(data.rev, commit.rev, 'rev')
})

// ---- deletion ----------------------------------------------------------

async function deletionToken() {
  assert(serverLog, '--server-log not given: the deletion token cannot be read')
  const pattern = new RegExp(`delete_account token for ${did}: (\\S+)`)
  for (let i = 0; i < 100; i++) {
    const text = fs.existsSync(serverLog) ? fs.readFileSync(serverLog, 'utf8') : ''
    const matches = [...text.matchAll(new RegExp(pattern, 'g'))]
    if (matches.length) return matches[matches.length - 1][1]
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new CheckFailure(`no deletion token for ${did} in ${serverLog}`)
}

await check('server.requestAccountDelete + deleteAccount', async () => {
  needs(agent?.session)
  await agent.com.atproto.server.requestAccountDelete()
  const token = await deletionToken()
  await expectXrpcError(newAgent().com.atproto.server.deleteAccount({
    did, password: 'wrong', token }), [400, 401])
  await newAgent().com.atproto.server.deleteAccount({ did, password, token })
  expect.account.push({ active: false, status: 'deleted' })
  await expectXrpcError(newAgent().login({ identifier: did, password }), [400, 401])
  await expectXrpcError(newAgent().com.atproto.sync.getRepoStatus({ did }), 400, 'RepoNotFound')
  await expectXrpcError(newAgent().com.atproto.sync.getRepo({ did }), 400, 'RepoNotFound')
  await expectXrpcError(newAgent().com.atproto.identity.resolveHandle({ handle }), 400)
})

console.log(JSON.stringify({
  summary: { passed, failed, checks: results.length },
  did,
  handle,
  expect,
}))
process.exit(failed ? 1 : 0)
