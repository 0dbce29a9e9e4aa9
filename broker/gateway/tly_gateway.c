//  tly_gateway - the client edge. See tly_gateway.h and docs/protocol.md
//  "Client -> gateway" and "Gateway -> router -> actor"; the read path
//  lives in tly_gateway_stream.
#include "tly_gateway.h"

#include <assert.h>
#include <inttypes.h>
#include "tly_gateway_pending.h"
#include "tly_gateway_rejects.h"
#include "tly_gateway_stream.h"
#include "tly_partition.h"
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

//  Router replies handled per loop turn: enough to amortise the poll, few
//  enough that the client socket is not starved.
#define BURST_MAX            1024
//  Client requests handled per loop turn. Their verified envelopes go to the
//  router together at the end of the turn; the bound keeps the first of them
//  from waiting long for the others' signature checks, and lets the router's
//  replies in between turns.
#define CLIENT_BURST         16
//  Longest the loop sleeps with nothing due, so a missed wake-up costs little.
#define IDLE_POLL_MS         1000
//  Connections the kernel queues before the gateway accepts them (capped by
//  net.core.somaxconn); libzmq's default is 100.
#define CLIENT_BACKLOG       1024
//  Requests read ahead from one client; past this TCP pushes back on it.
#define CLIENT_REQUEST_QUEUE 1000
//  Bus messages queued when the gateway falls behind; past this the SUB
//  drops, subscribers see the gaps and resync.
#define BUS_QUEUE            100000

//  A request on its way to the router, packed, with its pending-table entry.
typedef struct {
    zframe_t *frame;
    uint64_t id;
    tly_pending_kind_t kind;
} s_forward_t;

struct _tly_gateway_t {
    tly_gateway_config_t config;
    zsock_t *client;                 //  ROUTER, bound, faces clients
    zsock_t *ws;                     //  ROUTER on ws://, faces browsers (NULL: none)
    zsock_t *router;                 //  DEALER, connected to the router frontend
    zsock_t *bus;                    //  SUB, connected to the router's update bus
    tly_gateway_pending_t *pending;  //  requests waiting for the router
    tly_gateway_stream_t *stream;    //  subscriptions, and every send to a client
    char timeout_reason [TLY_GATEWAY_REASON_MAX];
    //  Requests a turn has verified, sent to the router together when the
    //  turn ends: each thread and process down the line then wakes once per
    //  burst instead of once per request.
    s_forward_t outbox [CLIENT_BURST];
    size_t outbox_size;
    tly_log_limit_t rejected_log;    //  anyone can send junk: its lines are budgeted
    tly_gateway_rejects_t *rejects;  //  ... and every refusal counted, per peer
    zframe_t *handling;              //  the client frame being handled: its peer
    //  Events of the router link (libzmq's socket monitor): when it comes
    //  back after a drop, whatever the router held is sent again.
    zsock_t *monitor;
    bool router_refused;  //  its last handshake failed (logged once)
    bool router_dropped;
};

//  Options every socket gets. A zero receive timeout makes zframe_recv return
//  NULL when nothing is waiting, which is how the drain loops stop.
static void
s_configure (zsock_t *sock, uint32_t send_queue, uint32_t receive_queue)
{
    zsock_set_maxmsgsize (sock, TLY_FRAME_HARD_MAX);
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, (int) send_queue);
    zsock_set_rcvhwm (sock, (int) receive_queue);
    zsock_set_rcvtimeo (sock, 0);
}

