//  audit_workload_orders - the mixed workload's catalog and orders (see
//  audit_workload.h): the orders it follows, the user's and the worker's
//  order messages, the envelopes they go in, and what became of them.
#include "audit_workload_private.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "audit_orders.h"
#include "tly_object_id.h"

static uint32_t
s_user_index (const audit_workload_t *self, const uint8_t pk [TLY_KEY_BYTES])
{
    for (uint32_t i = 0; i < self->config.users; i++)
        if (memcmp (self->users [i].pk, pk, TLY_KEY_BYTES) == 0)
            return i;
    assert (false);
    return 0;
}

//  An order changed: its status followed (a new one takes the slot of a
//  final one, or of any), its user's balance and held amount too, and a
//  completion's purchases join those refunds pick from.
void
audit_workload_follow_order (audit_workload_t *self, const Tally__OrderChanged *changed)
{
    const Tally__Order *order = changed->order;
    uint32_t user = s_user_index (self, changed->user.data);
    self->users [user].balance = changed->balance_after;
    self->users [user].held = changed->held_after;
    self->order_changes++;
    audit_workload_order_t *slot = NULL;
    for (size_t i = 0; i < AUDIT_WORKLOAD_ORDERS_KEPT && !slot; i++)
        if (strcmp (self->orders [i].id, order->id) == 0)
            slot = &self->orders [i];
    for (size_t i = 0; i < AUDIT_WORKLOAD_ORDERS_KEPT && !slot; i++)
        if (!self->orders [i].id [0] || !audit_order_open (self->orders [i].status))
            slot = &self->orders [i];
    if (!slot)
        slot = &self->orders [audit_workload_below (self, AUDIT_WORKLOAD_ORDERS_KEPT)];
    snprintf (slot->id, sizeof slot->id, "%s", order->id);
    slot->user = user;
    slot->partition = self->users [user].partition;
    slot->status = order->status;
    if (order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED)
        self->orders_completed++;
    for (size_t i = 0; i < changed->n_purchases; i++)
        snprintf (self->purchases [self->purchase_count++ % AUDIT_WORKLOAD_PURCHASES_KEPT],
                  TLY_ID_MAX, "%s", changed->purchases [i]->purchase_id);
}

//  A followed order that matches (user: UINT32_MAX any, else that one or,
//  with other, any but that one; partition: UINT32_MAX any; status: NONE
//  any), picked at random, or NULL.
static const audit_workload_order_t *
s_pick_order (audit_workload_t *self, uint32_t user, bool other, uint32_t partition,
              Tally__OrderStatus status)
{
    const audit_workload_order_t *picked = NULL;
    uint64_t seen = 0;
    for (size_t i = 0; i < AUDIT_WORKLOAD_ORDERS_KEPT; i++) {
        const audit_workload_order_t *order = &self->orders [i];
        if (!order->id [0] || (status && order->status != status)
            || (partition != UINT32_MAX && order->partition != partition)
            || (user != UINT32_MAX && (order->user == user) == other))
            continue;
        if (audit_workload_below (self, ++seen) == 0)  //  each of those seen equally likely
            picked = order;
    }
    return picked;
}

//  An order's lines: 1..3 of the workload's items at amounts it can often
//  afford; now and then lines an actor refuses (none: BAD_REQUEST, an
//  empty item ID: INVALID_ITEM, amount 0 with open prices: INVALID_AMOUNT).
static void
s_order_lines (audit_workload_t *self, const audit_workload_user_t *user,
               Tally__OrderItem ***items_p, size_t *n_items_p)
{
    uint64_t dice = audit_workload_below (self, 40);
    size_t n_items = dice == 0 ? 0 : 1 + (size_t) audit_workload_below (self, 3);
    Tally__OrderItem **items = tly_arena_alloc (self->arena, 3 * sizeof (Tally__OrderItem *));
    for (size_t i = 0; i < n_items; i++) {
        items [i] = tly_arena_alloc (self->arena, sizeof (Tally__OrderItem));
        tally__order_item__init (items [i]);
        size_t item = (size_t) audit_workload_below (self, AUDIT_WORKLOAD_ITEM_KINDS);
        items [i]->item_id = (char *) (dice == 1 ? "" : audit_workload_items [item]);
        items [i]->amount = dice == 2 ? 0
                                      : 1
                                            + (int64_t) audit_workload_below (
                                                self, (uint64_t) (user->balance / 4 + 20));
        //  The catalog's item: mostly at its price (0), else PRICE_MISMATCH.
        if (item == 0 && dice > 2 && audit_workload_below (self, 4) > 0)
            items [i]->amount = 0;
    }
    *items_p = items;
    *n_items_p = n_items;
}

