#!/bin/sh
# The TypeScript client's steps for ctest (tests/vectors, tests/cluster),
# each failing loudly when Node.js, npm or the locked packages are missing.
#   test/run.sh build                     compile src/ and test/ to dist/ (tsc)
#   test/run.sh vectors                   the shared vectors (no network)
#   test/run.sh outbox                    the outbox's rules, a scripted gateway (no network)
#   test/run.sh cluster TALLY_BIN PORT    against `tally up --ws-port` on loopback
#   test/run.sh browser TALLY_BIN PORT ARTIFACTS
#                                         the example page in headless Chromium
#                                         (/usr/bin/chromium) against `tally up`
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
# TALLY_BIN as given from where we were called, before the cd below.
absolute() {
    case $1 in
    /*) echo "$1" ;;
    *) echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;;
    esac
}
[ $# -ge 2 ] && bin=$(absolute "$2")
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
    TALLY_BIN=$bin TALLY_TEST_PORT=$3 \
        exec node --experimental-websocket --test dist/test/cluster.test.js ;;
browser)
    [ $# -eq 4 ] || { echo "usage: test/run.sh browser TALLY_BIN PORT ARTIFACTS" >&2; exit 2; }
    chromium=${TALLY_CHROMIUM:-/usr/bin/chromium}
    if [ ! -x "$chromium" ]; then
        echo "ts client: the browser test needs Chromium at $chromium: install Debian's" \
             "chromium and chromium-driver (scripts/install-deps.sh --test, or" \
             "apt-get install chromium chromium-driver)" >&2
        exit 1
    fi
    if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/esbuild ]; then
        echo "ts client: playwright-core and esbuild are not installed: run" \
             "scripts/install-deps.sh --test (or npm ci --prefix clients/ts)" >&2
        exit 1
    fi
    TALLY_BIN=$bin TALLY_TEST_PORT=$3 TALLY_ARTIFACTS=$(absolute "$4") TALLY_CHROMIUM=$chromium \
        exec node --test --test-concurrency=1 dist/test/browser.test.js ;;
*)
    echo "usage: test/run.sh build | vectors | outbox | cluster TALLY_BIN PORT" \
         "| browser TALLY_BIN PORT ARTIFACTS" >&2
    exit 2 ;;
esac
