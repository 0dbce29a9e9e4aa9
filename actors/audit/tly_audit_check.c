//  tly_audit_check - a draft's events checked against its envelope, where no
//  state is needed (see the header).
#include "tly_audit_check.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "tly_config.h"
#include "tly_limits.h"
#include "tly_validate.h"

#define S_REASON_MAX 192

static bool
s_same_text (const char *text, const char *other)
{
    return strcmp (text ? text : "", other ? other : "") == 0;
}

//  Whether the order's lines are the message's, item by item (the amounts
//  are the actor's prices: a message's 0 is the catalog's).
static bool
s_same_lines (const Tally__Order *order, Tally__OrderItem *const *items, size_t n_items)
{
    if (order->n_items != n_items)
        return false;
    for (size_t i = 0; i < n_items; i++)
        if (!s_same_text (order->items [i]->item_id, items [i]->item_id)
            || (items [i]->amount != 0 && items [i]->amount != order->items [i]->amount))
            return false;
    return true;
}

//  Whether an order message (answered by result) gives changed: the
//  message's kind makes the order's status, names its order (createOrder:
//  version 1), and the answer is the order as the event has it.
static bool
s_gives_order (const Tally__InboxMessage *message, const Tally__MessageResult *result,
               const Tally__OrderChanged *changed)
{
    const Tally__Order *order = changed->order;
    const Tally__Order *answer = result->order;
    if (result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ORDER || !answer
        || !s_same_text (answer->id, order->id) || answer->version != order->version
        || answer->status != order->status || answer->total != order->total)
        return false;
    const char *named = tly_order_message_id (message);
    if (message->body_case != TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER
        && !s_same_text (named, order->id))
        return false;
    bool none = changed->n_purchases == 0 && order->n_purchase_ids == 0;
    switch (message->body_case) {
        case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
            return order->status == TALLY__ORDER_STATUS__ORDER_DRAFT && order->version == 1 && none
                   && s_same_lines (order, message->create_order->items,
                                    message->create_order->n_items);
        case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
            return order->status == TALLY__ORDER_STATUS__ORDER_DRAFT && order->version > 1 && none
                   && s_same_lines (order, message->edit_order->items,
                                    message->edit_order->n_items);
        case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
            return order->status == TALLY__ORDER_STATUS__ORDER_PROCESSING && none;
        case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
            return order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED
                   && changed->n_purchases == order->n_items
                   && order->n_purchase_ids == order->n_items;
        case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
            return order->status == TALLY__ORDER_STATUS__ORDER_FAILED && none
                   && s_same_text (order->error, message->fail_order->error);
        default: return false;
    }
}

//  Whether message (answered by result) gives event.
static bool
s_gives (const Tally__InboxMessage *message, const Tally__MessageResult *result,
         const Tally__Event *event)
{
    if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
        return s_gives_order (message, result, event->order_changed);
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED) {
        const Tally__AccountCreated *created = event->account_created;
        return message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT
               && message->create_account->initial_balance == created->initial_balance
               && result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE && result->balance
               && result->balance->balance == created->initial_balance;
    }
    if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
        && message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND) {
        //  A refund: a credit of the purchase's user by its reference.
        const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
        const Tally__Refund *refund = message->refund;
        const Tally__AdjustmentRecord *record = result->adjustment;
        char reference [TLY_REFERENCE_MAX + 1];
        tly_refund_reference (refund->purchase_id ? refund->purchase_id : "", reference);
        return s_same_text (adjusted->refund_of, refund->purchase_id)
               && s_same_text (adjusted->reference, reference)
               && s_same_text (adjusted->note, refund->reason) && adjusted->amount > 0
               && result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT && record
               && record->amount == adjusted->amount
               && record->balance_after == adjusted->balance_after
               && s_same_text (record->id, adjusted->adjustment_id)
               && s_same_text (record->reference, reference);
    }
    if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED) {
        const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
        const Tally__Adjustment *adjustment = message->body_case
                                                      == TALLY__INBOX_MESSAGE__BODY_CREDIT
                                                  ? message->credit
                                              : message->body_case
                                                      == TALLY__INBOX_MESSAGE__BODY_DEBIT
                                                  ? message->debit
                                                  : NULL;
        int64_t sign = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT ? 1 : -1;
        const Tally__AdjustmentRecord *record = result->adjustment;
        return adjustment && adjustment->user.len == TLY_KEY_BYTES
               && memcmp (adjustment->user.data, adjusted->user.data, TLY_KEY_BYTES) == 0
               && sign * adjustment->amount == adjusted->amount
               && s_same_text (adjustment->reference, adjusted->reference)
               && s_same_text (adjustment->note, adjusted->note)
               && result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT && record
               && record->amount == adjusted->amount
               && record->balance_after == adjusted->balance_after
               && s_same_text (record->id, adjusted->adjustment_id)
               && s_same_text (record->reference, adjusted->reference);
    }
    const Tally__PurchaseRecorded *recorded = event->purchase_recorded;
    const Tally__PurchaseRecord *purchase = result->purchase;
    return message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY
           && (message->buy->amount == recorded->amount || message->buy->amount == 0)
           && s_same_text (message->buy->item_id, recorded->item_id)
           && result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE && purchase
           && purchase->amount == recorded->amount
           && purchase->balance_after == recorded->balance_after
           && s_same_text (purchase->item_id, recorded->item_id);
}

