#!/bin/sh
# compose_test - docker-compose.yml through real containers, on a Docker
# engine of the test's own that it starts and stops, leaving the machine as
# it found it (docker.io and docker-compose come from
# scripts/install-deps.sh --test, which `make test` runs).
#
#   up with 2 balance replicas, all healthy; the seed's scenario through
#   `docker-compose run --rm cli tally ...` while `tally watch` sees 100 then
#   75; orders through 2 replicas of the order processor (profile orders)
#   and the fake payment service: each completed or failed as its item
#   says, one charge per completed order however many replicas called; under `tally bench` load: scale balance 2 -> 4, docker kill of one,
#   docker stop of one, SIGSTOP of one (then CONT), restart of audit,
#   restart of router (the longest stall of each is printed); then every
#   bench's correctness check, every acknowledged buy in the journal once,
#   `tally audit verify` and `replay --compare` on the journal volume; then
#   down (volumes kept) and up: every balance is still there.
#
# Usage: compose_test.sh SOURCE_DIR BUILD_DIR     (as root: it runs dockerd)
#
# The engine (/work/shared/ARCHITECTURE.md's recipe): no default bridge, no
# iptables or masquerading, its own data root, exec root, socket and pid
# file under /tmp; only the user-defined network of the compose project. The
# gateway is published on 127.0.0.1:$PORT. Every wait has a deadline.
set -eu

SRC=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
TALLY=$BUILD/client/tally
# Debian's client, by its path: another `docker` on PATH may talk to another
# engine.
DOCKER=/usr/bin/docker
COMPOSE=/usr/bin/docker-compose
DOCKERD=/usr/sbin/dockerd
# dockerd finds docker-proxy (published ports) and containerd on PATH.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH
PORT=23700        # the gateway on the host's loopback (tests/CMakeLists.txt)
PROJECT=tallyct$$
TAG=compose-test
T0=$(date +%s)

