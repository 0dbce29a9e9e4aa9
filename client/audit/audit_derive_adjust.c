//  audit_derive_adjust - credits and debits in verify's derivation (see
//  audit_derive.h): what the rules give for one, in their order, and the
//  event and result a record must hold for it; the references taken, as a
//  state snapshot gives them and as the derived state holds them.
#include "audit_derive_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_validate.h"

//  The credit or debit a message carries (NULL: none).
const Tally__Adjustment *
audit_derive_adjustment (const Tally__InboxMessage *message, bool *credit)
{
    *credit = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT;
    if (*credit)
        return message->credit;
    return message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT ? message->debit : NULL;
}

//  What the rules give for a new credit or debit, in their order: the
//  message's fields, its user's partition, the sender (the worker or an
//  admin), the user's account,
//  the reference, the balance. No rate limit token is taken.
void
audit_derive_expect_adjustment (const audit_derive_record_t *record,
                                const Tally__InboxMessage *message,
                                audit_derive_expected_t *expected)
{
    audit_derive_t *self = record->self;
    bool credit;
    const Tally__Adjustment *adjustment = audit_derive_adjustment (message, &credit);
    const char *text = NULL;
    expected->error = tly_validate_adjustment (adjustment, &text);
    if (expected->error != TALLY__ERROR_CODE__OK)
        return;
    audit_account_t *target = audit_state_find (self->accounts, adjustment->user.data);
    if (target && target->partition != record->partition) {
        expected->error = TALLY__ERROR_CODE__BAD_REQUEST;
        return;
    }
    //  A user verify knows no account of may be another partition's.
    if (!target)
        expected->instead |= audit_derive_code (TALLY__ERROR_CODE__BAD_REQUEST);
    //  The worker or an admin; where the configuration is not known, one
    //  who may be an admin may be refused.
    int admin = audit_derive_admin (record);
    if (admin == 0) {
        expected->error = TALLY__ERROR_CODE__PERMISSION_DENIED;
        return;
    }
    if (admin == -1)
        expected->instead |= audit_derive_code (TALLY__ERROR_CODE__PERMISSION_DENIED);
    if (!target) {
        expected->error = TALLY__ERROR_CODE__NO_ACCOUNT;
        return;
    }
    expected->target = target;
    expected->amount = credit ? adjustment->amount : -adjustment->amount;
    tly_adjustment_key (record->partition, adjustment->user.data, adjustment->reference,
                        expected->key);
    expected->taken = audit_derive_reference_find (
        self, audit_derive_reference_fingerprint (self, expected->key));
    if (expected->taken) {
        expected->balance = target->balance;  //  the first one's answer, nothing changes
        return;
    }
    //  The amount is at most TLY_BALANCE_MAX (validated): no overflow.
    if (credit && target->balance > TLY_BALANCE_MAX - adjustment->amount)
        expected->error = TALLY__ERROR_CODE__BALANCE_LIMIT;
    else if (!credit && target->balance - target->held < adjustment->amount)
        expected->error = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
    else {
        expected->event = true;
        expected->balance = target->balance + expected->amount;
    }
}

