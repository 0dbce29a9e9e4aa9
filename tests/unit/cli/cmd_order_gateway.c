//  cmd_order_gateway - see cmd_order_gateway.h.
#include "cmd_order_gateway.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "script_gateway.h"

#define S_ORDERS_MAX 8

//  One order as the fake keeps it.
typedef struct {
    char id [TLY_ID_MAX];
    uint8_t user [TLY_KEY_BYTES];
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    Tally__OrderStatus status;
    size_t item_count;
    char item_ids [TLY_ORDER_ITEMS_MAX][TLY_ITEM_ID_MAX + 1];
    int64_t amounts [TLY_ORDER_ITEMS_MAX];
    int64_t total;
    char error [TLY_ORDER_ERROR_MAX + 1];
    uint64_t version;
    int64_t submitted_at, finished_at;
    size_t purchase_count;
    char purchase_ids [TLY_ORDER_ITEMS_MAX][TLY_ID_MAX];
} s_order_t;

//  The wire Order of order, pointing into order and room.
typedef struct {
    Tally__Order order;
    Tally__OrderItem items [TLY_ORDER_ITEMS_MAX];
    Tally__OrderItem *list [TLY_ORDER_ITEMS_MAX];
    char *purchase_list [TLY_ORDER_ITEMS_MAX];
    char user_id [TLY_ID_MAX];
} s_wire_t;

//  The orders, and the reply's storage: it outlives s_answer.
typedef struct {
    s_order_t orders [S_ORDERS_MAX];
    size_t count;
    s_wire_t wire;
    Tally__Error error;
} s_state_t;

static void
s_wire (s_order_t *order, s_wire_t *room)
{
    tally__order__init (&room->order);
    tly_account_id (order->user, room->user_id);
    for (size_t i = 0; i < order->item_count; i++) {
        tally__order_item__init (&room->items [i]);
        room->items [i].item_id = order->item_ids [i];
        room->items [i].amount = order->amounts [i];
        room->list [i] = &room->items [i];
    }
    for (size_t i = 0; i < order->purchase_count; i++)
        room->purchase_list [i] = order->purchase_ids [i];
    room->order.id = order->id;
    room->order.user_id = room->user_id;
    room->order.status = order->status;
    room->order.n_items = order->item_count;
    room->order.items = room->list;
    room->order.total = order->total;
    room->order.error = order->error;
    room->order.version = order->version;
    room->order.created_at = ORDER_GATEWAY_NOW_MS;
    room->order.updated_at = ORDER_GATEWAY_NOW_MS + (int64_t) order->version;
    room->order.submitted_at = order->submitted_at;
    room->order.finished_at = order->finished_at;
    room->order.n_purchase_ids = order->purchase_count;
    room->order.purchase_ids = room->purchase_list;
}

//  The lines priced: the catalog price when no amount is named.
static void
s_lines (s_order_t *order, Tally__OrderItem **items, size_t n)
{
    order->item_count = n;
    order->total = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf (order->item_ids [i], sizeof order->item_ids [i], "%s", items [i]->item_id);
        order->amounts [i] = items [i]->amount ? items [i]->amount : ORDER_GATEWAY_PRICE;
        order->total += order->amounts [i];
    }
}

//  Whether the lines' total stays within TLY_BALANCE_MAX, as the balance
//  actor requires (else INVALID_AMOUNT, its text).
static bool
s_total_fits (Tally__OrderItem **items, size_t n, const char **text)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t amount = items [i]->amount ? items [i]->amount : ORDER_GATEWAY_PRICE;
        if (__builtin_add_overflow (total, amount, &total) || total > TLY_BALANCE_MAX) {
            *text = "Order total too large: at most 9007199254740991";
            return false;
        }
    }
    return true;
}

