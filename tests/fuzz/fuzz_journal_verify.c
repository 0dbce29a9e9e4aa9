//  fuzz_journal_verify - libFuzzer target: any journal content through the
//  checks `tally audit verify` applies to files it does not trust: each
//  StoredRecord and its RecordBody (hash, chain link, seq, partition
//  sequence and epoch, the client's envelope signature and inbox, the
//  events' users, and the events and results derived from the envelope and
//  the state before it, audit_derive), each SignedCheckpoint (tly_journal_checkpoint_decode, the
//  worker's signature, the seq and hash it names), and each segment's
//  signed start, base and seal.
//
//  The checks are those of the command (client/audit/audit_verify_*.c,
//  through its private header audit_verify_private.h), so that they run
//  exactly as the command runs them, without an LMDB journal on disk for
//  every input: the walk is fed here in the order tly_journal_iterate
//  would feed it.
//
//  Input: one byte of mode (bit 0 --segment, bit 1 --kept, bit 2 no
//  --worker, bit 3 verify twice), then chunks (fuzz_support.h), by tag & 3:
//    0  a record (StoredRecord bytes), the next seq (tag bit 5: one seq
//       further, a gap). Made whole again on request, so that the fuzzer
//       gets past the hash and signature checks: tag bit 2 sets the body's
//       seq and prev_hash to what the walk expects, bit 3 signs the
//       client's envelope again (when its sender is a test account), bit 4
//       sets the stored hash to the body's;
//    1  a checkpoint: seq (8 bytes, big endian) | SignedCheckpoint bytes;
//       tag bit 2 signs it again by the test worker;
//    2  a segment: first (8 bytes BE) | last (8 bytes BE) | sealed (1) |
//       base hash (32) | base checkpoint bytes; tag bit 2 signs the base
//       checkpoint again;
//    3  SignedCheckpoint bytes for tly_journal_checkpoint_decode alone.
//
//  What must hold: the same journal gives the same verdict twice (mode bit
//  3); a failure names its reason; every record the walk accepts is, by a check
//  written again here from docs/journal.md, a stored record whose hash is
//  its body's, whose body decodes with its seq and links to the record
//  before, whose partition is in range with an epoch of at least 1, whose
//  envelope is signed by its sender (and addressed to the worker, when
//  given) and whose events are all the sender's (a BalanceAdjusted: by
//  the sender, for a user a credit or debit of the envelope names, or a
//  purchase a refund of it names);
//  and when the whole walk passes, every checkpoint it judged decodes,
//  verifies with the worker and names its record's seq and hash. The
//  checkpoint decoder accepts exactly a SignedCheckpoint holding a
//  Checkpoint with a 32-byte hash, decodes the same with or without a
//  worker, and says signed only when the signature verifies with that
//  worker and the checkpoint names it.
#include "audit_verify_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_support.h"
#include "tly_bytes.h"
#include "tly_journal.h"
#include "tly_log.h"
#include "tly_sign.h"

#define S_RECORDS_MAX     64
#define S_CHECKPOINTS_MAX 64
#define S_SEGMENTS_MAX    8
#define S_SEGMENT_HEAD    (8 + 8 + 1 + TLY_HASH_BYTES)

typedef struct {
    uint64_t seq;
    uint8_t *bytes;
    size_t size;
} s_item_t;

typedef struct {
    bool one_segment;
    bool kept;
    bool worker;
    s_item_t records [S_RECORDS_MAX];
    size_t record_count;
    s_item_t checkpoints [S_CHECKPOINTS_MAX];
    size_t checkpoint_count;
    tly_journal_segment_info_t segments [S_SEGMENTS_MAX];
    uint8_t *base_checkpoints [S_SEGMENTS_MAX];
    size_t segment_count;
} s_journal_t;

