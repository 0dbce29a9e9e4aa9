//  tly_actor - a balance actor's links and partitions around the batch loop.
#include "tly_actor.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "tly_batch.h"
#include "tly_catchup.h"
#include "tly_log.h"
#include "tly_reader.h"
#include "tly_validate.h"
#include "tly_wire.h"

typedef enum { S_UNOWNED, S_LOADING, S_SERVING } s_state_t;

typedef struct {
    s_state_t state;
    uint64_t epoch;
    //  An append at this epoch was accepted since the last catch-up. Until
    //  then the partition puts one draft per batch, so no draft can ever be
    //  accepted behind one the journal refused (after a lost ack, say).
    bool confirmed;
    bool drafted;                       //  has a draft in the batch being formed
    zlist_t *held;                      //  routes waiting for the catch-up, in order
} s_partition_t;

struct _tly_actor_t {
    tly_actor_config_t config;
    tly_ledger_t *ledger;               //  not owned
    tly_batch_t *batch;
    tly_catchup_t *catchup;
    tly_reader_t *reader;
    zsock_t *router;
    zsock_t *audit;
    s_partition_t *partitions;
    uint64_t *assigned;                 //  scratch: epoch per partition in an assignment
    zlist_t *ready;                     //  Tally__RouterToActor *, in arrival order
    size_t held_count;                  //  routes held by all loading partitions
    zlist_t *in_batch;                  //  the routes of the batch in flight, in order
    zlist_t *backlog;                   //  Tally__AuditReply * reads that waited for the ledger
    zlist_t *snapshots;                 //  Tally__RouterToActor * not yet looked at
    Tally__RouterToActor *assignment;   //  newest assignment, applied between batches
    uint64_t append_id;                 //  the batch in flight, 0 when none
    uint64_t appends;
    int64_t append_deadline;
    int64_t retry_at;                   //  after a failed batch start
    int64_t next_hello;
    int64_t router_heard;
    bool router_alive;
};

//  ---------------------------------------------------------------- router link

static void
s_send (zsock_t *sock, const ProtobufCMessage *message, const char *link)
{
    if (tly_wire_send (sock, NULL, message) == -1)
        tly_log (TLY_WARN, "send_failed", "link=%s error=\"%s\"", link, zmq_strerror (zmq_errno ()));
}

static void
s_hello (tly_actor_t *self)
{
    Tally__ActorHello hello = TALLY__ACTOR_HELLO__INIT;
    hello.name = (char *) self->config.name;
    hello.partition_count = self->config.partition_count;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_HELLO;
    message.hello = &hello;
    //  With no router connected the hello is dropped; the next one follows.
    tly_wire_send (self->router, NULL, &message.base);
    self->next_hello = tly_mono_ms () + self->config.heartbeat_ms;
}

static void
s_answer_error (tly_actor_t *self, Tally__RouterToActor *message, Tally__ErrorCode code)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    error.message = (char *) tly_error_default_message (code);
    Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
    reply.route_id = message->route ? message->route->route_id : 0;
    reply.error = &error;
    Tally__ActorToRouter answer = TALLY__ACTOR_TO_ROUTER__INIT;
    answer.body_case = TALLY__ACTOR_TO_ROUTER__BODY_REPLY;
    answer.reply = &reply;
    s_send (self->router, &answer.base, "router");
    tally__router_to_actor__free_unpacked (message, NULL);
}

//  ---------------------------------------------------------------- partitions

static void
s_load (tly_actor_t *self, uint32_t partition, uint64_t epoch)
{
    s_partition_t *part = &self->partitions [partition];
    part->state = S_LOADING;
    part->epoch = epoch;
    part->confirmed = false;
    tly_catchup_start (self->catchup, partition, epoch);
}

static void
s_disown (tly_actor_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    tly_catchup_stop (self->catchup, partition);
    part->state = S_UNOWNED;
    part->confirmed = false;
    tly_reader_partition (self->reader, partition, TLY_READER_UNOWNED);
    Tally__RouterToActor *message;
    while (part->held && (message = zlist_pop (part->held))) {
        self->held_count--;
        s_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
    }
    zlist_destroy (&part->held);
}

