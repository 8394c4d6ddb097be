#!/bin/sh
# Start the official TypeScript PDS (@atproto/pds) on loopback with the
# official PLC directory in memory beside it (server.mjs). Installs the
# pinned dependencies from package-lock.json first when node_modules is
# missing or older than the lockfile (the first install builds
# better-sqlite3 and takes minutes).
# Usage: ./run.sh [--port N] [--data DIR] [--plc URL]
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    # npm output goes to stderr: stdout carries only the "listening on" line.
    npm ci --silent --no-audit --no-fund 1>&2
    touch node_modules
fi
exec node server.mjs "$@"
