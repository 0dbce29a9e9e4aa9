//  tly_order - the order messages (docs/protocol.md, "Orders"): built and
//  checked as the cluster checks them, sealed as InboxMessage bodies, and
//  an Order and its summaries decoded from the wire.
#include "tly_codec.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_wire.h"

void
tly_orders_id (const uint8_t account [TLY_KEY_BYTES], uint32_t partition_count, char *out)
{
    assert (account && out);
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_user_object_id (TLY_OBJ_ORDER_LIST, account, partition_count, out);
}

const char *
tly_order_status_name (Tally__OrderStatus status)
{
    switch (status) {
        case TALLY__ORDER_STATUS__ORDER_DRAFT: return "draft";
        case TALLY__ORDER_STATUS__ORDER_PROCESSING: return "processing";
        case TALLY__ORDER_STATUS__ORDER_COMPLETED: return "completed";
        case TALLY__ORDER_STATUS__ORDER_FAILED: return "failed";
        default: return "none";
    }
}

int
tly_codec_order_body (const tly_msg_t *msg, Tally__InboxMessage *body, tly_codec_order_t *room)
{
    assert (msg && body && room);
    if (msg->item_count > TLY_ORDER_ITEMS_MAX)
        return -1;
    for (size_t i = 0; i < msg->item_count; i++) {
        tally__order_item__init (&room->items [i]);
        room->items [i].item_id = (char *) msg->items [i].item_id;
        room->items [i].amount = msg->items [i].amount;
        room->list [i] = &room->items [i];
    }
    char *order_id = (char *) msg->order_id;
    switch (msg->kind) {
        case TLY_MSG_CREATE_ORDER:
            tally__create_order__init (&room->create);
            room->create.n_items = msg->item_count;
            room->create.items = room->list;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
            body->create_order = &room->create;
            return 0;
        case TLY_MSG_EDIT_ORDER:
            tally__edit_order__init (&room->edit);
            room->edit.order_id = order_id;
            room->edit.n_items = msg->item_count;
            room->edit.items = room->list;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
            body->edit_order = &room->edit;
            return 0;
        case TLY_MSG_SUBMIT_ORDER:
        case TLY_MSG_COMPLETE_ORDER:
            tally__order_ref__init (&room->ref);
            room->ref.order_id = order_id;
            if (msg->kind == TLY_MSG_SUBMIT_ORDER) {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER;
                body->submit_order = &room->ref;
            } else {
                body->body_case = TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER;
                body->complete_order = &room->ref;
            }
            return 0;
        case TLY_MSG_FAIL_ORDER:
            tally__fail_order__init (&room->fail);
            room->fail.order_id = order_id;
            room->fail.error = (char *) msg->note;
            body->body_case = TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER;
            body->fail_order = &room->fail;
            return 0;
        default: return -1;
    }
}

//  The lines, one by one so that a refusal names the line (from 1, as the
//  CLI's --item flags count): each as the cluster checks it.
static int
s_items (tly_msg_t *out, const tly_order_item_t *items, size_t n, tly_error_t *error)
{
    const char *why = NULL;
    if (n == 0 || n > TLY_ORDER_ITEMS_MAX) {
        //  The count is checked before any line is read.
        Tally__ErrorCode code = tly_validate_order_items (NULL, n, &why);
        assert (code != TALLY__ERROR_CODE__OK);
        tly_codec_local_error (error, code, "%s (%zu given)", why, n);
        return -1;
    }
    assert (items);
    for (size_t i = 0; i < n; i++) {
        if (!memchr (items [i].item_id, 0, sizeof items [i].item_id)) {
            tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_ITEM,
                                   "item %zu: item ID is not terminated within %d bytes", i + 1,
                                   TLY_ITEM_ID_MAX);
            return -1;
        }
        Tally__OrderItem wire = TALLY__ORDER_ITEM__INIT;
        wire.item_id = (char *) items [i].item_id;
        wire.amount = items [i].amount;
        Tally__OrderItem *one = &wire;
        Tally__ErrorCode code = tly_validate_order_items (&one, 1, &why);
        if (code != TALLY__ERROR_CODE__OK) {
            tly_codec_local_error (error, code, "item %zu: %s", i + 1, why);
            return -1;
        }
        out->items [i] = items [i];
    }
    out->item_count = n;
    return 0;
}

//  The order's ID, in its canonical spelling.
static int
s_order_id (tly_msg_t *out, const char *order_id, tly_error_t *error)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (tly_object_key_parse (order_id, key) == -1 || key [0] != TLY_OBJ_ORDER) {
        tly_codec_local_error (error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "order '%.80s' is not an order's ID (co_z...)", order_id);
        return -1;
    }
    tly_object_id_of_key (key, out->order_id);
    return 0;
}

