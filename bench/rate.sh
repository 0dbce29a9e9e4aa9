#!/bin/sh
# What the per-user rate limit costs: the benchmark set on one build with
# the actors' rate limit off ("off") and on ("on": --rate-per-minute 6000000
# --rate-burst 1000000, so generous that nothing is refused and every buy
# takes a token), interleaved (off, on, off, on, ...) so the shared
# machine's drift weighs on both alike. Prints the median of each figure per
# setting and on/off. A run whose correctness check fails (a buy refused,
# a balance off) stops the script.
# Usage: bench/rate.sh BUILD [RUNS]   (RUNS per setting, default 5)
set -eu
build=$1
runs=${2:-5}
[ -x "$build/client/tally" ] || { echo "rate: no $build/client/tally; build it first" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
port=27600

s_figures () {
    awk '
        /^baseline /    { baseline = 1 }
        /^round trip/ && baseline == 1 { print "single_p50_ms", $4; print "single_p99_ms", $10; baseline = 2 }
        /^throughput /  { print "buys_per_s", $2 }
        /^correctness / { print "correct", ($2 == "OK:") ? 1 : 0 }'
}

s_run () {   # label setting args...
    label=$1
    setting=$2
    shift 2
    extra="--insecure"
    [ "$setting" = on ] && extra="--insecure --rate-per-minute 6000000 --rate-burst 1000000"
    sync
    # shellcheck disable=SC2086
    "$build/client/tally" bench "$@" $extra --base-port $port > "$out/last" 2>&1 || {
        echo "rate: $label ($setting) failed:" >&2
        tail -n 20 "$out/last" >&2
        exit 1
    }
    grep -Eq '^correctness +OK:' "$out/last" || {
        echo "rate: $label ($setting) is not correct:" >&2
        tail -n 20 "$out/last" >&2
        exit 1
    }
    port=$((port + 10))
    s_figures < "$out/last" | while read -r name value; do
        echo "$value" >> "$out/$label.$name.$setting"
    done
}

for run in $(seq 1 "$runs"); do
    for setting in off on; do
        echo "run $run/$runs: $setting" >&2
        s_run b1_64 "$setting" --clients 64 --buys 1000 --batch 1 --baseline 1000
        s_run b256_16 "$setting" --clients 16 --users 96 --buys 12800 --batch 256
    done
done

s_median () {
    sort -n "$1" | awk '{ v [NR] = $1 } END { if (NR % 2) print v [(NR + 1) / 2]; else print (v [NR / 2] + v [NR / 2 + 1]) / 2 }'
}

printf '%-30s %12s %12s %8s   %s\n' "figure ($runs runs each)" "off median" "on median" "on/off" "on runs"
for file in "$out"/*.on; do
    key=$(basename "$file" .on)
    [ -f "$out/$key.off" ] || continue
    p=$(s_median "$out/$key.off")
    c=$(s_median "$file")
    ratio=$(awk -v p="$p" -v c="$c" 'BEGIN { if (p == 0) print "-"; else printf "%.3f", c / p }')
    printf '%-30s %12s %12s %8s   %s\n' "$key" "$p" "$c" "$ratio" "$(tr '\n' ' ' < "$file")"
done
