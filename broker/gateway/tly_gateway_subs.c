//  tly_gateway_subs - the gateway's subscriptions. See tly_gateway_subs.h.
//
//  Four hash indexes (identity -> client, raw object ID -> topic,
//  (client, topic) -> sub, snapshot_id -> sub) whose keys live inside the
//  records, and four ordered lists: clients by last seen, scheduled clients
//  by resync time, pending subs by deadline, announced subs by seen_by. Every
//  time in a list comes from the monotonic clock plus one fixed interval, so
//  appending keeps each list sorted and the front is always the next one
//  due: nothing is ever scanned.
#include "tly_gateway_subs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _tly_gateway_subs_t {
    zhashx_t *clients;             //  identity frame -> client
    zhashx_t *topics;              //  raw object ID -> topic
    zhashx_t *pairs;               //  (client, topic) -> sub
    zhashx_t *snapshots;           //  snapshot_id -> PENDING sub
    tly_gateway_link_t by_seen;    //  clients, gone first, then least recently seen
    tly_gateway_link_t scheduled;  //  clients with STALE subs, earliest retry first
    tly_gateway_link_t pending;    //  PENDING subs, earliest deadline first
    tly_gateway_link_t waiting;    //  announced PENDING subs, earliest seen_by first
    uint64_t last_snapshot_id;
    uint32_t size;          //  subs
    uint32_t pending_size;  //  PENDING subs
    uint32_t held_size;     //  updates held over all topics
};

//  --------------------------------------------------------------------------
//  Index keys, and the record each list link belongs to

static tly_gateway_client_t *
s_by_seen (tly_gateway_link_t *link)
{
    return TLY_GATEWAY_ENTRY (link, tly_gateway_client_t, by_seen);
}

static tly_gateway_client_t *
s_scheduled (tly_gateway_link_t *link)
{
    return TLY_GATEWAY_ENTRY (link, tly_gateway_client_t, scheduled);
}

static tly_gateway_sub_t *
s_in_pending (tly_gateway_link_t *link)
{
    return TLY_GATEWAY_ENTRY (link, tly_gateway_sub_t, in_pending);
}

static tly_gateway_sub_t *
s_in_waiting (tly_gateway_link_t *link)
{
    return TLY_GATEWAY_ENTRY (link, tly_gateway_sub_t, in_waiting);
}

static size_t
s_identity_hash (const void *key)
{
    zframe_t *identity = (zframe_t *) key;
    return tly_gateway_index_hash_bytes (zframe_data (identity), zframe_size (identity));
}

static int
s_identity_compare (const void *left, const void *right)
{
    return zframe_eq ((zframe_t *) left, (zframe_t *) right) ? 0 : 1;
}

static size_t
s_topic_hash (const void *key)
{
    return tly_gateway_index_hash_bytes (key, TLY_GATEWAY_TOPIC_BYTES);
}

static int
s_topic_compare (const void *left, const void *right)
{
    return memcmp (left, right, TLY_GATEWAY_TOPIC_BYTES);
}

static size_t
s_pair_hash (const void *key)
{
    const tly_gateway_pair_t *pair = key;
    return (size_t) ((uintptr_t) pair->client * 0x9E3779B97F4A7C15ULL
                     ^ (uintptr_t) pair->topic * 0xC2B2AE3D27D4EB4FULL);
}

static int
s_pair_compare (const void *left, const void *right)
{
    const tly_gateway_pair_t *one = left;
    const tly_gateway_pair_t *other = right;
    return one->client == other->client && one->topic == other->topic ? 0 : 1;
}

//  --------------------------------------------------------------------------
//  The registry

tly_gateway_subs_t *
tly_gateway_subs_new (void)
{
    tly_gateway_subs_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    tly_gateway_link_init (&self->by_seen);
    tly_gateway_link_init (&self->scheduled);
    tly_gateway_link_init (&self->pending);
    tly_gateway_link_init (&self->waiting);
    self->clients = tly_gateway_index_new (s_identity_hash, s_identity_compare);
    self->topics = tly_gateway_index_new (s_topic_hash, s_topic_compare);
    self->pairs = tly_gateway_index_new (s_pair_hash, s_pair_compare);
    self->snapshots = tly_gateway_index_new (tly_gateway_index_hash_u64,
                                             tly_gateway_index_compare_u64);
    if (!self->clients || !self->topics || !self->pairs || !self->snapshots) {
        tly_gateway_subs_destroy (&self);
        return NULL;
    }
    return self;
}

