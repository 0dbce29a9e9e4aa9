//  tly_journal - the audit journal: a durable, hash-chained record log in LMDB.
//
//  The journal is tally's source of truth. Every record has a global sequence
//  (1, 2, 3, ...) and a per-partition sequence; each record's hash covers the
//  hash of the one before it, so the whole log is one chain. A per-partition
//  fence (the highest epoch seen) refuses writers that lost ownership.
//
//  On disk (one LMDB environment in a directory, committed with fsync):
//    records     seq u64 BE                      -> StoredRecord bytes
//    pindex      partition u32 BE | pseq u64 BE  -> seq u64 BE
//    partitions  partition u32 BE                -> fence u64 BE | last pseq u64 BE
//    meta        "head"                          -> seq u64 BE | hash (32 bytes)
//    checkpoints seq u64 BE                      -> SignedCheckpoint bytes
//
//  Group commit: begin, append any number of drafts (from any number of
//  requests), commit once. Nothing an append decides is visible (or cached)
//  until the commit succeeds. tly_journal_append_batch is that loop, with
//  the checkpoints a signer makes on the way:
//
//      tly_journal_t *journal = tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT);
//      tly_journal_append_batch (journal, drafts, count, statuses, &signer);
//
//  which is, one step at a time:
//
//      tly_journal_begin (journal);
//      tly_journal_append (journal, draft, &status);       //  per draft
//      tly_journal_checkpoint (journal, ...);              //  when enough are unsigned
//      tly_journal_commit (journal);                       //  one fsync
//
//  Checkpoints: the writer signs the chain head with the worker key, inside an
//  append transaction or on its own (tly_journal_checkpoint). A reader sees
//  one consistent snapshot, taken when it opens, until tly_journal_refresh.
//  docs/journal.md describes every byte.
#ifndef TLY_JOURNAL_H_INCLUDED
#define TLY_JOURNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_limits.h"

//  Where tally-audit keeps its journal inside --data-dir.
#define TLY_JOURNAL_SUBDIR     "journal"
//  The largest stored record, TLY_JOURNAL_RECORD_MAX, is in tly_limits.h:
//  the balance actor sizes its drafts below it.
//  Stored bytes one read gathers; the first record is always taken.
#define TLY_JOURNAL_READ_BYTES (TLY_FRAME_HARD_MAX / 2)
_Static_assert(TLY_JOURNAL_READ_BYTES + TLY_READ_RECORDS_MAX * 16 <= TLY_FRAME_HARD_MAX
                   && TLY_JOURNAL_RECORD_MAX + 1024 <= TLY_FRAME_HARD_MAX,
               "a read's records, or its one first record, fit one ReadReply frame");

typedef struct _tly_journal_t tly_journal_t;

typedef struct {
    uint64_t seq;                   //  0 when the journal is empty
    uint8_t hash [TLY_HASH_BYTES];  //  32 zero bytes when empty
} tly_journal_head_t;

typedef struct {
    uint32_t partition;
    uint64_t claim_epoch;  //  > 0: raise the fence to it first
    uint64_t after_partition_seq;
    uint32_t max_records;  //  1..TLY_READ_RECORDS_MAX
    size_t max_bytes;      //  stored bytes; the first record always fits
} tly_journal_query_t;

//  What a record callback tells the walk that called it.
typedef enum {
    TLY_JOURNAL_FAIL = -1,  //  fail the whole call
    TLY_JOURNAL_NEXT = 0,   //  go on with the next record
    TLY_JOURNAL_STOP = 1    //  stop here; the record counts as delivered
} tly_journal_step_t;

//  Called once per record in order with the stored StoredRecord bytes, which
//  are only valid during the call.
typedef tly_journal_step_t (tly_journal_record_fn) (uint64_t seq, const uint8_t *stored,
                                                    size_t size, void *arg);

//  Who signs checkpoints inside a group commit (tly_journal_append_batch),
//  and how often.
typedef struct {
    const uint8_t *sign_sk;  //  the worker key, libsodium's form (TLY_SECRET_KEY_BYTES)
    const uint8_t *sign_pk;  //  its public half, named in each checkpoint
    uint64_t every;          //  sign when this many records are unsigned, >= 1
    //  false: a checkpoint carries the wall clock (the writer); true: the
    //  timestamp_ms of the record it signs (a workload that must come out
    //  the same on every run).
    bool record_time;
} tly_journal_signer_t;

//  Opens (creating if needed) the journal in directory path for writing.
//  Holds an exclusive lock on the directory: one writer per journal.
//  map_size is LMDB's map size in bytes. Returns NULL on failure (logged).
tly_journal_t *tly_journal_new (const char *path, size_t map_size);
//  Lets the map grow up to map_max bytes (rounded down to whole pages; never
//  below its size now). Until then it never grows. A group commit
//  (tly_journal_append_batch) that fills the map is aborted, the map doubled
//  and the whole group decided again; tly_journal_begin grows it ahead when
//  it is three quarters full.
void tly_journal_set_map_max (tly_journal_t *self, size_t map_max);
//  The map's size now.
size_t tly_journal_map_size (tly_journal_t *self);
//  The last group commit failed for want of space (the map at its maximum,
//  or the disk full); false again once one succeeds.
bool tly_journal_full (tly_journal_t *self);
//  Opens an existing journal read-only (for verify/export tools); a live
//  writer in another process may hold it at the same time (LMDB allows one
//  environment per file per process, so never both in one process).
//  Every read sees the snapshot taken here (the writer is never paused; it
//  keeps the pages the snapshot uses). Opening checks nothing beyond the
//  format: a reader is how damage is found. Appends and claims are not allowed.
tly_journal_t *tly_journal_new_reader (const char *path);
void tly_journal_destroy (tly_journal_t **self_p);