tly_gateway_t *
tly_gateway_new (const tly_gateway_config_t *config, char *error, size_t error_size)
{
    assert (config && config->bind && config->router && config->bus);
    assert (config->client_queue >= 1);
    assert (config->partitions >= 1 && config->partitions <= TLY_PARTITIONS_MAX);
    assert (config->timeout_ms > 0);
    assert (config->max_pending >= 1 && config->max_pending <= TLY_GATEWAY_PENDING_LIMIT);
    assert (error && error_size > 0);

    tly_gateway_t *self = calloc (1, sizeof (*self));
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->rejected_log = (tly_log_limit_t) TLY_LOG_LIMIT (TLY_REJECT_LOG_BURST,
                                                          TLY_REJECT_LOG_WINDOW_MS);
    snprintf (self->timeout_reason, sizeof (self->timeout_reason),
              "no reply from the cluster within %" PRId64 " ms", config->timeout_ms);
    self->pending = tly_gateway_pending_new (config->max_pending, TLY_GATEWAY_RESEND_BYTES);
    self->rejects = tly_gateway_rejects_new (TLY_REJECT_LOG_WINDOW_MS);
    self->client = zsock_new (ZMQ_ROUTER);
    if (config->bind_ws && !(self->ws = zsock_new (ZMQ_ROUTER))) {
        snprintf (error, error_size, "out of memory or sockets");
        tly_gateway_destroy (&self);
        return NULL;
    }
    self->router = zsock_new (ZMQ_DEALER);
    self->bus = zsock_new (ZMQ_SUB);
    tly_gateway_stream_config_t stream_config = {
        .partitions = config->partitions,
        .timeout_ms = config->timeout_ms,
        .max_snapshots = config->max_pending,
        .max_subscriptions = config->max_subscriptions,
        .max_subscriptions_total = config->max_subscriptions_total,
        .client_ttl_ms = config->client_ttl_ms
    };
    if (self->client && self->router && self->bus)
        self->stream = tly_gateway_stream_new (&stream_config, self->client, self->ws, self->router,
                                               self->bus);
    if (!self->pending || !self->rejects || !self->stream) {
        snprintf (error, error_size, "out of memory or sockets");
        tly_gateway_destroy (&self);
        return NULL;
    }
    //  Each client's queue is bounded and mandatory routing turns a full
    //  queue into EAGAIN and a vanished client into EHOSTUNREACH, which the
    //  stream acts on; sends never block, so one slow client delays no other.
    zsock_t *clients [] = { self->client, self->ws };
    for (size_t i = 0; i < 2 && clients [i]; i++) {
        s_configure (clients [i], config->client_queue, CLIENT_REQUEST_QUEUE);
        zsock_set_router_mandatory (clients [i], 1);
        //  Many clients may connect at once (a restart, a load test); past the
        //  listen backlog their SYNs are dropped and each waits a 1 s retransmit.
        zsock_set_backlog (clients [i], CLIENT_BACKLOG);
    }
    //  Every message to the router holds a pending slot, so max_pending bounds
    //  both directions; when the router is gone the send queue fills and new
    //  requests get UNAVAILABLE.
    s_configure (self->router, config->max_pending, config->max_pending);
    s_configure (self->bus, BUS_QUEUE, BUS_QUEUE);

    //  Clients' transport keys may be anyone's (their signatures say who
    //  they are); the router lets in only the gateways it knows.
    if (config->curve
        && (tly_curve_serve (config->curve, self->client, config->bind, TLY_CURVE_ANYONE, error,
                             error_size)
            || tly_curve_connect (config->curve, self->router, config->router, TLY_CURVE_ROUTER,
                                  error, error_size)
            || tly_curve_connect (config->curve, self->bus, config->bus, TLY_CURVE_ROUTER, error,
                                  error_size))) {
        tly_gateway_destroy (&self);
        return NULL;
    }
    if (zsock_bind (self->client, "%s", config->bind) == -1) {
        snprintf (error, error_size, "cannot bind --bind %s: %s", config->bind,
                  zmq_strerror (zmq_errno ()));
        tly_gateway_destroy (&self);
        return NULL;
    }
    //  No CURVE here: a browser cannot ask for it (docs/protocol.md,
    //  "WebSocket"); TLS in front of it is the proxy's.
    if (self->ws && zsock_bind (self->ws, "%s", config->bind_ws) == -1) {
        snprintf (error, error_size, "cannot bind --bind-ws %s: %s", config->bind_ws,
                  zmq_strerror (zmq_errno ()));
        tly_gateway_destroy (&self);
        return NULL;
    }
    //  Watched before it connects, so that no event is missed.
    char monitor_endpoint [64];
    snprintf (monitor_endpoint, sizeof monitor_endpoint, "inproc://tly-gateway-router-%p",
              (void *) self);
    self->monitor = zsock_new (ZMQ_PAIR);
    if (!self->monitor
        || zmq_socket_monitor (zsock_resolve (self->router), monitor_endpoint,
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                   | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
               == -1
        || zsock_connect (self->monitor, "%s", monitor_endpoint) == -1) {
        snprintf (error, error_size, "cannot watch the router link: %s",
                  zmq_strerror (zmq_errno ()));
        tly_gateway_destroy (&self);
        return NULL;
    }
    zsock_set_rcvtimeo (self->monitor, 0);
    if (zsock_connect (self->router, "%s", config->router) == -1) {
        snprintf (error, error_size, "cannot connect --router %s: %s", config->router,
                  zmq_strerror (zmq_errno ()));
        tly_gateway_destroy (&self);
        return NULL;
    }
    if (zsock_connect (self->bus, "%s", config->bus) == -1) {
        snprintf (error, error_size, "cannot connect --bus %s: %s", config->bus,
                  zmq_strerror (zmq_errno ()));
        tly_gateway_destroy (&self);
        return NULL;
    }
    return self;
}

void
tly_gateway_destroy (tly_gateway_t **self_p)
{
    assert (self_p);
    tly_gateway_t *self = *self_p;
    if (!self)
        return;
    assert (self->outbox_size == 0);  //  every drain flushes what it held
    tly_gateway_stream_destroy (&self->stream);
    tly_gateway_pending_destroy (&self->pending);
    tly_gateway_rejects_destroy (&self->rejects);
    if (self->monitor)
        zmq_socket_monitor (zsock_resolve (self->router), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->client);
    zsock_destroy (&self->ws);
    zsock_destroy (&self->router);
    zsock_destroy (&self->bus);
    free (self);
    *self_p = NULL;
}

const char *
tly_gateway_instance (tly_gateway_t *self)
{
    assert (self);
    return tly_gateway_stream_instance (self->stream);
}

void *
tly_gateway_client_handle (tly_gateway_t *self)
{
    assert (self);
    return zsock_resolve (self->client);
}

void *
tly_gateway_ws_handle (tly_gateway_t *self)
{
    assert (self);
    return self->ws ? zsock_resolve (self->ws) : NULL;
}

void *
tly_gateway_router_handle (tly_gateway_t *self)
{
    assert (self);
    return zsock_resolve (self->router);
}

void *
tly_gateway_router_link_handle (tly_gateway_t *self)
{
    assert (self);
    return zsock_resolve (self->monitor);
}

void *
tly_gateway_bus_handle (tly_gateway_t *self)
{
    assert (self);
    return zsock_resolve (self->bus);
}

//  --------------------------------------------------------------------------
//  Answering clients

//  Sends reply to the client named by *identity_p; consumes the identity.
//  Never blocks: a client whose queue is full or who is gone loses the reply
//  (the stream acts on why; the client's own deadline covers the loss).
static void
s_reply (tly_gateway_t *self, zframe_t **identity_p, const Tally__ClientReply *reply)
{
    zframe_t *data = tly_wire_pack (&reply->base);
    if (tly_gateway_stream_send (self->stream, *identity_p, &data) == -1)
        tly_log (TLY_DEBUG, "client.reply_dropped", "request_id=%" PRIu64 " error=\"%s\"",
                 reply->request_id, zmq_strerror (errno));
    zframe_destroy (identity_p);
}

static void
s_reply_error (tly_gateway_t *self, zframe_t **identity_p, uint64_t request_id,
               Tally__ErrorCode code, const char *reason)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    error.message = (char *) reason;
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = request_id;
    reply.error = &error;
    s_reply (self, identity_p, &reply);
}