void
tly_gateway_subs_destroy (tly_gateway_subs_t **self_p)
{
    assert (self_p);
    tly_gateway_subs_t *self = *self_p;
    if (!self)
        return;
    uint8_t raw [TLY_GATEWAY_TOPIC_BYTES];
    while (tly_gateway_link_linked (&self->by_seen)) {
        tly_gateway_client_t *client = s_by_seen (self->by_seen.next);
        for (uint32_t count = client->subs; count > 0; count--)
            tly_gateway_subs_remove (self, tly_gateway_subs_of_client (client), raw);
    }
    assert (self->size == 0 && self->pending_size == 0 && self->held_size == 0);
    zhashx_destroy (&self->clients);
    zhashx_destroy (&self->topics);
    zhashx_destroy (&self->pairs);
    zhashx_destroy (&self->snapshots);
    free (self);
    *self_p = NULL;
}

uint32_t
tly_gateway_subs_size (tly_gateway_subs_t *self)
{
    assert (self);
    return self->size;
}

uint32_t
tly_gateway_subs_pending_size (tly_gateway_subs_t *self)
{
    assert (self);
    return self->pending_size;
}

uint32_t
tly_gateway_subs_held_size (tly_gateway_subs_t *self)
{
    assert (self);
    return self->held_size;
}

//  --------------------------------------------------------------------------
//  Clients

tly_gateway_client_t *
tly_gateway_subs_client (tly_gateway_subs_t *self, zframe_t *identity)
{
    assert (self && identity);
    return zhashx_lookup (self->clients, identity);
}

void
tly_gateway_subs_touch (tly_gateway_subs_t *self, tly_gateway_client_t *client, int64_t now_ms)
{
    assert (self && client);
    tly_gateway_link_remove (&client->by_seen);
    if (tly_gateway_link_linked (&self->by_seen)) {
        tly_gateway_client_t *newest = s_by_seen (self->by_seen.prev);
        assert (newest->last_seen_ms <= now_ms);
    }
    client->last_seen_ms = now_ms;
    client->gone = false;
    tly_gateway_link_before (&self->by_seen, &client->by_seen);
}

void
tly_gateway_subs_gone (tly_gateway_subs_t *self, tly_gateway_client_t *client)
{
    assert (self && client);
    client->gone = true;
    client->last_seen_ms = INT64_MIN;  //  keeps the order sorted: first to expire
    tly_gateway_link_remove (&client->by_seen);
    tly_gateway_link_before (self->by_seen.next, &client->by_seen);
}

tly_gateway_client_t *
tly_gateway_subs_expired (tly_gateway_subs_t *self, int64_t seen_ms)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->by_seen))
        return NULL;
    tly_gateway_client_t *oldest = s_by_seen (self->by_seen.next);
    return oldest->last_seen_ms <= seen_ms ? oldest : NULL;
}

int64_t
tly_gateway_subs_oldest_seen (tly_gateway_subs_t *self)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->by_seen))
        return INT64_MAX;
    return s_by_seen (self->by_seen.next)->last_seen_ms;
}

tly_gateway_client_t *
tly_gateway_subs_first_client (tly_gateway_subs_t *self)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->by_seen))
        return NULL;
    return s_by_seen (self->by_seen.next);
}

tly_gateway_client_t *
tly_gateway_subs_next_client (tly_gateway_subs_t *self, tly_gateway_client_t *client)
{
    assert (self && client);
    if (client->by_seen.next == &self->by_seen)
        return NULL;
    return s_by_seen (client->by_seen.next);
}

tly_gateway_sub_t *
tly_gateway_subs_of_client (tly_gateway_client_t *client)
{
    assert (client);
    if (!tly_gateway_link_linked (&client->sub_list))
        return NULL;
    return TLY_GATEWAY_ENTRY (client->sub_list.next, tly_gateway_sub_t, in_client);
}

tly_gateway_sub_t *
tly_gateway_subs_next_of_client (tly_gateway_sub_t *sub)
{
    assert (sub);
    if (sub->in_client.next == &sub->of.client->sub_list)
        return NULL;
    return TLY_GATEWAY_ENTRY (sub->in_client.next, tly_gateway_sub_t, in_client);
}

