//  tly_gateway_stream_clone - the clone pattern at the gateway
//  (docs/protocol.md "Clone pattern at the gateway"): snapshot requests and
//  the router's replies, the bus (updates, and snapshots for this gateway's
//  requester), and catching a subscriber up after its snapshot.
//
//  A snapshot travels on the bus, behind every update the actor published
//  before it, so once a subscriber has its snapshot no later version can be
//  missing: each later one comes behind it on the same path. The router's
//  SnapshotReply only says that (and which version) was published; the
//  snapshot is delivered when it arrives on the bus, whichever comes first.
#include "tly_gateway_stream_private.h"

#include <assert.h>
#include <inttypes.h>
#include "tly_log.h"
#include "tly_validate.h"
#include "tly_wire.h"

//  Bus messages handled per loop turn (as for the other sockets).
#define BURST_MAX 1024

//  --------------------------------------------------------------------------
//  Asking for snapshots

int
tly_gateway_stream_request (tly_gateway_stream_t *self, tly_gateway_sub_t *sub)
{
    assert (self && sub);
    assert (sub->state == TLY_SUB_PENDING);
    uint8_t requester [TLY_GATEWAY_REQUESTER_BYTES];
    tly_gateway_bus_requester (self->instance, sub->snapshot_id, requester);
    Tally__SnapshotRequest request = TALLY__SNAPSHOT_REQUEST__INIT;
    request.snapshot_id = sub->snapshot_id;
    request.partition = sub->of.topic->partition;
    request.object_id = sub->of.topic->object_id;
    request.reader.len = TLY_KEY_BYTES;
    request.reader.data = sub->reader;
    request.requester.len = sizeof (requester);
    request.requester.data = requester;
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_SNAPSHOT;
    message.snapshot = &request;
    zframe_t *frame = tly_wire_pack (&message.base);
    if (zframe_send (&frame, self->router, ZFRAME_DONTWAIT) == -1) {
        zframe_destroy (&frame);
        return -1;
    }
    return 0;
}

void
tly_gateway_stream_resync (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, bool slow)
{
    assert (self && sub);
    int64_t now_ms = tly_mono_ms ();
    if (tly_gateway_subs_pending_size (self->subs) >= self->config.max_snapshots) {
        tly_gateway_subs_stale (self->subs, sub, slow, now_ms + TLY_GATEWAY_RETRY_MS);
        return;
    }
    tly_gateway_subs_pend (self->subs, sub, slow, tly_gateway_stream_deadline (self, now_ms));
    if (tly_gateway_stream_request (self, sub) == -1)
        tly_gateway_subs_stale (self->subs, sub, slow, now_ms + TLY_GATEWAY_RETRY_MS);
    else
        tly_log (TLY_DEBUG, "subscription.resync", "object_id=%s request_id=%" PRIu64 " slow=%d",
                 sub->of.topic->object_id, sub->request_id, (int) slow);
}

void
tly_gateway_stream_ask_again (tly_gateway_stream_t *self, int64_t now_ms)
{
    assert (self);
    tly_gateway_sub_t *sub;
    while ((sub = tly_gateway_subs_unseen (self->subs, now_ms))) {
        tly_log (TLY_INFO, "snapshot.unseen",
                 "object_id=%s request_id=%" PRIu64 " version=%" PRIu64 " attempt=%" PRIu32,
                 sub->of.topic->object_id, sub->request_id, sub->announced, sub->attempts);
        if (sub->attempts >= TLY_GATEWAY_SNAPSHOT_ATTEMPTS) {
            tly_gateway_stream_end (self, sub, TALLY__ERROR_CODE__TIMEOUT, self->unseen_reason);
            continue;
        }
        tly_gateway_subs_retry (self->subs, sub);
        if (tly_gateway_stream_request (self, sub) == 0)
            continue;
        //  A resync waits for its client's next retry, as when it was first
        //  asked for; a subscribe gets its answer now. (The clock is read
        //  again: sends since now_ms may have scheduled clients later.)
        if (sub->answered || sub->slow)
            tly_gateway_subs_stale (self->subs, sub, sub->slow,
                                    tly_mono_ms () + TLY_GATEWAY_RETRY_MS);
        else
            tly_gateway_stream_end (self, sub, TALLY__ERROR_CODE__UNAVAILABLE,
                                    "the router is not taking messages (queue full); retry later");
    }
}

