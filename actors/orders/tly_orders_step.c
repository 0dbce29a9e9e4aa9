//  tly_orders_step - one order's course: read its lines, charge, retry,
//  void, then complete or fail it (tly_orders.h has the picture).
//
//  Why this is safe across crashes and replicas: the cluster's state
//  machine lets an order leave processing once, and the service answers a
//  call made again with the same Idempotency-Key (the order's ID) with its
//  first result. So whatever this process forgot (it keeps nothing), doing
//  the whole course again from the queue ends the same way, and at most one
//  charge stands. A void always comes before the failOrder it allows, so
//  no failed order keeps a charge the service confirmed.
#include "tly_orders_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tly_fault.h"
#include "tly_log.h"
#include "tly_wire.h"

void
tly_orders_order_destroy (void **item)
{
    s_order_t *order = *item;
    if (!order)
        return;
    for (size_t i = 0; i < order->line_count; i++)
        free (order->item_ids [i]);
    free (order);
    *item = NULL;
}

static bool
s_past_deadline (tly_orders_t *self, const s_order_t *order)
{
    return tly_now_ms () >= order->submitted_at + self->config.deadline_ms;
}

//  An order finished (by this process or anyone): forgotten now when its
//  queue already dropped it, else when the queue's next version does.
static void
s_done (tly_orders_t *self, s_order_t *order)
{
    order->state = ORDER_DONE;
    if (!order->listed)
        zhashx_delete (self->orders, order->id);
}

//  The void comes first; then, when fail is set, failOrder with reason.
void
tly_orders_to_void (s_order_t *order, bool fail, const char *prefix, const char *reason,
                    int64_t now_ms)
{
    order->state = ORDER_VOID;
    order->next_ms = now_ms;
    order->void_attempts = 0;
    order->fail_after_void = fail;
    tly_orders_call_clean_text (prefix, reason, strlen (reason), order->error);
}

static void
s_to_finish (s_order_t *order, bool complete, int64_t now_ms)
{
    order->state = ORDER_FINISH;
    order->complete = complete;
    order->finish_attempts = 0;
    order->next_ms = now_ms;
}

//  ---------------------------------------------------------------- read

typedef struct {
    s_order_t *order;
    bool seen;
    Tally__OrderStatus status;
} s_read_t;

static void
s_on_order (const tly_object_t *object, void *arg)
{
    s_read_t *read = arg;
    if (object->ended || object->kind != TLY_OBJ_ORDER || !object->snapshot || read->seen)
        return;
    const tly_order_t *value = &object->order;
    s_order_t *order = read->order;
    for (size_t i = 0; i < order->line_count; i++)
        free (order->item_ids [i]);
    order->line_count = 0;
    for (size_t i = 0; i < value->item_count && i < TLY_ORDER_ITEMS_MAX; i++) {
        order->item_ids [i] = strdup (value->items [i].item_id);
        assert (order->item_ids [i]);
        order->amounts [i] = value->items [i].amount;
        order->line_count++;
    }
    order->have_lines = true;
    order->total = value->total;
    if (value->submitted_at)
        order->submitted_at = value->submitted_at;
    read->status = value->status;
    read->seen = true;
}

int
tly_orders_read (tly_orders_t *self, s_order_t *order, Tally__OrderStatus *status, char *error,
                 size_t error_size)
{
    s_read_t read = { order, false, TALLY__ORDER_STATUS__ORDER_STATUS_NONE };
    if (tly_watcher_subscribe (self->watcher, order->id, s_on_order, &read,
                               TLY_ORDERS_READ_TIMEOUT_MS)
        == -1) {
        const tly_error_t *refusal = tly_watcher_error (self->watcher);
        snprintf (error, error_size, "%s: %s", tly_error_name (refusal->code), refusal->message);
        return -1;
    }
    //  The snapshot is all it needs: the queue says when the order leaves
    //  processing. The gateway's answer to the unsubscribe is not waited for.
    tly_watcher_unsubscribe (self->watcher, order->id, 0);
    if (!read.seen) {
        snprintf (error, error_size, "the snapshot of %s is no Order", order->id);
        return -1;
    }
    *status = read.status;
    return 0;
}

//  tly_orders_read, or the order waits a first backoff when it cannot be
//  read (logged, rate-limited). Returns 0 with *status, or -1.
static int
s_read_or_wait (tly_orders_t *self, s_order_t *order, Tally__OrderStatus *status, int64_t now_ms)
{
    char error [TLY_ORDERS_ERROR_SIZE];
    if (tly_orders_read (self, order, status, error, sizeof error) == 0)
        return 0;
    order->next_ms = now_ms + tly_orders_call_backoff (self->config.backoff_ms, 1);
    tly_log_limited (&self->limit, TLY_WARN, "order.unread", "order=%s error=\"%s\"", order->id,
                     error);
    return -1;
}