//  The address of the client whose frame is being handled, or NULL: the
//  metadata property libzmq sets on every message from a TCP peer
//  (ZMQ_MSG_PROPERTY_PEER_ADDRESS, which zmq.h declares in its draft API only).
static const char *
s_peer (tly_gateway_t *self)
{
    return self->handling ? zframe_meta (self->handling, "Peer-Address") : NULL;
}

static void
s_reject (tly_gateway_t *self, zframe_t **identity_p, uint64_t request_id, Tally__ErrorCode code,
          const char *reason)
{
    const char *peer = s_peer (self);
    tly_gateway_rejects_count (self->rejects, peer, code, tly_mono_ms ());
    tly_log_limited (&self->rejected_log, TLY_INFO, "request.rejected",
                     "peer=%s request_id=%" PRIu64 " code=%s reason=\"%s\"",
                     peer ? peer : "unknown", request_id, tly_error_name (code), reason);
    s_reply_error (self, identity_p, request_id, code, reason);
}

//  --------------------------------------------------------------------------
//  Client -> router

//  Sends every held request to the router. One the router's queue cannot
//  take is answered UNAVAILABLE at once.
static void
s_flush_router (tly_gateway_t *self)
{
    for (size_t i = 0; i < self->outbox_size; i++) {
        s_forward_t *forward = &self->outbox [i];
        //  Kept for a resend: the router gets the table's frame by
        //  reference (ZFRAME_REUSE shares its bytes; nothing is copied).
        zframe_t *kept = tly_gateway_pending_keep (self->pending, forward->id, &forward->frame);
        int sent = kept ? zframe_send (&kept, self->router, ZFRAME_REUSE | ZFRAME_DONTWAIT)
                        : zframe_send (&forward->frame, self->router, ZFRAME_DONTWAIT);
        if (sent == 0)
            continue;
        zframe_destroy (&forward->frame);
        zframe_t *identity = NULL;
        uint64_t request_id = 0;
        int rc = tly_gateway_pending_take (self->pending, forward->id, forward->kind, &identity,
                                           &request_id);
        assert (rc == 0);
        s_reject (self, &identity, request_id, TALLY__ERROR_CODE__UNAVAILABLE,
                  "the router is not taking messages (queue full); retry later");
    }
    self->outbox_size = 0;
}