const char *
tly_audit_check_config (const Tally__RecordDraft *draft, const uint8_t worker [TLY_KEY_BYTES],
                        tly_arena_t *arena)
{
    assert (draft && worker && arena);
    if (!draft->config)
        return NULL;
    if (draft->partition != 0)
        return "a configuration outside partition 0";
    tly_config_t *config = tly_config_new ();
    char *reason = tly_arena_alloc (arena, S_REASON_MAX);
    int rc = tly_config_from_proto (config, draft->config, worker, reason, S_REASON_MAX);
    tly_config_destroy (&config);
    return rc == 0 ? NULL : reason;
}

static const char *
s_reason (tly_arena_t *arena, size_t index, const char *what)
{
    char *reason = tly_arena_alloc (arena, S_REASON_MAX);
    snprintf (reason, S_REASON_MAX, "event %zu: %s", index + 1, what);
    return reason;
}

const char *
tly_audit_check_draft (const Tally__RecordDraft *draft, tly_arena_t *arena)
{
    assert (draft && arena);
    if (draft->n_events == 0)
        return NULL;  //  nothing made up: refusals and resends change nothing
    if (!draft->request)
        return "events without a request";
    const Tally__Envelope *envelope = tally__envelope__unpack (
        tly_arena_allocator (arena), draft->request->envelope.len, draft->request->envelope.data);
    if (!envelope || envelope->sender.len != TLY_KEY_BYTES)
        return "events for an envelope that does not decode";
    size_t next = 0;  //  the first message an event may still follow from
    bool created = false;
    for (size_t i = 0; i < draft->n_events; i++) {
        const Tally__Event *event = draft->events [i];
        const ProtobufCBinaryData *user;
        int64_t timestamp;
        if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED && event->account_created) {
            if (created)
                return s_reason (arena, i, "a second AccountCreated for one user");
            created = true;
            user = &event->account_created->user;
            timestamp = event->account_created->timestamp;
        } else if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
                   && event->purchase_recorded) {
            if (event->purchase_recorded->balance_after < 0)
                return s_reason (arena, i, "PurchaseRecorded leaves a negative balance");
            user = &event->purchase_recorded->user;
            timestamp = event->purchase_recorded->timestamp;
        } else if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
                   && event->balance_adjusted) {
            const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
            if (adjusted->balance_after < 0 || adjusted->balance_after > TLY_BALANCE_MAX)
                return s_reason (arena, i, "BalanceAdjusted leaves a balance out of range");
            //  The user adjusted is the message's, checked below; the
            //  sender is who adjusted it.
            user = &adjusted->by;
            timestamp = adjusted->timestamp;
        } else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED && event->order_changed
                   && event->order_changed->order) {
            const Tally__OrderChanged *changed = event->order_changed;
            if (changed->held_after < 0 || changed->held_after > changed->balance_after
                || changed->balance_after > TLY_BALANCE_MAX)
                return s_reason (arena, i, "OrderChanged leaves a balance or hold out of range");
            //  Its user's own messages make a draft or a hold; the worker's
            //  (or an admin's: the actor checked) complete or fail it.
            Tally__OrderStatus status = changed->order->status;
            user = status == TALLY__ORDER_STATUS__ORDER_DRAFT
                           || status == TALLY__ORDER_STATUS__ORDER_PROCESSING
                       ? &changed->user
                       : &envelope->sender;
            timestamp = changed->order->updated_at;
        } else
            return s_reason (arena, i, "of no known kind");
        if (user->len != TLY_KEY_BYTES
            || memcmp (user->data, envelope->sender.data, TLY_KEY_BYTES) != 0)
            return s_reason (arena, i, "not for the envelope's sender");
        if (timestamp != draft->timestamp_ms)
            return s_reason (arena, i, "not stamped with the draft's time");
        while (next < envelope->n_messages
               && (next >= draft->n_results
                   || !s_gives (envelope->messages [next], draft->results [next], event)))
            next++;
        if (next == envelope->n_messages)
            return s_reason (
                arena, i,
                event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED
                    ? "AccountCreated follows from no createAccount of the envelope"
                      " (its initialBalance, and the answer, must be the event's)"
                : event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
                    ? "BalanceAdjusted follows from no credit or debit of the envelope (its user,"
                      " signed amount, reference and note, and the answer, must be the event's)"
                : event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED
                    ? "OrderChanged follows from no order message of the envelope (its order,"
                      " lines and status, and the answer, must be the event's)"
                    : "PurchaseRecorded follows from no buy of the envelope (its"
                      " item and amount, and the answer, must be the event's)");
        next++;
    }
    return NULL;
}
