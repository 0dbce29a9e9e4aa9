//  audit_verify - `tally audit verify`: checks the whole chain, every client
//  signature and every checkpoint, that every record's events and results
//  follow from its signed envelope and the state before it (audit_derive),
//  and names the first record that fails.
#include "audit_commands.h"
#include "tly_account_load.h"
#include "audit_derive.h"
#include "audit_journal.h"
#include "audit_progress.h"
#include "audit_snapshots.h"
#include "tly_audit_snapshots.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tly_account.h"
#include "tly_sign.h"

#define S_COMMAND    "tally audit verify"
#define S_REASON_MAX 512
#define S_HEX_HASH   (2 * TLY_HASH_BYTES + 1)
//  Walks tried when retention retires a segment while it is read.
#define S_ATTEMPTS   3

//  A checkpoint as found in the journal, judged when the walk reaches its seq.
typedef struct {
    uint64_t seq;  //  its key
    bool decodes;
    bool signature_valid;  //  by the expected worker
    uint64_t named_seq;    //  the seq it says it signs
    uint8_t hash [TLY_HASH_BYTES];
} s_checkpoint_t;

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

    s_checkpoint_t *checkpoints;  //  in seq order
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
    uint64_t failed_seq;          //  0: the failure is not one record's
    char segment [S_REASON_MAX];  //  the file failed_seq is in ("": none found)
    char reason [S_REASON_MAX];
} s_verify_t;

static tly_journal_step_t s_fail (s_verify_t *self, uint64_t seq, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Records the failure and stops the walk.
static tly_journal_step_t
s_fail (s_verify_t *self, uint64_t seq, const char *format, ...)
{
    self->failed = true;
    self->failed_seq = seq;
    //  The segment the record is in, from the descriptions read before the
    //  walk (opening segments here could close the one being walked).
    self->segment [0] = 0;
    for (size_t i = 0; seq && i < self->segment_count; i++) {
        const tly_journal_segment_info_t *info = &self->segments [i];
        if (seq >= info->first && (seq <= info->last || i + 1 == self->segment_count))
            snprintf (self->segment, sizeof self->segment, "%s", info->path);
    }
    va_list args;
    va_start (args, format);
    vsnprintf (self->reason, sizeof self->reason, format, args);
    va_end (args);
    return TLY_JOURNAL_STOP;
}

//  ---------------------------------------------------------------- checkpoints

static tly_journal_step_t
s_load_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_verify_t *self = arg;
    if (self->checkpoint_count == self->checkpoint_capacity) {
        self->checkpoint_capacity = self->checkpoint_capacity ? 2 * self->checkpoint_capacity : 64;
        self->checkpoints = realloc (self->checkpoints,
                                     self->checkpoint_capacity * sizeof (s_checkpoint_t));
        assert (self->checkpoints);
    }
    s_checkpoint_t *checkpoint = &self->checkpoints [self->checkpoint_count++];
    memset (checkpoint, 0, sizeof *checkpoint);
    checkpoint->seq = seq;
    //  The signature is checked against the worker the verifier trusts,
    //  never against the key the checkpoint claims.
    tly_journal_checkpoint_t decoded;
    if (tly_journal_checkpoint_decode (bytes, size, self->worker, &decoded) == 0) {
        checkpoint->decodes = true;
        checkpoint->named_seq = decoded.seq;
        memcpy (checkpoint->hash, decoded.hash, TLY_HASH_BYTES);
        checkpoint->signature_valid = decoded.signed_by_worker;
    }
    return TLY_JOURNAL_NEXT;
}

//  Judges the checkpoint stored under seq against the record's hash.
static tly_journal_step_t
s_check_checkpoint (s_verify_t *self, uint64_t seq, const uint8_t hash [TLY_HASH_BYTES])
{
    while (self->checkpoint_next < self->checkpoint_count
           && self->checkpoints [self->checkpoint_next].seq <= seq) {
        const s_checkpoint_t *checkpoint = &self->checkpoints [self->checkpoint_next++];
        uint64_t at = checkpoint->seq;
        if (at < seq)
            return s_fail (self, at, "checkpoint at seq %" PRIu64 ": no such record", at);
        if (!checkpoint->decodes)
            return s_fail (self, at, "checkpoint at seq %" PRIu64 ": does not decode", at);
        if (!checkpoint->signature_valid)
            return s_fail (self, at,
                           "checkpoint at seq %" PRIu64 ": bad signature"
                           " (not signed by the worker)",
                           at);
        if (checkpoint->named_seq != at)
            return s_fail (self, at, "checkpoint at seq %" PRIu64 ": names seq %" PRIu64, at,
                           checkpoint->named_seq);
        if (memcmp (checkpoint->hash, hash, TLY_HASH_BYTES) != 0) {
            char signed_hex [S_HEX_HASH], record_hex [S_HEX_HASH];
            sodium_bin2hex (signed_hex, sizeof signed_hex, checkpoint->hash, TLY_HASH_BYTES);
            sodium_bin2hex (record_hex, sizeof record_hex, hash, TLY_HASH_BYTES);
            return s_fail (self, at,
                           "checkpoint at seq %" PRIu64 ": hash mismatch (signed %s,"
                           " record %s)",
                           at, signed_hex, record_hex);
        }
    }
    return TLY_JOURNAL_NEXT;
}

