#!/bin/sh
# balance_name_test - tally-balance's --name with %h: the host name is put in
# its place (in a container, the container's ID), and the result is held to
# the same rules as any name; its --map-max against --map-size; the range of
# --keep-purchases; the rate limit's flags.
# Usage: balance_name_test.sh path/to/tally path/to/tally-balance
set -u
TALLY=$1
BALANCE=$2
WORK=$(mktemp -d /tmp/tally-balance-name.XXXXXX)
PID=
cleanup () {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
FAILED=0
HOST=$(hostname)

expect () {
    code=$1; pattern=$2; shift 2
    "$@" >"$WORK/out" 2>&1
    got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -e "$pattern" "$WORK/out"; then
        echo "FAIL: $* -> exit $got (want $code), output:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    fi
}

eval "$("$TALLY" account create --name worker | sed 's/^/export /')"
# Nothing listens on these: the actor starts, says its name and waits for a router.
LINKS="--router tcp://127.0.0.1:1 --audit tcp://127.0.0.1:1 --bus tcp://127.0.0.1:1 --insecure"

expect 0 '%h is the host name' "$BALANCE" --help
# Expanded, then checked: a name from %h that breaks the rules says both.
expect 2 "--name must be .* got \"\\.$HOST\" (from \"\\.%h\")" \
    "$BALANCE" --data-dir "$WORK" --name '.%h' $LINKS
expect 2 "--name must be .* got \"a%b\"\$" "$BALANCE" --data-dir "$WORK" --name 'a%b' $LINKS
LONG=$(printf '%064d' 0)
expect 2 "--name \"$LONG%h\" is longer than 64 bytes once %h is the host name \"$HOST\"" \
    "$BALANCE" --data-dir "$WORK" --name "$LONG%h" $LINKS

# The state's map: a maximum below the first size is refused, naming both.
expect 2 "--map-max 2097152 is below --map-size 4194304" \
    "$BALANCE" --data-dir "$WORK" --name b --map-size 4194304 --map-max 2097152 $LINKS
expect 0 '--map-max BYTES' "$BALANCE" --help

# Purchase records kept per user: at least a PurchaseLog snapshot's 100, at
# most 1000000, never 0.
for n in 0 99 1000001; do
    expect 2 "--keep-purchases: not an integer in range, got '$n' (expected 100..1000000)" \
        "$BALANCE" --data-dir "$WORK" --name b --keep-purchases "$n" $LINKS
done
expect 0 '--keep-purchases N' "$BALANCE" --help

# State snapshots: at least one record, at least 1 ms, at most a day.
expect 2 "--state-snapshot-records: not an integer in range, got '0' (expected 1..1000000000)" \
    "$BALANCE" --data-dir "$WORK" --name b --state-snapshot-records 0 $LINKS
for ms in 0 86400001; do
    expect 2 "--state-snapshot-ms: not an integer in range, got '$ms' (expected 1..86400000)" \
        "$BALANCE" --data-dir "$WORK" --name b --state-snapshot-ms "$ms" $LINKS
done
expect 0 '--state-snapshot-ms MS' "$BALANCE" --help

# The rate limit: in range, and a bucket size only with a rate.
expect 2 "--rate-per-minute: not an integer in range, got '0' (expected 1..6000000)" \
    "$BALANCE" --data-dir "$WORK" --name b --rate-per-minute 0 $LINKS
expect 2 "--rate-burst: not an integer in range, got '1000001' (expected 1..1000000)" \
    "$BALANCE" --data-dir "$WORK" --name b --rate-per-minute 5 --rate-burst 1000001 $LINKS
expect 2 "--rate-burst is the size of the rate limit's bucket: give --rate-per-minute with it" \
    "$BALANCE" --data-dir "$WORK" --name b --rate-burst 5 $LINKS
expect 0 '--rate-per-minute N' "$BALANCE" --help

# A valid pattern: the actor runs under the expanded name, state included.
"$BALANCE" --data-dir "$WORK" --name 'balance-%h-%h' $LINKS 2>"$WORK/log" &
PID=$!
deadline=$(( $(date +%s) + 10 ))
until grep -q 'event=ready' "$WORK/log"; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "FAIL: no ready line within 10 s:"; sed 's/^/    /' "$WORK/log"
        FAILED=1
        break
    fi
    sleep 0.05
done
grep -q "event=ready name=balance-$HOST-$HOST " "$WORK/log" ||
    { echo "FAIL: ready line without the expanded name:"; sed 's/^/    /' "$WORK/log"; FAILED=1; }
[ -d "$WORK/balance/balance-$HOST-$HOST" ] ||
    { echo "FAIL: no state directory balance/balance-$HOST-$HOST"; ls -R "$WORK"; FAILED=1; }

[ "$FAILED" -eq 0 ] && echo "balance_name_test: OK"
exit "$FAILED"
