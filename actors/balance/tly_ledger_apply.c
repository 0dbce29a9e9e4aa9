//  tly_ledger_apply - a balance actor's state: journal records replayed into
//  it (tly_ledger.h, "apply"): each event's effect, exactly as execute left
//  it, through the effects tly_ledger.c shares.
#include "tly_ledger_private.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_rate.h"

static int
s_apply_created (tly_ledger_t *self, const Tally__RecordDraft *draft,
                 const Tally__AccountCreated *created)
{
    uint8_t key [TLY_STORE_OBJECT_BYTES], derived [TLY_STORE_OBJECT_BYTES];
    tly_user_object_key (TLY_OBJ_BALANCE, created->user.data, draft->partition, derived);
    if (tly_object_key_parse (created->balance_id, key) == -1
        || memcmp (key, derived, sizeof key) != 0 || created->initial_balance < 0)
        return tly_ledger_bad_record (draft, "malformed AccountCreated");
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, created->user.data, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_FOUND)
        return tly_ledger_bad_record (draft, "AccountCreated for an existing account");
    return tly_ledger_create_account (self, created->user.data, draft->partition,
                                      created->balance_id, created->initial_balance,
                                      created->timestamp);
}

static int
s_apply_purchase (tly_ledger_t *self, const Tally__RecordDraft *draft,
                  const Tally__PurchaseRecorded *recorded, tly_arena_t *arena)
{
    tly_object_kind_t kind;
    uint32_t partition;
    if (!recorded->purchase_id || !recorded->item_id
        || tly_object_id_parse (recorded->purchase_id, &kind, &partition, NULL) == -1
        || kind != TLY_OBJ_PURCHASE || partition != draft->partition)
        return tly_ledger_bad_record (draft, "malformed PurchaseRecorded");
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, recorded->user.data, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    int64_t expected;
    if (found == TLY_STORE_ABSENT || recorded->amount <= 0
        || __builtin_sub_overflow (state.balance, recorded->amount, &expected)
        || expected < state.held || expected != recorded->balance_after)
        return tly_ledger_bad_record (draft, "PurchaseRecorded does not follow the balance");
    char user_id [TLY_ID_MAX];
    tly_account_id (recorded->user.data, user_id);
    Tally__PurchaseRecord record = TALLY__PURCHASE_RECORD__INIT;
    record.id = recorded->purchase_id;
    record.user_id = tly_arena_strdup (arena, user_id);
    record.item_id = recorded->item_id;
    record.amount = recorded->amount;
    record.timestamp = recorded->timestamp;
    record.balance_after = recorded->balance_after;
    record.partition_seq = draft->partition_seq;
    return tly_ledger_record_purchase (self, recorded->user.data, draft->partition, &state,
                                       &record);
}

//  The tokens the record's buys took from the sender's bucket, at its time.
static int
s_charge (tly_ledger_t *self, const Tally__RecordDraft *draft, const uint8_t user [TLY_KEY_BYTES],
          uint64_t tokens)
{
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, user, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    if (found == TLY_STORE_ABSENT)
        return tly_ledger_bad_record (draft, "a rate limit token taken without an account");
    tly_rate_bucket_t bucket = { state.bucket_tokens, state.bucket_ms };
    tly_rate_charge (&bucket, draft->timestamp_ms, draft->rate_limit->per_minute,
                     draft->rate_limit->burst, tokens);
    state.bucket_tokens = bucket.tokens;
    state.bucket_ms = bucket.at_ms;
    return tly_store_put_account (self->store, user, &state);
}

static int
s_apply_adjusted (tly_ledger_t *self, const Tally__RecordDraft *draft,
                  const Tally__BalanceAdjusted *adjusted, const ProtobufCBinaryData *sender,
                  tly_arena_t *arena)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES], derived [TLY_OBJECT_KEY_BYTES];
    if (adjusted->user.len != TLY_KEY_BYTES || !adjusted->reference || !adjusted->note
        || adjusted->by.len != TLY_KEY_BYTES
        || memcmp (adjusted->by.data, sender->data, TLY_KEY_BYTES) != 0
        || tly_object_key_parse (adjusted->adjustment_id, key) == -1)
        return tly_ledger_bad_record (draft, "malformed BalanceAdjusted");
    tly_ledger_user_t target;
    tly_ledger_user_init (&target, adjusted->user.data, self->limits.partition_count);
    tly_adjustment_key (draft->partition, target.pk, adjusted->reference, derived);
    if (target.partition != draft->partition || memcmp (key, derived, sizeof key) != 0)
        return tly_ledger_bad_record (draft, "BalanceAdjusted of another partition or reference");
    tly_account_state_t state;
    tly_store_lookup_t found = tly_store_account (self->store, target.pk, &state);
    if (found == TLY_STORE_ERROR)
        return -1;
    int64_t expected;
    if (found == TLY_STORE_ABSENT || adjusted->amount == 0
        || __builtin_add_overflow (state.balance, adjusted->amount, &expected)
        || expected < state.held || expected > TLY_BALANCE_MAX
        || expected != adjusted->balance_after)
        return tly_ledger_bad_record (draft, "BalanceAdjusted does not follow the balance");
    char by [TLY_ID_MAX];
    tly_account_id (sender->data, by);
    Tally__AdjustmentRecord record = TALLY__ADJUSTMENT_RECORD__INIT;
    record.id = adjusted->adjustment_id;
    record.user_id = target.id;
    record.amount = adjusted->amount;
    record.reference = adjusted->reference;
    record.note = adjusted->note;
    record.timestamp = adjusted->timestamp;
    record.balance_after = adjusted->balance_after;
    record.by = tly_arena_strdup (arena, by);
    if (adjusted->refund_of && *adjusted->refund_of
        && tly_ledger_apply_refund (self, draft, adjusted, arena) == -1)
        return -1;
    return tly_ledger_record_adjustment (self, target.pk, draft->partition, &state, &record);
}