//  credit or debit, new and allowed: a reference taken before is answered
//  with its first adjustment and changes nothing; else BalanceAdjusted and
//  the result hold the signed amount, the balance after, the record's time
//  and the sender, and the user's balance moves.
int
audit_derive_check_adjusted (audit_derive_record_t *record, const Tally__InboxMessage *message,
                             const Tally__MessageResult *result,
                             const audit_derive_expected_t *expected)
{
    audit_derive_t *self = record->self;
    bool credit;
    const Tally__Adjustment *adjustment = audit_derive_adjustment (message, &credit);
    const Tally__AdjustmentRecord *adjusted = result->adjustment;
    char id [TLY_ID_MAX], user_id [TLY_ID_MAX];
    tly_object_id_of_key (expected->key, id);
    tly_account_id (adjustment->user.data, user_id);
    const Tally__Event *event = audit_derive_next_event (record,
                                                         TALLY__EVENT__KIND_BALANCE_ADJUSTED);
    bool for_it = event && audit_derive_same_text (event->balance_adjusted->adjustment_id, id);
    if (expected->taken) {
        if (for_it)
            return audit_derive_fail (
                record,
                "its reference was taken before (adjustment %s): the record applies"
                " it again (BalanceAdjusted for it)",
                id);
        if (audit_derive_adjustment_digest (self, adjusted) != expected->taken->digest)
            return audit_derive_fail (
                record,
                "its reference was taken before: a repeat is answered with the first"
                " adjustment (%s), and the record answers another",
                id);
        self->stats.repeats++;
        return 0;
    }
    if (!for_it)
        return audit_derive_fail (
            record,
            "the record has no BalanceAdjusted for it; the envelope and the state"
            " give one with balance_after %" PRId64 " (adjustment %s)",
            expected->balance, id);
    record->next_event++;
    const Tally__BalanceAdjusted *event_said = event->balance_adjusted;
    if ((event_said->refund_of && *event_said->refund_of) || event_said->purchase_partition_seq)
        return audit_derive_fail (record, "BalanceAdjusted names a refund (refund_of,"
                                          " purchase_partition_seq) for a credit or debit");
    if (!audit_derive_same_key (&event_said->user, adjustment->user.data))
        return audit_derive_fail (record, "BalanceAdjusted is not for the message's user %s",
                                  user_id);
    AUDIT_DERIVE_SAME (record, "BalanceAdjusted says amount", event_said->amount, expected->amount);
    AUDIT_DERIVE_SAME (record, "BalanceAdjusted says balance_after", event_said->balance_after,
                       expected->balance);
    AUDIT_DERIVE_SAME (record, "BalanceAdjusted says timestamp", event_said->timestamp,
                       record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "BalanceAdjusted's reference", event_said->reference,
                            adjustment->reference);
    AUDIT_DERIVE_SAME_TEXT (record, "BalanceAdjusted's note", event_said->note,
                            adjustment->note ? adjustment->note : "");
    if (!audit_derive_same_key (&event_said->by, record->user))
        return audit_derive_fail (record, "BalanceAdjusted's by is not the sender");
    AUDIT_DERIVE_SAME (record, "the result says amount", adjusted->amount, expected->amount);
    AUDIT_DERIVE_SAME (record, "the result says balanceAfter", adjusted->balance_after,
                       expected->balance);
    AUDIT_DERIVE_SAME (record, "the result says timestamp", adjusted->timestamp, record->now_ms);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's adjustment ID", adjusted->id, id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's user ID", adjusted->user_id, user_id);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's reference", adjusted->reference,
                            adjustment->reference);
    AUDIT_DERIVE_SAME_TEXT (record, "the result's note", adjusted->note,
                            adjustment->note ? adjustment->note : "");
    AUDIT_DERIVE_SAME_TEXT (record, "the result's by", adjusted->by, record->user_id);
    expected->target->balance = expected->balance;
    expected->target->last_updated = record->now_ms;
    audit_derive_reference_add (self, audit_derive_reference_fingerprint (self, expected->key),
                                audit_derive_adjustment_digest (self, adjusted));
    self->partitions [record->partition].adjustments++;
    return 0;
}

bool
audit_derive_adjusts_again (const audit_derive_record_t *record, const Tally__InboxMessage *message)
{
    const Tally__RecordDraft *draft = record->draft;
    bool credit;
    const Tally__Adjustment *adjustment = audit_derive_adjustment (message, &credit);
    if (record->next_event >= draft->n_events || !adjustment
        || adjustment->user.len != TLY_KEY_BYTES || !adjustment->reference)
        return false;
    const Tally__Event *event = draft->events [record->next_event];
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    tly_adjustment_key (record->partition, adjustment->user.data, adjustment->reference, key);
    tly_object_id_of_key (key, id);
    return event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
           && audit_derive_same_text (event->balance_adjusted->adjustment_id, id);
}

//  ---------------------------------------------------------------- references

int
audit_derive_load_adjustment (audit_derive_t *self, uint32_t partition,
                              const uint8_t key [TLY_OBJECT_KEY_BYTES],
                              const Tally__AdjustmentRecord *record)
{
    assert (self && partition < TLY_PARTITIONS_MAX && key && record);
    uint64_t fingerprint = audit_derive_reference_fingerprint (self, key);
    if (key [0] != TLY_OBJ_ADJUSTMENT || tly_object_key_partition (key) != partition
        || audit_derive_reference_find (self, fingerprint)
        || audit_derive_load_refund (self, partition, record) == -1)
        return -1;
    audit_derive_reference_add (self, fingerprint, audit_derive_adjustment_digest (self, record));
    self->partitions [partition].adjustments++;
    return 0;
}

bool
audit_derive_has_adjustment (audit_derive_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES],
                             const Tally__AdjustmentRecord *record)
{
    assert (self && key && record);
    const audit_derive_reference_t *taken = audit_derive_reference_find (
        self, audit_derive_reference_fingerprint (self, key));
    return taken && taken->digest == audit_derive_adjustment_digest (self, record);
}

uint64_t
audit_derive_adjustments (audit_derive_t *self, uint32_t partition)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    return self->partitions [partition].adjustments;
}
