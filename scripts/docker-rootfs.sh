#!/bin/sh
# Stages what the Dockerfile's images hold, from a build on this machine.
# Usage: scripts/docker-rootfs.sh BUILD_DIR OUT_DIR
#
# No image registry can be reached from the machines tally is built on, so
# nothing is pulled: the images are `FROM scratch`, and this script collects
# their whole content from the build and from the host's Debian packages:
#
#   OUT_DIR/base/   what every image holds: the `tally` CLI (it is also the
#                   servers' healthcheck), every shared library the binaries
#                   load (found with ldd, the dynamic loader included), a
#                   minimal /etc (passwd and group with the unprivileged user
#                   tally, uid and gid 10001; nsswitch.conf) and /tmp (1777)
#   OUT_DIR/data/   what becomes /var/lib/tally, owned by tally (the
#                   Dockerfile sets the owner, so the script needs no root):
#                   empty but for balance/, where a balance actor keeps its
#                   state, so that a volume mounted there starts out owned
#                   by tally too
#                   and the CA certificates (when the host has
#                   ca-certificates), for tally-orders' https:// calls
#   OUT_DIR/bin/    the five servers, one per image
#
# OUT_DIR is emptied first. The binaries are copied stripped: the images run
# them, the build directory keeps their symbols.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: scripts/docker-rootfs.sh BUILD_DIR OUT_DIR" >&2
    exit 2
fi
build=$1
out=$2
servers="actors/audit/tally-audit broker/router/tally-router actors/balance/tally-balance
broker/gateway/tally-gateway actors/orders/tally-orders"
cli=client/tally
uid=10001

for binary in $servers $cli; do
    if [ ! -x "$build/$binary" ]; then
        echo "docker-rootfs: $build/$binary is missing; build first (make build)" >&2
        exit 1
    fi
done
for tool in ldd strip; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "docker-rootfs: $tool is missing (install build-essential)" >&2
        exit 1
    fi
done

rm -rf "$out"
mkdir -p "$out/base/usr/local/bin" "$out/base/etc" "$out/base/tmp" "$out/data/balance" "$out/bin"
chmod 1777 "$out/base/tmp"

strip --strip-unneeded -o "$out/base/usr/local/bin/tally" "$build/$cli"
for binary in $servers; do
    strip --strip-unneeded -o "$out/bin/$(basename "$binary")" "$build/$binary"
done

# Every library any binary loads, at the path the loader looks for it, as a
# real file (Debian's /lib64 and /lib are symlinks into /usr). ldd lists
# "name => /path (addr)" for libraries and "/path (addr)" for the loader.
listed=$(for binary in $servers $cli; do ldd "$build/$binary"; done)
if echo "$listed" | grep -q "not found"; then
    echo "docker-rootfs: libraries the binaries need are not on this host:" >&2
    echo "$listed" | grep "not found" | sort -u >&2
    exit 1
fi
libraries=$(echo "$listed" |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
if [ -z "$libraries" ]; then
    echo "docker-rootfs: ldd found no libraries in $build; is it a dynamic build?" >&2
    exit 1
fi
for library in $libraries; do
    mkdir -p "$out/base$(dirname "$library")"
    cp -L "$library" "$out/base$library"
done

# The user the servers run as, and no password anywhere.
cat >"$out/base/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
tally:x:$uid:$uid:tally:/var/lib/tally:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$out/base/etc/group" <<EOF
root:x:0:
tally:x:$uid:
nogroup:x:65534:
EOF
# Service names resolve through the engine's /etc/hosts and DNS; glibc
# 2.36's files and dns lookups are inside libc.so.6, so no NSS module is
# needed.
cat >"$out/base/etc/nsswitch.conf" <<EOF
hosts: files dns
passwd: files
group: files
EOF

# tally-orders verifies an https:// service against the host's CA bundle,
# at the path libcurl was built to read.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$out/base/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$out/base/etc/ssl/certs/"
fi

echo "docker-rootfs: staged $(echo "$libraries" | wc -l) libraries and 6 binaries in $out" \
    "($(du -sh "$out" | cut -f1))"
