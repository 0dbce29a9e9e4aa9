#!/bin/sh
# curve_flags_test - every server's CURVE flags at start: a TCP endpoint
# without keys is a one-line error (exit 2) unless --insecure, which warns;
# a missing, malformed or readable-by-others key file, a bad public key and
# a missing trusted folder are each a one-line error naming the flag; and
# `tally keys` makes, shows and refuses as its help says.
# Usage: curve_flags_test.sh BUILD_DIR
set -u
BUILD=$1
TALLY=$BUILD/client/tally
AUDIT=$BUILD/actors/audit/tally-audit
ROUTER=$BUILD/broker/router/tally-router
BALANCE=$BUILD/actors/balance/tally-balance
GATEWAY=$BUILD/broker/gateway/tally-gateway
WORK=$(mktemp -d /tmp/tally-curve-flags.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# expect CODE PATTERN COMMAND...: exit code CODE and one line matching PATTERN.
expect () {
    code=$1; pattern=$2; shift 2
    timeout 10 "$@" >"$WORK/out" 2>&1
    got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -e "$pattern" "$WORK/out"; then
        echo "FAIL: $* -> exit $got (want $code, /$pattern/), output:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    elif [ "$code" -eq 2 ] && [ "$(wc -l <"$WORK/out")" -ne 1 ]; then
        echo "FAIL: $* -> not one line:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    fi
}

eval "$("$TALLY" account create --name worker | sed 's/^/export /')"
K=$WORK/keys
expect 0 'gateway key ' "$TALLY" keys cluster "$K"
[ "$(stat -c %a "$K/router.key_secret")" = 600 ] || { echo "FAIL: secret not 0600"; FAILED=1; }
[ "$(stat -c %a "$K/router.key")" = 644 ] || { echo "FAIL: public key not 0644"; FAILED=1; }
expect 0 '^.\{40\}$' "$TALLY" keys show "$K/router.key_secret"
[ "$("$TALLY" keys show "$K/router.key")" = "$("$TALLY" keys show "$K/router.key_secret")" ] ||
    { echo "FAIL: keys show differs between the public and the secret file"; FAILED=1; }
# -F -e: a Z85 key holds regex characters and may begin with "-".
SECRET=$(sed -n 's/.*secret-key = "\(.*\)"/\1/p' "$K/router.key_secret")
[ ${#SECRET} -eq 40 ] || { echo "FAIL: no 40-character secret-key in router.key_secret"; FAILED=1; }
if grep -qF -e "$SECRET" "$WORK/out"; then
    echo "FAIL: keys show printed the secret key"; FAILED=1
fi
expect 2 'already has keys named router; not overwritten' "$TALLY" keys new router --dir "$K"
expect 2 "expected 'new', 'cluster' or 'show'" "$TALLY" keys rotate
expect 2 '--owner must be UID or UID:GID' "$TALLY" keys cluster "$K" --owner nobody

D=$WORK/data
mkdir -p "$D"
TCP='tcp://127.0.0.1:1'
# A TCP endpoint without keys, each server: refused at start, unless --insecure.
expect 2 'tally-audit: tcp://127.0.0.1:1 is TCP without CURVE (no --curve-secret)' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP"
expect 2 'tally-router: tcp://127.0.0.1:1 is TCP without CURVE (no --curve-secret)' \
    "$ROUTER" --data-dir "$D/r" --frontend "$TCP" --backend "$TCP" --bus-in "$TCP" --bus-out "$TCP"
expect 2 'tally-balance: tcp://127.0.0.1:1 is TCP without CURVE (no --curve-secret)' \
    "$BALANCE" --data-dir "$D/b" --name b --router "$TCP" --audit "$TCP" --bus "$TCP"
expect 2 'tally-gateway: tcp://127.0.0.1:1 is TCP without CURVE (no --curve-secret)' \
    "$GATEWAY" --bind "$TCP" --router "$TCP" --bus "$TCP" --worker "$TALLY_WORKER_ACCOUNT"
# Keys, but not the peers': the flag that is missing is named.
expect 2 'TCP without CURVE (no --actor-keys)' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret "$K/audit.key_secret"
expect 2 'TCP without CURVE (no --gateway-keys)' \
    "$ROUTER" --data-dir "$D/r" --frontend "$TCP" --backend "$TCP" --bus-in "$TCP" \
    --bus-out "$TCP" --curve-secret "$K/router.key_secret" --actor-keys "$K/actors"
expect 2 'TCP without CURVE (no --audit-key)' \
    "$BALANCE" --data-dir "$D/b" --name b --router "$TCP" --audit "$TCP" --bus "$TCP" \
    --curve-secret "$K/balance.key_secret" --router-key "$K/router.key"
expect 2 'TCP without CURVE (no --router-key)' \
    "$GATEWAY" --bind "$TCP" --router "$TCP" --bus "$TCP" --worker "$TALLY_WORKER_ACCOUNT" \
    --curve-secret "$K/gateway.key_secret"
# Bad key files.
expect 2 'tally-audit: --curve-secret: cannot read /nonexistent.key_secret' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret /nonexistent.key_secret
cp "$K/audit.key_secret" "$WORK/open.key_secret"
chmod 644 "$WORK/open.key_secret"
expect 2 'is readable by others (mode 644): chmod 600 it' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret "$WORK/open.key_secret" \
    --actor-keys "$K/actors"
cp "$K/audit.key" "$WORK/public.key_secret"
chmod 600 "$WORK/public.key_secret"
expect 2 'has no valid curve secret-key (is it the .key_secret file?)' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret "$WORK/public.key_secret" \
    --actor-keys "$K/actors"
echo "not a certificate" >"$WORK/junk.key_secret"
chmod 600 "$WORK/junk.key_secret"
expect 2 'has no valid curve public-key' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret "$WORK/junk.key_secret" \
    --actor-keys "$K/actors"
expect 2 '--actor-keys /nonexistent: not a readable folder of public keys' \
    "$AUDIT" --data-dir "$D/a" --bind "$TCP" --curve-secret "$K/audit.key_secret" \
    --actor-keys /nonexistent
expect 2 "tally-balance: --router-key: no such key file, and not a Z85 key: short" \
    "$BALANCE" --data-dir "$D/b" --name b --router "$TCP" --audit "$TCP" --bus "$TCP" \
    --curve-secret "$K/balance.key_secret" --router-key short --audit-key "$K/audit.key"
# --insecure: it runs, in clear text, and says so.
"$AUDIT" --data-dir "$D/a" --bind 'tcp://127.0.0.1:*' --insecure 2>"$WORK/log" &
PID=$!
deadline=$(( $(date +%s) + 10 ))
until grep -q 'event=ready' "$WORK/log"; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "FAIL: tally-audit --insecure not ready:"; sed 's/^/    /' "$WORK/log"; FAILED=1; break
    fi
    sleep 0.05
done
kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
grep -q 'level=warn .*event=curve.insecure endpoint=tcp://127.0.0.1:\*' "$WORK/log" ||
    { echo "FAIL: no curve.insecure warning:"; sed 's/^/    /' "$WORK/log"; FAILED=1; }
# Unix sockets need no keys.
"$AUDIT" --data-dir "$D/u" --bind "ipc://$WORK/audit.sock" 2>"$WORK/log" &
PID=$!
deadline=$(( $(date +%s) + 10 ))
until grep -q 'event=ready' "$WORK/log"; do
    if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "FAIL: tally-audit on ipc:// not ready:"; sed 's/^/    /' "$WORK/log"; FAILED=1; break
    fi
    sleep 0.05
done
kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
if grep -q 'event=curve' "$WORK/log"; then echo "FAIL: ipc:// spoke of CURVE"; FAILED=1; fi

[ "$FAILED" -eq 0 ] && echo "curve_flags_test: OK"
exit "$FAILED"
