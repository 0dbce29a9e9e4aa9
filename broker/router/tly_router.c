//  tly_router - the inbox router. See tly_router.h and docs/protocol.md.
#include "tly_router.h"
#include "tly_router_actors.h"
#include "tly_arena.h"
#include "tly_router_epoch.h"
#include "tly_router_flights.h"
#include "tly_router_partmap.h"
#include "tly_router_socket.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_wire.h"
#include "tally.pb-c.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Messages handled from one socket before the loop looks at the other one
//  and at its timers again.
#define DRAIN_BURST             1024
#define TLY_ROUTER_ARENA_BLOCK  (64 * 1024)  //  first decode block; grows to the largest frame
//  A routing id printed as hex.
#define IDENTITY_TEXT_MAX       (2 * TLY_ROUTER_IDENTITY_MAX + 1)
//  While the epoch cannot be saved, a repeat of the line at most this often.
#define TLY_ROUTER_EPOCH_LOG_MS 60000

#define UNAVAILABLE_TEXT "no balance actor answered"

struct _tly_router_t {
    tly_router_config_t config;
    int64_t liveness_ms;  //  silence that makes an actor dead
    int64_t hold_ms;      //  how long an envelope may wait for an owner
    zsock_t *frontend;
    zsock_t *backend;
    void *frontend_handle;
    void *backend_handle;
    tly_router_actors_t *actors;
    tly_router_partmap_t *partmap;
    tly_router_flights_t *flights;
    tly_arena_t *arena;            //  decoded input, reset after each frame
    ProtobufCAllocator *decoder;   //  the arena's allocator
    tly_router_actor_t **live;     //  the live actors, during a round
    Tally__PartitionEpoch *owned;  //  one Assignment's list (partition_count)
    Tally__PartitionEpoch **owned_list;
    uint8_t *buffer;  //  packed outgoing message
    size_t buffer_size;
    uint64_t epoch;  //  durable counter: highest epoch handed out
    int lock_fd;     //  holds DIR/router.lock while running
    int64_t now_ms;  //  monotonic, read once per burst or tick
    int64_t next_heartbeat_ms;
    bool round_pending;           //  the live actor set changed
    int64_t round_not_before_ms;  //  retry pacing after a failed epoch save
    bool epoch_failing;           //  the last epoch save failed
    //  The audit writer's figures (segments, snapshots) as the actors pass
    //  them on: the freshest by the writer's clock, whichever actor said it.
    Tally__JournalStatus journal;
    bool journal_known;
    tly_log_limit_t epoch_log;                   //  its repeats, while it keeps failing
    uint8_t rejected [TLY_ROUTER_IDENTITY_MAX];  //  last refused actor, logged once
    size_t rejected_size;
};

//  Packs message and sends it to a peer without blocking.
static int
s_send (tly_router_t *self, void *handle, const uint8_t *identity, size_t identity_size,
        const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    if (size > TLY_FRAME_HARD_MAX) {
        tly_log (TLY_ERROR, "router.send_too_large", "type=%s size=%zu",
                 message->descriptor->short_name, size);
        return -1;
    }
    if (size > self->buffer_size) {
        self->buffer = realloc (self->buffer, size);
        assert (self->buffer);
        self->buffer_size = size;
    }
    size_t packed = protobuf_c_message_pack (message, self->buffer);
    assert (packed == size);
    return tly_router_socket_send (handle, identity, identity_size, self->buffer, size);
}

//  Sends a gateway the answer to a route (reply) or to a snapshot request.
static void
s_reply_gateway (tly_router_t *self, const uint8_t *gateway, size_t gateway_size,
                 Tally__RouteReply *reply, Tally__SnapshotReply *snapshot)
{
    assert ((reply != NULL) != (snapshot != NULL));
    Tally__RouterToGateway message = TALLY__ROUTER_TO_GATEWAY__INIT;
    message.body_case = reply ? TALLY__ROUTER_TO_GATEWAY__BODY_REPLY
                              : TALLY__ROUTER_TO_GATEWAY__BODY_SNAPSHOT;
    if (reply)
        message.reply = reply;
    else
        message.snapshot = snapshot;
    s_send (self, self->frontend_handle, gateway, gateway_size, &message.base);
}