//  Remembers the request, stores its new id in *id_field (a field of
//  message) and holds message for the router until the drain ends. When the
//  table or the router's queue is full the client gets UNAVAILABLE at once.
static void
s_forward (tly_gateway_t *self, zframe_t **identity_p, uint64_t request_id, tly_pending_kind_t kind,
           Tally__GatewayToRouter *message, uint64_t *id_field)
{
    int64_t deadline_ms = 0;
    bool overflow = __builtin_add_overflow (tly_mono_ms (), self->config.timeout_ms, &deadline_ms);
    assert (!overflow);
    uint64_t id = tly_gateway_pending_add (self->pending, kind, identity_p, request_id,
                                           deadline_ms);
    if (id == 0) {
        char reason [TLY_GATEWAY_REASON_MAX];
        snprintf (reason, sizeof (reason),
                  "gateway has %" PRIu32 " requests in flight (limit %" PRIu32 "); retry later",
                  tly_gateway_pending_size (self->pending), self->config.max_pending);
        s_reject (self, identity_p, request_id, TALLY__ERROR_CODE__UNAVAILABLE, reason);
        return;
    }
    *id_field = id;
    assert (self->outbox_size < CLIENT_BURST);
    self->outbox [self->outbox_size++] = (s_forward_t) { .frame = tly_wire_pack (&message->base),
                                                         .id = id,
                                                         .kind = kind };
}

