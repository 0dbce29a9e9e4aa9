#!/bin/sh
# Refunds through the CLI against `tally up` (open prices): alice buys; a
# refund by alice or by bob (no admin) is refused; the worker refunds it
# (her balance back, the purchase's record at version 2 naming the
# refund, her history showing both); a second refund is refused
# ALREADY_REFUNDED; a purchase the cluster does not hold is NOT_FOUND; bob
# made an admin refunds another; then `tally audit verify` re-derives every
# refund (each purchase read from its record) and refusal, and the journal
# replays to the actors' state.
# Usage: cli_refund.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
. "$(dirname "$0")/up_lib.sh"
worker="$data/worker.json"
"$tally" account create --name alice --json > "$data/alice.json" || fail "account create"
"$tally" account create --name bob --json > "$data/bob.json" || fail "account create"
alice_id=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$data/alice.json")
bob_id=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$data/bob.json")
worker_id=$TALLY_WORKER_ACCOUNT
as() { who=$1; shift; "$tally" "$@" --account-file "$data/$who.json"; }
as_worker() { "$tally" "$@" --account-file "$worker"; }

expect 0 '"balance":100' as alice send create-account --initial 100 --json
expect 0 '"itemId":"item-1","amount":25,.*"balanceAfter":75,"partitionSeq":[1-9][0-9]*,"refundId":"","refundedAt":0' \
    as alice send buy --item item-1 --amount 25 --json
purchase=$(echo "$out" | sed 's/^{"ok":true,"result":{"id":"\([^"]*\)".*/\1/')
expect 0 'balanceAfter 65' as alice send buy --item item-2 --amount 10
other=$(echo "$out" | sed 's/^purchase \([^ ]*\) .*/\1/')
echo "$purchase $other" | grep -q '^co_z[^ ]* co_z[^ ]*$' || fail "purchase IDs: '$purchase' '$other'"

# Only the worker or an admin: alice and bob are refused, nothing changes.
expect 1 'Only an admin may refund a purchase (PERMISSION_DENIED)' \
    as alice admin refund --purchase "$purchase"
expect 1 '"code":"PERMISSION_DENIED"' as bob admin refund --purchase "$purchase" --json
# Not a purchase's ID: refused before anything is sent.
expect 2 "is not a purchase's ID" as_worker admin refund --purchase "$alice_id"

# The worker refunds it: a credit of alice for the purchase's amount.
expect 0 "^refund co_z[^ ]* of purchase $purchase user $alice_id amount 25 balanceAfter 90 at [^ ]* by $worker_id reason Not delivered\$" \
    as_worker admin refund --purchase "$purchase" --reason "Not delivered"
refund=$(echo "$out" | sed 's/^refund \([^ ]*\) .*/\1/')
# Again: refused, nothing changes (text, then JSON; exit 1 both).
expect 1 'Purchase already refunded (ALREADY_REFUNDED)' \
    as_worker admin refund --purchase "$purchase" --reason "Not delivered"
expect 1 '^{"ok":false,"error":{"code":"ALREADY_REFUNDED","message":"Purchase already refunded"}}$' \
    as_worker admin refund --purchase "$purchase" --json
# A purchase the cluster does not hold (another tail in the same partition).
case $purchase in *a) missing="${purchase%?}b" ;; *) missing="${purchase%?}a" ;; esac
expect 1 '(NOT_FOUND)' as_worker admin refund --purchase "$missing"

# Her balance is back; the purchase's record is at version 2, naming the
# refund; her history has the refund as an entry.
until_seen '"balance":90' "balance after the refund" \
    as alice watch balance --count 1 --json --timeout 10
until_seen "^snapshot purchase $purchase v2 item=item-1 amount=25 balanceAfter=75 timestamp=[^ ]* refunded by $refund at " \
    "the purchase's refunded version" as alice watch "$purchase" --count 1 --timeout 10
expect 0 "\"version\":2,.*\"refundId\":\"$refund\",\"refundedAt\":[1-9]" \
    as alice watch "$purchase" --count 1 --json --timeout 10
expect 0 "^refund $refund amount=25 balanceAfter=90 reference=refund:$purchase .* by=$worker_id note=Not delivered\$" \
    as alice watch purchases --count 3 --timeout 10
# The refund's own record, by its ID.
expect 0 "\"reference\":\"refund:$purchase\",\"note\":\"Not delivered\"" \
    as alice watch "$refund" --count 1 --json --timeout 10

# bob made an admin refunds the other purchase (JSON: the record as a credit's).
expect 0 "^config version 1 admin $bob_id\$" as_worker admin add --account "$bob_id"
expect 0 "\"amount\":10,\"reference\":\"refund:$other\",\"note\":\"\",\"balanceAfter\":100,.*\"by\":\"$bob_id\"" \
    as bob admin refund --purchase "$other" --json
expect 1 'ALREADY_REFUNDED' as_worker admin refund --purchase "$other"

# The journal, live: verify re-derives the two refunds from their
# purchases' records, the three ALREADY_REFUNDED from the refunds before
# them, and counts the NOT_FOUND as said; every balance rebuilt matches the
# actors' state.
expect 0 '^verify: 2 refunds, each of a purchase not refunded before, to its user for its amount as the purchase.s record gives them; 3 refused ALREADY_REFUNDED' \
    "$tally" audit verify --data-dir "$data"
echo "$out" | grep -q '^verify: 1 refunds refused on the purchase as the actor.s state held it' \
    || fail "verify did not count the NOT_FOUND: $out"
expect 0 '"refunds":2,"refundsTakenAsSaid":0,"refundsRefusedAgain":3,"refundLookupsTakenAsSaid":1[,}]' \
    "$tally" audit verify --data-dir "$data" --json
expect 0 '^compare: OK .* 0 differences' "$tally" audit replay --compare --data-dir "$data"
echo "$out"
echo "cli_refund: OK"