//  Every event must belong to the request's sender (one user per envelope),
//  but a credit's or debit's, which belongs to the user it adjusts, and an
//  order's, which belongs to the order's user.
static int
s_apply_event (tly_ledger_t *self, const Tally__RecordDraft *draft, const Tally__Event *event,
               const ProtobufCBinaryData *sender, tly_arena_t *arena)
{
    const ProtobufCBinaryData *user = NULL;
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED)
        user = &event->account_created->user;
    else if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED)
        user = &event->purchase_recorded->user;
    else if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED)
        return s_apply_adjusted (self, draft, event->balance_adjusted, sender, arena);
    else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
        //  The order's user's, whoever sent it (the worker completes).
        return tly_ledger_apply_order (self, draft, event->order_changed, arena);
    else
        return tly_ledger_bad_record (draft, "unknown event");
    if (user->len != TLY_KEY_BYTES || memcmp (user->data, sender->data, TLY_KEY_BYTES) != 0)
        return tly_ledger_bad_record (draft, "event user is not the request's sender");
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED)
        return s_apply_created (self, draft, event->account_created);
    return s_apply_purchase (self, draft, event->purchase_recorded, arena);
}

tly_ledger_result_t
tly_ledger_apply (tly_ledger_t *self, const Tally__RecordDraft *draft, tly_arena_t *arena)
{
    assert (self);
    assert (tly_store_in_txn (self->store));
    assert (draft && arena);
    if (draft->partition >= self->limits.partition_count)
        return tly_ledger_bad_record (draft, "partition out of range");
    uint64_t applied, epoch;
    if (tly_store_progress (self->store, draft->partition, &applied, &epoch) == -1)
        return TLY_LEDGER_ERROR;
    if (draft->partition_seq <= applied)
        return TLY_LEDGER_DUPLICATE;
    if (draft->partition_seq != applied + 1)
        return tly_ledger_bad_record (draft, "partition_seq is not the next one");
    if (!draft->request)
        return tly_ledger_bad_record (draft, "no request");
    Tally__Envelope *envelope = tally__envelope__unpack (
        tly_arena_allocator (arena), draft->request->envelope.len, draft->request->envelope.data);
    if (!envelope || envelope->sender.len != TLY_KEY_BYTES)
        return tly_ledger_bad_record (draft, "request does not decode");
    for (size_t i = 0; i < draft->n_events; i++)
        if (s_apply_event (self, draft, draft->events [i], &envelope->sender, arena) == -1)
            return TLY_LEDGER_ERROR;
    if (tly_ledger_apply_config (self, draft) == -1)
        return TLY_LEDGER_ERROR;
    //  Results the clock has let go (or that refused a stale ID) could only
    //  ever answer a message that is refused anyway.
    tly_ledger_clock_see (self, draft->timestamp_ms);
    const Tally__RateLimit *rate = draft->rate_limit;
    if (rate && rate->per_minute > 0 && !tly_rate_limit_valid (rate->per_minute, rate->burst))
        return tly_ledger_bad_record (draft, "rate limit out of range");
    uint64_t tokens = 0;  //  taken by the rate limit: new buys that got to the balance
    for (size_t i = 0; i < draft->n_results; i++) {
        const Tally__MessageResult *result = draft->results [i];
        if (result->message_id.len != TLY_MESSAGE_ID_BYTES
            || (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR && result->error
                && result->error->code == TALLY__ERROR_CODE__STALE_MESSAGE_ID)
            || tly_ledger_rate_limited (result))
            continue;
        bool takes = rate && rate->per_minute > 0 && i < envelope->n_messages
                     && envelope->messages [i]->body_case == TALLY__INBOX_MESSAGE__BODY_BUY
                     && (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE
                         || (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR
                             && result->error
                             && result->error->code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE));
        if (!tly_ledger_in_window (self, result->message_id.data)) {
            tokens += takes;
            continue;
        }
        uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
        tly_store_dedupe_key (draft->partition, envelope->sender.data, result->message_id.data,
                              key);
        //  A result already remembered answered a resend: it took nothing.
        int put = tly_store_put_result (
            self->store, key,
            tly_ledger_compact (arena, envelope->sender.data, draft->partition, result), true);
        if (put == -1)
            return TLY_LEDGER_ERROR;
        tokens += takes && put == 0;
        self->results++;
    }
    if (tokens > 0 && s_charge (self, draft, envelope->sender.data, tokens) == -1)
        return TLY_LEDGER_ERROR;
    if (tly_store_put_progress (self->store, draft->partition, draft->partition_seq, draft->epoch)
        == -1)
        return TLY_LEDGER_ERROR;
    self->pending++;
    return TLY_LEDGER_APPLIED;
}