say () { echo "compose_test: [$(( $(date +%s) - T0 ))s] $*"; }
fail () {
    echo "compose_test: FAIL: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- packages

# `make test` installs them (scripts/install-deps.sh --test).
[ -x "$DOCKERD" ] && [ -x "$DOCKER" ] && [ -x "$COMPOSE" ] ||
    fail "docker.io and docker-compose are not installed (scripts/install-deps.sh --test)"
[ "$(id -u)" -eq 0 ] || fail "the test starts its own dockerd, which needs root"

# ---------------------------------------------------------------- the engine

WORK=$(mktemp -d /tmp/tally-compose.XXXXXX)
# The exec root holds sockets: a short path.
RUNDIR=$(mktemp -d /tmp/tcx.XXXXXX)
export DOCKER_HOST=unix://$RUNDIR/d.sock
ENGINE_PID=
C=
BENCH_PID=
WATCH_PID=

cleanup () {
    status=$?
    set +e
    [ -n "$BENCH_PID" ] && kill "$BENCH_PID" 2>/dev/null
    [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
    if [ -n "$ENGINE_PID" ] && kill -0 "$ENGINE_PID" 2>/dev/null; then
        if [ "$status" -ne 0 ] && [ -n "$C" ]; then
            say "logs of the failed run (last lines of each service):"
            $C logs --no-color --tail 15 2>/dev/null | tail -100
        fi
        [ -n "$C" ] && $C down -v --remove-orphans -t 5 >/dev/null 2>&1
        children=$(ps -o pid= --ppid "$ENGINE_PID" 2>/dev/null)
        kill -TERM "$ENGINE_PID"
        deadline=$(( $(date +%s) + 60 ))
        while kill -0 "$ENGINE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.2
        done
        kill -0 "$ENGINE_PID" 2>/dev/null && kill -KILL "$ENGINE_PID"
        # containerd, started by the engine, goes with it; if not, by its pid.
        for child in $children; do kill -0 "$child" 2>/dev/null && kill -KILL "$child"; done
        wait "$ENGINE_PID" 2>/dev/null
    fi
    # Whatever the engine left mounted under its folders.
    awk -v w="$WORK" -v r="$RUNDIR" 'index($2, w) == 1 || index($2, r) == 1 { print $2 }' \
        /proc/mounts | sort -r | while read -r mount; do umount -l "$mount"; done
    rm -rf "$WORK" "$RUNDIR"
    if [ "$status" -eq 0 ]; then say "OK"; else say "FAILED (exit $status)"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# start_engine DRIVER: starts dockerd with that storage driver and waits for
# its API; returns 1 when it exits first (the log says why).
start_engine () {
    mkdir -p "$WORK/data-$1"
    "$DOCKERD" --iptables=false --ip-masq=false --bridge=none --storage-driver "$1" \
        --data-root "$WORK/data-$1" --exec-root "$RUNDIR/e" -H "$DOCKER_HOST" \
        --pidfile "$RUNDIR/d.pid" >"$WORK/dockerd-$1.log" 2>&1 &
    ENGINE_PID=$!
    deadline=$(( $(date +%s) + 60 ))
    until "$DOCKER" info >/dev/null 2>&1; do
        if ! kill -0 "$ENGINE_PID" 2>/dev/null; then
            wait "$ENGINE_PID" 2>/dev/null
            ENGINE_PID=
            return 1
        fi
        [ "$(date +%s)" -lt "$deadline" ] ||
            fail "dockerd ($1) did not answer within 60 s; its log:$(tail -20 "$WORK/dockerd-$1.log")"
        sleep 0.2
    done
}
if start_engine overlay2; then
    DRIVER=overlay2
elif start_engine vfs; then
    DRIVER=vfs
else
    echo "--- dockerd with overlay2:" >&2
    tail -20 "$WORK/dockerd-overlay2.log" >&2
    echo "--- dockerd with vfs:" >&2
    tail -20 "$WORK/dockerd-vfs.log" >&2
    fail "the private Docker engine cannot start (logs above)"
fi
say "engine up: pid $ENGINE_PID, storage $DRIVER, $DOCKER_HOST"

# ---------------------------------------------------------------- images

mkdir -p "$WORK/context/build"
"$SRC/scripts/docker-rootfs.sh" "$BUILD" "$WORK/context/build/rootfs" >/dev/null
cp "$SRC/Dockerfile" "$SRC/.dockerignore" "$WORK/context/"
for image in audit router balance gateway orders cli; do
    "$DOCKER" build -q --target "$image" -t "tally-$image:$TAG" "$WORK/context" >/dev/null ||
        fail "docker build --target $image failed"
done
# The fake payment service (tests/cluster/fake_charge.mjs): the host's node
# and the libraries it loads, FROM scratch like the others.
NODE=$(command -v node || true)
[ -n "$NODE" ] || fail "node is not installed (scripts/install-deps.sh --test installs it)"
NODE=$(readlink -f "$NODE")
mkdir -p "$WORK/charge/rootfs/usr/local/bin" "$WORK/charge/rootfs/tmp"
chmod 1777 "$WORK/charge/rootfs/tmp"
cp "$NODE" "$WORK/charge/rootfs/usr/local/bin/node"
cp "$SRC/tests/cluster/fake_charge.mjs" "$WORK/charge/rootfs/"
for library in $(ldd "$NODE" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    mkdir -p "$WORK/charge/rootfs$(dirname "$library")"
    cp -L "$library" "$WORK/charge/rootfs$library"
done
cat >"$WORK/charge/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/node", "/fake_charge.mjs", "--host", "0.0.0.0", "--port", "8080"]
EOF
"$DOCKER" build -q -t "tally-fake-charge:$TAG" "$WORK/charge" >/dev/null ||
    fail "docker build of the fake payment service failed"
say "images built: $("$DOCKER" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
    grep ":$TAG" | tr '\n' ' ')"

# ---------------------------------------------------------------- the project

"$TALLY" account create --name worker >"$WORK/.env"
WORKER=$(sed -n 's/^TALLY_WORKER_ACCOUNT=//p' "$WORK/.env")
# The servers' CURVE keys, given to the images' user as the README says.
"$TALLY" keys cluster "$WORK/keys" --owner 10001 >/dev/null || fail "tally keys cluster"
printf 'TALLY_TAG=%s\nTALLY_GATEWAY_PORTS=%s\nTALLY_KEYS=%s\n' "$TAG" "$PORT" "$WORK/keys" \
    >>"$WORK/.env"
export TALLY_GATEWAY_KEY="$WORK/keys/gateway.key"
C="$COMPOSE --ansi never -p $PROJECT --env-file $WORK/.env -f $SRC/docker-compose.yml
    -f $SRC/docker-compose.override.yml -f $SRC/tests/compose/compose-test.yml"
# docker-compose 1.29 says once per command that swarm-only keys are ignored.
quiet () { grep -v -e 'sub-keys are not supported' -e '^Creating .*_run' || true; }
# cli ARGS...: docker-compose run --rm ARGS, its output filtered, its status kept.
cli () {
    set +e
    $C run --rm "$@" >"$WORK/cli.out" 2>&1
    code=$?
    set -e
    quiet <"$WORK/cli.out"
    return "$code"
}

# containers SERVICE [ALL]: the IDs of the service's (running, or all) containers.
containers () {
    "$DOCKER" ps ${2:+-a} -q --no-trunc --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=$1"
}
healthy () {
    "$DOCKER" ps -q --filter "label=com.docker.compose.project=$PROJECT" \
        --filter health=healthy | wc -l
}
# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_until () {
    seconds=$1; what=$2; shift 2
    deadline=$(( $(date +%s) + seconds ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { $C ps; fail "not within $seconds s: $what"; }
        sleep 0.25
    done
}
healthy_is () { [ "$(healthy)" -eq "$1" ]; }
# ready_with N: the cluster says ready with N actors, asked inside the gateway.
ready_with () {
    gateway=$(containers gateway | head -1)
    "$DOCKER" exec "$gateway" tally status --gateway tcp://127.0.0.1:7700 --timeout-ms 2000 \
        >"$WORK/status" 2>&1 && grep -q "ready: .* actors $1," "$WORK/status"
}

say "up, 2 balance replicas"
$C up -d --scale balance=2 2>&1 | quiet >"$WORK/up.log"
wait_until 120 "5 containers healthy" healthy_is 5
wait_until 60 "the cluster ready with 2 actors" ready_with 2
$C ps | quiet
# The gateway from the host, through the published port.
"$TALLY" status --gateway "tcp://127.0.0.1:$PORT" --timeout-ms 5000 ||
    fail "the gateway does not answer on 127.0.0.1:$PORT"
NAMES=$($C logs balance 2>&1 | sed -n 's/.*event=ready name=\(balance-[0-9a-f]*\) .*/\1/p' |
    sort -u | tr '\n' ' ')
say "actors named by %h: $NAMES"
[ "$(echo "$NAMES" | wc -w)" -eq 2 ] || fail "expected 2 actors with names of their own"

# ---------------------------------------------------------------- CURVE

# A client without the gateway's key is told so at once, not left waiting.
if env -u TALLY_GATEWAY_KEY "$TALLY" status --gateway "tcp://127.0.0.1:$PORT" \
    --timeout-ms 5000 >"$WORK/nokey" 2>&1; then
    fail "a client without the gateway key was served"
fi
grep -q "requires CURVE" "$WORK/nokey" || fail "no clear error without the key: $(cat "$WORK/nokey")"
# A stranger on the network, with a key pair of its own, posing as a balance
# actor: the router and the audit writer refuse its handshakes and say so.
mkdir "$WORK/stranger"
"$TALLY" keys new stranger --dir "$WORK/stranger" >/dev/null
chown -R 10001:10001 "$WORK/stranger"
set -a; . "$WORK/.env"; set +a
"$DOCKER" run -d --name "$PROJECT-stranger" --network "${PROJECT}_tally" \
    -e TALLY_WORKER_ACCOUNT -e TALLY_WORKER_SECRET \
    -v "$WORK/stranger:/keys:ro" -v "$WORK/keys/router.key:/etc/tally/router.key:ro" \
    -v "$WORK/keys/audit.key:/etc/tally/audit.key:ro" "tally-balance:$TAG" \
    --data-dir /tmp/state --name stranger --router tcp://router:7702 --audit tcp://audit:7703 \
    --bus tcp://router:7704 --curve-secret /keys/stranger.key_secret \
    --router-key /etc/tally/router.key --audit-key /etc/tally/audit.key >/dev/null ||
    fail "cannot start the stranger"
STRANGER_KEY=$("$TALLY" keys show "$WORK/stranger/stranger.key")
refused_by () { $C logs "$1" 2>&1 | grep "event=curve.refused" | grep -qF "key=$STRANGER_KEY"; }
wait_until 30 "the router refusing the stranger" refused_by router
wait_until 30 "the audit writer refusing the stranger" refused_by audit
"$DOCKER" rm -f "$PROJECT-stranger" >/dev/null
ready_with 2 || fail "the stranger changed the cluster: $(cat "$WORK/status")"
# No secret key in any log, nor on any server's command line.
for name in audit router balance gateway; do
    # -e: a Z85 key may begin with "-", which grep would take for an option.
    secret=$(sed -n 's/.*secret-key = "\(.*\)"/\1/p' "$WORK/keys/$name.key_secret")
    [ -n "$secret" ] || fail "no secret-key in keys/$name.key_secret"
    if $C logs 2>&1 | grep -qF -e "$secret"; then fail "the $name secret key is in a log"; fi
    for id in $(containers "$name"); do
        if "$DOCKER" inspect --format '{{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.Env}}' \
            "$id" | grep -qF -e "$secret"; then
            fail "the $name secret key is on its command line or in its environment"
        fi
    done
done
say "CURVE: a client without the key told at once; a stranger refused by router and audit"

# ---------------------------------------------------------------- the seed

"$TALLY" account create --name "Seed User" --json >"$WORK/user.json"
USER_ACCOUNT=$(sed 's/.*"account":"\([^"]*\)".*/\1/' "$WORK/user.json")
USER_SECRET=$(sed 's/.*"secret":"\([^"]*\)".*/\1/' "$WORK/user.json")
AS_USER="-e TALLY_ACCOUNT=$USER_ACCOUNT -e TALLY_SECRET=$USER_SECRET"
say "the seed's scenario, user $USER_ACCOUNT"
cli $AS_USER cli tally send create-account --initial 100 >"$WORK/seed1" ||
    fail "createAccount 100: $(cat "$WORK/seed1")"
grep -q "= 100 " "$WORK/seed1" || fail "createAccount 100: $(cat "$WORK/seed1")"
# shellcheck disable=SC2086
$C run --rm $AS_USER cli tally watch balance --count 2 --timeout 60 >"$WORK/watch" 2>&1 &
WATCH_PID=$!
wait_until 30 "the watcher's snapshot" grep -q "balance=100" "$WORK/watch"
cli $AS_USER cli tally send buy --item item-123 --amount 25 >"$WORK/seed2" ||
    fail "buy 25: $(cat "$WORK/seed2")"
grep -q "balanceAfter 75" "$WORK/seed2" || fail "buy 25: $(cat "$WORK/seed2")"
if cli $AS_USER cli tally send buy --item item-456 --amount 100 >"$WORK/seed3"; then
    fail "buy 100 from 75 was accepted: $(cat "$WORK/seed3")"
fi
grep -q "Insufficient balance" "$WORK/seed3" || fail "buy 100: $(cat "$WORK/seed3")"
wait "$WATCH_PID" || fail "tally watch: $(cat "$WORK/watch")"
WATCH_PID=
grep "balance=" "$WORK/watch" | sed 's/.*\(balance=[0-9]*\).*/\1/' | tr '\n' ' ' >"$WORK/seen"
[ "$(cat "$WORK/seen")" = "balance=100 balance=75 " ] ||
    fail "the watcher saw $(cat "$WORK/seen")instead of 100 then 75"
sed 's/^/    /' "$WORK/seed1" "$WORK/seed2" "$WORK/seed3"
say "watcher saw: $(cat "$WORK/seen")"

# ---------------------------------------------------------------- orders

say "orders: 2 replicas of tally-orders (no shard) and the fake payment service"
O="$C --profile orders"
$O up -d --no-recreate --scale balance=2 --scale orders=2 orders charge 2>&1 |
    quiet >>"$WORK/up.log"
wait_until 120 "7 containers healthy (2 orders)" healthy_is 7
# charged KEY: the fake service's successful charges and voids of KEY.
charged () {
    "$DOCKER" exec "$(containers charge | head -1)" /usr/local/bin/node -e \
        "fetch('http://127.0.0.1:8080/count?key=$1').then(r => r.json())
           .then(c => console.log(c.charges + ' ' + c.voids))"
}
# order_status ID: the order's status, as its user reads it.
order_status () {
    cli $AS_USER cli tally order show "$1" >"$WORK/order" || return 1
    sed -n 's/^order [^ ]* \([a-z]*\) .*/\1/p' "$WORK/order" | head -1
}
is_final () { [ "$(order_status "$1")" = "$2" ]; }
ORDERS=""
for item in ok-1 fail-2 flaky-3 ok-4; do
    cli $AS_USER cli tally order create --item "$item=5" >"$WORK/created" ||
        fail "order create $item: $(cat "$WORK/created")"
    id=$(sed -n 's/^order \(co_z[^ ]*\) draft .*/\1/p' "$WORK/created")
    [ -n "$id" ] || fail "order create $item: $(cat "$WORK/created")"
    cli $AS_USER cli tally order submit "$id" >"$WORK/submitted" ||
        fail "order submit $item: $(cat "$WORK/submitted")"
    ORDERS="$ORDERS $item:$id"
done
SPENT=0
ORDER_PURCHASES=0
for pair in $ORDERS; do
    item=${pair%%:*}
    id=${pair#*:}
    case "$item" in
    fail-*) want=failed ;;
    *)
        want=completed
        SPENT=$(( SPENT + 5 ))
        ORDER_PURCHASES=$(( ORDER_PURCHASES + 1 ))
        ;;
    esac
    wait_until 60 "order $item $want" is_final "$id" "$want"
    counts=$(charged "$id")
    case "$want" in
    completed) [ "$counts" = "1 0" ] || fail "order $item: charges and voids $counts, not 1 0" ;;
    failed)
        [ "$counts" = "0 0" ] || fail "order $item: charges and voids $counts, not 0 0"
        order_status "$id" >/dev/null
        grep -q "card declined" "$WORK/order" || fail "order $item: $(cat "$WORK/order")"
        ;;
    esac
