//  it_order_rules - orders through a real cluster (docs/protocol.md, "Orders"),
//  with the worker doing the order processor's part by hand: a draft is
//  created, edited and submitted by its user, the hold shows in the
//  balance they follow and stops a buy and a second order from spending
//  it; the worker completes it (the hold captured, a purchase per line) or
//  fails it (the hold released, the error in the order); the user may not
//  complete their own order, nor edit it once submitted; another user can
//  neither read nor touch it; the partition's OrderQueue, read by the
//  worker, lists what is processing; a resend answers the first result;
//  orders and holds survive a kill -9 of both actors; two senders of one
//  user racing orders and buys never overdraw; `tally audit verify`
//  re-derives every decision and `replay --compare` agrees with the actors.
//  Usage: it_order_rules BASE_PORT
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_partition.h"

#define S_COMMAND_MS  60000
#define S_RACE_ROUNDS 40

//  What a subscription delivered last, per kind, and every balance version.
typedef struct {
    uint64_t balance_version;
    int64_t balance;
    int64_t held;
    size_t balances;      //  versions of the balance delivered
    tly_order_t order;    //  the order followed, as last delivered
    uint64_t order_seen;  //  its versions delivered
    uint64_t list_count;  //  the OrderList's count
    size_t list_size;
    Tally__OrderStatus list_last;  //  the newest order's status in the list
    size_t queue_size;             //  the OrderQueue's orders
    tly_purchase_t purchase;       //  the purchase followed last
    char queue_first [TLY_ID_MAX];
    bool ended;
    Tally__ErrorCode ended_code;
} s_seen_t;

static void
s_on_object (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    if (object->ended) {
        seen->ended = true;
        seen->ended_code = object->code;
        return;
    }
    if (object->kind == TLY_OBJ_BALANCE) {
        //  In order, no gap (a resync may repeat one as a snapshot).
        CHECK (seen->balances == 0 || object->version == seen->balance_version + 1
               || (object->snapshot && object->version >= seen->balance_version));
        seen->balance_version = object->version;
        seen->balance = object->balance.balance;
        seen->held = object->balance.held;
        seen->balances++;
    } else if (object->kind == TLY_OBJ_ORDER) {
        CHECK (seen->order_seen == 0 || object->version == seen->order.version + 1
               || (object->snapshot && object->version >= seen->order.version));
        seen->order = object->order;
        CHECK (seen->order.version == object->version);
        seen->order_seen++;
    } else if (object->kind == TLY_OBJ_ORDER_LIST) {
        seen->list_count = object->orders.count;
        seen->list_size = object->orders.order_count;
        if (seen->list_size > 0)
            seen->list_last = object->orders.orders [seen->list_size - 1].status;
    } else if (object->kind == TLY_OBJ_PURCHASE) {
        seen->purchase = object->purchase;
    } else if (object->kind == TLY_OBJ_ORDER_QUEUE) {
        seen->queue_size = object->order_queue.order_count;
        seen->queue_first [0] = 0;
        if (seen->queue_size > 0)
            strcpy (seen->queue_first, object->order_queue.orders [0].id);
    }
}

//  Checks that result is refused with code, its message holding words.
static void
s_refused (tly_result_t result, Tally__ErrorCode code, const char *words)
{
    if (result.ok || result.code != code || (words && !strstr (result.message, words)))
        fprintf (stderr, "expected %s (%s), got ok=%d %s: %s\n", tly_error_name (code),
                 words ? words : "", result.ok, tly_error_name (result.code), result.message);
    CHECK (!result.ok && result.code == code);
    CHECK (!words || strstr (result.message, words));
}

//  Dispatches until done (seen) holds, or fails at the deadline.
static void
s_until (tly_watcher_t *watcher, s_seen_t *seen, bool (*done) (const s_seen_t *, const void *),
         const void *arg)
{
    int64_t deadline = th_now_ms () + IT_SEND_TIMEOUT_MS;
    while (!done (seen, arg)) {
        CHECK (th_now_ms () < deadline);
        CHECK (tly_watcher_dispatch (watcher, 100) >= 0);
    }
}

static bool
s_held_is (const s_seen_t *seen, const void *arg)
{
    const int64_t *want = arg;  //  balance, held
    return seen->balance == want [0] && seen->held == want [1];
}

static bool
s_order_is (const s_seen_t *seen, const void *arg)
{
    return seen->order_seen > 0 && seen->order.status == *(const Tally__OrderStatus *) arg;
}

static bool
s_queue_is (const s_seen_t *seen, const void *arg)
{
    return seen->queue_size == *(const size_t *) arg;
}