//  ---------------------------------------------------------------- calls

static void
s_charge (tly_orders_t *self, s_order_t *order, int64_t now_ms)
{
    if (s_past_deadline (self, order)) {
        tly_log (TLY_WARN, "order.deadline", "order=%s attempts=%d submitted_at=%" PRId64,
                 order->id, order->attempts, order->submitted_at);
        tly_orders_to_void (order, true, "", "deadline passed", now_ms);
        return;
    }
    if (!order->have_lines) {
        Tally__OrderStatus status;
        if (s_read_or_wait (self, order, &status, now_ms) == -1)
            return;
        if (status != TALLY__ORDER_STATUS__ORDER_PROCESSING) {
            tly_log (TLY_INFO, "order.already_final", "order=%s status=%d", order->id,
                     (int) status);
            s_done (self, order);
            return;
        }
    }
    tly_orders_line_t lines [TLY_ORDER_ITEMS_MAX];
    for (size_t i = 0; i < order->line_count; i++)
        lines [i] = (tly_orders_line_t) { order->item_ids [i], order->amounts [i] };
    char *body = tly_orders_call_body (order->id, order->user_id, order->total, lines,
                                       order->line_count);
    //  Test builds only: a crash before the service sees the charge.
    (void) TLY_FAULT ("orders.charge");
    if (!body
        || tly_orders_http_post (self->http, self->config.service_url, order->id, body, order)
               == -1) {
        free (body);
        order->next_ms = now_ms + tly_orders_call_backoff (self->config.backoff_ms, 1);
        return;
    }
    free (body);
    order->attempts++;
    order->state = ORDER_CHARGING;
    self->stats.charges++;
    tly_log (TLY_DEBUG, "order.charge", "order=%s attempt=%d", order->id, order->attempts);
}

static void
s_void (tly_orders_t *self, s_order_t *order, int64_t now_ms)
{
    if (!order->listed && order->fail_after_void) {
        //  The order left processing while this process was giving up on
        //  it: completed elsewhere, its charge must stand; failed
        //  elsewhere, the void still makes sure no charge does.
        Tally__OrderStatus status;
        if (s_read_or_wait (self, order, &status, now_ms) == -1)
            return;
        if (status == TALLY__ORDER_STATUS__ORDER_COMPLETED) {
            self->stats.already++;
            tly_log (TLY_INFO, "order.already_final", "order=%s status=completed wanted=failed",
                     order->id);
            s_done (self, order);
            return;
        }
        order->fail_after_void = status == TALLY__ORDER_STATUS__ORDER_PROCESSING;
    }
    char body [TLY_ID_MAX + 32];
    snprintf (body, sizeof body, "{\"orderId\":\"%s\"}", order->id);
    //  Test builds only: a crash with the void not made, the order processing.
    (void) TLY_FAULT ("orders.void");
    if (tly_orders_http_post (self->http, self->config.void_url, order->id, body, order) == -1) {
        order->next_ms = now_ms + tly_orders_call_backoff (self->config.backoff_ms, 1);
        return;
    }
    order->void_attempts++;
    order->state = ORDER_VOIDING;
    self->stats.voids++;
    tly_log (TLY_DEBUG, "order.void", "order=%s attempt=%d", order->id, order->void_attempts);
}

//  What a call's outcome was, for logs and a failed order's error: the
//  status line (as a refusal without a body's "error" reads), else why no
//  answer came.
static void
s_outcome (const tly_orders_reply_t *reply, char *out)
{
    if (reply->answered)
        tly_orders_call_error_text (reply->status, reply->reason, NULL, 0, out);
    else
        tly_orders_call_clean_text ("", reply->detail, strlen (reply->detail), out);
}