static void
s_route (tly_gateway_t *self, zframe_t **identity_p, Tally__ClientRequest *request,
         uint32_t partition)
{
    Tally__Route route = TALLY__ROUTE__INIT;
    route.partition = partition;
    assert (route.partition < self->config.partitions);
    route.envelope = request->send;
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_ROUTE;
    message.route = &route;
    s_forward (self, identity_p, request->request_id, TLY_PENDING_ROUTE, &message, &route.route_id);
}

static void
s_status (tly_gateway_t *self, zframe_t **identity_p, Tally__ClientRequest *request)
{
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID;
    s_forward (self, identity_p, request->request_id, TLY_PENDING_STATUS, &message,
               &message.status_id);
}

static void
s_handle_client (tly_gateway_t *self, zframe_t **identity_p, zframe_t *data)
{
    Tally__ClientRequest *request = NULL;
    uint64_t request_id = 0;
    tly_gateway_admitted_t admitted;
    char reason [TLY_GATEWAY_REASON_MAX];
    Tally__ErrorCode code = tly_gateway_check (&self->config.policy, zframe_data (data),
                                               zframe_size (data), tly_now_ms (), &request,
                                               &request_id, &admitted, reason);
    if (code != TALLY__ERROR_CODE__OK) {
        s_reject (self, identity_p, request_id, code, reason);
        return;
    }
    //  The stream answers and logs its own refusals; they are counted here.
    code = TALLY__ERROR_CODE__OK;
    switch (request->body_case) {
        case TALLY__CLIENT_REQUEST__BODY_SEND:
            s_route (self, identity_p, request, admitted.partition);
            break;
        case TALLY__CLIENT_REQUEST__BODY_STATUS: s_status (self, identity_p, request); break;
        case TALLY__CLIENT_REQUEST__BODY_SUBSCRIBE:
            code = tly_gateway_stream_subscribe (self->stream, *identity_p, request_id, &admitted);
            break;
        case TALLY__CLIENT_REQUEST__BODY_UNSUBSCRIBE:
            code = tly_gateway_stream_unsubscribe (self->stream, *identity_p, request_id,
                                                   request->unsubscribe->object_id);
            break;
        default: {
            assert (request->body_case == TALLY__CLIENT_REQUEST__BODY_PING);
            Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
            reply.request_id = request_id;
            s_reply (self, identity_p, &reply);
        }
    }
    if (code != TALLY__ERROR_CODE__OK)
        tly_gateway_rejects_count (self->rejects, s_peer (self), code, tly_mono_ms ());
    zframe_destroy (identity_p);
    tally__client_request__free_unpacked (request, NULL);
}

//  Receives and drops the rest of a multipart message; returns its frame count.
static size_t
s_discard_rest (zsock_t *sock)
{
    size_t frames = 0;
    while (zsock_rcvmore (sock)) {
        zframe_t *frame = zframe_recv (sock);
        assert (frame);  //  the rest of a message arrives with it
        zframe_destroy (&frame);
        frames++;
    }
    return frames;
}

//  The client's identity with the byte naming its socket in front.
static zframe_t *
s_tagged (zframe_t **identity_p, uint8_t socket_tag)
{
    size_t size = zframe_size (*identity_p);
    zframe_t *tagged = zframe_new (NULL, size + 1);
    assert (tagged);
    zframe_data (tagged) [0] = socket_tag;
    memcpy (zframe_data (tagged) + 1, zframe_data (*identity_p), size);
    zframe_destroy (identity_p);
    return tagged;
}

