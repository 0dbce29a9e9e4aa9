//  tly_gateway_subs - the gateway's subscriptions (docs/protocol.md "Clone
//  pattern at the gateway"): which client follows which object, the last
//  version each was sent, the snapshots in flight and the bus updates held
//  for them. Pure state; tly_gateway_stream does the talking.
//
//  Three kinds of record, owned here and valid until removed:
//    client  a ROUTER identity with at least one subscription. Clients are
//            kept in order of when they were last heard from, so TTL expiry
//            looks only at the front.
//    topic   an object with at least one subscriber; its bus topic is the 19
//            raw bytes of the object ID.
//    sub     one client's subscription to one topic (at most one per pair).
//  Their fields may be read freely; they change only through the functions
//  below, which keep every count and index right.
//
//  A sub is in one of three states (and in none only within a call here):
//    PENDING  a snapshot is in flight (snapshot_id, deadline). While any sub
//             of a topic is PENDING, the topic holds the updates it receives
//             so that they can follow the snapshot. The snapshot itself comes
//             on the bus; once the router's SnapshotReply has announced it,
//             the sub also waits in a second list (seen_by_ms), and when that
//             passes with nothing seen the stream asks again under a fresh
//             snapshot_id (attempts counts the requests).
//    LIVE     version `last` was sent; `last + 1` is the next to send.
//    STALE    it missed updates (slow: because the client's queue was full)
//             and waits for a resync. A client with STALE subs is scheduled:
//             tly_gateway_subs_due hands it back every retry interval.
#ifndef TLY_GATEWAY_SUBS_H_INCLUDED
#define TLY_GATEWAY_SUBS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "tly_gateway_check.h"
#include "tly_gateway_index.h"
#include "tly_limits.h"

//  Updates one topic holds for its pending snapshots; past this the oldest
//  go, and a subscriber that needed one sees the gap and resyncs.
#define TLY_GATEWAY_HELD_PER_TOPIC    256
//  Updates held over all topics; past this new ones are not held (the
//  topic remembers the newest version it saw, so the loss is noticed).
#define TLY_GATEWAY_HELD_TOTAL        100000
//  Snapshot requests sent for one snapshot (the first and the ones that
//  follow an announced snapshot the bus did not bring).
#define TLY_GATEWAY_SNAPSHOT_ATTEMPTS 5

typedef enum {
    TLY_SUB_PENDING = 1,
    TLY_SUB_LIVE = 2,
    TLY_SUB_STALE = 3
} tly_sub_state_t;

//  What to do with version v of a subscribed object (tly_gateway_subs_offer).
typedef enum {
    TLY_OFFER_WAIT = 1,  //  the sub is not LIVE: nothing to send now
    TLY_OFFER_OLD = 2,   //  v <= last: a duplicate, drop it
    TLY_OFFER_NEXT = 3,  //  v == last + 1: send it
    TLY_OFFER_GAP = 4    //  v > last + 1: something was lost, resync
} tly_offer_t;

typedef struct _tly_gateway_subs_t tly_gateway_subs_t;

typedef struct {
    zframe_t *identity;            //  the client's ROUTER identity
    int64_t last_seen_ms;          //  monotonic
    int64_t retry_ms;              //  when scheduled: next resync attempt
    uint32_t subs;                 //  its subscriptions (>= 1)
    uint32_t pending;              //  of which PENDING
    uint32_t stale;                //  of which STALE
    bool gone;                     //  unreachable: to be removed
    tly_gateway_link_t by_seen;    //  in the expiry order
    tly_gateway_link_t scheduled;  //  in the resync schedule (when stale > 0)
    tly_gateway_link_t sub_list;   //  sentinel: its subs
} tly_gateway_client_t;

typedef struct {
    zframe_t *update;  //  packed ClientReply{object, push = UPDATE}
    uint64_t version;
} tly_gateway_held_t;

typedef struct {
    uint8_t raw [TLY_GATEWAY_TOPIC_BYTES];  //  the key and bus topic
    char object_id [TLY_ID_MAX];
    uint32_t partition;
    uint32_t subs;             //  its subscribers (>= 1)
    uint32_t pending;          //  of which PENDING
    uint64_t newest;           //  highest version seen on the bus
    tly_gateway_held_t *held;  //  ring of TLY_GATEWAY_HELD_PER_TOPIC, or NULL
    uint32_t held_first;
    uint32_t held_count;
    tly_gateway_link_t sub_list;  //  sentinel: its subs
} tly_gateway_topic_t;

