#!/bin/sh
# health_test - `tally health` against a real server's --health-file: its exit
# codes and lines for a missing, malformed, stale, starting and ready file,
# a server paused with SIGSTOP (stale, then ready again after SIGCONT) and one
# stopped with SIGTERM (the file is gone).
# Usage: health_test.sh path/to/tally path/to/tally-router
set -u
TALLY=$1
ROUTER=$2
WORK=$(mktemp -d /tmp/tally-health-test.XXXXXX)
ROUTER_PID=
cleanup () {
    if [ -n "$ROUTER_PID" ]; then
        kill -CONT "$ROUTER_PID" 2>/dev/null
        kill -TERM "$ROUTER_PID" 2>/dev/null
        wait "$ROUTER_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
FAILED=0

# expect CODE PATTERN CMD... : runs CMD, checks its exit code and that its
# stdout+stderr matches the grep pattern.
expect () {
    code=$1; pattern=$2; shift 2
    "$@" >"$WORK/out" 2>&1
    got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -e "$pattern" "$WORK/out"; then
        echo "FAIL: $* -> exit $got (want $code), output:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    fi
}

# wait_for CODE SECONDS ARGS... : polls `tally health ARGS` until it exits
# with CODE, for at most SECONDS; fails the test otherwise.
wait_for () {
    code=$1; seconds=$2; shift 2
    deadline=$(( $(date +%s) + seconds ))
    while :; do
        "$TALLY" health "$@" >"$WORK/out" 2>&1
        [ $? -eq "$code" ] && return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "FAIL: tally health $* did not exit $code within $seconds s; last:"
            sed 's/^/    /' "$WORK/out"
            FAILED=1
            return 1
        fi
        sleep 0.05
    done
}

H=$WORK/health
# Usage errors: exit 2 with one line.
expect 2 'tally health: --file is required' "$TALLY" health
expect 2 "max-age-ms: not an integer in range, got '0'" "$TALLY" health --file "$H" --max-age-ms 0
expect 2 "unexpected argument 'extra'" "$TALLY" health --file "$H" extra
expect 0 'usage: tally health --file PATH' "$TALLY" health --help
# No file, not a health file, a stale one, one of a server starting: exit 1.
expect 1 "^tally health: not ready: cannot read $H: No such file" "$TALLY" health --file "$H"
echo "hello" >"$H"
expect 1 'not ready: .* is not a health file' "$TALLY" health --file "$H"
echo "state=ready mono_ms=1 unix_ms=1 pid=1" >"$H"
expect 1 'not ready: stale: .* was written [0-9]* ms ago (limit 5000 ms)' "$TALLY" health --file "$H"
rm -f "$H"

# A real server: ready within seconds of its start.
"$ROUTER" --insecure --data-dir "$WORK" --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' \
    --bus-in 'tcp://127.0.0.1:*' --bus-out 'tcp://127.0.0.1:*' --health-file "$H" \
    --log-level warn 2>"$WORK/router.log" &
ROUTER_PID=$!
wait_for 0 10 --file "$H"
expect 0 '^tally health: ready (written [0-9]* ms ago)$' "$TALLY" health --file "$H"
expect 0 '^state=ready mono_ms=[0-9]* unix_ms=[0-9]* pid=[0-9]*$' cat "$H"
# Paused, its file ages past the limit; resumed, it is ready again.
kill -STOP "$ROUTER_PID"
wait_for 1 10 --file "$H" --max-age-ms 1500
expect 1 'stale: .*(limit 1500 ms)' "$TALLY" health --file "$H" --max-age-ms 1500
kill -CONT "$ROUTER_PID"
wait_for 0 10 --file "$H" --max-age-ms 1500
# Stopped: the file goes with it.
kill -TERM "$ROUTER_PID"
wait "$ROUTER_PID"
status=$?
ROUTER_PID=
[ "$status" -eq 0 ] || { echo "FAIL: tally-router exited $status after SIGTERM"; FAILED=1; }
expect 1 'not ready: cannot read' "$TALLY" health --file "$H"
# A health file that cannot be written stops the server at its start.
expect 2 'tally-router: cannot write .*/no-such-dir/health.tmp' "$ROUTER" --insecure --data-dir "$WORK" \
    --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' --bus-in 'tcp://127.0.0.1:*' \
    --bus-out 'tcp://127.0.0.1:*' --health-file "$WORK/no-such-dir/health"

[ "$FAILED" -eq 0 ] && echo "health_test: OK"
exit "$FAILED"