//  Starts a write transaction. Returns 0 or -1 (logged).
int tly_journal_begin (tly_journal_t *self);
//  Decides one draft inside the open transaction and fills status: OK with the
//  new seq, STALE_EPOCH, SEQUENCE_GAP with the expected partition seq, or
//  BAD_REQUEST for a malformed draft. Returns 0, or -1 when LMDB failed (the
//  transaction is then unusable: call tly_journal_abort).
int tly_journal_append (tly_journal_t *self, const Tally__RecordDraft *draft,
                        Tally__AppendStatus *status);
//  Commits (fsync) and only then updates the cached head and partitions.
//  Returns 0, or -1 with everything since begin discarded.
int tly_journal_commit (tly_journal_t *self);
//  Discards the open transaction, if any.
void tly_journal_abort (tly_journal_t *self);
//  The group commit: begin, append each draft (statuses [i] for drafts [i]),
//  sign the head inside the same transaction each time signer->every
//  records wait unsigned (signer NULL: never), commit once (one fsync).
//  Returns 0, or -1 with nothing written and no status to be trusted.
int tly_journal_append_batch (tly_journal_t *self, Tally__RecordDraft *const *drafts, size_t count,
                              Tally__AppendStatus *statuses, const tly_journal_signer_t *signer);

//  Reads a partition's records after query->after_partition_seq in order.
//  With a claim epoch, first raises the fence in the same transaction.
//  Returns OK (end set when no further record exists now), STALE_EPOCH when
//  the fence is above the claim, BAD_REQUEST for a bad query, or INTERNAL.
Tally__ErrorCode tly_journal_read (tly_journal_t *self, const tly_journal_query_t *query,
                                   tly_journal_record_fn *fn, void *arg, bool *end);
//  Calls fn for every record with seq >= from_seq, in global order.
//  Returns 0 (also when fn stopped) or -1.
int tly_journal_iterate (tly_journal_t *self, uint64_t from_seq, tly_journal_record_fn *fn,
                         void *arg);

//  The last committed record. A reader gets the head entry of its snapshot
//  as stored (zeros when there is none), which a verifier checks.
void tly_journal_head (tly_journal_t *self, tly_journal_head_t *head);
//  A partition's fence epoch and last partition seq (0, 0 when untouched).
//  For a writer these come from its cache of committed state.
void tly_journal_partition (tly_journal_t *self, uint32_t partition, uint64_t *fence,
                            uint64_t *last_partition_seq);
//  A reader moves its snapshot to the latest commit. Returns 0 or -1 (then
//  every later read fails).
int tly_journal_refresh (tly_journal_t *self);

//  Writer: records after the last checkpoint (counting the open transaction).
uint64_t tly_journal_unsigned (tly_journal_t *self);
//  Writer: signs the head with the worker key (sign_sk is libsodium's 64-byte
//  form, whose public half is worker_pk) and stores the SignedCheckpoint under
//  the head's seq. Inside an open transaction it signs the pending head and is
//  committed (or aborted) with it; outside one it commits on its own. Does
//  nothing when nothing is unsigned. Returns 0, or -1 (logged; inside a
//  transaction, abort it).
int tly_journal_checkpoint (tly_journal_t *self, const uint8_t sign_sk [TLY_SECRET_KEY_BYTES],
                            const uint8_t worker_pk [TLY_KEY_BYTES], int64_t now_ms);
//  Calls fn with each checkpoint's seq and SignedCheckpoint bytes, in seq
//  order. Returns 0 (also when fn stopped) or -1.
int tly_journal_each_checkpoint (tly_journal_t *self, tly_journal_record_fn *fn, void *arg);

//  One stored checkpoint, decoded.
typedef struct {
    uint64_t seq;                   //  the record it signs
    uint8_t hash [TLY_HASH_BYTES];  //  that record's hash, as signed
    int64_t timestamp_ms;
    bool signed_by_worker;  //  worker's signature, naming worker
} tly_journal_checkpoint_t;

//  Decodes SignedCheckpoint bytes and checks them against worker, the account
//  the reader trusts (never the key the checkpoint claims; NULL: not checked,
//  signed_by_worker false). Returns 0, or -1 when the bytes do not decode as a
//  checkpoint with a 32-byte hash.
int tly_journal_checkpoint_decode (const uint8_t *bytes, size_t size, const uint8_t *worker,
                                   tly_journal_checkpoint_t *checkpoint);

#endif
