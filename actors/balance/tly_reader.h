//  tly_reader - a balance actor's read path: snapshots and live updates.
//
//  A RouterToActor{snapshot} is answered NOT_OWNER for a partition the actor
//  does not own, held (bounded) while its partition catches up, and served
//  from the committed state otherwise: the object is built, its reader's
//  permission checked (a refusal lets nothing of the object out, not even
//  on the bus), the ObjectState signed and published on the bus as
//  BusObject{object, requester}, and only then SnapshotReply{snapshot_id,
//  version} goes back to the router.
//
//  After each batch has been journaled and committed, every object its
//  events changed that somebody watches is published, in commit order, as
//  BusObject{object} with the next version. Catch-up publishes nothing: a
//  gateway that sees a version gap resyncs. And when a partition starts
//  serving (taken over, or reloaded), the current state of each of its
//  watched objects is published as BusObject{object, current}: the updates
//  journaled before may never have been published (their owner died first,
//  or gave up on the append), and a quiet object would show no gap. For
//  the same reason, a watched object of a partition it serves is published
//  current once more when it has been quiet for a while after an update
//  (TLY_BUS_SETTLE_MS): the last update may have been dropped on its way.
//
//      tly_reader_request (reader, message, TLY_READER_SERVING);   //  takes message
//      tly_reader_partition (reader, partition, TLY_READER_SERVING);   //  releases held ones
//      tly_reader_publish (reader, batch);                         //  after settle
#ifndef TLY_READER_H_INCLUDED
#define TLY_READER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_batch.h"
#include "tly_bus.h"
#include "tly_ledger.h"

//  Snapshot requests held by loading partitions together; beyond, they are
//  answered NOT_OWNER (the router retries).
#define TLY_READER_HELD_MAX 4096

typedef enum {
    TLY_READER_UNOWNED,
    TLY_READER_LOADING,
    TLY_READER_SERVING
} tly_reader_state_t;

typedef struct {
    const char *bus_endpoint;                  //  the router's XSUB
    tly_curve_t *curve;                        //  NULL: no CURVE
    uint8_t worker_sk [TLY_SECRET_KEY_BYTES];  //  libsodium form: seed | public key
    int64_t lease_ms;                          //  publish this long after a snapshot
    uint32_t partition_count;
} tly_reader_config_t;

typedef struct _tly_reader_t tly_reader_t;

//  Answers go out on router (a DEALER, not owned). The ledger stays the
//  caller's. Returns NULL on failure (logged).
tly_reader_t *tly_reader_new (const tly_reader_config_t *config, tly_ledger_t *ledger,
                              void *router);
void tly_reader_destroy (tly_reader_t **self_p);

void *tly_reader_bus_socket (tly_reader_t *self);
//  Reads the subscriptions waiting on the bus socket.
void tly_reader_on_bus (tly_reader_t *self);
//  Takes a RouterToActor{snapshot} for a partition the actor holds in state.
void tly_reader_request (tly_reader_t *self, Tally__RouterToActor *message,
                         tly_reader_state_t state);
//  The partition is now in state: its held requests are served (SERVING)
//  or answered NOT_OWNER (UNOWNED); serving, its watched objects are
//  announced.
void tly_reader_partition (tly_reader_t *self, uint32_t partition, tly_reader_state_t state);
//  Publishes what a settled batch changed, for the objects somebody watches.
void tly_reader_publish (tly_reader_t *self, tly_batch_t *batch);
//  Housekeeping: forgets expired leases, publishes settled objects.
void tly_reader_tick (tly_reader_t *self);

#endif
