//  tly_watcher - one account's subscriptions through one gateway: signed
//  subscribes, verified snapshots and updates in version order, pings, and
//  subscribing again whenever the gateway may have lost them.
#include "tly_watcher_private.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_codec.h"
#include "tly_curve.h"
#include "tly_log.h"
#include "tly_object.h"
#include "tly_wire.h"

//  Messages handled per poll turn, so that timers run under a flood too.
#define S_BURST_MAX          1024
//  Size of one socket monitor event's first frame: event (u16), value (u32).
#define S_MONITOR_EVENT_SIZE 6

tly_watcher_t *
tly_watcher_new (const char *gateway_endpoint, const char *worker_id, const tly_account_t *account)
{
    return tly_watcher_new_curve (gateway_endpoint, NULL, worker_id, account);
}

tly_watcher_t *
tly_watcher_new_curve (const char *gateway_endpoint, const char *gateway_key, const char *worker_id,
                       const tly_account_t *account)
{
    assert (gateway_endpoint && worker_id && account);
    if (sodium_init () < 0) {
        tly_log (TLY_ERROR, "watcher.new", "reason=\"libsodium failed to initialise\"");
        return NULL;
    }
    tly_watcher_t *self = calloc (1, sizeof *self);
    assert (self);
    if (tly_account_id_parse (worker_id, self->worker) == -1) {
        tly_log (TLY_ERROR, "watcher.new",
                 "reason=\"malformed worker ID, expected co_z...\" worker=%s", worker_id);
        free (self);
        return NULL;
    }
    self->account = *account;
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, TLY_FRAME_HARD_MAX);
    char reason [512];
    if (gateway_key && tly_curve_client_of (self->dealer, gateway_key, reason, sizeof reason)) {
        tly_log (TLY_ERROR, "watcher.new", "reason=\"gateway key: %s\"", reason);
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    //  Nothing waits in a queue for a gateway that is not there: a subscribe
    //  that cannot go now is sent when the connection is made.
    zsock_set_immediate (self->dealer, 1);
    //  Connection events tell a gateway restart from a quiet gateway: the
    //  new process has none of our subscriptions. (A random name: a closed
    //  watcher's name may stay bound for a while.)
    uint64_t nonce;
    randombytes_buf (&nonce, sizeof nonce);
    char monitor [64];
    snprintf (monitor, sizeof monitor, "inproc://tly-watcher-%016" PRIx64, nonce);
    int rc = zmq_socket_monitor (zsock_resolve (self->dealer), monitor,
                                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                                     | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                     | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                     | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert (rc == 0);
    self->monitor = zsock_new (ZMQ_PAIR);
    assert (self->monitor);
    rc = zsock_connect (self->monitor, "%s", monitor);
    assert (rc == 0);
    if (zsock_connect (self->dealer, "%s", gateway_endpoint) == -1) {
        tly_log (TLY_ERROR, "watcher.new", "reason=\"cannot connect\" endpoint=%s error=\"%s\"",
                 gateway_endpoint, zmq_strerror (zmq_errno ()));
        tly_watcher_destroy (&self);
        return NULL;
    }
    self->endpoint = strdup (gateway_endpoint);
    assert (self->endpoint);
    randombytes_buf (&self->next_request_id, sizeof self->next_request_id);
    self->ping_ms = TLY_WATCH_PING_MS;
    self->ping_timeout_ms = TLY_WATCH_PING_TIMEOUT_MS;
    return self;
}

void
tly_watcher_destroy (tly_watcher_t **self_p)
{
    assert (self_p);
    tly_watcher_t *self = *self_p;
    if (!self)
        return;
    assert (!self->in_callback);
    for (size_t i = 0; i < self->sub_count; i++)
        free (self->subs [i]);
    zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    free (self->endpoint);
    sodium_memzero (&self->account, sizeof self->account);
    free (self);
    *self_p = NULL;
}

void
tly_watcher_set_ping (tly_watcher_t *self, int interval_ms, int timeout_ms)
{
    assert (self);
    assert (interval_ms >= 1 && interval_ms <= TLY_WATCH_PING_MS_MAX);
    assert (timeout_ms >= 1 && timeout_ms <= interval_ms);
    self->ping_ms = interval_ms;
    self->ping_timeout_ms = timeout_ms;
    self->next_ping = tly_mono_ms () + interval_ms;
}

size_t
tly_watcher_subscriptions (tly_watcher_t *self)
{
    assert (self);
    return self->sub_count;
}

void
tly_watcher_stats (tly_watcher_t *self, tly_watcher_stats_t *stats)
{
    assert (self && stats);
    *stats = self->stats;
}

const tly_error_t *
tly_watcher_error (tly_watcher_t *self)
{
    assert (self);
    return &self->error;
}

//  --------------------------------------------------------------------------
//  Subscriptions

static uint64_t
s_request_id (tly_watcher_t *self)
{
    //  Zero is what a gateway answers to a request it could not decode.
    if (self->next_request_id == 0)
        self->next_request_id++;
    return self->next_request_id++;
}

static int
s_send_bytes (tly_watcher_t *self, const void *bytes, size_t size)
{
    if (zmq_send (zsock_resolve (self->dealer), bytes, size, ZMQ_DONTWAIT) == -1) {
        tly_log (TLY_DEBUG, "watcher.send_failed", "endpoint=%s error=\"%s\"", self->endpoint,
                 zmq_strerror (zmq_errno ()));
        return -1;
    }
    return 0;
}

//  Sends a body-only request (ping or unsubscribe). Returns its request_id,
//  or 0 when it could not be sent.
static uint64_t
s_send_request (tly_watcher_t *self, Tally__ClientRequest *request)
{
    request->request_id = s_request_id (self);
    zframe_t *frame = tly_wire_pack (&request->base);
    int rc = s_send_bytes (self, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    return rc == 0 ? request->request_id : 0;
}

static uint64_t
s_send_unsubscribe (tly_watcher_t *self, const char *object_id)
{
    Tally__Unsubscribe body = TALLY__UNSUBSCRIBE__INIT;
    body.object_id = (char *) object_id;
    Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
    request.body_case = TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE;
    request.unsubscribe = &body;
    return s_send_request (self, &request);
}

void
tly_watcher_resubscribe (tly_watcher_t *self, tly_sub_t *sub)
{
    sub->request_id = s_request_id (self);
    size_t size;
    uint8_t *request = tly_codec_subscribe (&self->account, sub->request_id, sub->object_id,
                                            tly_now_ms (), &size);
    sub->state = s_send_bytes (self, request, size) == 0 ? TLY_SUB_WAITING : TLY_SUB_RETRY;
    free (request);
}

static void
s_resubscribe_all (tly_watcher_t *self, const char *reason)
{
    if (self->sub_count == 0)
        return;
    self->stats.resubscribes++;
    tly_log (TLY_INFO, "watcher.resubscribe", "endpoint=%s subscriptions=%zu reason=\"%s\"",
             self->endpoint, self->sub_count, reason);
    for (size_t i = 0; i < self->sub_count; i++)
        tly_watcher_resubscribe (self, self->subs [i]);
}

//  Subscribes what waits for a retry (a refusal in passing, or no connection).
static void
s_resubscribe_retries (tly_watcher_t *self)
{
    for (size_t i = 0; i < self->sub_count; i++)
        if (self->subs [i]->state == TLY_SUB_RETRY)
            tly_watcher_resubscribe (self, self->subs [i]);
}

static tly_sub_t *
s_sub_by_object (tly_watcher_t *self, const char *object_id)
{
    for (size_t i = 0; i < self->sub_count; i++)
        if (strcmp (self->subs [i]->object_id, object_id) == 0)
            return self->subs [i];
    return NULL;
}

void
tly_watcher_remove (tly_watcher_t *self, tly_sub_t *sub)
{
    for (size_t i = 0; i < self->sub_count; i++)
        if (self->subs [i] == sub) {
            self->subs [i] = self->subs [--self->sub_count];
            free (sub);
            return;
        }
    assert (false);
}

//  Receives one message, when one is waiting. Returns false when none was.
static bool
s_receive (tly_watcher_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    void *dealer = zsock_resolve (self->dealer);
    if (zmq_msg_recv (&msg, dealer, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&msg);
        return false;
    }
    bool more = zmq_msg_more (&msg);
    Tally__ClientReply *reply = more ? NULL
                                     : tally__client_reply__unpack (NULL, zmq_msg_size (&msg),
                                                                    zmq_msg_data (&msg));
    while (more) {
        zmq_msg_close (&msg);
        zmq_msg_init (&msg);
        int rc = zmq_msg_recv (&msg, dealer, 0);
        assert (rc >= 0);  //  the rest of a message arrives with it
        more = zmq_msg_more (&msg);
    }
    zmq_msg_close (&msg);
    if (!reply) {
        self->stats.rejected++;
        tly_log (TLY_WARN, "watcher.bad_reply", "endpoint=%s reason=\"not one ClientReply frame\"",
                 self->endpoint);
        return true;
    }
    tly_watcher_on_reply (self, reply);
    tally__client_reply__free_unpacked (reply, NULL);
    return true;
}

//  One event of the dealer's socket monitor.
static void
s_on_monitor (tly_watcher_t *self)
{
    zmsg_t *msg = zmsg_recv (self->monitor);
    if (!msg)
        return;
    zframe_t *head = zmsg_first (msg);
    uint16_t event = 0;
    if (head && zframe_size (head) == S_MONITOR_EVENT_SIZE)
        memcpy (&event, zframe_data (head), sizeof event);
    zmsg_destroy (&msg);
    bool failed = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                  || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                  || event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (failed && !self->refused)
        //  libzmq retries on its own; said once, until a handshake succeeds.
        tly_log (TLY_ERROR, "watcher.refused",
                 "endpoint=%s reason=\"the gateway refused the handshake: it requires CURVE "
                 "(" TLY_ENV_GATEWAY_KEY "), or the key given is not its own, or it does not "
                 "use CURVE\"",
                 self->endpoint);
    if (failed)
        self->refused = true;
    else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        self->refused = false;
    if (event == ZMQ_EVENT_DISCONNECTED)
        tly_log (TLY_INFO, "watcher.disconnected", "endpoint=%s", self->endpoint);
    else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->connections++ > 0)
        s_resubscribe_all (self, "connected to the gateway again");
    else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        s_resubscribe_retries (self);
}

//  Pings while there are subscriptions; subscribes everything again when a
//  ping goes unanswered, and what waits for a retry at each ping.
static void
s_tick (tly_watcher_t *self)
{
    if (self->sub_count == 0) {
        self->ping_id = 0;
        return;
    }
    int64_t now = tly_mono_ms ();
    if (self->ping_id != 0 && now >= self->ping_deadline) {
        self->ping_id = 0;
        tly_log (TLY_WARN, "watcher.ping_timeout", "endpoint=%s timeout_ms=%d", self->endpoint,
                 self->ping_timeout_ms);
        s_resubscribe_all (self, "ping unanswered; the gateway may have restarted");
    }
    if (self->ping_id == 0 && now >= self->next_ping) {
        Tally__Ping body = TALLY__PING__INIT;
        Tally__ClientRequest request = TALLY__CLIENT_REQUEST__INIT;
        request.body_case = TALLY__CLIENT_REQUEST__BODY_PING;
        request.ping = &body;
        //  A ping that cannot be sent counts as unanswered: it times out too.
        self->ping_id = s_send_request (self, &request);
        if (self->ping_id == 0)
            self->ping_id = s_request_id (self);
        self->ping_deadline = now + self->ping_timeout_ms;
        self->next_ping = now + self->ping_ms;
        s_resubscribe_retries (self);
    }
}

//  One turn: timers, then a wait until deadline (monotonic ms; INT64_MAX
//  for none) or the next timer, then what arrived. Returns 0, or -1 when a
//  signal interrupted the wait.
static int
s_turn (tly_watcher_t *self, int64_t deadline)
{
    s_tick (self);
    int64_t until = deadline;
    if (self->sub_count > 0) {
        int64_t timer = self->ping_id != 0 ? self->ping_deadline : self->next_ping;
        if (timer < until)
            until = timer;
    }
    int64_t now = tly_mono_ms ();
    long wait = until == INT64_MAX        ? -1
                : until <= now            ? 0
                : until - now > INT32_MAX ? INT32_MAX
                                          : (long) (until - now);
    zmq_pollitem_t items [] = { { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 },
                                { zsock_resolve (self->monitor), 0, ZMQ_POLLIN, 0 } };
    if (zmq_poll (items, 2, wait) == -1) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__TIMEOUT,
                               "interrupted while waiting for %s: %s", self->endpoint,
                               zmq_strerror (zmq_errno ()));
        return -1;
    }
    if (items [1].revents & ZMQ_POLLIN)
        s_on_monitor (self);
    for (size_t count = 0; (items [0].revents & ZMQ_POLLIN) && count < S_BURST_MAX; count++)
        if (!s_receive (self))
            break;
    return 0;
}

