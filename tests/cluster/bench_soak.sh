#!/bin/sh
# A 20-second soak through `tally bench --duration` on a cluster of its own:
# a line every 4 s with sane figures (buys/s near --rate, p50 <= p99, no
# errors, a journal and two actors' state growing on disk, the RSS of every
# process), the summary, and the balance and journal checks passing. Also
# the flags' usage errors.
# Usage: bench_soak.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
scratch=$(mktemp -d /tmp/tally-soak-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "$(basename "$0"): FAIL: $*" >&2; cat "$scratch/out" >&2 2>/dev/null; exit 1; }

# Usage errors exit 2 with a line naming the flag.
usage() {
    err=$("$tally" bench "$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" -eq 2 ] || fail "bench $* exit $rc, want 2"
    echo "$err" | grep -q -- "$want" || fail "bench $*: '$err' does not say $want"
}
want="--duration" usage --duration abc
want="--duration" usage --duration 0
want="--duration" usage --duration 5x
want="--duration" usage --duration 10 --buys 5
want="--report-every" usage --report-every 5
want="--rate" usage --duration 10 --rate 0

rate=500
"$tally" bench --duration 20 --report-every 4 --rate $rate --clients 4 --batch 8 \
    --base-port "$port" --data-dir "$scratch/data" > "$scratch/out" 2> "$scratch/err" \
    || fail "bench exit $?: $(cat "$scratch/err")"

# soak t=4.0s buys/s=500 p50_ms=1.2 p99_ms=3.4 errors=0 journal_mib=1.0
#   archived_mib=0.0 state_mib=balance-1:0.5,balance-2:0.5
#   rss_mib=audit:9.1,...,bench:9.0 anon_mib=...
grep '^soak t=' "$scratch/out" > "$scratch/lines"
lines=$(wc -l < "$scratch/lines")
[ "$lines" -ge 5 ] && [ "$lines" -le 6 ] || fail "$lines report lines, want 5 (and the tail)"
awk -v rate=$rate '
    function value(key,   i, kv) {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] }
        return "missing"
    }
    function named(key, name,   list, n, i, pair) {
        n = split(value(key), list, ",")
        for (i = 1; i <= n; i++) { split(list[i], pair, ":"); if (pair[1] == name) return pair[2] + 0 }
        return -1
    }
    {
        t = value("t"); sub("s$", "", t)
        rps = value("buys/s") + 0; p50 = value("p50_ms") + 0; p99 = value("p99_ms") + 0
        if (value("errors") != "0") { print "errors on line " NR ": " $0; bad = 1 }
        if (value("archived_mib") != "0.0") { print "archived journal on line " NR; bad = 1 }
        # Whole intervals keep to the rate (the tail after the end is short).
        if (t + 0 <= 20.0 && (rps < rate * 0.5 || rps > rate * 1.2)) {
            print "buys/s " rps " on line " NR " is not near --rate " rate; bad = 1
        }
        if (p50 <= 0 || p99 < p50 || p99 > 5000) { print "p50 " p50 " p99 " p99 " on line " NR; bad = 1 }
        journal = value("journal_mib") + 0
        if (journal < last_journal) { print "journal shrank on line " NR; bad = 1 }
        last_journal = journal
        # Each actor state is reported; one may hold none of the 4 users
        # (all on the partitions of the other: 1 run in 8), so only their sum must grow.
        states = 0
        for (a = 1; a <= 2; a++) {
            state = named("state_mib", "balance-" a)
            if (state < 0) { print "no state for balance-" a " on line " NR; bad = 1 }
            states += state
        }
        if (states <= 0) { print "no state on line " NR; bad = 1 }
        split("audit router balance-1 balance-2 gateway bench", procs, " ")
        for (p in procs) {
            if (named("rss_mib", procs[p]) <= 0) { print "no RSS of " procs[p] " on line " NR; bad = 1 }
            if (named("anon_mib", procs[p]) <= 0) { print "no anon RSS of " procs[p] " on line " NR; bad = 1 }
        }
    }
    NR == 1 { first_journal = journal }
    END {
        if (last_journal <= first_journal) { print "the journal did not grow"; bad = 1 }
        exit bad
    }' "$scratch/lines" || fail "a report line is wrong"

grep -q '^soak summary: 20\.[0-9] s, [1-9][0-9]* buys acknowledged (.*), 0 refused or unanswered' "$scratch/out" \
    || fail "no summary line"
grep -q '^soak first 4\.0 s vs last 4\.[0-9] s: buys/s [0-9]* -> [0-9]* (x[0-9.]*), p99 .* ms (x[0-9.]*)$' "$scratch/out" \
    || fail "no first/last line"
for name in audit router balance-1 balance-2 gateway bench; do
    grep '^soak rss after warm-up' "$scratch/out" | grep -q " $name [0-9.]* -> [0-9.]* ([-+][0-9.]*%)" \
        || fail "no RSS growth of $name"
done
grep -q '^correctness     OK' "$scratch/out" || fail "balance check"
grep -q '^verify: OK' "$scratch/out" || fail "journal verify"
grep -q '^compare: OK' "$scratch/out" || fail "replay --compare"
grep -q '^journal         OK' "$scratch/out" || fail "journal check line"
cat "$scratch/out"
echo "bench_soak: OK"