//  What one verify run decided.
typedef struct {
    bool failed;
    uint64_t failed_seq;
    char reason [AUDIT_VERIFY_REASON_MAX];
    uint64_t records;
    uint64_t accepted;  //  records the walk went past
} s_verdict_t;

static tly_arena_t *s_arena;
static bool *s_partition_seen;
static uint64_t *s_partition_seqs;
static uint64_t *s_partition_epochs;

//  ---------------------------------------------------------------- inputs

//  Signs the Checkpoint inside SignedCheckpoint bytes again by the test
//  worker. Returns fresh bytes (the input's copy when they do not decode).
static uint8_t *
s_resign_checkpoint (const uint8_t *bytes, size_t size, size_t *out_size)
{
    Tally__SignedCheckpoint *signed_checkpoint = tally__signed_checkpoint__unpack (NULL, size,
                                                                                   bytes);
    if (!signed_checkpoint) {
        uint8_t *copy = malloc (size ? size : 1);
        assert (copy);
        memcpy (copy, bytes, size);
        *out_size = size;
        return copy;
    }
    fuzz_sign_into (&signed_checkpoint->signature, TLY_DOMAIN_CHECKPOINT,
                    fuzz_account (FUZZ_WORKER), signed_checkpoint->checkpoint.data,
                    signed_checkpoint->checkpoint.len);
    uint8_t *packed = fuzz_pack (&signed_checkpoint->base, out_size);
    tally__signed_checkpoint__free_unpacked (signed_checkpoint, NULL);
    return packed;
}

static void
s_add_checkpoint (s_journal_t *journal, const fuzz_chunk_t *chunk)
{
    if (chunk->size < 8 || journal->checkpoint_count == S_CHECKPOINTS_MAX)
        return;
    uint64_t seq = tly_get_be64 (chunk->data);
    size_t size = chunk->size - 8;
    uint8_t *bytes;
    if (chunk->tag & 4)
        bytes = s_resign_checkpoint (chunk->data + 8, size, &size);
    else {
        bytes = malloc (size ? size : 1);
        assert (bytes);
        memcpy (bytes, chunk->data + 8, size);
    }
    //  The checkpoints table is keyed by seq: one per seq, the last written.
    for (size_t i = 0; i < journal->checkpoint_count; i++)
        if (journal->checkpoints [i].seq == seq) {
            free (journal->checkpoints [i].bytes);
            journal->checkpoints [i] = (s_item_t) { seq, bytes, size };
            return;
        }
    journal->checkpoints [journal->checkpoint_count++] = (s_item_t) { seq, bytes, size };
}

static void
s_add_segment (s_journal_t *journal, const fuzz_chunk_t *chunk)
{
    if (chunk->size < S_SEGMENT_HEAD || journal->segment_count == S_SEGMENTS_MAX)
        return;
    uint64_t first = tly_get_be64 (chunk->data);
    //  As tly_journal_segment_meta allows: a base just before first, a
    //  last from first - 1 on, a base checkpoint that fits its buffer.
    if (first == 0)
        return;
    size_t size = chunk->size - S_SEGMENT_HEAD;
    uint8_t *bytes;
    if (chunk->tag & 4)
        bytes = s_resign_checkpoint (chunk->data + S_SEGMENT_HEAD, size, &size);
    else {
        bytes = malloc (size ? size : 1);
        assert (bytes);
        memcpy (bytes, chunk->data + S_SEGMENT_HEAD, size);
    }
    if (size > TLY_JOURNAL_CHECKPOINT_MAX) {
        free (bytes);
        return;
    }
    uint64_t last = tly_get_be64 (chunk->data + 8);
    tly_journal_segment_info_t info = { .path = "fuzz-segment",
                                        .first = first,
                                        .last = last < first - 1 ? first - 1 : last,
                                        .sealed = chunk->data [16] & 1,
                                        .base = { .seq = first - 1 },
                                        .base_checkpoint = bytes,
                                        .base_checkpoint_size = size };
    memcpy (info.base.hash, chunk->data + 17, TLY_HASH_BYTES);
    if (info.base.seq == 0)
        memset (info.base.hash, 0, TLY_HASH_BYTES);
    //  Segments are found in seq order, one per first seq.
    for (size_t i = 0; i < journal->segment_count; i++)
        if (journal->segments [i].first == first) {
            free (bytes);
            return;
        }
    size_t at = journal->segment_count;
    while (at > 0 && journal->segments [at - 1].first > first) {
        journal->segments [at] = journal->segments [at - 1];
        journal->base_checkpoints [at] = journal->base_checkpoints [at - 1];
        at--;
    }
    journal->segments [at] = info;
    journal->base_checkpoints [at] = bytes;
    journal->segment_count++;
}