static void
s_order_ref (audit_workload_t *self, Tally__InboxMessage *message,
             Tally__InboxMessage__BodyCase body, const char *order_id)
{
    Tally__OrderRef *ref = tly_arena_alloc (self->arena, sizeof *ref);
    tally__order_ref__init (ref);
    ref->order_id = tly_arena_strdup (self->arena, order_id);
    message->body_case = body;
    if (body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER)
        message->submit_order = ref;
    else
        message->complete_order = ref;
}

//  One of the user's order messages: mostly creating, editing and
//  submitting their drafts; now and then one an actor refuses (completing
//  their own order: PERMISSION_DENIED; editing or submitting one that is
//  no draft: INVALID_TRANSITION; a submit past the available balance is
//  INSUFFICIENT_BALANCE as it comes).
static Tally__InboxMessage *
s_user_order_message (audit_workload_t *self, uint32_t user_index, int64_t now_ms)
{
    audit_workload_user_t *user = &self->users [user_index];
    Tally__InboxMessage *message = audit_workload_new_message (self, now_ms);
    uint64_t dice = audit_workload_below (self, 100);
    const audit_workload_order_t *order = NULL;
    if (dice >= 40 && dice < 90)
        order = s_pick_order (self, user_index, false, UINT32_MAX,
                              TALLY__ORDER_STATUS__ORDER_DRAFT);
    else if (dice >= 90)
        order = s_pick_order (self, user_index, false, UINT32_MAX,
                              TALLY__ORDER_STATUS__ORDER_STATUS_NONE);
    if (!order || dice < 40 || user_index == AUDIT_WORKLOAD_HOARDER) {
        Tally__CreateOrder *create = tly_arena_alloc (self->arena, sizeof *create);
        tally__create_order__init (create);
        s_order_lines (self, user, &create->items, &create->n_items);
        message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
        message->create_order = create;
    } else if (dice < 55 || (dice >= 94 && order->status != TALLY__ORDER_STATUS__ORDER_DRAFT)) {
        Tally__EditOrder *edit = tly_arena_alloc (self->arena, sizeof *edit);
        tally__edit_order__init (edit);
        edit->order_id = tly_arena_strdup (self->arena, order->id);
        s_order_lines (self, user, &edit->items, &edit->n_items);
        message->body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
        message->edit_order = edit;
    } else if (dice < 94)
        s_order_ref (self, message, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, order->id);
    else
        s_order_ref (self, message, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, order->id);
    return message;
}

//  count (2 or more) messages that create an order, edit it (when count
//  is 3 or more; the rest edit it again) and submit it, the ID of the
//  order made from the creating message's (tly_order_key).
static void
s_order_started (audit_workload_t *self, uint32_t user_index, int64_t now_ms,
                 Tally__InboxMessage **messages, uint32_t count)
{
    audit_workload_user_t *user = &self->users [user_index];
    Tally__InboxMessage *create = audit_workload_new_message (self, now_ms);
    create->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
    create->create_order = tly_arena_alloc (self->arena, sizeof *create->create_order);
    tally__create_order__init (create->create_order);
    s_order_lines (self, user, &create->create_order->items, &create->create_order->n_items);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    tly_order_key (user->partition, user->pk, create->message_id.data, key);
    tly_object_id_of_key (key, id);
    messages [0] = create;
    for (uint32_t i = 1; i + 1 < count; i++) {
        Tally__InboxMessage *message = audit_workload_new_message (self, now_ms);
        message->body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
        message->edit_order = tly_arena_alloc (self->arena, sizeof *message->edit_order);
        tally__edit_order__init (message->edit_order);
        message->edit_order->order_id = tly_arena_strdup (self->arena, id);
        s_order_lines (self, user, &message->edit_order->items, &message->edit_order->n_items);
        messages [i] = message;
    }
    messages [count - 1] = audit_workload_new_message (self, now_ms);
    s_order_ref (self, messages [count - 1], TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, id);
}

