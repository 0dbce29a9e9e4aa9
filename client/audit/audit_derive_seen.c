//  audit_derive_seen - the tables of what was decided, for verify's
//  derivation (audit_derive_private.h), both open addressing on a SipHash
//  fingerprint:
//
//  - message IDs, on the actor's dedupe key, each entry 24 bytes; an entry
//    is dropped once its ID is older than the window before its
//    partition's clock, past which no actor may take the ID again, so the
//    table holds what the actors' own dedupe tables hold, not the whole
//    journal;
//  - references of credits, debits and refunds, on the adjustment's object
//    key, each entry 16 bytes, kept forever (as the actors keep their
//    adjustments); and the purchases refunded, on their purchase keys
//    (audit_derive_refund.c).
#include "audit_derive_private.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "tly_store.h"

#define S_PERCENT   70  //  sweep (and grow if need be) past this fill
//  A digest's bytes: the outcome and three numbers, then at most five texts,
//  each as its size and bytes (an adjustment); a configuration change's
//  five numbers and two texts take less.
#define S_TEXT(max) (8 + (max) + 1)
#define S_DIGEST_BYTES                                                                    \
    (4 * 8 + 3 * S_TEXT (TLY_ID_MAX) + S_TEXT (TLY_REFERENCE_MAX) + S_TEXT (TLY_NOTE_MAX) \
     + S_TEXT (TLY_ITEM_ID_MAX))

audit_derive_seen_t *
audit_derive_seen_new (size_t capacity)
{
    audit_derive_seen_t *table = calloc (capacity, sizeof (audit_derive_seen_t));
    assert (table);
    return table;
}

static uint64_t
s_hash64 (const uint8_t key [crypto_shorthash_KEYBYTES], const uint8_t *data, size_t size)
{
    uint8_t hash [crypto_shorthash_BYTES];
    crypto_shorthash (hash, data, size, key);
    uint64_t value;
    memcpy (&value, hash, sizeof value);
    return value;
}

uint64_t
audit_derive_fingerprint (const audit_derive_t *self, uint32_t partition, const uint8_t *user,
                          const uint8_t *message_id)
{
    uint8_t key [TLY_STORE_DEDUPE_KEY_BYTES];
    tly_store_dedupe_key (partition, user, message_id, key);
    uint64_t fingerprint = s_hash64 (self->fingerprint_key, key, sizeof key);
    return fingerprint ? fingerprint : 1;  //  0 marks an empty slot
}

static void
s_put_i64 (uint8_t **at, int64_t value)
{
    memcpy (*at, &value, sizeof value);
    *at += sizeof value;
}

//  A text as its size and bytes, up to one byte past max (what a record
//  says is not trusted to be within it).
static void
s_put_text (uint8_t **at, const char *text, size_t max)
{
    size_t size = text ? strnlen (text, max + 1) : 0;
    s_put_i64 (at, (int64_t) size);
    if (size)
        memcpy (*at, text, size);
    *at += size;
}

static void
s_put_adjustment (uint8_t **at, const Tally__AdjustmentRecord *record)
{
    s_put_i64 (at, record->amount);
    s_put_i64 (at, record->timestamp);
    s_put_i64 (at, record->balance_after);
    s_put_text (at, record->id, TLY_ID_MAX);
    s_put_text (at, record->user_id, TLY_ID_MAX);
    s_put_text (at, record->by, TLY_ID_MAX);
    s_put_text (at, record->reference, TLY_REFERENCE_MAX);
    s_put_text (at, record->note, TLY_NOTE_MAX);
}

static uint64_t
s_order_digest (const audit_derive_t *self, const Tally__Order *order)
{
    size_t size = tally__order__get_packed_size (order);
    uint8_t *bytes = malloc (size ? size : 1);
    assert (bytes);
    tally__order__pack (order, bytes);
    uint64_t digest = s_hash64 (self->digest_key, bytes, size);
    free (bytes);
    return digest;
}

