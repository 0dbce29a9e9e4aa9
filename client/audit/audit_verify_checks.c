//  audit_verify_checks - the checks of `tally audit verify` that judge one
//  thing the walk reaches: a checkpoint against its record, a record's
//  request (its client's signature, its events the sender's or its
//  credited or debited users', the events and results derived from the
//  envelope), a segment's signed start, base and seal, and a partition's
//  sequence and epoch; and the failure they record. Apart from the walk (audit_verify_walk.c) so that each check
//  reads on its own, and so that the fuzz target (tests/fuzz/
//  fuzz_journal_verify.c) runs exactly these on journals made in memory.
#include "audit_verify_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "tly_account.h"
#include "tly_sign.h"
#include "tly_validate.h"

//  Records the failure and stops the walk.
tly_journal_step_t
audit_verify_fail (audit_verify_t *self, uint64_t seq, const char *format, ...)
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

tly_journal_step_t
audit_verify_load_checkpoint (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    audit_verify_t *self = arg;
    if (self->checkpoint_count == self->checkpoint_capacity) {
        self->checkpoint_capacity = self->checkpoint_capacity ? 2 * self->checkpoint_capacity : 64;
        self->checkpoints = realloc (self->checkpoints, self->checkpoint_capacity
                                                            * sizeof (audit_verify_checkpoint_t));
        assert (self->checkpoints);
    }
    audit_verify_checkpoint_t *checkpoint = &self->checkpoints [self->checkpoint_count++];
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
tly_journal_step_t
audit_verify_check_checkpoint (audit_verify_t *self, uint64_t seq,
                               const uint8_t hash [TLY_HASH_BYTES])
{
    while (self->checkpoint_next < self->checkpoint_count
           && self->checkpoints [self->checkpoint_next].seq <= seq) {
        const audit_verify_checkpoint_t *checkpoint = &self->checkpoints [self->checkpoint_next++];
        uint64_t at = checkpoint->seq;
        if (at < seq)
            return audit_verify_fail (self, at, "checkpoint at seq %" PRIu64 ": no such record",
                                      at);
        if (!checkpoint->decodes)
            return audit_verify_fail (self, at, "checkpoint at seq %" PRIu64 ": does not decode",
                                      at);
        if (!checkpoint->signature_valid)
            return audit_verify_fail (self, at,
                                      "checkpoint at seq %" PRIu64 ": bad signature"
                                      " (not signed by the worker)",
                                      at);
        if (checkpoint->named_seq != at)
            return audit_verify_fail (self, at, "checkpoint at seq %" PRIu64 ": names seq %" PRIu64,
                                      at, checkpoint->named_seq);
        if (memcmp (checkpoint->hash, hash, TLY_HASH_BYTES) != 0) {
            char signed_hex [AUDIT_VERIFY_HEX_HASH], record_hex [AUDIT_VERIFY_HEX_HASH];
            sodium_bin2hex (signed_hex, sizeof signed_hex, checkpoint->hash, TLY_HASH_BYTES);
            sodium_bin2hex (record_hex, sizeof record_hex, hash, TLY_HASH_BYTES);
            return audit_verify_fail (self, at,
                                      "checkpoint at seq %" PRIu64 ": hash mismatch (signed %s,"
                                      " record %s)",
                                      at, signed_hex, record_hex);
        }
    }
    return TLY_JOURNAL_NEXT;
}

//  ---------------------------------------------------------------- records

static bool
s_is_key (const ProtobufCBinaryData *key, const uint8_t expected [TLY_KEY_BYTES])
{
    return key->len == TLY_KEY_BYTES && memcmp (key->data, expected, TLY_KEY_BYTES) == 0;
}

//  Whether a refund of the envelope is of purchase_id (its user is the
//  purchase's: the derivation reads it from the purchase's record).
static bool
s_refunds (const Tally__Envelope *envelope, const char *purchase_id)
{
    if (!purchase_id || !*purchase_id)
        return false;
    for (size_t i = 0; i < envelope->n_messages; i++) {
        const Tally__InboxMessage *message = envelope->messages [i];
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND && message->refund
            && message->refund->purchase_id
            && strcmp (message->refund->purchase_id, purchase_id) == 0)
            return true;
    }
    return false;
}