//  Builds the message into a copy, checks it whole as the gateway does
//  (tly_validate_order_message), and only then writes msg.
static int
s_order_message (tly_msg_t *msg, tly_msg_kind_t kind, const char *order_id,
                 const tly_order_item_t *items, size_t n, const char *error_text,
                 tly_error_t *error)
{
    assert (msg);
    tly_error_t ignored;
    if (!error)
        error = &ignored;
    tly_msg_t built;
    memset (&built, 0, sizeof built);
    built.kind = kind;
    if (kind != TLY_MSG_CREATE_ORDER) {
        assert (order_id);
        if (s_order_id (&built, order_id, error) == -1)
            return -1;
    }
    if ((kind == TLY_MSG_CREATE_ORDER || kind == TLY_MSG_EDIT_ORDER)
        && s_items (&built, items, n, error) == -1)
        return -1;
    if (kind == TLY_MSG_FAIL_ORDER) {
        size_t size = strlen (error_text);
        if (size > TLY_ORDER_ERROR_MAX) {
            tly_codec_local_error (error, TALLY__ERROR_CODE__INVALID_NOTE,
                                   "error of %zu bytes exceeds %d bytes", size,
                                   TLY_ORDER_ERROR_MAX);
            return -1;
        }
        memcpy (built.note, error_text, size + 1);
    }
    Tally__InboxMessage body = TALLY__INBOX_MESSAGE__INIT;
    tly_codec_order_t room;
    int rc = tly_codec_order_body (&built, &body, &room);
    assert (rc == 0);
    const char *why = NULL;
    Tally__ErrorCode code = tly_validate_order_message (&body, &why);
    if (code != TALLY__ERROR_CODE__OK) {
        tly_codec_local_error (error, code, "%s", why);
        return -1;
    }
    tly_message_id_new (built.id, tly_now_ms ());
    *msg = built;
    return 0;
}

int
tly_msg_create_order (tly_msg_t *msg, const tly_order_item_t *items, size_t n, tly_error_t *error)
{
    return s_order_message (msg, TLY_MSG_CREATE_ORDER, NULL, items, n, NULL, error);
}

int
tly_msg_edit_order (tly_msg_t *msg, const char *order_id, const tly_order_item_t *items, size_t n,
                    tly_error_t *error)
{
    return s_order_message (msg, TLY_MSG_EDIT_ORDER, order_id, items, n, NULL, error);
}

int
tly_msg_submit_order (tly_msg_t *msg, const char *order_id, tly_error_t *error)
{
    return s_order_message (msg, TLY_MSG_SUBMIT_ORDER, order_id, NULL, 0, NULL, error);
}

int
tly_msg_complete_order (tly_msg_t *msg, const char *order_id, tly_error_t *error)
{
    return s_order_message (msg, TLY_MSG_COMPLETE_ORDER, order_id, NULL, 0, NULL, error);
}

int
tly_msg_fail_order (tly_msg_t *msg, const char *order_id, const char *error_text,
                    tly_error_t *error)
{
    return s_order_message (msg, TLY_MSG_FAIL_ORDER, order_id, NULL, 0,
                            error_text ? error_text : "", error);
}

const char *
tly_codec_order (const Tally__Order *wire, tly_order_t *order)
{
    assert (wire && order);
    memset (order, 0, sizeof *order);
    if (wire->n_items > TLY_ORDER_ITEMS_MAX)
        return "order of more than 16 items";
    if (wire->n_purchase_ids > TLY_ORDER_ITEMS_MAX)
        return "order of more than 16 purchases";
    if (!tly_codec_copy (order->id, sizeof order->id, wire->id)
        || !tly_codec_copy (order->user_id, sizeof order->user_id, wire->user_id)
        || !tly_codec_copy (order->error, sizeof order->error, wire->error))
        return "order field too long";
    order->status = wire->status;
    for (size_t i = 0; i < wire->n_items; i++) {
        tly_order_item_t *item = &order->items [i];
        if (!tly_codec_copy (item->item_id, sizeof item->item_id, wire->items [i]->item_id))
            return "order item ID too long";
        item->amount = wire->items [i]->amount;
        order->item_count++;
    }
    for (size_t i = 0; i < wire->n_purchase_ids; i++) {
        if (!tly_codec_copy (order->purchase_ids [i], sizeof order->purchase_ids [i],
                             wire->purchase_ids [i]))
            return "order purchase ID too long";
        order->purchase_count++;
    }
    order->total = wire->total;
    order->version = wire->version;
    order->created_at = wire->created_at;
    order->updated_at = wire->updated_at;
    order->submitted_at = wire->submitted_at;
    order->finished_at = wire->finished_at;
    return NULL;
}

const char *
tly_codec_order_summaries (Tally__OrderSummary *const *wire, size_t n, tly_order_summary_t **orders,
                           size_t *count)
{
    assert ((wire || n == 0) && orders && count);
    *orders = NULL;
    *count = 0;
    if (n == 0)
        return NULL;
    *orders = calloc (n, sizeof **orders);
    assert (*orders);
    for (size_t i = 0; i < n; i++) {
        tly_order_summary_t *out = &(*orders) [i];
        if (!tly_codec_copy (out->id, sizeof out->id, wire [i]->id)
            || !tly_codec_copy (out->user_id, sizeof out->user_id, wire [i]->user_id))
            return "order summary ID too long";
        out->status = wire [i]->status;
        out->total = wire [i]->total;
        out->version = wire [i]->version;
        out->updated_at = wire [i]->updated_at;
        out->submitted_at = wire [i]->submitted_at;
        (*count)++;
    }
    return NULL;
}