static int64_t
s_deadline (int timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : tly_mono_ms () + timeout_ms;
}

//  --------------------------------------------------------------------------
//  The public calls

int
tly_watcher_subscribe (tly_watcher_t *self, const char *object_id, tly_object_fn *fn, void *arg,
                       int timeout_ms)
{
    assert (self && object_id && fn);
    assert (!self->in_callback);
    assert (timeout_ms >= 0);
    char canonical [TLY_ID_MAX];
    tly_object_kind_t kind;
    if (tly_object_canonical_id (object_id, canonical, &kind) == -1) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "'%s' is not an object ID (co_z...)", object_id);
        return -1;
    }
    if (s_sub_by_object (self, canonical)) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "already subscribed to %s", canonical);
        return -1;
    }
    if (self->sub_count == TLY_WATCH_SUBSCRIPTIONS_MAX) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__TOO_MANY_SUBSCRIPTIONS,
                               "a watcher follows at most %d objects", TLY_WATCH_SUBSCRIPTIONS_MAX);
        return -1;
    }
    tly_sub_t *sub = calloc (1, sizeof *sub);
    assert (sub);
    memcpy (sub->object_id, canonical, sizeof sub->object_id);
    sub->kind = kind;
    sub->fn = fn;
    sub->arg = arg;
    sub->first = true;
    self->outcome = TLY_OUTCOME_PENDING;
    if (self->sub_count == 0)
        self->next_ping = tly_mono_ms () + self->ping_ms;
    self->subs [self->sub_count++] = sub;
    tly_watcher_resubscribe (self, sub);
    //  Once delivered, the subscription may end within the same turn: from
    //  here on it is found again by its ID, never through sub.
    int64_t deadline = s_deadline (timeout_ms);
    int rc = 0;
    while (self->outcome == TLY_OUTCOME_PENDING && rc == 0 && tly_mono_ms () < deadline)
        rc = s_turn (self, deadline);
    if (self->outcome == TLY_OUTCOME_DELIVERED)
        return 0;
    if (self->outcome == TLY_OUTCOME_PENDING && rc == 0)
        tly_codec_local_error (
            &self->error, TALLY__ERROR_CODE__TIMEOUT,
            "no snapshot of %s from %s within %d ms: is tally-gateway running there?", canonical,
            self->endpoint, timeout_ms);
    //  Unless the gateway refused it, it may follow the object for nobody.
    if (!self->error.remote)
        s_send_unsubscribe (self, canonical);
    sub = s_sub_by_object (self, canonical);
    assert (sub && sub->first);
    tly_watcher_remove (self, sub);
    return -1;
}

