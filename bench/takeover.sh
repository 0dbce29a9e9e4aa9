#!/bin/sh
# How long a new balance actor with no state takes to serve its share of the
# partitions once the journal is long: `tally up` (2 actors), BUYS buys
# through `tally bench` at batch 256, WAIT seconds for the actors' state
# snapshots (they save a partition once a new record has waited
# --state-snapshot-ms, 60 s by default), then a third tally-balance with an
# empty data dir joins. Prints the milliseconds from its assignment to the
# last of its partitions served, and how many snapshots it loaded.
#   bench/takeover.sh BUILD_DIR BUYS [USERS] [WAIT] [BASE_PORT]
# e.g. bench/takeover.sh build 10000000 96 70
set -eu
build=$(cd "$1" && pwd)
buys=$2
users=${3:-96}
wait=${4:-70}
port=${5:-27700}
clients=16
dir=$(mktemp -d /tmp/tally-takeover.XXXXXX)
up_pid=
fresh_pid=
cleanup() {
    [ -n "${KEEP_LOGS:-}" ] && cp "$dir/fresh.log" "$dir/logs/audit.log" "$KEEP_LOGS/" 2>/dev/null
    [ -n "$fresh_pid" ] && kill "$fresh_pid" 2>/dev/null || true
    [ -n "$up_pid" ] && kill "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$build/client/tally" up --data-dir "$dir" --base-port "$port" --max-initial 1000000000 --open-prices >"$dir/up.out" 2>&1 &
up_pid=$!
deadline=$(( $(date +%s) + 60 ))
until [ -s "$dir/tally.env" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "tally up not ready"; cat "$dir/up.out"; exit 1; }
    sleep 0.2
done
. "$dir/tally.env"
"$build/client/tally" bench --gateway "$TALLY_GATEWAY" --gateway-key "$TALLY_GATEWAY_KEY" \
    --worker "$TALLY_WORKER_ACCOUNT" \
    --data-dir "$dir" --clients "$clients" --users "$users" --batch 256 \
    --buys $(( buys / clients )) | grep -E '^(throughput|errors|correctness) '
echo "journal: $(du -sh "$dir/audit/journal" | cut -f1); waiting ${wait}s for the state snapshots"
sleep "$wait"

secret=$(sed 's/.*"secret":"\([^"]*\)".*/\1/' "$dir/worker.json")
run="$dir/run"
"$build/actors/balance/tally-balance" --name fresh --data-dir "$dir/fresh" \
    --router "ipc://$run/router-backend.sock" --audit "ipc://$run/audit.sock" \
    --bus "ipc://$run/bus-in.sock" --worker "$TALLY_WORKER_ACCOUNT" --worker-secret "$secret" \
    2>"$dir/fresh.log" &
fresh_pid=$!
# Served: as many partition.serving lines as the last assignment's owned.
deadline=$(( $(date +%s) + 300 ))
while :; do
    owned=$(grep 'event=assignment' "$dir/fresh.log" | tail -n 1 | sed -n 's/.* owned=\([0-9]*\).*/\1/p')
    served=$(grep -c 'event=partition.serving' "$dir/fresh.log" || true)
    [ -n "$owned" ] && [ "$owned" -gt 0 ] && [ "$served" -ge "$owned" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "the new actor did not serve its share"; tail "$dir/fresh.log"; exit 1; }
    sleep 0.2
done
ms() { sed -n 's/^ts=[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9]*\)\.\([0-9]*\)Z.*/\1 \2 \3 \4/p' | awk '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'; }
t0=$(grep 'event=assignment' "$dir/fresh.log" | grep -v 'owned=0 ' | head -n 1 | ms)
t1=$(grep 'event=partition.serving' "$dir/fresh.log" | tail -n 1 | ms)
loaded=$(grep -c 'event=snapshot.loaded' "$dir/fresh.log" || true)
records=$(grep -c 'event=snapshot.stored' "$dir/logs/audit.log" || true)
echo "takeover: $owned partitions served $(( t1 - t0 )) ms after the assignment;" \
     "$loaded snapshots loaded ($records stored in all); state $(du -sh "$dir/fresh" | cut -f1)"
