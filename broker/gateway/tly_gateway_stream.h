//  tly_gateway_stream - the gateway's read path (docs/protocol.md "The read
//  path: subscriptions"): subscribes its SUB socket to an object's bus topic,
//  asks the router for a snapshot, which the owning actor publishes on the
//  bus for this gateway's requester (tly_gateway_bus), sends it and then
//  every newer version to each subscriber, in order, with no gap and no
//  duplicate. A snapshot the router's reply announced but the bus did not
//  bring within TLY_GATEWAY_BUS_WAIT_MS (the bus subscription had not reached
//  the router yet) is asked for again, up to TLY_GATEWAY_SNAPSHOT_ATTEMPTS
//  requests in all, then the subscription ends with TIMEOUT.
//
//  It also owns every send to a client, the write path's replies included,
//  because a send is how the gateway learns that a client is slow or gone:
//    EAGAIN       the client's queue (--client-queue) is full: its updates
//                 are dropped from then on and its subscriptions go STALE;
//                 every 100 ms the stream resyncs one of them as a probe,
//                 and once a SNAPSHOT push gets through it resyncs the rest
//                 (push = SNAPSHOT, error SLOW_CONSUMER). A subscribe whose
//                 own snapshot meets a full queue gets that SNAPSHOT push in
//                 place of its direct answer. Any reply to a send or status
//                 request that meets a full queue is dropped too (the
//                 client's own deadline covers it).
//    EHOSTUNREACH the client is gone: its subscriptions end.
//  No send ever blocks, so one slow client never delays another.
//
//  Borrows three sockets from tly_gateway: the client ROUTER (with
//  ZMQ_ROUTER_MANDATORY on), the router DEALER and the bus SUB.
#ifndef TLY_GATEWAY_STREAM_H_INCLUDED
#define TLY_GATEWAY_STREAM_H_INCLUDED

#include <czmq.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_gateway_check.h"

//  Largest --max-subscriptions-total.
#define TLY_GATEWAY_SUBS_LIMIT  100000000
//  How long an announced snapshot may take to show up on the bus.
#define TLY_GATEWAY_BUS_WAIT_MS 500

typedef struct {
    uint32_t partitions;               //  --partitions: IDs beyond are NOT_FOUND
    int64_t timeout_ms;                //  --timeout-ms, per snapshot (all attempts)
    uint32_t max_snapshots;            //  --max-pending: snapshots in flight
    uint32_t max_subscriptions;        //  --max-subscriptions, per client
    uint32_t max_subscriptions_total;  //  --max-subscriptions-total
    int64_t client_ttl_ms;             //  --client-ttl-ms
} tly_gateway_stream_config_t;

typedef struct _tly_gateway_stream_t tly_gateway_stream_t;

//  Picks a random instance ID (libsodium must be initialised). Returns NULL
//  on allocation failure.
//  ws is the WebSocket client socket, or NULL.
tly_gateway_stream_t *tly_gateway_stream_new (const tly_gateway_stream_config_t *config,
                                              zsock_t *client, zsock_t *ws, zsock_t *router,
                                              zsock_t *bus);
//  Ends nothing on the wire: the sockets close with the gateway.
void tly_gateway_stream_destroy (tly_gateway_stream_t **self_p);

//  The instance ID in hex, for logs.
const char *tly_gateway_stream_instance (tly_gateway_stream_t *self);

//  The byte in front of a client's identity: the socket it came in on.
#define TLY_GATEWAY_SOCKET_TCP 0
#define TLY_GATEWAY_SOCKET_WS  1

//  Sends *data_p (one packed ClientReply) to the client named by identity
//  (tagged: the socket byte, then its ROUTER identity), never blocking;
//  consumes *data_p. Returns 0, or -1 when the frame was
//  dropped (errno as above, handled here).
int tly_gateway_stream_send (tly_gateway_stream_t *self, zframe_t *identity, zframe_t **data_p);
//  Heard from the client: its subscriptions live another --client-ttl-ms.
void tly_gateway_stream_touch (tly_gateway_stream_t *self, zframe_t *identity);

//  An admitted subscribe: answered later with the snapshot, or at once with
//  an error. A second subscribe to the same object replaces the first.
//  Returns the error it answered at once (the gateway counts the refusal),
//  or OK.
Tally__ErrorCode tly_gateway_stream_subscribe (tly_gateway_stream_t *self, zframe_t *identity,
                                               uint64_t request_id,
                                               const tly_gateway_admitted_t *admitted);
//  Ends the client's subscription to object_id (if any) and answers
//  request_id. Returns the error it answered (object_id is no object ID),
//  or OK.
Tally__ErrorCode tly_gateway_stream_unsubscribe (tly_gateway_stream_t *self, zframe_t *identity,
                                                 uint64_t request_id, const char *object_id);
//  The router's answer to one of our snapshot requests: an error ends the
//  subscription; a version starts the wait for the snapshot on the bus.
void tly_gateway_stream_on_snapshot (tly_gateway_stream_t *self, const Tally__SnapshotReply *reply);
//  The router link came back after a drop: the router (which hosts the
//  bus) may have restarted, and an update published meanwhile may never
//  reach this gateway, a loss no later version shows when the object stays
//  quiet. So every subscription asks for a fresh snapshot (a LIVE one is
//  resynced, pushed as SNAPSHOT; a PENDING one asks again, its request may
//  be lost), as many at once as --max-pending allows and the rest in turn.
//  Returns how many were asked for.
size_t tly_gateway_stream_resync_all (tly_gateway_stream_t *self);
//  Handles what is waiting on the bus socket, up to one burst.
void tly_gateway_stream_drain_bus (tly_gateway_stream_t *self);
//  Runs what is due: unreachable and silent clients, snapshot deadlines,
//  snapshots to ask for again, resyncs of slow clients.
void tly_gateway_stream_expire (tly_gateway_stream_t *self);
//  The next time (monotonic ms) tly_gateway_stream_expire has work, or INT64_MAX.
int64_t tly_gateway_stream_next_deadline (tly_gateway_stream_t *self);

#endif
