// The identity resolver the client scripts verify with: the official
// IdResolver (@atproto/identity) reading did:plc documents from the directory
// at plcUrl, without a cache (every resolution is fresh, so a handle change
// is seen at once).
//
// Handles under .test are not in DNS, so the handle side resolves them by
// the HTTPS well-known method (https://atproto.com/specs/handle#handle-resolution)
// rerouted to the PDS on loopback: GET /.well-known/atproto-did with the
// handle as the Host header. The answer is the PDS's own claim, checked
// against the DID document's alsoKnownAs by the callers (bidirectional).
// pdsUrls may name several PDSs, comma-separated (a relay's stream mixes the
// accounts of every PDS it crawls): each is asked in turn until one answers
// with a DID.
import http from 'node:http'
import { IdResolver } from '@atproto/identity'

function wellKnown(pds, handle) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: pds.hostname,
        port: pds.port,
        path: '/.well-known/atproto-did',
        headers: { host: handle },
        timeout: 10_000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => {
          const did = body.split('\n')[0].trim()
          resolve(res.statusCode === 200 && did.startsWith('did:') ? did : undefined)
        })
      },
    )
    req.on('error', () => resolve(undefined))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

export function makeResolver(plcUrl, pdsUrls) {
  const resolver = new IdResolver({ plcUrl, timeout: 10_000 })
  const pdss = String(pdsUrls)
    .split(',')
    .filter((u) => u)
    .map((u) => new URL(u))
  resolver.handle.resolve = async (handle) => {
    for (const pds of pdss) {
      const did = await wellKnown(pds, handle)
      if (did) return did
    }
    return undefined
  }
  return resolver
}
