//  tly_actor - a balance actor's links and loop: routes and assignments in
//  from the router, appends and reads answered by the audit writer, the bus;
//  partitions (tly_actor_partitions.c) and batches (tly_actor_batches.c)
//  are run from here.
#include "tly_actor_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

//  ---------------------------------------------------------------- router link

static void
s_send (zsock_t *sock, const ProtobufCMessage *message, const char *link)
{
    if (tly_wire_send (sock, NULL, message) == -1)
        tly_log (TLY_WARN, "send_failed", "link=%s error=\"%s\"", link,
                 zmq_strerror (zmq_errno ()));
}

static void
s_hello (tly_actor_t *self)
{
    Tally__ActorHello hello = TALLY__ACTOR_HELLO__INIT;
    hello.name = (char *) self->config.name;
    hello.partition_count = self->config.partition_count;
    hello.journal_full = self->journal_full;
    hello.state_full = tly_ledger_space (self->ledger) == TLY_STORE_FULL;
    if (self->journal_status_known)
        hello.journal = &self->journal_status;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_HELLO;
    message.hello = &hello;
    //  With no router connected the hello is dropped; the next one follows.
    tly_wire_send (self->router, NULL, &message.base);
    int64_t now = tly_mono_ms ();
    self->next_hello = now + self->config.heartbeat_ms;
    //  The journal's figures for the next hellos: asked of the writer at
    //  the hellos' pace, one request out at a time (a silent writer gets
    //  one every --audit-timeout-ms, never a queue of them).
    if (self->journal_status_asked == 0
        || now - self->journal_status_asked >= self->config.audit_timeout_ms) {
        Tally__JournalStatusRequest status = TALLY__JOURNAL_STATUS_REQUEST__INIT;
        Tally__AuditRequest request = TALLY__AUDIT_REQUEST__INIT;
        request.body_case = TALLY__AUDIT_REQUEST__BODY_STATUS;
        request.status = &status;
        s_send (self->audit, &request.base, "audit");
        self->journal_status_asked = now;
    }
}

//  Keeps the writer's figures for the next hellos. A plain copy of the
//  scalar fields: nothing in it may point into the reply, which is freed.
static void
s_on_journal_status (tly_actor_t *self, const Tally__JournalStatus *status)
{
    self->journal_status = *status;
    self->journal_status.base.n_unknown_fields = 0;
    self->journal_status.base.unknown_fields = NULL;
    self->journal_status_known = true;
    self->journal_status_asked = 0;
}

void
tly_actor_answer_error (tly_actor_t *self, Tally__RouterToActor *message, Tally__ErrorCode code)
{
    tly_actor_answer_text (self, message, code, tly_error_default_message (code));
}

void
tly_actor_answer_text (tly_actor_t *self, Tally__RouterToActor *message, Tally__ErrorCode code,
                       const char *text)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    error.message = (char *) text;
    Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
    reply.route_id = message->route ? message->route->route_id : 0;
    reply.error = &error;
    Tally__ActorToRouter answer = TALLY__ACTOR_TO_ROUTER__INIT;
    answer.body_case = TALLY__ACTOR_TO_ROUTER__BODY_REPLY;
    answer.reply = &reply;
    s_send (self->router, &answer.base, "router");
    tally__router_to_actor__free_unpacked (message, NULL);
}

//  ---------------------------------------------------------------- sockets

//  What s_recv found.
typedef enum {
    S_RECV_MESSAGE = 0,    //  one frame, in msg
    S_RECV_NONE = 1,       //  nothing waits
    S_RECV_MALFORMED = -1  //  more than one frame: discarded
} s_recv_t;