//  Held routes are older than any route of the partition still waiting in
//  the ready queue, so they go to its front.
static void
s_serve (tly_actor_t *self, uint32_t partition)
{
    s_partition_t *part = &self->partitions [partition];
    assert (part->state == S_LOADING);
    part->state = S_SERVING;
    tly_log (TLY_INFO, "partition.serving", "partition=%" PRIu32 " epoch=%" PRIu64 " held=%zu",
             partition, part->epoch, part->held ? zlist_size (part->held) : 0);
    tly_reader_partition (self->reader, partition, TLY_READER_SERVING);
    if (!part->held)
        return;
    self->held_count -= zlist_size (part->held);
    void *message;
    while ((message = zlist_pop (self->ready)))
        zlist_append (part->held, message);
    zlist_destroy (&self->ready);
    self->ready = part->held;
    part->held = NULL;
}

static void
s_hold (tly_actor_t *self, s_partition_t *part, Tally__RouterToActor *message)
{
    if (self->held_count >= TLY_ACTOR_HELD_MAX) {
        //  The router retries (it holds its own bounded queue meanwhile).
        s_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
        return;
    }
    if (!part->held)
        part->held = zlist_new ();
    zlist_append (part->held, message);
    self->held_count++;
}

static void
s_assign (tly_actor_t *self, const Tally__Assignment *assignment)
{
    uint32_t count = self->config.partition_count;
    if (assignment->partition_count != count) {
        tly_log (TLY_ERROR, "assignment.rejected", "reason=\"partition count differs\" "
                 "router_partitions=%" PRIu32 " partitions=%" PRIu32,
                 assignment->partition_count, count);
        return;
    }
    memset (self->assigned, 0, count * sizeof (uint64_t));
    for (size_t i = 0; i < assignment->n_owned; i++) {
        const Tally__PartitionEpoch *owned = assignment->owned [i];
        if (owned->partition >= count || owned->epoch == 0) {
            tly_log (TLY_WARN, "assignment.bad_entry", "partition=%" PRIu32 " epoch=%" PRIu64,
                     owned->partition, owned->epoch);
            continue;
        }
        self->assigned [owned->partition] = owned->epoch;
    }
    size_t owned = 0, taken = 0, dropped = 0;
    for (uint32_t partition = 0; partition < count; partition++) {
        s_partition_t *part = &self->partitions [partition];
        uint64_t epoch = self->assigned [partition];
        owned += epoch != 0;
        if (epoch == 0 && part->state != S_UNOWNED) {
            s_disown (self, partition);
            dropped++;
        }
        else
        if (epoch != 0 && (part->state == S_UNOWNED || part->epoch != epoch)) {
            s_load (self, partition, epoch);
            taken++;
        }
    }
    //  The router repeats assignments; only changes are worth an info line.
    tly_log (taken || dropped ? TLY_INFO : TLY_DEBUG, "assignment",
             "owned=%zu taken=%zu dropped=%zu", owned, taken, dropped);
}

static void
s_on_read (tly_actor_t *self, const Tally__ReadReply *read)
{
    uint32_t partition;
    tly_catchup_status_t status = tly_catchup_on_reply (self->catchup, read, &partition);
    if (status == TLY_CATCHUP_DONE)
        s_serve (self, partition);
    else
    if (status == TLY_CATCHUP_FENCED)
        s_disown (self, partition);
}

//  ---------------------------------------------------------------- batches

static void
s_refused (uint32_t partition, Tally__ErrorCode code, void *arg)
{
    tly_actor_t *self = arg;
    if (code == TALLY__ERROR_CODE__STALE_EPOCH) {
        tly_log (TLY_WARN, "partition.fenced", "partition=%" PRIu32 " epoch=%" PRIu64,
                 partition, self->partitions [partition].epoch);
        s_disown (self, partition);
    }
    else {
        tly_log (TLY_WARN, "partition.reload", "partition=%" PRIu32 " code=%s",
                 partition, tly_error_name (code));
        s_load (self, partition, self->partitions [partition].epoch);
    }
}

