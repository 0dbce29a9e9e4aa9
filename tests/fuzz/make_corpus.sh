#!/bin/sh
# Writes the seed corpus of the fuzz targets, tests/fuzz/corpus/<target>/,
# from real traffic: `tally up` (the normal build's servers, on loopback
# and Unix sockets in a scratch directory) runs with the test worker of
# tests/fuzz/fuzz_support.h, and fuzz_corpus (make_corpus.c) talks to it as
# the test clients and the test worker (its prices, admins, refunds and
# orders), asks the audit writer for the partitions' snapshots (until
# partition 0's holds the configuration), and reads the journal once the
# cluster has stopped. The build and the tests never run this; run it by
# hand when a wire message changes, and commit the result (scripts/fuzz.sh
# copies it into each run's corpus).
# Usage: tests/fuzz/make_corpus.sh [BUILD_DIR [FUZZ_BUILD_DIR]]
#        (default build and build-fuzz; CORPUS_PORT, default 26500, is the
#        gateway's loopback port)
set -eu
build=${1:-build}
fuzz_build=${2:-build-fuzz}
port=${CORPUS_PORT:-26500}
partitions=4
cd "$(dirname "$0")/../.."

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
CC=clang cmake -S . -B "$fuzz_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTALLY_FUZZ=ON >/dev/null
cmake --build "$fuzz_build" -j "$(nproc)" --target fuzz_corpus >/dev/null
tool="$fuzz_build/tests/fuzz/fuzz_corpus"
tally="$build/client/tally"

dir=$(mktemp -d /tmp/tally-corpus-XXXXXX)
out="$dir/corpus"
up=""
finish() {
    if [ -n "$up" ]; then
        kill -TERM "$up" 2>/dev/null || true
        wait "$up" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap finish EXIT
trap 'exit 1' INT TERM

# Tries the command $1 every $3 seconds until it succeeds, for up to $2 seconds.
wait_for() {
    deadline=$(($(date +%s) + $2))
    until eval "$1"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "make_corpus: gave up waiting for: $1" >&2
            exit 1
        fi
        sleep "$3"
    done
}

"$tool" worker "$dir/worker.json"
chmod 600 "$dir/worker.json"
# Small segments, so that the journal rolls and seals some. No CURVE: the
# messages are the same under it, and fuzz_corpus talks clear text. A rate
# limit of 2 at once, one a second: every record names it, and the first
# sends already run past it (RATE_LIMITED results with their waits, in the
# replies and in the first segments' records).
"$tally" up --data-dir "$dir" --base-port "$port" --partitions "$partitions" --open-prices \
    --max-initial 1000 --segment-bytes 65536 --rate-per-minute 60 --rate-burst 2 \
    --insecure >"$dir/up.log" 2>&1 &
up=$!
wait_for "[ -f '$dir/tally.env' ]" 60 0.1
"$tool" traffic "tcp://127.0.0.1:$port" "$dir/audit/journal" "$partitions" "$out"
# An actor saves a partition's state at most 60 s after its last record;
# partition 0's must be one saved after the configuration changed.
echo "make_corpus: waiting (up to 150 s) for the actors' state snapshots"
wait_for "'$tool' snapshots 'ipc://$dir/run/audit.sock' $partitions '$out' 2>/dev/null" 150 5
kill -TERM "$up"
wait "$up" || true
up=""
"$tool" journal "$dir/audit/journal" "$out"
"$tool" accounts "$out"
"$tally" account create --name corpus --json >"$out/fuzz_account_load/created.json"

rm -rf tests/fuzz/corpus
cp -r "$out" tests/fuzz/corpus
for target in tests/fuzz/corpus/*; do
    echo "make_corpus: $(basename "$target"): $(find "$target" -type f | wc -l) seeds," \
        "$(cat "$target"/* | wc -c) bytes"
done
echo "make_corpus: total $(find tests/fuzz/corpus -type f -exec cat {} + | wc -c) bytes"