static void
s_on_charge (tly_orders_t *self, s_order_t *order, const tly_orders_reply_t *reply, int64_t now_ms)
{
    s_outcome (reply, order->last);
    switch (tly_orders_call_verdict (reply->status, reply->answered)) {
        case TLY_ORDERS_ACCEPTED:
            order->charged = true;
            tly_log (TLY_INFO, "order.charged",
                     "order=%s attempt=%d status=%ld elapsed_ms=%" PRId64, order->id,
                     order->attempts, reply->status, reply->elapsed_ms);
            //  Test builds only: a crash with the charge made and the
            //  order still processing (the restart charges again, with
            //  the same key, and gets this answer again).
            (void) TLY_FAULT ("orders.charged");
            s_to_finish (order, true, now_ms);
            return;
        case TLY_ORDERS_REFUSED:
            tly_orders_call_error_text (reply->status, reply->reason, reply->body, reply->body_size,
                                        order->error);
            tly_log (TLY_INFO, "order.refused", "order=%s status=%ld error=\"%s\"", order->id,
                     reply->status, order->error);
            s_to_finish (order, false, now_ms);
            return;
        case TLY_ORDERS_RETRY: break;
    }
    if (s_past_deadline (self, order)) {
        tly_log (TLY_WARN, "order.deadline", "order=%s attempts=%d last=\"%s\"", order->id,
                 order->attempts, order->last);
        tly_orders_to_void (order, true, "", "deadline passed", now_ms);
    } else if (order->attempts >= self->config.attempts) {
        tly_log (TLY_WARN, "order.gave_up", "order=%s attempts=%d last=\"%s\"", order->id,
                 order->attempts, order->last);
        tly_orders_to_void (order, true, "payment service unavailable: ", order->last, now_ms);
    } else {
        int64_t wait = tly_orders_call_backoff (self->config.backoff_ms, order->attempts);
        order->state = ORDER_CHARGE;
        order->next_ms = now_ms + wait;
        tly_log (TLY_INFO, "order.retry", "order=%s attempt=%d last=\"%s\" wait_ms=%" PRId64,
                 order->id, order->attempts, order->last, wait);
    }
}

static void
s_on_void (tly_orders_t *self, s_order_t *order, const tly_orders_reply_t *reply, int64_t now_ms)
{
    s_outcome (reply, order->last);
    if (tly_orders_call_verdict (reply->status, reply->answered) == TLY_ORDERS_ACCEPTED) {
        tly_log (TLY_INFO, "order.voided", "order=%s attempt=%d", order->id, order->void_attempts);
        if (order->fail_after_void)
            s_to_finish (order, false, now_ms);
        else
            s_done (self, order);
        return;
    }
    //  Unconfirmed: try again until the deadline (and at least --attempts
    //  times); then the hold is released anyway, for reconciliation.
    if (order->void_attempts >= self->config.attempts && s_past_deadline (self, order)) {
        self->stats.unconfirmed++;
        tly_log (TLY_ERROR, "order.void_unconfirmed",
                 "order=%s user=%s total=%" PRId64 " void_attempts=%d last=\"%s\"", order->id,
                 order->user_id, order->total, order->void_attempts, order->last);
        if (order->fail_after_void)
            s_to_finish (order, false, now_ms);
        else
            s_done (self, order);
        return;
    }
    int64_t wait = tly_orders_call_backoff (self->config.backoff_ms, order->void_attempts);
    order->state = ORDER_VOID;
    order->next_ms = now_ms + wait;
    tly_log (TLY_WARN, "order.void_retry", "order=%s attempt=%d last=\"%s\" wait_ms=%" PRId64,
             order->id, order->void_attempts, order->last, wait);
}

void
tly_orders_on_reply (tly_orders_t *self, const tly_orders_reply_t *reply)
{
    s_order_t *order = reply->tag;
    assert (order);
    int64_t now = tly_mono_ms ();
    if (order->state == ORDER_CHARGING)
        s_on_charge (self, order, reply, now);
    else {
        assert (order->state == ORDER_VOIDING);
        s_on_void (self, order, reply, now);
    }
}

//  ---------------------------------------------------------------- finish

//  Someone finished the order first (another replica, an admin, this
//  process before a restart): what it became decides what is left to do.
static void
s_already_final (tly_orders_t *self, s_order_t *order, int64_t now_ms)
{
    self->stats.already++;
    Tally__OrderStatus status = TALLY__ORDER_STATUS__ORDER_STATUS_NONE;
    char error [TLY_ORDERS_ERROR_SIZE] = "";
    if (tly_orders_read (self, order, &status, error, sizeof error) == -1)
        tly_log (TLY_WARN, "order.unread", "order=%s error=\"%s\"", order->id, error);
    const char *name = status == TALLY__ORDER_STATUS__ORDER_COMPLETED ? "completed"
                       : status == TALLY__ORDER_STATUS__ORDER_FAILED  ? "failed"
                                                                      : "unknown";
    tly_log (TLY_INFO, "order.already_final", "order=%s status=%s wanted=%s", order->id, name,
             order->complete ? "completed" : "failed");
    if (order->complete && order->charged && status == TALLY__ORDER_STATUS__ORDER_FAILED) {
        //  Failed elsewhere while this process's charge went through: the
        //  charge must not stand for an order whose hold was released.
        tly_log (TLY_WARN, "order.void_after_fail", "order=%s", order->id);
        tly_orders_to_void (order, false, "", "failed elsewhere", now_ms);
        return;
    }
    if (!order->complete && status == TALLY__ORDER_STATUS__ORDER_COMPLETED)
        //  Completed elsewhere (its charge confirmed there) after this
        //  process voided it: the service and the ledger disagree.
        tly_log (TLY_ERROR, "order.void_after_complete", "order=%s user=%s total=%" PRId64,
                 order->id, order->user_id, order->total);
    s_done (self, order);
}