//  Receives one single-frame message without waiting.
static s_recv_t
s_recv (zsock_t *sock, zmq_msg_t *msg)
{
    zmq_msg_init (msg);
    if (zmq_msg_recv (msg, zsock_resolve (sock), ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (msg);
        return S_RECV_NONE;
    }
    if (!zmq_msg_more (msg))
        return S_RECV_MESSAGE;
    while (zmq_msg_more (msg)) {
        zmq_msg_close (msg);
        zmq_msg_init (msg);
        zmq_msg_recv (msg, zsock_resolve (sock), 0);
    }
    zmq_msg_close (msg);
    return S_RECV_MALFORMED;
}

static void
s_on_route (tly_actor_t *self, Tally__RouterToActor *message)
{
    const Tally__Route *route = message->route;
    if (!route || route->partition >= self->config.partition_count
        || (self->partitions [route->partition].state == TLY_ACTOR_UNOWNED && !self->assignment)) {
        tly_actor_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
        return;
    }
    zlist_append (self->ready, message);
}

//  A route or snapshot request for an actor that has said it leaves: the
//  router has moved the partition already, and drops this answer (it resent
//  the request when the leave arrived); the acknowledgement lets it go.
static void
s_on_router_after_leave (tly_actor_t *self, Tally__RouterToActor *message)
{
    if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ROUTE)
        tly_actor_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
    else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT)
        tly_reader_request (self->reader, message, TLY_READER_UNOWNED);
    else {
        const Tally__Assignment *assignment = message->assignment;
        if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT
            && assignment->n_owned == 0 && self->stage == TLY_ACTOR_LEFT) {
            tly_log (TLY_INFO, "leave.acknowledged", "name=%s", self->config.name);
            self->stage = TLY_ACTOR_GONE;
        }
        tally__router_to_actor__free_unpacked (message, NULL);
    }
}

void
tly_actor_on_router (tly_actor_t *self)
{
    assert (self);
    for (size_t i = 0; i < TLY_ACTOR_DRAIN_MAX && tly_actor_accepting (self); i++) {
        zmq_msg_t msg;
        s_recv_t received = s_recv (self->router, &msg);
        if (received == S_RECV_NONE)
            break;
        self->router_heard = tly_mono_ms ();
        if (!self->router_alive) {
            tly_log (TLY_INFO, "router.connected", "endpoint=%s", self->config.router_endpoint);
            self->router_alive = true;
        }
        Tally__RouterToActor *message = NULL;
        if (received == S_RECV_MESSAGE) {
            message = tally__router_to_actor__unpack (NULL, zmq_msg_size (&msg),
                                                      zmq_msg_data (&msg));
            zmq_msg_close (&msg);
        }
        if (!message || message->body_case == TALLY__ROUTER_TO_ACTOR__BODY__NOT_SET) {
            tly_log (TLY_WARN, "router.bad_frame", "reason=\"not one RouterToActor\"");
            if (message)
                tally__router_to_actor__free_unpacked (message, NULL);
            continue;
        }
        if (self->stage >= TLY_ACTOR_LEFT)
            s_on_router_after_leave (self, message);
        else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ROUTE)
            s_on_route (self, message);
        else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT) {
            //  Applied between batches, where no decision is pending.
            if (self->assignment)
                tally__router_to_actor__free_unpacked (self->assignment, NULL);
            self->assignment = message;
        } else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT
                   && zlist_size (self->snapshots) < TLY_READER_HELD_MAX)
            zlist_append (self->snapshots, message);
        else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT)
            tly_reader_request (self->reader, message, TLY_READER_UNOWNED);
        else
            tally__router_to_actor__free_unpacked (message, NULL);
    }
}

void
tly_actor_on_audit (tly_actor_t *self)
{
    assert (self);
    for (size_t i = 0; i < TLY_ACTOR_DRAIN_MAX; i++) {
        zmq_msg_t msg;
        s_recv_t received = s_recv (self->audit, &msg);
        if (received == S_RECV_NONE)
            break;
        Tally__AuditReply *reply = NULL;
        if (received == S_RECV_MESSAGE) {
            reply = tally__audit_reply__unpack (NULL, zmq_msg_size (&msg), zmq_msg_data (&msg));
            zmq_msg_close (&msg);
        }
        bool catchup = reply
                       && (reply->body_case == TALLY__AUDIT_REPLY__BODY_READ
                           || reply->body_case == TALLY__AUDIT_REPLY__BODY_LOAD_SNAPSHOT);
        if (catchup && tly_batch_open (self->batch)) {
            //  The ledger belongs to the batch in flight until it settles.
            zlist_append (self->backlog, reply);
            continue;
        }
        if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND)
            tly_actor_on_append (self, reply->append);
        else if (catchup)
            tly_actor_on_catchup (self, reply);
        else if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_SAVE_SNAPSHOT)
            tly_saver_on_reply (self->saver, reply->save_snapshot);
        else if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_STATUS)
            s_on_journal_status (self, reply->status);
        else
            tly_log (TLY_WARN, "audit.bad_frame", "reason=\"not one AuditReply\"");
        if (reply)
            tally__audit_reply__free_unpacked (reply, NULL);
    }
}

