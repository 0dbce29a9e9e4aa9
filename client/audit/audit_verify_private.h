//  audit_verify_private - what the parts of `tally audit verify` share: the
//  state of one verify (audit_verify_t), the checks the walk makes of each
//  record, and the walk and report. Not for other commands; the fuzz target
//  (tests/fuzz/fuzz_journal_verify.c) includes it to run the checks on
//  journals made in memory, exactly as the command runs them.
//
//  The order of one verify (audit_verify.c):
//
//      audit_verify_t self = { ... };
//      tly_journal_each_checkpoint (journal, audit_verify_load_checkpoint, &self);
//      audit_verify_load_segments (&self);
//      audit_verify_run (&self, json);  //  start_snapshots, walk, tables, report
#ifndef AUDIT_VERIFY_PRIVATE_H_INCLUDED
#define AUDIT_VERIFY_PRIVATE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "audit_derive.h"
#include "audit_journal.h"
#include "audit_progress.h"
#include "audit_snapshots.h"
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_journal.h"
#include "tly_limits.h"

#define AUDIT_VERIFY_COMMAND    "tally audit verify"
#define AUDIT_VERIFY_REASON_MAX 512
#define AUDIT_VERIFY_HEX_HASH   (2 * TLY_HASH_BYTES + 1)

//  A checkpoint as found in the journal, judged when the walk reaches its seq.
typedef struct {
    uint64_t seq;  //  its key
    bool decodes;
    bool signature_valid;  //  by the expected worker
    uint64_t named_seq;    //  the seq it says it signs
    uint8_t hash [TLY_HASH_BYTES];
} audit_verify_checkpoint_t;

//  One verify: what it checks against, where the walk is, its figures and
//  its first failure.
typedef struct {
    const uint8_t *worker;  //  NULL: no worker given
    tly_arena_t *arena;
    audit_derive_t *derive;  //  the state the records must follow from
    //  The writer's state snapshots, in seq order: each is checked against
    //  the state the records give at its record, or, where the records
    //  before it are not kept, is where its partition's state starts.
    audit_snapshot_t *snapshots;
    size_t snapshot_count;
    size_t snapshot_next;        //  the next one whose record is ahead
    uint64_t snapshots_checked;  //  agree with the records
    uint64_t snapshots_started;  //  the start of their partition
    uint64_t snapshots_unused;
    const audit_snapshot_t *first_unused;
    const char *first_unused_why;
    audit_progress_t progress;

    uint64_t next_seq;  //  the seq the next record must have
    uint8_t prev_hash [TLY_HASH_BYTES];
    uint64_t records;
    uint64_t *partition_seqs;    //  [TLY_PARTITIONS_MAX]: the last seen
    uint64_t *partition_epochs;  //  [TLY_PARTITIONS_MAX]: the last seen
    //  [TLY_PARTITIONS_MAX]: the first seen (NULL: not kept, and refunds'
    //  purchases are not read), from which a refund's purchase's record is
    //  one the walk checked (audit_verify_lookup).
    uint64_t *partition_firsts;
    //  A refund's purchase's record could not be read (the journal failed
    //  under the walk), or the partition index named another record
    //  (lookup_reason says which).
    bool lookup_failed;
    char lookup_reason [AUDIT_VERIFY_REASON_MAX];

    audit_verify_checkpoint_t *checkpoints;  //  in seq order
    size_t checkpoint_count;
    size_t checkpoint_capacity;
    size_t checkpoint_next;  //  the next one to judge

    tly_journal_t *journal;
    bool one_segment;      //  --segment: partitions start where the file does
    bool kept;             //  --kept: from the first segment found, whose start is signed
    bool *partition_seen;  //  [TLY_PARTITIONS_MAX], --segment only
    tly_journal_segment_info_t *segments;  //  every segment found, in order
    size_t segment_count;
    size_t segment_next;  //  the next one whose first record is ahead

    int exit_code;
    bool failed;
    uint64_t failed_seq;                     //  0: the failure is not one record's
    char segment [AUDIT_VERIFY_REASON_MAX];  //  the file failed_seq is in ("": none found)
    char reason [AUDIT_VERIFY_REASON_MAX];
} audit_verify_t;

//  Records the failure (seq 0: not one record's) and stops the walk.
tly_journal_step_t audit_verify_fail (audit_verify_t *self, uint64_t seq, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The checks (audit_verify_checks.c). Each returns TLY_JOURNAL_NEXT, or
//  TLY_JOURNAL_STOP once it has recorded a failure.
//
//  Keeps one checkpoint of the journal, to be judged when the walk reaches
//  its seq (a tly_journal_each_checkpoint callback; arg: the verify).
tly_journal_step_t audit_verify_load_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size,
                                                 void *arg);
//  Judges the checkpoints stored up to seq against the record's hash.
tly_journal_step_t audit_verify_check_checkpoint (audit_verify_t *self, uint64_t seq,
                                                  const uint8_t hash [TLY_HASH_BYTES]);
//  The request: signed by its sender, its events the sender's (a
//  BalanceAdjusted: a user it credits or debits, by the sender), addressed
//  to the worker, its events and results derived from it.
tly_journal_step_t audit_verify_check_request (audit_verify_t *self, uint64_t seq,
                                               const Tally__RecordDraft *draft);
//  A segment's signed start (its base checkpoint).
tly_journal_step_t audit_verify_check_start (audit_verify_t *self,
                                             const tly_journal_segment_info_t *info);
//  At a segment's first record: its base and signed start.
tly_journal_step_t audit_verify_check_boundary (audit_verify_t *self, uint64_t seq);
//  Every sealed segment ends with a signed checkpoint of its last record.
void audit_verify_check_seals (audit_verify_t *self);
//  Partition sequences without a gap, epochs that never go back.
tly_journal_step_t audit_verify_check_partition (audit_verify_t *self, uint64_t seq,
                                                 const Tally__RecordDraft *draft);

//  The state snapshots (audit_verify_snapshots.c).
//
//  Before the walk: notes those that cannot be used, starts the partitions
//  whose records before their snapshot are not kept.
void audit_verify_start_snapshots (audit_verify_t *self);
//  At a record a snapshot names: checks the snapshot, or starts from it.
tly_journal_step_t audit_verify_check_snapshots (audit_verify_t *self, uint64_t seq,
                                                 const uint8_t hash [TLY_HASH_BYTES],
                                                 const Tally__RecordDraft *draft);
//  After the walk: notes those past the last record read.
void audit_verify_end_snapshots (audit_verify_t *self);

//  The walk (audit_verify_walk.c).
//
//  Reads every segment's description; checks a lone segment's start.
//  Returns 0, or -1 when a description cannot be read.
int audit_verify_load_segments (audit_verify_t *self);
//  One record (a tly_journal_iterate callback; arg: the verify).
tly_journal_step_t audit_verify_walk (uint64_t seq, const uint8_t *bytes, size_t size, void *arg);
//  A refund's purchase's record for the derivation (audit_derive_lookup_fn;
//  arg: the verify): read through the partition index, and held only when
//  the walk checked it before the record it is at (chained and hashed),
//  decoded in the verify's arena.
int audit_verify_lookup (uint32_t partition, uint64_t partition_seq, void *arg,
                         const Tally__RecordDraft **draft);
//  The walk, the tables and the report; sets self->exit_code.
void audit_verify_run (audit_verify_t *self, bool json);

//  Prints the outcome, as text or one JSON object (audit_verify_report.c).
void audit_verify_report (const audit_verify_t *self, bool json);

#endif
