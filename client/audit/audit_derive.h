//  audit_derive - what each journal record must hold, derived from its signed
//  envelope and the state of its partition before it, by the balance actor's
//  rules (tly_ledger_execute in actors/balance/tly_ledger.c), so that
//  `tally audit verify` takes no actor's (and no writer's) word for an event.
//
//  For each message of the envelope, in order, the record's result and its
//  events must be what an actor decides from the message and the state:
//
//  - a message ID decided before (in an earlier record, or earlier in this
//    envelope) is a resend: no event, and its first result again;
//  - otherwise createAccount creates the account with exactly the signed
//    initialBalance (AccountCreated) or, when the user has one, answers its
//    balance as it is; buy is priced by the configuration in force
//    (tly_config_price with the record's open_prices: INVALID_ITEM,
//    UNKNOWN_ITEM, PRICE_MISMATCH, INVALID_AMOUNT, or the charge), then
//    refused NO_ACCOUNT, then takes its rate limit token, then records the
//    signed item and the charge (PurchaseRecorded) with balance_after =
//    balance - charge (its result naming the record's partition seq, and
//    no refund), or is refused INSUFFICIENT_BALANCE when the available
//    balance (balance - held) is below the charge; a message the rules
//    refuse (no body) is refused with the code they give. IDs and times
//    follow from the message and the record (balance ID, purchase ID,
//    timestamp);
//  - credit and debit (the message's user U, of the record's partition, may
//    be another than the sender S): its fields (tly_validate_adjustment:
//    a reference starting "refund:" is a refund's, INVALID_REFERENCE), U
//    must be of the record's partition (else BAD_REQUEST), S the worker or
//    an admin of the configuration in force (else PERMISSION_DENIED), and
//    U have an account (else NO_ACCOUNT); a reference U took before
//    (credit or debit alike, kept forever) is answered with its first
//    AdjustmentRecord and changes nothing; a credit past TLY_BALANCE_MAX is
//    refused BALANCE_LIMIT, a debit of more than the available balance
//    (balance - held) INSUFFICIENT_BALANCE; else BalanceAdjusted and the AdjustmentRecord
//    hold the signed amount (< 0 a debit), the balance after, the record's
//    time, `by` S and the ID tly_adjustment_key gives, and U's balance
//    moves. No rate limit token is taken;
//  - refund (docs/protocol.md "Refunds"; its record is of the purchase's
//    partition, the sender S any account), in tly_ledger_execute_refund's
//    order: its fields (tly_validate_refund: BAD_REQUEST, INVALID_NOTE),
//    the purchase of the record's partition (else BAD_REQUEST), S the
//    worker or an admin (else PERMISSION_DENIED); then the purchase as the
//    actor's state holds it: NOT_FOUND (not held, or dropped under
//    --keep-purchases), ALREADY_REFUNDED (refunded before), NO_ACCOUNT,
//    BALANCE_LIMIT, or the credit: BalanceAdjusted (refund_of the
//    purchase, purchase_partition_seq the record that made it) and the
//    AdjustmentRecord of the purchase's user U for the purchase's amount,
//    reference "refund:" + the purchase ID, note the reason, `by` S, and
//    U's balance moves. The purchase is read from the record its event
//    names (the lookup, audit_derive_set_lookup): its PurchaseRecorded
//    gives U and the amount. A purchase refunded before (the derivation
//    keeps the purchases refunded) must be refused ALREADY_REFUNDED, and
//    ALREADY_REFUNDED must be of one. What needs the purchase looked up by
//    its ID (NOT_FOUND, NO_ACCOUNT, BALANCE_LIMIT: no event names its
//    record) is taken as the record says, and so are the amount and user
//    of a refund whose purchase's record the records read do not hold;
//    both are counted (stats). No rate limit token is taken;
//  - the order messages (docs/protocol.md "Orders"; audit_derive_order.c,
//    in the actor's order of checks): their fields
//    (tly_validate_order_message), the order's partition (BAD_REQUEST),
//    for completeOrder and failOrder the worker or an admin
//    (PERMISSION_DENIED), the order (NOT_FOUND, also another user's for
//    editOrder and submitOrder), its status (INVALID_TRANSITION); then
//    createOrder NO_ACCOUNT, each line priced as a buy, 16 open orders a
//    user (ORDER_LIMIT); editOrder the lines priced; submitOrder the
//    stored lines priced again, the available balance
//    (INSUFFICIENT_BALANCE), 256 processing a partition (ORDER_LIMIT).
//    One allowed has its OrderChanged and its result, the order whole
//    (version, times the record's, purchase IDs tly_order_purchase_key
//    gives with the completing message's ID), the balance and held
//    amount after (a submit holds the total, a completion takes it from
//    both, a failure releases it; 0 <= held <= balance) and a
//    completion's purchases with their running balance_after;
//  - addAdmin, removeAdmin and setPrice (configuration messages) are
//    refused BAD_REQUEST out of partition 0; in partition 0 each is decided
//    in order by tly_config_decide on a working copy of the configuration
//    in force (the worker: told, or the envelope's inbox); those that change
//    something make one new version together (the one in force + 1), and
//    each result must be its ConfigChange (the version the working copy is
//    at after it, the admin's ID or the item as it now is) or its refusal.
//
//  The configuration: every record must name the version in force
//  (config_version); only partition 0's records carry one (config): one
//  whose configuration messages changed something carries exactly the
//  working copy they left, which is in force from then on, and one whose
//  messages changed nothing carries none. Version 0 is the empty one. A
//  walk that starts after the journal's first record
//  (audit_derive_start_within) takes the version from the first record and
//  knows the configuration from the first record that carries one: before
//  it, the prices of buys, whether a sender other than the worker is an
//  admin and the configuration messages are not checked (counted).
//
//  The per-user rate limit the record names (RecordDraft.rate_limit) is
//  applied as the actor applies it (tly_rate.h, at the record's time): a
//  new buy of a user with an account takes a token before its balance is
//  looked at, or is refused RATE_LIMITED with exactly the wait the bucket
//  gives; such a refusal is not remembered (the same ID may come again).
//
//  What depends on an actor's configuration is taken as the record says
//  when it changes nothing: a refusal on the configured limits
//  (--max-initial, and --max-amount for an item not in the catalog) and a
//  STALE_MESSAGE_ID (its dedupe clock).
//  A message applied with an ID older than the dedupe window (window_ms, at
//  least the actors' --dedupe-window-ms) before its partition's clock is a
//  failure: an actor refuses it, since it could no longer tell a resend.
//
//  The state of a partition is known from its first record (partition seq
//  1: empty), or from a state snapshot loaded with audit_derive_load_*. A
//  record of a partition whose state is not known (its records before are
//  not kept) is counted as not derived, never guessed; the configuration
//  such a record carries is taken as it says.
//
//  Where a user's account is, verify knows only from the records (it is
//  not told the partition count): a credit or debit of a user it knows no
//  account of may be refused BAD_REQUEST (another partition's user) as
//  well as what the rules give for no account; either changes nothing.
//
//      audit_derive_t *derive = audit_derive_new (window_ms);
//      //  for each record, in order, once its envelope's signature holds:
//      if (audit_derive_record (derive, draft, envelope, reason, sizeof reason) == -1)
//          ... reason names the message and what differs ...
//      audit_derive_stats (derive, &stats);
#ifndef AUDIT_DERIVE_H_INCLUDED
#define AUDIT_DERIVE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_config.h"
#include "tly_limits.h"
#include "tly_object_id.h"

