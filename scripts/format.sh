#!/bin/sh
# Checks, or with --fix applies, the C formatting that .clang-format defines,
# on every tracked .c and .h file, so that style is never a review topic.
# `make test` runs the check (`make format-check`); `make format` applies it.
# Usage: scripts/format.sh [--fix]
set -eu
cd "$(dirname "$0")/.."
# Formatting differs between clang-format releases: the check uses Debian 12's.
want=14
if ! command -v clang-format >/dev/null 2>&1; then
    echo "format: clang-format not found; run scripts/install-deps.sh (Debian package clang-format)" >&2
    exit 2
fi
version=$(clang-format --version | sed -n 's/.*version \([0-9][0-9]*\)\..*/\1/p')
if [ "$version" != "$want" ]; then
    echo "format: clang-format $want (Debian 12's) is required; found: $(clang-format --version)" >&2
    exit 2
fi
if [ -d .git ] && command -v git >/dev/null 2>&1; then
    files=$(git ls-files -- '*.c' '*.h')
else
    files=$(find . -name 'build*' -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
count=$(echo "$files" | wc -w)
# With no file, clang-format would read stdin and the check would pass on nothing.
if [ "$count" -eq 0 ]; then
    echo "format: no .c or .h file found under $(pwd)" >&2
    exit 1
fi
if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
    echo "format: applied to $count files"
    exit 0
fi
report=$(mktemp)
trap 'rm -f "$report"' EXIT
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files 2>"$report"; then
    places=$(grep -c ': error: code should be clang-formatted' "$report" || true)
    grep ': error: code should be clang-formatted' "$report" | cut -d: -f1-3 | head -n 20 >&2
    echo "format: $places places differ from .clang-format (the first 20 above); 'make format' fixes them" >&2
    exit 1
fi
echo "format: OK ($count files)"