static void
s_release_routes (tly_actor_t *self)
{
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->in_batch))) {
        self->partitions [message->route->partition].drafted = false;
        tally__router_to_actor__free_unpacked (message, NULL);
    }
}

//  The writer's answer is unknown (timeout, bad reply): forget the batch,
//  catch its partitions up (the journal may hold it) and retry its routes.
static void
s_abandon_batch (tly_actor_t *self)
{
    for (size_t i = 0; i < tly_batch_drafts (self->batch); i++) {
        uint32_t partition = tly_batch_draft_partition (self->batch, i);
        if (self->partitions [partition].state == S_SERVING)
            s_load (self, partition, self->partitions [partition].epoch);
    }
    tly_batch_abandon (self->batch);
    self->append_id = 0;
    //  Its routes are older than anything waiting: back to the front, in order.
    Tally__RouterToActor *message;
    for (message = zlist_first (self->in_batch); message; message = zlist_next (self->in_batch))
        self->partitions [message->route->partition].drafted = false;
    while ((message = zlist_pop (self->ready)))
        zlist_append (self->in_batch, message);
    zlist_t *ready = self->in_batch;
    self->in_batch = self->ready;
    self->ready = ready;
}

static void
s_finish_batch (tly_actor_t *self)
{
    //  Journaled: answer first, then commit the state, which only caches the
    //  journal (a failed commit reloads the partitions from it).
    size_t failed = tly_batch_answer (self->batch, zsock_resolve (self->router));
    if (failed)
        tly_log (TLY_WARN, "router.send_failed", "answers=%zu", failed);
    tly_batch_commit (self->batch, s_refused, self);
    for (size_t i = 0; i < tly_batch_drafts (self->batch); i++) {
        s_partition_t *part = &self->partitions [tly_batch_draft_partition (self->batch, i)];
        if (part->state == S_SERVING)
            part->confirmed = true;
    }
    tly_log (TLY_DEBUG, "batch.done", "routes=%zu drafts=%zu", tly_batch_size (self->batch),
             tly_batch_drafts (self->batch));
    //  Journaled, answered, committed: now the world may see it.
    tly_reader_publish (self->reader, self->batch);
    tly_batch_end (self->batch);
    s_release_routes (self);
}

static void
s_on_append (tly_actor_t *self, const Tally__AppendReply *reply)
{
    if (!self->append_id || reply->request_id != self->append_id) {
        tly_log (TLY_DEBUG, "append.late_reply", "request_id=%" PRIu64, reply->request_id);
        return;
    }
    self->append_id = 0;
    if (tly_batch_settle (self->batch, reply, s_refused, self) == -1)
        s_abandon_batch (self);
    else
        s_finish_batch (self);
}

//  Storage failed while deciding: nothing was journaled, answer INTERNAL.
static void
s_fail_batch (tly_actor_t *self)
{
    tly_batch_abandon (self->batch);
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->in_batch))) {
        self->partitions [message->route->partition].drafted = false;
        s_answer_error (self, message, TALLY__ERROR_CODE__INTERNAL);
    }
}

