# Shared by the CLI tests: starts `tally up` in a scratch directory on BASE
# port and waits for its ready line. Sourced with tally, port set, and
# optionally data_name (the scratch directory's name within a fresh one),
# up_args (more flags for tally up) and open_prices (unset: --open-prices,
# as the seed's buys name their prices; set empty: prices closed, tally
# up's default); defines data, up_pid and fail (which shows every child's
# log), and the helpers expect and until_seen.
scratch=$(mktemp -d /tmp/tally-cli-XXXXXX)
data="$scratch/${data_name:-data}"
mkdir "$data"
fail() { echo "$(basename "$0"): FAIL: $*" >&2; for f in "$data"/logs/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

# shellcheck disable=SC2086
"$tally" up --data-dir "$data" --base-port "$port" ${open_prices---open-prices} ${up_args:-} \
    > "$data/up.out" 2> "$data/up.err" &
up_pid=$!
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid 2>/dev/null; rm -rf "$scratch"' EXIT
deadline=$(( $(date +%s) + 30 ))
until grep -q "tally up: ready" "$data/up.out" 2>/dev/null; do
    kill -0 "$up_pid" 2>/dev/null || fail "tally up exited: $(cat "$data/up.err")"
    [ "$(date +%s)" -lt "$deadline" ] || fail "not ready within 30 s"
    sleep 0.05
done
. "$data/tally.env"
export TALLY_GATEWAY TALLY_GATEWAY_KEY TALLY_WORKER_ACCOUNT

# expect CODE PATTERN CMD... : runs CMD, checks its exit code and that its
# stdout+stderr matches the grep pattern; leaves the output in $out.
expect() {
    code=$1; pattern=$2; shift 2
    out=$("$@" 2>&1); got=$?
    [ "$got" -eq "$code" ] || fail "$* -> exit $got, want $code: $out"
    echo "$out" | grep -q -e "$pattern" || fail "$* -> no '$pattern' in: $out"
}
# until_seen PATTERN WHAT CMD... : runs CMD until its output matches (an
# object may trail the answer by a moment), 20 s at most.
until_seen() {
    pattern=$1; what=$2; shift 2
    deadline=$(( $(date +%s) + 20 ))
    until out=$("$@" 2>&1) && echo "$out" | grep -q -e "$pattern"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what: $out"
        sleep 0.05
    done
}