static void
s_reply_error (tly_router_t *self, const uint8_t *gateway, size_t gateway_size,
               tly_flight_kind_t kind, uint64_t gateway_id, Tally__ErrorCode code, const char *text)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = code;
    error.message = (char *) text;
    Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
    reply.route_id = gateway_id;
    reply.error = &error;
    Tally__SnapshotReply snapshot = TALLY__SNAPSHOT_REPLY__INIT;
    snapshot.snapshot_id = gateway_id;
    snapshot.error = &error;
    if (kind == TLY_FLIGHT_ROUTE)
        s_reply_gateway (self, gateway, gateway_size, &reply, NULL);
    else
        s_reply_gateway (self, gateway, gateway_size, NULL, &snapshot);
}

//  Answers the gateway with UNAVAILABLE and forgets the flight.
static void
s_fail (tly_router_t *self, tly_router_flight_t *flight, const char *text)
{
    tly_log (TLY_DEBUG, "flight.unavailable",
             "id=%" PRIu64 " kind=%d partition=%u attempts=%u "
             "reason=\"%s\"",
             flight->id, flight->kind, flight->partition, flight->attempts, text);
    s_reply_error (self, flight->gateway, flight->gateway_size, flight->kind, flight->gateway_id,
                   TALLY__ERROR_CODE__UNAVAILABLE, text);
    tly_router_flights_remove (self->flights, flight);
}

//  The live owner of a partition, or NULL while it has none.
static tly_router_actor_t *
s_owner (tly_router_t *self, uint32_t partition)
{
    uint32_t slot;
    uint64_t incarnation;
    tly_router_partmap_owner (self->partmap, partition, &slot, &incarnation);
    return tly_router_actors_get (self->actors, slot, incarnation);
}

//  A send found an actor's link closed (its I/O thread stopped answering,
//  see TLY_LINK_TTL_MS, or it died): the next tick heartbeats every actor
//  and loses the ones whose link is gone. Not here, where a caller may be
//  walking the flights or the actors.
static void
s_check_links (tly_router_t *self)
{
    self->next_heartbeat_ms = self->now_ms;
}

static void
s_send_attempt (tly_router_t *self, tly_router_flight_t *flight, tly_router_actor_t *owner)
{
    assert (flight->attempts < self->config.attempts);
    if (tly_router_socket_send (self->backend_handle, owner->identity, owner->identity_size,
                                flight->message, flight->message_size)
            == -1
        && errno == EHOSTUNREACH)
        s_check_links (self);
    tly_router_flights_sent (self->flights, flight, owner->incarnation,
                             self->now_ms + self->config.attempt_ms);
}

//  Sends a flight to its partition's owner, or holds it until one appears.
static void
s_dispatch (tly_router_t *self, tly_router_flight_t *flight)
{
    tly_router_actor_t *owner = s_owner (self, flight->partition);
    if (owner)
        s_send_attempt (self, flight, owner);
    else if (tly_router_flights_held (self->flights) < self->config.hold_max)
        tly_router_flights_hold (self->flights, flight, self->now_ms + self->hold_ms);
    else
        s_fail (self, flight, "no balance actor owns the partition and the hold queue is full");
}

//  The current attempt failed (timeout, NOT_OWNER, owner dead): try again
//  while attempts remain.
static void
s_retry (tly_router_t *self, tly_router_flight_t *flight)
{
    if (flight->attempts >= self->config.attempts)
        s_fail (self, flight, UNAVAILABLE_TEXT);
    else
        s_dispatch (self, flight);
}