//  Room for one reason, a message's description and two values included.
#define AUDIT_DERIVE_REASON_MAX 512

typedef struct {
    uint64_t derived;                 //  records whose events and results were derived and match
    uint64_t not_derived;             //  records whose partition's state before them is unknown
    uint32_t partitions_not_derived;  //  partitions with such records
    uint64_t first_not_derived;       //  the first such record's partition and partition seq
    uint32_t first_not_derived_partition;
    uint64_t resends;         //  messages that were resends, answered with their first result
    uint64_t repeats;         //  credits and debits of a reference taken before, answered with
                              //  the first adjustment
    uint64_t snapshots;       //  partitions whose state came from a state snapshot
    uint64_t config_version;  //  the configuration in force after the last record
    uint64_t config_first_version;  //  the one the first record walked names
    uint64_t config_changes;        //  records that changed it
    uint64_t config_messages;       //  configuration messages derived (not resends)
    //  Records derived while the configuration was not known (a walk that
    //  starts after the journal's first record, before the first record
    //  that carries one): their buys' prices, a sender's being an admin and
    //  their configuration messages were not checked.
    uint64_t config_unknown;
    //  The configuration in force at the first record walked was taken from
    //  partition 0's state snapshot (the saving actor's word).
    bool config_from_snapshot;
    //  Refunds derived: each of a purchase not refunded before, for its
    //  amount, to its user.
    uint64_t refunds;
    //  Of those, refunds whose purchase's record the records read do not
    //  hold (not kept): their amount and user are as their records say.
    uint64_t refunds_taken;
    //  Refunds refused ALREADY_REFUNDED, each of a purchase refunded before.
    uint64_t refunds_again;
    //  Refunds refused on the purchase as the actor's state held it
    //  (NOT_FOUND, NO_ACCOUNT, BALANCE_LIMIT): as their records say, since
    //  no event names the purchase's record and verify keeps no index from
    //  a purchase ID to it.
    uint64_t refund_lookups_taken;
    //  Order messages derived that changed an order (OrderChanged).
    uint64_t orders_changed;
} audit_derive_stats_t;

