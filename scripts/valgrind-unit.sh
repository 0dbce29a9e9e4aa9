#!/bin/sh
# Runs every unit test under valgrind's memcheck; any error or definite or
# indirect leak fails. The tests are the ones ctest labels `unit` in the
# build (tests/CMakeLists.txt), each run as ctest would run it: same
# command, same arguments, same working directory.
# Usage: scripts/valgrind-unit.sh [BUILD_DIR]
set -eu
build=${1:-build}
list=$(mktemp)
log=$(mktemp)
trap 'rm -f "$list" "$log"' EXIT

# `ctest -N -V` prints, per test, "N: Test command: ...",
# "N: Working Directory: ..." and "  Test #N: NAME"; one line per test here:
# NAME, tab, directory, tab, command (its arguments quoted by ctest).
ctest --test-dir "$build" -N -V -L '^unit$' | awk '
    /^[0-9]+: Test command: /     { sub (/^[0-9]+: Test command: /, ""); command = $0 }
    /^[0-9]+: Working Directory: / { sub (/^[0-9]+: Working Directory: /, ""); dir = $0 }
    /^ *Test +#[0-9]+: /          { sub (/^ *Test +#[0-9]+: /, ""); print $0 "\t" dir "\t" command }
' > "$list"
if [ ! -s "$list" ]; then
    echo "valgrind: no unit tests found in $build (is it configured and built?)" >&2
    exit 1
fi

status=0
count=0
tab=$(printf '\t')
while IFS="$tab" read -r name dir command; do
    count=$((count + 1))
    # The command's arguments are quoted as a shell would read them.
    eval "set -- $command"
    if (cd "$dir" && valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=9 "$@") < /dev/null > "$log" 2>&1; then
        echo "valgrind: OK   $name"
    else
        echo "valgrind: FAIL $name"
        tail -n 40 "$log"
        status=1
    fi
done < "$list"
echo "valgrind: $count unit tests"
exit $status
