//  tly_gateway_stream - the gateway's read path: sends to clients, subscribe
//  and unsubscribe, deadlines. See tly_gateway_stream.h; the clone pattern
//  itself is in tly_gateway_stream_clone.c.
#include "tly_gateway_stream_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

tly_gateway_stream_t *
tly_gateway_stream_new (const tly_gateway_stream_config_t *config, zsock_t *client, zsock_t *ws,
                        zsock_t *router, zsock_t *bus)
{
    assert (config && client && router && bus);
    assert (config->partitions >= 1 && config->timeout_ms > 0 && config->client_ttl_ms > 0);
    assert (config->max_snapshots >= 1 && config->max_subscriptions >= 1);
    assert (config->max_subscriptions_total >= 1
            && config->max_subscriptions_total <= TLY_GATEWAY_SUBS_LIMIT);
    tly_gateway_stream_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->rejected_log = (tly_log_limit_t) TLY_LOG_LIMIT (TLY_REJECT_LOG_BURST,
                                                          TLY_REJECT_LOG_WINDOW_MS);
    self->subs = tly_gateway_subs_new ();
    if (!self->subs) {
        free (self);
        return NULL;
    }
    self->config = *config;
    self->client = client;
    self->ws = ws;
    self->router = router;
    self->bus = bus;
    //  Tells this run's snapshots from every other gateway's, and from those
    //  an earlier run of this one asked for.
    randombytes_buf (self->instance, sizeof (self->instance));
    sodium_bin2hex (self->instance_hex, sizeof (self->instance_hex), self->instance,
                    sizeof (self->instance));
    snprintf (self->timeout_reason, sizeof (self->timeout_reason),
              "no snapshot from the cluster within %" PRId64 " ms", config->timeout_ms);
    snprintf (self->unseen_reason, sizeof (self->unseen_reason),
              "the snapshot did not reach the gateway's update bus after %d requests; retry",
              TLY_GATEWAY_SNAPSHOT_ATTEMPTS);
    snprintf (self->silent_reason, sizeof (self->silent_reason),
              "no message from the client for %" PRId64 " ms (ping at least every 10 s)",
              config->client_ttl_ms);
    return self;
}

void
tly_gateway_stream_destroy (tly_gateway_stream_t **self_p)
{
    assert (self_p);
    tly_gateway_stream_t *self = *self_p;
    if (!self)
        return;
    tly_gateway_subs_destroy (&self->subs);
    free (self);
    *self_p = NULL;
}

const char *
tly_gateway_stream_instance (tly_gateway_stream_t *self)
{
    assert (self);
    return self->instance_hex;
}

int64_t
tly_gateway_stream_deadline (tly_gateway_stream_t *self, int64_t now_ms)
{
    assert (self);
    int64_t deadline_ms = 0;
    bool overflow = __builtin_add_overflow (now_ms, self->config.timeout_ms, &deadline_ms);
    assert (!overflow);
    return deadline_ms;
}

//  --------------------------------------------------------------------------
//  Sending to clients

//  Sends without looking at what a failure means; consumes *data_p.
static int
s_send_raw (tly_gateway_stream_t *self, zframe_t *identity, zframe_t **data_p)
{
    //  The socket byte says where the client is; the ROUTER wants the rest.
    size_t size = zframe_size (identity);
    const uint8_t *tagged = zframe_data (identity);
    assert (size > 1);
    zsock_t *sock = tagged [0] == TLY_GATEWAY_SOCKET_WS ? self->ws : self->client;
    assert (sock && (tagged [0] == TLY_GATEWAY_SOCKET_WS || tagged [0] == TLY_GATEWAY_SOCKET_TCP));
    if (zmq_send (zsock_resolve (sock), tagged + 1, size - 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        zframe_destroy (data_p);
        return -1;
    }
    //  The identity went through, so the ROUTER takes the rest of the message.
    int rc = zframe_send (data_p, sock, ZFRAME_DONTWAIT);
    zframe_destroy (data_p);
    return rc;
}

//  The client's queue is full: what it follows goes STALE, to be resynced.
static void
s_client_slow (tly_gateway_stream_t *self, tly_gateway_client_t *client)
{
    int64_t retry_ms = tly_mono_ms () + TLY_GATEWAY_RETRY_MS;
    uint32_t stalled = 0;
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_client (client); sub;
         sub = tly_gateway_subs_next_of_client (sub))
        if (sub->state == TLY_SUB_LIVE) {
            tly_gateway_subs_stale (self->subs, sub, true, retry_ms);
            stalled++;
        }
    if (stalled > 0)
        tly_log (TLY_INFO, "client.slow", "subscriptions=%" PRIu32 " stalled=%" PRIu32,
                 client->subs, stalled);
}