//  ---------------------------------------------------------------- loop

void
tly_actor_tick (tly_actor_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    int64_t silence = self->config.liveness * self->config.heartbeat_ms;
    if (self->stage == TLY_ACTOR_LEFT && now >= self->leave_deadline) {
        tly_log (TLY_WARN, "leave.unacknowledged", "name=%s waited_ms=%d", self->config.name,
                 TLY_ACTOR_LEAVE_WAIT_MS);
        self->stage = TLY_ACTOR_GONE;
    }
    //  Hellos go on while the last batch finishes (the actor is alive and
    //  owns its partitions), and stop with the leave: one would then
    //  register the actor again.
    bool running = self->stage < TLY_ACTOR_LEFT;
    if (running && self->router_alive && now - self->router_heard > silence) {
        //  Re-register and keep serving what this actor holds.
        tly_log (TLY_WARN, "router.lost", "silent_ms=%" PRId64, now - self->router_heard);
        self->router_alive = false;
        s_hello (self);
    }
    if (running && now >= self->next_hello)
        s_hello (self);
    if (self->append_id && now >= self->append_deadline) {
        tly_log (TLY_WARN, "append.timeout", "request_id=%" PRIu64 " routes=%zu", self->append_id,
                 tly_batch_size (self->batch));
        tly_actor_abandon_batch (self);
    }
    tly_catchup_tick (self->catchup);
    if (running)
        tly_saver_tick (self->saver);
    tly_reader_tick (self->reader);
}

//  The batch in flight has settled: tell the router this actor leaves, then
//  answer what it still holds NOT_OWNER. The leave goes first on the same
//  pipe, so the router has moved the partitions (and resent these requests)
//  before it reads the answers.
static void
s_depart (tly_actor_t *self)
{
    Tally__ActorLeave leave = TALLY__ACTOR_LEAVE__INIT;
    leave.name = (char *) self->config.name;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_LEAVE;
    message.leave = &leave;
    s_send (self->router, &message.base, "router");
    self->stage = TLY_ACTOR_LEFT;
    self->leave_deadline = tly_mono_ms () + TLY_ACTOR_LEAVE_WAIT_MS;

    size_t routes = zlist_size (self->ready) + self->held_count;
    for (uint32_t partition = 0; partition < self->config.partition_count; partition++)
        if (self->partitions [partition].state != TLY_ACTOR_UNOWNED)
            tly_actor_partition_disown (self, partition);
    Tally__RouterToActor *route;
    while ((route = zlist_pop (self->ready)))
        tly_actor_answer_error (self, route, TALLY__ERROR_CODE__NOT_OWNER);
    tly_actor_dispatch_snapshots (self);
    if (self->assignment)
        tally__router_to_actor__free_unpacked (self->assignment, NULL);
    self->assignment = NULL;
    tly_log (TLY_INFO, "leave.sent", "name=%s routes_returned=%zu router_alive=%d",
             self->config.name, routes, self->router_alive);
    //  Nobody to wait for: the router, when back, never hears of this actor.
    if (!self->router_alive)
        self->stage = TLY_ACTOR_GONE;
}

void
tly_actor_flush (tly_actor_t *self)
{
    assert (self);
    if (!self->assignment)
        tly_actor_dispatch_snapshots (self);
    if (self->append_id)
        return;  //  one batch in flight
    assert (!tly_batch_open (self->batch));
    Tally__AuditReply *reply;
    while ((reply = zlist_pop (self->backlog))) {
        tly_actor_on_catchup (self, reply);
        tally__audit_reply__free_unpacked (reply, NULL);
    }
    if (self->stage == TLY_ACTOR_FINISHING)
        s_depart (self);
    if (self->stage != TLY_ACTOR_RUNNING)
        return;
    if (self->assignment) {
        tly_actor_assign (self, self->assignment->assignment);
        tally__router_to_actor__free_unpacked (self->assignment, NULL);
        self->assignment = NULL;
        tly_actor_dispatch_snapshots (self);
    }
    if (zlist_size (self->ready) > 0 && tly_mono_ms () >= self->retry_at)
        tly_actor_form_batch (self);
}

