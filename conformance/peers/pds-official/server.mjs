// Starts the official TypeScript PDS (@atproto/pds, pinned in
// package-lock.json) on 127.0.0.1, for reference/pds/pds_client_test.py
// (--official), reference/relay/relay_test.py (our relay crawls it) and
// `tools/bench pds`.
//
// Configured the way a local test setup runs it: handles under .test, no
// invite codes, no email, no app view, rate limits off, outbound fetches to
// loopback allowed (disableSsrfProtection). Its data (SQLite files, blobs)
// goes to --data DIR, or to a temporary folder removed on exit. Accounts are
// created at the did:plc directory --plc URL, or, without --plc, at the
// official @did-plc/server started in memory on 127.0.0.1 beside it.
//
// Usage: node server.mjs [--port N] [--data DIR] [--plc URL]
// Prints one line once ready:
//   listening on http://127.0.0.1:PORT plc http://127.0.0.1:PLCPORT
// SIGTERM or SIGINT stop it. Logs go to stderr (LOG_ENABLED=true to see them).
import { createRequire } from 'node:module'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

const require = createRequire(import.meta.url)

const usage = 'usage: node server.mjs [--port N] [--data DIR] [--plc URL]'
let port = Number(process.env.PORT || 0)
let dataDir = null
let plcUrl = null
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  const next = () => {
    if (i + 1 >= args.length) {
      console.error(usage)
      process.exit(2)
    }
    return args[++i]
  }
  if (args[i] === '--port') port = Number(next())
  else if (args[i] === '--data') dataDir = next()
  else if (args[i] === '--plc') plcUrl = next().replace(/\/+$/, '')
  else {
    console.error(usage)
    process.exit(2)
  }
}

// The PDS writes its public URL (http://localhost:PORT) into every DID
// document it creates, so the port must be known before it starts: with
// --port 0, ask the kernel for a free one first.
const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const p = probe.address().port
      probe.close(() => resolve(p))
    })
  })
if (!port) port = await freePort()

const cleanups = []
let plcServer = null
if (!plcUrl) {
  const { PlcServer, Database } = require('@did-plc/server')
  const plc = PlcServer.create({ db: Database.mock(), version: 'test' })
  plcServer = await new Promise((resolve) => {
    const s = plc.app.listen(0, '127.0.0.1', () => resolve(s))
  })
  plcUrl = `http://127.0.0.1:${plcServer.address().port}`
  cleanups.push(() => new Promise((resolve) => plcServer.close(() => resolve())))
}

let ownedDir = null
if (!dataDir) {
  ownedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-official-'))
  dataDir = ownedDir
}
fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

if (!process.env.LOG_ENABLED) process.env.LOG_ENABLED = 'false'
const pds = await import('@atproto/pds')
const { Secp256k1Keypair } = await import('@atproto/crypto')
const { toString: ui8ToString } = await import('uint8arrays')

const rotationKey = await Secp256k1Keypair.create({ exportable: true })
const env = {
  devMode: true,
  port,
  hostname: 'localhost',
  dataDirectory: dataDir,
  blobstoreDiskLocation: path.join(dataDir, 'blobs'),
  didPlcUrl: plcUrl,
  serviceHandleDomains: ['.test'],
  inviteRequired: false,
  rateLimitsEnabled: false,
  disableSsrfProtection: true,
  crawlers: [],
  jwtSecret: randomBytes(32).toString('hex'),
  adminPassword: randomBytes(16).toString('hex'),
  plcRotationKeyK256PrivateKeyHex: ui8ToString(await rotationKey.export(), 'hex'),
}
const server = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env))
// No mail is sent: the account deletion token goes to stderr in the form
// atproto-pds writes it ("delete_account token for DID: TOKEN"), where
// client-lifecycle.mjs --server-log reads it.
const mailer = server.ctx.mailer
const sendAccountDelete = mailer.sendAccountDelete.bind(mailer)
mailer.sendAccountDelete = async (params, mailOpts) => {
  const account = await server.ctx.accountManager.getAccountByEmail(mailOpts.to)
  console.error(`pds-official: delete_account token for ${account?.did}: ${params.token}`)
  return sendAccountDelete(params, mailOpts)
}
// PDS.start() listens on every interface; keep it on loopback.
const listen = server.app.listen.bind(server.app)
server.app.listen = (p, ...rest) => listen(p, '127.0.0.1', ...rest)
await server.start()
console.log(`listening on http://127.0.0.1:${port} plc ${plcUrl}`)

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  try {
    await server.destroy()
    for (const c of cleanups) await c()
  } finally {
    if (ownedDir) fs.rmSync(ownedDir, { recursive: true, force: true })
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