//  Up to one burst of what waits on one client socket.
static void
s_drain (tly_gateway_t *self, zsock_t *sock, uint8_t socket_tag)
{
    for (size_t count = 0; count < CLIENT_BURST; count++) {
        zframe_t *received = zframe_recv (sock);
        if (!received)
            break;
        //  A ROUTER always puts the identity in front of at least one frame.
        assert (zframe_more (received));
        zframe_t *identity = s_tagged (&received, socket_tag);
        zframe_t *data = zframe_recv (sock);
        assert (data);
        //  Any message, even a rejected one, shows the client is alive.
        tly_gateway_stream_touch (self->stream, identity);
        self->handling = data;
        if (zframe_more (data)) {
            char reason [TLY_GATEWAY_REASON_MAX];
            snprintf (reason, sizeof (reason), "request has %zu data frames (expected exactly 1)",
                      1 + s_discard_rest (sock));
            s_reject (self, &identity, 0, TALLY__ERROR_CODE__BAD_REQUEST, reason);
        } else
            s_handle_client (self, &identity, data);
        self->handling = NULL;
        zframe_destroy (&data);
        assert (identity == NULL);
    }
    s_flush_router (self);
}

void
tly_gateway_drain_clients (tly_gateway_t *self)
{
    assert (self);
    s_drain (self, self->client, TLY_GATEWAY_SOCKET_TCP);
    if (self->ws)
        s_drain (self, self->ws, TLY_GATEWAY_SOCKET_WS);
}

//  --------------------------------------------------------------------------
//  Router -> client

static void
s_on_route_reply (tly_gateway_t *self, const Tally__RouteReply *route_reply)
{
    zframe_t *identity = NULL;
    uint64_t request_id = 0;
    if (tly_gateway_pending_take (self->pending, route_reply->route_id, TLY_PENDING_ROUTE,
                                  &identity, &request_id)
        == -1) {
        tly_log (TLY_DEBUG, "route.late_reply", "route_id=%" PRIu64, route_reply->route_id);
        return;
    }
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = request_id;
    reply.error = route_reply->error;
    reply.n_results = route_reply->n_results;
    reply.results = route_reply->results;
    s_reply (self, &identity, &reply);
}

static void
s_on_status_reply (tly_gateway_t *self, const Tally__StatusReply *status_reply)
{
    zframe_t *identity = NULL;
    uint64_t request_id = 0;
    if (tly_gateway_pending_take (self->pending, status_reply->status_id, TLY_PENDING_STATUS,
                                  &identity, &request_id)
        == -1) {
        tly_log (TLY_DEBUG, "status.late_reply", "status_id=%" PRIu64, status_reply->status_id);
        return;
    }
    //  A client asking for status always gets one, even from a terse router.
    Tally__SystemStatus empty = TALLY__SYSTEM_STATUS__INIT;
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = request_id;
    reply.status = status_reply->status ? status_reply->status : &empty;
    s_reply (self, &identity, &reply);
}

void
tly_gateway_drain_router (tly_gateway_t *self)
{
    assert (self);
    for (size_t count = 0; count < BURST_MAX; count++) {
        zframe_t *frame = zframe_recv (self->router);
        if (!frame)
            break;
        if (zframe_more (frame)) {
            tly_log (TLY_WARN, "router.bad_frame", "frames=%zu reason=\"expected exactly 1\"",
                     1 + s_discard_rest (self->router));
            zframe_destroy (&frame);
            continue;
        }
        Tally__RouterToGateway *message = tally__router_to_gateway__unpack (
            NULL, zframe_size (frame), zframe_data (frame));
        if (!message)
            tly_log (TLY_WARN, "router.bad_frame",
                     "size=%zu reason=\"does not decode as RouterToGateway\"", zframe_size (frame));
        else if (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_REPLY)
            s_on_route_reply (self, message->reply);
        else if (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_STATUS)
            s_on_status_reply (self, message->status);
        else if (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_SNAPSHOT)
            tly_gateway_stream_on_snapshot (self->stream, message->snapshot);
        else
            tly_log (TLY_WARN, "router.bad_frame", "reason=\"RouterToGateway has no body\"");
        tally__router_to_gateway__free_unpacked (message, NULL);
        zframe_destroy (&frame);
    }
}