//  An actor is gone (silent, restarted or renamed): its attempts fail now
//  rather than at their timeouts, and its partitions move in the next round.
//  One that left (handover) applied none of them and never will, so their
//  attempts are given back: a handover costs a request no attempt.
static void
s_actor_lost (tly_router_t *self, tly_router_actor_t *actor, const char *reason, bool handover)
{
    uint64_t incarnation = actor->incarnation;
    tly_log (TLY_INFO, "actor.lost", "name=%s reason=%s", actor->name, reason);
    tly_router_actors_remove (self->actors, actor);
    //  A retried flight goes to the tail with another owner, so the walk
    //  meets it again at most once and skips it.
    tly_router_flight_t *flight = tly_router_flights_first (self->flights, TLY_FLIGHT_SENT);
    while (flight) {
        tly_router_flight_t *next = flight->next;
        if (flight->owner == incarnation) {
            if (handover && flight->attempts > 0)
                flight->attempts--;
            s_retry (self, flight);
        }
        flight = next;
    }
    self->round_pending = true;
}

//  Valid while no round is pending: the map is then exactly the last round's.
static void
s_send_assignment (tly_router_t *self, tly_router_actor_t *actor)
{
    assert (!self->round_pending);
    const uint32_t *partitions;
    uint32_t count = tly_router_partmap_owned (self->partmap, actor->slot, actor->incarnation,
                                               &partitions);
    assert (count <= self->config.partition_count);
    for (uint32_t at = 0; at < count; at++) {
        uint32_t slot;
        uint64_t incarnation;
        tly_router_partmap_owner (self->partmap, partitions [at], &slot, &incarnation);
        assert (incarnation == actor->incarnation);
        Tally__PartitionEpoch *entry = &self->owned [at];
        tally__partition_epoch__init (entry);
        entry->partition = partitions [at];
        entry->epoch = tly_router_partmap_epoch (self->partmap, partitions [at]);
        assert (entry->epoch > 0 && entry->epoch <= self->epoch);
        self->owned_list [at] = entry;
    }
    Tally__Assignment assignment = TALLY__ASSIGNMENT__INIT;
    assignment.partition_count = self->config.partition_count;
    assignment.n_owned = count;
    assignment.owned = self->owned_list;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT;
    message.assignment = &assignment;
    actor->assigned = s_send (self, self->backend_handle, actor->identity, actor->identity_size,
                              &message.base)
                      == 0;
    if (!actor->assigned && errno == EHOSTUNREACH)
        s_check_links (self);
}

//  Reassigns every partition over the live actors. The new epoch is durable
//  before any actor hears of it; if saving fails, the map stays as it was
//  (dead owners simply hold their messages) and the round is retried later.
static void
s_round (tly_router_t *self)
{
    size_t actors = tly_router_actors_size (self->actors);
    for (size_t index = 0; index < actors; index++)
        self->live [index] = tly_router_actors_at (self->actors, index);
    uint32_t moves = tly_router_partmap_plan (self->partmap, self->live, actors);
    if (moves > 0) {
        uint64_t next;
        bool overflow = __builtin_add_overflow (self->epoch, 1, &next);
        assert (!overflow);
        if (tly_router_epoch_save (self->config.data_dir, next) == -1) {
            //  Said once in full; the retries (every heartbeat) only now and then.
            if (!self->epoch_failing)
                tly_log (TLY_ERROR, "epoch.save_failed",
                         "dir=%s epoch=%" PRIu64 " reason=\"%s\" hint=\"no partition moves"
                         " until the new epoch is on disk; free space in the router's"
                         " --data-dir, it is retried every heartbeat\"",
                         self->config.data_dir, next, strerror (errno));
            else
                tly_log_limited (&self->epoch_log, TLY_WARN, "epoch.save_failed",
                                 "dir=%s epoch=%" PRIu64 " reason=\"%s\" still=true",
                                 self->config.data_dir, next, strerror (errno));
            self->epoch_failing = true;
            self->round_not_before_ms = self->now_ms + self->config.heartbeat_ms;
            return;
        }
        if (self->epoch_failing)
            tly_log (TLY_INFO, "epoch.save_recovered", "dir=%s epoch=%" PRIu64,
                     self->config.data_dir, next);
        self->epoch_failing = false;
        self->epoch = next;
    }
    tly_router_partmap_apply (self->partmap, self->epoch);
    self->round_pending = false;
    tly_log (TLY_INFO, "partitions.assigned", "actors=%zu moved=%u epoch=%" PRIu64, actors, moves,
             self->epoch);
    for (size_t index = 0; index < actors; index++)
        s_send_assignment (self, self->live [index]);

    tly_router_flight_t *flight = tly_router_flights_first (self->flights, TLY_FLIGHT_HELD);
    while (flight) {
        tly_router_flight_t *next = flight->next;
        tly_router_actor_t *owner = s_owner (self, flight->partition);
        if (owner)
            s_send_attempt (self, flight, owner);
        flight = next;
    }
}

