#!/bin/sh
# Starts tally on loopback with `tally up`, runs the seed's scenario through the
# CLI, then stops the system. Usage: scripts/demo.sh [BUILD_DIR]
set -eu
build=${1:-build}
tally="$build/client/tally"
data=$(mktemp -d /tmp/tally-demo-XXXXXX)
port=${TALLY_DEMO_PORT:-7700}

"$tally" up --data-dir "$data" --base-port "$port" --open-prices &
up_pid=$!
cleanup() {
    kill -TERM "$up_pid" 2>/dev/null || true
    wait "$up_pid" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT INT TERM HUP PIPE

# tally up writes tally.env once every partition has an owner.
deadline=$(( $(date +%s) + 30 ))
while [ ! -s "$data/tally.env" ]; do
    if ! kill -0 "$up_pid" 2>/dev/null; then
        echo "demo: tally up exited early; logs are in $data/logs" >&2
        exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "demo: system not ready within 30 s; logs are in $data/logs" >&2
        exit 1
    fi
    sleep 0.1
done
set -a
. "$data/tally.env"
set +a

"$tally" account create --name "Demo User" --json > "$data/user.json"
run() {
    echo "\$ tally $*"
    "$tally" "$@" --account-file "$data/user.json" || echo "(exit $?)"
}
echo "== the seed's scenario, worker $TALLY_WORKER_ACCOUNT"
run send create-account --initial 100
echo "== a live view: tally watch balance (snapshot, then each change) runs beside the buys"
"$tally" watch balance --count 2 --timeout 10 --account-file "$data/user.json" > "$data/watch.out" &
watch_pid=$!
deadline=$(( $(date +%s) + 10 ))
while [ ! -s "$data/watch.out" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.05; done
run send buy --item item-123 --amount 25
run send buy --item item-456 --amount 100
wait "$watch_pid" || true
sed 's/^/   [watch] /' "$data/watch.out"
echo "== a second createAccount returns the existing balance unchanged (never a reset)"
run send create-account --initial 100
echo "== the same as JSON"
run send buy --item item-789 --amount 5 --json
run send buy --item item-789 --amount -5 --json
echo "== money in: the worker credits the user for a payment; the webhook repeats, it counts once"
user_id=$(sed -n 's/.*"account":"\([^"]*\)".*/\1/p' "$data/user.json")
admin() {
    echo "\$ tally admin $* (as the worker)"
    "$tally" admin "$@" --account-file "$data/worker.json" || echo "(exit $?)"
}
admin credit --user "$user_id" --amount 50 --reference pay_1001 --note "50 credits bought"
admin credit --user "$user_id" --amount 50 --reference pay_1001 --note "50 credits bought"
run send create-account --initial 100
echo "== fair prices: the worker sets a catalog price; a buy is charged it, another amount refused"
catalog() {
    echo "\$ tally catalog $* (as the worker)"
    "$tally" catalog "$@" --account-file "$data/worker.json" || echo "(exit $?)"
}
catalog set sword --price 30
"$tally" catalog list --account-file "$data/user.json"
run send buy --item sword
run send buy --item sword --amount 10
echo "== orders: a draft, submitted (its total held), settled by the worker as the order processor does"
order() {
    echo "\$ tally order $*"
    "$tally" order "$@" --account-file "$data/user.json" || echo "(exit $?)"
}
order create --item sword --item shield=15 > "$data/order.out"
cat "$data/order.out"
order_id=$(sed -n 's/^order \([^ ]*\) .*/\1/p' "$data/order.out")
order submit "$order_id"
"$tally" watch balance --count 1 --timeout 10 --account-file "$data/user.json"
run send buy --item item-1 --amount 50
admin complete "$order_id"
order show "$order_id"
order create --item shield=15 > "$data/order.out"
cat "$data/order.out"
order_id=$(sed -n 's/^order \([^ ]*\) .*/\1/p' "$data/order.out")
order submit "$order_id"
admin fail "$order_id" --error "card declined"
order list
echo "   (tally-orders does the worker's part against a payment service: tally up --order-service URL)"
echo "== the journal: every change hash-chained, every request signed by its sender"
"$tally" audit verify --data-dir "$data"
"$tally" audit replay --compare --data-dir "$data"
echo "== the same in a browser: the example page (clients/ts/example; README.md, \"TypeScript client\")"
echo "   $tally up --data-dir .tally --open-prices --ws-port 7780 &"
echo "   npm ci --prefix clients/ts && npm run --prefix clients/ts build"
echo "   node clients/ts/example/serve.mjs --data-dir .tally    # then open http://127.0.0.1:8080/"
