//  make_corpus_orders - the orders of `fuzz_corpus traffic` (docs/protocol.md
//  "Orders"): client C creates an order of two lines (one at the catalog
//  price), edits, submits it, and the worker completes it, four records in
//  a row (make_corpus_audit.c takes the last two as a journal window); a
//  second order is submitted past the balance, edited, submitted, refused
//  what its status, its user or its hold do not allow, and failed with the
//  service's error. Client C follows its order list and the first order,
//  the worker the order queue of their partition. Client D fills its open
//  orders and creates one more. Each answer must be the outcome its seed is
//  named for.
//
//  Clients C and D are users of their own, alone in their partitions (2
//  and 3 of 4): orders stay in the state for good, and in the partitions
//  of clients A and B they would put the state snapshots (the seeds of
//  snapshot_load) over a seed's size. Client C's partition's snapshot is
//  one, with its orders; client D's, with 16 orders, is too large.
#include "make_corpus.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "tly_object_id.h"
#include "tly_partition.h"

//  Creates who's account (no seeds: as client A's and B's); returns its
//  balance.
static int64_t
s_account (corpus_traffic_t *self, fuzz_account_t who, int64_t initial)
{
    tly_msg_t msg;
    tly_msg_create_account (&msg, initial);
    size_t answer = corpus_send (self, NULL, who, &msg, 1);
    corpus_expect (self, answer, "an order user's account", TALLY__MESSAGE_RESULT__OUTCOME_BALANCE,
                   0, NULL);
    Tally__ClientReply *reply = corpus_reply (self, answer);
    int64_t balance = reply->results [0]->balance->balance;
    assert (reply->results [0]->balance->held == 0);
    tally__client_reply__free_unpacked (reply, NULL);
    return balance;
}

static void
s_lines (tly_order_item_t *items, const char *first, int64_t first_amount, const char *second,
         int64_t second_amount)
{
    memset (items, 0, 2 * sizeof *items);
    snprintf (items [0].item_id, sizeof items [0].item_id, "%s", first);
    items [0].amount = first_amount;
    snprintf (items [1].item_id, sizeof items [1].item_id, "%s", second);
    items [1].amount = second_amount;
}

//  The first order, from create to complete with nothing between: its
//  records follow one another. Client C follows it once created. Returns
//  its total.
static int64_t
s_completed (corpus_traffic_t *self, corpus_sub_t *sub)
{
    const Tally__MessageResult__OutcomeCase order = TALLY__MESSAGE_RESULT__OUTCOME_ORDER;
    char order_id [TLY_ID_MAX];
    tly_order_item_t items [2];
    tly_msg_t msg;
    //  Tea at the catalog's price (s_catalog's 6), a pen at the one named.
    s_lines (items, "tea", 0, "pen", 4);
    int rc = tly_msg_create_order (&msg, items, 2, NULL);
    assert (rc == 0);
    corpus_step (self, "create-order", FUZZ_CLIENT_C, &msg, 1, order, 0, order_id);
    sub->name = "order";
    sub->request_id = corpus_subscribe (self, "subscribe-order", FUZZ_CLIENT_C, order_id,
                                        &sub->answer);
    corpus_reply_seed (self, sub->answer, "subscribe-order");
    s_lines (items, "tea", 0, "pen", 3);
    rc = tly_msg_edit_order (&msg, order_id, items, 2, NULL);
    assert (rc == 0);
    corpus_step (self, "edit-order", FUZZ_CLIENT_C, &msg, 1, order, 0, NULL);
    rc = tly_msg_submit_order (&msg, order_id, NULL);
    assert (rc == 0);
    corpus_step (self, "submit-order", FUZZ_CLIENT_C, &msg, 1, order, 0, NULL);
    rc = tly_msg_complete_order (&msg, order_id, NULL);
    assert (rc == 0);
    size_t answer = corpus_send (self, "complete-order", FUZZ_WORKER, &msg, 1);
    corpus_reply_seed (self, answer, "complete-order");
    corpus_expect (self, answer, "complete-order", order, 0, NULL);
    Tally__ClientReply *reply = corpus_reply (self, answer);
    const Tally__Order *completed = reply->results [0]->order;
    assert (completed->status == TALLY__ORDER_STATUS__ORDER_COMPLETED
            && completed->n_purchase_ids == 2);
    int64_t total = completed->total;
    tally__client_reply__free_unpacked (reply, NULL);
    return total;
}