done
cli $AS_USER cli tally send create-account --initial 100 >"$WORK/after-orders" ||
    fail "createAccount after the orders: $(cat "$WORK/after-orders")"
grep -q "= $(( 75 - SPENT )) " "$WORK/after-orders" ||
    fail "after the orders the seed user has $(cat "$WORK/after-orders"), not $(( 75 - SPENT ))"
$O logs orders 2>&1 | grep -q "event=order.completed" || fail "no order.completed in the logs"
# The processor signs as the worker: its secret is in no log.
secret=$(sed -n 's/^TALLY_WORKER_SECRET=//p' "$WORK/.env")
if $O logs orders 2>&1 | grep -qF -e "$secret"; then fail "the worker secret is in a log"; fi
$O rm -sf orders charge 2>&1 | quiet >/dev/null
wait_until 60 "5 containers healthy without the orders" healthy_is 5
say "orders: ok and flaky completed with one charge each, fail failed, balance $(( 75 - SPENT ))"

# ---------------------------------------------------------------- under load

# The seed's buy and the completed orders' purchases (one per line): what
# replay counts as purchases.
ACKED=$(( 1 + ORDER_PURCHASES ))
STALLS=$WORK/stalls
: >"$STALLS"
# bench_start NAME: one `tally bench` in a cli container, 6 clients for 60
# users; returns once its load runs. Unanswered envelopes are posted again
# (same message IDs) after 1 s, as a client does.
bench_start () {
    BENCH_NAME=$1
    # shellcheck disable=SC2086
    $C run --rm cli tally bench --gateway tcp://gateway:7700 --worker "$WORKER" \
        --clients 6 --users 60 --buys 900 --initial 100 --threads 1 \
        --timeout-ms 1000 --attempts 30 >"$WORK/bench-$1" 2>&1 &
    BENCH_PID=$!
    wait_until 60 "bench $1 under way" grep -q "load starts" "$WORK/bench-$1"
}
# bench_end: waits for the bench, checks it, records its longest stall.
bench_end () {
    deadline=$(( $(date +%s) + 180 ))
    while kill -0 "$BENCH_PID" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "bench $BENCH_NAME still running after 180 s"
        sleep 0.25
    done
    set +e
    wait "$BENCH_PID"
    code=$?
    set -e
    BENCH_PID=
    out=$WORK/bench-$BENCH_NAME
    if [ "$code" -ne 0 ] || ! grep -q "^correctness *OK" "$out" ||
        ! grep -q " 0 envelopes unanswered" "$out"; then
        sed 's/^/    /' "$out" | quiet
        fail "bench during $BENCH_NAME: exit $code, or its correctness check failed"
    fi
    ok=$(sed -n 's/^throughput .*(\([0-9]*\) ok in.*/\1/p' "$out")
    ACKED=$(( ACKED + ok ))
    max=$(sed -n 's/^round trip .* max \([0-9.]*\) ms.*/\1/p' "$out")
    p50=$(sed -n 's/^round trip *p50 \([0-9.]*\) ms.*/\1/p' "$out")
    rate=$(sed -n 's/^throughput *\([0-9]*\) durable.*/\1/p' "$out")
    resent=$(sed -n 's/.*(\([0-9]*\) posted again).*/\1/p' "$out")
    printf '| %-32s | %10s ms | %8s ms | %6s | %7s | %5s |\n' "$BENCH_NAME" "$max" "$p50" \
        "$rate" "$ok" "$resent" >>"$STALLS"
    say "$BENCH_NAME: longest stall $max ms (p50 $p50 ms, $rate buys/s, $ok acknowledged," \
        "$resent posted again); correctness OK"
}

