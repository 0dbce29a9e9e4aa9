#!/bin/sh
# bench_catalog_test - `tally bench --catalog`: a short run on a cluster of
# its own with prices closed, the worker pricing the bench's item and every
# buy naming no amount, charged the catalog price (the balance check holds,
# nothing refused); and its refusals: against a running system without the
# worker's secret, with another account's file, or the file without
# --catalog, each a one-line error (exit 2) before any connection.
# Usage: bench_catalog_test.sh TALLY_BINARY BASE_PORT
set -u
TALLY=$1
PORT=$2
WORK=$(mktemp -d /tmp/tally-bench-catalog.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# expect CODE PATTERN COMMAND...: exit code CODE and a line matching PATTERN
# (the only line, for a usage error).
expect () {
    code=$1; pattern=$2; shift 2
    "$@" >"$WORK/out" 2>&1
    got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -e "$pattern" "$WORK/out"; then
        echo "FAIL: $* -> exit $got (want $code, /$pattern/), output:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    elif [ "$code" -eq 2 ] && [ "$(wc -l <"$WORK/out")" -ne 1 ]; then
        echo "FAIL: $* -> not one line:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    fi
}

# Refusals. Nothing listens on port 1: each is decided before connecting.
"$TALLY" account create --name worker --json >"$WORK/worker.json" || exit 1
"$TALLY" account create --name other --json >"$WORK/other.json" || exit 1
chmod 600 "$WORK/worker.json" "$WORK/other.json"
WORKER=$(sed -n 's/.*"account":"\([^"]*\)".*/\1/p' "$WORK/worker.json")
[ -n "$WORKER" ] || { echo "FAIL: no account in $WORK/worker.json"; exit 1; }
GW=tcp://127.0.0.1:1
expect 2 "needs the worker's secret to set the price: --worker-account-file FILE or \$TALLY_WORKER_SECRET" \
    env -u TALLY_WORKER_SECRET "$TALLY" bench --catalog --gateway "$GW" --worker "$WORKER"
expect 2 "is not the worker $WORKER" \
    "$TALLY" bench --catalog --gateway "$GW" --worker "$WORKER" --worker-account-file "$WORK/other.json"
expect 2 "cannot read account file $WORK/none.json" \
    "$TALLY" bench --catalog --gateway "$GW" --worker "$WORKER" --worker-account-file "$WORK/none.json"
expect 2 '--worker-account-file is for --catalog against a running system' \
    "$TALLY" bench --gateway "$GW" --worker "$WORKER" --worker-account-file "$WORK/worker.json"
expect 2 '--worker-account-file is for --catalog against a running system' \
    "$TALLY" bench --catalog --worker-account-file "$WORK/worker.json"

# A short run: 4 clients x 50 buys in envelopes of 8, after 20 from one
# client, all at the catalog's price of 1.
expect 0 '^correctness  *OK: sum of balances 92 == initial 312 - bought 220;' \
    "$TALLY" bench --catalog --clients 4 --buys 50 --batch 8 --baseline 20 \
    --base-port "$PORT" --json "$WORK/run.json"
for want in \
    '^catalog  *bench-item at 1, set by the worker (configuration version 1); buys name no amount; prices closed' \
    '^throughput  *[0-9]* durable buys/s (200 ok in' \
    '^baseline  *[0-9]* durable buys/s (20 ok in'; do
    grep -q -e "$want" "$WORK/out" || { echo "FAIL: the run does not say /$want/"; FAILED=1; }
done
[ "$(grep -c '^errors  *0 refused messages, 0 envelopes unanswered' "$WORK/out")" -eq 2 ] ||
    { echo "FAIL: a run had errors"; FAILED=1; }
grep -q '"catalog":{"item":"bench-item","price":1,"config_version":1,"prices_closed":true}' \
    "$WORK/run.json" || { echo "FAIL: the JSON has no catalog:"; cat "$WORK/run.json"; FAILED=1; }
grep -q '"correct":true' "$WORK/run.json" || { echo "FAIL: the JSON is not correct"; FAILED=1; }
[ "$FAILED" -eq 0 ] || { echo "output of the run:"; sed 's/^/    /' "$WORK/out"; exit 1; }
echo "bench_catalog_test: OK"