int
tly_watcher_unsubscribe (tly_watcher_t *self, const char *object_id, int timeout_ms)
{
    assert (self && object_id);
    assert (!self->in_callback);
    assert (timeout_ms >= 0);
    char canonical [TLY_ID_MAX];
    if (tly_object_canonical_id (object_id, canonical, NULL) == -1) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__BAD_REQUEST,
                               "'%s' is not an object ID (co_z...)", object_id);
        return -1;
    }
    tly_sub_t *sub = s_sub_by_object (self, canonical);
    if (sub)
        tly_watcher_remove (self, sub);
    self->unsubscribe_id = s_send_unsubscribe (self, canonical);
    if (self->unsubscribe_id == 0) {
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__UNAVAILABLE, "cannot send to %s",
                               self->endpoint);
        return -1;
    }
    int64_t deadline = s_deadline (timeout_ms);
    int rc = 0;
    while (self->unsubscribe_id != 0 && rc == 0 && tly_mono_ms () < deadline)
        rc = s_turn (self, deadline);
    if (self->unsubscribe_id == 0)
        return 0;
    self->unsubscribe_id = 0;
    if (rc == 0)
        tly_codec_local_error (&self->error, TALLY__ERROR_CODE__TIMEOUT,
                               "no answer to unsubscribe from %s within %d ms", self->endpoint,
                               timeout_ms);
    return -1;
}

int
tly_watcher_dispatch (tly_watcher_t *self, int timeout_ms)
{
    assert (self);
    assert (!self->in_callback);
    int64_t deadline = s_deadline (timeout_ms);
    uint64_t before = self->callbacks;
    do {
        if (s_turn (self, deadline) == -1)
            return -1;
    } while (self->callbacks == before && tly_mono_ms () < deadline);
    uint64_t made = self->callbacks - before;
    return made > INT32_MAX ? INT32_MAX : (int) made;
}