static void
s_add_record (s_journal_t *journal, const fuzz_chunk_t *chunk, uint64_t *next_seq)
{
    if (journal->record_count == S_RECORDS_MAX)
        return;
    uint8_t *bytes = malloc (chunk->size ? chunk->size : 1);
    assert (bytes);
    memcpy (bytes, chunk->data, chunk->size);
    //  A gap: the journal holds no record at this seq.
    if (chunk->tag & 32)
        (*next_seq)++;
    journal->records [journal->record_count++] = (s_item_t) { (*next_seq)++, bytes, chunk->size };
}

static int
s_by_seq (const void *a, const void *b)
{
    const s_item_t *left = a, *right = b;
    return left->seq < right->seq ? -1 : left->seq > right->seq;
}

static void
s_journal_free (s_journal_t *journal)
{
    for (size_t i = 0; i < journal->record_count; i++)
        free (journal->records [i].bytes);
    for (size_t i = 0; i < journal->checkpoint_count; i++)
        free (journal->checkpoints [i].bytes);
    for (size_t i = 0; i < journal->segment_count; i++)
        free (journal->base_checkpoints [i]);
}

//  ---------------------------------------------------------------- repairs

//  Makes a record whole where its tag asks (see the top). Returns fresh
//  bytes, or NULL to take the record as it is.
static uint8_t *
s_repair (uint8_t tag, const s_item_t *record, const uint8_t prev_hash [TLY_HASH_BYTES],
          size_t *size_p)
{
    if (!(tag & (4 | 8 | 16)))
        return NULL;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, record->size, record->bytes);
    if (!stored)
        return NULL;
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    if (body && (tag & 4)) {
        body->seq = record->seq;
        fuzz_set_bytes (&body->prev_hash, prev_hash, TLY_HASH_BYTES);
    }
    Tally__SignedEnvelope *request = body && body->draft ? body->draft->request : NULL;
    Tally__Envelope *envelope = request && (tag & 8) ? tally__envelope__unpack (
                                    NULL, request->envelope.len, request->envelope.data)
                                                     : NULL;
    const tly_account_t *sender = envelope && envelope->sender.len == TLY_KEY_BYTES
                                      ? fuzz_account_of (envelope->sender.data)
                                      : NULL;
    if (sender)
        fuzz_sign_into (&request->signature, TLY_DOMAIN_ENVELOPE, sender, request->envelope.data,
                        request->envelope.len);
    if (envelope)
        tally__envelope__free_unpacked (envelope, NULL);
    if (body && (tag & (4 | 8))) {
        size_t size;
        uint8_t *packed = fuzz_pack (&body->base, &size);
        free (stored->body.data);
        stored->body = (ProtobufCBinaryData) { size, packed };
    }
    if (body)
        tally__record_body__free_unpacked (body, NULL);
    if (tag & 16) {
        uint8_t hash [TLY_HASH_BYTES];
        tly_record_hash (stored->body.data, stored->body.len, hash);
        fuzz_set_bytes (&stored->hash, hash, sizeof hash);
    }
    uint8_t *packed = fuzz_pack (&stored->base, size_p);
    tally__stored_record__free_unpacked (stored, NULL);
    return packed;
}