//  Appends client to the schedule at retry_ms.
static void
s_schedule (tly_gateway_subs_t *self, tly_gateway_client_t *client, int64_t retry_ms)
{
    if (tly_gateway_link_linked (&self->scheduled)) {
        tly_gateway_client_t *last = s_scheduled (self->scheduled.prev);
        assert (last->retry_ms <= retry_ms);
    }
    client->retry_ms = retry_ms;
    tly_gateway_link_before (&self->scheduled, &client->scheduled);
}

tly_gateway_client_t *
tly_gateway_subs_due (tly_gateway_subs_t *self, int64_t now_ms, int64_t retry_ms)
{
    assert (self);
    assert (retry_ms > now_ms);
    if (!tly_gateway_link_linked (&self->scheduled))
        return NULL;
    tly_gateway_client_t *client = s_scheduled (self->scheduled.next);
    if (client->retry_ms > now_ms)
        return NULL;
    assert (client->stale > 0);
    tly_gateway_link_remove (&client->scheduled);
    s_schedule (self, client, retry_ms);
    return client;
}

int64_t
tly_gateway_subs_next_due (tly_gateway_subs_t *self)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->scheduled))
        return INT64_MAX;
    return s_scheduled (self->scheduled.next)->retry_ms;
}

//  --------------------------------------------------------------------------
//  Topics and held updates

tly_gateway_topic_t *
tly_gateway_subs_topic (tly_gateway_subs_t *self, const uint8_t raw [TLY_GATEWAY_TOPIC_BYTES])
{
    assert (self && raw);
    return zhashx_lookup (self->topics, raw);
}

tly_gateway_sub_t *
tly_gateway_subs_of_topic (tly_gateway_topic_t *topic)
{
    assert (topic);
    if (!tly_gateway_link_linked (&topic->sub_list))
        return NULL;
    return TLY_GATEWAY_ENTRY (topic->sub_list.next, tly_gateway_sub_t, in_topic);
}

tly_gateway_sub_t *
tly_gateway_subs_next_of_topic (tly_gateway_sub_t *sub)
{
    assert (sub);
    if (sub->in_topic.next == &sub->of.topic->sub_list)
        return NULL;
    return TLY_GATEWAY_ENTRY (sub->in_topic.next, tly_gateway_sub_t, in_topic);
}

static void
s_drop_held (tly_gateway_subs_t *self, tly_gateway_topic_t *topic)
{
    for (uint32_t index = 0; index < topic->held_count; index++) {
        uint32_t at = (topic->held_first + index) % TLY_GATEWAY_HELD_PER_TOPIC;
        zframe_destroy (&topic->held [at].update);
    }
    assert (self->held_size >= topic->held_count);
    self->held_size -= topic->held_count;
    topic->held_count = 0;
    topic->held_first = 0;
    free (topic->held);
    topic->held = NULL;
}

void
tly_gateway_subs_arrived (tly_gateway_subs_t *self, tly_gateway_topic_t *topic, uint64_t version,
                          zframe_t *update)
{
    assert (self && topic && update);
    if (version > topic->newest)
        topic->newest = version;
    if (topic->pending == 0) {
        s_drop_held (self, topic);
        return;
    }
    if (self->held_size >= TLY_GATEWAY_HELD_TOTAL)
        return;
    if (!topic->held) {
        topic->held = calloc (TLY_GATEWAY_HELD_PER_TOPIC, sizeof (tly_gateway_held_t));
        assert (topic->held);
    }
    if (topic->held_count == TLY_GATEWAY_HELD_PER_TOPIC) {
        zframe_destroy (&topic->held [topic->held_first].update);
        topic->held_first = (topic->held_first + 1) % TLY_GATEWAY_HELD_PER_TOPIC;
        topic->held_count--;
        self->held_size--;
    }
    uint32_t at = (topic->held_first + topic->held_count) % TLY_GATEWAY_HELD_PER_TOPIC;
    topic->held [at].update = zframe_dup (update);
    assert (topic->held [at].update);
    topic->held [at].version = version;
    topic->held_count++;
    self->held_size++;
}

void
tly_gateway_subs_newest (tly_gateway_subs_t *self, tly_gateway_topic_t *topic, uint64_t version)
{
    assert (self && topic);
    if (version > topic->newest)
        topic->newest = version;
}

