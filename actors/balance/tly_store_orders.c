//  tly_store_orders - the balance actor's order rows (tly_store.h): orders,
//  the users' OrderLists and the partitions' OrderQueues, kept in the
//  purchases table under their object keys.
#include "tly_store_private.h"

#include <assert.h>
#include <string.h>

#include "tly_object_id.h"

static int
s_get_order (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__Order **order_p = out;
    *order_p = tally__order__unpack (tly_arena_allocator (arena), value->mv_size, value->mv_data);
    return *order_p ? 0 : tly_store_bad_entry (self, "order");
}

tly_store_lookup_t
tly_store_order (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES], tly_arena_t *arena,
                 Tally__Order **order_p)
{
    assert (self && key && arena && order_p);
    if (key [0] != TLY_OBJ_ORDER)
        return TLY_STORE_ABSENT;
    return tly_store_get (self, self->purchases, key, TLY_STORE_OBJECT_BYTES, s_get_order, order_p,
                          arena);
}

int
tly_store_put_order (tly_store_t *self, const Tally__Order *order)
{
    assert (self && order);
    uint8_t key [TLY_STORE_OBJECT_BYTES];
    if (tly_object_key_parse (order->id, key) == -1 || key [0] != TLY_OBJ_ORDER)
        return -1;
    return tly_store_put_message (self, self->purchases, key, sizeof key, &order->base, false);
}

int
tly_store_each_order (tly_store_t *self, uint32_t partition,
                      int (*fn) (const Tally__Order *order, void *arg), void *arg)
{
    assert (self && fn);
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return -1;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, self->purchases, &cursor);
    if (rc) {
        tly_store_txn_end (self, txn);
        return tly_store_lmdb_error (self, "cursor", rc);
    }
    uint8_t prefix [3] = { TLY_OBJ_ORDER, (uint8_t) (partition >> 8), (uint8_t) partition };
    size_t prefix_size = partition == UINT32_MAX ? 1 : sizeof prefix;
    MDB_val key = { prefix_size, prefix }, value;
    int result = 0;
    for (rc = mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get (cursor, &key, &value, MDB_NEXT)) {
        if (key.mv_size < prefix_size || memcmp (key.mv_data, prefix, prefix_size) != 0)
            break;
        Tally__Order *order = tally__order__unpack (NULL, value.mv_size, value.mv_data);
        if (!order) {
            result = tly_store_bad_entry (self, "order");
            break;
        }
        result = fn (order, arg);
        tally__order__free_unpacked (order, NULL);
        if (result == -1)
            break;
    }
    if (result == 0 && rc && rc != MDB_NOTFOUND)
        result = tly_store_lmdb_error (self, "cursor get", rc);
    mdb_cursor_close (cursor);
    tly_store_txn_end (self, txn);
    return result;
}

static int
s_get_order_list (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    Tally__OrderList **list_p = out;
    *list_p = tally__order_list__unpack (tly_arena_allocator (arena), value->mv_size,
                                         value->mv_data);
    return *list_p ? 0 : tly_store_bad_entry (self, "order list");
}

tly_store_lookup_t
tly_store_order_list (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                      tly_arena_t *arena, Tally__OrderList **list_p)
{
    assert (self && key && arena && list_p);
    assert (key [0] == TLY_OBJ_ORDER_LIST);
    return tly_store_get (self, self->purchases, key, TLY_STORE_OBJECT_BYTES, s_get_order_list,
                          list_p, arena);
}

int
tly_store_put_order_list (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                          const Tally__OrderList *list)
{
    assert (self && key && list);
    assert (key [0] == TLY_OBJ_ORDER_LIST);
    return tly_store_put_message (self, self->purchases, key, TLY_STORE_OBJECT_BYTES, &list->base,
                                  false);
}

typedef struct {
    Tally__OrderQueue **queue_p;
    uint64_t *version;
} s_queue_t;

static int
s_get_order_queue (tly_store_t *self, const MDB_val *value, void *out, tly_arena_t *arena)
{
    s_queue_t *queue = out;
    const uint8_t *data = value->mv_data;
    if (value->mv_size < 8)
        return tly_store_bad_entry (self, "order queue");
    *queue->version = tly_get_be64 (data);
    *queue->queue_p = tally__order_queue__unpack (tly_arena_allocator (arena), value->mv_size - 8,
                                                  data + 8);
    return *queue->queue_p && *queue->version > 0 ? 0 : tly_store_bad_entry (self, "order queue");
}

tly_store_lookup_t
tly_store_order_queue (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                       tly_arena_t *arena, Tally__OrderQueue **queue_p, uint64_t *version)
{
    assert (self && key && arena && queue_p && version);
    assert (key [0] == TLY_OBJ_ORDER_QUEUE);
    s_queue_t queue = { queue_p, version };
    return tly_store_get (self, self->purchases, key, TLY_STORE_OBJECT_BYTES, s_get_order_queue,
                          &queue, arena);
}

tly_store_lookup_t
tly_store_order_queue_key (tly_store_t *self, uint32_t partition,
                           uint8_t key [TLY_STORE_OBJECT_BYTES])
{
    assert (self && key);
    MDB_txn *txn = tly_store_txn_begin (self);
    if (!txn)
        return TLY_STORE_ERROR;
    MDB_cursor *cursor = NULL;
    int rc = mdb_cursor_open (txn, self->purchases, &cursor);
    tly_store_lookup_t found = TLY_STORE_ERROR;
    if (rc == 0) {
        uint8_t prefix [3] = { TLY_OBJ_ORDER_QUEUE, (uint8_t) (partition >> 8),
                               (uint8_t) partition };
        MDB_val k = { sizeof prefix, prefix }, value;
        rc = mdb_cursor_get (cursor, &k, &value, MDB_SET_RANGE);
        if (rc == 0 && k.mv_size == TLY_STORE_OBJECT_BYTES
            && memcmp (k.mv_data, prefix, sizeof prefix) == 0) {
            memcpy (key, k.mv_data, TLY_STORE_OBJECT_BYTES);
            found = TLY_STORE_FOUND;
        } else if (rc == 0 || rc == MDB_NOTFOUND)
            found = TLY_STORE_ABSENT;
        else
            tly_store_lmdb_error (self, "cursor get", rc);
        mdb_cursor_close (cursor);
    } else
        tly_store_lmdb_error (self, "cursor", rc);
    tly_store_txn_end (self, txn);
    return found;
}

int
tly_store_put_order_queue (tly_store_t *self, const uint8_t key [TLY_STORE_OBJECT_BYTES],
                           const Tally__OrderQueue *queue, uint64_t version)
{
    assert (self && key && queue);
    assert (self->txn);
    assert (key [0] == TLY_OBJ_ORDER_QUEUE && version > 0);
    MDB_val k = { TLY_STORE_OBJECT_BYTES, (void *) key };
    size_t size = protobuf_c_message_get_packed_size (&queue->base);
    MDB_val value = { 8 + size, NULL };
    int rc = mdb_put (self->txn, self->purchases, &k, &value, MDB_RESERVE);
    if (rc)
        return tly_store_lmdb_error (self, "put", rc);
    tly_put_be64 (value.mv_data, version);
    size_t packed = protobuf_c_message_pack (&queue->base, (uint8_t *) value.mv_data + 8);
    assert (packed == size);
    return 0;
}
