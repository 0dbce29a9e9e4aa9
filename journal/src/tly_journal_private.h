//  tly_journal_private - what the journal's source files share. Not for users:
//  include tly_journal.h instead.
#ifndef TLY_JOURNAL_PRIVATE_H_INCLUDED
#define TLY_JOURNAL_PRIVATE_H_INCLUDED

#include <limits.h>
#include <lmdb.h>
#include "tly_journal.h"
#include "tly_bytes.h"

#define TLY_JOURNAL_PINDEX_KEY      12  //  partition u32 BE | partition seq u64 BE
#define TLY_JOURNAL_PARTITION_VALUE 16  //  fence u64 BE | last partition seq u64 BE
#define TLY_JOURNAL_HEAD_VALUE      (8 + TLY_HASH_BYTES)  //  seq u64 BE | hash
#define TLY_JOURNAL_FORMAT_LEGACY   1  //  one environment in the journal directory
#define TLY_JOURNAL_FORMAT          2  //  segments, each one file
//  Environments one journal keeps open at once, besides a writer's active
//  segment and a reader's newest one (both pinned).
#define TLY_JOURNAL_OPEN_MAX        8
#define TLY_JOURNAL_HEAD_KEY        "head"  //  meta: the last record (seq | hash)
//  A segment being made: renamed into place when complete.
#define TLY_JOURNAL_NEW_SUFFIX      ".new"

typedef struct {
    uint64_t fence;      //  highest epoch accepted or claimed
    uint64_t last_pseq;  //  last partition seq written
} tly_journal_state_t;

//  One segment: an LMDB environment holding a contiguous range of seqs.
typedef struct {
    char path [PATH_MAX];  //  the file (a directory for a format-1 journal)
    uint64_t first;        //  its first seq, from its name (1 for format 1)
    bool archived;         //  found in an archive folder, not in segments/
    bool legacy;           //  a format-1 environment: a directory, not a file
    bool known;            //  the fields below have been read from its meta
    uint64_t last;         //  its last seq (first - 1 while empty)
    bool sealed;
    tly_journal_head_t base;  //  the record before its first (zeros for seq 1)
    uint8_t base_checkpoint [TLY_JOURNAL_CHECKPOINT_MAX];
    size_t base_checkpoint_size;
    uint64_t bytes;  //  the file's size when listed

    MDB_env *env;  //  NULL while closed
    MDB_dbi records;
    MDB_dbi pindex;
    MDB_dbi partitions;
    MDB_dbi meta;
    MDB_dbi checkpoints;
    MDB_dbi bases;
    bool has_checkpoints;  //  a format-1 journal may have none
    bool has_bases;        //  format 1 has none: every base is 0
    MDB_txn *snapshot;     //  a read transaction kept while open (readers, sealed segments)
    uint64_t used;         //  when it was last used, for the LRU
    //  Walks with a cursor open in it now: a record callback may read the
    //  journal again (verify reads a refund's purchase), which must not
    //  close it under the cursor. The LRU passes it by.
    uint32_t walking;
} tly_journal_segment_t;

struct _tly_journal_t {
    char path [PATH_MAX];  //  the journal directory ("" for one segment file)
    bool read_only;
    int lock_fd;  //  exclusive writer lock, -1 for a reader

    //  Every segment found, in seq order; for a writer the last is active.
    tly_journal_segment_t **segments;
    size_t segment_count;
    size_t segment_capacity;
    char **archives;  //  a reader's extra folders to look in
    size_t archive_count;
    uint64_t clock;  //  the LRU's
    bool broken;     //  a reader whose refresh failed: every read fails
    bool retired;    //  a reader's listed segment was gone when it came to read it

    //  The writer's active segment (the last; env NULL while a roll is
    //  unfinished: sealed, its successor not made yet).
    tly_journal_segment_t *active;
    MDB_txn *txn;                 //  the open write transaction, or NULL
    size_t map_size;              //  the active map as LMDB has it now
    size_t map_size0;             //  what a new segment's map starts at
    size_t map_max;               //  how far a writer may grow it
    int failure;                  //  the LMDB code of the last failure since begin, or 0
    bool full;                    //  the last write failed for want of space
    uint64_t segment_bytes;       //  roll at this many used bytes (0: never)
    uint64_t segment_records;     //  roll at this many records (0: never)
    tly_journal_signer_t sealer;  //  signs each seal (sign_sk NULL: no rolling)

    //  Committed state, and what the open transaction has made of it.
    //  Only touched partitions (the dirty list) differ between the two.
    tly_journal_head_t head;
    tly_journal_head_t pending_head;
    uint64_t checkpoint_seq;  //  seq of the last checkpoint (0: none)
    uint64_t pending_checkpoint_seq;
    tly_journal_state_t *committed;  //  [TLY_PARTITIONS_MAX]
    tly_journal_state_t *pending;    //  [TLY_PARTITIONS_MAX]
    bool *is_dirty;                  //  [TLY_PARTITIONS_MAX]
    uint32_t *dirty;                 //  [TLY_PARTITIONS_MAX]
    size_t dirty_count;

    uint8_t *body;  //  reused RecordBody pack buffer
    size_t body_capacity;

    //  The service's configuration (docs/protocol.md "Admins and the
    //  catalog"): the version every draft must name, and the packed Config
    //  (empty for version 0), committed and as the open transaction has it.
    uint64_t config_version;
    uint8_t *config;
    size_t config_size;
    uint64_t pending_config_version;
    uint8_t *pending_config;
    size_t pending_config_size;
};

#define TLY_JOURNAL_CONFIG_KEY "config"