const tly_gateway_held_t *
tly_gateway_subs_held (const tly_gateway_topic_t *topic, uint32_t index)
{
    assert (topic);
    assert (index < topic->held_count);
    return &topic->held [(topic->held_first + index) % TLY_GATEWAY_HELD_PER_TOPIC];
}

void
tly_gateway_subs_settle (tly_gateway_subs_t *self, tly_gateway_topic_t *topic)
{
    assert (self && topic);
    if (topic->pending == 0)
        s_drop_held (self, topic);
}

//  --------------------------------------------------------------------------
//  Subscriptions

tly_gateway_sub_t *
tly_gateway_subs_find (tly_gateway_subs_t *self, tly_gateway_client_t *client,
                       tly_gateway_topic_t *topic)
{
    assert (self && client && topic);
    tly_gateway_pair_t pair = { .client = client, .topic = topic };
    return zhashx_lookup (self->pairs, &pair);
}

static tly_gateway_client_t *
s_client_new (tly_gateway_subs_t *self, zframe_t *identity, int64_t now_ms)
{
    tly_gateway_client_t *client = calloc (1, sizeof (*client));
    assert (client);
    client->identity = zframe_dup (identity);
    assert (client->identity);
    tly_gateway_link_init (&client->by_seen);
    tly_gateway_link_init (&client->scheduled);
    tly_gateway_link_init (&client->sub_list);
    int rc = zhashx_insert (self->clients, client->identity, client);
    assert (rc == 0);
    tly_gateway_subs_touch (self, client, now_ms);
    return client;
}

static tly_gateway_topic_t *
s_topic_new (tly_gateway_subs_t *self, const tly_gateway_admitted_t *admitted)
{
    tly_gateway_topic_t *topic = calloc (1, sizeof (*topic));
    assert (topic);
    memcpy (topic->raw, admitted->topic, TLY_GATEWAY_TOPIC_BYTES);
    assert (strlen (admitted->object_id) < sizeof (topic->object_id));
    strcpy (topic->object_id, admitted->object_id);
    topic->partition = admitted->partition;
    tly_gateway_link_init (&topic->sub_list);
    int rc = zhashx_insert (self->topics, topic->raw, topic);
    assert (rc == 0);
    return topic;
}

tly_gateway_sub_t *
tly_gateway_subs_add (tly_gateway_subs_t *self, zframe_t *identity,
                      const tly_gateway_admitted_t *admitted, uint64_t request_id, int64_t now_ms,
                      int64_t deadline_ms, bool *new_topic)
{
    assert (self && identity && admitted && new_topic);
    tly_gateway_client_t *client = tly_gateway_subs_client (self, identity);
    if (!client)
        client = s_client_new (self, identity, now_ms);
    tly_gateway_topic_t *topic = tly_gateway_subs_topic (self, admitted->topic);
    *new_topic = topic == NULL;
    if (!topic)
        topic = s_topic_new (self, admitted);
    assert (tly_gateway_subs_find (self, client, topic) == NULL);

    tly_gateway_sub_t *sub = calloc (1, sizeof (*sub));
    assert (sub);
    sub->of.client = client;
    sub->of.topic = topic;
    sub->request_id = request_id;
    memcpy (sub->reader, admitted->account, TLY_KEY_BYTES);
    tly_gateway_link_init (&sub->in_client);
    tly_gateway_link_init (&sub->in_topic);
    tly_gateway_link_init (&sub->in_pending);
    tly_gateway_link_init (&sub->in_waiting);
    tly_gateway_link_before (&client->sub_list, &sub->in_client);
    tly_gateway_link_before (&topic->sub_list, &sub->in_topic);
    int rc = zhashx_insert (self->pairs, &sub->of, sub);
    assert (rc == 0);
    client->subs++;
    topic->subs++;
    self->size++;
    tly_gateway_subs_pend (self, sub, false, deadline_ms);
    return sub;
}

//  Takes a PENDING sub out of the pending index; the caller sets its state.
static void
s_unpend (tly_gateway_subs_t *self, tly_gateway_sub_t *sub)
{
    assert (sub->state == TLY_SUB_PENDING);
    zhashx_delete (self->snapshots, &sub->snapshot_id);
    tly_gateway_link_remove (&sub->in_pending);
    tly_gateway_link_remove (&sub->in_waiting);
    assert (sub->of.client->pending > 0 && sub->of.topic->pending > 0 && self->pending_size > 0);
    sub->of.client->pending--;
    sub->of.topic->pending--;
    self->pending_size--;
    sub->snapshot_id = 0;
    sub->attempts = 0;
    sub->announced = 0;
}

