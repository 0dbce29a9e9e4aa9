//  tly_journal - the audit journal: a durable, hash-chained record log in LMDB.
//
//  The journal is tally's source of truth. Every record has a global sequence
//  (1, 2, 3, ...) and a per-partition sequence; each record's hash covers the
//  hash of the one before it, so the whole log is one chain. A per-partition
//  fence (the highest epoch seen) refuses writers that lost ownership.
//
//  On disk the journal is a run of segments, DIR/segments/<first seq, 20
//  digits>.mdb, each one LMDB file (committed with fsync) holding a range of
//  seqs:
//    records     seq u64 BE                      -> StoredRecord bytes
//    pindex      partition u32 BE | pseq u64 BE  -> seq u64 BE
//    partitions  partition u32 BE                -> fence u64 BE | last pseq u64 BE
//    bases       partition u32 BE                -> the same, before the segment
//    checkpoints seq u64 BE                      -> SignedCheckpoint bytes
//    meta        "format", "first", "base", "base_checkpoint", "head", "sealed"
//  The writer rolls to a new segment (tly_journal_set_segments) at the start
//  of a group commit once the active one is big enough: it seals it (a
//  signed checkpoint of its last record, and the sealed mark) and never
//  writes it again. Readers read across segments, and across archive
//  folders that sealed segments were moved to (tly_journal_retire).
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
#define TLY_JOURNAL_SUBDIR                "journal"
//  Inside the journal directory: the live segments, and the archive folder
//  readers look in by default.
#define TLY_JOURNAL_SEGMENTS_SUBDIR       "segments"
#define TLY_JOURNAL_ARCHIVE_SUBDIR        "archive"
//  A stored SignedCheckpoint is well under this.
#define TLY_JOURNAL_CHECKPOINT_MAX        256
//  tally-audit's --segment-bytes: its default, and the least it accepts
//  (small, so that tests can roll often).
#define TLY_JOURNAL_SEGMENT_BYTES_DEFAULT (256ULL << 20)
#define TLY_JOURNAL_SEGMENT_BYTES_MIN     (64ULL << 10)
//  A test stops the writer dead at a step of a roll with the fault points
//  journal.roll.sealed, .made and .renamed (tly_fault.h, test builds only).
//  The largest stored record, TLY_JOURNAL_RECORD_MAX, is in tly_limits.h:
//  the balance actor sizes its drafts below it.
//  Stored bytes one read gathers; the first record is always taken.
#define TLY_JOURNAL_READ_BYTES            (TLY_FRAME_HARD_MAX / 2)
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
//  Segments in path/archive are read too (also those moved there after
//  the reader listed them).
tly_journal_t *tly_journal_new_reader (const char *path);
//  The same, looking for segments in the given archive folders (and not
//  path/archive unless it is one of them); a segment found in two places is
//  read from the first (path's own segments before any archive).
tly_journal_t *tly_journal_new_reader_in (const char *path, const char *const *archives,
                                          size_t archive_count);
//  Opens one segment file on its own (an archived one, to verify it):
//  reads, iterate and checkpoints see only its records.
tly_journal_t *tly_journal_new_segment_reader (const char *file);
void tly_journal_destroy (tly_journal_t **self_p);

//  Starts a write transaction. Returns 0 or -1 (logged).
int tly_journal_begin (tly_journal_t *self);
//  Decides one draft inside the open transaction and fills status: OK with the
//  new seq, STALE_EPOCH, SEQUENCE_GAP with the expected partition seq,
//  STALE_CONFIG when the draft's config_version is not the current
//  configuration's (tly_journal_config), or BAD_REQUEST for a malformed
//  draft (also one whose new config is not of a higher version). A draft
//  with a config makes it the current one. Returns 0, or -1 when LMDB failed (the
//  transaction is then unusable: call tly_journal_abort).
int tly_journal_append (tly_journal_t *self, const Tally__RecordDraft *draft,
                        Tally__AppendStatus *status);
//  Commits (fsync) and only then updates the cached head and partitions.
//  Returns 0, or -1 with everything since begin discarded.
int tly_journal_commit (tly_journal_t *self);
//  Discards the open transaction, if any.
void tly_journal_abort (tly_journal_t *self);
//  The committed configuration (docs/protocol.md "Admins and the catalog"):
//  its version, and its packed Config in *bytes, *size (NULL, 0 for version
//  0), valid until the next commit.
uint64_t tly_journal_config (tly_journal_t *self, const uint8_t **bytes, size_t *size);
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
//  Raises the fences of several partitions in one transaction and one
//  fsync: partitions [i] to epochs [i] where that is above its fence (to
//  the highest epoch named for it; a claim at or below the fence is left to
//  the read that carries it). For a writer holding several claiming reads
//  at once, whose reads then find their fences raised and write nothing:
//  one fsync instead of one each. Returns 0, or -1 with no fence raised.
int tly_journal_raise_fences (tly_journal_t *self, const uint32_t *partitions,
                              const uint64_t *epochs, size_t count);
