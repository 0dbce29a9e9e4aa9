#!/bin/sh
# `tally watch` against `tally up`: the caller's balance (via their root) as
# buys happen, their purchase records, and a refusal for someone else's data.
# Usage: cli_watch.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
# A data directory too long for a Unix socket address: the internal hops
# fall back to TCP ports, and everything below still works.
data_name=$(printf 'd%.0s' $(seq 1 96))
. "$(dirname "$0")/up_lib.sh"
grep -q "too long a path for Unix sockets; the internal hops use TCP ports $((port + 1))..$((port + 5))" \
    "$data/up.err" || fail "no fallback line: $(cat "$data/up.err")"
[ ! -e "$data/run" ] || fail "DATA/run made for a path too long for sockets"
"$tally" account create --name alice --json > "$data/alice.json" || fail "account create"
"$tally" account create --name bob --json > "$data/bob.json" || fail "account create"
send() { who=$1; shift; "$tally" send "$@" --account-file "$data/$who.json" --json; }
send alice create-account --initial 100 > /dev/null || fail "create alice"
send bob create-account --initial 10 > "$data/bob.balance" || fail "create bob"

# Waits until FILE has at least N lines, or fails after 20 s.
wait_lines() {
    deadline=$(( $(date +%s) + 20 ))
    while [ "$(wc -l < "$1")" -lt "$2" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$1 has $(wc -l < "$1") lines, want $2: $(cat "$1")"
        sleep 0.05
    done
}

"$tally" watch balance --json --count 4 --timeout 30 --account-file "$data/alice.json" > "$data/watch.out" &
watch_pid=$!
wait_lines "$data/watch.out" 1
grep -q '"event":"snapshot"' "$data/watch.out" || fail "first line is not a snapshot: $(cat "$data/watch.out")"
for amount in 10 20 30; do
    send alice buy --item "item-$amount" --amount "$amount" > /dev/null || fail "buy $amount"
done
wait "$watch_pid" || fail "watch exited $?"
[ "$(wc -l < "$data/watch.out")" -eq 4 ] || fail "watch printed: $(cat "$data/watch.out")"
version=1
for balance in 100 90 70 40; do
    line=$(sed -n "${version}p" "$data/watch.out")
    echo "$line" | grep -q "\"version\":$version" || fail "line $version: $line"
    echo "$line" | grep -q "\"balance\":$balance" || fail "line $version balance: $line"
    version=$((version + 1))
done

# The purchase records: the three so far, from the snapshot.
"$tally" watch purchases --json --count 3 --timeout 20 --account-file "$data/alice.json" > "$data/purchases.out" \
    || fail "watch purchases exited $?"
for item in item-10 item-20 item-30; do
    grep -q "\"itemId\":\"$item\"" "$data/purchases.out" || fail "no $item in $(cat "$data/purchases.out")"
done

# Alice may not watch Bob's balance: refused, and none of Bob's data shown.
bob_balance=$(sed 's/.*"result":{"id":"\([^"]*\)".*/\1/' "$data/bob.balance")
out=$("$tally" watch "$bob_balance" --timeout 5 --account-file "$data/alice.json" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "watching bob's balance: exit $rc, want 1 ($out)"
echo "$out" | grep -q PERMISSION_DENIED || fail "no PERMISSION_DENIED: $out"
echo "cli_watch: OK"
