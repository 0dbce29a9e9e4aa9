#!/bin/sh
# The benchmark set on one build under two settings, each a name and the
# extra flags `tally bench` (and the cluster it starts) gets, interleaved
# (A, B, A, B, ...) so that the shared machine's drift weighs on both alike.
# A run that fails, or whose correctness check fails, stops the script.
# Prints the median of each figure per setting, B/A, and each run of both
# (B's, then A's, in the order they ran).
# Used by bench/curve.sh, bench/rate.sh and bench/catalog.sh.
# Usage: bench/settings.sh BUILD RUNS BASE_PORT NAME_A "FLAGS_A" NAME_B "FLAGS_B"
set -eu
build=$1
runs=$2
port=$3
name_a=$4
flags_a=$5
name_b=$6
flags_b=$7
[ -x "$build/client/tally" ] || { echo "settings: no $build/client/tally; build it first" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

s_figures () {
    awk '
        /^baseline /    { baseline = 1 }
        /^round trip/ && baseline == 1 { print "single_p50_ms", $4; print "single_p99_ms", $10; baseline = 2 }
        /^throughput /  { print "buys_per_s", $2 }
        /^correctness / { print "correct", ($2 == "OK:") ? 1 : 0 }'
}

s_run () {   # label setting flags args...
    label=$1
    setting=$2
    flags=$3
    shift 3
    sync
    # shellcheck disable=SC2086
    "$build/client/tally" bench "$@" $flags --base-port $port > "$out/last" 2>&1 || {
        echo "settings: $label ($setting) failed:" >&2
        tail -n 20 "$out/last" >&2
        exit 1
    }
    grep -Eq '^correctness +OK:' "$out/last" || {
        echo "settings: $label ($setting) is not correct:" >&2
        tail -n 20 "$out/last" >&2
        exit 1
    }
    port=$((port + 10))
    s_figures < "$out/last" | while read -r name value; do
        echo "$value" >> "$out/$label.$name.$setting"
    done
}

for run in $(seq 1 "$runs"); do
    for setting in a b; do
        if [ "$setting" = a ]; then name=$name_a; flags=$flags_a; else name=$name_b; flags=$flags_b; fi
        echo "run $run/$runs: $name" >&2
        s_run b1_64 "$setting" "$flags" --clients 64 --buys 1000 --batch 1 --baseline 1000
        s_run b256_16 "$setting" "$flags" --clients 16 --users 96 --buys 12800 --batch 256
    done
done

s_median () {
    sort -n "$1" | awk '{ v [NR] = $1 } END { if (NR % 2) print v [(NR + 1) / 2]; else print (v [NR / 2] + v [NR / 2 + 1]) / 2 }'
}

printf '%-30s %12s %12s %11s   %s | %s\n' "figure ($runs runs each)" "$name_a median" \
    "$name_b median" "$name_b/$name_a" "$name_b runs" "$name_a runs"
for file in "$out"/*.b; do
    key=$(basename "$file" .b)
    [ -f "$out/$key.a" ] || continue
    p=$(s_median "$out/$key.a")
    c=$(s_median "$file")
    ratio=$(awk -v p="$p" -v c="$c" 'BEGIN { if (p == 0) print "-"; else printf "%.3f", c / p }')
    printf '%-30s %12s %12s %11s   %s| %s\n' "$key" "$p" "$c" "$ratio" "$(tr '\n' ' ' < "$file")" \
        "$(tr '\n' ' ' < "$out/$key.a")"
done
