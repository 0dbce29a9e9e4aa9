//  tly_reader - a balance actor's read path: snapshots and live updates.
#include "tly_reader.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "tly_arena.h"
#include "tly_log.h"
#include "tly_objects.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define S_ARENA_BLOCK (64 * 1024)

struct _tly_reader_t {
    tly_ledger_t *ledger;  //  not owned
    void *router;          //  not owned
    uint32_t partition_count;
    tly_bus_t *bus;
    tly_objects_t *objects;
    tly_arena_t *arena;  //  one snapshot's or one draft's objects
    zlist_t **held;      //  per partition: requests waiting for its catch-up
    size_t held_count;
    uint8_t worker [TLY_KEY_BYTES];  //  reads every object: the announcements' reader
    bool *serving;                   //  per partition: serving (tly_reader_partition)
};

tly_reader_t *
tly_reader_new (const tly_reader_config_t *config, tly_ledger_t *ledger, void *router)
{
    assert (config && ledger && router);
    assert (config->bus_endpoint && config->lease_ms > 0);
    assert (config->partition_count > 0 && config->partition_count <= TLY_PARTITIONS_MAX);
    tly_reader_t *self = calloc (1, sizeof (tly_reader_t));
    if (!self)
        return NULL;
    self->ledger = ledger;
    self->router = router;
    self->partition_count = config->partition_count;
    memcpy (self->worker, config->worker_sk + TLY_KEY_BYTES, TLY_KEY_BYTES);
    self->bus = tly_bus_new (config->bus_endpoint, config->curve, config->worker_sk,
                             config->lease_ms);
    self->objects = tly_objects_new (ledger, config->worker_sk + TLY_KEY_BYTES);
    self->arena = tly_arena_new (S_ARENA_BLOCK);
    self->held = calloc (config->partition_count, sizeof (zlist_t *));
    self->serving = calloc (config->partition_count, sizeof (bool));
    if (!self->bus || !self->objects || !self->arena || !self->held || !self->serving)
        tly_reader_destroy (&self);
    return self;
}

void
tly_reader_destroy (tly_reader_t **self_p)
{
    assert (self_p);
    tly_reader_t *self = *self_p;
    if (!self)
        return;
    //  Held requests go unanswered: the router retries them elsewhere.
    for (uint32_t partition = 0; self->held && partition < self->partition_count; partition++) {
        Tally__RouterToActor *message;
        while (self->held [partition] && (message = zlist_pop (self->held [partition])))
            tally__router_to_actor__free_unpacked (message, NULL);
        zlist_destroy (&self->held [partition]);
    }
    free (self->held);
    free (self->serving);
    tly_bus_destroy (&self->bus);
    tly_objects_destroy (&self->objects);
    tly_arena_destroy (&self->arena);
    free (self);
    *self_p = NULL;
}

void *
tly_reader_bus_socket (tly_reader_t *self)
{
    assert (self);
    return tly_bus_socket (self->bus);
}

void
tly_reader_on_bus (tly_reader_t *self)
{
    assert (self);
    tly_bus_on_socket (self->bus);
}

//  Defined with the announcements below.
static void s_settle_one (const uint8_t topic [TLY_BUS_TOPIC_BYTES], uint32_t partition, void *arg);

void
tly_reader_tick (tly_reader_t *self)
{
    assert (self);
    tly_bus_tick (self->bus);
    if (tly_ledger_read_begin (self->ledger) == -1)
        return;  //  settles at the next tick
    tly_bus_each_settled (self->bus, s_settle_one, self);
    tly_ledger_read_end (self->ledger);
}

//  ---------------------------------------------------------------- snapshots