//  ---------------------------------------------------------------- records

//  The request: an envelope signed by its sender, and every event the sender's.
static tly_journal_step_t
s_check_request (s_verify_t *self, uint64_t seq, const Tally__RecordDraft *draft)
{
    const Tally__SignedEnvelope *request = draft->request;
    if (!request)
        return s_fail (self, seq, "no client request");
    Tally__Envelope *envelope = tally__envelope__unpack (
        tly_arena_allocator (self->arena), request->envelope.len, request->envelope.data);
    if (!envelope || envelope->sender.len != TLY_KEY_BYTES)
        return s_fail (self, seq, "bad client signature (the envelope does not decode)");
    char sender [TLY_ID_MAX];
    if (!tly_verify_envelope (envelope->sender.data, request->envelope.data, request->envelope.len,
                              request->signature.data, request->signature.len)) {
        tly_account_id (envelope->sender.data, sender);
        return s_fail (self, seq, "bad client signature (sender %s)", sender);
    }
    for (size_t i = 0; i < draft->n_events; i++) {
        const Tally__Event *event = draft->events [i];
        const ProtobufCBinaryData *user = event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED
                                              ? &event->account_created->user
                                          : event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
                                              ? &event->purchase_recorded->user
                                              : NULL;
        if (!user)
            return s_fail (self, seq, "event %zu is of no known kind", i + 1);
        if (user->len != TLY_KEY_BYTES
            || memcmp (user->data, envelope->sender.data, TLY_KEY_BYTES) != 0) {
            tly_account_id (envelope->sender.data, sender);
            return s_fail (self, seq, "event %zu is not for the request's sender %s", i + 1,
                           sender);
        }
    }
    //  An actor refuses an envelope addressed to another service (UNKNOWN_INBOX).
    if (self->worker
        && (envelope->inbox.len != TLY_KEY_BYTES
            || memcmp (envelope->inbox.data, self->worker, TLY_KEY_BYTES) != 0))
        return s_fail (self, seq, "the envelope is not addressed to the worker (its inbox)");
    //  Derived wherever the walk has the state to derive from (a caller that
    //  checks records on their own, as the fuzz target does, has none).
    char reason [AUDIT_DERIVE_REASON_MAX];
    if (self->derive
        && audit_derive_record (self->derive, draft, envelope, reason, sizeof reason) == -1)
        return s_fail (self, seq, "%s", reason);
    return TLY_JOURNAL_NEXT;
}

//  ---------------------------------------------------------------- segments

//  A segment's signed start: its base checkpoint (the predecessor's seal)
//  verifies with the worker and names the record before its first.
static tly_journal_step_t
s_check_start (s_verify_t *self, const tly_journal_segment_info_t *info)
{
    if (info->base.seq == 0)
        return TLY_JOURNAL_NEXT;  //  the first segment starts at genesis
    uint64_t at = info->first;
    if (info->base_checkpoint_size == 0)
        return s_fail (self, at, "no signed start (base checkpoint) for base seq %" PRIu64,
                       info->base.seq);
    tly_journal_checkpoint_t start;
    if (tly_journal_checkpoint_decode (info->base_checkpoint, info->base_checkpoint_size,
                                       self->worker, &start)
        == -1)
        return s_fail (self, at, "the signed start does not decode");
    if (!start.signed_by_worker)
        return s_fail (self, at, "the signed start has a bad signature (not signed by the worker)");
    if (start.seq != info->base.seq || memcmp (start.hash, info->base.hash, TLY_HASH_BYTES) != 0)
        return s_fail (self, at, "the signed start names seq %" PRIu64 ", not the base %" PRIu64,
                       start.seq, info->base.seq);
    return TLY_JOURNAL_NEXT;
}

//  At a segment's first record: its base names the record before, which is
//  what the chain links to, and its signed start holds.
static tly_journal_step_t
s_check_boundary (s_verify_t *self, uint64_t seq)
{
    while (self->segment_next < self->segment_count
           && self->segments [self->segment_next].first <= seq) {
        const tly_journal_segment_info_t *info = &self->segments [self->segment_next++];
        if (info->first != seq || self->one_segment)
            continue;
        if (memcmp (info->base.hash, self->prev_hash, TLY_HASH_BYTES) != 0)
            return s_fail (self, seq, "the segment's base is not the record before it");
        tly_journal_step_t step = s_check_start (self, info);
        if (step != TLY_JOURNAL_NEXT)
            return step;
    }
    return TLY_JOURNAL_NEXT;
}

static bool
s_has_checkpoint (const s_verify_t *self, uint64_t seq)
{
    for (size_t i = 0; i < self->checkpoint_count; i++)
        if (self->checkpoints [i].seq == seq)
            return true;
    return false;
}