//  ---------------------------------------------------------------- the model

//  A BalanceAdjusted's author and user (docs/journal.md, verify's step 6):
//  made by the sender, for a user a credit or debit of the envelope names,
//  or for a purchase a refund of the envelope names (whose user the
//  derivation checks).
static bool
s_model_adjusted (const Tally__Envelope *envelope, const Tally__BalanceAdjusted *adjusted)
{
    if (adjusted->by.len != TLY_KEY_BYTES
        || memcmp (adjusted->by.data, envelope->sender.data, TLY_KEY_BYTES) != 0)
        return false;
    for (size_t i = 0; i < envelope->n_messages; i++) {
        const Tally__InboxMessage *message = envelope->messages [i];
        const Tally__Adjustment *adjustment = message->body_case
                                                      == TALLY__INBOX_MESSAGE__BODY_CREDIT
                                                  ? message->credit
                                              : message->body_case
                                                      == TALLY__INBOX_MESSAGE__BODY_DEBIT
                                                  ? message->debit
                                                  : NULL;
        if (adjustment && adjustment->user.len == TLY_KEY_BYTES
            && adjusted->user.len == TLY_KEY_BYTES
            && memcmp (adjustment->user.data, adjusted->user.data, TLY_KEY_BYTES) == 0)
            return true;
        const Tally__Refund *refund = message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND
                                          ? message->refund
                                          : NULL;
        if (refund && refund->purchase_id && adjusted->refund_of && *adjusted->refund_of
            && strcmp (refund->purchase_id, adjusted->refund_of) == 0)
            return true;
    }
    return false;
}

//  An OrderChanged is for an order an order message of the envelope names
//  by its ID, or for the sender when the envelope creates an order.
static bool
s_model_order (const Tally__Envelope *envelope, const Tally__OrderChanged *changed)
{
    if (!changed->order || !changed->order->id)
        return false;
    for (size_t i = 0; i < envelope->n_messages; i++) {
        const Tally__InboxMessage *message = envelope->messages [i];
        const char *named = NULL;
        switch (message->body_case) {
            case TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER:
                if (changed->user.len == TLY_KEY_BYTES
                    && memcmp (changed->user.data, envelope->sender.data, TLY_KEY_BYTES) == 0)
                    return true;
                break;
            case TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER:
                named = message->edit_order->order_id;
                break;
            case TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER:
                named = message->submit_order->order_id;
                break;
            case TALLY__INBOX_MESSAGE__BODY_COMPLETE_ORDER:
                named = message->complete_order->order_id;
                break;
            case TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER:
                named = message->fail_order->order_id;
                break;
            default: break;
        }
        if (named && strcmp (named, changed->order->id) == 0)
            return true;
    }
    return false;
}