//  reason is the error's message, or NULL for the code's default one.
static void
s_answer (tly_reader_t *self, Tally__RouterToActor *message, Tally__ErrorCode code,
          const char *reason, uint64_t version)
{
    Tally__Error error = TALLY__ERROR__INIT;
    Tally__SnapshotReply reply = TALLY__SNAPSHOT_REPLY__INIT;
    reply.snapshot_id = message->snapshot->snapshot_id;
    if (code != TALLY__ERROR_CODE__OK) {
        error.code = code;
        error.message = (char *) (reason ? reason : tly_error_default_message (code));
        reply.error = &error;
    } else
        reply.version = version;
    Tally__ActorToRouter answer = TALLY__ACTOR_TO_ROUTER__INIT;
    answer.body_case = TALLY__ACTOR_TO_ROUTER__BODY_SNAPSHOT;
    answer.snapshot = &reply;
    if (tly_wire_send (self->router, NULL, &answer.base) == -1)
        tly_log (TLY_WARN, "send_failed", "link=router error=\"%s\"", zmq_strerror (zmq_errno ()));
    tally__router_to_actor__free_unpacked (message, NULL);
}

//  Builds the object from the committed state (a batch may be awaiting its
//  journal ack), publishes it, then answers.
static void
s_serve (tly_reader_t *self, Tally__RouterToActor *message)
{
    const Tally__SnapshotRequest *request = message->snapshot;
    if (request->reader.len != TLY_KEY_BYTES || request->requester.len > TLY_BUS_REQUESTER_MAX) {
        s_answer (self, message, TALLY__ERROR_CODE__BAD_REQUEST, NULL, 0);
        return;
    }
    tly_arena_reset (self->arena);
    Tally__ObjectState *state = NULL;
    Tally__ErrorCode code = TALLY__ERROR_CODE__INTERNAL;
    const char *reason = NULL;
    if (tly_ledger_read_begin (self->ledger) == 0) {
        code = tly_objects_snapshot (self->objects, request->object_id, request->partition,
                                     request->reader.data, self->arena, &state, &reason);
        tly_ledger_read_end (self->ledger);
    }
    uint64_t version = 0;
    if (code == TALLY__ERROR_CODE__OK) {
        uint8_t topic [TLY_BUS_TOPIC_BYTES];
        int rc = tly_object_key_parse (state->object_id, topic);
        assert (rc == 0);
        version = state->version;
        if (tly_bus_publish (self->bus, topic, state, &request->requester) == -1)
            code = TALLY__ERROR_CODE__UNAVAILABLE;
    }
    tly_log (TLY_DEBUG, "snapshot",
             "snapshot_id=%" PRIu64 " partition=%" PRIu32 " object_id=%s code=%s version=%" PRIu64,
             request->snapshot_id, request->partition, request->object_id, tly_error_name (code),
             version);
    s_answer (self, message, code, reason, version);
}

void
tly_reader_request (tly_reader_t *self, Tally__RouterToActor *message, tly_reader_state_t state)
{
    assert (self && message);
    assert (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT && message->snapshot);
    uint32_t partition = message->snapshot->partition;
    if (partition >= self->partition_count) {
        s_answer (self, message, TALLY__ERROR_CODE__BAD_REQUEST, NULL, 0);
        return;
    }
    if (state == TLY_READER_SERVING)
        s_serve (self, message);
    else if (state == TLY_READER_LOADING && self->held_count < TLY_READER_HELD_MAX) {
        if (!self->held [partition])
            self->held [partition] = zlist_new ();
        zlist_append (self->held [partition], message);
        self->held_count++;
    } else
        s_answer (self, message, TALLY__ERROR_CODE__NOT_OWNER, NULL, 0);
}

typedef struct {
    tly_reader_t *self;
    uint32_t partition;
    size_t published;
} s_announce_t;

