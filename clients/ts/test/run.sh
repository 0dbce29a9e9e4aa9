#!/bin/sh
# The TypeScript client's steps for ctest (tests/vectors, tests/cluster),
# each failing loudly when Node.js, npm or the locked packages are missing.
#   test/run.sh build                     compile src/ and test/ to dist/ (tsc)
#   test/run.sh vectors                   the shared vectors (no network)
#   test/run.sh outbox                    the outbox's rules, a scripted gateway (no network)
#   test/run.sh cluster TALLY_BIN PORT    against `tally up --ws-port` on loopback
# Packages come from `npm ci` in this folder (package-lock.json), which
# `scripts/install-deps.sh --test` runs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ts client: node and npm are needed (Node.js 20 or later): install the nodejs" \
         "package (with npm), then run scripts/install-deps.sh --test" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
    echo "ts client: Node.js $(node --version) is too old: 20 or later is needed" \
         "(its WebSocket API)" >&2
    exit 1
fi
if [ ! -x "$here/node_modules/.bin/tsc" ] || [ ! -x "$here/node_modules/.bin/buf" ]; then
    echo "ts client: its packages are not installed: run scripts/install-deps.sh --test" \
         "(or npm ci --prefix clients/ts)" >&2
    exit 1
fi
cd "$here"
case "${1:-}" in
build)
    exec npm run --silent build ;;
vectors)
    exec node --test dist/test/vectors.test.js ;;
outbox)
    exec node --test dist/test/outbox.test.js ;;
cluster)
    [ $# -eq 3 ] || { echo "usage: test/run.sh cluster TALLY_BIN PORT" >&2; exit 2; }
    TALLY_BIN=$2 TALLY_TEST_PORT=$3 \
        exec node --experimental-websocket --test dist/test/cluster.test.js ;;
*)
    echo "usage: test/run.sh build | vectors | outbox | cluster TALLY_BIN PORT" >&2
    exit 2 ;;
esac
