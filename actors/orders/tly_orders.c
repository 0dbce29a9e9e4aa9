//  tly_orders - the processor: its connections, the queues it follows and
//  the loop's turn. One order's course is in tly_orders_step.c.
#include "tly_orders_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tly_log.h"
#include "tly_wire.h"

size_t
tly_orders_shard_partitions (uint32_t index, uint32_t count, uint32_t partitions)
{
    assert (count > 0);
    return partitions / count + (index < partitions % count);
}

tly_orders_t *
tly_orders_new (const tly_orders_config_t *config, char *error, size_t error_size)
{
    assert (config && config->gateway && config->worker && config->service_url);
    assert (config->shard_count >= 1 && config->shard_index < config->shard_count);
    tly_orders_t *self = zmalloc (sizeof *self);
    assert (self);
    self->config = *config;
    self->sender = tly_sender_new_curve (config->gateway, config->gateway_key, config->worker,
                                         &config->account);
    self->watcher = tly_watcher_new_curve (config->gateway, config->gateway_key, config->worker,
                                           &config->account);
    if (!self->sender || !self->watcher) {
        snprintf (error, error_size,
                  "cannot use --gateway %s with --worker %s (see the log line above)",
                  config->gateway, config->worker);
        tly_orders_destroy (&self);
        return NULL;
    }
    self->http = tly_orders_http_new ((size_t) config->concurrency, config->timeout_ms);
    if (!self->http) {
        snprintf (error, error_size, "cannot set up libcurl");
        tly_orders_destroy (&self);
        return NULL;
    }
    self->orders = zhashx_new ();
    assert (self->orders);
    zhashx_set_destructor (self->orders, tly_orders_order_destroy);
    self->limit = (tly_log_limit_t) TLY_LOG_LIMIT (20, 10000);
    self->stats_ms = tly_mono_ms () + TLY_ORDERS_STATS_MS;
    return self;
}