uint64_t
audit_derive_digest (const audit_derive_t *self, const Tally__MessageResult *result)
{
    uint8_t bytes [S_DIGEST_BYTES];
    uint8_t *at = bytes;
    s_put_i64 (&at, result->outcome_case);
    if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR && result->error)
        s_put_i64 (&at, result->error->code);
    else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE && result->balance) {
        s_put_i64 (&at, result->balance->balance);
        s_put_i64 (&at, result->balance->last_updated);
        s_put_i64 (&at, result->balance->held);
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE
               && result->purchase) {
        s_put_i64 (&at, result->purchase->amount);
        s_put_i64 (&at, result->purchase->timestamp);
        s_put_i64 (&at, result->purchase->balance_after);
        s_put_i64 (&at, (int64_t) result->purchase->partition_seq);
        s_put_i64 (&at, result->purchase->refunded_at);
        s_put_text (&at, result->purchase->refund_id, TLY_ID_MAX);
        const char *item = result->purchase->item_id ? result->purchase->item_id : "";
        size_t size = strnlen (item, TLY_ITEM_ID_MAX + 1);
        memcpy (at, item, size);
        at += size;
    } else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT
               && result->adjustment)
        s_put_adjustment (&at, result->adjustment);
    else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ORDER && result->order)
        //  An order is up to 16 lines and 16 purchase IDs: its own digest
        //  of every field, as encoded.
        s_put_i64 (&at, (int64_t) s_order_digest (self, result->order));
    else if (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_CONFIG && result->config) {
        const Tally__ConfigChange *change = result->config;
        s_put_i64 (&at, (int64_t) change->version);
        s_put_text (&at, change->admin_id, TLY_ID_MAX);
        s_put_i64 (&at, change->item != NULL);
        if (change->item) {
            s_put_i64 (&at, change->item->price);
            s_put_i64 (&at, change->item->active);
            s_put_text (&at, change->item->item_id, TLY_ITEM_ID_MAX);
        }
    }
    assert ((size_t) (at - bytes) <= sizeof bytes);
    return s_hash64 (self->digest_key, bytes, (size_t) (at - bytes));
}

static uint32_t
s_seen_partition (const audit_derive_seen_t *seen)
{
    return (uint32_t) (seen->partition_made >> AUDIT_DERIVE_MADE_BITS);
}

static int64_t
s_seen_made (const audit_derive_seen_t *seen)
{
    return (int64_t) (seen->partition_made & (((uint64_t) 1 << AUDIT_DERIVE_MADE_BITS) - 1));
}

//  An entry an actor may no longer answer from: its ID is older than the
//  window before its partition's clock.
static bool
s_expired (const audit_derive_t *self, const audit_derive_seen_t *seen)
{
    return s_seen_made (seen)
           < self->partitions [s_seen_partition (seen)].clock_ms - self->window_ms;
}

static audit_derive_seen_t *
s_seen_probe (const audit_derive_t *self, uint64_t fingerprint)
{
    size_t index = (size_t) fingerprint & (self->seen_capacity - 1);
    while (true) {
        audit_derive_seen_t *seen = &self->seen [index];
        if (!seen->fingerprint || seen->fingerprint == fingerprint)
            return seen;
        index = (index + 1) & (self->seen_capacity - 1);
    }
}

//  Drops the expired entries, and doubles the table when what is left still
//  fills more than half of it (else it is used again, cleared).
static void
s_seen_sweep (audit_derive_t *self)
{
    size_t live = 0;
    for (size_t i = 0; i < self->seen_capacity; i++)
        if (self->seen [i].fingerprint && !s_expired (self, &self->seen [i])) {
            if (live == self->live_capacity) {
                self->live_capacity = self->live_capacity ? 2 * self->live_capacity : 1024;
                self->live = realloc (self->live,
                                      self->live_capacity * sizeof (audit_derive_seen_t));
                assert (self->live);
            }
            self->live [live++] = self->seen [i];
        }
    size_t capacity = self->seen_capacity;
    while (live * 2 > capacity) {
        assert (capacity <= SIZE_MAX / 2 / sizeof (audit_derive_seen_t));
        capacity *= 2;
    }
    if (capacity == self->seen_capacity)
        memset (self->seen, 0, capacity * sizeof (audit_derive_seen_t));
    else {
        free (self->seen);
        self->seen = audit_derive_seen_new (capacity);
        self->seen_capacity = capacity;
    }
    for (size_t i = 0; i < live; i++)
        *s_seen_probe (self, self->live [i].fingerprint) = self->live [i];
    self->seen_count = live;
}

