//  tly_catchup - reads newly owned partitions from the journal into the ledger.
//
//  Taking a partition, an actor first asks the audit writer whether the
//  partition has a state snapshot past what it has applied (a SnapshotLoad
//  probe, which the writer answers with the latest snapshot's
//  partition_seq alone). The partitions that have one load it in
//  partition order, one after another, with a few parts in flight (the
//  writer reads the next parts while the actor stores one, and the rows
//  arrive in key order, which the state takes at its tables' ends): for
//  each it checks the worker's signature on the header part 0 brings,
//  replaces the partition's state with the snapshot's rows, part by part,
//  and checks the parts' digest before it sets the partition's progress to
//  the snapshot's partition_seq (a bad snapshot is logged, the partition
//  cleared, and the journal read from the start instead). Then it claims
//  the partition at its epoch and reads the journal from its own applied
//  partition_seq to the end (ReadRequest with epoch > 0: the writer raises
//  the partition's fence first, so every record an older owner managed to
//  append is in what it reads). Each ReadReply's records are checked (hash,
//  partition, sequence) and applied in one transaction. A probe, read or
//  part that times out or fails is asked for again after the timeout.
//
//      tly_catchup_start (catchup, partition, epoch);
//      tly_catchup_tick (catchup);                     //  sends due reads
//      ... ReadReply arrives ...
//      if (tly_catchup_on_reply (catchup, read, &partition) == TLY_CATCHUP_DONE)
//          serve (partition);
#ifndef TLY_CATCHUP_H_INCLUDED
#define TLY_CATCHUP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_ledger.h"

typedef enum {
    TLY_CATCHUP_PENDING,  //  more to read, or a retry is due later
    TLY_CATCHUP_DONE,     //  read to the end: the partition may be served
    TLY_CATCHUP_FENCED,   //  a newer owner holds the partition
    TLY_CATCHUP_IGNORED   //  a late or unknown reply
} tly_catchup_status_t;

typedef struct _tly_catchup_t tly_catchup_t;

//  Reads go out on audit (a DEALER the caller polls). Neither is owned.
//  Snapshot headers must be signed by worker_pk.
tly_catchup_t *tly_catchup_new (tly_ledger_t *ledger, zsock_t *audit, uint32_t partition_count,
                                int64_t timeout_ms, const uint8_t worker_pk [TLY_KEY_BYTES]);
void tly_catchup_destroy (tly_catchup_t **self_p);

//  Starts (or restarts, forgetting a read in flight) catching partition up,
//  claiming it at epoch. The first read goes out on the next tick.
void tly_catchup_start (tly_catchup_t *self, uint32_t partition, uint64_t epoch);
//  Stops catching partition up; its replies are ignored from now on.
void tly_catchup_stop (tly_catchup_t *self, uint32_t partition);
//  Applies a ReadReply. Needs the ledger free of any other transaction.
//  Sets *partition unless the reply is IGNORED; DONE and FENCED end the
//  partition's catch-up.
tly_catchup_status_t tly_catchup_on_reply (tly_catchup_t *self, const Tally__ReadReply *read,
                                           uint32_t *partition);
//  Applies a SnapshotLoadReply, like tly_catchup_on_reply.
tly_catchup_status_t tly_catchup_on_snapshot (tly_catchup_t *self,
                                              const Tally__SnapshotLoadReply *load,
                                              uint32_t *partition);
//  The partition_seq of partition's latest snapshot, as the writer last
//  said (0: none).
uint64_t tly_catchup_latest_snapshot (tly_catchup_t *self, uint32_t partition);
//  Sends every read that is due: first reads, next pages, retries.
void tly_catchup_tick (tly_catchup_t *self);
//  Monotonic ms when the next read is due; INT64_MAX when none is.
int64_t tly_catchup_next (tly_catchup_t *self);

#endif