say "load, then scale balance 2 -> 4"
bench_start "scale balance 2 -> 4"
$C up -d --no-recreate --scale balance=4 2>&1 | quiet >>"$WORK/up.log"
wait_until 120 "7 containers healthy" healthy_is 7
wait_until 60 "the cluster ready with 4 actors" ready_with 4
bench_end

say "load, then docker kill of one balance container"
VICTIM=$(containers balance | head -1)
bench_start "docker kill of a balance actor"
"$DOCKER" kill "$VICTIM" >/dev/null
wait_until 60 "the cluster ready with 3 actors" ready_with 3
bench_end
# A container stopped by hand stays stopped (restart: unless-stopped restarts
# only what stops by itself); started again, it comes back under its name.
"$DOCKER" start "$VICTIM" >/dev/null
wait_until 60 "the killed actor healthy again" healthy_is 7
wait_until 60 "the cluster ready with 4 actors" ready_with 4

say "load, then docker stop (SIGTERM) of one balance container"
VICTIM=$(containers balance | sed -n 2p)
bench_start "docker stop of a balance actor"
"$DOCKER" stop -t 10 "$VICTIM" >/dev/null
wait_until 60 "the cluster ready with 3 actors" ready_with 3
bench_end

say "load, then SIGSTOP of one balance container (frozen, not ended)"
VICTIM=$(containers balance | head -1)
bench_start "SIGSTOP of a balance actor"
# The server is the container's first process: the engine delivers STOP to it.
"$DOCKER" kill --signal STOP "$VICTIM" >/dev/null
wait_until 60 "the cluster ready with 2 actors" ready_with 2
bench_end
"$DOCKER" kill --signal CONT "$VICTIM" >/dev/null
wait_until 60 "the resumed actor registered again" ready_with 3
wait_until 60 "the resumed actor healthy again" healthy_is 6