//  The index key of a subscription.
typedef struct {
    tly_gateway_client_t *client;
    tly_gateway_topic_t *topic;
} tly_gateway_pair_t;

typedef struct {
    tly_gateway_pair_t of;  //  whose subscription to what
    uint64_t request_id;    //  of the subscribe: names every push
    uint8_t reader [TLY_KEY_BYTES];
    tly_sub_state_t state;
    uint64_t last;         //  LIVE: the version last sent
    uint64_t snapshot_id;  //  PENDING: the request in flight (the index key, and
                           //  the snapshot number in its requester)
    int64_t deadline_ms;   //  PENDING: monotonic, for all attempts together
    uint32_t attempts;     //  PENDING: requests sent (1..TLY_GATEWAY_SNAPSHOT_ATTEMPTS)
    uint64_t announced;    //  PENDING: version the SnapshotReply announced, or 0
    int64_t seen_by_ms;    //  PENDING, announced: the bus snapshot is overdue then
    bool answered;         //  the subscribe got its direct answer
    bool slow;             //  STALE or PENDING because the client was slow
    tly_gateway_link_t in_client;
    tly_gateway_link_t in_topic;
    tly_gateway_link_t in_pending;  //  in deadline order
    tly_gateway_link_t in_waiting;  //  announced: in seen_by order
} tly_gateway_sub_t;

//  Returns NULL on allocation failure.
tly_gateway_subs_t *tly_gateway_subs_new (void);
//  Frees every record. Safe on NULL.
void tly_gateway_subs_destroy (tly_gateway_subs_t **self_p);

uint32_t tly_gateway_subs_size (tly_gateway_subs_t *self);
uint32_t tly_gateway_subs_pending_size (tly_gateway_subs_t *self);
uint32_t tly_gateway_subs_held_size (tly_gateway_subs_t *self);

//  --- clients
tly_gateway_client_t *tly_gateway_subs_client (tly_gateway_subs_t *self, zframe_t *identity);
//  Heard from the client at now_ms: it moves to the back of the expiry order.
void tly_gateway_subs_touch (tly_gateway_subs_t *self, tly_gateway_client_t *client,
                             int64_t now_ms);
//  The client cannot be reached: it moves to the front of the expiry order.
void tly_gateway_subs_gone (tly_gateway_subs_t *self, tly_gateway_client_t *client);
//  The front client if it is gone or was last seen at or before seen_ms, else NULL.
tly_gateway_client_t *tly_gateway_subs_expired (tly_gateway_subs_t *self, int64_t seen_ms);
//  When the front client was last seen (INT64_MIN when it is gone), or
//  INT64_MAX with no client.
int64_t tly_gateway_subs_oldest_seen (tly_gateway_subs_t *self);
//  Every client, in expiry order: the first, and the one after client (NULL
//  at the end). Changing a sub's state does not change this order.
tly_gateway_client_t *tly_gateway_subs_first_client (tly_gateway_subs_t *self);
tly_gateway_client_t *tly_gateway_subs_next_client (tly_gateway_subs_t *self,
                                                    tly_gateway_client_t *client);
//  The first sub of client, and the one after sub in its client (NULL at the end).
tly_gateway_sub_t *tly_gateway_subs_of_client (tly_gateway_client_t *client);
tly_gateway_sub_t *tly_gateway_subs_next_of_client (tly_gateway_sub_t *sub);
//  The scheduled client whose resync time is earliest if it is <= now_ms, else
//  NULL. It stays scheduled, next at retry_ms, which (as for
//  tly_gateway_subs_stale) must not be earlier than any retry already set.
tly_gateway_client_t *tly_gateway_subs_due (tly_gateway_subs_t *self, int64_t now_ms,
                                            int64_t retry_ms);
int64_t tly_gateway_subs_next_due (tly_gateway_subs_t *self);

//  --- topics
tly_gateway_topic_t *tly_gateway_subs_topic (tly_gateway_subs_t *self,
                                             const uint8_t raw [TLY_GATEWAY_TOPIC_BYTES]);
tly_gateway_sub_t *tly_gateway_subs_of_topic (tly_gateway_topic_t *topic);
tly_gateway_sub_t *tly_gateway_subs_next_of_topic (tly_gateway_sub_t *sub);
//  Version `version` of topic came off the bus: remembers it as the newest
//  if it is, and keeps a copy of update (packed ClientReply{object, push})
//  for the topic's pending subs. With none pending, drops what was held.
void tly_gateway_subs_arrived (tly_gateway_subs_t *self, tly_gateway_topic_t *topic,
                               uint64_t version, zframe_t *update);
