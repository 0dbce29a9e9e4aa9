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

typedef struct {
    uint64_t fence;      //  highest epoch accepted or claimed
    uint64_t last_pseq;  //  last partition seq written
} tly_journal_state_t;

struct _tly_journal_t {
    char path [PATH_MAX];
    bool read_only;
    int lock_fd;  //  exclusive writer lock, -1 for a reader
    MDB_env *env;
    MDB_dbi records;
    MDB_dbi pindex;
    MDB_dbi partitions;
    MDB_dbi meta;
    MDB_dbi checkpoints;
    bool has_checkpoints;  //  false for a reader of a journal that has none
    MDB_txn *txn;          //  the open write transaction, or NULL
    MDB_txn *snapshot;     //  a reader's read transaction: what it sees
    size_t map_size;       //  the map as LMDB has it now
    size_t map_max;        //  how far a writer may grow it
    int failure;           //  the LMDB code of the last failure since begin, or 0
    bool full;             //  the last write failed for want of space

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
};

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
//  Reads the head entry in txn (zeros when there is none). Returns 0, or -1
//  when the entry is malformed (logged).
int tly_journal_load_head (tly_journal_t *self, MDB_txn *txn, tly_journal_head_t *head);
//  Reads the seq of the last checkpoint in txn (0 when none). Returns 0 or -1.
int tly_journal_load_checkpoint_seq (tly_journal_t *self, MDB_txn *txn, uint64_t *seq);
//  What a read looks at: a reader's snapshot, or for a writer a fresh read
//  transaction. Either way the caller hands it back to tly_journal_read_end.
//  Returns NULL on failure (logged).
MDB_txn *tly_journal_read_begin (tly_journal_t *self);
void tly_journal_read_end (tly_journal_t *self, MDB_txn *txn);
//  Calls fn for each entry of dbi (8-byte big-endian keys) from key from_key
//  on, in its own read transaction, until fn returns TLY_JOURNAL_STOP or
//  TLY_JOURNAL_FAIL. what names the table in the log line for a malformed
//  key. Returns 0, or -1 on a storage error, a malformed key or a FAIL.
int tly_journal_walk (tly_journal_t *self, MDB_dbi dbi, uint64_t from_key, const char *what,
                      tly_journal_record_fn *fn, void *arg);
//  After a write that went through (ok) or failed: notes, and logs once,
//  when the journal runs out of room and when it has room again.
void tly_journal_note_space (tly_journal_t *self, bool ok);
//  A reader: opens its snapshot, adopting the map size of a writer that
//  grew it. Returns 0 or LMDB's code (snapshot NULL).
int tly_journal_snapshot_begin (tly_journal_t *self);
//  Inside the open write transaction: raises a partition's fence to epoch.
void tly_journal_claim (tly_journal_t *self, uint32_t partition, uint64_t epoch);

#endif