//  The rules one record must meet on its own, written again from
//  docs/journal.md. Fills hash with the record's hash when it meets them.
static bool
s_model_record (uint64_t seq, const uint8_t *bytes, size_t size,
                const uint8_t prev_hash [TLY_HASH_BYTES], const uint8_t *worker,
                uint8_t hash [TLY_HASH_BYTES])
{
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, bytes);
    if (!stored)
        return false;
    tly_record_hash (stored->body.data, stored->body.len, hash);
    bool ok = stored->hash.len == TLY_HASH_BYTES
              && memcmp (stored->hash.data, hash, TLY_HASH_BYTES) == 0;
    Tally__RecordBody *body = ok ? tally__record_body__unpack (NULL, stored->body.len,
                                                               stored->body.data)
                                 : NULL;
    const Tally__RecordDraft *draft = body ? body->draft : NULL;
    ok = draft && body->seq == seq && body->prev_hash.len == TLY_HASH_BYTES
         && memcmp (body->prev_hash.data, prev_hash, TLY_HASH_BYTES) == 0
         && draft->partition < TLY_PARTITIONS_MAX && draft->epoch >= 1 && draft->request;
    Tally__Envelope *envelope = ok ? tally__envelope__unpack (NULL, draft->request->envelope.len,
                                                              draft->request->envelope.data)
                                   : NULL;
    ok = envelope && envelope->sender.len == TLY_KEY_BYTES
         && tly_verify_envelope (envelope->sender.data, draft->request->envelope.data,
                                 draft->request->envelope.len, draft->request->signature.data,
                                 draft->request->signature.len);
    //  Addressed to the worker, when the verifier knows it.
    ok = ok
         && (!worker
             || (envelope->inbox.len == TLY_KEY_BYTES
                 && memcmp (envelope->inbox.data, worker, TLY_KEY_BYTES) == 0));
    for (size_t i = 0; ok && i < draft->n_events; i++) {
        const Tally__Event *event = draft->events [i];
        if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED) {
            ok = event->balance_adjusted && s_model_adjusted (envelope, event->balance_adjusted);
            continue;
        }
        if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED) {
            ok = event->order_changed && s_model_order (envelope, event->order_changed);
            continue;
        }
        const ProtobufCBinaryData *user = NULL;
        if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED)
            user = &event->account_created->user;
        if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED)
            user = &event->purchase_recorded->user;
        ok = user && user->len == TLY_KEY_BYTES
             && memcmp (user->data, envelope->sender.data, TLY_KEY_BYTES) == 0;
    }
    if (envelope)
        tally__envelope__free_unpacked (envelope, NULL);
    if (body)
        tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return ok;
}

//  A checkpoint a passing walk judged: it decodes, the worker signed it, and
//  it names the seq and hash of the record at its seq.
static void
s_model_checkpoint (const s_item_t *checkpoint, const uint8_t hash [TLY_HASH_BYTES])
{
    tly_journal_checkpoint_t decoded;
    int rc = tly_journal_checkpoint_decode (checkpoint->bytes, checkpoint->size,
                                            fuzz_account (FUZZ_WORKER)->sign_pk, &decoded);
    assert (rc == 0 && decoded.signed_by_worker);
    assert (decoded.seq == checkpoint->seq && memcmp (decoded.hash, hash, TLY_HASH_BYTES) == 0);
}

//  ---------------------------------------------------------------- the run

static void
s_verify_init (audit_verify_t *self, const s_journal_t *journal)
{
    memset (s_partition_seen, 0, TLY_PARTITIONS_MAX * sizeof (bool));
    memset (s_partition_seqs, 0, TLY_PARTITIONS_MAX * sizeof (uint64_t));
    memset (s_partition_epochs, 0, TLY_PARTITIONS_MAX * sizeof (uint64_t));
    *self = (audit_verify_t) { .worker = journal->worker ? fuzz_account (FUZZ_WORKER)->sign_pk
                                                         : NULL,
                               .arena = s_arena,
                               .derive = audit_derive_new (TLY_DEDUPE_WINDOW_MS_DEFAULT),
                               .next_seq = 1,
                               .one_segment = journal->one_segment,
                               .kept = journal->kept,
                               .partition_seen = s_partition_seen,
                               .partition_seqs = s_partition_seqs,
                               .partition_epochs = s_partition_epochs };
}

