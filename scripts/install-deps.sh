#!/bin/sh
# Installs the Debian 12 packages that building, running and testing tally need.
# Idempotent: installs only what is missing. Uses sudo when not run as root.
#   scripts/install-deps.sh          what `make build` and `make demo` need
#   scripts/install-deps.sh --test   and what `make test` adds: Docker and
#                                    docker-compose (the compose test), clang
#                                    and its runtimes (the fuzz targets),
#                                    Chromium and its driver (the browser
#                                    test, ts_browser), and the TypeScript
#                                    client's npm packages (clients/ts,
#                                    locked: scripts/install-ts-deps.sh)
set -eu
here=$(dirname "$0")

packages="build-essential cmake pkg-config libzmq3-dev libczmq-dev libsodium-dev \
liblmdb-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev valgrind clang-format"
if [ "${1:-}" = "--test" ]; then
    packages="$packages docker.io docker-compose clang libclang-rt-14-dev chromium chromium-driver"
fi

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
if [ -z "$missing" ]; then
    [ "${1:-}" = "--test" ] && exec "$here/install-ts-deps.sh"
    exit 0
fi

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
# A package's own service must not start here: a dockerd started with its
# defaults rewrites the host's firewall. The compose test starts its own
# engine, with its own flags. (policy-rc.d, Debian's switch for that, is
# put in place only for this install and only when there is none.)
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=yes
fi
status=0
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing || status=$?
[ -n "$own_policy" ] && $sudo rm -f "$policy"
[ "$status" -eq 0 ] && [ "${1:-}" = "--test" ] && exec "$here/install-ts-deps.sh"
exit "$status"
