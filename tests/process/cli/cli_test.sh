#!/bin/sh
# cli_test - the `tally` command's arguments, output formats and exit codes,
# without a cluster. Usage: cli_test.sh path/to/tally
set -u
TALLY=$1
WORK=$(mktemp -d /tmp/tally-cli-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0

# expect CODE PATTERN CMD... : runs CMD, checks its exit code and that its
# stdout+stderr matches the grep pattern.
expect () {
    code=$1; pattern=$2; shift 2
    "$@" >"$WORK/out" 2>&1
    got=$?
    if [ "$got" -ne "$code" ] || ! grep -q -e "$pattern" "$WORK/out"; then
        echo "FAIL: $* -> exit $got (want $code), output:"; sed 's/^/    /' "$WORK/out"
        FAILED=1
    fi
}

expect 2 'usage: tally' "$TALLY"
expect 0 'usage: tally' "$TALLY" --help
expect 2 "unknown command 'frobnicate'" "$TALLY" frobnicate
expect 0 'tally send buy' "$TALLY" send --help
expect 0 'tally up --data-dir' "$TALLY" up --help
expect 0 'tally status' "$TALLY" status --help
expect 0 'tally account create' "$TALLY" account create --help
expect 2 "expected 'create-account' or 'buy'" "$TALLY" send refund
expect 2 '--name is required' "$TALLY" account create
expect 2 "bad option or missing value: '--bogus'" "$TALLY" account create --name x --bogus
expect 2 "missing value: '--name'" "$TALLY" account create --name

# Accounts: text and JSON forms, and the JSON form is an account file.
expect 0 '^TALLY_WORKER_ACCOUNT=co_z' "$TALLY" account create --name "Balance Service Worker"
expect 0 '^TALLY_WORKER_SECRET=sealerSecret_z.*/signerSecret_z' "$TALLY" account create --name w
"$TALLY" account create --name 'me "quoted"' --json >"$WORK/me.json"
expect 0 '"name":"me \\"quoted\\""' cat "$WORK/me.json"
WORKER=$("$TALLY" account create --name w | sed -n 's/^TALLY_WORKER_ACCOUNT=//p')

# Strict numbers.
expect 2 '--amount: not an integer in range' \
    "$TALLY" send buy --item item-123 --amount 99999999999999999999 --worker "$WORKER" --account-file "$WORK/me.json"
expect 2 '--amount: not an integer in range' "$TALLY" send buy --item i --amount 12abc
expect 2 '--amount: not an integer in range' "$TALLY" send buy --item i --amount ''
expect 2 '--initial: not an integer in range' "$TALLY" send create-account --initial ' 5'
expect 2 '--timeout-ms: not an integer in range' "$TALLY" send create-account --initial 5 --timeout-ms 0
expect 2 '--base-port: not an integer in range' "$TALLY" up --data-dir "$WORK/up" --base-port 65533
expect 2 '--actors: not an integer in range' "$TALLY" up --data-dir "$WORK/up" --actors 0

# Missing pieces are usage errors.
expect 2 '--initial is required' "$TALLY" send create-account
expect 2 'no worker' env -u TALLY_WORKER_ACCOUNT "$TALLY" send create-account --initial 1
expect 2 'is not an account ID' "$TALLY" send create-account --initial 1 --worker co_zbad
expect 2 'TALLY_ACCOUNT is not set' env -u TALLY_ACCOUNT "$TALLY" send create-account --initial 1 --worker "$WORKER"
expect 2 'cannot read account file' "$TALLY" send create-account --initial 1 --worker "$WORKER" --account-file "$WORK/none.json"
expect 2 '--data-dir is required' "$TALLY" up
expect 2 'cannot find tally-audit; looked in: /nonexistent' "$TALLY" up --data-dir "$WORK/up" --bin-dir /nonexistent

# No gateway: exit 2 after the timeout, text or JSON.
expect 2 'error: no reply from tcp://127.0.0.1:9 within 300 ms.*(TIMEOUT)' \
    "$TALLY" send create-account --initial 1 --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300
expect 2 '^{"ok":false,"error":{"code":"TIMEOUT","message":"no reply' \
    "$TALLY" send buy --item i --amount 1 --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300 --json
expect 2 'TIMEOUT' env TALLY_GATEWAY=tcp://127.0.0.1:9 "$TALLY" status --timeout-ms 300

# tally watch: arguments, and no gateway (exit 2).
expect 0 'watch balance|purchases' "$TALLY" --help
expect 0 'tally watch balance' "$TALLY" watch --help
expect 2 'what to watch' "$TALLY" watch
expect 2 "'frob' is not balance, purchases, catalog, orders or an object ID" "$TALLY" watch frob
expect 2 "unexpected argument 'x'" "$TALLY" watch balance x
expect 2 '--timeout: not a number of seconds' "$TALLY" watch balance --timeout 1.5s
expect 2 '--count: not an integer in range' "$TALLY" watch balance --count 0
expect 2 '--partitions: not an integer in range' "$TALLY" watch balance --partitions 0
expect 2 'no worker' env -u TALLY_WORKER_ACCOUNT "$TALLY" watch balance
# --timeout bounds the whole watch, so the subscribe gets what is left of it:
# 300 ms, or a little less when starting up took a millisecond or more.
expect 2 'error: no snapshot of co_z.* within [0-9]* ms.*(TIMEOUT)' \
    "$TALLY" watch balance --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout 0.3
expect 2 '^{"ok":false,"error":{"code":"TIMEOUT"' \
    "$TALLY" watch purchases --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout 0.3 --json

# tally admin add|remove and tally catalog: arguments, the worker check, and
# no gateway (exit 2); a buy without --amount (the catalog price) goes.
ME=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$WORK/me.json")
expect 0 'catalog set ITEM --price N' "$TALLY" --help
expect 0 'admin add|remove --account ID' "$TALLY" --help
expect 0 'tally admin add --account co_z' "$TALLY" admin --help
expect 0 'tally catalog set ITEM --price N \[--inactive\]' "$TALLY" catalog --help
expect 0 'tally catalog list \[options\]' "$TALLY" catalog list --help
expect 0 'tally watch catalog' "$TALLY" watch --help
expect 2 "expected 'credit', 'debit', 'refund', 'complete', 'fail', 'add' or 'remove'" \
    "$TALLY" admin promote
expect 2 "expected 'set' or 'list'" "$TALLY" catalog
expect 2 "expected 'set' or 'list'" "$TALLY" catalog delete item-1
expect 2 '--account is required' "$TALLY" admin add
expect 2 "account 'co_zbad' is not an account ID" "$TALLY" admin remove --account co_zbad
expect 2 "unexpected argument 'x'" "$TALLY" admin add --account "$ME" x
expect 2 "bad option or missing value: '--user'" "$TALLY" admin add --user "$ME"
expect 2 'which item' "$TALLY" catalog set --price 5
expect 2 '--price is required' "$TALLY" catalog set item-1 --inactive
expect 2 '--price: not an integer in range' "$TALLY" catalog set item-1 --price 2.5
expect 2 "unexpected argument 'item-2'" "$TALLY" catalog set item-1 item-2 --price 5
expect 2 "unexpected argument 'x'" "$TALLY" catalog list x
expect 2 "bad option or missing value: '--price'" "$TALLY" catalog list --price 5
expect 2 '--item is required' "$TALLY" send buy --amount 5
# tally admin refund: a purchase's ID is required, and nothing else goes.
expect 0 'admin refund --purchase ID \[--reason TEXT\]' "$TALLY" --help
expect 0 'tally admin refund --purchase co_z\.\.\. \[--reason TEXT\]' "$TALLY" admin --help
expect 0 'refund: the purchase' "$TALLY" admin refund --help
expect 2 '--purchase is required' "$TALLY" admin refund
expect 2 '--purchase is required' "$TALLY" admin refund --reason late
expect 2 "purchase 'co_zbad' is not a purchase's ID (co_z\.\.\.)" \
    "$TALLY" admin refund --purchase co_zbad
expect 2 "purchase '$ME' is not a purchase's ID" "$TALLY" admin refund --purchase "$ME"
expect 2 "unexpected argument 'x'" "$TALLY" admin refund --purchase co_zbad x
expect 2 "bad option or missing value: '--user'" "$TALLY" admin refund --user "$ME"
expect 2 "bad option or missing value: '--amount'" "$TALLY" admin refund --purchase co_zbad --amount 5
expect 2 "missing value: '--purchase'" "$TALLY" admin refund --purchase
# tally order and tally admin complete|fail: items, the order's ID, nothing else.
expect 0 'order create --item ITEM\[=N\]' "$TALLY" --help
expect 0 'admin complete|fail ORDER_ID \[--error TEXT\]' "$TALLY" --help
expect 0 'tally order submit ORDER_ID' "$TALLY" order --help
expect 0 'tally admin complete ORDER_ID' "$TALLY" admin --help
expect 0 'tally watch orders' "$TALLY" watch --help
expect 2 "expected 'create', 'edit', 'submit', 'show' or 'list'" "$TALLY" order
expect 2 "expected 'create', 'edit', 'submit', 'show' or 'list'" "$TALLY" order cancel
expect 2 '--item is required (1\.\.16 of them)' "$TALLY" order create
expect 2 "amount is not an integer in 'a=x'" "$TALLY" order create --item a=x
expect 2 'item 2: amount must be 0' "$TALLY" order create --item a --item b=-1
expect 2 'item 1: itemId must not be empty' "$TALLY" order create --item =5
expect 2 'an order holds at most 16 items' "$TALLY" order create --item a --item a --item a \
    --item a --item a --item a --item a --item a --item a --item a --item a --item a --item a \
    --item a --item a --item a --item a
expect 2 "unexpected argument 'x'" "$TALLY" order create --item a x
expect 2 'which order' "$TALLY" order edit --item a
expect 2 "order 'co_zbad' is not an order's ID (co_z\.\.\.)" "$TALLY" order edit co_zbad --item a
expect 2 "order '$ME' is not an order's ID" "$TALLY" order submit "$ME"
expect 2 "bad option or missing value: '--item'" "$TALLY" order submit co_zbad --item a
expect 2 "order 'co_zbad' is not an order's ID" "$TALLY" order show co_zbad
expect 2 "unexpected argument 'x'" "$TALLY" order list x
expect 2 'which order' "$TALLY" admin complete
expect 2 "bad option or missing value: '--error'" "$TALLY" admin complete co_zbad --error x
expect 2 "order 'co_zbad' is not an order's ID" "$TALLY" admin fail co_zbad --error x
expect 2 "unexpected argument 'y'" "$TALLY" admin fail co_zbad y
expect 2 '^{"ok":false,"error":{"code":"TIMEOUT"' \
    "$TALLY" order create --item a --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300 --json
expect 2 'error: no snapshot of co_z.* within 300 ms.*(TIMEOUT)' \
    "$TALLY" order list --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300
expect 2 'only the worker may do this' \
    "$TALLY" admin add --account "$ME" --worker "$WORKER" --account-file "$WORK/me.json"
expect 2 'error: no reply from tcp://127.0.0.1:9 within 300 ms.*(TIMEOUT)' \
    "$TALLY" catalog set item-1 --price 5 --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300
expect 2 '^{"ok":false,"error":{"code":"TIMEOUT"' \
    "$TALLY" send buy --item item-1 --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300 --json
expect 2 'error: no snapshot of co_z.* within 300 ms.*(TIMEOUT)' \
    "$TALLY" catalog list --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout-ms 300
expect 2 '^{"ok":false,"error":{"code":"TIMEOUT"' \
    "$TALLY" watch catalog --worker "$WORKER" --account-file "$WORK/me.json" \
    --gateway tcp://127.0.0.1:9 --timeout 0.3 --json

[ "$FAILED" -eq 0 ] && echo "cli_test: OK"
exit "$FAILED"