//  Publishes a watched object's current state, as the worker reads it, in
//  a read transaction the caller holds (one that does not exist is left
//  out). Returns true when it was published.
static bool
s_publish_current (tly_reader_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
                   uint32_t partition)
{
    char object_id [TLY_ID_MAX];
    tly_object_id_of_key (topic, object_id);
    tly_arena_reset (self->arena);
    Tally__ObjectState *state = NULL;
    const char *reason = NULL;
    Tally__ErrorCode code = tly_objects_snapshot (self->objects, object_id, partition, self->worker,
                                                  self->arena, &state, &reason);
    if (code == TALLY__ERROR_CODE__OK)
        return tly_bus_publish_current (self->bus, topic, state) == 0;
    if (code != TALLY__ERROR_CODE__NOT_FOUND)
        tly_log (TLY_WARN, "announce.failed", "object_id=%s code=%s", object_id,
                 tly_error_name (code));
    return false;
}

//  One watched object of a partition starting to serve.
static void
s_announce_one (const uint8_t topic [TLY_BUS_TOPIC_BYTES], void *arg)
{
    s_announce_t *announce = arg;
    if (s_publish_current (announce->self, topic, announce->partition))
        announce->published++;
}

//  A watched object quiet since its last update (tly_bus.h): its current
//  state once more, if this actor still serves its partition (if not, its
//  new owner announced it when it started serving).
static void
s_settle_one (const uint8_t topic [TLY_BUS_TOPIC_BYTES], uint32_t partition, void *arg)
{
    tly_reader_t *self = arg;
    if (partition < self->partition_count && self->serving [partition])
        s_publish_current (self, topic, partition);
}

//  The partition starts serving: the current state of each of its watched
//  objects goes on the bus (tly_bus.h). An update journaled but never
//  published (its previous owner died before publishing it, or this actor
//  gave up on the append that journaled it and reloaded) is lost, and when
//  the object then stays quiet no later version shows the gap to a
//  gateway; this shows it.
static void
s_announce (tly_reader_t *self, uint32_t partition)
{
    if (tly_bus_idle (self->bus) || tly_ledger_read_begin (self->ledger) == -1)
        return;
    s_announce_t announce = { .self = self, .partition = partition };
    tly_bus_each_watched (self->bus, partition, s_announce_one, &announce);
    tly_ledger_read_end (self->ledger);
    if (announce.published > 0)
        tly_log (TLY_INFO, "partition.announced", "partition=%" PRIu32 " objects=%zu", partition,
                 announce.published);
}

void
tly_reader_partition (tly_reader_t *self, uint32_t partition, tly_reader_state_t state)
{
    assert (self);
    assert (partition < self->partition_count);
    self->serving [partition] = state == TLY_READER_SERVING;
    //  First, so that an object only a held snapshot leases is not
    //  published twice in the same state.
    if (state == TLY_READER_SERVING)
        s_announce (self, partition);
    zlist_t *held = self->held [partition];
    if (held && state != TLY_READER_LOADING) {
        Tally__RouterToActor *message;
        while ((message = zlist_pop (held))) {
            assert (self->held_count > 0);
            self->held_count--;
            if (state == TLY_READER_SERVING)
                s_serve (self, message);
            else
                s_answer (self, message, TALLY__ERROR_CODE__NOT_OWNER, NULL, 0);
        }
        zlist_destroy (&self->held [partition]);
    }
}

//  ---------------------------------------------------------------- updates

//  The user whose objects an event changes: its request's sender, or the
//  user a credit or debit adjusted.
static const uint8_t *
s_user (const Tally__Event *event)
{
    const ProtobufCBinaryData *user = event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED
                                          ? &event->account_created->user
                                      : event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED
                                          ? &event->balance_adjusted->user
                                      : event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED
                                          ? &event->order_changed->user
                                          : &event->purchase_recorded->user;
    assert (user->len == TLY_KEY_BYTES);
    return user->data;
}