//  Decides message from sender: 0 with *order the order after it, or the
//  refusal's code and text.
static Tally__ErrorCode
s_decide (s_state_t *state, const Tally__Envelope *envelope, const Tally__InboxMessage *message,
          s_order_t **order, const char **text)
{
    Tally__ErrorCode code = tly_validate_order_message (message, text);
    if (code != TALLY__ERROR_CODE__OK)
        return code;
    const uint8_t *sender = envelope->sender.data;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER) {
        if (!s_total_fits (message->create_order->items, message->create_order->n_items, text))
            return TALLY__ERROR_CODE__INVALID_AMOUNT;
        assert (state->count < S_ORDERS_MAX);
        s_order_t *created = &state->orders [state->count++];
        memset (created, 0, sizeof *created);
        memcpy (created->user, sender, TLY_KEY_BYTES);
        tly_order_key (tly_partition_of (sender, TLY_PARTITIONS_DEFAULT), sender,
                       message->message_id.data, created->key);
        tly_object_id_of_key (created->key, created->id);
        created->status = TALLY__ORDER_STATUS__ORDER_DRAFT;
        created->version = 1;
        s_lines (created, message->create_order->items, message->create_order->n_items);
        *order = created;
        return TALLY__ERROR_CODE__OK;
    }
    bool worker_message = message->body_case == TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER
                          || message->body_case == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER;
    if (worker_message && memcmp (sender, envelope->inbox.data, TLY_KEY_BYTES) != 0) {
        *text = "Only the worker may complete or fail an order";
        return TALLY__ERROR_CODE__PERMISSION_DENIED;
    }
    const char *order_id = tly_order_message_id (message);
    s_order_t *found = NULL;
    for (size_t i = 0; i < state->count; i++)
        if (streq (state->orders [i].id, order_id)
            && (worker_message || memcmp (state->orders [i].user, sender, TLY_KEY_BYTES) == 0))
            found = &state->orders [i];
    if (!found) {
        *text = "No such order";
        return TALLY__ERROR_CODE__NOT_FOUND;
    }
    Tally__OrderStatus from = worker_message ? TALLY__ORDER_STATUS__ORDER_PROCESSING
                                             : TALLY__ORDER_STATUS__ORDER_DRAFT;
    if (found->status != from) {
        *text = worker_message ? "Order is not processing: only a processing order can end"
                               : "Order is not a draft: only a draft can be edited or submitted";
        return TALLY__ERROR_CODE__INVALID_TRANSITION;
    }
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER
        && !s_total_fits (message->edit_order->items, message->edit_order->n_items, text))
        return TALLY__ERROR_CODE__INVALID_AMOUNT;
    found->version++;
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER)
        s_lines (found, message->edit_order->items, message->edit_order->n_items);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER) {
        found->status = TALLY__ORDER_STATUS__ORDER_PROCESSING;
        found->submitted_at = ORDER_GATEWAY_NOW_MS + (int64_t) found->version;
    } else {
        found->finished_at = ORDER_GATEWAY_NOW_MS + (int64_t) found->version;
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER) {
            found->status = TALLY__ORDER_STATUS__ORDER_COMPLETED;
            found->purchase_count = found->item_count;
            for (size_t i = 0; i < found->item_count; i++) {
                uint8_t key [TLY_OBJECT_KEY_BYTES];
                tly_order_purchase_key (tly_object_key_partition (found->key), found->user,
                                        found->key, (uint32_t) i, message->message_id.data, key);
                tly_object_id_of_key (key, found->purchase_ids [i]);
            }
        } else {
            found->status = TALLY__ORDER_STATUS__ORDER_FAILED;
            snprintf (found->error, sizeof found->error, "%s", message->fail_order->error);
        }
    }
    *order = found;
    return TALLY__ERROR_CODE__OK;
}

//  The result of message: the order after it, or the refusal.
static void
s_answer (void *args, const Tally__Envelope *envelope, const Tally__InboxMessage *message,
          Tally__MessageResult *result)
{
    s_state_t *state = args;
    s_order_t *order = NULL;
    const char *text = NULL;
    tally__error__init (&state->error);
    state->error.code = s_decide (state, envelope, message, &order, &text);
    if (state->error.code == TALLY__ERROR_CODE__OK) {
        s_wire (order, &state->wire);
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ORDER;
        result->order = &state->wire.order;
    } else {
        state->error.message = (char *) text;
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
        result->error = &state->error;
    }
}

void
order_gateway_run (zsock_t *pipe, void *args)
{
    (void) args;
    s_state_t *state = zmalloc (sizeof *state);
    assert (state);
    script_gateway_run (pipe, s_answer, state);
    free (state);
}

int
order_gateway_sends (zactor_t *gateway)
{
    return script_gateway_sends (gateway);
}