//  One of the worker's order messages for partition: completing or failing
//  an order processing there; now and then one an actor refuses (an error
//  past 256 bytes: INVALID_NOTE; a final order: INVALID_TRANSITION; no
//  order: NOT_FOUND).
static Tally__InboxMessage *
s_worker_order_message (audit_workload_t *self, uint32_t partition, int64_t now_ms)
{
    static const char *errors [] = { "", "service unavailable", "card declined \"twice\"" };
    Tally__InboxMessage *message = audit_workload_new_message (self, now_ms);
    uint64_t dice = audit_workload_below (self, 100);
    const audit_workload_order_t *order = s_pick_order (
        self, UINT32_MAX, false, partition,
        dice < 90 ? TALLY__ORDER_STATUS__ORDER_PROCESSING : TALLY__ORDER_STATUS__ORDER_STATUS_NONE);
    char unknown [TLY_ID_MAX];
    if (!order || dice >= 97) {
        uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
        audit_workload_random_bytes (self, message_id, sizeof message_id);
        tly_order_key (partition, self->users [0].pk, message_id, key);
        tly_object_id_of_key (key, unknown);
    }
    const char *order_id = !order || dice >= 97 ? unknown : order->id;
    if (dice < 60 || dice >= 90)
        s_order_ref (self, message, TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER, order_id);
    else {
        Tally__FailOrder *fail = tly_arena_alloc (self->arena, sizeof *fail);
        tally__fail_order__init (fail);
        fail->order_id = tly_arena_strdup (self->arena, order_id);
        if (dice < 87)
            fail->error = (char *) errors [audit_workload_below (self, 3)];
        else {
            fail->error = tly_arena_alloc (self->arena, AUDIT_WORKLOAD_LONG_ERROR + 1);
            memset (fail->error, 'e', AUDIT_WORKLOAD_LONG_ERROR);
            fail->error [AUDIT_WORKLOAD_LONG_ERROR] = 0;
        }
        message->body_case = TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER;
        message->fail_order = fail;
    }
    return message;
}

//  The worker's setPrice of audit_workload_items [0] at price (partition 0): the mixed
//  workload's catalog, whose buys and order lines naming another amount
//  are refused PRICE_MISMATCH, and whose change in the middle refuses the
//  submit of a draft priced before it.
Tally__RecordDraft *
audit_workload_price_draft (audit_workload_t *self, int64_t now_ms, const tly_account_t *worker,
                            int64_t price)
{
    Tally__InboxMessage *message = audit_workload_new_message (self, now_ms - 3);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
    message->set_price = tly_arena_alloc (self->arena, sizeof *message->set_price);
    tally__catalog_item__init (message->set_price);
    message->set_price->item_id = (char *) audit_workload_items [0];
    message->set_price->price = price;
    message->set_price->active = true;
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.timestamp_ms = now_ms - 3;
    envelope.n_messages = 1;
    envelope.messages = &message;
    tly_ledger_user_t sender;
    tly_ledger_user_init (&sender, worker->sign_pk, self->config.partitions);
    sender.route = 0;
    sender.worker = true;
    return audit_workload_decided (self, &envelope, worker->sign_sk, &sender, NULL, now_ms);
}