//  Reads the packed Config kept in segment's meta (none: version 0) into
//  the committed and pending configuration. Returns 0 or -1 (logged).
int tly_journal_load_config (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn);

static inline void
s_pindex_key (uint8_t key [TLY_JOURNAL_PINDEX_KEY], uint32_t partition, uint64_t partition_seq)
{
    tly_put_be32 (key, partition);
    tly_put_be64 (key + 4, partition_seq);
}

//  Logs an LMDB failure: one line naming the journal and the operation.
//  Keeps rc, so the group commit can tell a full map (grow and redo) or a
//  full disk from any other failure. A full map is the grow line's to log.
void tly_journal_lmdb_error (tly_journal_t *self, const char *operation, int rc);
//  Reads a head-shaped meta entry (seq | hash) named key in segment's meta
//  (zeros when there is none). Returns 0, or -1 when malformed (logged).
int tly_journal_load_head (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                           const char *key, tly_journal_head_t *head);
//  Reads the seq of the segment's last checkpoint in txn (0 when none).
//  Returns 0 or -1.
int tly_journal_load_checkpoint_seq (tly_journal_t *self, tly_journal_segment_t *segment,
                                     MDB_txn *txn, uint64_t *seq);
//  After a write that went through (ok) or failed: notes, and logs once,
//  when the journal runs out of room and when it has room again.
void tly_journal_note_space (tly_journal_t *self, bool ok);
//  Inside the open write transaction: raises a partition's fence to epoch.
void tly_journal_claim (tly_journal_t *self, uint32_t partition, uint64_t epoch);

//  The writer core (tly_journal.c), for the roll and the opening.
//
//  Stores meta entry name (bytes), a head-shaped one, and a partition's
//  entry (fence, last partition seq). Return 0 or an LMDB code.
int tly_journal_put_meta (MDB_txn *txn, MDB_dbi meta, const char *name, const void *bytes,
                          size_t size);
int tly_journal_put_head (MDB_txn *txn, MDB_dbi meta, const char *name,
                          const tly_journal_head_t *head);
int tly_journal_put_partition (MDB_txn *txn, MDB_dbi dbi, uint32_t partition,
                               const tly_journal_state_t *state, unsigned flags);

//  Opening a journal (tly_journal_open.c), for the roll.
//
//  Opens an environment on segment file path (map_size 0: LMDB's). Returns
//  0, or -1 (logged) with *env NULL.
int tly_journal_env_open (tly_journal_t *self, MDB_env **env, const char *path, size_t map_size);
//  Opens the last segment for writing, its tables and the caches. Returns 0 or -1.
int tly_journal_open_active (tly_journal_t *self);

//  The segment roll (tly_journal_roll.c).
//
//  Makes the segment after the head (seal: its predecessor's seal
//  checkpoint, seal_size 0 for none) and opens it for writing. Returns 0 or -1.
int tly_journal_make_next (tly_journal_t *self, const uint8_t *seal, size_t seal_size);
//  Seals the active segment and makes the next; also finishes a roll a
//  crash interrupted (the last segment sealed). Returns 0 or -1.
int tly_journal_roll (tly_journal_t *self);
//  Whether the active segment is due to roll before the next commit.
bool tly_journal_roll_due (tly_journal_t *self);

//  Segments (tly_journal_segment.c).
//
//  The file name of the segment whose first seq is first, in dir.
void tly_journal_segment_path (char *out, size_t size, const char *dir, uint64_t first);
//  Finds the segments of the journal (its segments/ folder, a format-1
//  environment, and for a reader its archive folders) and adds those not
//  yet listed, in seq order. Returns 0 or -1 (logged).
int tly_journal_segments_scan (tly_journal_t *self);
//  Adds one segment file (verify --segment). Returns 0 or -1.
int tly_journal_segments_add_file (tly_journal_t *self, const char *file);
//  Makes sure segment's environment is open (closing the least recently
//  used one beyond TLY_JOURNAL_OPEN_MAX) with its read transaction, and its
//  meta read. Not for the writer's active segment. Returns 0 or -1 (logged).
int tly_journal_segment_use (tly_journal_t *self, tly_journal_segment_t *segment);
//  Closes a segment's environment (not the writer's active one).
void tly_journal_segment_close (tly_journal_segment_t *segment);
//  Opens the DBIs of an environment in txn (creating them for a writer).
int tly_journal_segment_dbis (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn,
                              bool create);
//  Reads a segment's meta in txn into its fields (first, last, sealed, base).
//  Returns 0, or -1 for an unknown format or a malformed entry (logged).
int tly_journal_segment_meta (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn);
//  The read transaction to read segment with (the writer's active segment:
//  a fresh one, handed back with tly_journal_segment_done). NULL on failure.
MDB_txn *tly_journal_segment_txn (tly_journal_t *self, tly_journal_segment_t *segment);
void tly_journal_segment_done (tly_journal_t *self, tly_journal_segment_t *segment, MDB_txn *txn);
//  The index of the segment holding seq, or of the first one after it
//  (segment_count when none).
size_t tly_journal_segment_find (tly_journal_t *self, uint64_t seq);
void tly_journal_segments_free (tly_journal_t *self);
//  Moves a reader's snapshot of segment to the latest commit and reads its
//  meta again. Returns 0 or -1 (logged; the segment is closed).
int tly_journal_segment_renew (tly_journal_t *self, tly_journal_segment_t *segment);
//  fsyncs a directory, so that entries made or removed in it are durable.
int tly_journal_sync_dir (const char *dir);

#endif