int
tly_gateway_stream_send (tly_gateway_stream_t *self, zframe_t *identity, zframe_t **data_p)
{
    assert (self && identity && data_p && *data_p);
    if (s_send_raw (self, identity, data_p) == 0)
        return 0;
    int error = zmq_errno ();
    tly_gateway_client_t *client = tly_gateway_subs_client (self->subs, identity);
    if (error == EAGAIN) {
        tly_log (TLY_DEBUG, "client.queue_full", "subscriber=%s", client ? "yes" : "no");
        if (client)
            s_client_slow (self, client);
    } else if (error == EHOSTUNREACH) {
        tly_log (TLY_DEBUG, "client.unreachable", "subscriber=%s", client ? "yes" : "no");
        if (client && !client->gone)
            tly_gateway_subs_gone (self->subs, client);
    } else
        tly_log (TLY_WARN, "client.send_failed", "error=\"%s\"", zmq_strerror (error));
    errno = error;
    return -1;
}

int
tly_gateway_stream_push (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, zframe_t **data_p)
{
    assert (self && sub && data_p);
    if (sub->of.client->gone) {
        zframe_destroy (data_p);
        return -1;
    }
    return tly_gateway_stream_send (self, sub->of.client->identity, data_p);
}

void
tly_gateway_stream_error (tly_gateway_stream_t *self, zframe_t *identity, uint64_t request_id,
                          Tally__PushKind push, Tally__ErrorCode code, const char *reason)
{
    assert (self && identity && reason);
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    error.message = (char *) reason;
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = request_id;
    reply.error = &error;
    reply.push = push;
    zframe_t *data = tly_wire_pack (&reply.base);
    tly_gateway_stream_send (self, identity, &data);
}

static void
s_reject (tly_gateway_stream_t *self, zframe_t *identity, uint64_t request_id,
          Tally__ErrorCode code, const char *reason)
{
    tly_log_limited (&self->rejected_log, TLY_INFO, "subscribe.rejected",
                     "request_id=%" PRIu64 " code=%s reason=\"%s\"", request_id,
                     tly_error_name (code), reason);
    tly_gateway_stream_error (self, identity, request_id, TALLY__PUSH_KIND__NOT_PUSHED, code,
                              reason);
}

//  --------------------------------------------------------------------------
//  Subscriptions

static void
s_bus_subscribe (tly_gateway_stream_t *self, const uint8_t raw [TLY_GATEWAY_TOPIC_BYTES],
                 bool subscribe)
{
    //  Raw bytes (zsock_set_subscribe would stop at the first zero byte).
    int rc = zmq_setsockopt (zsock_resolve (self->bus), subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE,
                             raw, TLY_GATEWAY_TOPIC_BYTES);
    assert (rc == 0);
}

void
tly_gateway_stream_remove (tly_gateway_stream_t *self, tly_gateway_sub_t *sub)
{
    assert (self && sub);
    uint8_t raw [TLY_GATEWAY_TOPIC_BYTES];
    if (tly_gateway_subs_remove (self->subs, sub, raw))
        s_bus_subscribe (self, raw, false);
}

void
tly_gateway_stream_end (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, Tally__ErrorCode code,
                        const char *reason)
{
    assert (self && sub && reason);
    tly_gateway_stream_error (
        self, sub->of.client->identity, sub->request_id,
        sub->answered ? TALLY__PUSH_KIND__ENDED : TALLY__PUSH_KIND__NOT_PUSHED, code, reason);
    tly_gateway_stream_remove (self, sub);
}

void
tly_gateway_stream_touch (tly_gateway_stream_t *self, zframe_t *identity)
{
    assert (self && identity);
    tly_gateway_client_t *client = tly_gateway_subs_client (self->subs, identity);
    if (client)
        tly_gateway_subs_touch (self->subs, client, tly_mono_ms ());
}

