#!/bin/sh
# Orders through the CLI against `tally up` (open prices), the worker
# settling by hand as the order processor would: alice creates a draft and
# edits it; bob can neither submit nor read it; submitted, its total is
# held (her balance shows it) and a buy past what is left is refused; her
# own completion is refused, the worker's captures the hold (a purchase
# per line); a second order failed by the worker releases its hold and
# keeps the error; her list shows both; bad input is refused before
# anything is sent; then `tally audit verify` re-derives every order
# decision and the journal replays to the actors' state.
# Usage: cli_orders.sh TALLY_BINARY BASE_PORT
set -u
tally=$1
port=$2
. "$(dirname "$0")/up_lib.sh"
worker="$data/worker.json"
"$tally" account create --name alice --json > "$data/alice.json" || fail "account create"
"$tally" account create --name bob --json > "$data/bob.json" || fail "account create"
alice_id=$(sed 's/^{"account":"\([^"]*\)".*/\1/' "$data/alice.json")
as() { who=$1; shift; "$tally" "$@" --account-file "$data/$who.json"; }
as_worker() { "$tally" "$@" --account-file "$worker"; }

expect 0 '"balance":100' as alice send create-account --initial 100 --json

# A draft, then edited to three lines.
expect 0 "^{\"ok\":true,\"result\":{\"id\":\"co_z[^\"]*\",\"userId\":\"$alice_id\",\"status\":\"draft\",\"items\":\\[{\"itemId\":\"gem\",\"amount\":30},{\"itemId\":\"coin\",\"amount\":20}\\],\"total\":50,.*\"version\":1," \
    as alice order create --item gem=30 --item coin=20 --json
order=$(echo "$out" | sed 's/^{"ok":true,"result":{"id":"\([^"]*\)".*/\1/')
expect 0 "^order $order draft total 60 items 3\$" \
    as alice order edit "$order" --item gem=30 --item coin=20 --item hat=10

# bob can neither submit nor read it.
expect 1 'No such order (NOT_FOUND)' as bob order submit "$order"
expect 1 '(PERMISSION_DENIED)' as bob order show "$order"

# Submitted: 60 held; a buy past the 40 left is refused; no more edits.
expect 0 "^order $order processing total 60 items 3\$" as alice order submit "$order"
until_seen '"balance":100,"held":60' "the hold in the balance" \
    as alice watch balance --count 1 --json --timeout 10
expect 1 'Insufficient balance (INSUFFICIENT_BALANCE)' as alice send buy --item gem --amount 41
expect 1 '(INVALID_TRANSITION)' as alice order edit "$order" --item gem=1

# Only the worker settles it: the hold captured, a purchase per line.
expect 1 'Only the worker may complete or fail an order (PERMISSION_DENIED)' \
    as alice admin complete "$order"
expect 0 "^order $order completed total 60 items 3\$" as_worker admin complete "$order"
expect 0 '"status":"completed",.*"purchaseIds":\["co_z[^"]*","co_z[^"]*","co_z[^"]*"\]' \
    as alice order show "$order" --json
until_seen '"balance":40,"held":0' "the hold captured" \
    as alice watch balance --count 1 --json --timeout 10

# A second order, failed by the worker: the hold released, the error kept.
expect 0 '^order co_z[^ ]* draft total 30 items 1$' as alice order create --item gem=30
second=$(echo "$out" | sed 's/^order \([^ ]*\) .*/\1/')
expect 0 "^order $second processing total 30 items 1\$" as alice order submit "$second"
# Seen held first: the object may trail the answer, and 40 with none held
# is also what it showed before this order.
until_seen '"balance":40,"held":30' "the second order's hold" \
    as alice watch balance --count 1 --json --timeout 10
expect 0 "^order $second failed total 30 items 1 error card declined\$" \
    as_worker admin fail "$second" --error "card declined"
until_seen '"balance":40,"held":0' "the hold released" \
    as alice watch balance --count 1 --json --timeout 10
expect 1 '(INVALID_TRANSITION)' as_worker admin complete "$second"
expect 0 "^orders co_z[^ ]* v[0-9]* count 2 shown 2" as alice order list
echo "$out" | grep -q "^order $second failed total 30" || fail "list: $out"

# Bad input: refused before anything is sent (exit 2); 16 lines, the
# limit, are an order.
expect 2 '--item is required' as alice order create
expect 2 'amount must be 0' as alice order create --item gem=-1
expect 2 "is not an order's ID" as alice order submit co_zfoo
items=""
for i in $(seq 16); do items="$items --item i$i=1"; done
# shellcheck disable=SC2086
expect 0 "^order co_z[^ ]* draft total 16 items 16\$" as alice order create $items
# shellcheck disable=SC2086
expect 2 'an order holds at most 16 items' as alice order create $items --item i17=1

# The journal, live.
expect 0 '^verify: OK' "$tally" audit verify --data-dir "$data"
expect 0 '^compare: OK .* 0 differences' "$tally" audit replay --compare --data-dir "$data"
echo "$out"
echo "cli_orders: OK"