//  How the derivation reads a refund's purchase: the record of partition
//  at partition_seq (the refund's event names it), decoded into *draft
//  (valid until the record being derived is done). Returns 1 with *draft,
//  0 when the records read do not hold it (not kept, or before the walk's
//  start: the refund's amount and user are then as its record says,
//  counted), or -1 when reading it failed (the record fails).
typedef int (audit_derive_lookup_fn) (uint32_t partition, uint64_t partition_seq, void *arg,
                                      const Tally__RecordDraft **draft);

typedef struct _audit_derive_t audit_derive_t;

//  window_ms: the longest dedupe window an actor of the journal ran with.
audit_derive_t *audit_derive_new (int64_t window_ms);
void audit_derive_destroy (audit_derive_t **self_p);
//  The worker (the inbox key), who may credit and debit, add and remove
//  admins and set prices. Without it, each envelope's inbox is taken for
//  the worker: an actor refuses an envelope addressed to any other key
//  (UNKNOWN_INBOX) before its messages.
void audit_derive_set_worker (audit_derive_t *self, const uint8_t worker [TLY_KEY_BYTES]);
//  Where refunds' purchases are read from (none set: nowhere, so every
//  refund's amount and user are as its record says, counted).
void audit_derive_set_lookup (audit_derive_t *self, audit_derive_lookup_fn *lookup, void *arg);
//  The walk starts after the journal's first record (records before it are
//  not kept, or a segment is checked alone): the configuration in force is
//  not known, its version is the one the first record names, and it is
//  known from the first record that carries one (version 0: the empty one),
//  or from partition 0's state snapshot (audit_derive_load_config).
void audit_derive_start_within (audit_derive_t *self);
//  The configuration in force, or NULL when it is not known.
const tly_config_t *audit_derive_config (audit_derive_t *self);

//  Checks one record (draft, its envelope decoded; the envelope's signature
//  and whose every event is are the caller's checks) and moves
//  its partition's state on. Returns 0 when the record holds what follows,
//  or when its partition's state is unknown (counted); -1 with one line in
//  reason (partition, user, message and what the record says against what
//  the envelope and the state give).
int audit_derive_record (audit_derive_t *self, const Tally__RecordDraft *draft,
                         const Tally__Envelope *envelope, char *reason, size_t reason_size);

//  Whether the state of partition is known and stands at partition_seq.
bool audit_derive_at (audit_derive_t *self, uint32_t partition, uint64_t partition_seq);

