#!/bin/sh
# Installs the TypeScript client's npm packages (clients/ts) exactly as
# package-lock.json locks them (`npm ci`), for its build and tests in `make
# test`. Needs Node.js 20 or later and npm, and fails saying so without them.
# Idempotent: does nothing when node_modules already matches the lock.
set -eu
ts=$(cd "$(dirname "$0")/../clients/ts" && pwd)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install-ts-deps: node and npm are needed (Node.js 20 or later): install the" \
         "nodejs package (with npm) and run this again" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "install-ts-deps: Node.js $(node --version) is too old: 20 or later is needed" >&2
    exit 1
fi
# npm keeps a copy of the lock it installed from: the same lock, nothing to do.
if [ -f "$ts/node_modules/.package-lock.json" ] \
   && [ "$ts/node_modules/.package-lock.json" -nt "$ts/package-lock.json" ]; then
    exit 0
fi
echo "install-ts-deps: npm ci in clients/ts"
cd "$ts"
npm ci --no-audit --no-fund
