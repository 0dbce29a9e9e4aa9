//  audit_derive_private - what audit_derive.c and audit_derive_seen.c (the
//  tables of message IDs and of references decided) share. Not for users:
//  include audit_derive.h instead.
#ifndef AUDIT_DERIVE_PRIVATE_H_INCLUDED
#define AUDIT_DERIVE_PRIVATE_H_INCLUDED

#include <sodium.h>
#include "audit_derive.h"
#include "audit_state.h"
#include "tly_message_id.h"
#include "tly_object_id.h"

//  Slots of the first table of message IDs (a power of two).
#define AUDIT_DERIVE_SEEN_FIRST (1u << 16)

typedef struct {
    bool known;              //  the state before the partition's next record is known
    bool not_derived;        //  a record of it was not derived
    uint64_t partition_seq;  //  the partition seq the known state stands at
    int64_t clock_ms;        //  its latest record time: the least its actor's dedupe clock is
    uint64_t accounts;       //  in the state
    uint64_t adjustments;    //  credits and debits in the state (references taken)
} audit_derive_partition_t;

//  A message ID decided: its fingerprint (0: an empty slot), the digest of
//  its first result, and its partition and time (what expiry needs) in one
//  word, so that a million IDs take 24 MB.
typedef struct {
    uint64_t fingerprint;
    uint64_t digest;
    uint64_t partition_made;  //  partition << 48 | the ID's time (TLY_MESSAGE_ID_TIME_MAX bits)
} audit_derive_seen_t;

#define AUDIT_DERIVE_MADE_BITS (8 * TLY_MESSAGE_ID_TIME_BYTES)
_Static_assert(TLY_PARTITIONS_MAX <= 1 << (64 - AUDIT_DERIVE_MADE_BITS),
               "a partition fits above the time");

//  A credit's or debit's reference taken: a fingerprint of its adjustment
//  key (tly_adjustment_key: partition, user, reference; 0: an empty slot)
//  and the digest of its AdjustmentRecord, which a repeat of the reference
//  is answered with. References are kept forever, as the actors keep them:
//  16 bytes each.
typedef struct {
    uint64_t fingerprint;
    uint64_t digest;
} audit_derive_reference_t;

struct _audit_derive_t {
    int64_t window_ms;
    bool has_worker;  //  else the worker is each envelope's inbox
    uint8_t worker [TLY_KEY_BYTES];
    audit_state_t *accounts;
    audit_derive_partition_t *partitions;  //  [TLY_PARTITIONS_MAX]
    audit_derive_seen_t *seen;
    size_t seen_capacity;  //  a power of two
    size_t seen_count;
    audit_derive_seen_t *live;  //  the entries a sweep keeps, while it puts them back
    size_t live_capacity;
    audit_derive_reference_t *references;
    size_t references_capacity;  //  a power of two
    size_t references_count;
    uint8_t fingerprint_key [crypto_shorthash_KEYBYTES];
    uint8_t digest_key [crypto_shorthash_KEYBYTES];
    audit_derive_stats_t stats;
};

//  The table of message IDs decided (audit_derive_seen.c): a fingerprint of
//  the actor's dedupe key (partition | message ID | user) under a random
//  key, and a digest of the first result, each a SipHash.
audit_derive_seen_t *audit_derive_seen_new (size_t capacity);
uint64_t audit_derive_fingerprint (const audit_derive_t *self, uint32_t partition,
                                   const uint8_t *user, const uint8_t *message_id);
//  What a resend must be answered with again: the outcome and every value in
//  it. The IDs in it follow from the user and the message ID, checked where
//  the result was first decided; an error's text is not compared.
uint64_t audit_derive_digest (const audit_derive_t *self, const Tally__MessageResult *result);
//  The entry of a message ID an actor may still answer from, or NULL.
const audit_derive_seen_t *audit_derive_seen_find (const audit_derive_t *self,
                                                   uint64_t fingerprint);
//  Remembers a message ID decided (sweeping out expired entries, growing
//  the table if need be).
void audit_derive_seen_add (audit_derive_t *self, uint64_t fingerprint, uint32_t partition,
                            int64_t made_ms, uint64_t digest);

//  The table of references taken (audit_derive_seen.c), keyed by the
//  adjustment's raw object key.
uint64_t audit_derive_reference_fingerprint (const audit_derive_t *self,
                                             const uint8_t key [TLY_OBJECT_KEY_BYTES]);
//  What a repeat of the reference is answered with: every field of the
//  first AdjustmentRecord.
uint64_t audit_derive_adjustment_digest (const audit_derive_t *self,
                                         const Tally__AdjustmentRecord *record);
//  The entry of a reference taken, or NULL.
const audit_derive_reference_t *audit_derive_reference_find (const audit_derive_t *self,
                                                             uint64_t fingerprint);
//  Remembers a reference taken (growing the table if need be); one already
//  there is left as it is.
void audit_derive_reference_add (audit_derive_t *self, uint64_t fingerprint, uint64_t digest);

#endif
