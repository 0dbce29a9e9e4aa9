#!/bin/sh
# The seed's scenario through the CLI against `tally up`:
# createAccount 100 -> buy 25 gives balanceAfter 75 -> buy 100 fails with
# "Insufficient balance" and the balance stays 75. Also checks exit codes,
# JSON output, usage errors and that Ctrl-C (SIGTERM) stops every child.
# Usage: cli_seed.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
. "$(dirname "$0")/up_lib.sh"
grep -q "tally up: ready gateway=tcp://127.0.0.1:$port" "$data/up.out" || fail "no ready line: $(cat "$data/up.out")"
# The internal hops are Unix sockets in DATA/run, which only its owner may enter.
[ "$(stat -c %a "$data/run")" = 700 ] || fail "DATA/run is not mode 0700"
for name in router-frontend router-backend audit bus-in bus-out; do
    [ -S "$data/run/$name.sock" ] || fail "no socket DATA/run/$name.sock"
done

"$tally" account create --name "CLI User" --json > "$data/user.json" || fail "account create"
grep -q '"account":"co_z' "$data/user.json" || fail "account JSON: $(cat "$data/user.json")"
"$tally" account create --name "Balance Service Worker" > "$data/worker.env" || fail "account create (env form)"
grep -q '^TALLY_WORKER_ACCOUNT=co_z' "$data/worker.env" || fail "worker account line"
grep -q '^TALLY_WORKER_SECRET=sealerSecret_z.*/signerSecret_z' "$data/worker.env" || fail "worker secret line"

send() { "$tally" send "$@" --account-file "$data/user.json"; }

out=$(send create-account --initial 100 --json) || fail "create-account exit $?"
echo "$out" | grep -q '^{"ok":true,"result":{.*"balance":100' || fail "create-account: $out"

out=$(send buy --item item-123 --amount 25 --json) || fail "buy exit $?"
echo "$out" | grep -q '"itemId":"item-123"' || fail "buy: $out"
echo "$out" | grep -q '"balanceAfter":75' || fail "buy balanceAfter: $out"

out=$(send buy --item item-456 --amount 100 --json); rc=$?
[ "$rc" -eq 1 ] || fail "insufficient buy exit $rc, want 1"
[ "$out" = '{"ok":false,"error":{"code":"INSUFFICIENT_BALANCE","message":"Insufficient balance"}}' ] \
    || fail "insufficient buy: $out"

out=$(send create-account --initial 100 --json) || fail "second create-account"
echo "$out" | grep -q '"balance":75' || fail "balance did not stay 75: $out"

# Human output, and exit 1 for a rejection.
out=$(send buy --item item-9 --amount 5) || fail "human buy"
echo "$out" | grep -q "70" || fail "human buy output: $out"
err=$(send buy --item item-9 --amount 0 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "zero amount exit $rc, want 1"
echo "$err" | grep -q "INVALID_AMOUNT" || fail "zero amount message: $err"

# Usage errors exit 2 and say what is wrong.
err=$(send buy --item item-9 --amount 99999999999999999999 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "overflowing amount exit $rc, want 2"
echo "$err" | grep -q -- "--amount" || fail "overflowing amount message: $err"
err=$("$tally" send buy --item x --amount 1 --account-file /nonexistent 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "missing account file exit $rc, want 2"
err=$(send buy --item x --amount 1 --gateway tcp://127.0.0.1:1 --timeout-ms 500 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "unreachable gateway exit $rc, want 2"

# SIGTERM stops every child cleanly.
pids=$(awk '{print $2}' "$data/pids")
[ -n "$pids" ] || fail "no pids file"
kill -TERM "$up_pid"
wait "$up_pid"; rc=$?
[ "$rc" -eq 0 ] || fail "tally up exit $rc after SIGTERM"
for pid in $pids; do
    if kill -0 "$pid" 2>/dev/null; then fail "child $pid still running after tally up stopped"; fi
done
echo "cli_seed: OK"
