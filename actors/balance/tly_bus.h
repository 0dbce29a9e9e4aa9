//  tly_bus - a balance actor's end of the update bus.
//
//  An XPUB socket connected to the router's XSUB (--bus). A bus message is
//  two frames: the topic, the 19 raw bytes of the object ID, then a
//  BusObject{object = SignedObject, requester}. The router subscribes to
//  everything, so nothing published is filtered here, and everything goes
//  out in publication order; the subscription messages that come up from
//  the gateways (first byte 1 subscribe, 0 unsubscribe, then the topic)
//  tell which objects somebody watches. Only those, and for lease_ms any
//  object whose snapshot was published (the gateway's subscription may still
//  be on its way), are worth signing and publishing.
//
//  Publishing never blocks: past the high-water mark XPUB drops, and a
//  gateway resyncs when it sees a version gap.
//
//  The watched objects of a partition can be listed, so that an actor that
//  starts serving it can publish their current states (BusObject.current):
//  an update its previous owner, or this actor before a reload, journaled
//  but never published is otherwise lost for good once the object is quiet.
//
//  And any watched object published as an update is published once more,
//  as its current state, when it has been quiet for TLY_BUS_SETTLE_MS
//  (tly_bus_each_settled): a message dropped on its way (a high-water mark
//  on any hop, a path cut and mended) shows as a gap only when a later
//  version comes, so the last update before an object goes quiet would
//  otherwise never be repaired. An object updated all the time is never
//  quiet and costs nothing more; one updated once is signed twice. So does
//  an object newly subscribed to: an actor that started serving a partition
//  before it learned who watches its objects has published nothing of
//  their changes.
//
//      if (tly_bus_watched (bus, topic))
//          tly_bus_publish (bus, topic, state, NULL);
//      tly_bus_each_watched (bus, partition, fn, arg);   //  fn: tly_bus_publish_current
#ifndef TLY_BUS_H_INCLUDED
#define TLY_BUS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_curve.h"
#include "tly_limits.h"
#include "tly_object_id.h"

#define TLY_BUS_TOPIC_BYTES   TLY_OBJECT_KEY_BYTES  //  the raw bytes of an object ID
#define TLY_BUS_SEND_HWM      100000  //  messages queued towards the router before drops
#define TLY_BUS_LEASE_MS      60000   //  an object is published this long after its snapshot
#define TLY_BUS_REQUESTER_MAX 32      //  bytes of SnapshotRequest.requester
//  Topics tracked. Past this, every object counts as watched while the
//  subscriptions that did not fit last (publishing too much is safe), and
//  new leases are not kept (a gateway that misses an update resyncs).
#define TLY_BUS_TOPICS_MAX    1000000
#define TLY_BUS_DRAIN_MAX     1024  //  subscription messages read per turn
#define TLY_BUS_SETTLE_MS     1000  //  quiet after its last update, an object is published current
#define TLY_BUS_SETTLE_MAX    1024  //  objects settled per call

typedef struct _tly_bus_t tly_bus_t;

//  Connects to endpoint (a CURVE client of the router's key over TCP when
//  curve is not NULL); signs with the worker's sign_sk (libsodium form).
//  Returns NULL on failure (logged).
tly_bus_t *tly_bus_new (const char *endpoint, tly_curve_t *curve,
                        const uint8_t sign_sk [TLY_SECRET_KEY_BYTES], int64_t lease_ms);
void tly_bus_destroy (tly_bus_t **self_p);

//  The socket to poll for subscription messages, and what to do when it is readable.
void *tly_bus_socket (tly_bus_t *self);
void tly_bus_on_socket (tly_bus_t *self);
//  Nobody watches anything: no subscription, no lease.
bool tly_bus_idle (tly_bus_t *self);
bool tly_bus_watched (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES]);
//  Signs state and publishes it on topic. With a requester (a snapshot, at
//  most TLY_BUS_REQUESTER_MAX bytes) the topic is leased. Returns 0, or -1
//  when the socket refused the message (logged).
int tly_bus_publish (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
                     const Tally__ObjectState *state, const ProtobufCBinaryData *requester);
//  Signs state and publishes it on topic as the object's whole current
//  state (BusObject.current). Returns 0, or -1 as tly_bus_publish.
int tly_bus_publish_current (tly_bus_t *self, const uint8_t topic [TLY_BUS_TOPIC_BYTES],
                             const Tally__ObjectState *state);
//  Calls fn for every watched object (a subscription or a lease) of
//  partition, in no particular order; those past TLY_BUS_TOPICS_MAX are not
//  tracked, so not listed. fn may publish, nothing else on this bus.
typedef void (tly_bus_topic_fn) (const uint8_t topic [TLY_BUS_TOPIC_BYTES], void *arg);
void tly_bus_each_watched (tly_bus_t *self, uint32_t partition, tly_bus_topic_fn *fn, void *arg);
//  Calls fn for each watched object whose last publication, an update, is
//  at least the settle time old (at most TLY_BUS_SETTLE_MAX, oldest first),
//  and takes it off the list; fn should publish its current state (or
//  leave it, for a partition no longer served). Returns how many came due.
typedef void (tly_bus_settled_fn) (const uint8_t topic [TLY_BUS_TOPIC_BYTES], uint32_t partition,
                                   void *arg);
size_t tly_bus_each_settled (tly_bus_t *self, tly_bus_settled_fn *fn, void *arg);
//  The settle time, TLY_BUS_SETTLE_MS unless set (tests).
void tly_bus_set_settle_ms (tly_bus_t *self, int64_t settle_ms);
//  Forgets expired leases.
void tly_bus_tick (tly_bus_t *self);

#endif