//  Every sealed segment ends with a signed checkpoint of its last record.
static void
s_check_seals (s_verify_t *self)
{
    for (size_t i = 0; i < self->segment_count && !self->failed; i++) {
        const tly_journal_segment_info_t *info = &self->segments [i];
        if (info->sealed && info->last >= info->first && !s_has_checkpoint (self, info->last))
            s_fail (self, info->last,
                    "sealed without a signed end (no checkpoint at its last record)");
    }
}

//  Partition sequences run 1, 2, 3 ... with no gap, and epochs never go back.
static tly_journal_step_t
s_check_partition (s_verify_t *self, uint64_t seq, const Tally__RecordDraft *draft)
{
    uint32_t partition = draft->partition;
    if (partition >= TLY_PARTITIONS_MAX)
        return s_fail (self, seq, "partition %" PRIu32 " is out of range", partition);
    //  On its own, a segment starts each partition where its bases say: the
    //  first record of a partition sets it.
    if ((self->one_segment || self->kept) && !self->partition_seen [partition]) {
        self->partition_seen [partition] = true;
        self->partition_seqs [partition] = draft->partition_seq - 1;
    }
    uint64_t expected = self->partition_seqs [partition] + 1;
    if (draft->partition_seq != expected)
        return s_fail (self, seq,
                       "partition %" PRIu32 " sequence: expected %" PRIu64 ", found %" PRIu64,
                       partition, expected, draft->partition_seq);
    if (draft->epoch == 0 || draft->epoch < self->partition_epochs [partition])
        return s_fail (self, seq,
                       "partition %" PRIu32 " epoch went back from %" PRIu64 " to %" PRIu64,
                       partition, self->partition_epochs [partition], draft->epoch);
    self->partition_seqs [partition] = expected;
    self->partition_epochs [partition] = draft->epoch;
    return TLY_JOURNAL_NEXT;
}

//  ---------------------------------------------------------------- state snapshots

static void
s_snapshot_unused (s_verify_t *self, const audit_snapshot_t *snapshot, const char *why)
{
    if (self->snapshots_unused++ == 0) {
        self->first_unused = snapshot;
        self->first_unused_why = why;
    }
}

//  Starts the snapshot's partition from it: its records before it are not
//  kept, so nothing can check it.
static void
s_snapshot_start (s_verify_t *self, audit_snapshot_t *snapshot)
{
    audit_derive_t *derive = self->derive;
    uint32_t partition = snapshot->partition;
    if (audit_derive_load_begin (derive, partition, snapshot->partition_seq, snapshot->clock_ms)
        == -1) {
        s_snapshot_unused (self, snapshot, "its partition's state is known from elsewhere");
        return;
    }
    for (size_t i = 0; i < snapshot->account_count; i++) {
        const audit_snapshot_account_t *account = &snapshot->accounts [i];
        if (audit_derive_load_account (derive, partition, account->user, account->balance,
                                       account->last_updated, account->bucket_tokens,
                                       account->bucket_ms)
            == -1) {
            s_fail (self, snapshot->seq,
                    "the state snapshot of partition %" PRIu32 " holds an account twice, or one"
                    " with a negative balance",
                    partition);
            return;
        }
    }
    //  Decoded on their own: the walk's arena may hold the record at hand.
    for (size_t i = 0; i < snapshot->result_count; i++) {
        const audit_snapshot_result_t *row = &snapshot->results [i];
        Tally__MessageResult *result = tally__message_result__unpack (NULL, row->result_size,
                                                                      row->result);
        if (result) {
            audit_derive_load_result (derive, partition, row->user, row->message_id, result);
            tally__message_result__free_unpacked (result, NULL);
        }
    }
    self->snapshots_started++;
    audit_snapshots_drop_rows (snapshot);
}

//  The snapshot's accounts must be those the records give its partition at
//  its record, balance for balance.
static tly_journal_step_t
s_snapshot_compare (s_verify_t *self, audit_snapshot_t *snapshot, uint64_t seq)
{
    uint32_t partition = snapshot->partition;
    char user [TLY_ID_MAX];
    for (size_t i = 0; i < snapshot->account_count; i++) {
        const audit_snapshot_account_t *account = &snapshot->accounts [i];
        int64_t balance;
        tly_account_id (account->user, user);
        if (audit_derive_balance (self->derive, partition, account->user, &balance) == -1)
            return s_fail (self, seq,
                           "the state snapshot of partition %" PRIu32 " at this record has an"
                           " account for user %s, which the records do not give",
                           partition, user);
        if (balance != account->balance)
            return s_fail (self, seq,
                           "the state snapshot of partition %" PRIu32 " at this record says user"
                           " %s has balance %" PRId64 "; the records give %" PRId64,
                           partition, user, account->balance, balance);
    }
    uint64_t accounts = audit_derive_accounts (self->derive, partition);
    if (accounts != snapshot->account_count)
        return s_fail (self, seq,
                       "the state snapshot of partition %" PRIu32 " at this record holds %zu"
                       " accounts; the records give %" PRIu64,
                       partition, snapshot->account_count, accounts);
    self->snapshots_checked++;
    audit_snapshots_drop_rows (snapshot);
    return TLY_JOURNAL_NEXT;
}