//  A refund's purchase, watched: its second version, as the state has it.
static void
s_publish_refunded (tly_reader_t *self, const Tally__Event *event, uint32_t partition)
{
    if (event->kind_case != TALLY__EVENT__KIND_BALANCE_ADJUSTED
        || !event->balance_adjusted->refund_of || !*event->balance_adjusted->refund_of)
        return;
    const char *id = event->balance_adjusted->refund_of;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (tly_object_key_parse (id, key) == -1 || !tly_bus_watched (self->bus, key))
        return;
    Tally__ObjectState *state = NULL;
    const char *reason = NULL;
    if (tly_objects_snapshot (self->objects, id, partition, self->worker, self->arena, &state,
                              &reason)
        == TALLY__ERROR_CODE__OK)
        tly_bus_publish (self->bus, key, state, NULL);
}

//  An order's change, watched: the Order, and the partition's OrderQueue
//  when the order entered or left it, each at its next version.
static void
s_publish_order (tly_reader_t *self, const Tally__Event *event, uint32_t partition,
                 const tly_ledger_versions_t *versions)
{
    if (event->kind_case != TALLY__EVENT__KIND_ORDER_CHANGED)
        return;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (tly_object_key_parse (event->order_changed->order->id, key) == 0
        && tly_bus_watched (self->bus, key))
        tly_bus_publish (self->bus, key,
                         tly_objects_order (self->objects, event->order_changed, self->arena),
                         NULL);
    Tally__ObjectState *queue = tly_objects_queue (self->objects, partition, versions, self->arena);
    if (queue && tly_object_key_parse (queue->object_id, key) == 0
        && tly_bus_watched (self->bus, key))
        tly_bus_publish (self->bus, key, queue, NULL);
}

void
tly_reader_publish (tly_reader_t *self, tly_batch_t *batch)
{
    assert (self && batch);
    if (tly_bus_idle (self->bus))
        return;  //  nobody watches: nothing to sign
    const uint8_t *catalog = tly_objects_catalog_key (self->objects);
    bool catalog_watched = tly_bus_watched (self->bus, catalog);
    for (size_t i = 0; i < tly_batch_drafts (batch); i++) {
        const Tally__RecordDraft *draft = tly_batch_draft (batch, i);
        if (tly_batch_committed (batch, i) && draft->config && catalog_watched) {
            //  Each version of the catalog, as each record left it.
            tly_arena_reset (self->arena);
            tly_bus_publish (self->bus, catalog,
                             tly_objects_catalog (self->objects, draft->config->version,
                                                  draft->config->items, draft->config->n_items,
                                                  self->arena),
                             NULL);
        }
        if (!tly_batch_committed (batch, i) || draft->n_events == 0)
            continue;
        const tly_ledger_versions_t *versions = tly_batch_versions (batch, i);
        tly_arena_reset (self->arena);
        //  One user for every event but the worker's credits and debits,
        //  which may adjust several: the refs follow the event's user.
        const uint8_t *user = NULL;
        tly_object_ref_t refs [TLY_OBJECTS_REFS];
        bool watched [TLY_OBJECTS_REFS], any = false;
        for (size_t e = 0; e < draft->n_events; e++) {
            const Tally__Event *event = draft->events [e];
            s_publish_refunded (self, event, draft->partition);
            s_publish_order (self, event, draft->partition, &versions [e]);
            if (!user || memcmp (s_user (event), user, TLY_KEY_BYTES) != 0) {
                user = s_user (event);
                tly_objects_refs (user, draft->partition, refs);
                any = false;
                for (size_t r = 0; r < TLY_OBJECTS_REFS; r++)
                    any |= watched [r] = tly_bus_watched (self->bus, refs [r].key);
            }
            if (!any)
                continue;
            for (size_t r = 0; r < TLY_OBJECTS_REFS; r++) {
                if (!watched [r] || !tly_objects_changes (event, &refs [r]))
                    continue;
                Tally__ObjectState *state = tly_objects_update (self->objects, &refs [r], event,
                                                                &versions [e], self->arena);
                tly_bus_publish (self->bus, refs [r].key, state, NULL);
            }
        }
    }
}