long
tly_actor_timeout (tly_actor_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (!self->append_id && (zlist_size (self->ready) > 0 || self->assignment)
        && now >= self->retry_at)
        return 0;
    if (!self->append_id && self->stage == TLY_ACTOR_FINISHING)
        return 0;  //  the leave goes now
    bool hellos = self->stage < TLY_ACTOR_LEFT;
    int64_t next = hellos ? self->next_hello : self->leave_deadline;
    if (hellos && self->router_alive) {
        int64_t lost_at = self->router_heard + self->config.liveness * self->config.heartbeat_ms
                          + 1;
        next = lost_at < next ? lost_at : next;
    }
    if (self->append_id && self->append_deadline < next)
        next = self->append_deadline;
    if (tly_catchup_next (self->catchup) < next)
        next = tly_catchup_next (self->catchup);
    if (hellos && tly_saver_next (self->saver) < next)
        next = tly_saver_next (self->saver);
    if (!self->append_id && self->retry_at > now && self->retry_at < next)
        next = self->retry_at;
    return next > now ? (long) (next - now) : 0;
}

void *
tly_actor_router_socket (tly_actor_t *self)
{
    assert (self);
    return zsock_resolve (self->router);
}

void *
tly_actor_audit_socket (tly_actor_t *self)
{
    assert (self);
    return zsock_resolve (self->audit);
}

void *
tly_actor_bus_socket (tly_actor_t *self)
{
    assert (self);
    return tly_reader_bus_socket (self->reader);
}

void
tly_actor_on_bus (tly_actor_t *self)
{
    assert (self);
    tly_reader_on_bus (self->reader);
}

void
tly_actor_leave (tly_actor_t *self)
{
    assert (self);
    if (self->stage != TLY_ACTOR_RUNNING)
        return;
    tly_log (TLY_INFO, "leave.start", "name=%s batch_in_flight=%d waiting=%zu", self->config.name,
             self->append_id != 0, zlist_size (self->ready));
    self->stage = TLY_ACTOR_FINISHING;
}

bool
tly_actor_gone (tly_actor_t *self)
{
    assert (self);
    return self->stage == TLY_ACTOR_GONE;
}

bool
tly_actor_accepting (tly_actor_t *self)
{
    assert (self);
    return zlist_size (self->ready) < TLY_ACTOR_READY_MAX;
}

//  ---------------------------------------------------------------- lifecycle