//  At a record a snapshot names: the record must be what the snapshot
//  signs; then it is checked, or where the state is not known, started from.
static tly_journal_step_t
s_check_snapshots (s_verify_t *self, uint64_t seq, const uint8_t hash [TLY_HASH_BYTES],
                   const Tally__RecordDraft *draft)
{
    tly_journal_step_t step = TLY_JOURNAL_NEXT;
    while (step == TLY_JOURNAL_NEXT && self->snapshot_next < self->snapshot_count
           && self->snapshots [self->snapshot_next].seq <= seq) {
        audit_snapshot_t *snapshot = &self->snapshots [self->snapshot_next++];
        if (snapshot->problem [0] || snapshot->seq < seq)
            continue;  //  noted before the walk
        if (snapshot->partition != draft->partition
            || snapshot->partition_seq != draft->partition_seq
            || memcmp (snapshot->record_hash, hash, TLY_HASH_BYTES) != 0)
            return s_fail (self, seq,
                           "the state snapshot of partition %" PRIu32 " names this record as"
                           " partition seq %" PRIu64 " with another hash",
                           snapshot->partition, snapshot->partition_seq);
        if (audit_derive_at (self->derive, snapshot->partition, snapshot->partition_seq))
            step = s_snapshot_compare (self, snapshot, seq);
        else
            s_snapshot_start (self, snapshot);
    }
    return self->failed ? TLY_JOURNAL_STOP : step;
}

//  Before the walk: the snapshots that cannot be used are noted, and those
//  whose record is before the first one walked (not kept) start their
//  partition's state.
static void
s_start_snapshots (s_verify_t *self)
{
    for (size_t i = 0; i < self->snapshot_count && !self->failed; i++) {
        audit_snapshot_t *snapshot = &self->snapshots [i];
        if (snapshot->problem [0])
            s_snapshot_unused (self, snapshot, snapshot->problem);
        else if (snapshot->seq < self->next_seq)
            s_snapshot_start (self, snapshot);
    }
}

//  After the walk: a snapshot of a record past the last one read (the writer
//  went on meanwhile) was not used.
static void
s_end_snapshots (s_verify_t *self)
{
    for (; self->snapshot_next < self->snapshot_count; self->snapshot_next++) {
        const audit_snapshot_t *snapshot = &self->snapshots [self->snapshot_next];
        if (!snapshot->problem [0] && snapshot->seq >= self->next_seq)
            s_snapshot_unused (self, snapshot, "it names a record after the last one read");
    }
}

