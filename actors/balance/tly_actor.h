//  tly_actor - a balance actor's links and partitions around the batch loop.
//
//  Router link: hello on start and every heartbeat; routes in, answers out;
//  assignments say which partitions (at which epochs) this actor owns.
//  Audit link: one append per batch (one batch in flight), and claiming
//  reads that catch a newly owned partition up from the journal; with each
//  hello a JournalStatusRequest (one out at a time), whose answer the next
//  hellos pass on to the router for `tally status`.
//
//  A partition is UNOWNED (routes answered NOT_OWNER), LOADING (routes held
//  until the journal has been read to its end) or SERVING. Routes wait in one
//  arrival-ordered queue; each batch takes them in order, so each user's
//  messages are applied one at a time in arrival order. Snapshot requests
//  and the update bus are the read path (tly_reader): snapshots wait only
//  for a pending assignment and for their partition's catch-up.
//
//  The caller runs the event loop:
//      zmq_poll on tly_actor_router_socket / tly_actor_audit_socket /
//      tly_actor_bus_socket, tly_actor_on_router / tly_actor_on_audit /
//      tly_actor_on_bus when readable, then tly_actor_tick and
//      tly_actor_flush, every time round; on a stop request
//      tly_actor_leave, and the loop ends once tly_actor_gone.
#ifndef TLY_ACTOR_H_INCLUDED
#define TLY_ACTOR_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tly_curve.h"
#include "tly_ledger.h"
#include "tly_limits.h"

//  Routes waiting for a batch; the router socket is not read beyond this.
#define TLY_ACTOR_READY_MAX        (4 * TLY_ACTOR_BATCH_MAX)
//  Routes held by all loading partitions together; beyond this they are
//  answered NOT_OWNER (the router retries).
#define TLY_ACTOR_HELD_MAX         TLY_ACTOR_READY_MAX
//  Messages read from one socket before the loop turns round.
#define TLY_ACTOR_DRAIN_MAX        TLY_ACTOR_BATCH_MAX
#define TLY_ACTOR_AUDIT_TIMEOUT_MS 2000
//  How long a leaving actor waits for the router's acknowledgement.
#define TLY_ACTOR_LEAVE_WAIT_MS    2000
//  Messages queued towards a peer before sends fail (and are dropped): room
//  for every answer a full ready queue can produce.
#define TLY_ACTOR_SEND_HWM         (4 * TLY_ACTOR_READY_MAX)

typedef struct {
    const char *name;  //  stable actor name, sent in every hello
    const char *router_endpoint;
    const char *audit_endpoint;
    const char *bus_endpoint;  //  the router's update bus (XSUB)
    tly_curve_t *curve;        //  CURVE on TCP endpoints; NULL: none (in-process use)
    uint32_t partition_count;
    int64_t heartbeat_ms;
    int64_t liveness;                          //  silent heartbeats before the router is gone
    int64_t audit_timeout_ms;                  //  deadline of an append or a read
    int64_t lease_ms;                          //  objects are published this long after a snapshot
    uint64_t state_snapshot_records;           //  a partition's records between state snapshots
    int64_t state_snapshot_ms;                 //  longest a record waits for a state snapshot
    uint8_t worker_sk [TLY_SECRET_KEY_BYTES];  //  the worker's key (libsodium form: seed | public
                                               //  key): the inbox every envelope must name, and
                                               //  the signer of every published object
} tly_actor_config_t;

typedef struct _tly_actor_t tly_actor_t;

//  Connects both links and sends the first hello. The ledger stays the
//  caller's. Returns NULL on failure (logged).
tly_actor_t *tly_actor_new (const tly_actor_config_t *config, tly_ledger_t *ledger);
void tly_actor_destroy (tly_actor_t **self_p);

//  The sockets to poll. The router socket only while more routes are welcome.
void *tly_actor_router_socket (tly_actor_t *self);
void *tly_actor_audit_socket (tly_actor_t *self);
void *tly_actor_bus_socket (tly_actor_t *self);
bool tly_actor_accepting (tly_actor_t *self);
//  Milliseconds until the next deadline (hello, append, read), for zmq_poll.
long tly_actor_timeout (tly_actor_t *self);

//  Drain what waits on a socket.
void tly_actor_on_router (tly_actor_t *self);
void tly_actor_on_audit (tly_actor_t *self);
void tly_actor_on_bus (tly_actor_t *self);
//  Hellos, router liveness, append and read deadlines.
void tly_actor_tick (tly_actor_t *self);
//  When no batch is in flight: applies a pending assignment and starts the
//  next batch from the waiting routes.
void tly_actor_flush (tly_actor_t *self);

//  Hands the partitions over (on SIGTERM): no new batch starts; once the
//  batch in flight is journaled and answered, the actor tells the router it
//  leaves (ActorLeave), says no more hellos, and answers every route and
//  snapshot request it still has, and any that arrives later, NOT_OWNER.
//  Idempotent.
void tly_actor_leave (tly_actor_t *self);
//  True once a leaving actor may exit: the router acknowledged the leave,
//  or TLY_ACTOR_LEAVE_WAIT_MS passed, or no router was heard to tell.
bool tly_actor_gone (tly_actor_t *self);

#endif