//  pinged: this process's I/O thread PINGs the router every
//  TLY_LINK_PING_MS, so the router's link watch (TLY_LINK_TIMEOUT_MS) hears
//  this actor while its loop is busy and stops hearing it the moment the
//  process dies or stops. No timeout on this side (0): a loop too busy to
//  read leaves the router's PONGs unread; the router's silence is the
//  hellos' business.
static zsock_t *
s_connect (const char *endpoint, int send_hwm, bool pinged, tly_curve_t *curve,
           tly_curve_server_t server)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_maxmsgsize (sock, TLY_FRAME_HARD_MAX);
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, send_hwm);
    zsock_set_sndtimeo (sock, 0);  //  never block the loop on a missing peer
    if (pinged) {
        zsock_set_heartbeat_ivl (sock, TLY_LINK_PING_MS);
        zsock_set_heartbeat_timeout (sock, 0);
    }
    char error [512];
    if (curve && tly_curve_connect (curve, sock, endpoint, server, error, sizeof error)) {
        tly_log (TLY_ERROR, "connect_failed", "endpoint=%s error=\"%s\"", endpoint, error);
        zsock_destroy (&sock);
        return NULL;
    }
    if (zsock_connect (sock, "%s", endpoint) == -1) {
        tly_log (TLY_ERROR, "connect_failed", "endpoint=%s error=\"%s\"", endpoint,
                 zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

tly_actor_t *
tly_actor_new (const tly_actor_config_t *config, tly_ledger_t *ledger)
{
    assert (config && ledger);
    assert (config->partition_count > 0 && config->partition_count <= TLY_PARTITIONS_MAX);
    assert (config->heartbeat_ms > 0 && config->liveness > 0 && config->audit_timeout_ms > 0);
    tly_actor_t *self = calloc (1, sizeof (tly_actor_t));
    if (!self)
        return NULL;
    self->config = *config;
    self->ledger = ledger;
    self->batch = tly_batch_new (ledger, config->worker_sk + TLY_KEY_BYTES,
                                 config->partition_count);
    self->partitions = calloc (config->partition_count, sizeof (tly_actor_partition_t));
    self->assigned = calloc (config->partition_count, sizeof (uint64_t));
    self->ready = zlist_new ();
    self->in_batch = zlist_new ();
    self->backlog = zlist_new ();
    self->snapshots = zlist_new ();
    self->router = s_connect (config->router_endpoint, TLY_ACTOR_SEND_HWM, true, config->curve,
                              TLY_CURVE_ROUTER);
    self->audit = s_connect (config->audit_endpoint, TLY_ACTOR_SEND_HWM, false, config->curve,
                             TLY_CURVE_AUDIT);
    if (self->audit) {
        self->catchup = tly_catchup_new (ledger, self->audit, config->partition_count,
                                         config->audit_timeout_ms,
                                         config->worker_sk + TLY_KEY_BYTES);
        tly_saver_config_t saver = { .every_records = config->state_snapshot_records,
                                     .every_ms = config->state_snapshot_ms,
                                     .timeout_ms = config->audit_timeout_ms };
        self->saver = tly_saver_new (ledger, self->audit, config->partition_count, &saver);
    }
    if (self->router) {
        tly_reader_config_t reader = { .bus_endpoint = config->bus_endpoint,
                                       .curve = config->curve,
                                       .lease_ms = config->lease_ms,
                                       .partition_count = config->partition_count };
        memcpy (reader.worker_sk, config->worker_sk, sizeof reader.worker_sk);
        self->reader = tly_reader_new (&reader, ledger, zsock_resolve (self->router));
        sodium_memzero (reader.worker_sk, sizeof reader.worker_sk);
    }
    if (!self->batch || !self->catchup || !self->saver || !self->reader || !self->partitions
        || !self->assigned || !self->ready || !self->in_batch || !self->backlog || !self->snapshots
        || !self->router || !self->audit) {
        tly_actor_destroy (&self);
        return NULL;
    }
    s_hello (self);
    return self;
}

static void
s_free_routes (zlist_t **list_p)
{
    Tally__RouterToActor *message;
    while (*list_p && (message = zlist_pop (*list_p)))
        tally__router_to_actor__free_unpacked (message, NULL);
    zlist_destroy (list_p);
}

void
tly_actor_destroy (tly_actor_t **self_p)
{
    assert (self_p);
    tly_actor_t *self = *self_p;
    if (!self)
        return;
    //  A batch in flight is dropped unanswered: the router retries elsewhere,
    //  and whoever serves the partition next reads the journal first.
    tly_batch_destroy (&self->batch);
    tly_catchup_destroy (&self->catchup);
    tly_saver_destroy (&self->saver);
    tly_reader_destroy (&self->reader);
    for (uint32_t i = 0; self->partitions && i < self->config.partition_count; i++)
        s_free_routes (&self->partitions [i].held);
    free (self->partitions);
    free (self->assigned);
    s_free_routes (&self->ready);
    s_free_routes (&self->in_batch);
    s_free_routes (&self->snapshots);
    Tally__AuditReply *reply;
    while (self->backlog && (reply = zlist_pop (self->backlog)))
        tally__audit_reply__free_unpacked (reply, NULL);
    zlist_destroy (&self->backlog);
    if (self->assignment)
        tally__router_to_actor__free_unpacked (self->assignment, NULL);
    zsock_destroy (&self->router);
    zsock_destroy (&self->audit);
    sodium_memzero (self->config.worker_sk, sizeof self->config.worker_sk);
    free (self);
    *self_p = NULL;
}
