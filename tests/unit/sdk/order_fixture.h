//  order_fixture - the user's orders as the worker would sign them (the
//  keys of watch_fixture): an Order, the user's OrderList and the OrderQueue
//  of the user's partition (TLY_PARTITIONS_DEFAULT partitions).
#ifndef ORDER_FIXTURE_H_INCLUDED
#define ORDER_FIXTURE_H_INCLUDED

#include "watch_fixture.h"

//  One past each limit, so that tests can cross it.
#define ORDER_FIXTURE_ITEMS     (TLY_ORDER_ITEMS_MAX + 1)
#define ORDER_FIXTURE_SUMMARIES (TLY_ORDER_QUEUE_MAX + 1)
#define ORDER_FIXTURE_ERROR     "card declined"

//  The ID of the user's order p (1, 2, ...): made by a createOrder whose
//  message ID carries the time WATCH_UPDATED_MS + p. out: TLY_ID_MAX bytes.
void order_fixture_id (uint64_t p, char *out);
//  The user's OrderList and their partition's OrderQueue.
void order_fixture_list_id (char *out);
void order_fixture_queue_id (char *out);

//  Order 1 at version, in status, with n lines: line i (from 1) item-i at
//  10 * i, total their sum; created_at WATCH_UPDATED_MS + 1, updated_at
//  WATCH_UPDATED_MS + version; once processing, submitted_at
//  WATCH_UPDATED_MS + 2; once final, finished_at = updated_at; failed:
//  error ORDER_FIXTURE_ERROR; completed: a purchase ID per line, line i's
//  tly_order_purchase_key (completing message at WATCH_UPDATED_MS + 3).
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__Order order;
    Tally__OrderItem items [ORDER_FIXTURE_ITEMS];
    Tally__OrderItem *list [ORDER_FIXTURE_ITEMS];
    char item_ids [ORDER_FIXTURE_ITEMS][32];
    char purchase_ids [ORDER_FIXTURE_ITEMS][TLY_ID_MAX];
    char *purchase_list [ORDER_FIXTURE_ITEMS];
    char id [TLY_ID_MAX];
} order_fixture_t;

void order_fixture_order (order_fixture_t *o, uint64_t version, Tally__OrderStatus status,
                          size_t n);

//  Summary of order p: status draft, processing, completed, failed as p
//  modulo 4 is 1, 2, 3, 0 (all processing in a queue), total 10 * p,
//  version p, updated_at WATCH_UPDATED_MS + p, submitted_at the same but
//  for a draft.
typedef struct {
    Tally__ObjectState state;
    Tally__ObjectValue value;
    Tally__OrderList list;
    Tally__OrderQueue queue;
    Tally__OrderSummary summaries [ORDER_FIXTURE_SUMMARIES];
    Tally__OrderSummary *summary_list [ORDER_FIXTURE_SUMMARIES];
    char ids [ORDER_FIXTURE_SUMMARIES][TLY_ID_MAX];
    char id [TLY_ID_MAX];
} order_fixture_list_t;

//  The user's OrderList at version: count orders created, the summaries of
//  the last n of them (orders count - n + 1 .. count), oldest first.
void order_fixture_list (order_fixture_list_t *l, uint64_t version, uint64_t count, size_t n);
//  The OrderQueue of the user's partition at version: orders 1..n.
void order_fixture_queue (order_fixture_list_t *q, uint64_t version, size_t n);

#endif