say "load, then restart of audit"
bench_start "restart of the audit writer"
$C restart audit 2>&1 | quiet >/dev/null
wait_until 60 "audit healthy again" healthy_is 6
bench_end

say "load, then restart of router"
bench_start "restart of the router"
$C restart router 2>&1 | quiet >/dev/null
wait_until 60 "router healthy again" healthy_is 6
wait_until 60 "the cluster ready with 3 actors" ready_with 3
bench_end

# ---------------------------------------------------------------- the journal

say "stop balance and audit; check the journal volume"
$C stop balance audit 2>&1 | quiet >/dev/null
JOURNAL=/var/lib/tally/audit/journal
cli cli tally audit verify --journal "$JOURNAL" >"$WORK/verify" ||
    fail "tally audit verify: $(cat "$WORK/verify")"
cat "$WORK/verify"
cli cli tally audit replay --journal "$JOURNAL" >"$WORK/replay" ||
    fail "tally audit replay: $(cat "$WORK/replay")"
cat "$WORK/replay"
purchases=$(sed -n 's/.* \([0-9]*\) purchases,.*/\1/p' "$WORK/replay")
[ "$purchases" = "$ACKED" ] ||
    fail "the journal holds $purchases purchases, $ACKED buys were acknowledged"
cli cli tally audit export --format jsonl --journal "$JOURNAL" >"$WORK/export" ||
    fail "tally audit export: $(tail -3 "$WORK/export")"