//  Why one more subscription cannot be taken (reason says it), or OK.
static Tally__ErrorCode
s_check_limits (tly_gateway_stream_t *self, tly_gateway_client_t *client, char *reason)
{
    if (client && client->subs >= self->config.max_subscriptions) {
        snprintf (reason, TLY_GATEWAY_TEXT_MAX,
                  "client has %" PRIu32 " subscriptions (limit %" PRIu32 ")", client->subs,
                  self->config.max_subscriptions);
        return TALLY__ERROR_CODE__TOO_MANY_SUBSCRIPTIONS;
    }
    if (tly_gateway_subs_size (self->subs) >= self->config.max_subscriptions_total) {
        snprintf (reason, TLY_GATEWAY_TEXT_MAX,
                  "gateway serves %" PRIu32 " subscriptions"
                  " (limit %" PRIu32 "); retry later or use another gateway",
                  tly_gateway_subs_size (self->subs), self->config.max_subscriptions_total);
        return TALLY__ERROR_CODE__UNAVAILABLE;
    }
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_gateway_stream_subscribe (tly_gateway_stream_t *self, zframe_t *identity, uint64_t request_id,
                              const tly_gateway_admitted_t *admitted)
{
    assert (self && identity && admitted);
    char reason [TLY_GATEWAY_TEXT_MAX];
    if (admitted->partition >= self->config.partitions) {
        snprintf (reason, sizeof (reason),
                  "object %s is in partition %" PRIu32 " but the cluster has %" PRIu32,
                  admitted->object_id, admitted->partition, self->config.partitions);
        s_reject (self, identity, request_id, TALLY__ERROR_CODE__NOT_FOUND, reason);
        return TALLY__ERROR_CODE__NOT_FOUND;
    }
    tly_gateway_client_t *client = tly_gateway_subs_client (self->subs, identity);
    tly_gateway_topic_t *topic = tly_gateway_subs_topic (self->subs, admitted->topic);
    tly_gateway_sub_t *sub = client && topic ? tly_gateway_subs_find (self->subs, client, topic)
                                             : NULL;
    Tally__ErrorCode code = sub ? TALLY__ERROR_CODE__OK : s_check_limits (self, client, reason);
    if (code == TALLY__ERROR_CODE__OK && (!sub || sub->state != TLY_SUB_PENDING)
        && tly_gateway_subs_pending_size (self->subs) >= self->config.max_snapshots) {
        snprintf (reason, sizeof (reason),
                  "gateway has %" PRIu32 " snapshots in flight (limit %" PRIu32 "); retry later",
                  tly_gateway_subs_pending_size (self->subs), self->config.max_snapshots);
        code = TALLY__ERROR_CODE__UNAVAILABLE;
    }
    if (code != TALLY__ERROR_CODE__OK) {
        s_reject (self, identity, request_id, code, reason);
        return code;
    }
    int64_t now_ms = tly_mono_ms ();
    if (sub)
        tly_gateway_subs_renew (self->subs, sub, request_id, admitted->account,
                                tly_gateway_stream_deadline (self, now_ms));
    else {
        bool new_topic = false;
        sub = tly_gateway_subs_add (self->subs, identity, admitted, request_id, now_ms,
                                    tly_gateway_stream_deadline (self, now_ms), &new_topic);
        //  Clone pattern: the bus must carry the object's messages to this
        //  gateway before the snapshot is published there.
        if (new_topic)
            s_bus_subscribe (self, admitted->topic, true);
    }
    if (tly_gateway_stream_request (self, sub) == -1) {
        tly_gateway_stream_remove (self, sub);
        s_reject (self, identity, request_id, TALLY__ERROR_CODE__UNAVAILABLE,
                  "the router is not taking messages (queue full); retry later");
        return TALLY__ERROR_CODE__UNAVAILABLE;
    }
    tly_log (TLY_DEBUG, "subscribe", "request_id=%" PRIu64 " object_id=%s snapshot_id=%" PRIu64,
             request_id, admitted->object_id, sub->snapshot_id);
    return TALLY__ERROR_CODE__OK;
}

Tally__ErrorCode
tly_gateway_stream_unsubscribe (tly_gateway_stream_t *self, zframe_t *identity, uint64_t request_id,
                                const char *object_id)
{
    assert (self && identity && object_id);
    tly_gateway_admitted_t admitted;
    //  Text that is no object ID is a bad request, as it is for a subscribe;
    //  an ID that is one but not followed is not (see below).
    if (tly_gateway_check_object_id (object_id, &admitted) == -1) {
        char reason [TLY_GATEWAY_TEXT_MAX];
        snprintf (reason, sizeof (reason),
                  "object ID of %zu bytes is not a tally object ID (co_z + base58 of kind,"
                  " partition and 16 bytes)",
                  strlen (object_id));
        s_reject (self, identity, request_id, TALLY__ERROR_CODE__NOT_FOUND, reason);
        return TALLY__ERROR_CODE__NOT_FOUND;
    }
    tly_gateway_client_t *client = tly_gateway_subs_client (self->subs, identity);
    if (client) {
        tly_gateway_topic_t *topic = tly_gateway_subs_topic (self->subs, admitted.topic);
        tly_gateway_sub_t *sub = topic ? tly_gateway_subs_find (self->subs, client, topic) : NULL;
        if (sub) {
            tly_log (TLY_DEBUG, "unsubscribe", "request_id=%" PRIu64 " object_id=%s", request_id,
                     admitted.object_id);
            tly_gateway_stream_remove (self, sub);
        }
    }
    //  Unsubscribing from what one does not follow is no error: the end state holds.
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = request_id;
    zframe_t *data = tly_wire_pack (&reply.base);
    tly_gateway_stream_send (self, identity, &data);
    return TALLY__ERROR_CODE__OK;
}

//  --------------------------------------------------------------------------
//  Deadlines

//  Ends every subscription of client; a client that is still there (only
//  silent) is told, best effort.
static void
s_drop_client (tly_gateway_stream_t *self, tly_gateway_client_t *client)
{
    tly_log (TLY_INFO, client->gone ? "client.gone" : "client.expired", "subscriptions=%" PRIu32,
             client->subs);
    bool tell = !client->gone;
    for (uint32_t count = client->subs; count > 0; count--) {
        tly_gateway_sub_t *sub = tly_gateway_subs_of_client (client);
        if (tell) {
            Tally__Error error = TALLY__ERROR__INIT;
            error.code = TALLY__ERROR_CODE__TIMEOUT;
            error.message = self->silent_reason;
            Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
            reply.request_id = sub->request_id;
            reply.error = &error;
            reply.push = TALLY__PUSH_KIND__ENDED;
            zframe_t *data = tly_wire_pack (&reply.base);
            tell = s_send_raw (self, client->identity, &data) == 0;
        }
        tly_gateway_stream_remove (self, sub);
    }
}

void
tly_gateway_stream_expire (tly_gateway_stream_t *self)
{
    assert (self);
    int64_t now_ms = tly_mono_ms ();
    tly_gateway_sub_t *sub;
    while ((sub = tly_gateway_subs_overdue (self->subs, now_ms))) {
        tly_log (TLY_INFO, "snapshot.timeout",
                 "object_id=%s request_id=%" PRIu64 " attempts=%" PRIu32, sub->of.topic->object_id,
                 sub->request_id, sub->attempts);
        tly_gateway_stream_end (self, sub, TALLY__ERROR_CODE__TIMEOUT, self->timeout_reason);
    }
    tly_gateway_stream_ask_again (self, now_ms);
    //  A slow client with nothing in flight gets one snapshot as a probe.
    //  (The clock is read again for each retry: sends above may have
    //  scheduled clients since now_ms, and the schedule stays in order.)
    tly_gateway_client_t *client;
    while (
        (client = tly_gateway_subs_due (self->subs, now_ms, tly_mono_ms () + TLY_GATEWAY_RETRY_MS)))
        if (client->pending == 0 && !client->gone)
            for (sub = tly_gateway_subs_of_client (client); sub;
                 sub = tly_gateway_subs_next_of_client (sub))
                if (sub->state == TLY_SUB_STALE) {
                    tly_gateway_stream_resync (self, sub, sub->slow);
                    break;
                }
    int64_t seen_ms = 0;
    bool overflow = __builtin_sub_overflow (now_ms, self->config.client_ttl_ms, &seen_ms);
    assert (!overflow);
    while ((client = tly_gateway_subs_expired (self->subs, seen_ms)))
        s_drop_client (self, client);
}

int64_t
tly_gateway_stream_next_deadline (tly_gateway_stream_t *self)
{
    assert (self);
    int64_t next_ms = tly_gateway_subs_next_deadline (self->subs);
    int64_t due_ms = tly_gateway_subs_next_due (self->subs);
    if (due_ms < next_ms)
        next_ms = due_ms;
    int64_t seen_ms = tly_gateway_subs_oldest_seen (self->subs);
    int64_t expiry_ms = INT64_MAX;
    if (seen_ms == INT64_MIN)
        expiry_ms = INT64_MIN;  //  a gone client: at once
    else if (seen_ms != INT64_MAX
             && __builtin_add_overflow (seen_ms, self->config.client_ttl_ms, &expiry_ms))
        expiry_ms = INT64_MAX;
    return expiry_ms < next_ms ? expiry_ms : next_ms;
}