//  Calls fn for every record with seq >= from_seq, in global order.
//  Returns 0 (also when fn stopped) or -1. A reader's fn may read the
//  journal again (tly_journal_read, as verify reads a refund's purchase):
//  the segment being walked stays open meanwhile, whatever else is opened.
int tly_journal_iterate (tly_journal_t *self, uint64_t from_seq, tly_journal_record_fn *fn,
                         void *arg);

//  Writer: roll to a new segment at the start of a group commit once the
//  active one uses bytes (0: no limit) or holds records (0: no limit);
//  sealer signs each seal (its keys must outlive the journal). Until this is
//  called the journal never rolls.
void tly_journal_set_segments (tly_journal_t *self, uint64_t bytes, uint64_t records,
                               const tly_journal_signer_t *sealer);

//  One segment, as tly_journal_segment_info describes it. Pointers are
//  valid until the journal is refreshed, retired from or destroyed.
typedef struct {
    const char *path;  //  its file
    uint64_t first;    //  its first seq
    uint64_t last;     //  its last seq (first - 1 while empty)
    bool sealed;
    bool archived;            //  found in an archive folder (or opened on its own)
    uint64_t bytes;           //  its file's size
    tly_journal_head_t base;  //  the record before first (zeros before seq 1)
    //  The predecessor's seal (SignedCheckpoint bytes; size 0 for the first
    //  segment, or a format-1 one).
    const uint8_t *base_checkpoint;
    size_t base_checkpoint_size;
} tly_journal_segment_info_t;

//  How many segments the journal has found (live and archived).
size_t tly_journal_segment_count (tly_journal_t *self);
//  Describes segment index (0 is the oldest found). Returns 0, or -1 when it
//  cannot be read (logged).
int tly_journal_segment_info (tly_journal_t *self, size_t index, tly_journal_segment_info_t *info);
//  The index of the segment holding seq, or tly_journal_segment_count when
//  no segment found holds it.
size_t tly_journal_segment_at (tly_journal_t *self, uint64_t seq);
//  The first seqs from 1 on that no segment found holds, when there are
//  any before the head (segments deleted, or archived where this reader
//  does not look): true with from..to set. tly_journal_iterate stops at
//  such a gap with -1 (logged), never skips it.
bool tly_journal_gap (tly_journal_t *self, uint64_t *from, uint64_t *to);
//  Reader: whether a segment it listed in segments/ was gone when a read
//  came to it, neither there nor in an archive folder it looks in: a live
//  writer's retention deleted it (or archived it elsewhere) meanwhile. That
//  read failed (logged, journal.segment_gone); a new reader sees what is
//  kept now. A segment moved to an archive folder the reader looks in is
//  read from there, as if it had been listed so.
bool tly_journal_retired (tly_journal_t *self);
//  Writer: what its live segments hold, read from what it knows and one
//  stat of the active file (no segment is opened), for status.
typedef struct {
    uint32_t segments;      //  in segments/: the active one and the sealed ones
    uint32_t sealed;        //  of those, sealed
    uint64_t bytes;         //  their files' sizes
    uint64_t active_first;  //  the active segment's first seq (its file name)
} tly_journal_usage_t;

void tly_journal_usage (tly_journal_t *self, tly_journal_usage_t *usage);
//  The segment files in folder dir (an archive) and their bytes; 0 and 0
//  when dir does not exist. Returns 0, or -1 when it cannot be read.
int tly_journal_archive_usage (const char *dir, uint32_t *segments, uint64_t *bytes);
//  Writer: moves every sealed segment whose last seq is below before_seq
//  into archive_dir (made if missing; or deletes them when archive_dir is
//  NULL), oldest first, fsyncing both folders, and logs each
//  (journal.segment_archived / journal.segment_deleted). Never touches the
//  active segment. Returns how many it retired, or -1 (logged; those before
//  the failure stay retired).
int tly_journal_retire (tly_journal_t *self, uint64_t before_seq, const char *archive_dir);

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

//  Gives the pages of every open segment's map back to the kernel: what
//  the process read through a map (records it served, the pages an append
//  touched) otherwise stays resident, up to a whole segment and the
//  sealed ones a read opened. Nothing is lost or written: the next read
//  faults the pages in again from the page cache. Not inside a write
//  transaction. Returns how many maps it released.
int tly_journal_release (tly_journal_t *self);

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