//  One verify run, as audit_verify runs it, with the journal's reads done
//  from memory. The walk's accepted records are checked against the model.
static void
s_verify (const s_journal_t *journal, const uint8_t *tags, s_verdict_t *verdict)
{
    audit_verify_t self;
    s_verify_init (&self, journal);
    memset (verdict, 0, sizeof *verdict);
    for (size_t i = 0; i < journal->checkpoint_count; i++)
        audit_verify_load_checkpoint (journal->checkpoints [i].seq, journal->checkpoints [i].bytes,
                                      journal->checkpoints [i].size, &self);
    //  audit_verify_load_segments, from the segment descriptions.
    self.segments = (tly_journal_segment_info_t *) journal->segments;
    self.segment_count = journal->segment_count;
    if (self.segment_count > 0
        && (self.one_segment || (self.kept && self.segments [0].first > 1))) {
        const tly_journal_segment_info_t *info = &self.segments [0];
        self.next_seq = info->first;
        memcpy (self.prev_hash, info->base.hash, TLY_HASH_BYTES);
        //  The configuration in force before it is not known: the records
        //  that carry one give it.
        if (info->first > 1)
            audit_derive_start_within (self.derive);
        audit_verify_check_start (&self, info);
        if (!self.failed && info->base.seq > 0)
            audit_verify_check_checkpoint (&self, info->base.seq, info->base.hash);
    }
    bool needs_worker = false;
    for (size_t i = 0; i < self.segment_count; i++)
        needs_worker |= self.segments [i].base_checkpoint_size > 0;
    if ((self.checkpoint_count > 0 || needs_worker) && !self.worker) {
        free (self.checkpoints);
        audit_derive_destroy (&self.derive);
        return;  //  the command refuses to walk: usage error
    }
    audit_verify_start_snapshots (&self);
    uint8_t model_prev [TLY_HASH_BYTES];
    memcpy (model_prev, self.prev_hash, TLY_HASH_BYTES);
    uint8_t hashes [S_RECORDS_MAX][TLY_HASH_BYTES];
    bool accepted [S_RECORDS_MAX] = { false };
    for (size_t i = 0; i < journal->record_count && !self.failed; i++) {
        const s_item_t *record = &journal->records [i];
        if (record->seq < self.next_seq)
            continue;  //  iterate starts at the walk's first seq
        size_t size = record->size;
        uint8_t *repaired = s_repair (tags [i], record, self.prev_hash, &size);
        const uint8_t *bytes = repaired ? repaired : record->bytes;
        audit_verify_walk (record->seq, bytes, size, &self);
        if (!self.failed) {
            assert (s_model_record (record->seq, bytes, size, model_prev, self.worker, hashes [i]));
            memcpy (model_prev, hashes [i], TLY_HASH_BYTES);
            accepted [i] = true;
            verdict->accepted++;
        }
        free (repaired);
    }
    //  The walk's checks of the tables (audit_verify_walk.c), without the
    //  journal's head and partition entries.
    if (!self.failed && self.checkpoint_next < self.checkpoint_count) {
        uint64_t at = self.checkpoints [self.checkpoint_next].seq;
        audit_verify_fail (&self, at, "checkpoint at seq %" PRIu64 ": no such record", at);
    }
    if (!self.failed)
        audit_verify_check_seals (&self);
    if (!self.failed)
        audit_verify_end_snapshots (&self);
    if (!self.failed && self.worker)
        for (size_t c = 0; c < journal->checkpoint_count; c++)
            for (size_t i = 0; i < journal->record_count; i++)
                if (accepted [i] && journal->records [i].seq == journal->checkpoints [c].seq)
                    s_model_checkpoint (&journal->checkpoints [c], hashes [i]);
    verdict->failed = self.failed;
    verdict->failed_seq = self.failed_seq;
    memcpy (verdict->reason, self.reason, sizeof verdict->reason);
    verdict->records = self.records;
    if (self.failed)
        assert (self.reason [0]);
    free (self.checkpoints);
    audit_derive_destroy (&self.derive);
}

