#!/bin/sh
# What the catalog and the rate limit cost together: the benchmark set on
# one build (B=1 with 64 clients and the one-client baseline, B=256 with 16
# clients: bench/settings.sh) with open prices and no rate limit ("plain")
# and with prices closed, the bench's item priced by the worker and every buy
# charged the catalog price, under a rate limit so generous that nothing is
# refused and every buy takes a token ("priced": --catalog --rate-per-minute
# 6000000 --rate-burst 1000000), interleaved. Prints the median of each
# figure per setting and priced/plain.
# Usage: bench/catalog.sh BUILD [RUNS] [BASE_PORT]   (RUNS per setting, default 5;
#        BASE_PORT default 27800, each run takes the next 10 ports)
set -eu
exec "$(dirname "$0")/settings.sh" "$1" "${2:-5}" "${3:-27800}" plain "--insecure" \
    priced "--insecure --catalog --rate-per-minute 6000000 --rate-burst 1000000"
