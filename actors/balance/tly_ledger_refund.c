//  tly_ledger_refund - refunds (docs/protocol.md, "Refunds"): an admin
//  gives a purchase's amount back, once. The refund is a credit of the
//  purchase's user whose reference is "refund:" + the purchase's ID (so it
//  is kept for good and counted once, like any credit), and the purchase's
//  record gains a second version naming it. Execute decides one; apply
//  replays the purchase's part of it (the credit is replayed as any).
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include "tly_account.h"
#include "tly_log.h"
#include "tly_object_id.h"
#include "tly_validate.h"

int
tly_ledger_execute_refund (tly_ledger_t *self, const tly_ledger_user_t *sender,
                           const Tally__Refund *refund, int64_t now_ms, tly_arena_t *arena,
                           Tally__MessageResult *result, Tally__Event **event_p,
                           uint64_t *version_p)
{
    const char *reason = NULL;
    Tally__ErrorCode code = tly_validate_refund (refund, &reason);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_ledger_set_error (arena, result, code, reason);
        return 0;
    }
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    int parsed = tly_object_key_parse (refund->purchase_id, key);
    assert (parsed == 0);
    uint32_t partition = tly_object_key_partition (key);
    if (partition != sender->route) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BAD_REQUEST,
                              "a refund goes to its purchase's partition");
        return 0;
    }
    if (!sender->worker && !tly_config_is_admin (self->config, self->limits.worker, sender->pk)) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__PERMISSION_DENIED,
                              "Only an admin may refund a purchase");
        return 0;
    }
    Tally__PurchaseRecord *purchase = NULL;
    tly_ledger_kept_t kept = tly_ledger_purchase (self, refund->purchase_id, arena, &purchase);
    if (kept == TLY_LEDGER_LOOKUP_ERROR)
        return -1;
    if (kept != TLY_LEDGER_KEPT) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NOT_FOUND,
                              kept == TLY_LEDGER_DROPPED
                                  ? "Purchase no longer kept live (--keep-purchases): give the"
                                    " amount back with a credit"
                                  : "No such purchase");
        return 0;
    }
    if (purchase->refund_id && *purchase->refund_id) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__ALREADY_REFUNDED,
                              "Purchase already refunded");
        return 0;
    }
    tly_ledger_user_t user;
    uint8_t user_pk [TLY_KEY_BYTES];
    if (!purchase->user_id || tly_account_id_parse (purchase->user_id, user_pk) == -1) {
        tly_log (TLY_ERROR, "ledger.bad_purchase", "id=%s reason=\"no user\"", refund->purchase_id);
        return -1;
    }
    tly_ledger_user_init (&user, user_pk, self->limits.partition_count);
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (refund->purchase_id, reference);
    uint8_t adjustment_key [TLY_OBJECT_KEY_BYTES];
    tly_adjustment_key (partition, user.pk, reference, adjustment_key);
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, user.pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__NO_ACCOUNT,
                              tly_error_default_message (TALLY__ERROR_CODE__NO_ACCOUNT));
        return 0;
    }
    int64_t balance_after;
    if (__builtin_add_overflow (state.balance, purchase->amount, &balance_after)
        || balance_after > TLY_BALANCE_MAX) {
        tly_ledger_set_error (arena, result, TALLY__ERROR_CODE__BALANCE_LIMIT,
                              "Balance limit exceeded: a balance is at most 9007199254740991");
        return 0;
    }
    char id [TLY_ID_MAX];
    tly_object_id_of_key (adjustment_key, id);
    Tally__AdjustmentRecord *record = tly_arena_alloc (arena, sizeof *record);
    tally__adjustment_record__init (record);
    record->id = tly_arena_strdup (arena, id);
    record->user_id = tly_arena_strdup (arena, user.id);
    record->amount = purchase->amount;
    record->reference = tly_arena_strdup (arena, reference);
    record->note = tly_arena_strdup (arena, refund->reason ? refund->reason : "");
    record->timestamp = now_ms;
    record->balance_after = balance_after;
    record->by = tly_arena_strdup (arena, sender->id);
    //  The purchase's second version first, then the entry (which may drop
    //  the oldest records, this one among them): replay does the same.
    purchase->refund_id = record->id;
    purchase->refunded_at = now_ms;
    if (tly_store_put_purchase (self->store, purchase) == -1
        || tly_ledger_record_adjustment (self, user.pk, partition, &state, record) == -1)
        return -1;

    Tally__Event *event = tly_ledger_adjusted (arena, user.pk, sender->pk, record);
    event->balance_adjusted->refund_of = tly_arena_strdup (arena, refund->purchase_id);
    event->balance_adjusted->purchase_partition_seq = purchase->partition_seq;
    *event_p = event;
    *version_p = state.balance_version;
    tly_ledger_set_versions (self, &state, 0);
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    result->adjustment = record;
    return 0;
}

int
tly_ledger_apply_refund (tly_ledger_t *self, const Tally__RecordDraft *draft,
                         const Tally__BalanceAdjusted *adjusted, tly_arena_t *arena)
{
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (adjusted->refund_of, reference);
    if (strcmp (reference, adjusted->reference) != 0 || adjusted->amount <= 0) {
        tly_log (TLY_ERROR, "ledger.bad_record",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64
                 " reason=\"a refund whose reference or amount is not a refund's\"",
                 draft->partition, draft->partition_seq);
        return -1;
    }
    Tally__PurchaseRecord *purchase = NULL;
    tly_store_lookup_t found = tly_store_purchase (self->store, adjusted->refund_of, arena,
                                                   &purchase);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT)
        return 0;  //  dropped by now: nothing of it is kept to mark
    if ((purchase->refund_id && *purchase->refund_id) || purchase->amount != adjusted->amount) {
        tly_log (TLY_ERROR, "ledger.bad_record",
                 "partition=%" PRIu32 " partition_seq=%" PRIu64
                 " reason=\"a refund of a purchase refunded before, or of another amount\"",
                 draft->partition, draft->partition_seq);
        return -1;
    }
    purchase->refund_id = adjusted->adjustment_id;
    purchase->refunded_at = adjusted->timestamp;
    return tly_store_put_purchase (self->store, purchase);
}