void
tly_gateway_on_router_link (tly_gateway_t *self)
{
    assert (self);
    zmsg_t *event;
    while ((event = zmsg_recv (self->monitor))) {
        zframe_t *head = zmsg_first (event);
        uint16_t kind = 0;
        if (head && zframe_size (head) >= sizeof kind)
            memcpy (&kind, zframe_data (head), sizeof kind);
        zmsg_destroy (&event);
        bool refused = kind == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                       || kind == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                       || kind == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
        if (refused && !self->router_refused) {
            //  libzmq retries by itself; said once, until a handshake succeeds.
            self->router_refused = true;
            tly_log (TLY_ERROR, "router.refused",
                     "endpoint=%s reason=\"the router refused the handshake: is this gateway's "
                     "key in its --gateway-keys, and --router-key the router's key?\"",
                     self->config.router);
        }
        if (kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            self->router_refused = false;
        if (kind == ZMQ_EVENT_DISCONNECTED && !self->router_dropped) {
            self->router_dropped = true;
            tly_log (TLY_WARN, "router.disconnected", "endpoint=%s pending=%" PRIu32,
                     self->config.router, tly_gateway_pending_size (self->pending));
        } else if (kind == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->router_dropped) {
            //  A new router (or the same one after a cut) holds none of what
            //  was in flight, and its replies are lost. Resending is safe:
            //  the same signed bytes, which the actors deduplicate.
            self->router_dropped = false;
            size_t resent = tly_gateway_pending_resend (self->pending,
                                                        zsock_resolve (self->router));
            //  The router hosts the bus too: what was published while the
            //  link was down may be lost (tly_gateway_stream.h).
            size_t resynced = tly_gateway_stream_resync_all (self->stream);
            tly_log (TLY_INFO, "router.reconnected", "endpoint=%s resent=%zu resynced=%zu",
                     self->config.router, resent, resynced);
        }
    }
}

void
tly_gateway_drain_bus (tly_gateway_t *self)
{
    assert (self);
    tly_gateway_stream_drain_bus (self->stream);
}

//  --------------------------------------------------------------------------
//  Deadlines

void
tly_gateway_expire (tly_gateway_t *self)
{
    assert (self);
    int64_t now_ms = tly_mono_ms ();
    zframe_t *identity = NULL;
    uint64_t request_id = 0;
    tly_pending_kind_t kind = 0;
    while (tly_gateway_pending_expire (self->pending, now_ms, &identity, &request_id, &kind) == 0) {
        tly_log (TLY_INFO, "request.timeout", "request_id=%" PRIu64 " kind=%s timeout_ms=%" PRId64,
                 request_id, kind == TLY_PENDING_ROUTE ? "route" : "status",
                 self->config.timeout_ms);
        s_reply_error (self, &identity, request_id, TALLY__ERROR_CODE__TIMEOUT,
                       self->timeout_reason);
    }
    tly_gateway_stream_expire (self->stream);
    tly_gateway_rejects_report (self->rejects, now_ms);
}

int
tly_gateway_poll_timeout_ms (tly_gateway_t *self)
{
    assert (self);
    int64_t deadline_ms = tly_gateway_pending_next_deadline (self->pending);
    int64_t stream_ms = tly_gateway_stream_next_deadline (self->stream);
    if (stream_ms < deadline_ms)
        deadline_ms = stream_ms;
    int64_t report_ms = tly_gateway_rejects_deadline (self->rejects);
    if (report_ms < deadline_ms)
        deadline_ms = report_ms;
    if (deadline_ms == INT64_MAX)
        return IDLE_POLL_MS;
    int64_t wait_ms = deadline_ms - tly_mono_ms ();
    if (wait_ms < 0)
        return 0;
    return wait_ms < IDLE_POLL_MS ? (int) wait_ms : IDLE_POLL_MS;
}