//  tly_journal_checkpoint_decode on its own.
static void
s_checkpoint_alone (const uint8_t *bytes, size_t size)
{
    const uint8_t *worker = fuzz_account (FUZZ_WORKER)->sign_pk;
    tly_journal_checkpoint_t with, without;
    int rc = tly_journal_checkpoint_decode (bytes, size, worker, &with);
    assert (tly_journal_checkpoint_decode (bytes, size, NULL, &without) == rc);
    assert (!without.signed_by_worker);
    Tally__SignedCheckpoint *signed_checkpoint = tally__signed_checkpoint__unpack (NULL, size,
                                                                                   bytes);
    Tally__Checkpoint *checkpoint = signed_checkpoint ? tally__checkpoint__unpack (
                                        NULL, signed_checkpoint->checkpoint.len,
                                        signed_checkpoint->checkpoint.data)
                                                      : NULL;
    assert ((rc == 0) == (checkpoint && checkpoint->hash.len == TLY_HASH_BYTES));
    if (rc == 0) {
        assert (with.seq == checkpoint->seq && with.seq == without.seq);
        assert (with.timestamp_ms == without.timestamp_ms);
        assert (memcmp (with.hash, checkpoint->hash.data, TLY_HASH_BYTES) == 0);
        assert (memcmp (with.hash, without.hash, TLY_HASH_BYTES) == 0);
        bool names_worker = checkpoint->worker.len == TLY_KEY_BYTES
                            && memcmp (checkpoint->worker.data, worker, TLY_KEY_BYTES) == 0;
        bool verifies = tly_verify_domain (
            TLY_DOMAIN_CHECKPOINT, worker, signed_checkpoint->checkpoint.data,
            signed_checkpoint->checkpoint.len, signed_checkpoint->signature.data,
            signed_checkpoint->signature.len);
        assert (with.signed_by_worker == (names_worker && verifies));
    } else
        assert (!with.signed_by_worker && with.seq == 0);
    if (checkpoint)
        tally__checkpoint__free_unpacked (checkpoint, NULL);
    if (signed_checkpoint)
        tally__signed_checkpoint__free_unpacked (signed_checkpoint, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!s_arena) {
        tly_log_init ("fuzz_journal_verify", TLY_ERROR);
        s_arena = tly_arena_new (AUDIT_ARENA_BLOCK);
        s_partition_seen = calloc (TLY_PARTITIONS_MAX, sizeof (bool));
        s_partition_seqs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t));
        s_partition_epochs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t));
        assert (s_arena && s_partition_seen && s_partition_seqs && s_partition_epochs);
    }
    s_journal_t journal = { .one_segment = data [0] & 1,
                            .kept = (data [0] & 2) && !(data [0] & 1),
                            .worker = !(data [0] & 4) };
    uint8_t tags [S_RECORDS_MAX];
    uint64_t next_seq = 1;
    fuzz_input_t input = { data + 1, data + size };
    fuzz_chunk_t chunk;
    while (fuzz_chunk_next (&input, &chunk)) {
        switch (chunk.tag & 3) {
            case 0:
                if (journal.record_count < S_RECORDS_MAX)
                    tags [journal.record_count] = chunk.tag;
                s_add_record (&journal, &chunk, &next_seq);
                break;
            case 1: s_add_checkpoint (&journal, &chunk); break;
            case 2: s_add_segment (&journal, &chunk); break;
            default: s_checkpoint_alone (chunk.data, chunk.size);
        }
    }
    //  The journal's records start where its first segment does.
    if (journal.segment_count > 0) {
        uint64_t shift = journal.segments [0].first - 1;
        for (size_t i = 0; i < journal.record_count; i++)
            journal.records [i].seq += shift;
    }
    qsort (journal.checkpoints, journal.checkpoint_count, sizeof (s_item_t), s_by_seq);
    s_verdict_t first, second;
    s_verify (&journal, tags, &first);
    //  A verify run sets up its derived state afresh (megabytes): the second
    //  run is made for the inputs that ask for it.
    if (data [0] & 8) {
        s_verify (&journal, tags, &second);
        assert (first.failed == second.failed && first.failed_seq == second.failed_seq);
        assert (strcmp (first.reason, second.reason) == 0 && first.records == second.records);
        assert (first.accepted == second.accepted);
    }
    s_journal_free (&journal);
    return 0;
}