static tly_journal_step_t
s_check_record (s_verify_t *self, uint64_t seq, const uint8_t *bytes, size_t size)
{
    if (seq != self->next_seq)
        return s_fail (self, self->next_seq,
                       "gap: seq %" PRIu64 " missing (the next record"
                       " is seq %" PRIu64 ")",
                       self->next_seq, seq);
    ProtobufCAllocator *allocator = tly_arena_allocator (self->arena);
    Tally__StoredRecord *stored = tally__stored_record__unpack (allocator, size, bytes);
    if (!stored)
        return s_fail (self, seq, "the stored record does not decode");
    uint8_t hash [TLY_HASH_BYTES];
    tly_record_hash (stored->body.data, stored->body.len, hash);
    char stored_hex [S_HEX_HASH], computed_hex [S_HEX_HASH];
    if (stored->hash.len != TLY_HASH_BYTES || memcmp (stored->hash.data, hash, TLY_HASH_BYTES)) {
        sodium_bin2hex (stored_hex, sizeof stored_hex, stored->hash.data,
                        stored->hash.len == TLY_HASH_BYTES ? TLY_HASH_BYTES : 0);
        sodium_bin2hex (computed_hex, sizeof computed_hex, hash, TLY_HASH_BYTES);
        return s_fail (self, seq, "hash mismatch (stored %s, computed %s)", stored_hex,
                       computed_hex);
    }
    Tally__RecordBody *body = tally__record_body__unpack (allocator, stored->body.len,
                                                          stored->body.data);
    if (!body || !body->draft)
        return s_fail (self, seq, "the record body does not decode");
    if (body->seq != seq)
        return s_fail (self, seq, "the body says seq %" PRIu64, body->seq);
    if (body->prev_hash.len != TLY_HASH_BYTES
        || memcmp (body->prev_hash.data, self->prev_hash, TLY_HASH_BYTES) != 0) {
        sodium_bin2hex (stored_hex, sizeof stored_hex, body->prev_hash.data,
                        body->prev_hash.len == TLY_HASH_BYTES ? TLY_HASH_BYTES : 0);
        sodium_bin2hex (computed_hex, sizeof computed_hex, self->prev_hash, TLY_HASH_BYTES);
        return s_fail (self, seq, "prev_hash %s does not link to the record before (%s)",
                       stored_hex, computed_hex);
    }
    tly_journal_step_t step = s_check_boundary (self, seq);
    if (step == TLY_JOURNAL_NEXT)
        step = s_check_partition (self, seq, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = s_check_request (self, seq, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = s_check_snapshots (self, seq, hash, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = s_check_checkpoint (self, seq, hash);
    memcpy (self->prev_hash, hash, TLY_HASH_BYTES);
    return step;
}

static tly_journal_step_t
s_walk (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_verify_t *self = arg;
    tly_journal_step_t step = s_check_record (self, seq, bytes, size);
    tly_arena_reset (self->arena);
    self->records++;
    self->next_seq = seq + 1;
    audit_progress_update (&self->progress, self->records);
    return step;
}

//  After the walk: the head entry, the partition table and stray checkpoints.
static void
s_check_tables (s_verify_t *self, tly_journal_t *journal)
{
    uint64_t last = self->next_seq - 1;
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    if (head.seq > last) {
        s_fail (self, last + 1,
                "gap: seq %" PRIu64 " missing (the head entry names seq %" PRIu64 ")", last + 1,
                head.seq);
        return;
    }
    if (head.seq != last || memcmp (head.hash, self->prev_hash, TLY_HASH_BYTES) != 0) {
        s_fail (self, last, "the head entry names seq %" PRIu64 ", not the last record", head.seq);
        return;
    }
    for (uint32_t partition = 0; partition < TLY_PARTITIONS_MAX; partition++) {
        uint64_t fence, last_partition_seq;
        if ((self->one_segment || self->kept) && !self->partition_seen [partition])
            continue;  //  untouched here: its entry is its base, not known alone
        tly_journal_partition (journal, partition, &fence, &last_partition_seq);
        if (last_partition_seq != self->partition_seqs [partition]) {
            s_fail (self, 0,
                    "partition %" PRIu32 ": the table says partition seq %" PRIu64
                    ", the records end at %" PRIu64,
                    partition, last_partition_seq, self->partition_seqs [partition]);
            return;
        }
        if (fence < self->partition_epochs [partition]) {
            s_fail (self, 0,
                    "partition %" PRIu32 ": fence %" PRIu64 " is below epoch %" PRIu64
                    " of its records",
                    partition, fence, self->partition_epochs [partition]);
            return;
        }
    }
    if (self->checkpoint_next < self->checkpoint_count) {
        uint64_t at = self->checkpoints [self->checkpoint_next].seq;
        s_fail (self, at, "checkpoint at seq %" PRIu64 ": no such record", at);
        return;
    }
    s_check_seals (self);
}

//  ---------------------------------------------------------------- the command

static void
s_usage (FILE *out)
{
    fputs ("usage: tally audit verify (--journal DIR | --data-dir DIR) [--archive DIR]...\n"
           "                          [--kept] [--snapshots DIR] [--worker ID]\n"
           "                          [--dedupe-window-ms MS] [--json]\n"
           "       tally audit verify --segment FILE [--worker ID] [--dedupe-window-ms MS]\n"
           "                          [--json]\n"
           "\n"
           "Checks every record: its hash, the link to the record before, contiguous\n"
           "global and partition sequences, epochs, the client's signature on the request,\n"
           "that its events and results follow from the signed envelope and the state\n"
           "before it by the balance actors' rules (an event the envelope does not give\n"
           "fails, whoever signed the checkpoint after it), and every checkpoint's\n"
           "signature by the worker and hash; across segments, each segment's base,\n"
           "signed start and (when sealed) signed end. Reads a snapshot; the writer may\n"
           "keep writing.\n"
           "\n"
           "  --journal DIR    the journal directory (tally-audit's DATA/journal)\n"
           "  --data-dir DIR   a `tally up` data directory (uses DIR/audit/journal)\n"
           "  --archive DIR    read archived segments in DIR too (repeatable; default:\n"
           "                   the journal's archive/ folder, when it exists)\n"
           "  --segment FILE   check one segment file on its own: its chain from its\n"
           "                   base, its signed start (the previous segment's seal) and\n"
           "                   its signed end (its own seal)\n"
           "  --kept           check what is kept: when the first segments were retired\n"
           "                   (tally-audit --retain delete), start at the first segment\n"
           "                   found, from its signed start, instead of failing on the gap\n"
           "  --snapshots DIR  the writer's state snapshots (default: beside the journal,\n"
           "                   DATA/snapshots): each is checked against the state the\n"
           "                   records give at its record; with --kept, a partition whose\n"
           "                   records before its snapshot are not kept starts from it\n"
           "  --dedupe-window-ms MS\n"
           "                   the longest --dedupe-window-ms the balance actors ran with\n"
           "                   (default 60000): a message ID older than it is never applied\n"
           "  --worker ID      the worker account that signs checkpoints\n"
           "                   (default $" TLY_ENV_WORKER_ACCOUNT "; needed when there are any)\n"
           "  --json           print one JSON object\n"
           "\n"
           "Exit status: 0 the journal verifies, 1 it does not (the first failure is\n"
           "named, with its segment file), 2 usage error or unreadable journal.\n",
           out);
}

//  Which records were checked against the state, and which could not be.
static void
s_report_derived (const s_verify_t *self, const audit_derive_stats_t *derived)
{
    if (self->snapshots_checked || self->snapshots_started)
        printf ("verify: %" PRIu64 " state snapshots agree with the records; %" PRIu64
                " were where their partition starts, its records before them not kept (their"
                " balances are the saving actor's word)\n",
                self->snapshots_checked, self->snapshots_started);
    if (self->snapshots_unused)
        printf ("verify: %" PRIu64 " state snapshots not used (the first, of partition %" PRIu32
                ": %s)\n",
                self->snapshots_unused, self->first_unused->partition, self->first_unused_why);
    if (derived->not_derived == 0) {
        printf ("verify: every record's events and results follow from its signed envelope"
                " and the state before it (%" PRIu64 " resends answered as first decided)\n",
                derived->resends);
        return;
    }
    printf ("verify: %" PRIu64 " records' events and results follow from their signed envelopes"
            " and the state before them; %" PRIu64 " records of %" PRIu32 " partitions could not"
            " be checked so, as the state before them is not known (the records before them are"
            " not kept, and no state snapshot gives it; the first: partition %" PRIu32
            ", partition seq %" PRIu64 ")\n",
            derived->derived, derived->not_derived, derived->partitions_not_derived,
            derived->first_not_derived_partition, derived->first_not_derived);
}

static void
s_report (const s_verify_t *self, bool json)
{
    audit_derive_stats_t derived;
    audit_derive_stats (self->derive, &derived);
    char hash_hex [S_HEX_HASH];
    sodium_bin2hex (hash_hex, sizeof hash_hex, self->prev_hash, TLY_HASH_BYTES);
    uint64_t head = self->next_seq - 1;
    uint64_t signed_seq = self->checkpoint_count
                              ? self->checkpoints [self->checkpoint_count - 1].seq
                              : 0;
    size_t sealed = 0, archived = 0;
    for (size_t i = 0; i < self->segment_count; i++) {
        sealed += self->segments [i].sealed;
        archived += self->segments [i].archived;
    }
    if (json) {
        if (self->failed) {
            printf ("{\"ok\":false,\"seq\":%" PRIu64 ",\"segment\":", self->failed_seq);
            cli_json_string (stdout, self->segment);
            printf (",\"error\":");
            cli_json_string (stdout, self->reason);
            printf ("}\n");
        } else
            printf ("{\"ok\":true,\"records\":%" PRIu64 ",\"checkpoints\":%zu,\"headSeq\":%" PRIu64
                    ",\"headHash\":\"%s\",\"lastCheckpointSeq\":%" PRIu64 ",\"segments\":%zu"
                    ",\"sealed\":%zu,\"archived\":%zu,\"derived\":%" PRIu64
                    ",\"notDerived\":%" PRIu64 ",\"resends\":%" PRIu64
                    ",\"snapshotsChecked\":%" PRIu64 ",\"snapshotsStarted\":%" PRIu64
                    ",\"snapshotsUnused\":%" PRIu64 "}\n",
                    self->records, self->checkpoint_count, head, hash_hex, signed_seq,
                    self->segment_count, sealed, archived, derived.derived, derived.not_derived,
                    derived.resends, self->snapshots_checked, self->snapshots_started,
                    self->snapshots_unused);
        return;
    }
    if (self->failed && self->failed_seq && self->segment [0])
        printf ("verify: FAILED: segment %s: record %" PRIu64 ": %s\n", self->segment,
                self->failed_seq, self->reason);
    else if (self->failed && self->failed_seq)
        printf ("verify: FAILED at seq %" PRIu64 ": %s\n", self->failed_seq, self->reason);
    else if (self->failed)
        printf ("verify: FAILED: %s\n", self->reason);
    else if (self->one_segment) {
        const tly_journal_segment_info_t *info = &self->segments [0];
        printf ("verify: OK segment %s: records %" PRIu64 "..%" PRIu64 ", %zu checkpoints,"
                " %s start, %s\n",
                info->path, info->first, info->last, self->checkpoint_count,
                info->base.seq ? "signed" : "genesis",
                info->sealed ? "sealed with a signed end" : "not sealed (still being written)");
        s_report_derived (self, &derived);
    } else {
        printf ("verify: OK %" PRIu64 " records, %zu checkpoints, head seq %" PRIu64 " hash %s\n",
                self->records, self->checkpoint_count, head, hash_hex);
        if (self->kept && self->segment_count > 0 && self->segments [0].first > 1)
            printf ("verify: records 1..%" PRIu64 " are not kept (retired, or in an archive not"
                    " given); checked from the signed seal of seq %" PRIu64 " on\n",
                    self->segments [0].first - 1, self->segments [0].first - 1);
        printf ("verify: %zu segments (%zu sealed, %zu archived)\n", self->segment_count, sealed,
                archived);
        s_report_derived (self, &derived);
        if (signed_seq < head)
            printf ("verify: the last %" PRIu64 " records are not signed by a checkpoint yet\n",
                    head - signed_seq);
    }
}

//  Reads every segment's description; checks a lone segment's start.
static int
s_load_segments (s_verify_t *self)
{
    self->segment_count = tly_journal_segment_count (self->journal);
    self->segments = calloc (self->segment_count + 1, sizeof (tly_journal_segment_info_t));
    assert (self->segments);
    for (size_t i = 0; i < self->segment_count; i++)
        if (tly_journal_segment_info (self->journal, i, &self->segments [i]) == -1)
            return -1;
    //  One segment, or what is kept: the chain starts at the first segment's
    //  base, which its signed start (the seal before it) vouches for.
    if (self->segment_count > 0
        && (self->one_segment || (self->kept && self->segments [0].first > 1))) {
        const tly_journal_segment_info_t *info = &self->segments [0];
        self->next_seq = info->first;
        memcpy (self->prev_hash, info->base.hash, TLY_HASH_BYTES);
        s_check_start (self, info);
        //  A checkpoint of the base record kept beside the records after it
        //  (one signed just after a roll) is checked against the base.
        if (!self->failed && info->base.seq > 0)
            s_check_checkpoint (self, info->base.seq, info->base.hash);
    }
    return 0;
}

//  The walk: every record in order, then the tables. A segment missing
//  from the middle or the start is a gap, named by the seqs it held.
static void
s_run (s_verify_t *self, bool json)
{
    tly_journal_head_t head;
    tly_journal_head (self->journal, &head);
    audit_progress_start (&self->progress, "verify", head.seq);
    s_start_snapshots (self);
    int rc = self->failed ? 0 : tly_journal_iterate (self->journal, self->next_seq, s_walk, self);
    audit_progress_end (&self->progress);
    uint64_t from, to;
    if (rc == -1 && !self->failed && !self->one_segment
        && tly_journal_gap (self->journal, &from, &to)) {
        s_fail (self, 0, "gap: records %" PRIu64 "..%" PRIu64 " missing (segment not found%s)",
                from, to,
                from == 1 && !self->kept ? "; if retention deleted them, --kept checks what is kept"
                                         : "");
        rc = 0;
    }
    if (rc == -1) {
        if (!tly_journal_retired (self->journal))
            fprintf (stderr,
                     S_COMMAND ": reading the journal failed after seq %" PRIu64
                               " (see the log line above)\n",
                     self->next_seq - 1);
        self->exit_code = CLI_EXIT_USAGE;
        return;
    }
    if (!self->failed)
        s_check_tables (self, self->journal);
    if (!self->failed)
        s_end_snapshots (self);
    s_report (self, json);
    self->exit_code = self->failed ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

//  What the command checks, from its flags.
typedef struct {
    const uint8_t *worker;  //  NULL: none given
    const char *journal_dir;
    const char *data_dir;
    const audit_archives_t *archives;
    const char *segment;
    const char *snapshots_dir;
    bool kept;
    bool json;
    int64_t window_ms;
} s_args_t;

//  One verify, from opening the journal to the report (the report, and
//  the exit code it stands for, are for a walk that read what it listed:
//  when retired is set, a segment went before the walk came to it).
static int
s_check (const s_args_t *args, bool *retired)
{
    tly_journal_t *journal = NULL;
    const char *segment = args->segment;
    if (segment) {
        journal = tly_journal_new_segment_reader (segment);
        if (!journal)
            fprintf (stderr, S_COMMAND ": cannot read the segment %s (see the log line above)\n",
                     segment);
    } else
        journal = audit_open_journal (S_COMMAND, args->journal_dir, args->data_dir, args->archives);
    if (!journal)
        return CLI_EXIT_USAGE;

    s_verify_t self = { .worker = args->worker,
                        .arena = tly_arena_new (AUDIT_ARENA_BLOCK),
                        .derive = audit_derive_new (args->window_ms),
                        .next_seq = 1,
                        .journal = journal,
                        .one_segment = args->segment != NULL,
                        .kept = args->kept,
                        .partition_seen = calloc (TLY_PARTITIONS_MAX, sizeof (bool)),
                        .partition_seqs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t)),
                        .partition_epochs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t)),
                        .exit_code = CLI_EXIT_USAGE };
    assert (self.derive && self.partition_seen && self.partition_seqs && self.partition_epochs);
    bool needs_worker = false;
    if (tly_journal_each_checkpoint (journal, s_load_checkpoint, &self) == -1
        || s_load_segments (&self) == -1) {
        if (!tly_journal_retired (journal))
            fprintf (stderr, S_COMMAND ": cannot read the checkpoints (see the log line above)\n");
    } else if (args->snapshots_dir
               && audit_snapshots_read (S_COMMAND, args->snapshots_dir, self.worker,
                                        &self.snapshots, &self.snapshot_count)
                      == -1)
        ;  //  said
    else {
        for (size_t i = 0; i < self.segment_count; i++)
            needs_worker |= self.segments [i].base_checkpoint_size > 0;
        if ((self.checkpoint_count > 0 || needs_worker) && !self.worker)
            fprintf (stderr,
                     S_COMMAND ": the journal has %zu checkpoints: give --worker or"
                               " " TLY_ENV_WORKER_ACCOUNT " to check them\n",
                     self.checkpoint_count);
        else
            s_run (&self, args->json);
    }
    int exit_code = self.exit_code;
    *retired = tly_journal_retired (journal);
    free (self.checkpoints);
    free (self.segments);
    audit_snapshots_free (&self.snapshots, self.snapshot_count);
    free (self.partition_seen);
    free (self.partition_seqs);
    free (self.partition_epochs);
    tly_arena_destroy (&self.arena);
    audit_derive_destroy (&self.derive);
    tly_journal_destroy (&journal);
    return exit_code;
}