//  Takes a STALE sub out of its client's stale count (and the client out of
//  the schedule with its last one); the caller sets its state.
static void
s_unstale (tly_gateway_sub_t *sub)
{
    assert (sub->state == TLY_SUB_STALE);
    tly_gateway_client_t *client = sub->of.client;
    assert (client->stale > 0);
    client->stale--;
    if (client->stale == 0)
        tly_gateway_link_remove (&client->scheduled);
}

bool
tly_gateway_subs_remove (tly_gateway_subs_t *self, tly_gateway_sub_t *sub,
                         uint8_t raw [TLY_GATEWAY_TOPIC_BYTES])
{
    assert (self && sub && raw);
    tly_gateway_client_t *client = sub->of.client;
    tly_gateway_topic_t *topic = sub->of.topic;
    if (sub->state == TLY_SUB_PENDING)
        s_unpend (self, sub);
    else if (sub->state == TLY_SUB_STALE)
        s_unstale (sub);
    zhashx_delete (self->pairs, &sub->of);
    tly_gateway_link_remove (&sub->in_client);
    tly_gateway_link_remove (&sub->in_topic);
    assert (client->subs > 0 && topic->subs > 0 && self->size > 0);
    client->subs--;
    topic->subs--;
    self->size--;
    free (sub);

    if (client->subs == 0) {
        assert (client->pending == 0 && client->stale == 0);
        assert (!tly_gateway_link_linked (&client->scheduled));
        zhashx_delete (self->clients, client->identity);
        tly_gateway_link_remove (&client->by_seen);
        zframe_destroy (&client->identity);
        free (client);
    }
    if (topic->subs > 0) {
        tly_gateway_subs_settle (self, topic);
        return false;
    }
    assert (topic->pending == 0);
    s_drop_held (self, topic);
    memcpy (raw, topic->raw, TLY_GATEWAY_TOPIC_BYTES);
    zhashx_delete (self->topics, topic->raw);
    free (topic);
    return true;
}

uint64_t
tly_gateway_subs_renew (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t request_id,
                        const uint8_t reader [TLY_KEY_BYTES], int64_t deadline_ms)
{
    assert (self && sub && reader);
    if (sub->state == TLY_SUB_PENDING) {
        s_unpend (self, sub);
        sub->state = 0;  //  between states: pend sets the next one
    }
    sub->request_id = request_id;
    memcpy (sub->reader, reader, TLY_KEY_BYTES);
    sub->answered = false;
    return tly_gateway_subs_pend (self, sub, false, deadline_ms);
}

uint64_t
tly_gateway_subs_pend (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, bool slow,
                       int64_t deadline_ms)
{
    assert (self && sub);
    assert (sub->state != TLY_SUB_PENDING);
    if (sub->state == TLY_SUB_STALE)
        s_unstale (sub);
    if (tly_gateway_link_linked (&self->pending)) {
        tly_gateway_sub_t *last = s_in_pending (self->pending.prev);
        assert (last->deadline_ms <= deadline_ms);
    }
    sub->state = TLY_SUB_PENDING;
    sub->slow = slow;
    sub->snapshot_id = ++self->last_snapshot_id;
    assert (sub->snapshot_id != 0);
    sub->deadline_ms = deadline_ms;
    sub->attempts = 1;
    sub->announced = 0;
    int rc = zhashx_insert (self->snapshots, &sub->snapshot_id, sub);
    assert (rc == 0);
    tly_gateway_link_before (&self->pending, &sub->in_pending);
    sub->of.client->pending++;
    sub->of.topic->pending++;
    self->pending_size++;
    return sub->snapshot_id;
}

tly_gateway_sub_t *
tly_gateway_subs_pending (tly_gateway_subs_t *self, uint64_t snapshot_id)
{
    assert (self);
    return zhashx_lookup (self->snapshots, &snapshot_id);
}