//  An envelope of order messages (record index): the user's own (the hoarder's, now and
//  then, past the limit of open orders: ORDER_LIMIT; one without an
//  account: NO_ACCOUNT), one user's edit or submit of another's order
//  (NOT_FOUND), or the worker's completions and failures of a partition's
//  orders.
Tally__RecordDraft *
audit_workload_order_draft (audit_workload_t *self, uint64_t index, int64_t now_ms,
                            const tly_account_t *worker)
{
    uint64_t dice = audit_workload_below (self, 100);
    //  The worker lets the last tenth's orders be: the journal ends with
    //  orders processing, and funds held.
    if (dice < 30 && index >= self->config.records - self->config.records / 10)
        dice = 30 + audit_workload_below (self, 70);
    uint32_t count = 1
                     + (uint32_t) audit_workload_below (
                         self, self->config.per_record < 4 ? self->config.per_record : 4);
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.timestamp_ms = now_ms - 3;
    envelope.messages = tly_arena_alloc (self->arena, count * sizeof (Tally__InboxMessage *));
    tly_ledger_user_t sender;
    if (dice < 30) {
        //  The worker's, for one partition.
        const audit_workload_order_t *processing = s_pick_order (
            self, UINT32_MAX, false, UINT32_MAX, TALLY__ORDER_STATUS__ORDER_PROCESSING);
        uint32_t partition = processing
                                 ? processing->partition
                                 : (uint32_t) audit_workload_below (self, self->config.partitions);
        for (uint32_t i = 0; i < count; i++)
            envelope.messages [i] = s_worker_order_message (self, partition, now_ms - 3);
        envelope.n_messages = count;
        envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
        tly_ledger_user_init (&sender, worker->sign_pk, self->config.partitions);
        sender.route = partition;
        sender.worker = true;
        return audit_workload_decided (self, &envelope, worker->sign_sk, &sender, NULL, now_ms);
    }
    //  Mostly users with an account (a third of them may have none).
    uint32_t user_index = (uint32_t) audit_workload_below (self, self->config.users);
    for (int tries = 0; tries < 2 && !self->users [user_index].exists; tries++)
        user_index = (uint32_t) audit_workload_below (self, self->config.users);
    if (dice < 36)
        user_index = AUDIT_WORKLOAD_HOARDER;
    audit_workload_user_t *user = &self->users [user_index];
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, user->pk };
    tly_ledger_user_init (&sender, user->pk, self->config.partitions);
    const audit_workload_order_t *foreign = dice >= 36 && dice < 40 ? s_pick_order (
                                                self, user_index, true, UINT32_MAX,
                                                TALLY__ORDER_STATUS__ORDER_STATUS_NONE)
                                                                    : NULL;
    if (foreign) {
        //  Another user's order, in its partition: NOT_FOUND, whatever it is.
        Tally__InboxMessage *message = audit_workload_new_message (self, now_ms - 3);
        s_order_ref (self, message, TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER, foreign->id);
        envelope.messages [0] = message;
        count = 1;
        sender.route = foreign->partition;
    } else if (dice < 75 && count >= 2 && user_index != AUDIT_WORKLOAD_HOARDER)
        //  An order's start in one envelope: created, maybe edited, submitted.
        s_order_started (self, user_index, now_ms - 3, envelope.messages, count);
    else
        for (uint32_t i = 0; i < count; i++)
            //  The hoarder opens an account first.
            envelope.messages [i] = i == 0 && user_index == AUDIT_WORKLOAD_HOARDER && !user->exists
                                        ? audit_workload_message (self, user, true, now_ms - 3)
                                        : s_user_order_message (self, user_index, now_ms - 3);
    envelope.n_messages = count;
    return audit_workload_decided (self, &envelope, user->sk, &sender, user, now_ms);
}

uint64_t
audit_workload_order_changes (audit_workload_t *self)
{
    assert (self);
    return self->order_changes;
}

uint64_t
audit_workload_orders_completed (audit_workload_t *self)
{
    assert (self);
    return self->orders_completed;
}

uint64_t
audit_workload_order_refusals (audit_workload_t *self, Tally__ErrorCode code)
{
    assert (self);
    return (unsigned) code < 64 ? self->order_refusals [code] : 0;
}

uint64_t
audit_workload_held_refusals (audit_workload_t *self)
{
    assert (self);
    return self->held_refusals;
}
