#!/bin/sh
# What CurveZMQ costs: the benchmark set on one build, every hop over
# loopback TCP (`tally up --hops tcp`), with CURVE on every hop and the
# client edge ("curve") and without it (`--insecure`, "plain"), interleaved
# (bench/settings.sh). Prints the median of each figure per setting and
# curve/plain.
# Usage: bench/curve.sh BUILD [RUNS]   (RUNS per setting, default 5)
set -eu
exec "$(dirname "$0")/settings.sh" "$1" "${2:-5}" 27400 plain "--hops tcp --insecure" \
    curve "--hops tcp"