int
audit_verify (int argc, char **argv)
{
    const char *journal_dir = NULL, *data_dir = NULL, *worker_id = NULL, *segment = NULL;
    const char *snapshots_dir = NULL;
    bool json = false, kept = false;
    int64_t window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT;
    audit_archives_t archives = { .count = 0 };
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--journal", &journal_dir),
                            TLY_FLAG_TEXT ("--data-dir", &data_dir),
                            TLY_FLAG_CALL ("--archive", audit_take_archive, &archives, NULL),
                            TLY_FLAG_TEXT ("--segment", &segment),
                            TLY_FLAG_TEXT ("--snapshots", &snapshots_dir),
                            TLY_FLAG_TEXT ("--worker", &worker_id),
                            TLY_FLAG_BOOL ("--json", &json),
                            TLY_FLAG_BOOL ("--kept", &kept),
                            TLY_FLAG_INT ("--dedupe-window-ms", &window_ms,
                                          TLY_DEDUPE_WINDOW_MS_MIN, TLY_DEDUPE_WINDOW_MS_MAX),
                            TLY_FLAG_HELP };
    int parsed = cli_parse_flags (S_COMMAND, s_usage, flags, sizeof flags / sizeof flags [0], argc,
                                  argv, NULL);
    if (parsed != -1)
        return parsed;
    const char *worker_from = "--worker";
    if (!worker_id || !*worker_id) {
        worker_id = getenv (TLY_ENV_WORKER_ACCOUNT);
        worker_from = TLY_ENV_WORKER_ACCOUNT;
    }
    uint8_t worker [TLY_KEY_BYTES];
    if (worker_id && *worker_id && tly_account_id_parse (worker_id, worker) == -1) {
        fprintf (stderr, S_COMMAND ": %s is not an account ID (co_z...): '%s'\n", worker_from,
                 worker_id);
        return CLI_EXIT_USAGE;
    }
    if (segment && kept) {
        fprintf (stderr, S_COMMAND ": --kept is for a whole journal, not --segment\n");
        return CLI_EXIT_USAGE;
    }
    if (segment && (journal_dir || data_dir || archives.count || snapshots_dir)) {
        fprintf (stderr, S_COMMAND ": --segment FILE is checked on its own: give no --journal,"
                                   " --data-dir, --archive or --snapshots with it\n");
        return CLI_EXIT_USAGE;
    }
    //  The writer keeps its state snapshots beside the journal: DATA/snapshots.
    char snapshots_path [AUDIT_PATH_MAX];
    if (!snapshots_dir && !segment && (journal_dir || data_dir)) {
        if (journal_dir)
            snprintf (snapshots_path, sizeof snapshots_path, "%s/../" TLY_SNAPSHOTS_SUBDIR,
                      journal_dir);
        else
            snprintf (snapshots_path, sizeof snapshots_path,
                      "%s/" AUDIT_DATA_SUBDIR "/" TLY_SNAPSHOTS_SUBDIR, data_dir);
        snapshots_dir = snapshots_path;
    }
    s_args_t args = { .worker = worker_id && *worker_id ? worker : NULL,
                      .journal_dir = journal_dir,
                      .data_dir = data_dir,
                      .archives = &archives,
                      .segment = segment,
                      .snapshots_dir = snapshots_dir,
                      .kept = kept,
                      .json = json,
                      .window_ms = window_ms };
    //  A live writer's retention may retire a segment between the listing
    //  and its read: the walk starts again on what is kept then.
    for (int attempt = 1;; attempt++) {
        bool retired = false;
        int exit_code = s_check (&args, &retired);
        if (!retired)
            return exit_code;
        if (attempt == S_ATTEMPTS) {
            fprintf (stderr,
                     S_COMMAND ": segments were retired by the writer while read, %d times;"
                               " run it again (or on a stopped writer's journal)\n",
                     S_ATTEMPTS);
            return CLI_EXIT_USAGE;
        }
        fprintf (stderr,
                 S_COMMAND ": a segment was retired by the writer while it was read;"
                           " verifying again (%d of %d)\n",
                 attempt + 1, S_ATTEMPTS);
    }
}
