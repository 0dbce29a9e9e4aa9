//  order_fixture - see order_fixture.h.
#include "order_fixture.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tly_message_id.h"

static uint32_t
s_partition (void)
{
    return tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT);
}

//  The message ID made at WATCH_UPDATED_MS + p, its random part fixed.
static void
s_message_id (uint64_t p, uint8_t id [TLY_MESSAGE_ID_BYTES])
{
    memset (id, (int) (p & 0xFF), TLY_MESSAGE_ID_BYTES);
    int64_t ms = WATCH_UPDATED_MS + (int64_t) p;
    for (int i = 0; i < TLY_MESSAGE_ID_TIME_BYTES; i++)
        id [i] = (uint8_t) (ms >> (8 * (TLY_MESSAGE_ID_TIME_BYTES - 1 - i)));
}

static void
s_order_key (uint64_t p, uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    uint8_t message_id [TLY_MESSAGE_ID_BYTES];
    s_message_id (p, message_id);
    tly_order_key (s_partition (), watch_keys.user.sign_pk, message_id, key);
}

void
order_fixture_id (uint64_t p, char *out)
{
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    s_order_key (p, key);
    tly_object_id_of_key (key, out);
}

void
order_fixture_list_id (char *out)
{
    tly_orders_id (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT, out);
}

void
order_fixture_queue_id (char *out)
{
    tly_order_queue_id (watch_keys.worker.sign_pk, s_partition (), out);
}

void
order_fixture_order (order_fixture_t *o, uint64_t version, Tally__OrderStatus status, size_t n)
{
    assert (n <= ORDER_FIXTURE_ITEMS && version >= 1);
    tally__object_state__init (&o->state);
    tally__object_value__init (&o->value);
    tally__order__init (&o->order);
    order_fixture_id (1, o->id);
    uint8_t key [TLY_OBJECT_KEY_BYTES], completing [TLY_MESSAGE_ID_BYTES];
    s_order_key (1, key);
    s_message_id (3, completing);
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        tally__order_item__init (&o->items [i]);
        snprintf (o->item_ids [i], sizeof o->item_ids [i], "item-%zu", i + 1);
        o->items [i].item_id = o->item_ids [i];
        o->items [i].amount = 10 * (int64_t) (i + 1);
        total += o->items [i].amount;
        o->list [i] = &o->items [i];
        //  A line past the limit has no purchase key: the first line's ID.
        uint8_t purchase [TLY_OBJECT_KEY_BYTES];
        tly_order_purchase_key (s_partition (), watch_keys.user.sign_pk, key,
                                (uint32_t) (i < TLY_ORDER_ITEMS_MAX ? i : 0), completing, purchase);
        tly_object_id_of_key (purchase, o->purchase_ids [i]);
        o->purchase_list [i] = o->purchase_ids [i];
    }
    bool final = status == TALLY__ORDER_STATUS__ORDER_COMPLETED
                 || status == TALLY__ORDER_STATUS__ORDER_FAILED;
    o->order.id = o->id;
    o->order.user_id = watch_keys.user_id;
    o->order.status = status;
    o->order.n_items = n;
    o->order.items = o->list;
    o->order.total = total;
    o->order.error = status == TALLY__ORDER_STATUS__ORDER_FAILED ? ORDER_FIXTURE_ERROR : "";
    o->order.version = version;
    o->order.created_at = WATCH_UPDATED_MS + 1;
    o->order.updated_at = WATCH_UPDATED_MS + (int64_t) version;
    o->order.submitted_at = status >= TALLY__ORDER_STATUS__ORDER_PROCESSING ? WATCH_UPDATED_MS + 2
                                                                            : 0;
    o->order.finished_at = final ? o->order.updated_at : 0;
    if (status == TALLY__ORDER_STATUS__ORDER_COMPLETED) {
        o->order.n_purchase_ids = n;
        o->order.purchase_ids = o->purchase_list;
    }
    o->value.kind_case = TALLY__OBJECT_VALUE__KIND_ORDER;
    o->value.order = &o->order;
    o->state.object_id = o->id;
    o->state.version = version;
    o->state.updated_ms = WATCH_UPDATED_MS + (int64_t) version;
    o->state.value = &o->value;
}

static void
s_summaries (order_fixture_list_t *l, uint64_t first, size_t n, bool queue)
{
    assert (n <= ORDER_FIXTURE_SUMMARIES);
    static const Tally__OrderStatus statuses [4] = { TALLY__ORDER_STATUS__ORDER_FAILED,
                                                     TALLY__ORDER_STATUS__ORDER_DRAFT,
                                                     TALLY__ORDER_STATUS__ORDER_PROCESSING,
                                                     TALLY__ORDER_STATUS__ORDER_COMPLETED };
    for (size_t i = 0; i < n; i++) {
        uint64_t p = first + i;
        Tally__OrderSummary *summary = &l->summaries [i];
        tally__order_summary__init (summary);
        order_fixture_id (p, l->ids [i]);
        summary->id = l->ids [i];
        summary->user_id = watch_keys.user_id;
        summary->status = queue ? TALLY__ORDER_STATUS__ORDER_PROCESSING : statuses [p % 4];
        summary->total = 10 * (int64_t) p;
        summary->version = p;
        summary->updated_at = WATCH_UPDATED_MS + (int64_t) p;
        summary->submitted_at = summary->status == TALLY__ORDER_STATUS__ORDER_DRAFT
                                    ? 0
                                    : summary->updated_at;
        l->summary_list [i] = summary;
    }
}

static void
s_state (order_fixture_list_t *l, uint64_t version)
{
    l->state.object_id = l->id;
    l->state.version = version;
    l->state.updated_ms = WATCH_UPDATED_MS + (int64_t) version;
    l->state.value = &l->value;
}

void
order_fixture_list (order_fixture_list_t *l, uint64_t version, uint64_t count, size_t n)
{
    assert (n <= count && version >= 1);
    tally__object_state__init (&l->state);
    tally__object_value__init (&l->value);
    tally__order_list__init (&l->list);
    order_fixture_list_id (l->id);
    s_summaries (l, count - n + 1, n, false);
    l->list.id = l->id;
    l->list.user_id = watch_keys.user_id;
    l->list.count = count;
    l->list.n_orders = n;
    l->list.orders = l->summary_list;
    l->value.kind_case = TALLY__OBJECT_VALUE__KIND_ORDERS;
    l->value.orders = &l->list;
    s_state (l, version);
}

void
order_fixture_queue (order_fixture_list_t *q, uint64_t version, size_t n)
{
    assert (version >= 1);
    tally__object_state__init (&q->state);
    tally__object_value__init (&q->value);
    tally__order_queue__init (&q->queue);
    order_fixture_queue_id (q->id);
    s_summaries (q, 1, n, true);
    q->queue.id = q->id;
    q->queue.partition = s_partition ();
    q->queue.n_orders = n;
    q->queue.orders = q->summary_list;
    q->value.kind_case = TALLY__OBJECT_VALUE__KIND_ORDER_QUEUE;
    q->value.order_queue = &q->queue;
    s_state (q, version);
}