static tly_result_t
s_create (tly_sender_t *sender, const char *const *items, const int64_t *amounts, size_t n)
{
    tly_order_item_t lines [TLY_ORDER_ITEMS_MAX];
    CHECK (n <= TLY_ORDER_ITEMS_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf (lines [i].item_id, sizeof lines [i].item_id, "%s", items [i]);
        lines [i].amount = amounts [i];
    }
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_create_order (&msg, lines, n, &error) == 0);
    return it_send (sender, &msg);
}

static tly_result_t
s_edit (tly_sender_t *sender, const char *order_id, const char *const *items,
        const int64_t *amounts, size_t n)
{
    tly_order_item_t lines [TLY_ORDER_ITEMS_MAX];
    for (size_t i = 0; i < n; i++) {
        snprintf (lines [i].item_id, sizeof lines [i].item_id, "%s", items [i]);
        lines [i].amount = amounts [i];
    }
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_edit_order (&msg, order_id, lines, n, &error) == 0);
    return it_send (sender, &msg);
}

//  submit, complete or fail (error_text NULL: not a fail).
static tly_result_t
s_move (tly_sender_t *sender, tly_msg_kind_t kind, const char *order_id, const char *error_text)
{
    tly_msg_t msg;
    tly_error_t error;
    int rc = kind == TLY_MSG_SUBMIT_ORDER ? tly_msg_submit_order (&msg, order_id, &error)
             : kind == TLY_MSG_COMPLETE_ORDER
                 ? tly_msg_complete_order (&msg, order_id, &error)
                 : tly_msg_fail_order (&msg, order_id, error_text, &error);
    CHECK (rc == 0);
    return it_send (sender, &msg);
}

//  ---------------------------------------------------------------- the race
//  Two senders of one user, each ordering and buying as fast as answers
//  come; the worker completes or fails what is processing.
typedef struct {
    const char *gateway;
    const char *worker_id;
    const it_user_t *user;
    int seed;
    int64_t spent;     //  buys answered ok, and orders this sender submitted and saw completed
    size_t submitted;  //  orders submitted ok
    char orders [S_RACE_ROUNDS][TLY_ID_MAX];
    int64_t totals [S_RACE_ROUNDS];
    size_t refused;  //  INSUFFICIENT_BALANCE of either kind
} s_racer_t;

