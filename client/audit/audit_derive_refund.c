//  audit_derive_refund - refunds in verify's derivation (see audit_derive.h):
//  what the rules give for one, in tly_ledger_execute_refund's order, and
//  the event and result a record must hold for it. A refund is a credit of
//  the purchase's user for the purchase's amount, so its amount and user
//  come from the purchase: verify reads the record that made it (the one
//  its BalanceAdjusted names, purchase_partition_seq) through the lookup
//  it is given. The purchases refunded are kept in the table of references
//  under their purchase keys (kind 4, which no adjustment key is: kind 7),
//  16 bytes each, so memory is bounded by the refunds; a state snapshot's
//  credits give them too (a refund's reference is "refund:" + its ID).
//
//  What verify cannot know is taken as the record says, and counted: a
//  refusal that needs the purchase looked up by its ID in the actor's
//  state (NOT_FOUND: verify keeps no index from a purchase ID to its
//  record; NO_ACCOUNT and BALANCE_LIMIT: the purchase's user and amount),
//  and a refund whose purchase's record the records read do not hold (not
//  kept), whose amount and user are then its event's.
#include "audit_derive_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_validate.h"

void
audit_derive_set_lookup (audit_derive_t *self, audit_derive_lookup_fn *lookup, void *arg)
{
    assert (self);
    self->lookup = lookup;
    self->lookup_arg = arg;
}

//  ---------------------------------------------------------------- the purchases refunded

bool
audit_derive_refunded (const audit_derive_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    assert (key [0] == TLY_OBJ_PURCHASE);
    return audit_derive_reference_find (self, audit_derive_reference_fingerprint (self, key))
           != NULL;
}

static void
s_mark_refunded (audit_derive_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    assert (key [0] == TLY_OBJ_PURCHASE);
    audit_derive_reference_add (self, audit_derive_reference_fingerprint (self, key), 0);
}

int
audit_derive_load_refund (audit_derive_t *self, uint32_t partition,
                          const Tally__AdjustmentRecord *record)
{
    const char *reference = record->reference ? record->reference : "";
    size_t prefix = sizeof TLY_REFUND_PREFIX - 1;
    if (strncmp (reference, TLY_REFUND_PREFIX, prefix) != 0)
        return 0;  //  a credit's or a debit's
    tly_object_kind_t kind;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (tly_object_id_parse (reference + prefix, &kind, NULL, NULL) == -1
        || kind != TLY_OBJ_PURCHASE || tly_object_key_parse (reference + prefix, key) == -1
        || tly_object_key_partition (key) != partition || record->amount <= 0)
        return -1;  //  only a refund of a purchase of the partition takes such a reference
    s_mark_refunded (self, key);
    return 0;
}

//  ---------------------------------------------------------------- the purchase

//  The PurchaseRecorded of purchase_id in the record of the partition at
//  partition_seq: in the record being derived (an earlier message of its
//  envelope bought it), or read through the lookup. Returns 1 (*recorded
//  NULL when that record holds no such purchase), 0 when the records read
//  do not hold that record, or -1 (reason set) when reading it failed.
static int
s_purchase (audit_derive_record_t *record, const char *purchase_id, uint64_t partition_seq,
            const Tally__PurchaseRecorded **recorded)
{
    audit_derive_t *self = record->self;
    *recorded = NULL;
    const Tally__RecordDraft *draft = NULL;
    size_t events = 0;
    if (partition_seq == record->draft->partition_seq) {
        draft = record->draft;
        events = record->next_event;  //  those of the messages before this one
    } else {
        int found = self->lookup
                        ? self->lookup (record->partition, partition_seq, self->lookup_arg, &draft)
                        : 0;
        if (found == -1)
            return audit_derive_fail (
                record, "the purchase's record (partition seq %" PRIu64 ") could not be read",
                partition_seq);
        if (found == 0)
            return 0;
        assert (draft && draft->partition == record->partition
                && draft->partition_seq == partition_seq);
        events = draft->n_events;
    }
    //  A buy's PurchaseRecorded, or one of an order's completion.
    for (size_t i = 0; i < events && !*recorded; i++) {
        const Tally__Event *event = draft->events [i];
        if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED && event->purchase_recorded
            && audit_derive_same_text (event->purchase_recorded->purchase_id, purchase_id))
            *recorded = event->purchase_recorded;
        else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED && event->order_changed)
            for (size_t j = 0; j < event->order_changed->n_purchases; j++) {
                const Tally__PurchaseRecorded *line = event->order_changed->purchases [j];
                if (line && audit_derive_same_text (line->purchase_id, purchase_id)) {
                    *recorded = line;
                    break;
                }
            }
    }
    return 1;
}

//  ---------------------------------------------------------------- the rules

//  A refusal the rules give (expected): the record must say it.
static int
s_refused (audit_derive_record_t *record, const Tally__MessageResult *result, Tally__ErrorCode code,
           Tally__ErrorCode expected)
{
    if (code == expected)
        return 0;
    return audit_derive_fail (record, "the result is %s; the envelope and the state give %s",
                              audit_derive_outcome (result), tly_error_name (expected));
}

