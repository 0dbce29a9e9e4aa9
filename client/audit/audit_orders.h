//  audit_orders - orders as the audit tools rebuild them (docs/protocol.md
//  "Orders"): an open-addressing table keyed by the order's raw object key,
//  for replay's state (status, total, version, user: what compare holds
//  against the actors') and verify's derivation, which also keeps an open
//  order's lines and times (what its next OrderChanged must repeat) and
//  drops them once the order is final, so that a final order takes a slot
//  of fixed size for good, as the actors keep final orders for good.
//
//      audit_orders_t *orders = audit_orders_new ();
//      audit_order_t *order = audit_orders_add (orders, key, user);
//      order->status = TALLY__ORDER_STATUS__ORDER_DRAFT;
//      audit_orders_find (orders, key);
#ifndef AUDIT_ORDERS_H_INCLUDED
#define AUDIT_ORDERS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.h"  //  tly_order_status_name
#include "tally.pb-c.h"
#include "tly_limits.h"
#include "tly_object_id.h"

//  An open order's lines and times (verify's derivation only).
typedef struct {
    int64_t created_at;
    int64_t submitted_at;
    size_t n_items;
    char *item_ids [TLY_ORDER_ITEMS_MAX];
    int64_t amounts [TLY_ORDER_ITEMS_MAX];
} audit_order_lines_t;

typedef struct {
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    uint8_t user [TLY_KEY_BYTES];
    Tally__OrderStatus status;
    uint64_t version;
    int64_t total;
    audit_order_lines_t *lines;  //  draft or processing, in verify's derivation; else NULL
    bool used;                   //  the slot holds an order
    bool matched;                //  compare: an actor's ledger has it
} audit_order_t;

typedef struct _audit_orders_t audit_orders_t;

audit_orders_t *audit_orders_new (void);
void audit_orders_destroy (audit_orders_t **self_p);
//  NULL when no order has that key. The pointer holds until the next add.
audit_order_t *audit_orders_find (audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES]);
//  Adds the order with key, which must not be there, of user (status NONE,
//  version 0: the caller sets them).
audit_order_t *audit_orders_add (audit_orders_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES],
                                 const uint8_t user [TLY_KEY_BYTES]);
size_t audit_orders_count (audit_orders_t *self);
//  Slots 0 .. capacity - 1; a slot holds an order when ->used.
size_t audit_orders_capacity (audit_orders_t *self);
audit_order_t *audit_orders_slot (audit_orders_t *self, size_t index);

//  The order's lines, new and empty (replacing any it had), or freed.
audit_order_lines_t *audit_order_lines_new (audit_order_t *order);
void audit_order_lines_free (audit_order_t *order);
//  Sets line index of lines (a copy of item_id).
void audit_order_lines_set (audit_order_lines_t *lines, size_t index, const char *item_id,
                            int64_t amount);

//  Whether status is draft or processing: an open order, which counts
//  against its user's TLY_ORDER_OPEN_MAX.
bool audit_order_open (Tally__OrderStatus status);

#endif
