//  tly_saver - saves the state snapshots of the partitions a balance actor
//  serves to the audit writer (docs/journal.md, "State snapshots").
//
//  A served partition is due once it has applied --snapshot-records records
//  since its latest snapshot, or any record and --snapshot-ms have passed.
//  One snapshot is saved at a time: its rows are taken from the committed
//  state in one read (tly_ledger_each_row), cut into parts of at most
//  TLY_SAVER_PART_BYTES, and sent one part per reply. A failed or silent
//  save is tried again later from part 0.
//
//      tly_saver_serve (saver, partition, latest_snapshot_seq);
//      tly_saver_tick (saver);                       //  starts and sends
//      ... SnapshotSaveReply arrives ...
//      tly_saver_on_reply (saver, reply);
#ifndef TLY_SAVER_H_INCLUDED
#define TLY_SAVER_H_INCLUDED

#include <czmq.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_ledger.h"

#define TLY_SAVER_PART_BYTES (1024 * 1024)
#define TLY_SAVER_RETRY_MS   10000  //  after a refused or silent save
#define TLY_SAVER_SCAN_MS    1000   //  how often served partitions are looked at

typedef struct _tly_saver_t tly_saver_t;

typedef struct {
    uint64_t every_records;  //  applied records that make a partition due (>= 1)
    int64_t every_ms;        //  longest a record waits for a snapshot (>= 1)
    int64_t timeout_ms;      //  a part's reply, before the save is tried again
} tly_saver_config_t;

//  Parts go out on audit (a DEALER the caller polls). Neither is owned.
tly_saver_t *tly_saver_new (tly_ledger_t *ledger, zsock_t *audit, uint32_t partition_count,
                            const tly_saver_config_t *config);
void tly_saver_destroy (tly_saver_t **self_p);

//  The actor serves partition, whose latest snapshot is at
//  latest_partition_seq (0: none).
void tly_saver_serve (tly_saver_t *self, uint32_t partition, uint64_t latest_partition_seq);
//  The actor no longer serves partition: a save of it in progress stops.
void tly_saver_drop (tly_saver_t *self, uint32_t partition);
//  Starts a save that is due, sends the next part, retries a silent one.
void tly_saver_tick (tly_saver_t *self);
void tly_saver_on_reply (tly_saver_t *self, const Tally__SnapshotSaveReply *reply);
//  Monotonic ms when tly_saver_tick has work next.
int64_t tly_saver_next (tly_saver_t *self);
//  Snapshots saved since start.
uint64_t tly_saver_saved (tly_saver_t *self);

#endif