size_t
tly_gateway_stream_resync_all (tly_gateway_stream_t *self)
{
    assert (self);
    //  Nothing here removes a sub or a client, so the walk is safe.
    size_t asked = 0;
    for (tly_gateway_client_t *client = tly_gateway_subs_first_client (self->subs); client;
         client = tly_gateway_subs_next_client (self->subs, client))
        for (tly_gateway_sub_t *sub = tly_gateway_subs_of_client (client); sub;
             sub = tly_gateway_subs_next_of_client (sub)) {
            if (sub->state == TLY_SUB_LIVE) {
                tly_gateway_stream_resync (self, sub, false);
                asked++;
            } else if (sub->state == TLY_SUB_PENDING && sub->announced == 0
                       && sub->attempts < TLY_GATEWAY_SNAPSHOT_ATTEMPTS) {
                //  Its request may have died with the router. (An announced
                //  one is asked again anyway when its snapshot is overdue; a
                //  request the router cannot take now waits for its deadline.)
                tly_gateway_subs_retry (self->subs, sub);
                if (tly_gateway_stream_request (self, sub) == 0)
                    asked++;
            }
            //  A STALE one is resynced in turn already.
        }
    return asked;
}

void
tly_gateway_stream_on_snapshot (tly_gateway_stream_t *self, const Tally__SnapshotReply *reply)
{
    assert (self && reply);
    tly_gateway_sub_t *sub = tly_gateway_subs_pending (self->subs, reply->snapshot_id);
    if (!sub) {
        //  Usual when the bus brought the snapshot first.
        tly_log (TLY_DEBUG, "snapshot.late_reply", "snapshot_id=%" PRIu64, reply->snapshot_id);
        return;
    }
    if (reply->error && reply->error->code != TALLY__ERROR_CODE__OK) {
        tly_log (TLY_INFO, "snapshot.refused", "object_id=%s request_id=%" PRIu64 " code=%s",
                 sub->of.topic->object_id, sub->request_id, tly_error_name (reply->error->code));
        //  Answered already: the subscription ends, and says why.
        tly_gateway_stream_end (self, sub, reply->error->code, reply->error->message);
        return;
    }
    if (reply->version == 0) {
        tly_log (TLY_WARN, "snapshot.malformed", "object_id=%s reason=\"no version\"",
                 sub->of.topic->object_id);
        tly_gateway_stream_end (self, sub, TALLY__ERROR_CODE__INTERNAL,
                                "the cluster sent a malformed snapshot reply; retry");
        return;
    }
    if (sub->announced > 0) {
        tly_log (TLY_DEBUG, "snapshot.duplicate_reply", "snapshot_id=%" PRIu64, reply->snapshot_id);
        return;
    }
    int64_t seen_by_ms = 0;
    bool overflow = __builtin_add_overflow (tly_mono_ms (), TLY_GATEWAY_BUS_WAIT_MS, &seen_by_ms);
    assert (!overflow);
    tly_gateway_subs_announced (self->subs, sub, reply->version, seen_by_ms);
}

//  --------------------------------------------------------------------------
//  Sending what the bus brought

//  ClientReply{request_id} followed by a packed ClientReply{object, push} is
//  byte for byte the packed ClientReply{request_id, object, push} (fields 1,
//  5, 6 in order; protobuf would merge them in any order anyway). So an
//  update is packed once, and each subscriber costs a small head and a copy.
static zframe_t *
s_with_request_id (uint64_t request_id, zframe_t *update)
{
    Tally__ClientReply head = TALLY__CLIENT_REPLY__INIT;
    head.request_id = request_id;
    size_t head_size = tally__client_reply__get_packed_size (&head);
    zframe_t *frame = zframe_new (NULL, head_size + zframe_size (update));
    assert (frame);
    size_t packed = tally__client_reply__pack (&head, zframe_data (frame));
    assert (packed == head_size);
    memcpy (zframe_data (frame) + head_size, zframe_data (update), zframe_size (update));
    return frame;
}