//  A refund the rules allow: the credit of the purchase's user for its
//  amount, its event naming the purchase and the record that made it.
static int
s_check_refunded (audit_derive_record_t *record, const Tally__Refund *refund,
                  const uint8_t key [TLY_OBJECT_KEY_BYTES], const Tally__AdjustmentRecord *adjusted)
{
    audit_derive_t *self = record->self;
    const Tally__Event *event = audit_derive_next_event (record,
                                                         TALLY__EVENT__KIND_BALANCE_ADJUSTED);
    if (!event || !audit_derive_same_text (event->balance_adjusted->refund_of, refund->purchase_id))
        return audit_derive_fail (record, "the record has no BalanceAdjusted for it (refund_of the"
                                          " purchase); the envelope and the state give one");
    const Tally__BalanceAdjusted *said = event->balance_adjusted;
    uint64_t made_at = said->purchase_partition_seq;
    if (made_at == 0 || made_at > record->draft->partition_seq)
        return audit_derive_fail (record,
                                  "BalanceAdjusted says purchase_partition_seq %" PRIu64
                                  ": no record of the partition up to this one",
                                  made_at);
    //  The purchase: its user and amount, from the record that made it.
    const Tally__PurchaseRecorded *purchase;
    int found = s_purchase (record, refund->purchase_id, made_at, &purchase);
    if (found == -1)
        return -1;
    const uint8_t *user;
    int64_t amount;
    char user_id [TLY_ID_MAX];
    if (found == 1) {
        if (!purchase)
            return audit_derive_fail (record,
                                      "BalanceAdjusted says the purchase was made at partition"
                                      " seq %" PRIu64 ", and that record has no PurchaseRecorded"
                                      " of it",
                                      made_at);
        if (purchase->user.len != TLY_KEY_BYTES)
            return audit_derive_fail (record,
                                      "the purchase's PurchaseRecorded (partition seq"
                                      " %" PRIu64 ") names no user key",
                                      made_at);
        user = purchase->user.data;
        amount = purchase->amount;
        tly_account_id (user, user_id);
        if (!audit_derive_same_key (&said->user, user))
            return audit_derive_fail (record,
                                      "BalanceAdjusted is not for the purchase's user %s"
                                      " (partition seq %" PRIu64 ")",
                                      user_id, made_at);
        if (said->amount != amount)
            return audit_derive_fail (record,
                                      "BalanceAdjusted says amount %" PRId64
                                      "; the purchase's record (partition seq %" PRIu64
                                      ") gives %" PRId64,
                                      said->amount, made_at, amount);
    } else {
        //  Not kept: its amount and user as the refund's record says.
        if (said->user.len != TLY_KEY_BYTES)
            return audit_derive_fail (record, "BalanceAdjusted names no user key");
        user = said->user.data;
        amount = said->amount;
        tly_account_id (user, user_id);
        if (amount <= 0 || amount > TLY_BALANCE_MAX)
            return audit_derive_fail (record,
                                      "BalanceAdjusted says amount %" PRId64
                                      "; a purchase's amount is 1 .. 2^53 - 1",
                                      amount);
    }
    audit_account_t *target = audit_state_find (self->accounts, user);
    if (!target || target->partition != record->partition)
        return audit_derive_fail (record,
                                  "the result is an adjustment; the purchase's user %s has no"
                                  " account in the partition: the rules give NO_ACCOUNT",
                                  user_id);
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (refund->purchase_id, reference);
    uint8_t adjustment_key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (record->partition, user, reference, adjustment_key);
    uint64_t fingerprint = audit_derive_reference_fingerprint (self, adjustment_key);
    if (audit_derive_reference_find (self, fingerprint))
        return audit_derive_fail (record, "its reference was taken before: the purchase was"
                                          " refunded before, and the rules give ALREADY_REFUNDED");
    if (target->balance > TLY_BALANCE_MAX - amount)
        return audit_derive_fail (record,
                                  "the result is an adjustment; the balance %" PRId64
                                  " and the purchase's amount %" PRId64
                                  " pass 2^53 - 1: the rules give BALANCE_LIMIT",
                                  target->balance, amount);
    int64_t balance = target->balance + amount;
    char id [TLY_ID_MAX];
    tly_object_id_of_key (adjustment_key, id);
    const char *note = refund->reason ? refund->reason : "";
    record->next_event++;
    AUDIT_DERIVE_SAME (record, "BalanceAdjusted says balance_after", said->balance_after, balance);
    AUDIT_DERIVE_SAME (record, "BalanceAdjusted says timestamp", said->timestamp, record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "BalanceAdjusted's adjustment_id", said->adjustment_id, id);
    AUDIT_DERIVE_SAME_TEXT (record, "BalanceAdjusted's reference", said->reference, reference);
    AUDIT_DERIVE_SAME_TEXT (record, "BalanceAdjusted's note", said->note, note);
    if (!audit_derive_same_key (&said->by, record->user))
        return audit_derive_fail (record, "BalanceAdjusted's by is not the sender");
    AUDIT_DERIVE_SAME (record, "the result says amount", adjusted->amount, amount);
    AUDIT_DERIVE_SAME (record, "the result says balanceAfter", adjusted->balance_after, balance);
    AUDIT_DERIVE_SAME (record, "the result says timestamp", adjusted->timestamp, record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's adjustment ID", adjusted->id, id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's user ID", adjusted->user_id, user_id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's reference", adjusted->reference, reference);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's note", adjusted->note, note);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's by", adjusted->by, record->user_id);
    target->balance = balance;
    target->last_updated = record->now_ms;
    audit_derive_reference_add (self, fingerprint, audit_derive_adjustment_digest (self, adjusted));
    self->partitions [record->partition].adjustments++;
    s_mark_refunded (self, key);
    self->stats.refunds++;
    self->stats.refunds_taken += found == 0;
    return 0;
}

