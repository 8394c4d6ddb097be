// Starts the official TypeScript PLC directory (@did-plc/server, pinned in
// package-lock.json) on 127.0.0.1 for the plc-directory service suite.
//
// As the package's own entry point (dist/bin.js) does: without DATABASE_URL
// it runs on the package's in-memory database (Database.mock(), the
// MockDatabase of src/db/mock.ts); with DATABASE_URL (a PostgreSQL URL) on
// PostgreSQL, migrated first. The one change from bin.js: it listens on
// 127.0.0.1 only (bin.js and PlcServer.start() listen on every interface).
//
// Usage: node server.mjs [--port N]   (env PORT also accepted; default 0 =
// any free port). Prints "listening on http://127.0.0.1:PORT" once ready;
// SIGTERM or SIGINT stop it.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { PlcServer, Database } = require('@did-plc/server')
const version = require('@did-plc/server/package.json').version

let port = Number(process.env.PORT || 0)
const args = process.argv.slice(2)
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port' && i + 1 < args.length) {
    port = Number(args[++i])
  } else {
    console.error(`usage: node server.mjs [--port N]`)
    process.exit(2)
  }
}

let db
if (process.env.DATABASE_URL) {
  db = Database.postgres({ url: process.env.DATABASE_URL })
  await db.migrateToLatestOrThrow()
} else {
  db = Database.mock()
}
const plc = PlcServer.create({ db, version })
const server = plc.app.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