static void
s_send_status (tly_router_t *self, const uint8_t *gateway, size_t gateway_size, uint64_t status_id)
{
    uint32_t owned = 0;
    for (uint32_t partition = 0; partition < self->config.partition_count; partition++)
        if (s_owner (self, partition))
            owned++;
    Tally__SystemStatus status = TALLY__SYSTEM_STATUS__INIT;
    for (size_t index = 0; index < tly_router_actors_size (self->actors); index++) {
        const tly_router_actor_t *actor = tly_router_actors_at (self->actors, index);
        status.journal_full |= actor->journal_full;
        status.actors_state_full += actor->state_full;
    }
    status.ready = owned == self->config.partition_count;
    status.partition_count = self->config.partition_count;
    status.partitions_owned = owned;
    status.actors = (uint32_t) tly_router_actors_size (self->actors);
    status.epoch = self->epoch;
    if (self->journal_known)
        status.journal = &self->journal;
    Tally__StatusReply reply = TALLY__STATUS_REPLY__INIT;
    reply.status_id = status_id;
    reply.status = &status;
    Tally__RouterToGateway message = TALLY__ROUTER_TO_GATEWAY__INIT;
    message.body_case = TALLY__ROUTER_TO_GATEWAY__BODY_STATUS;
    message.status = &reply;
    s_send (self, self->frontend_handle, gateway, gateway_size, &message.base);
}

//  Admits a request for a partition's owner. The flight keeps message packed
//  once, with the router's id written over the gateway's (*id), for every
//  attempt. refusal, when set, is why the request is malformed.
static void
s_admit (tly_router_t *self, const uint8_t *gateway, size_t gateway_size, tly_flight_kind_t kind,
         uint32_t partition, uint64_t *id, Tally__RouterToActor *message, const char *refusal)
{
    Tally__ErrorCode code = TALLY__ERROR_CODE__BAD_REQUEST;
    uint64_t gateway_id = *id;
    //  Sized with the longest id; the real one packs no larger.
    *id = UINT64_MAX;
    size_t message_max = tally__router_to_actor__get_packed_size (message);
    if (!refusal && partition >= self->config.partition_count)
        refusal = "partition out of range";
    if (!refusal && message_max > TLY_FRAME_HARD_MAX) {
        refusal = "request too large to forward";
        code = TALLY__ERROR_CODE__FRAME_TOO_LARGE;
    }
    if (!refusal && tly_router_flights_size (self->flights) >= self->config.inflight_max) {
        refusal = "router has too many requests in flight";
        code = TALLY__ERROR_CODE__UNAVAILABLE;
    }
    tly_router_flight_t *flight = NULL;
    if (!refusal) {
        flight = tly_router_flights_add (self->flights, kind, gateway, gateway_size, gateway_id,
                                         partition, message_max);
        if (!flight) {
            refusal = "router out of memory";
            code = TALLY__ERROR_CODE__UNAVAILABLE;
        }
    }
    if (refusal) {
        tly_log (TLY_DEBUG, "flight.refused", "kind=%d partition=%u reason=\"%s\"", kind, partition,
                 refusal);
        s_reply_error (self, gateway, gateway_size, kind, gateway_id, code, refusal);
        return;
    }
    *id = flight->id;
    flight->message_size = tally__router_to_actor__pack (message, flight->message);
    assert (flight->message_size <= message_max);
    s_dispatch (self, flight);
}

