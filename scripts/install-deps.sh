#!/bin/sh
# Installs the Debian 12 packages that building, running and testing tally need.
# Idempotent: installs only what is missing. Uses sudo when not run as root.
set -eu

packages="build-essential cmake pkg-config libzmq3-dev libczmq-dev libsodium-dev \
liblmdb-dev libprotobuf-c-dev protobuf-c-compiler valgrind clang-format"

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
