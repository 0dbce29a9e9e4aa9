//  audit_orders - the orders the audit tools rebuild (see audit_orders.h).
//  Order keys end in a BLAKE2b digest, so their last bytes spread well
//  enough to be the table's hash: no keyed hash is needed (a key is made
//  by its creating message's ID, which the actors check, not chosen
//  freely).
#include "audit_orders.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_CAPACITY_FIRST 1024  //  slots of a new table (a power of two)
#define S_LOAD_PERCENT   70    //  grow past this fill

struct _audit_orders_t {
    audit_order_t *slots;
    size_t capacity;  //  a power of two
    size_t count;
};

audit_orders_t *
audit_orders_new (void)
{
    audit_orders_t *self = calloc (1, sizeof *self);
    assert (self);
    self->capacity = S_CAPACITY_FIRST;
    self->slots = calloc (self->capacity, sizeof (audit_order_t));
    assert (self->slots);
    return self;
}

void
audit_orders_destroy (audit_orders_t **self_p)
{
    assert (self_p);
    audit_orders_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].used)
            audit_order_lines_free (&self->slots [i]);
    free (self->slots);
    free (self);
    *self_p = NULL;
}

static size_t
s_home (const audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    uint64_t value;
    memcpy (&value, key + TLY_OBJECT_KEY_BYTES - sizeof value, sizeof value);
    return (size_t) value & (self->capacity - 1);
}

static audit_order_t *
s_probe (const audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    size_t index = s_home (self, key);
    while (true) {
        audit_order_t *slot = &self->slots [index];
        if (!slot->used || memcmp (slot->key, key, TLY_OBJECT_KEY_BYTES) == 0)
            return slot;
        index = (index + 1) & (self->capacity - 1);
    }
}

static void
s_grow (audit_orders_t *self)
{
    audit_order_t *old = self->slots;
    size_t old_capacity = self->capacity;
    assert (old_capacity <= SIZE_MAX / 2 / sizeof (audit_order_t));
    self->capacity = old_capacity * 2;
    self->slots = calloc (self->capacity, sizeof (audit_order_t));
    assert (self->slots);
    for (size_t i = 0; i < old_capacity; i++)
        if (old [i].used)
            *s_probe (self, old [i].key) = old [i];
    free (old);
}

audit_order_t *
audit_orders_find (audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    assert (self && key);
    audit_order_t *slot = s_probe (self, key);
    return slot->used ? slot : NULL;
}

audit_order_t *
audit_orders_add (audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES],
                  const uint8_t user [TLY_KEY_BYTES])
{
    assert (self && key && user);
    if ((self->count + 1) * 100 > self->capacity * S_LOAD_PERCENT)
        s_grow (self);
    audit_order_t *slot = s_probe (self, key);
    assert (!slot->used);
    *slot = (audit_order_t) { .used = true };
    memcpy (slot->key, key, TLY_OBJECT_KEY_BYTES);
    memcpy (slot->user, user, TLY_KEY_BYTES);
    self->count++;
    return slot;
}

size_t
audit_orders_count (audit_orders_t *self)
{
    assert (self);
    return self->count;
}

size_t
audit_orders_capacity (audit_orders_t *self)
{
    assert (self);
    return self->capacity;
}

audit_order_t *
audit_orders_slot (audit_orders_t *self, size_t index)
{
    assert (self && index < self->capacity);
    return &self->slots [index];
}

audit_order_lines_t *
audit_order_lines_new (audit_order_t *order)
{
    assert (order);
    audit_order_lines_free (order);
    order->lines = calloc (1, sizeof *order->lines);
    assert (order->lines);
    return order->lines;
}

void
audit_order_lines_free (audit_order_t *order)
{
    assert (order);
    if (!order->lines)
        return;
    for (size_t i = 0; i < TLY_ORDER_ITEMS_MAX; i++)
        free (order->lines->item_ids [i]);
    free (order->lines);
    order->lines = NULL;
}

void
audit_order_lines_set (audit_order_lines_t *lines, size_t index, const char *item_id,
                       int64_t amount)
{
    assert (lines && index < TLY_ORDER_ITEMS_MAX);
    free (lines->item_ids [index]);
    lines->item_ids [index] = strdup (item_id ? item_id : "");
    assert (lines->item_ids [index]);
    lines->amounts [index] = amount;
    if (index >= lines->n_items)
        lines->n_items = index + 1;
}

bool
audit_order_open (Tally__OrderStatus status)
{
    return status == TALLY__ORDER_STATUS__ORDER_DRAFT
           || status == TALLY__ORDER_STATUS__ORDER_PROCESSING;
}