//  What to do with version `version` of sub's object, packed once in update.
static void
s_offer (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, uint64_t version, zframe_t *update)
{
    switch (tly_gateway_subs_offer (sub, version)) {
        case TLY_OFFER_WAIT: break;
        case TLY_OFFER_OLD:
            tly_log (TLY_DEBUG, "update.duplicate",
                     "object_id=%s version=%" PRIu64 " last=%" PRIu64, sub->of.topic->object_id,
                     version, sub->last);
            break;
        case TLY_OFFER_GAP:
            tly_log (TLY_INFO, "update.gap", "object_id=%s version=%" PRIu64 " last=%" PRIu64,
                     sub->of.topic->object_id, version, sub->last);
            tly_gateway_stream_resync (self, sub, false);
            break;
        case TLY_OFFER_NEXT: {
            zframe_t *frame = s_with_request_id (sub->request_id, update);
            if (tly_gateway_stream_push (self, sub, &frame) == 0)
                tly_gateway_subs_live (self->subs, sub, version);
            break;
        }
    }
}

//  The client took a message, so it can take more: resync all it missed.
static void
s_resync_stale (tly_gateway_stream_t *self, tly_gateway_client_t *client)
{
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_client (client); sub && client->stale > 0;
         sub = tly_gateway_subs_next_of_client (sub))
        if (sub->state == TLY_SUB_STALE)
            tly_gateway_stream_resync (self, sub, sub->slow);
}

//  sub was just sent its snapshot: now the updates its topic held meanwhile
//  (on one ordered bus, none should be newer than the snapshot), and a
//  resync if it is still behind the newest version the bus showed.
static void
s_catch_up (tly_gateway_stream_t *self, tly_gateway_sub_t *sub)
{
    tly_gateway_topic_t *topic = sub->of.topic;
    for (uint32_t index = 0; index < topic->held_count && sub->state == TLY_SUB_LIVE; index++) {
        const tly_gateway_held_t *held = tly_gateway_subs_held (topic, index);
        s_offer (self, sub, held->version, held->update);
    }
    if (sub->state == TLY_SUB_LIVE && sub->last < topic->newest) {
        tly_log (TLY_INFO, "update.gap", "object_id=%s newest=%" PRIu64 " last=%" PRIu64,
                 topic->object_id, topic->newest, sub->last);
        tly_gateway_stream_resync (self, sub, false);
    }
    tly_gateway_subs_settle (self->subs, topic);
}

//  The bus brought the snapshot sub asked for: to the client as the answer
//  to its subscribe, or as a SNAPSHOT push after a resync.
static void
s_deliver (tly_gateway_stream_t *self, tly_gateway_sub_t *sub, Tally__SignedObject *object,
           uint64_t version)
{
    tly_gateway_client_t *client = sub->of.client;
    Tally__Error slow = TALLY__ERROR__INIT;
    slow.code = TALLY__ERROR_CODE__SLOW_CONSUMER;
    slow.message = "client did not keep up; resynced";
    Tally__ClientReply answer = TALLY__CLIENT_REPLY__INIT;
    answer.request_id = sub->request_id;
    answer.object = object;
    answer.push = sub->answered ? TALLY__PUSH_KIND__SNAPSHOT : TALLY__PUSH_KIND__NOT_PUSHED;
    answer.error = sub->slow ? &slow : NULL;
    zframe_t *data = tly_wire_pack (&answer.base);
    tly_log (TLY_DEBUG, "snapshot.seen",
             "object_id=%s request_id=%" PRIu64 " version=%" PRIu64 " attempt=%" PRIu32,
             sub->of.topic->object_id, sub->request_id, version, sub->attempts);
    if (tly_gateway_stream_push (self, sub, &data) == -1) {
        tly_gateway_subs_stale (self->subs, sub, true, tly_mono_ms () + TLY_GATEWAY_RETRY_MS);
        return;
    }
    tly_gateway_subs_live (self->subs, sub, version);
    if (client->stale > 0)
        s_resync_stale (self, client);
    s_catch_up (self, sub);
}

//  An update: held for the topic's pending snapshots and offered to every
//  subscriber. The gateway does not check the worker's signature: clients do.
static void
s_on_update (tly_gateway_stream_t *self, tly_gateway_topic_t *topic, Tally__SignedObject *object,
             uint64_t version)
{
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.object = object;
    reply.push = TALLY__PUSH_KIND__UPDATE;
    zframe_t *update = tly_wire_pack (&reply.base);
    tly_gateway_subs_arrived (self->subs, topic, version, update);
    //  Offers change states but never remove a sub, so the walk is safe.
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_topic (topic); sub;
         sub = tly_gateway_subs_next_of_topic (sub))
        s_offer (self, sub, version, update);
    zframe_destroy (&update);
}