void
tly_orders_destroy (tly_orders_t **self_p)
{
    assert (self_p);
    tly_orders_t *self = *self_p;
    if (!self)
        return;
    //  The calls in flight end with the process; the queues will say what
    //  is still to do, and the keys make the calls safe to make again.
    tly_orders_http_destroy (&self->http);
    zhashx_destroy (&self->orders);
    tly_watcher_destroy (&self->watcher);
    tly_sender_destroy (&self->sender);
    free (self->queues);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- start

static void
s_on_service (const tly_object_t *object, void *arg)
{
    uint32_t *partitions = arg;
    if (!object->ended && object->kind == TLY_OBJ_SERVICE)
        *partitions = object->service.partition_count;
}

//  A queue's version, copied for the next turn (a callback may not change
//  the table: it runs inside the watcher, maybe inside a read of an order).
static void
s_on_queue (const tly_object_t *object, void *arg)
{
    s_queue_t *queue = arg;
    if (object->ended) {
        queue->subscribed = false;
        queue->retry_ms = tly_mono_ms () + TLY_ORDERS_RESUBSCRIBE_MS;
        tly_log (TLY_WARN, "queue.ended", "partition=%" PRIu32 " code=%s message=\"%s\"",
                 queue->partition, tly_error_name (object->code), object->message);
        return;
    }
    if (object->kind != TLY_OBJ_ORDER_QUEUE)
        return;
    const tly_order_queue_t *value = &object->order_queue;
    size_t count = value->order_count;
    if (count > TLY_ORDER_QUEUE_MAX) {
        tly_log (TLY_WARN, "queue.long", "partition=%" PRIu32 " orders=%zu followed=%d",
                 queue->partition, count, TLY_ORDER_QUEUE_MAX);
        count = TLY_ORDER_QUEUE_MAX;
    }
    queue->count = 0;
    for (size_t i = 0; i < count; i++) {
        const tly_order_summary_t *summary = &value->orders [i];
        if (summary->status != TALLY__ORDER_STATUS__ORDER_PROCESSING)
            continue;
        snprintf (queue->orders [queue->count].id, TLY_ID_MAX, "%s", summary->id);
        snprintf (queue->orders [queue->count].user_id, TLY_ID_MAX, "%s", summary->user_id);
        queue->orders [queue->count].total = summary->total;
        queue->orders [queue->count].submitted_at = summary->submitted_at;
        queue->count++;
    }
    queue->dirty = true;
}

static void
s_subscribe_queue (tly_orders_t *self, s_queue_t *queue)
{
    if (tly_watcher_subscribe (self->watcher, queue->queue_id, s_on_queue, queue,
                               TLY_ORDERS_READ_TIMEOUT_MS)
        == 0) {
        queue->subscribed = true;
        tly_log (TLY_DEBUG, "queue.followed", "partition=%" PRIu32 " id=%s", queue->partition,
                 queue->queue_id);
        return;
    }
    const tly_error_t *error = tly_watcher_error (self->watcher);
    queue->retry_ms = tly_mono_ms () + TLY_ORDERS_RESUBSCRIBE_MS;
    tly_log_limited (&self->limit, TLY_WARN, "queue.refused",
                     "partition=%" PRIu32 " code=%s message=\"%s\"", queue->partition,
                     tly_error_name (error->code), error->message);
}

int
tly_orders_start (tly_orders_t *self)
{
    assert (!self->queues);
    uint8_t worker [TLY_KEY_BYTES];
    int rc = tly_account_id_parse (self->config.worker, worker);
    assert (rc == 0);
    uint32_t partitions = self->config.partitions;
    if (partitions == 0) {
        char service_id [TLY_ID_MAX];
        tly_service_id (worker, service_id);
        if (tly_watcher_subscribe (self->watcher, service_id, s_on_service, &partitions,
                                   TLY_ORDERS_READ_TIMEOUT_MS)
            == -1) {
            const tly_error_t *error = tly_watcher_error (self->watcher);
            int64_t now = tly_mono_ms ();
            if (now >= self->waiting_log_ms) {
                tly_log (TLY_WARN, "orders.waiting", "gateway=%s code=%s message=\"%s\"",
                         self->config.gateway, tly_error_name (error->code), error->message);
                self->waiting_log_ms = now + TLY_ORDERS_STATS_MS;
            }
            return -1;
        }
        tly_watcher_unsubscribe (self->watcher, service_id, TLY_ORDERS_READ_TIMEOUT_MS);
        assert (partitions >= 1 && partitions <= TLY_PARTITIONS_MAX);
    }

    uint32_t shard = self->config.shard_count;
    self->queue_count = tly_orders_shard_partitions (self->config.shard_index, shard, partitions);
    if (shard > partitions)
        //  As --partitions would have been refused at start: some shards
        //  (maybe this one) have no partition to follow.
        tly_log (TLY_ERROR, "orders.shard_too_wide",
                 "shard=%" PRIu32 "/%" PRIu32 " partitions=%" PRIu32 " queues=%zu",
                 self->config.shard_index, shard, partitions, self->queue_count);
    if (self->queue_count > TLY_ORDERS_QUEUES_MAX) {
        tly_log (TLY_ERROR, "orders.too_many_queues",
                 "partitions=%" PRIu32 " followed=%zu max=%d hint=\"use --shard K/N\"", partitions,
                 self->queue_count, TLY_ORDERS_QUEUES_MAX);
        self->queue_count = TLY_ORDERS_QUEUES_MAX;
    }
    self->queues = calloc (self->queue_count ? self->queue_count : 1, sizeof *self->queues);
    assert (self->queues);
    size_t next = 0;
    for (uint32_t p = self->config.shard_index; p < partitions && next < self->queue_count;
         p += shard) {
        s_queue_t *queue = &self->queues [next++];
        queue->partition = p;
        tly_order_queue_id (worker, p, queue->queue_id);
        s_subscribe_queue (self, queue);
    }
    tly_log (TLY_INFO, "orders.start",
             "gateway=%s partitions=%" PRIu32 " shard=%" PRIu32 "/%" PRIu32
             " queues=%zu service=%s void=%s concurrency=%" PRId64 " attempts=%" PRId64
             " timeout_ms=%" PRId64 " deadline_ms=%" PRId64,
             self->config.gateway, partitions, self->config.shard_index, shard, self->queue_count,
             self->config.service_url, self->config.void_url, self->config.concurrency,
             self->config.attempts, self->config.timeout_ms, self->config.deadline_ms);
    return 0;
}

//  ---------------------------------------------------------------- turn

//  A queue's latest version against the table: new orders tracked, orders
//  no longer listed forgotten unless a call of theirs is in flight or a
//  step is owed (that step learns the order's fate from the cluster). One
//  that left while waiting to be charged again had a call whose outcome is
//  unknown (a timeout, a 5xx): it is voided unless it was completed
//  (tly_orders_step.c reads it first), so no charge of it stands unseen.
static void
s_apply_queue (tly_orders_t *self, s_queue_t *queue)
{
    queue->dirty = false;
    for (s_order_t *order = zhashx_first (self->orders); order; order = zhashx_next (self->orders))
        if (order->partition == queue->partition)
            order->listed = false;
    for (size_t i = 0; i < queue->count; i++) {
        s_order_t *order = zhashx_lookup (self->orders, queue->orders [i].id);
        if (!order) {
            order = zmalloc (sizeof *order);
            assert (order);
            snprintf (order->id, sizeof order->id, "%s", queue->orders [i].id);
            snprintf (order->user_id, sizeof order->user_id, "%s", queue->orders [i].user_id);
            order->partition = queue->partition;
            order->total = queue->orders [i].total;
            order->submitted_at = queue->orders [i].submitted_at;
            order->state = ORDER_CHARGE;
            order->next_ms = tly_mono_ms ();
            zhashx_insert (self->orders, order->id, order);
            tly_log (TLY_INFO, "order.tracked",
                     "order=%s user=%s total=%" PRId64 " submitted_at=%" PRId64, order->id,
                     order->user_id, order->total, order->submitted_at);
        }
        order->listed = true;
    }
    zlistx_t *gone = zlistx_new ();
    assert (gone);
    for (s_order_t *order = zhashx_first (self->orders); order; order = zhashx_next (self->orders))
        if (order->partition == queue->partition && !order->listed) {
            if (order->state == ORDER_CHARGE && order->attempts > 0)
                tly_orders_to_void (order, true, "", "left processing", tly_mono_ms ());
            else if (order->state == ORDER_DONE || order->state == ORDER_CHARGE)
                zlistx_add_end (gone, order->id);
        }
    for (char *id = zlistx_first (gone); id; id = zlistx_next (gone)) {
        s_order_t *order = zhashx_lookup (self->orders, id);
        if (order->state == ORDER_CHARGE)
            tly_log (TLY_INFO, "order.gone", "order=%s", order->id);
        zhashx_delete (self->orders, id);
    }
    zlistx_destroy (&gone);
}

//  The order to start next among those due: the oldest submitted.
static s_order_t *
s_next_due (tly_orders_t *self, int64_t now_ms)
{
    s_order_t *best = NULL;
    for (s_order_t *order = zhashx_first (self->orders); order; order = zhashx_next (self->orders))
        if ((order->state == ORDER_CHARGE || order->state == ORDER_VOID) && order->next_ms <= now_ms
            && (!best || order->submitted_at < best->submitted_at))
            best = order;
    return best;
}

void
tly_orders_turn (tly_orders_t *self)
{
    assert (self->queues);
    //  What the gateway pushed: queue versions, copied by the callbacks.
    for (int i = 0; i < 256 && tly_watcher_dispatch (self->watcher, TLY_ORDERS_TURN_MS) > 0; i++)
        ;
    int64_t now = tly_mono_ms ();
    for (size_t i = 0; i < self->queue_count; i++) {
        s_queue_t *queue = &self->queues [i];
        if (!queue->subscribed && now >= queue->retry_ms)
            s_subscribe_queue (self, queue);
        if (queue->dirty)
            s_apply_queue (self, queue);
    }
    //  The calls that finished, then every step that is due: the finishing
    //  messages first (they free nothing but end holds soonest), then new
    //  calls while slots are free, oldest order first.
    tly_orders_http_wait (self->http, TLY_ORDERS_TURN_MS);
    tly_orders_reply_t reply;
    while (tly_orders_http_next (self->http, &reply))
        tly_orders_on_reply (self, &reply);
    now = tly_mono_ms ();
    zlistx_t *finishing = zlistx_new ();
    assert (finishing);
    for (s_order_t *order = zhashx_first (self->orders); order; order = zhashx_next (self->orders))
        if (order->state == ORDER_FINISH && order->next_ms <= now)
            zlistx_add_end (finishing, order->id);
    for (char *id = zlistx_first (finishing); id; id = zlistx_next (finishing)) {
        s_order_t *order = zhashx_lookup (self->orders, id);
        if (order)
            tly_orders_step (self, order, tly_mono_ms ());
    }
    zlistx_destroy (&finishing);
    s_order_t *order;
    while (tly_orders_http_free (self->http) > 0 && (order = s_next_due (self, tly_mono_ms ())))
        tly_orders_step (self, order, tly_mono_ms ());

    self->stats.tracked = zhashx_size (self->orders);
    if (tly_mono_ms () >= self->stats_ms) {
        self->stats_ms = tly_mono_ms () + TLY_ORDERS_STATS_MS;
        tly_log (TLY_INFO, "orders.stats",
                 "tracked=%" PRIu64 " in_flight=%zu charges=%" PRIu64 " voids=%" PRIu64
                 " completed=%" PRIu64 " failed=%" PRIu64 " already=%" PRIu64
                 " void_unconfirmed=%" PRIu64,
                 self->stats.tracked, tly_orders_http_busy (self->http), self->stats.charges,
                 self->stats.voids, self->stats.completed, self->stats.failed, self->stats.already,
                 self->stats.unconfirmed);
    }
}

void
tly_orders_stats (tly_orders_t *self, tly_orders_stats_t *stats)
{
    *stats = self->stats;
    stats->tracked = zhashx_size (self->orders);
}