static void
s_handle_gateway (tly_router_t *self, const uint8_t *gateway, size_t gateway_size,
                  const uint8_t *data, size_t size)
{
    Tally__GatewayToRouter *request = tally__gateway_to_router__unpack (self->decoder, size, data);
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    if (!request || request->body_case == TALLY__GATEWAY_TO_ROUTER__BODY__NOT_SET)
        tly_log (TLY_WARN, "gateway.bad_frame", "size=%zu", size);
    else if (request->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID)
        s_send_status (self, gateway, gateway_size, request->status_id);
    else if (request->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_ROUTE) {
        Tally__Route *route = request->route;
        message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ROUTE;
        message.route = route;
        s_admit (self, gateway, gateway_size, TLY_FLIGHT_ROUTE, route->partition, &route->route_id,
                 &message, route->envelope ? NULL : "route carries no envelope");
    } else {
        assert (request->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_SNAPSHOT);
        Tally__SnapshotRequest *snapshot = request->snapshot;
        message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT;
        message.snapshot = snapshot;
        s_admit (self, gateway, gateway_size, TLY_FLIGHT_SNAPSHOT, snapshot->partition,
                 &snapshot->snapshot_id, &message, NULL);
    }
}

static void
s_hello (tly_router_t *self, const uint8_t *identity, size_t identity_size,
         tly_router_actor_t *actor, const Tally__ActorHello *hello)
{
    const char *name = hello->name;
    if (hello->partition_count != self->config.partition_count
        || !tly_router_actor_name_valid (name)) {
        bool logged = self->rejected_size == identity_size
                      && memcmp (self->rejected, identity, identity_size) == 0;
        if (!logged) {
            char peer [IDENTITY_TEXT_MAX];
            sodium_bin2hex (peer, sizeof peer, identity, identity_size);
            bool valid = tly_router_actor_name_valid (name);
            tly_log (TLY_ERROR, "actor.rejected",
                     "peer=%s name=%s partition_count=%u "
                     "expected_partition_count=%u",
                     peer, valid ? name : "(invalid)", hello->partition_count,
                     self->config.partition_count);
        }
        memcpy (self->rejected, identity, identity_size);
        self->rejected_size = identity_size;
        return;
    }
    //  A plain copy of the scalar fields: nothing may point into the hello.
    if (hello->journal
        && (!self->journal_known || hello->journal->reported_ms >= self->journal.reported_ms)) {
        self->journal = *hello->journal;
        self->journal.base.n_unknown_fields = 0;
        self->journal.base.unknown_fields = NULL;
        self->journal_known = true;
    }
    if (actor && strcmp (actor->name, name) == 0) {
        actor->last_seen_ms = self->now_ms;
        actor->journal_full = hello->journal_full;
        actor->state_full = hello->state_full;
        //  The last Assignment could not be queued (peer busy): try again.
        if (!actor->assigned && !self->round_pending)
            s_send_assignment (self, actor);
        return;
    }
    if (actor)
        s_actor_lost (self, actor, "renamed", false);
    tly_router_actor_t *previous = tly_router_actors_find_name (self->actors, name);
    if (previous)
        s_actor_lost (self, previous, "restarted", false);
    actor = tly_router_actors_add (self->actors, identity, identity_size, name, self->now_ms);
    if (!actor) {
        tly_log (TLY_ERROR, "actor.table_full", "name=%s max=%d", name, TLY_ROUTER_ACTORS_MAX);
        return;
    }
    char peer [IDENTITY_TEXT_MAX];
    sodium_bin2hex (peer, sizeof peer, identity, identity_size);
    tly_log (TLY_INFO, "actor.registered", "name=%s peer=%s", name, peer);
    self->round_pending = true;
}

//  Tells an actor that it owns nothing here: the answer to its leave.
static void
s_send_leave_ack (tly_router_t *self, const uint8_t *identity, size_t identity_size)
{
    Tally__Assignment assignment = TALLY__ASSIGNMENT__INIT;
    assignment.partition_count = self->config.partition_count;
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT;
    message.assignment = &assignment;
    s_send (self, self->backend_handle, identity, identity_size, &message.base);
}

