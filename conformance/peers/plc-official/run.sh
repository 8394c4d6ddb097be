#!/bin/sh
# Start the official TypeScript PLC directory (@did-plc/server) on loopback,
# in memory. Installs the pinned dependencies from package-lock.json first
# when node_modules is missing or older than the lockfile.
# Usage: ./run.sh [--port N]   (env PORT also accepted; default 0 = any free port)
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    # npm output goes to stderr: stdout carries only the "listening on" line.
    npm ci --silent --no-audit --no-fund 1>&2
    touch node_modules
fi
exec node server.mjs "$@"