const audit_derive_seen_t *
audit_derive_seen_find (const audit_derive_t *self, uint64_t fingerprint)
{
    const audit_derive_seen_t *seen = s_seen_probe (self, fingerprint);
    return seen->fingerprint && !s_expired (self, seen) ? seen : NULL;
}

void
audit_derive_seen_add (audit_derive_t *self, uint64_t fingerprint, uint32_t partition,
                       int64_t made_ms, uint64_t digest)
{
    assert (fingerprint && partition < TLY_PARTITIONS_MAX);
    assert (made_ms >= 0 && made_ms <= TLY_MESSAGE_ID_TIME_MAX);
    if ((self->seen_count + 1) * 100 > self->seen_capacity * S_PERCENT)
        s_seen_sweep (self);
    audit_derive_seen_t *seen = s_seen_probe (self, fingerprint);
    if (!seen->fingerprint)
        self->seen_count++;
    *seen = (audit_derive_seen_t) { .fingerprint = fingerprint,
                                    .digest = digest,
                                    .partition_made = (uint64_t) partition << AUDIT_DERIVE_MADE_BITS
                                                      | (uint64_t) made_ms };
}

//  ---------------------------------------------------------------- references

uint64_t
audit_derive_reference_fingerprint (const audit_derive_t *self,
                                    const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    uint64_t fingerprint = s_hash64 (self->fingerprint_key, key, TLY_OBJECT_KEY_BYTES);
    return fingerprint ? fingerprint : 1;  //  0 marks an empty slot
}

uint64_t
audit_derive_adjustment_digest (const audit_derive_t *self, const Tally__AdjustmentRecord *record)
{
    uint8_t bytes [S_DIGEST_BYTES];
    uint8_t *at = bytes;
    s_put_adjustment (&at, record);
    assert ((size_t) (at - bytes) <= sizeof bytes);
    return s_hash64 (self->digest_key, bytes, (size_t) (at - bytes));
}

static audit_derive_reference_t *
s_reference_probe (audit_derive_reference_t *table, size_t capacity, uint64_t fingerprint)
{
    size_t index = (size_t) fingerprint & (capacity - 1);
    while (table [index].fingerprint && table [index].fingerprint != fingerprint)
        index = (index + 1) & (capacity - 1);
    return &table [index];
}

const audit_derive_reference_t *
audit_derive_reference_find (const audit_derive_t *self, uint64_t fingerprint)
{
    if (!self->references)
        return NULL;
    const audit_derive_reference_t *reference = s_reference_probe (
        self->references, self->references_capacity, fingerprint);
    return reference->fingerprint ? reference : NULL;
}

void
audit_derive_reference_add (audit_derive_t *self, uint64_t fingerprint, uint64_t digest)
{
    assert (fingerprint);
    if ((self->references_count + 1) * 100 > self->references_capacity * S_PERCENT) {
        size_t capacity = self->references_capacity ? 2 * self->references_capacity : 1024;
        assert (capacity <= SIZE_MAX / sizeof (audit_derive_reference_t));
        audit_derive_reference_t *table = calloc (capacity, sizeof *table);
        assert (table);
        for (size_t i = 0; i < self->references_capacity; i++)
            if (self->references [i].fingerprint)
                *s_reference_probe (table, capacity,
                                    self->references [i].fingerprint) = self->references [i];
        free (self->references);
        self->references = table;
        self->references_capacity = capacity;
    }
    audit_derive_reference_t *reference = s_reference_probe (
        self->references, self->references_capacity, fingerprint);
    if (reference->fingerprint)
        return;
    *reference = (audit_derive_reference_t) { .fingerprint = fingerprint, .digest = digest };
    self->references_count++;
}
