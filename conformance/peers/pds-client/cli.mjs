// Command lines of the scripts here: one positional PDS URL and --options
// (node:util parseArgs); a bad one prints the usage and exits 2.
import { parseArgs } from 'node:util'

export function cli(usage, options, required = []) {
  const fail = () => {
    console.error(`usage: ${usage}`)
    process.exit(2)
  }
  let parsed
  try {
    parsed = parseArgs({ options, allowPositionals: true })
  } catch {
    fail()
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1 || required.some((k) => values[k] === undefined)) fail()
  return { url: positionals[0].replace(/\/+$/, ''), ...values }
}