//  Whether an order message of the envelope is for the order changed: one
//  naming its ID, or a createOrder of its user, the sender (the derivation
//  checks the ID it makes).
static bool
s_orders (const Tally__Envelope *envelope, const Tally__OrderChanged *changed)
{
    if (!changed || !changed->order || !changed->order->id)
        return false;
    for (size_t i = 0; i < envelope->n_messages; i++) {
        const Tally__InboxMessage *message = envelope->messages [i];
        const char *named = tly_order_message_id (message);
        if (named && strcmp (named, changed->order->id) == 0)
            return true;
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER
            && s_is_key (&changed->user, envelope->sender.data))
            return true;
    }
    return false;
}

//  Whether a credit or debit of the envelope is for user.
static bool
s_adjusts (const Tally__Envelope *envelope, const ProtobufCBinaryData *user)
{
    for (size_t i = 0; i < envelope->n_messages; i++) {
        const Tally__InboxMessage *message = envelope->messages [i];
        const Tally__Adjustment *adjustment = NULL;
        if (message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT)
            adjustment = message->credit;
        else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT)
            adjustment = message->debit;
        if (adjustment && adjustment->user.len == TLY_KEY_BYTES
            && s_is_key (user, adjustment->user.data))
            return true;
    }
    return false;
}

//  The request: an envelope signed by its sender, and every event the
//  sender's (AccountCreated, PurchaseRecorded) or, BalanceAdjusted, for the
//  user a credit or debit of the envelope names, or of a purchase a refund
//  of it names, by the sender, or, OrderChanged, for an order an order
//  message of it creates or names.
tly_journal_step_t
audit_verify_check_request (audit_verify_t *self, uint64_t seq, const Tally__RecordDraft *draft)
{
    const Tally__SignedEnvelope *request = draft->request;
    if (!request)
        return audit_verify_fail (self, seq, "no client request");
    Tally__Envelope *envelope = tally__envelope__unpack (
        tly_arena_allocator (self->arena), request->envelope.len, request->envelope.data);
    if (!envelope || envelope->sender.len != TLY_KEY_BYTES)
        return audit_verify_fail (self, seq, "bad client signature (the envelope does not decode)");
    char sender [TLY_ID_MAX];
    if (!tly_verify_envelope (envelope->sender.data, request->envelope.data, request->envelope.len,
                              request->signature.data, request->signature.len)) {
        tly_account_id (envelope->sender.data, sender);
        return audit_verify_fail (self, seq, "bad client signature (sender %s)", sender);
    }
    for (size_t i = 0; i < draft->n_events; i++) {
        const Tally__Event *event = draft->events [i];
        if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED) {
            const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
            if (!(s_adjusts (envelope, &adjusted->user)
                  || s_refunds (envelope, adjusted->refund_of))
                || !s_is_key (&adjusted->by, envelope->sender.data))
                return audit_verify_fail (self, seq,
                                          "event %zu (BalanceAdjusted) is not for a user the"
                                          " request credits or debits, or a purchase it"
                                          " refunds, by its sender",
                                          i + 1);
            continue;
        }
        if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED) {
            if (!s_orders (envelope, event->order_changed))
                return audit_verify_fail (self, seq,
                                          "event %zu (OrderChanged) is not for an order the"
                                          " request creates or names",
                                          i + 1);
            continue;
        }
        const ProtobufCBinaryData *user = event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED
                                              ? &event->account_created->user
                                          : event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED
                                              ? &event->purchase_recorded->user
                                              : NULL;
        if (!user)
            return audit_verify_fail (self, seq, "event %zu is of no known kind", i + 1);
        if (!s_is_key (user, envelope->sender.data)) {
            tly_account_id (envelope->sender.data, sender);
            return audit_verify_fail (self, seq, "event %zu is not for the request's sender %s",
                                      i + 1, sender);
        }
    }
    //  An actor refuses an envelope addressed to another service (UNKNOWN_INBOX).
    if (self->worker
        && (envelope->inbox.len != TLY_KEY_BYTES
            || memcmp (envelope->inbox.data, self->worker, TLY_KEY_BYTES) != 0))
        return audit_verify_fail (self, seq,
                                  "the envelope is not addressed to the worker (its inbox)");
    //  Derived wherever the walk has the state to derive from (a caller that
    //  checks records on their own, as the fuzz target does, has none).
    char reason [AUDIT_DERIVE_REASON_MAX];
    self->lookup_failed = false;
    if (self->derive
        && audit_derive_record (self->derive, draft, envelope, reason, sizeof reason) == -1) {
        //  A refund's purchase could not be read: retired under the walk
        //  (a read failure: the walk starts again), or the index is wrong.
        if (self->lookup_failed && !self->lookup_reason [0])
            return TLY_JOURNAL_FAIL;
        if (self->lookup_failed)
            return audit_verify_fail (self, seq, "%s: %s", reason, self->lookup_reason);
        return audit_verify_fail (self, seq, "%s", reason);
    }
    return TLY_JOURNAL_NEXT;
}