int
audit_derive_check_refund (audit_derive_record_t *record, const Tally__InboxMessage *message,
                           const Tally__MessageResult *result)
{
    audit_derive_t *self = record->self;
    const Tally__Refund *refund = message->refund;
    Tally__ErrorCode code = result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR
                                    && result->error
                                ? result->error->code
                                : TALLY__ERROR_CODE__OK;
    //  Its fields, its partition (the purchase's), its sender (the worker
    //  or an admin): what the message and the configuration give.
    const char *text = NULL;
    Tally__ErrorCode expected = tly_validate_refund (refund, &text);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (expected == TALLY__ERROR_CODE__OK) {
        int parsed = tly_object_key_parse (refund->purchase_id, key);
        assert (parsed == 0);
        if (tly_object_key_partition (key) != record->partition)
            expected = TALLY__ERROR_CODE__BAD_REQUEST;
    }
    int admin = expected == TALLY__ERROR_CODE__OK ? audit_derive_admin (record) : 1;
    if (admin == 0)
        expected = TALLY__ERROR_CODE__PERMISSION_DENIED;
    if (expected != TALLY__ERROR_CODE__OK)
        return s_refused (record, result, code, expected);
    //  Where the configuration is not known, one who may be an admin may
    //  be refused.
    if (admin == -1 && code == TALLY__ERROR_CODE__PERMISSION_DENIED)
        return 0;
    //  Then the purchase, as the actor's state holds it. Whether it holds
    //  it verify cannot tell (a purchase dropped under --keep-purchases,
    //  refunded or not, is NOT_FOUND too).
    if (code == TALLY__ERROR_CODE__NOT_FOUND) {
        self->stats.refund_lookups_taken++;
        return 0;
    }
    if (audit_derive_refunded (self, key)) {
        if (code == TALLY__ERROR_CODE__ALREADY_REFUNDED) {
            self->stats.refunds_again++;
            return 0;
        }
        return audit_derive_fail (record,
                                  "the result is %s; the purchase was refunded before: the"
                                  " envelope and the state give ALREADY_REFUNDED",
                                  audit_derive_outcome (result));
    }
    if (code == TALLY__ERROR_CODE__ALREADY_REFUNDED)
        return audit_derive_fail (record, "the result is ALREADY_REFUNDED; the records refund the"
                                          " purchase nowhere before");
    //  Refusals on the purchase's user and amount: verify knows neither
    //  without the purchase's record, which no event names then.
    if (code == TALLY__ERROR_CODE__NO_ACCOUNT || code == TALLY__ERROR_CODE__BALANCE_LIMIT) {
        self->stats.refund_lookups_taken++;
        return 0;
    }
    if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT || !result->adjustment)
        return audit_derive_fail (record,
                                  "the result is %s; the envelope and the state give an"
                                  " adjustment (or a refusal on the purchase: NOT_FOUND,"
                                  " NO_ACCOUNT, BALANCE_LIMIT)",
                                  audit_derive_outcome (result));
    return s_check_refunded (record, refund, key, result->adjustment);
}

bool
audit_derive_refunds_again (const audit_derive_record_t *record, const Tally__InboxMessage *message)
{
    const Tally__RecordDraft *draft = record->draft;
    if (message->body_case != TALLY__INBOX_MESSAGE__BODY_REFUND || !message->refund
        || record->next_event >= draft->n_events)
        return false;
    const Tally__Event *event = draft->events [record->next_event];
    return event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED && event->balance_adjusted
           && event->balance_adjusted->refund_of && *event->balance_adjusted->refund_of
           && audit_derive_same_text (event->balance_adjusted->refund_of,
                                      message->refund->purchase_id ? message->refund->purchase_id
                                                                   : "");
}

void
audit_derive_describe_refund (const Tally__InboxMessage *message, char *described, size_t size)
{
    const Tally__Refund *refund = message->refund;
    char purchase [AUDIT_DERIVE_SHOWN + 4], reason [AUDIT_DERIVE_SHOWN + 4];
    audit_derive_shown (refund->purchase_id, purchase);
    audit_derive_shown (refund->reason, reason);
    snprintf (described, size, "refund of purchase %s reason \"%s\"", purchase, reason);
}