//  Sends msg and waits up to TLY_ORDERS_SEND_TIMEOUT_MS for its answer,
//  as tly_sender_send_one does but in two halves, so that a test can stop
//  the process between them: the message on its way, its answer unread.
//  Returns 0 with *result, -1 (tly_sender_error says why), or -2 when no
//  answer came in time (the next try is a fresh message, after a backoff).
static int
s_send_finish (tly_orders_t *self, const tly_msg_t *msg, bool complete, tly_result_t *result)
{
    uint64_t request_id;
    if (tly_sender_post (self->sender, msg, 1, &request_id) == -1)
        return -1;
    //  Test builds only: a crash with completeOrder or failOrder sent
    //  (without fault points, complete has no other use).
    (void) complete;
    (void) TLY_FAULT (complete ? "orders.completing" : "orders.failing");
    int64_t deadline = tly_mono_ms () + TLY_ORDERS_SEND_TIMEOUT_MS;
    zmq_pollitem_t item = { tly_sender_socket (self->sender), 0, ZMQ_POLLIN, 0 };
    for (int64_t left; (left = deadline - tly_mono_ms ()) > 0;) {
        if (zmq_poll (&item, 1, (long) left) <= 0)
            continue;
        uint64_t answered;
        size_t count;
        tly_collect_t collected = tly_sender_collect (self->sender, &answered, result, 1, &count);
        //  A late answer to an earlier try of any order is not this one's.
        if (collected == TLY_COLLECT_NONE || answered != request_id)
            continue;
        if (collected == TLY_COLLECT_ERROR || count != 1
            || memcmp (result->message_id, msg->id, TLY_MESSAGE_ID_BYTES) != 0)
            return -1;
        return 0;
    }
    return -2;
}

static void
s_finish (tly_orders_t *self, s_order_t *order, int64_t now_ms)
{
    tly_msg_t msg;
    tly_error_t error;
    int rc = order->complete ? tly_msg_complete_order (&msg, order->id, &error)
                             : tly_msg_fail_order (&msg, order->id, order->error, &error);
    assert (rc == 0);
    tly_result_t result;
    order->finish_attempts++;
    int sent = s_send_finish (self, &msg, order->complete, &result);
    if (sent == 0 && result.ok) {
        if (order->complete)
            self->stats.completed++;
        else
            self->stats.failed++;
        tly_log (TLY_INFO, order->complete ? "order.completed" : "order.failed",
                 "order=%s user=%s total=%" PRId64 " attempts=%d%s%s%s", order->id, order->user_id,
                 order->total, order->attempts, order->complete ? "" : " error=\"",
                 order->complete ? "" : order->error, order->complete ? "" : "\"");
        s_done (self, order);
        return;
    }
    if (sent == 0 && result.code == TALLY__ERROR_CODE__INVALID_TRANSITION) {
        s_already_final (self, order, now_ms);
        return;
    }
    //  Not applied, or not known to be: the same step again later, a fresh
    //  message each time (a repeat of one applied is INVALID_TRANSITION).
    const tly_error_t *failure = tly_sender_error (self->sender);
    int64_t wait = tly_orders_call_backoff (self->config.backoff_ms, order->finish_attempts);
    order->next_ms = tly_mono_ms () + wait;
    tly_log_limited (&self->limit, TLY_WARN, "order.finish_retry",
                     "order=%s message=%s code=%s text=\"%s\" wait_ms=%" PRId64, order->id,
                     order->complete ? "completeOrder" : "failOrder",
                     sent == -2  ? "TIMEOUT"
                     : sent == 0 ? tly_error_name (result.code)
                                 : tly_error_name (failure->code),
                     sent == -2  ? "no answer in time"
                     : sent == 0 ? result.message
                                 : failure->message,
                     wait);
}

void
tly_orders_step (tly_orders_t *self, s_order_t *order, int64_t now_ms)
{
    switch (order->state) {
        case ORDER_CHARGE: s_charge (self, order, now_ms); break;
        case ORDER_VOID: s_void (self, order, now_ms); break;
        case ORDER_FINISH: s_finish (self, order, now_ms); break;
        case ORDER_CHARGING:
        case ORDER_VOIDING:
        case ORDER_DONE: break;
    }
}