//  An actor stops and hands its partitions over: it finished its batch and
//  journals nothing more, so they move now rather than after the liveness
//  deadline, with a new epoch as in any round, and its requests go to the
//  new owners. Its later answers come from an unknown peer and are dropped
//  (they can only be NOT_OWNER). A leave from a connection that is not a
//  registered actor of that name moves nothing; it is acknowledged all the
//  same, so that a process the router does not know need not wait.
static void
s_leave (tly_router_t *self, const uint8_t *identity, size_t identity_size,
         tly_router_actor_t *actor, const Tally__ActorLeave *leave)
{
    if (actor && strcmp (actor->name, leave->name) == 0) {
        //  The round runs at this turn's tick: one for all the leaves drained.
        s_actor_lost (self, actor, "left", true);
    } else {
        char peer [IDENTITY_TEXT_MAX];
        sodium_bin2hex (peer, sizeof peer, identity, identity_size);
        tly_log (TLY_INFO, "actor.leave_unknown", "peer=%s name=%s", peer,
                 tly_router_actor_name_valid (leave->name) ? leave->name : "(invalid)");
        if (actor)
            return;  //  a registered actor naming another: not a leave of its own
    }
    s_send_leave_ack (self, identity, identity_size);
}

//  The flight an actor's answer completes, or NULL: a late or duplicate
//  answer is dropped, and NOT_OWNER from the actor holding the current
//  attempt sends the flight on to its next attempt.
static tly_router_flight_t *
s_answered (tly_router_t *self, tly_router_actor_t *actor, tly_flight_kind_t kind, uint64_t id,
            const Tally__Error *error)
{
    tly_router_flight_t *flight = tly_router_flights_find (self->flights, id);
    if (!flight || flight->kind != kind) {
        tly_log (TLY_DEBUG, "flight.late_answer", "id=%" PRIu64 " kind=%d", id, kind);
        return NULL;
    }
    if (error && error->code == TALLY__ERROR_CODE__NOT_OWNER) {
        if (actor && flight->state == TLY_FLIGHT_SENT && flight->owner == actor->incarnation)
            s_retry (self, flight);
        return NULL;
    }
    return flight;
}

static void
s_handle_actor (tly_router_t *self, const uint8_t *identity, size_t identity_size,
                const uint8_t *data, size_t size)
{
    Tally__ActorToRouter *message = tally__actor_to_router__unpack (self->decoder, size, data);
    if (!message) {
        tly_log (TLY_WARN, "actor.bad_frame", "size=%zu", size);
        return;
    }
    tly_router_actor_t *actor = tly_router_actors_find (self->actors, identity, identity_size);
    if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_HELLO) {
        s_hello (self, identity, identity_size, actor, message->hello);
        return;
    }
    if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_LEAVE) {
        s_leave (self, identity, identity_size, actor, message->leave);
        return;
    }
    if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY__NOT_SET) {
        tly_log (TLY_WARN, "actor.bad_frame", "size=%zu reason=\"no body\"", size);
        return;
    }
    if (actor)
        actor->last_seen_ms = self->now_ms;
    Tally__RouteReply *reply = NULL;
    Tally__SnapshotReply *snapshot = NULL;
    tly_router_flight_t *flight;
    if (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_REPLY) {
        reply = message->reply;
        flight = s_answered (self, actor, TLY_FLIGHT_ROUTE, reply->route_id, reply->error);
        if (flight)
            reply->route_id = flight->gateway_id;
    } else {
        assert (message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_SNAPSHOT);
        snapshot = message->snapshot;
        flight = s_answered (self, actor, TLY_FLIGHT_SNAPSHOT, snapshot->snapshot_id,
                             snapshot->error);
        if (flight)
            snapshot->snapshot_id = flight->gateway_id;
    }
    if (flight) {
        s_reply_gateway (self, flight->gateway, flight->gateway_size, reply, snapshot);
        tly_router_flights_remove (self->flights, flight);
    }
}