grep -o '"messageId":"[0-9a-f]*","type":"buy"' "$WORK/export" | sort | uniq -d >"$WORK/twice"
[ ! -s "$WORK/twice" ] || fail "buys journaled more than once: $(head -3 "$WORK/twice")"
if grep -q '"balanceAfter":-' "$WORK/export"; then fail "a negative balance in the journal"; fi
say "journal: $purchases purchases == $ACKED acknowledged buys, none twice, none negative"
# compare_actors: replay --compare against the state of every actor so far.
compare_actors () {
    dirs=""
    for id in $(containers balance all); do
        dirs="$dirs --actors-dir /var/lib/tally/balance/balance-$(echo "$id" | cut -c1-12)"
    done
    # shellcheck disable=SC2086
    cli cli tally audit replay --compare --journal "$JOURNAL" $dirs >"$WORK/compare" ||
        fail "tally audit replay --compare: $(cat "$WORK/compare")"
    tail -1 "$WORK/compare"
    grep -q " 0 differences, 0 partitions in flux" "$WORK/compare" ||
        fail "tally audit replay --compare left partitions unchecked: $(tail -3 "$WORK/compare")"
}
compare_actors

# ---------------------------------------------------------------- down, up

say "down (volumes kept), up again"
$C down -t 20 2>&1 | quiet >/dev/null
$C up -d --scale balance=2 2>&1 | quiet >>"$WORK/up.log"
wait_until 120 "5 containers healthy after up" healthy_is 5
wait_until 60 "the cluster ready with 2 actors after up" ready_with 2
cli $AS_USER cli tally send create-account --initial 100 >"$WORK/again" ||
    fail "createAccount after down and up: $(cat "$WORK/again")"
grep -q "= $(( 75 - SPENT )) " "$WORK/again" ||
    fail "after down and up the seed user has $(cat "$WORK/again"), not $(( 75 - SPENT ))"
# The new actors (new containers, new names) rebuilt every partition from
# the journal: every balance they hold is the journal's.
$C stop balance audit 2>&1 | quiet >/dev/null
compare_actors
say "after down and up: the seed user still has $(( 75 - SPENT )) and every balance matches the journal"

say "longest client-visible stall per disturbance (tally bench, 6 clients, batch 1):"
printf '| %-32s | %13s | %11s | %6s | %7s | %5s |\n' "disturbance" "longest stall" "p50" \
    "buys/s" "acked" "again"
cat "$STALLS"