tly_gateway_sub_t *
tly_gateway_subs_overdue (tly_gateway_subs_t *self, int64_t now_ms)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->pending))
        return NULL;
    tly_gateway_sub_t *oldest = s_in_pending (self->pending.next);
    return oldest->deadline_ms <= now_ms ? oldest : NULL;
}

void
tly_gateway_subs_announced (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version,
                            int64_t seen_by_ms)
{
    assert (self && sub);
    assert (sub->state == TLY_SUB_PENDING && sub->announced == 0 && version >= 1);
    if (tly_gateway_link_linked (&self->waiting)) {
        tly_gateway_sub_t *last = s_in_waiting (self->waiting.prev);
        assert (last->seen_by_ms <= seen_by_ms);
    }
    sub->announced = version;
    sub->seen_by_ms = seen_by_ms;
    tly_gateway_link_before (&self->waiting, &sub->in_waiting);
}

tly_gateway_sub_t *
tly_gateway_subs_unseen (tly_gateway_subs_t *self, int64_t now_ms)
{
    assert (self);
    if (!tly_gateway_link_linked (&self->waiting))
        return NULL;
    tly_gateway_sub_t *oldest = s_in_waiting (self->waiting.next);
    assert (oldest->state == TLY_SUB_PENDING && oldest->announced > 0);
    return oldest->seen_by_ms <= now_ms ? oldest : NULL;
}

uint64_t
tly_gateway_subs_retry (tly_gateway_subs_t *self, tly_gateway_sub_t *sub)
{
    assert (self && sub);
    assert (sub->state == TLY_SUB_PENDING);
    assert (sub->attempts >= 1 && sub->attempts < TLY_GATEWAY_SNAPSHOT_ATTEMPTS);
    zhashx_delete (self->snapshots, &sub->snapshot_id);
    tly_gateway_link_remove (&sub->in_waiting);
    sub->announced = 0;
    sub->attempts++;
    sub->snapshot_id = ++self->last_snapshot_id;
    assert (sub->snapshot_id != 0);
    int rc = zhashx_insert (self->snapshots, &sub->snapshot_id, sub);
    assert (rc == 0);
    return sub->snapshot_id;
}

int64_t
tly_gateway_subs_next_deadline (tly_gateway_subs_t *self)
{
    assert (self);
    int64_t next_ms = INT64_MAX;
    if (tly_gateway_link_linked (&self->pending))
        next_ms = s_in_pending (self->pending.next)->deadline_ms;
    if (tly_gateway_link_linked (&self->waiting)) {
        int64_t seen_by_ms = s_in_waiting (self->waiting.next)->seen_by_ms;
        if (seen_by_ms < next_ms)
            next_ms = seen_by_ms;
    }
    return next_ms;
}

void
tly_gateway_subs_live (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version)
{
    assert (self && sub);
    assert (version >= 1);
    if (sub->state == TLY_SUB_PENDING) {
        s_unpend (self, sub);
        sub->answered = true;
        sub->slow = false;
    } else {
        assert (sub->state == TLY_SUB_LIVE);
        assert (version - sub->last == 1);
    }
    sub->state = TLY_SUB_LIVE;
    sub->last = version;
}

void
tly_gateway_subs_jump (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version)
{
    assert (self && sub);
    assert (sub->state == TLY_SUB_LIVE && version > sub->last);
    sub->last = version;
}

void
tly_gateway_subs_stale (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, bool slow,
                        int64_t retry_ms)
{
    assert (self && sub);
    if (sub->state == TLY_SUB_STALE) {
        sub->slow = sub->slow || slow;
        return;
    }
    if (sub->state == TLY_SUB_PENDING) {
        s_unpend (self, sub);
        tly_gateway_subs_settle (self, sub->of.topic);
    }
    sub->state = TLY_SUB_STALE;
    sub->slow = slow;
    tly_gateway_client_t *client = sub->of.client;
    client->stale++;
    if (!tly_gateway_link_linked (&client->scheduled))
        s_schedule (self, client, retry_ms);
}

tly_offer_t
tly_gateway_subs_offer (const tly_gateway_sub_t *sub, uint64_t version)
{
    assert (sub);
    if (sub->state != TLY_SUB_LIVE)
        return TLY_OFFER_WAIT;
    if (version <= sub->last)
        return TLY_OFFER_OLD;
    return version - sub->last == 1 ? TLY_OFFER_NEXT : TLY_OFFER_GAP;
}