//  The second order: first past the available balance (balance: client
//  B's, all of it), so that its submit is refused and it stays a draft;
//  edited, submitted, and refused what its status, its user and the hold
//  do not allow; then the worker fails it.
static void
s_failed (corpus_traffic_t *self, int64_t balance)
{
    const Tally__MessageResult__OutcomeCase order = TALLY__MESSAGE_RESULT__OUTCOME_ORDER;
    const Tally__MessageResult__OutcomeCase refused = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    char order_id [TLY_ID_MAX];
    tly_order_item_t items [2];
    tly_msg_t msg;
    //  Cake at the catalog's price (4, set by the admin), a car at all of
    //  the balance.
    s_lines (items, "cake", 0, "car", balance);
    int rc = tly_msg_create_order (&msg, items, 2, NULL);
    assert (rc == 0);
    size_t answer = corpus_send (self, NULL, FUZZ_CLIENT_C, &msg, 1);
    corpus_expect (self, answer, "the second order", order, 0, order_id);
    rc = tly_msg_submit_order (&msg, order_id, NULL);
    assert (rc == 0);
    corpus_step (self, "submit-too-much", FUZZ_CLIENT_C, &msg, 1, refused,
                 TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, NULL);
    //  A lamp instead of the car.
    s_lines (items, "cake", 0, "lamp", 6);
    rc = tly_msg_edit_order (&msg, order_id, items, 2, NULL);
    assert (rc == 0);
    answer = corpus_send (self, NULL, FUZZ_CLIENT_C, &msg, 1);
    corpus_expect (self, answer, "the second order's edit", order, 0, NULL);
    rc = tly_msg_submit_order (&msg, order_id, NULL);
    assert (rc == 0);
    answer = corpus_send (self, NULL, FUZZ_CLIENT_C, &msg, 1);
    corpus_expect (self, answer, "the second order's submit", order, 0, NULL);

    rc = tly_msg_edit_order (&msg, order_id, items, 2, NULL);
    assert (rc == 0);
    corpus_step (self, "edit-submitted", FUZZ_CLIENT_C, &msg, 1, refused,
                 TALLY__ERROR_CODE__INVALID_TRANSITION, NULL);
    rc = tly_msg_submit_order (&msg, order_id, NULL);
    assert (rc == 0);
    corpus_step (self, "submit-by-other", FUZZ_CLIENT_A, &msg, 1, refused,
                 TALLY__ERROR_CODE__NOT_FOUND, NULL);
    rc = tly_msg_complete_order (&msg, order_id, NULL);
    assert (rc == 0);
    corpus_step (self, "complete-by-user", FUZZ_CLIENT_C, &msg, 1, refused,
                 TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    //  The whole balance: what the hold keeps from it refuses the buy.
    //  (Client C's first buy: its rate limit has a token for it.)
    rc = tly_msg_buy (&msg, "soap", balance);
    assert (rc == 0);
    corpus_step (self, "buy-held", FUZZ_CLIENT_C, &msg, 1, refused,
                 TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, NULL);
    rc = tly_msg_fail_order (&msg, order_id, "The card was declined", NULL);
    assert (rc == 0);
    corpus_step (self, "fail-order", FUZZ_WORKER, &msg, 1, order, 0, NULL);
}

//  Client D's open orders to the limit (no seeds: one envelope of them),
//  then one more.
static void
s_limit (corpus_traffic_t *self)
{
    s_account (self, FUZZ_CLIENT_D, 10);
    tly_order_item_t items [2];
    tly_msg_t msgs [TLY_ORDER_OPEN_MAX];
    s_lines (items, "pear", 1, "fig", 1);
    for (int i = 0; i < TLY_ORDER_OPEN_MAX; i++) {
        int rc = tly_msg_create_order (&msgs [i], items, 1, NULL);
        assert (rc == 0);
    }
    size_t answer = corpus_send (self, NULL, FUZZ_CLIENT_D, msgs, TLY_ORDER_OPEN_MAX);
    corpus_expect (self, answer, "client D's open orders", TALLY__MESSAGE_RESULT__OUTCOME_ORDER, 0,
                   NULL);
    int rc = tly_msg_create_order (&msgs [0], items, 1, NULL);
    assert (rc == 0);
    corpus_step (self, "create-order-limit", FUZZ_CLIENT_D, msgs, 1,
                 TALLY__MESSAGE_RESULT__OUTCOME_ERROR, TALLY__ERROR_CODE__ORDER_LIMIT, NULL);
}

void
corpus_orders (corpus_traffic_t *self, uint32_t partitions, corpus_sub_t subs [CORPUS_ORDER_SUBS])
{
    const uint8_t *user = fuzz_account (FUZZ_CLIENT_C)->sign_pk;
    const uint8_t *worker = fuzz_account (FUZZ_WORKER)->sign_pk;
    int64_t balance = s_account (self, FUZZ_CLIENT_C, 100);
    char list_id [TLY_ID_MAX], queue_id [TLY_ID_MAX];
    tly_orders_id (user, partitions, list_id);
    tly_order_queue_id (worker, tly_partition_of (user, partitions), queue_id);
    subs [1].name = "orders";
    subs [1].request_id = corpus_subscribe (self, "subscribe-orders", FUZZ_CLIENT_C, list_id,
                                            &subs [1].answer);
    corpus_reply_seed (self, subs [1].answer, "subscribe-orders");
    subs [2].name = "order-queue";
    subs [2].request_id = corpus_subscribe (self, "subscribe-order-queue", FUZZ_WORKER, queue_id,
                                            &subs [2].answer);
    corpus_reply_seed (self, subs [2].answer, "subscribe-order-queue");

    int64_t total = s_completed (self, &subs [0]);
    s_failed (self, balance - total);
    s_limit (self);
}