static void
s_form_batch (tly_actor_t *self)
{
    if (tly_batch_begin (self->batch, tly_now_ms ()) == -1) {
        self->retry_at = tly_mono_ms () + self->config.heartbeat_ms;
        return;
    }
    Tally__RouterToActor *message;
    while ((message = zlist_first (self->ready))) {
        s_partition_t *part = &self->partitions [message->route->partition];
        if (part->state != S_SERVING) {
            zlist_pop (self->ready);
            if (part->state == S_LOADING)
                s_hold (self, part, message);
            else
                s_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
            continue;
        }
        if (!part->confirmed && part->drafted)
            break;
        bool drafted = false;
        tly_batch_result_t added = tly_batch_add (self->batch, message->route, part->epoch,
                                                  &drafted);
        if (added == TLY_BATCH_FULL)
            break;
        zlist_pop (self->ready);
        zlist_append (self->in_batch, message);
        if (added == TLY_BATCH_ERROR) {
            s_fail_batch (self);
            return;
        }
        part->drafted |= drafted;
    }
    if (tly_batch_size (self->batch) == 0)
        tly_batch_abandon (self->batch);
    else
    if (tly_batch_drafts (self->batch) == 0) {
        int rc = tly_batch_settle (self->batch, NULL, s_refused, self);
        assert (rc == 0);
        s_finish_batch (self);
    }
    else {
        self->append_id = ++self->appends;
        self->append_deadline = tly_mono_ms () + self->config.audit_timeout_ms;
        zframe_t *frame = tly_batch_append (self->batch, self->append_id);
        if (zframe_send (&frame, self->audit, 0) == -1) {
            tly_log (TLY_WARN, "append.send_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            zframe_destroy (&frame);
            s_abandon_batch (self);
        }
    }
}

//  ---------------------------------------------------------------- sockets

//  What s_recv found.
typedef enum {
    S_RECV_MESSAGE = 0,                 //  one frame, in msg
    S_RECV_NONE = 1,                    //  nothing waits
    S_RECV_MALFORMED = -1               //  more than one frame: discarded
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
    ||  (self->partitions [route->partition].state == S_UNOWNED && !self->assignment)) {
        s_answer_error (self, message, TALLY__ERROR_CODE__NOT_OWNER);
        return;
    }
    zlist_append (self->ready, message);
}

//  Snapshots wait for nothing but an assignment still to be applied (which
//  may give or take their partition).
static void
s_dispatch_snapshots (tly_actor_t *self)
{
    static const tly_reader_state_t states [] = {
        [S_UNOWNED] = TLY_READER_UNOWNED, [S_LOADING] = TLY_READER_LOADING,
        [S_SERVING] = TLY_READER_SERVING
    };
    Tally__RouterToActor *message;
    while ((message = zlist_pop (self->snapshots))) {
        uint32_t partition = message->snapshot->partition;
        s_state_t state = partition < self->config.partition_count
                        ? self->partitions [partition].state : S_UNOWNED;
        tly_reader_request (self->reader, message, states [state]);
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
            message = tally__router_to_actor__unpack (NULL, zmq_msg_size (&msg), zmq_msg_data (&msg));
            zmq_msg_close (&msg);
        }
        if (!message || message->body_case == TALLY__ROUTER_TO_ACTOR__BODY__NOT_SET) {
            tly_log (TLY_WARN, "router.bad_frame", "reason=\"not one RouterToActor\"");
            if (message)
                tally__router_to_actor__free_unpacked (message, NULL);
            continue;
        }
        if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ROUTE)
            s_on_route (self, message);
        else
        if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT) {
            //  Applied between batches, where no decision is pending.
            if (self->assignment)
                tally__router_to_actor__free_unpacked (self->assignment, NULL);
            self->assignment = message;
        }
        else
        if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT
        &&  zlist_size (self->snapshots) < TLY_READER_HELD_MAX)
            zlist_append (self->snapshots, message);
        else
        if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT)
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
        if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_READ && tly_batch_open (self->batch)) {
            //  The ledger belongs to the batch in flight until it settles.
            zlist_append (self->backlog, reply);
            continue;
        }
        if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_APPEND)
            s_on_append (self, reply->append);
        else
        if (reply && reply->body_case == TALLY__AUDIT_REPLY__BODY_READ)
            s_on_read (self, reply->read);
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
    if (self->router_alive && now - self->router_heard > silence) {
        //  Re-register and keep serving what this actor holds.
        tly_log (TLY_WARN, "router.lost", "silent_ms=%" PRId64, now - self->router_heard);
        self->router_alive = false;
        s_hello (self);
    }
    if (now >= self->next_hello)
        s_hello (self);
    if (self->append_id && now >= self->append_deadline) {
        tly_log (TLY_WARN, "append.timeout", "request_id=%" PRIu64 " routes=%zu",
                 self->append_id, tly_batch_size (self->batch));
        s_abandon_batch (self);
    }
    tly_catchup_tick (self->catchup);
    tly_reader_tick (self->reader);
}

