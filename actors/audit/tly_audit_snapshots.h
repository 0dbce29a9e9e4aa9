//  tly_audit_snapshots - the writer's store of the balance actors' state
//  snapshots (docs/journal.md, "State snapshots").
//
//  An actor sends a partition's state as it stood after partition_seq N, in
//  parts (SnapshotSave). The writer stores each part as it comes, and when
//  the last one arrives it finds record N of the partition in the journal,
//  signs a SnapshotHeader naming that record's seq and hash, the parts'
//  digest and sizes, and makes it the partition's latest in the same
//  commit, dropping the one before. An actor taking a partition loads the
//  latest (SnapshotLoad) and reads the journal only after N.
//
//  On disk: one LMDB environment in DATA/snapshots, every commit fsync'd:
//    parts   partition u32 BE | partition_seq u64 BE | part u32 BE -> rows bytes
//    latest  partition u32 BE -> SignedSnapshotHeader bytes
//    meta    "format" -> u32 BE, 1
#ifndef TLY_AUDIT_SNAPSHOTS_H_INCLUDED
#define TLY_AUDIT_SNAPSHOTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_account.h"
#include "tly_arena.h"
#include "tly_journal.h"

#define TLY_SNAPSHOTS_SUBDIR "snapshots"

typedef struct _tly_audit_snapshots_t tly_audit_snapshots_t;

//  Opens (creating if needed) the store in path; headers are signed with
//  worker's key (copied). The map starts at map_size and doubles when full
//  up to map_max. Returns NULL on failure (logged).
tly_audit_snapshots_t *tly_audit_snapshots_new (const char *path, size_t map_size, size_t map_max,
                                                const tly_account_t *worker);
void tly_audit_snapshots_destroy (tly_audit_snapshots_t **self_p);

//  Takes one part of a snapshot and fills reply: an error (in arena), or,
//  when the part completed it, the signed header it stored.
void tly_audit_snapshots_save (tly_audit_snapshots_t *self, tly_journal_t *journal,
                               const Tally__SnapshotSave *save, tly_arena_t *arena,
                               Tally__SnapshotSaveReply *reply);
//  Answers a load: part 0 of the partition's latest snapshot with its
//  header if it is past load->after_partition_seq, else no header; a later
//  part of the snapshot at load->partition_seq while it is still the latest.
void tly_audit_snapshots_load (tly_audit_snapshots_t *self, const Tally__SnapshotLoad *load,
                               tly_arena_t *arena, Tally__SnapshotLoadReply *reply);

//  What retention may let go of: the first journal seq that some partition
//  still needs to be rebuilt (the seq of its first record after its latest
//  snapshot, or of its first record when it has none; head + 1 when none
//  needs any), and how many partitions have records but no snapshot.
//  Returns 0, or -1 (logged).
int tly_audit_snapshots_needed (tly_audit_snapshots_t *self, tly_journal_t *journal,
                                uint64_t *needed_seq, uint32_t *without);
//  What the store holds, for status (JournalStatus): the latest snapshot
//  of each partition that has one.
typedef struct {
    uint32_t count;           //  partitions with a snapshot
    uint64_t bytes;           //  their parts' bytes
    uint64_t oldest_seq;      //  the lowest journal seq one of them is at (0: none)
    uint64_t last_seq;        //  the one stored last: its journal seq,
    uint32_t last_partition;  //  its partition,
    int64_t last_ms;          //  and when (its header's timestamp; 0: none)
} tly_audit_snapshots_stats_t;

void tly_audit_snapshots_stats (tly_audit_snapshots_t *self, tly_audit_snapshots_stats_t *stats);

#endif
