#!/bin/sh
# What the per-user rate limit costs: the benchmark set on one build with
# the actors' rate limit off ("off") and on ("on": --rate-per-minute 6000000
# --rate-burst 1000000, so generous that nothing is refused and every buy
# takes a token), interleaved (bench/settings.sh). Prints the median of each
# figure per setting and on/off.
# Usage: bench/rate.sh BUILD [RUNS]   (RUNS per setting, default 5)
set -eu
exec "$(dirname "$0")/settings.sh" "$1" "${2:-5}" 27600 off "--insecure" \
    on "--insecure --rate-per-minute 6000000 --rate-burst 1000000"