void
tly_actor_flush (tly_actor_t *self)
{
    assert (self);
    if (!self->assignment)
        s_dispatch_snapshots (self);
    if (self->append_id)
        return;                         //  one batch in flight
    assert (!tly_batch_open (self->batch));
    Tally__AuditReply *reply;
    while ((reply = zlist_pop (self->backlog))) {
        s_on_read (self, reply->read);
        tally__audit_reply__free_unpacked (reply, NULL);
    }
    if (self->assignment) {
        s_assign (self, self->assignment->assignment);
        tally__router_to_actor__free_unpacked (self->assignment, NULL);
        self->assignment = NULL;
        s_dispatch_snapshots (self);
    }
    if (zlist_size (self->ready) > 0 && tly_mono_ms () >= self->retry_at)
        s_form_batch (self);
}

long
tly_actor_timeout (tly_actor_t *self)
{
    assert (self);
    int64_t now = tly_mono_ms ();
    if (!self->append_id && (zlist_size (self->ready) > 0 || self->assignment)
    &&  now >= self->retry_at)
        return 0;
    int64_t next = self->next_hello;
    if (self->router_alive) {
        int64_t lost_at = self->router_heard + self->config.liveness * self->config.heartbeat_ms + 1;
        next = lost_at < next ? lost_at : next;
    }
    if (self->append_id && self->append_deadline < next)
        next = self->append_deadline;
    if (tly_catchup_next (self->catchup) < next)
        next = tly_catchup_next (self->catchup);
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

bool
tly_actor_accepting (tly_actor_t *self)
{
    assert (self);
    return zlist_size (self->ready) < TLY_ACTOR_READY_MAX;
}

//  ---------------------------------------------------------------- lifecycle

static zsock_t *
s_connect (const char *endpoint, int send_hwm)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_maxmsgsize (sock, TLY_FRAME_HARD_MAX);
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, send_hwm);
    zsock_set_sndtimeo (sock, 0);       //  never block the loop on a missing peer
    if (zsock_connect (sock, "%s", endpoint) == -1) {
        tly_log (TLY_ERROR, "connect_failed", "endpoint=%s error=\"%s\"",
                 endpoint, zmq_strerror (zmq_errno ()));
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
    self->partitions = calloc (config->partition_count, sizeof (s_partition_t));
    self->assigned = calloc (config->partition_count, sizeof (uint64_t));
    self->ready = zlist_new ();
    self->in_batch = zlist_new ();
    self->backlog = zlist_new ();
    self->snapshots = zlist_new ();
    self->router = s_connect (config->router_endpoint, TLY_ACTOR_SEND_HWM);
    self->audit = s_connect (config->audit_endpoint, TLY_ACTOR_SEND_HWM);
    if (self->audit)
        self->catchup = tly_catchup_new (ledger, self->audit, config->partition_count,
                                         config->audit_timeout_ms);
    if (self->router) {
        tly_reader_config_t reader = {
            .bus_endpoint = config->bus_endpoint, .lease_ms = config->lease_ms,
            .partition_count = config->partition_count
        };
        memcpy (reader.worker_sk, config->worker_sk, sizeof reader.worker_sk);
        self->reader = tly_reader_new (&reader, ledger, zsock_resolve (self->router));
        sodium_memzero (reader.worker_sk, sizeof reader.worker_sk);
    }
    if (!self->batch || !self->catchup || !self->reader || !self->partitions || !self->assigned
    ||  !self->ready || !self->in_batch || !self->backlog || !self->snapshots || !self->router
    ||  !self->audit) {
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