static void
s_drain (tly_router_t *self, void *handle,
         void (*handle_message) (tly_router_t *, const uint8_t *, size_t, const uint8_t *, size_t))
{
    self->now_ms = tly_mono_ms ();
    zmq_msg_t identity, data;
    zmq_msg_init (&identity);
    zmq_msg_init (&data);
    for (int count = 0; count < DRAIN_BURST; count++) {
        tly_router_recv_t received = tly_router_socket_recv (handle, &identity, &data);
        if (received == TLY_ROUTER_RECV_NONE)
            break;
        if (received == TLY_ROUTER_RECV_MESSAGE)
            handle_message (self, zmq_msg_data (&identity), zmq_msg_size (&identity),
                            zmq_msg_data (&data), zmq_msg_size (&data));
        tly_arena_reset (self->arena);
    }
    zmq_msg_close (&identity);
    zmq_msg_close (&data);
}

void
tly_router_drain_frontend (tly_router_t *self)
{
    assert (self);
    s_drain (self, self->frontend_handle, s_handle_gateway);
}

void
tly_router_drain_backend (tly_router_t *self)
{
    assert (self);
    s_drain (self, self->backend_handle, s_handle_actor);
}

static void
s_heartbeat (tly_router_t *self)
{
    Tally__Heartbeat heartbeat = TALLY__HEARTBEAT__INIT;
    heartbeat.sent_ms = tly_now_ms ();
    Tally__RouterToActor message = TALLY__ROUTER_TO_ACTOR__INIT;
    message.body_case = TALLY__ROUTER_TO_ACTOR__BODY_HEARTBEAT;
    message.heartbeat = &heartbeat;
    //  Backwards: removing an actor moves the last one into its place.
    for (size_t index = tly_router_actors_size (self->actors); index-- > 0;) {
        tly_router_actor_t *actor = tly_router_actors_at (self->actors, index);
        if (self->now_ms - actor->last_seen_ms >= self->liveness_ms)
            s_actor_lost (self, actor, "silent", false);
        else if (s_send (self, self->backend_handle, actor->identity, actor->identity_size,
                         &message.base)
                     == -1
                 && errno == EHOSTUNREACH)
            s_actor_lost (self, actor, "disconnected", false);
    }
}

void
tly_router_tick (tly_router_t *self)
{
    assert (self);
    self->now_ms = tly_mono_ms ();
    if (self->now_ms >= self->next_heartbeat_ms) {
        self->next_heartbeat_ms = self->now_ms + self->config.heartbeat_ms;
        s_heartbeat (self);
    }
    if (self->round_pending && self->now_ms >= self->round_not_before_ms)
        s_round (self);
    //  Each retry lands at the tail with a later deadline, so these loops end.
    tly_router_flight_t *flight;
    while ((flight = tly_router_flights_first (self->flights, TLY_FLIGHT_SENT))
           && flight->deadline_ms <= self->now_ms) {
        tly_log (TLY_DEBUG, "flight.attempt_timeout", "id=%" PRIu64 " attempts=%u", flight->id,
                 flight->attempts);
        s_retry (self, flight);
    }
    while ((flight = tly_router_flights_first (self->flights, TLY_FLIGHT_HELD))
           && flight->deadline_ms <= self->now_ms)
        s_fail (self, flight, UNAVAILABLE_TEXT);
}

int64_t
tly_router_next_deadline (tly_router_t *self)
{
    assert (self);
    int64_t deadline = self->next_heartbeat_ms;
    if (self->round_pending && self->round_not_before_ms < deadline)
        deadline = self->round_not_before_ms;
    tly_router_flight_t *sent = tly_router_flights_first (self->flights, TLY_FLIGHT_SENT);
    if (sent && sent->deadline_ms < deadline)
        deadline = sent->deadline_ms;
    tly_router_flight_t *held = tly_router_flights_first (self->flights, TLY_FLIGHT_HELD);
    if (held && held->deadline_ms < deadline)
        deadline = held->deadline_ms;
    return deadline;
}

uint64_t
tly_router_epoch (tly_router_t *self)
{
    assert (self);
    return self->epoch;
}

void *
tly_router_frontend (tly_router_t *self)
{
    assert (self);
    return self->frontend_handle;
}