//  Version `version` of topic came off the bus as a whole state
//  (BusObject.current): remembered as the newest if it is; nothing is held.
void tly_gateway_subs_newest (tly_gateway_subs_t *self, tly_gateway_topic_t *topic,
                              uint64_t version);
//  The index-th update topic holds (0: the oldest), index < held_count.
const tly_gateway_held_t *tly_gateway_subs_held (const tly_gateway_topic_t *topic, uint32_t index);
//  Drops what topic holds when none of its subs is pending any more.
void tly_gateway_subs_settle (tly_gateway_subs_t *self, tly_gateway_topic_t *topic);

//  --- subscriptions
tly_gateway_sub_t *tly_gateway_subs_find (tly_gateway_subs_t *self, tly_gateway_client_t *client,
                                          tly_gateway_topic_t *topic);
//  Adds a subscription of identity (copied) to the admitted object, PENDING
//  its first snapshot (see tly_gateway_subs_pend), making the client and the
//  topic when they are new (*new_topic tells). Asserts that the pair is not
//  subscribed yet.
tly_gateway_sub_t *tly_gateway_subs_add (tly_gateway_subs_t *self, zframe_t *identity,
                                         const tly_gateway_admitted_t *admitted,
                                         uint64_t request_id, int64_t now_ms, int64_t deadline_ms,
                                         bool *new_topic);
//  The client subscribed again to sub's object: sub takes the new request_id
//  and reader, and PENDS a first snapshot again (any older one is forgotten).
uint64_t tly_gateway_subs_renew (tly_gateway_subs_t *self, tly_gateway_sub_t *sub,
                                 uint64_t request_id, const uint8_t reader [TLY_KEY_BYTES],
                                 int64_t deadline_ms);
//  Removes sub; its client goes with its last sub. Returns true when that
//  was the topic's last sub (the topic is gone; raw receives its bytes).
bool tly_gateway_subs_remove (tly_gateway_subs_t *self, tly_gateway_sub_t *sub,
                              uint8_t raw [TLY_GATEWAY_TOPIC_BYTES]);
//  Makes sub PENDING under a fresh snapshot_id, which it returns (never 0),
//  at its first attempt.
//  deadline_ms must not be earlier than any pending deadline.
uint64_t tly_gateway_subs_pend (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, bool slow,
                                int64_t deadline_ms);
//  The PENDING sub waiting for snapshot_id, or NULL.
tly_gateway_sub_t *tly_gateway_subs_pending (tly_gateway_subs_t *self, uint64_t snapshot_id);
//  The PENDING sub with the earliest deadline if it is <= now_ms, else NULL.
tly_gateway_sub_t *tly_gateway_subs_overdue (tly_gateway_subs_t *self, int64_t now_ms);
//  The SnapshotReply for sub's request said that version `version` is on the
//  bus: sub waits for it until seen_by_ms, which must not be earlier than any
//  wait already set. Asserts that sub is PENDING and not announced yet.
void tly_gateway_subs_announced (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version,
                                 int64_t seen_by_ms);
//  The announced sub whose seen_by_ms is earliest if it is <= now_ms, else NULL.
tly_gateway_sub_t *tly_gateway_subs_unseen (tly_gateway_subs_t *self, int64_t now_ms);
//  sub asks again: a fresh snapshot_id (returned; the old one finds nothing
//  any more), not announced, one more attempt, the same deadline. Asserts
//  that it is PENDING with attempts left.
uint64_t tly_gateway_subs_retry (tly_gateway_subs_t *self, tly_gateway_sub_t *sub);
//  The earliest deadline or seen_by_ms of any PENDING sub, or INT64_MAX.
int64_t tly_gateway_subs_next_deadline (tly_gateway_subs_t *self);
//  Version `version` was sent to sub (a snapshot when PENDING: the subscribe
//  is answered; else an update, which must be last + 1).
void tly_gateway_subs_live (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version);
//  A whole state at version `version`, newer than last + 1 may be, was sent
//  to the LIVE sub (a SNAPSHOT push of BusObject.current).
void tly_gateway_subs_jump (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, uint64_t version);
//  sub missed something; its client is scheduled at retry_ms if it was not.
//  Every retry_ms is now + one fixed interval, so the schedule stays sorted.
void tly_gateway_subs_stale (tly_gateway_subs_t *self, tly_gateway_sub_t *sub, bool slow,
                             int64_t retry_ms);
tly_offer_t tly_gateway_subs_offer (const tly_gateway_sub_t *sub, uint64_t version);

#endif
