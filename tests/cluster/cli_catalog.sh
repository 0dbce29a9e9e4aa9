#!/bin/sh
# The admin group and the price catalog through the CLI against `tally up`
# (prices closed, the default): a buy of an item not in the catalog is
# refused (and a `tally bench` without --catalog, all of whose buys are,
# fails); the worker makes bob an admin, bob sets a price and credits
# alice; `tally catalog list` and `tally watch catalog` show the item;
# alice buys it without an amount and is charged the price, a buy naming
# another amount is refused PRICE_MISMATCH; taken off sale it is refused
# UNKNOWN_ITEM; bob removed from the group may no longer set a price.
# Usage: cli_catalog.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
open_prices=""
. "$(dirname "$0")/up_lib.sh"
worker="$data/worker.json"
"$tally" account create --name alice --json > "$data/alice.json" || fail "account create"
"$tally" account create --name bob --json > "$data/bob.json" || fail "account create"
bob_id=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$data/bob.json")
alice_id=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$data/alice.json")
as() { who=$1; shift; "$tally" "$@" --account-file "$data/$who.json"; }
as_worker() { "$tally" "$@" --account-file "$worker"; }

expect 0 '"balance":100' as alice send create-account --initial 100 --json

# Nothing priced yet: an empty catalog, and a buy without an amount refused.
expect 0 '"version":1,"configVersion":0,"items":\[\]' as alice catalog list --json
expect 1 'UNKNOWN_ITEM' as alice send buy --item item-123
# tally bench naming prices on this system (prices closed, no --catalog):
# every buy refused, so it fails instead of printing figures of nothing.
expect 1 'no buy was acknowledged (6 refused, 0 envelopes unanswered' \
    "$tally" bench --gateway "$TALLY_GATEWAY" --worker "$TALLY_WORKER_ACCOUNT" --clients 2 --buys 3

# Only the worker changes the group; only an admin sets a price.
expect 2 'only the worker may do this' as bob admin add --account "$bob_id"
expect 1 'PERMISSION_DENIED' as bob catalog set item-123 --price 25
expect 1 'PERMISSION_DENIED' as bob admin credit --user "$alice_id" --amount 10 --reference r1
expect 0 "^config version 1 admin $bob_id\$" as_worker admin add --account "$bob_id"
# Again: nothing changes, the same version.
expect 0 "^{\"ok\":true,\"result\":{\"version\":1,\"adminId\":\"$bob_id\"}}\$" \
    as_worker admin add --account "$bob_id" --json
expect 0 '^{"ok":true,"result":{"version":2,"item":{"itemId":"item-123","price":25,"active":true}}}$' \
    as bob catalog set item-123 --price 25 --json
expect 0 "by $bob_id" as bob admin credit --user "$alice_id" --amount 10 --reference r1

# The catalog, as anyone reads it (the Catalog object may trail the answer
# by a moment: wait for it, 20 s at most).
deadline=$(( $(date +%s) + 20 ))
until out=$(as alice catalog list --json) && echo "$out" | grep -q '"configVersion":2'; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "catalog list: $out"
    sleep 0.05
done
echo "$out" | grep -q '"items":\[{"itemId":"item-123","price":25,"active":true}\]' \
    || fail "catalog list: $out"
expect 0 '^item item-123 price 25 active$' as alice catalog list
expect 0 '"kind":"catalog".*"configVersion":2' as alice watch catalog --count 1 --json --timeout 10

# Bought at the catalog price: no amount, or the price itself.
expect 0 '"itemId":"item-123","amount":25,.*"balanceAfter":85' \
    as alice send buy --item item-123 --json
expect 0 'amount 25 balanceAfter 60' as alice send buy --item item-123 --amount 25
expect 1 'PRICE_MISMATCH' as alice send buy --item item-123 --amount 30
expect 1 'UNKNOWN_ITEM' as alice send buy --item item-9 --amount 5

# Off sale: kept in the catalog, its buys refused.
expect 0 '^config version 3 item item-123 price 25 inactive$' \
    as_worker catalog set item-123 --price 25 --inactive
expect 1 'UNKNOWN_ITEM' as alice send buy --item item-123

# bob removed: no longer an admin.
expect 0 "^config version 4 admin $bob_id\$" as_worker admin remove --account "$bob_id"
expect 1 'PERMISSION_DENIED' as bob catalog set item-123 --price 30
deadline=$(( $(date +%s) + 20 ))
until out=$(as alice catalog list) && echo "$out" | grep -q '^item item-123 price 25 inactive$'; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "catalog list after the item went off sale: $out"
    sleep 0.05
done
expect 0 '"balance":60' as alice send create-account --initial 100 --json
echo "cli_catalog: OK"