void *
tly_router_backend (tly_router_t *self)
{
    assert (self);
    return self->backend_handle;
}

tly_router_t *
tly_router_new (const tly_router_config_t *config, char *error, size_t error_size)
{
    assert (config && error);
    assert (config->data_dir && config->frontend && config->backend);
    assert (config->partition_count >= 1 && config->partition_count <= TLY_PARTITIONS_MAX);
    assert (config->heartbeat_ms > 0 && config->liveness > 0 && config->attempt_ms > 0);
    assert (config->attempts >= 1 && config->inflight_max >= 1);
    tly_router_t *self = calloc (1, sizeof (*self));
    if (self)
        self->epoch_log = (tly_log_limit_t) TLY_LOG_LIMIT (1, TLY_ROUTER_EPOCH_LOG_MS);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->lock_fd = -1;
    bool overflow = __builtin_mul_overflow (config->heartbeat_ms, config->liveness,
                                            &self->liveness_ms)
                    || __builtin_mul_overflow (config->attempt_ms, (int64_t) config->attempts,
                                               &self->hold_ms);
    assert (!overflow);
    if (mkdir (config->data_dir, 0700) == -1 && errno != EEXIST) {
        snprintf (error, error_size, "cannot create data directory %s: %s", config->data_dir,
                  strerror (errno));
        tly_router_destroy (&self);
        return NULL;
    }
    self->lock_fd = tly_router_epoch_lock (config->data_dir, error, error_size);
    if (self->lock_fd == -1
        || tly_router_epoch_load (config->data_dir, &self->epoch, error, error_size) == -1) {
        tly_router_destroy (&self);
        return NULL;
    }
    //  Rewriting the value we read proves now, not at the first round, that
    //  the directory takes durable writes.
    if (tly_router_epoch_save (config->data_dir, self->epoch) == -1) {
        snprintf (error, error_size, "cannot write %s/%s: %s", config->data_dir,
                  TLY_ROUTER_EPOCH_FILE, strerror (errno));
        tly_router_destroy (&self);
        return NULL;
    }
    self->actors = tly_router_actors_new ();
    self->partmap = tly_router_partmap_new (config->partition_count);
    self->flights = tly_router_flights_new ();
    self->arena = tly_arena_new (TLY_ROUTER_ARENA_BLOCK);
    self->live = calloc (TLY_ROUTER_ACTORS_MAX, sizeof (self->live [0]));
    self->owned = calloc (config->partition_count, sizeof (self->owned [0]));
    self->owned_list = calloc (config->partition_count, sizeof (self->owned_list [0]));
    if (!self->actors || !self->partmap || !self->flights || !self->arena || !self->live
        || !self->owned || !self->owned_list) {
        snprintf (error, error_size, "out of memory");
        tly_router_destroy (&self);
        return NULL;
    }
    self->decoder = tly_arena_allocator (self->arena);
    self->frontend = tly_router_socket_bind (config->frontend, false, config->curve,
                                             TLY_CURVE_GATEWAYS, error, error_size);
    self->backend = self->frontend ? tly_router_socket_bind (config->backend, true, config->curve,
                                                             TLY_CURVE_ACTORS, error, error_size)
                                   : NULL;
    if (!self->backend) {
        tly_router_destroy (&self);
        return NULL;
    }
    self->frontend_handle = zsock_resolve (self->frontend);
    self->backend_handle = zsock_resolve (self->backend);
    self->now_ms = tly_mono_ms ();
    self->next_heartbeat_ms = self->now_ms;
    return self;
}

void
tly_router_destroy (tly_router_t **self_p)
{
    assert (self_p);
    tly_router_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->frontend);
    zsock_destroy (&self->backend);
    tly_router_flights_destroy (&self->flights);
    tly_arena_destroy (&self->arena);
    tly_router_partmap_destroy (&self->partmap);
    tly_router_actors_destroy (&self->actors);
    free (self->live);
    free (self->owned);
    free (self->owned_list);
    free (self->buffer);
    if (self->lock_fd != -1)
        close (self->lock_fd);
    free (self);
    *self_p = NULL;
}
