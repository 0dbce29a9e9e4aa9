#!/bin/sh
# Runs every unit self-test under valgrind's memcheck; any error or definite
# or indirect leak fails. Usage: scripts/valgrind-unit.sh [BUILD_DIR]
set -eu
build=${1:-build}
status=0
for test in \
    "tests/core_test" \
    "actors/audit/journal_selftest" \
    "actors/balance/balance_selftest store" \
    "actors/balance/balance_selftest ledger" \
    "actors/balance/balance_selftest batch" \
    "actors/balance/balance_selftest catchup" \
    "actors/balance/balance_selftest objects" \
    "actors/balance/balance_selftest bus" \
    "broker/router/router_selftest" \
    "broker/gateway/gateway_selftest" \
    "client/sdk_test" \
    "client/bench_stats_test"; do
    log=$(mktemp)
    # shellcheck disable=SC2086
    if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=9 "$build"/$test > "$log" 2>&1; then
        echo "valgrind: OK   $test"
    else
        echo "valgrind: FAIL $test"
        tail -n 40 "$log"
        status=1
    fi
    rm -f "$log"
done
exit $status
