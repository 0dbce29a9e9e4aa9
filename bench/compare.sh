#!/bin/sh
# Runs the benchmark set on two builds, interleaved (old, new, old, new, ...)
# so that the shared machine's drift weighs on both alike, and prints the
# median of each figure per build and the ratio new/old. For a change that
# must leave speed and memory as they were, or a change meant to move them.
# Usage: bench/compare.sh OLD_BUILD NEW_BUILD [RUNS]   (RUNS per build, default 5)
set -eu
old=$1
new=$2
runs=${3:-5}
for build in "$old" "$new"; do
    [ -x "$build/client/tally" ] || { echo "compare: no $build/client/tally; build it first" >&2; exit 2; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=27000

# One run: the figures of interest, one "name value" per line.
s_figures () {
    awk '
        /^baseline /    { baseline = 1 }
        /^round trip/ && baseline == 1 { print "single_p50_ms", $4; print "single_p99_ms", $10; baseline = 2 }
        /^throughput /  { print "buys_per_s", $2 }
        /^memory /      { print "idle_rss_mb", $2 }
        /^correctness / { print "correct", ($2 == "OK:") ? 1 : 0 }'
}

s_run () {   # label build args...
    label=$1
    build=$2
    shift 2
    sync
    "$build/client/tally" bench "$@" --base-port $port > "$out/last" 2>&1 || {
        echo "compare: $label on $build failed:" >&2
        tail -n 20 "$out/last" >&2
        exit 1
    }
    port=$((port + 10))
    tag=$([ "$build" = "$old" ] && echo old || echo new)
    s_figures < "$out/last" | while read -r name value; do
        echo "$value" >> "$out/$label.$name.$tag"
    done
}

for run in $(seq 1 "$runs"); do
    for build in "$old" "$new"; do
        echo "run $run/$runs: $build" >&2
        s_run b1_64 "$build" --clients 64 --buys 1000 --batch 1 --baseline 1000
        s_run b1_256 "$build" --clients 256 --buys 400 --batch 1
        s_run b256_16 "$build" --clients 16 --users 96 --buys 12800 --batch 256
    done
done

s_median () {
    sort -n "$1" | awk '{ v [NR] = $1 } END { if (NR % 2) print v [(NR + 1) / 2]; else print (v [NR / 2] + v [NR / 2 + 1]) / 2 }'
}

printf '%-34s %12s %12s %8s   %s\n' "figure ($runs runs each)" "old median" "new median" "new/old" "new runs"
for file in "$out"/*.new; do
    key=$(basename "$file" .new)
    [ -f "$out/$key.old" ] || continue
    o=$(s_median "$out/$key.old")
    n=$(s_median "$file")
    ratio=$(awk -v o="$o" -v n="$n" 'BEGIN { if (o == 0) print "-"; else printf "%.3f", n / o }')
    printf '%-34s %12s %12s %8s   %s\n' "$key" "$o" "$n" "$ratio" "$(tr '\n' ' ' < "$file")"
done
