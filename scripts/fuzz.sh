#!/bin/sh
# Builds the libFuzzer targets of tests/fuzz with clang (every library
# instrumented, ASan and UBSan on) and runs each for FUZZ_SECONDS when it
# is set (`make fuzz`), else for a fixed number of executions (`make test`:
# about 10 s a target on 2 cores), starting from a copy of its seed corpus (tests/fuzz/corpus/TARGET,
# captured from real traffic by tests/fuzz/make_corpus.sh) in a scratch
# directory: nothing is written into the tree. A crash, a leak, a failed
# assertion or an input slower than 10 s fails the run; libFuzzer prints the
# input and leaves it in BUILD/fuzz-artifacts to replay
# (`BUILD/tests/fuzz/TARGET FILE`). Each target's last line gives its
# executions and coverage (cov: edges, ft: features).
# Usage: scripts/fuzz.sh [BUILD_DIR]   (default build-fuzz)
set -eu
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-}
# libFuzzer reads -max_total_time=0 as no limit: 0 (or 00) is refused too.
case "$seconds" in
'') ;;
*[!0-9]* | 0*)
    echo "fuzz: FUZZ_SECONDS=$seconds: whole seconds, 1 or more" >&2
    exit 2
    ;;
esac

# The fixed executions of each target: they differ as much as the targets'
# speeds (a journal walk against a base58 string).
s_runs () {
    case $1 in
    fuzz_client_frame) echo 1000000 ;;
    fuzz_wire) echo 1500000 ;;
    fuzz_sdk_reply) echo 200000 ;;
    fuzz_sdk_watcher) echo 100000 ;;
    fuzz_journal_verify) echo 1500 ;;
    fuzz_snapshot_load) echo 100000 ;;
    fuzz_account_load) echo 300000 ;;
    fuzz_base58) echo 250000 ;;
    *) echo "fuzz: no fixed executions for $1" >&2; exit 2 ;;
    esac
}
jobs=$(nproc)

# clang and its sanitizer and fuzzer runtimes: scripts/install-deps.sh --test.
if ! command -v clang >/dev/null 2>&1 ||
    ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
    echo "fuzz: clang and libclang-rt-14-dev are not installed (scripts/install-deps.sh --test)" >&2
    exit 1
fi

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTALLY_FUZZ=ON >/dev/null
targets="fuzz_client_frame fuzz_wire fuzz_sdk_reply fuzz_sdk_watcher fuzz_journal_verify
fuzz_snapshot_load fuzz_account_load fuzz_base58"
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets
mkdir -p "$build/fuzz-artifacts"
for target in $targets; do
    corpus=$(mktemp -d)
    if [ -d "tests/fuzz/corpus/$target" ]; then
        cp "tests/fuzz/corpus/$target"/* "$corpus"/
    fi
    if [ -n "$seconds" ]; then
        limit="-max_total_time=$seconds"
        what="$seconds s"
    else
        runs=$(s_runs "$target")
        limit="-runs=$runs"
        what="$runs executions"
    fi
    echo "fuzz: $target for $what from $(find "$corpus" -type f | wc -l) seeds"
    if ! "$build/tests/fuzz/$target" "$limit" -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" \
        "$corpus" >"$build/fuzz-$target.log" 2>&1; then
        tail -40 "$build/fuzz-$target.log"
        rm -rf "$corpus"
        echo "fuzz: $target FAILED (input in $build/fuzz-artifacts/)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-$target.log")
    coverage=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$build/fuzz-$target.log" |
        sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')
    echo "fuzz: $target: $runs runs, $coverage"
    rm -rf "$corpus"
done
echo "fuzz: OK"
