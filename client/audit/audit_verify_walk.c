//  audit_verify_walk - the walk of `tally audit verify`: every record in
//  seq order through the checks (hash, chain link, segment boundary,
//  partition, request, snapshots, checkpoint), then the journal's tables
//  (head entry, partition table, stray checkpoints, seals), from the
//  segments' descriptions read first. Apart from the command
//  (audit_verify.c), which opens the journal and walks again when
//  retention retires a segment under it, and from the checks each record
//  goes through (audit_verify_checks.c).
#include "audit_verify_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tly_sign.h"

static tly_journal_step_t
s_check_record (audit_verify_t *self, uint64_t seq, const uint8_t *bytes, size_t size)
{
    if (seq != self->next_seq)
        return audit_verify_fail (self, self->next_seq,
                                  "gap: seq %" PRIu64 " missing (the next record"
                                  " is seq %" PRIu64 ")",
                                  self->next_seq, seq);
    ProtobufCAllocator *allocator = tly_arena_allocator (self->arena);
    Tally__StoredRecord *stored = tally__stored_record__unpack (allocator, size, bytes);
    if (!stored)
        return audit_verify_fail (self, seq, "the stored record does not decode");
    uint8_t hash [TLY_HASH_BYTES];
    tly_record_hash (stored->body.data, stored->body.len, hash);
    char stored_hex [AUDIT_VERIFY_HEX_HASH], computed_hex [AUDIT_VERIFY_HEX_HASH];
    if (stored->hash.len != TLY_HASH_BYTES || memcmp (stored->hash.data, hash, TLY_HASH_BYTES)) {
        sodium_bin2hex (stored_hex, sizeof stored_hex, stored->hash.data,
                        stored->hash.len == TLY_HASH_BYTES ? TLY_HASH_BYTES : 0);
        sodium_bin2hex (computed_hex, sizeof computed_hex, hash, TLY_HASH_BYTES);
        return audit_verify_fail (self, seq, "hash mismatch (stored %s, computed %s)", stored_hex,
                                  computed_hex);
    }
    Tally__RecordBody *body = tally__record_body__unpack (allocator, stored->body.len,
                                                          stored->body.data);
    if (!body || !body->draft)
        return audit_verify_fail (self, seq, "the record body does not decode");
    if (body->seq != seq)
        return audit_verify_fail (self, seq, "the body says seq %" PRIu64, body->seq);
    if (body->prev_hash.len != TLY_HASH_BYTES
        || memcmp (body->prev_hash.data, self->prev_hash, TLY_HASH_BYTES) != 0) {
        sodium_bin2hex (stored_hex, sizeof stored_hex, body->prev_hash.data,
                        body->prev_hash.len == TLY_HASH_BYTES ? TLY_HASH_BYTES : 0);
        sodium_bin2hex (computed_hex, sizeof computed_hex, self->prev_hash, TLY_HASH_BYTES);
        return audit_verify_fail (self, seq, "prev_hash %s does not link to the record before (%s)",
                                  stored_hex, computed_hex);
    }
    tly_journal_step_t step = audit_verify_check_boundary (self, seq);
    if (step == TLY_JOURNAL_NEXT)
        step = audit_verify_check_partition (self, seq, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = audit_verify_check_request (self, seq, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = audit_verify_check_snapshots (self, seq, hash, body->draft);
    if (step == TLY_JOURNAL_NEXT)
        step = audit_verify_check_checkpoint (self, seq, hash);
    memcpy (self->prev_hash, hash, TLY_HASH_BYTES);
    return step;
}

tly_journal_step_t
audit_verify_walk (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    audit_verify_t *self = arg;
    tly_journal_step_t step = s_check_record (self, seq, bytes, size);
    tly_arena_reset (self->arena);
    self->records++;
    self->next_seq = seq + 1;
    audit_progress_update (&self->progress, self->records);
    return step;
}

//  After the walk: the head entry, the partition table and stray checkpoints.
static void
s_check_tables (audit_verify_t *self, tly_journal_t *journal)
{
    uint64_t last = self->next_seq - 1;
    tly_journal_head_t head;
    tly_journal_head (journal, &head);
    if (head.seq > last) {
        audit_verify_fail (self, last + 1,
                           "gap: seq %" PRIu64 " missing (the head entry names seq %" PRIu64 ")",
                           last + 1, head.seq);
        return;
    }
    if (head.seq != last || memcmp (head.hash, self->prev_hash, TLY_HASH_BYTES) != 0) {
        audit_verify_fail (self, last, "the head entry names seq %" PRIu64 ", not the last record",
                           head.seq);
        return;
    }
    for (uint32_t partition = 0; partition < TLY_PARTITIONS_MAX; partition++) {
        uint64_t fence, last_partition_seq;
        if ((self->one_segment || self->kept) && !self->partition_seen [partition])
            continue;  //  untouched here: its entry is its base, not known alone
        tly_journal_partition (journal, partition, &fence, &last_partition_seq);
        if (last_partition_seq != self->partition_seqs [partition]) {
            audit_verify_fail (self, 0,
                               "partition %" PRIu32 ": the table says partition seq %" PRIu64
                               ", the records end at %" PRIu64,
                               partition, last_partition_seq, self->partition_seqs [partition]);
            return;
        }
        if (fence < self->partition_epochs [partition]) {
            audit_verify_fail (self, 0,
                               "partition %" PRIu32 ": fence %" PRIu64 " is below epoch %" PRIu64
                               " of its records",
                               partition, fence, self->partition_epochs [partition]);
            return;
        }
    }
    if (self->checkpoint_next < self->checkpoint_count) {
        uint64_t at = self->checkpoints [self->checkpoint_next].seq;
        audit_verify_fail (self, at, "checkpoint at seq %" PRIu64 ": no such record", at);
        return;
    }
    audit_verify_check_seals (self);
}

//  Reads every segment's description; checks a lone segment's start.
int
audit_verify_load_segments (audit_verify_t *self)
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
        //  The configuration in force before it is not known: the records
        //  that carry one give it.
        if (info->first > 1 && self->derive)
            audit_derive_start_within (self->derive);
        audit_verify_check_start (self, info);
        //  A checkpoint of the base record kept beside the records after it
        //  (one signed just after a roll) is checked against the base.
        if (!self->failed && info->base.seq > 0)
            audit_verify_check_checkpoint (self, info->base.seq, info->base.hash);
    }
    return 0;
}