//  The owner's whole current state (it started serving the partition; see
//  tly_gateway_bus.h): a SNAPSHOT push for every LIVE subscriber behind it,
//  whose missing updates may never come. A pending snapshot learns that
//  this version exists (s_catch_up resyncs if the snapshot is older); a
//  STALE sub resyncs anyway.
static void
s_on_current (tly_gateway_stream_t *self, tly_gateway_topic_t *topic, Tally__SignedObject *object,
              uint64_t version)
{
    tly_gateway_subs_newest (self->subs, topic, version);
    zframe_t *snapshot = NULL;
    //  Pushes change states but never remove a sub, so the walk is safe.
    for (tly_gateway_sub_t *sub = tly_gateway_subs_of_topic (topic); sub;
         sub = tly_gateway_subs_next_of_topic (sub)) {
        if (sub->state != TLY_SUB_LIVE || version <= sub->last)
            continue;
        tly_log (TLY_INFO, "update.behind", "object_id=%s version=%" PRIu64 " last=%" PRIu64,
                 topic->object_id, version, sub->last);
        if (!snapshot) {
            Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
            reply.object = object;
            reply.push = TALLY__PUSH_KIND__SNAPSHOT;
            snapshot = tly_wire_pack (&reply.base);
        }
        zframe_t *frame = s_with_request_id (sub->request_id, snapshot);
        if (tly_gateway_stream_push (self, sub, &frame) == 0)
            tly_gateway_subs_jump (self->subs, sub, version);
    }
    zframe_destroy (&snapshot);
}

//  One bus message: the topic (the object's 19 raw bytes) and a BusObject.
static void
s_on_bus (tly_gateway_stream_t *self, zframe_t *topic_frame, zframe_t *data)
{
    if (zframe_size (topic_frame) != TLY_GATEWAY_TOPIC_BYTES) {
        tly_log (TLY_WARN, "bus.bad_message", "topic_bytes=%zu", zframe_size (topic_frame));
        return;
    }
    tly_gateway_topic_t *topic = tly_gateway_subs_topic (self->subs, zframe_data (topic_frame));
    if (!topic)
        return;  //  unsubscribed while it was on its way
    tly_gateway_bus_message_t message;
    tly_gateway_bus_read (self->instance, topic->object_id, zframe_data (data), zframe_size (data),
                          &message);
    if (message.kind == TLY_BUS_MALFORMED)
        tly_log (TLY_WARN, "bus.bad_message", "object_id=%s reason=\"%s\"", topic->object_id,
                 message.reason);
    else if (message.kind == TLY_BUS_FOREIGN)
        tly_log (TLY_DEBUG, "snapshot.foreign", "object_id=%s", topic->object_id);
    else if (message.kind == TLY_BUS_UPDATE)
        s_on_update (self, topic, message.bus->object, message.version);
    else if (message.kind == TLY_BUS_CURRENT)
        s_on_current (self, topic, message.bus->object, message.version);
    else {
        assert (message.kind == TLY_BUS_SNAPSHOT);
        tly_gateway_sub_t *sub = tly_gateway_subs_pending (self->subs, message.number);
        if (!sub)
            //  Asked for again since, or ended: the request it answers is over.
            tly_log (TLY_DEBUG, "snapshot.stale", "object_id=%s snapshot_id=%" PRIu64,
                     topic->object_id, message.number);
        else if (sub->of.topic != topic)
            tly_log (TLY_WARN, "bus.bad_message",
                     "object_id=%s snapshot_id=%" PRIu64
                     " reason=\"snapshot of another object than the one asked for\"",
                     topic->object_id, message.number);
        else
            s_deliver (self, sub, message.bus->object, message.version);
    }
    tally__bus_object__free_unpacked (message.bus, NULL);
}

void
tly_gateway_stream_drain_bus (tly_gateway_stream_t *self)
{
    assert (self);
    for (size_t count = 0; count < BURST_MAX; count++) {
        zframe_t *topic = zframe_recv (self->bus);
        if (!topic)
            break;
        zframe_t *data = zframe_more (topic) ? zframe_recv (self->bus) : NULL;
        size_t extra = 0;
        while (zsock_rcvmore (self->bus)) {
            zframe_t *frame = zframe_recv (self->bus);
            zframe_destroy (&frame);
            extra++;
        }
        if (!data || extra > 0)
            tly_log (TLY_WARN, "bus.bad_message", "frames=%zu reason=\"expected 2\"",
                     (data ? 2 : 1) + extra);
        else
            s_on_bus (self, topic, data);
        zframe_destroy (&topic);
        zframe_destroy (&data);
    }
}
