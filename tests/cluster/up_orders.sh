#!/bin/sh
# up_orders - `tally up --order-service URL`: tally up runs tally-orders as
# the worker (its account file, the gateway's key), names it in the ready
# line and tally.env, and restarts it when it dies; an order a user submits
# is charged at the fake payment service (fake_charge.mjs) and completed,
# the balance debited once.
# Usage: up_orders.sh TALLY_BINARY BASE_PORT   (the fake service on BASE + 9)
set -u
tally=$1
port=$2
charge_port=$((port + 9))
service="http://127.0.0.1:$charge_port/charge"
up_args="--partitions 8 --order-service $service"

. "$(dirname "$0")/up_lib.sh"
charge_pid=
charge_log="$scratch/charge.log"
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid 2>/dev/null; [ -n "$charge_pid" ] &&
      kill $charge_pid 2>/dev/null; wait $charge_pid 2>/dev/null; rm -rf "$scratch"' EXIT
# The fake service (until it listens, tally-orders' calls fail and are retried).
node "$(dirname "$0")/fake_charge.mjs" --port "$charge_port" >"$charge_log" 2>&1 &
charge_pid=$!
deadline=$(( $(date +%s) + 30 ))
until grep -qs "fake_charge: ready port=$charge_port" "$charge_log"; do
    kill -0 "$charge_pid" 2>/dev/null || fail "fake_charge: $(cat "$charge_log")"
    [ "$(date +%s)" -lt "$deadline" ] || fail "fake_charge not ready within 30 s"
    sleep 0.05
done

# wait_for SECONDS WHAT COMMAND...
wait_for () {
    seconds=$1; what=$2; shift 2
    deadline=$(( $(date +%s) + seconds ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "not within $seconds s: $what"
        sleep 0.1
    done
}
started () { [ "$(grep -c "event=orders.start .*partitions=8 " "$data/logs/orders.log")" -ge "$1" ]; }

grep -q "tally up: ready gateway=.* orders=$service " "$data/up.out" ||
    fail "no orders= in: $(cat "$data/up.out")"
[ "${TALLY_ORDER_SERVICE_URL:-}" = "$service" ] || fail "tally.env: $(cat "$data/tally.env")"
orders=$(awk '$1 == "orders" { print $2 }' "$data/pids")
[ -n "$orders" ] || fail "no orders in $data/pids: $(cat "$data/pids")"
tr '\0' ' ' <"/proc/$orders/cmdline" >"$scratch/cmdline"
grep -q -- "--account $data/worker.json " "$scratch/cmdline" || fail "cmdline: $(cat "$scratch/cmdline")"
grep -q -- "--gateway-key $data/keys/gateway.key " "$scratch/cmdline" ||
    fail "cmdline: $(cat "$scratch/cmdline")"
wait_for 15 "tally-orders following the 8 queues" started 1

# Killed, it is restarted and follows the queues again.
kill -KILL "$orders"
wait_for 15 "tally-orders restarted" grep -q "restarted orders" "$data/up.err"
wait_for 15 "tally-orders following the queues again" started 2

# An order, end to end.
"$tally" account create --name u --json >"$scratch/u.json" || fail "account create"
out=$("$tally" send create-account --initial 100 --account-file "$scratch/u.json") ||
    fail "create-account: $out"
out=$("$tally" order create --item ok-1=30 --item ok-2=5 --account-file "$scratch/u.json") ||
    fail "order create: $out"
id=$(echo "$out" | sed -n 's/^order \(co_z[^ ]*\) draft .*/\1/p')
[ -n "$id" ] || fail "order create: $out"
out=$("$tally" order submit "$id" --account-file "$scratch/u.json") || fail "order submit: $out"
completed () {
    "$tally" order show "$id" --account-file "$scratch/u.json" | grep -q "^order $id completed "
}
wait_for 30 "order $id completed" completed
out=$("$tally" send create-account --initial 100 --account-file "$scratch/u.json")
echo "$out" | grep -q "= 65 " || fail "after the order the balance is: $out"
counts=$(node -e "fetch('http://127.0.0.1:$charge_port/count?key=$id').then(r => r.json())
    .then(c => console.log(c.charges + ' ' + c.voids))")
[ "$counts" = "1 0" ] || fail "the service's charges and voids of $id: $counts, not 1 0"
grep -q "event=order.completed order=$id " "$data/logs/orders.log" || fail "no order.completed"

# A URL tally-orders would refuse is refused by tally up itself, before
# anything starts (not a child that dies at each restart).
for url in ftp://127.0.0.1/charge "http://$(printf '%02048d' 0)"; do
    out=$("$tally" up --data-dir "$scratch/bad" --order-service "$url" 2>&1)
    rc=$?
    [ "$rc" = 2 ] || fail "tally up --order-service (${#url} bytes): exit $rc, not 2: $out"
    echo "$out" | grep -q "^tally up: --order-service must be an http:// or https:// URL of at most 2047 bytes, got '$url'\$" ||
        fail "tally up --order-service: $out"
    [ ! -e "$scratch/bad/pids" ] || fail "tally up --order-service $url started something"
done
echo "up_orders: OK"