static void *
s_race (void *arg)
{
    s_racer_t *racer = arg;
    tly_sender_t *sender = it_sender (racer->gateway, racer->worker_id, racer->user);
    for (int i = 0; i < S_RACE_ROUNDS; i++) {
        int64_t amount = 1 + (racer->seed * 7 + i * 13) % 9;
        if (i % 2 == 0) {
            const char *item = "race-gem";
            tly_result_t created = s_create (sender, &item, &amount, 1);
            if (!created.ok) {
                //  Drafts refused a submit stay open: the user's bound.
                CHECK (created.code == TALLY__ERROR_CODE__ORDER_LIMIT);
                racer->refused++;
                continue;
            }
            CHECK (created.kind == TLY_RESULT_ORDER);
            tly_result_t submitted = s_move (sender, TLY_MSG_SUBMIT_ORDER, created.order.id, NULL);
            if (submitted.ok) {
                CHECK (submitted.order.status == TALLY__ORDER_STATUS__ORDER_PROCESSING
                       && submitted.order.total == amount);
                strcpy (racer->orders [racer->submitted], created.order.id);
                racer->totals [racer->submitted++] = amount;
            } else {
                CHECK (submitted.code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
                racer->refused++;
            }
        } else {
            tly_result_t bought = it_buy (sender, "race-coin", amount);
            if (bought.ok) {
                CHECK (bought.balance_after >= 0);
                racer->spent += amount;
            } else {
                CHECK (bought.code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
                racer->refused++;
            }
        }
    }
    tly_sender_destroy (&sender);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_order_rules BASE_PORT\n");
        return 2;
    }
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    it_user_t worker = { .account = cluster->worker };
    strcpy (worker.id, cluster->worker_id);
    it_user_t alice, bob;
    it_user_new (&alice);
    it_user_new (&bob);
    tly_sender_t *w = it_sender (cluster->gateway, cluster->worker_id, &worker);
    tly_sender_t *a = it_sender (cluster->gateway, cluster->worker_id, &alice);
    tly_sender_t *b = it_sender (cluster->gateway, cluster->worker_id, &bob);
    CHECK (it_create (a, 100).ok);
    CHECK (it_create (b, 100).ok);

    //  Alice follows her balance and her list of orders.
    tly_watcher_t *watcher = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                    cluster->worker_id, &alice.account);
    CHECK (watcher);
    s_seen_t seen;
    memset (&seen, 0, sizeof seen);
    char balance_id [TLY_ID_MAX], orders_id [TLY_ID_MAX];
    tly_balance_id (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    tly_orders_id (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT, orders_id);
    CHECK (tly_watcher_subscribe (watcher, balance_id, s_on_object, &seen, IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (tly_watcher_subscribe (watcher, orders_id, s_on_object, &seen, IT_SEND_TIMEOUT_MS) == 0);
    CHECK (seen.balance == 100 && seen.held == 0 && seen.list_count == 0);

    //  A draft of two lines, edited to three.
    const char *items [] = { "gem", "coin", "hat" };
    const int64_t amounts [] = { 30, 20, 10 };
    tly_result_t created = s_create (a, items, amounts, 2);
    CHECK (created.ok && created.kind == TLY_RESULT_ORDER);
    CHECK (created.order.status == TALLY__ORDER_STATUS__ORDER_DRAFT && created.order.total == 50
           && created.order.version == 1 && created.order.item_count == 2
           && strcmp (created.order.user_id, alice.id) == 0);
    char order_id [TLY_ID_MAX];
    strcpy (order_id, created.order.id);
    CHECK (tly_watcher_subscribe (watcher, order_id, s_on_object, &seen, IT_SEND_TIMEOUT_MS) == 0);
    tly_result_t edited = s_edit (a, order_id, items, amounts, 3);
    CHECK (edited.ok && edited.order.total == 60 && edited.order.version == 2
           && edited.order.item_count == 3 && strcmp (edited.order.items [2].item_id, "hat") == 0);
    th_step ("a draft is created and edited by its user");
    tly_error_t error;

    //  Bob can neither read nor touch it; nobody learns it exists.
    s_refused (s_edit (b, order_id, items, amounts, 1), TALLY__ERROR_CODE__NOT_FOUND,
               "No such order");
    s_refused (s_move (b, TLY_MSG_SUBMIT_ORDER, order_id, NULL), TALLY__ERROR_CODE__NOT_FOUND,
               "No such order");
    tly_watcher_t *snoop = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                  cluster->worker_id, &bob.account);
    CHECK (snoop);
    s_seen_t bob_seen;
    memset (&bob_seen, 0, sizeof bob_seen);
    CHECK (tly_watcher_subscribe (snoop, order_id, s_on_object, &bob_seen, IT_SEND_TIMEOUT_MS)
           == -1);
    CHECK (tly_watcher_error (snoop)->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    CHECK (tly_watcher_subscribe (snoop, orders_id, s_on_object, &bob_seen, IT_SEND_TIMEOUT_MS)
           == -1);
    CHECK (tly_watcher_error (snoop)->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    th_step ("another user can neither read nor edit nor submit it");

    //  An order message naming no order's ID is refused at the gateway,
    //  whole: here a purchase's ID, put in past the SDK's own check.
    tly_result_t receipt = it_buy (b, "gem", 1);
    CHECK (receipt.ok);
    tly_msg_t stray;
    CHECK (tly_msg_submit_order (&stray, order_id, &error) == 0);
    snprintf (stray.order_id, sizeof stray.order_id, "%s", receipt.id);
    tly_result_t none;
    CHECK (tly_sender_send (b, &stray, 1, IT_SEND_TIMEOUT_MS, &none) == -1);
    CHECK (tly_sender_error (b)->remote
           && tly_sender_error (b)->code == TALLY__ERROR_CODE__BAD_REQUEST
           && strstr (tly_sender_error (b)->message, "not an order's ID"));
    th_step ("an order message naming no order is refused at the gateway");

    //  Submitted: 60 held; the order can no longer be edited; a buy and a
    //  second order may spend only the 40 left.
    tly_msg_t submit;
    CHECK (tly_msg_submit_order (&submit, order_id, &error) == 0);
    tly_result_t submitted = it_send (a, &submit);
    CHECK (submitted.ok && submitted.order.status == TALLY__ORDER_STATUS__ORDER_PROCESSING
           && submitted.order.submitted_at > 0 && submitted.order.version == 3);
    tly_result_t again = it_send (a, &submit);  //  the same message: its first result
    CHECK (again.ok && again.order.version == 3
           && again.order.submitted_at == submitted.order.submitted_at);
    int64_t want [2] = { 100, 60 };
    s_until (watcher, &seen, s_held_is, want);
    s_refused (s_edit (a, order_id, items, amounts, 1), TALLY__ERROR_CODE__INVALID_TRANSITION,
               "processing");
    s_refused (it_buy (a, "gem", 41), TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
               "Insufficient balance");
    const int64_t big = 41;
    tly_result_t second = s_create (a, items, &big, 1);
    CHECK (second.ok);
    s_refused (s_move (a, TLY_MSG_SUBMIT_ORDER, second.order.id, NULL),
               TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, "Insufficient balance");
    CHECK (it_buy (a, "gem", 5).ok);
    want [0] = 95;
    s_until (watcher, &seen, s_held_is, want);
    th_step ("submitted: 60 held, shown live; a buy or an order past the 35 left is refused");

    //  The partition's queue, as the worker reads it, lists the order.
    tly_watcher_t *processor = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                      cluster->worker_id, &cluster->worker);
    CHECK (processor);
    s_seen_t queue;
    memset (&queue, 0, sizeof queue);
    char queue_id [TLY_ID_MAX];
    tly_order_queue_id (cluster->worker.sign_pk,
                        tly_partition_of (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT), queue_id);
    CHECK (tly_watcher_subscribe (processor, queue_id, s_on_object, &queue, IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (queue.queue_size == 1 && strcmp (queue.queue_first, order_id) == 0);
    CHECK (tly_watcher_subscribe (snoop, queue_id, s_on_object, &bob_seen, IT_SEND_TIMEOUT_MS)
           == -1);
    CHECK (tly_watcher_error (snoop)->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    th_step ("the worker reads the partition's queue; a user may not");

    //  Alice may not complete her own order; the worker does.
    s_refused (s_move (a, TLY_MSG_COMPLETE_ORDER, order_id, NULL),
               TALLY__ERROR_CODE__PERMISSION_DENIED, "Only the worker");
    s_refused (s_move (a, TLY_MSG_FAIL_ORDER, order_id, "no"), TALLY__ERROR_CODE__PERMISSION_DENIED,
               "Only the worker");
    tly_result_t completed = s_move (w, TLY_MSG_COMPLETE_ORDER, order_id, NULL);
    CHECK (completed.ok && completed.order.status == TALLY__ORDER_STATUS__ORDER_COMPLETED
           && completed.order.purchase_count == 3 && completed.order.finished_at > 0);
    want [0] = 35;
    want [1] = 0;
    s_until (watcher, &seen, s_held_is, want);
    Tally__OrderStatus status = TALLY__ORDER_STATUS__ORDER_COMPLETED;
    s_until (watcher, &seen, s_order_is, &status);
    size_t empty = 0;
    s_until (processor, &queue, s_queue_is, &empty);
    s_refused (s_move (w, TLY_MSG_FAIL_ORDER, order_id, "late"),
               TALLY__ERROR_CODE__INVALID_TRANSITION, "completed");
    th_step ("the user's own completion is refused; the worker's captures the hold once");

    //  Each line is a purchase the user may read.
    s_seen_t record;
    memset (&record, 0, sizeof record);
    tly_watcher_t *reader = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                   cluster->worker_id, &alice.account);
    CHECK (reader);
    int64_t after = 95;  //  the balance before the capture
    for (size_t i = 0; i < 3; i++) {
        CHECK (tly_watcher_subscribe (reader, completed.order.purchase_ids [i], s_on_object,
                                      &record, IT_SEND_TIMEOUT_MS)
               == 0);
        //  The line's item and amount, in order, the balance after it running.
        CHECK (strcmp (record.purchase.id, completed.order.purchase_ids [i]) == 0
               && strcmp (record.purchase.item_id, items [i]) == 0
               && record.purchase.amount == amounts [i]
               && strcmp (record.purchase.user_id, alice.id) == 0);
        after -= amounts [i];
        CHECK (record.purchase.balance_after == after);
    }
    CHECK (after == 35);
    tly_watcher_destroy (&reader);
    th_step ("a purchase record per line");

    //  A second order, failed by the worker: the hold released, the reason kept.
    const int64_t ten = 10;
    tly_result_t third = s_create (a, items, &ten, 1);
    CHECK (third.ok && s_move (a, TLY_MSG_SUBMIT_ORDER, third.order.id, NULL).ok);
    want [0] = 35;
    want [1] = 10;
    s_until (watcher, &seen, s_held_is, want);
    tly_result_t failed = s_move (w, TLY_MSG_FAIL_ORDER, third.order.id, "card declined");
    CHECK (failed.ok && failed.order.status == TALLY__ORDER_STATUS__ORDER_FAILED
           && strcmp (failed.order.error, "card declined") == 0);
    want [1] = 0;
    s_until (watcher, &seen, s_held_is, want);
    s_refused (s_move (a, TLY_MSG_SUBMIT_ORDER, third.order.id, NULL),
               TALLY__ERROR_CODE__INVALID_TRANSITION, "failed");
    th_step ("a failed order releases its hold and keeps the service's error");

    //  Open orders are bounded: 16 at once (the draft refused above is one).
    size_t open = 1;
    tly_result_t more, last = second;
    const int64_t one = 1;
    //  Bounded, so that a limit that no longer holds fails here, not by hanging.
    while ((more = s_create (a, items, &one, 1)).ok && open <= TLY_ORDER_OPEN_MAX) {
        last = more;
        open++;
    }
    CHECK (open == TLY_ORDER_OPEN_MAX);
    s_refused (more, TALLY__ERROR_CODE__ORDER_LIMIT, "Too many open orders");
    //  A processing order is open too; once failed, its place is free.
    CHECK (s_move (a, TLY_MSG_SUBMIT_ORDER, last.order.id, NULL).ok);
    s_refused (s_create (a, items, &one, 1), TALLY__ERROR_CODE__ORDER_LIMIT,
               "Too many open orders");
    CHECK (s_move (w, TLY_MSG_FAIL_ORDER, last.order.id, "freed").ok);
    CHECK (s_create (a, items, &one, 1).ok);
    s_refused (s_create (a, items, &one, 1), TALLY__ERROR_CODE__ORDER_LIMIT,
               "Too many open orders");
    th_step ("a user's open orders are bounded: the 16th is made, the 17th refused");

    //  An order processing across a kill -9 of both actors.
    tly_result_t fourth = s_create (b, items, &ten, 1);
    CHECK (fourth.ok && s_move (b, TLY_MSG_SUBMIT_ORDER, fourth.order.id, NULL).ok);
    it_cluster_kill (cluster, "balance-1", SIGKILL);
    it_cluster_kill (cluster, "balance-2", SIGKILL);
    it_cluster_restart (cluster, "balance-1");
    it_cluster_restart (cluster, "balance-2");
    CHECK (it_wait_actors (cluster->gateway, 2, 15000));
    //  99 with 10 held: one more than the 89 available is refused.
    s_refused (it_buy (b, "gem", 90), TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, NULL);
    tly_result_t done = s_move (w, TLY_MSG_COMPLETE_ORDER, fourth.order.id, NULL);
    CHECK (done.ok && done.order.status == TALLY__ORDER_STATUS__ORDER_COMPLETED);
    CHECK (it_balance (b) == 89);
    th_step ("an order and its hold survive a kill -9 of both actors");

    //  Two senders of bob racing orders and buys; the worker settles.
    s_racer_t racers [2];
    pthread_t threads [2];
    for (int i = 0; i < 2; i++) {
        memset (&racers [i], 0, sizeof racers [i]);
        racers [i].gateway = cluster->gateway;
        racers [i].worker_id = cluster->worker_id;
        racers [i].user = &bob;
        racers [i].seed = i + 1;
        CHECK (pthread_create (&threads [i], NULL, s_race, &racers [i]) == 0);
    }
    for (int i = 0; i < 2; i++)
        CHECK (pthread_join (threads [i], NULL) == 0);
    int64_t expected = 89;
    for (int i = 0; i < 2; i++) {
        expected -= racers [i].spent;
        for (size_t k = 0; k < racers [i].submitted; k++) {
            bool capture = k % 2 == 0;
            tly_result_t settled = s_move (w, capture ? TLY_MSG_COMPLETE_ORDER : TLY_MSG_FAIL_ORDER,
                                           racers [i].orders [k], "declined");
            CHECK (settled.ok);
            if (capture)
                expected -= racers [i].totals [k];
        }
    }
    CHECK (expected >= 0 && it_balance (b) == expected);
    CHECK (racers [0].refused + racers [1].refused > 0);
    th_step ("racing orders and buys of one user never overdraw");

    tly_watcher_destroy (&processor);
    tly_watcher_destroy (&snoop);
    tly_watcher_destroy (&watcher);
    tly_sender_destroy (&w);
    tly_sender_destroy (&a);
    tly_sender_destroy (&b);

    const char *actors [] = { "balance-1", "balance-2", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
    th_step ("verify re-derives every order decision; replay agrees with the actors");
    it_cluster_stop (&cluster);
    printf ("it_order_rules: OK\n");
    return 0;
}
