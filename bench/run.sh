#!/bin/sh
# Runs the benchmark set behind bench/README.md, each configuration RUNS times
# on a fresh local cluster, and prints the figures. Usage: bench/run.sh [BUILD] [RUNS]
set -eu
build=${1:-build}
runs=${2:-3}
tally="$build/client/tally"
port=27700
for run in $(seq 1 "$runs"); do
    sync
    echo "=== run $run: B=1, 64 clients, 1000 buys each; baseline 1 client x 1000"
    "$tally" bench --clients 64 --buys 1000 --batch 1 --baseline 1000 --base-port $port
    port=$((port + 10))
    sync
    echo "=== run $run: B=1, 256 clients, 400 buys each"
    "$tally" bench --clients 256 --buys 400 --batch 1 --base-port $port
    port=$((port + 10))
    sync
    echo "=== run $run: B=256, 16 clients, 96 users, 12800 buys each"
    "$tally" bench --clients 16 --users 96 --buys 12800 --batch 256 --base-port $port
    port=$((port + 10))
    sync
    echo "=== run $run: B=16, 16 clients, 4 subscribers"
    "$tally" bench --clients 16 --buys 2000 --batch 16 --subscribers 4 --base-port $port
    port=$((port + 10))
done
echo "=== replay of a 1M-event journal"
"$tally" audit bench-replay