//  The walk: every record in order, then the tables. A segment missing
//  from the middle or the start is a gap, named by the seqs it held.
void
audit_verify_run (audit_verify_t *self, bool json)
{
    tly_journal_head_t head;
    tly_journal_head (self->journal, &head);
    audit_progress_start (&self->progress, "verify", head.seq);
    audit_verify_start_snapshots (self);
    int rc = self->failed
                 ? 0
                 : tly_journal_iterate (self->journal, self->next_seq, audit_verify_walk, self);
    audit_progress_end (&self->progress);
    uint64_t from, to;
    if (rc == -1 && !self->failed && !self->one_segment
        && tly_journal_gap (self->journal, &from, &to)) {
        audit_verify_fail (
            self, 0, "gap: records %" PRIu64 "..%" PRIu64 " missing (segment not found%s)", from,
            to,
            from == 1 && !self->kept ? "; if retention deleted them, --kept checks what is kept"
                                     : "");
        rc = 0;
    }
    if (rc == -1) {
        if (!tly_journal_retired (self->journal))
            fprintf (stderr,
                     AUDIT_VERIFY_COMMAND ": reading the journal failed after seq %" PRIu64
                                          " (see the log line above)\n",
                     self->next_seq - 1);
        self->exit_code = CLI_EXIT_USAGE;
        return;
    }
    if (!self->failed)
        s_check_tables (self, self->journal);
    if (!self->failed)
        audit_verify_end_snapshots (self);
    audit_verify_report (self, json);
    self->exit_code = self->failed ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}