//  A state snapshot of partition as of partition_seq, with the dedupe clock
//  it was saved at, where the state of the partition is not known: begin
//  (-1 when some of its accounts are in the state already: the snapshot
//  cannot be used), then each account and each remembered result (a resend
//  of its message ID is answered with it) is added. An account that is in
//  the state already returns -1.
int audit_derive_load_begin (audit_derive_t *self, uint32_t partition, uint64_t partition_seq,
                             int64_t clock_ms);
int audit_derive_load_account (audit_derive_t *self, uint32_t partition,
                               const uint8_t user [TLY_KEY_BYTES], int64_t balance,
                               int64_t last_updated, int64_t bucket_tokens, int64_t bucket_ms);
//  An account's held amount and open orders, as the snapshot holds them
//  (after audit_derive_load_account): -1 when the account is not there, or
//  held is not within 0 .. its balance.
int audit_derive_load_holds (audit_derive_t *self, uint32_t partition,
                             const uint8_t user [TLY_KEY_BYTES], int64_t held,
                             uint32_t orders_open);
//  An order the snapshot holds (the Order as the actor keeps it: a
//  snapshot holds every order of its partition, final ones too). Returns
//  0, or -1 when it is not an order of partition, is there already, or is
//  malformed.
int audit_derive_load_order (audit_derive_t *self, uint32_t partition, const Tally__Order *order);
void audit_derive_load_result (audit_derive_t *self, uint32_t partition,
                               const uint8_t user [TLY_KEY_BYTES],
                               const uint8_t message_id [TLY_MESSAGE_ID_BYTES],
                               const Tally__MessageResult *result);
//  An adjustment the snapshot holds, under its raw object key (its
//  reference taken; a refund's also marks its purchase refunded). Returns
//  0, or -1 when the key is not of an adjustment of partition, or is there
//  already, or a refund's reference names no purchase of partition.
int audit_derive_load_adjustment (audit_derive_t *self, uint32_t partition,
                                  const uint8_t key [TLY_OBJECT_KEY_BYTES],
                                  const Tally__AdjustmentRecord *record);

//  Partition 0's configuration in a state snapshot at the record the walk
//  stands at (config NULL: it holds none, version 0). Where the
//  configuration in force is known, it must be that one; where it is not,
//  it is taken (the saving actor's word) once its version is the one in
//  force (before the first record walked: the one that record names).
//  Returns 0, or -1 with one line in reason (it is not the one in force,
//  or it breaks the rules of a Config).
int audit_derive_load_config (audit_derive_t *self, const Tally__Config *config, char *reason,
                              size_t reason_size);

//  The derived balance of user, who must be in partition: 0 with *balance,
//  or -1 when the state has no such account there.
int audit_derive_balance (audit_derive_t *self, uint32_t partition,
                          const uint8_t user [TLY_KEY_BYTES], int64_t *balance);
//  Accounts the derived state holds in partition.
uint64_t audit_derive_accounts (audit_derive_t *self, uint32_t partition);
//  Whether the derived state holds record under its raw object key, field
//  for field.
bool audit_derive_has_adjustment (audit_derive_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES],
                                  const Tally__AdjustmentRecord *record);
//  The derived held amount and open orders of user, who must be in
//  partition: 0 with *held and *orders_open, or -1 when the state has no
//  such account there.
int audit_derive_held (audit_derive_t *self, uint32_t partition, const uint8_t user [TLY_KEY_BYTES],
                       int64_t *held, uint32_t *orders_open);
//  Whether the derived state holds order with its status, version and total.
bool audit_derive_has_order (audit_derive_t *self, const Tally__Order *order);
//  Orders the derived state holds in partition.
uint64_t audit_derive_orders (audit_derive_t *self, uint32_t partition);
//  Credits and debits the derived state holds in partition.
uint64_t audit_derive_adjustments (audit_derive_t *self, uint32_t partition);

void audit_derive_stats (audit_derive_t *self, audit_derive_stats_t *stats);

#endif
