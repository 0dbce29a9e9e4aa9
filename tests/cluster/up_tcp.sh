#!/bin/sh
# up_tcp - `tally up` whose data directory is too long a path for Unix
# sockets: the internal hops fall back to loopback TCP, and CURVE keeps them
# closed. Another local process with a key of its own, posing as a balance
# actor on those ports, is refused by the router and the audit writer at the
# handshake (and logged), and so is one without CURVE; the cluster keeps its
# two actors and serves the seed's scenario. With --ws-port the gateway also
# listens on a WebSocket endpoint, named in the ready line and tally.env,
# which a browser's WebSocket API (Node 20's) reaches.
# Usage: up_tcp.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
balance=$(dirname "$tally")/../actors/balance/tally-balance
# A data directory whose DIR/run/router-frontend.sock would not fit sun_path.
data_name=$(printf 'long-%0100d' 0)
up_args="--ws-port $((port + 9))"
. "$(dirname "$0")/up_lib.sh"
grep -q "too long a path for Unix sockets; the internal hops use TCP ports" "$data/up.err" ||
    fail "no fallback line: $(cat "$data/up.err")"
grep -q -- "--curve-secret" "/proc/$(awk '$1 == "router" { print $2 }' "$data/pids")/cmdline" ||
    fail "the router runs without --curve-secret"

# wait_for SECONDS WHAT COMMAND...
wait_for () {
    seconds=$1; what=$2; shift 2
    deadline=$(( $(date +%s) + seconds ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "not within $seconds s: $what"
        sleep 0.1
    done
}
actors_are () { "$tally" status --timeout-ms 2000 | grep -q "actors $1,"; }

mkdir "$scratch/stranger"
"$tally" keys new stranger --dir "$scratch/stranger" >/dev/null || fail "tally keys new"
key=$("$tally" keys show "$scratch/stranger/stranger.key")
links="--router tcp://127.0.0.1:$((port + 2)) --audit tcp://127.0.0.1:$((port + 3))
    --bus tcp://127.0.0.1:$((port + 4))"
# shellcheck disable=SC2086
TALLY_WORKER_SECRET=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$data/worker.json") \
    "$balance" --data-dir "$scratch/stranger" --name stranger $links \
    --curve-secret "$scratch/stranger/stranger.key_secret" \
    --router-key "$data/keys/router.key" --audit-key "$data/keys/audit.key" \
    2>"$scratch/stranger.log" &
stranger=$!
refused () { grep "event=curve.refused peers=actors" "$data/logs/$1.log" | grep -qF "key=$key"; }
wait_for 15 "the router refusing the stranger's key" refused router
wait_for 15 "the audit writer refusing the stranger's key" refused audit
kill "$stranger"; wait "$stranger" 2>/dev/null
# One without CURVE at all fails the handshake too (a mechanism mismatch).
# shellcheck disable=SC2086
TALLY_WORKER_SECRET=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$data/worker.json") \
    "$balance" --data-dir "$scratch/plain" --name plain $links --insecure \
    2>"$scratch/plain.log" &
plain=$!
wait_for 10 "the plain stranger trying" grep -q "event=ready" "$scratch/plain.log"
actors_are 2 || fail "the cluster does not have its 2 actors: $("$tally" status)"
kill "$plain"; wait "$plain" 2>/dev/null
if grep -q "name=plain\|name=stranger" "$data/logs/router.log"; then
    fail "the router registered a stranger"
fi

"$tally" account create --name u --json >"$scratch/u.json" || fail "account create"
out=$("$tally" send create-account --initial 100 --account-file "$scratch/u.json") ||
    fail "create-account: $out"
out=$("$tally" send buy --item item-123 --amount 25 --account-file "$scratch/u.json") ||
    fail "buy: $out"
echo "$out" | grep -q "balanceAfter 75" || fail "buy: $out"
ws="ws://127.0.0.1:$((port + 9))/tally"
grep -q "tally up: ready gateway=.* ws=$ws " "$data/up.out" || fail "no ws= in: $(cat "$data/up.out")"
[ "$TALLY_GATEWAY_WS" = "$ws" ] || fail "tally.env's TALLY_GATEWAY_WS is '$TALLY_GATEWAY_WS'"
node --experimental-websocket "$(dirname "$0")/ws_client.mjs" "$ws" >"$scratch/ws.out" 2>&1 ||
    fail "the browser client through $ws: $(cat "$scratch/ws.out")"
echo "up_tcp: OK (stranger key $key refused by router and audit; $ws serves a browser)"