//  ---------------------------------------------------------------- segments

//  A segment's signed start: its base checkpoint (the predecessor's seal)
//  verifies with the worker and names the record before its first.
tly_journal_step_t
audit_verify_check_start (audit_verify_t *self, const tly_journal_segment_info_t *info)
{
    if (info->base.seq == 0)
        return TLY_JOURNAL_NEXT;  //  the first segment starts at genesis
    uint64_t at = info->first;
    if (info->base_checkpoint_size == 0)
        return audit_verify_fail (
            self, at, "no signed start (base checkpoint) for base seq %" PRIu64, info->base.seq);
    tly_journal_checkpoint_t start;
    if (tly_journal_checkpoint_decode (info->base_checkpoint, info->base_checkpoint_size,
                                       self->worker, &start)
        == -1)
        return audit_verify_fail (self, at, "the signed start does not decode");
    if (!start.signed_by_worker)
        return audit_verify_fail (
            self, at, "the signed start has a bad signature (not signed by the worker)");
    if (start.seq != info->base.seq || memcmp (start.hash, info->base.hash, TLY_HASH_BYTES) != 0)
        return audit_verify_fail (self, at,
                                  "the signed start names seq %" PRIu64 ", not the base %" PRIu64,
                                  start.seq, info->base.seq);
    return TLY_JOURNAL_NEXT;
}

//  At a segment's first record: its base names the record before, which is
//  what the chain links to, and its signed start holds.
tly_journal_step_t
audit_verify_check_boundary (audit_verify_t *self, uint64_t seq)
{
    while (self->segment_next < self->segment_count
           && self->segments [self->segment_next].first <= seq) {
        const tly_journal_segment_info_t *info = &self->segments [self->segment_next++];
        if (info->first != seq || self->one_segment)
            continue;
        if (memcmp (info->base.hash, self->prev_hash, TLY_HASH_BYTES) != 0)
            return audit_verify_fail (self, seq, "the segment's base is not the record before it");
        tly_journal_step_t step = audit_verify_check_start (self, info);
        if (step != TLY_JOURNAL_NEXT)
            return step;
    }
    return TLY_JOURNAL_NEXT;
}

static bool
s_has_checkpoint (const audit_verify_t *self, uint64_t seq)
{
    for (size_t i = 0; i < self->checkpoint_count; i++)
        if (self->checkpoints [i].seq == seq)
            return true;
    return false;
}

//  Every sealed segment ends with a signed checkpoint of its last record.
void
audit_verify_check_seals (audit_verify_t *self)
{
    for (size_t i = 0; i < self->segment_count && !self->failed; i++) {
        const tly_journal_segment_info_t *info = &self->segments [i];
        if (info->sealed && info->last >= info->first && !s_has_checkpoint (self, info->last))
            audit_verify_fail (self, info->last,
                               "sealed without a signed end (no checkpoint at its last record)");
    }
}

//  Partition sequences run 1, 2, 3 ... with no gap, and epochs never go back.
tly_journal_step_t
audit_verify_check_partition (audit_verify_t *self, uint64_t seq, const Tally__RecordDraft *draft)
{
    uint32_t partition = draft->partition;
    if (partition >= TLY_PARTITIONS_MAX)
        return audit_verify_fail (self, seq, "partition %" PRIu32 " is out of range", partition);
    //  On its own, a segment starts each partition where its bases say: the
    //  first record of a partition sets it.
    if ((self->one_segment || self->kept) && !self->partition_seen [partition]) {
        self->partition_seen [partition] = true;
        self->partition_seqs [partition] = draft->partition_seq - 1;
    }
    uint64_t expected = self->partition_seqs [partition] + 1;
    if (draft->partition_seq != expected)
        return audit_verify_fail (
            self, seq, "partition %" PRIu32 " sequence: expected %" PRIu64 ", found %" PRIu64,
            partition, expected, draft->partition_seq);
    if (self->partition_firsts && !self->partition_firsts [partition])
        self->partition_firsts [partition] = expected;
    if (draft->epoch == 0 || draft->epoch < self->partition_epochs [partition])
        return audit_verify_fail (
            self, seq, "partition %" PRIu32 " epoch went back from %" PRIu64 " to %" PRIu64,
            partition, self->partition_epochs [partition], draft->epoch);
    self->partition_seqs [partition] = expected;
    self->partition_epochs [partition] = draft->epoch;
    return TLY_JOURNAL_NEXT;
}
