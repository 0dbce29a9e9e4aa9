//  audit_derive_private - what the parts of verify's derivation share:
//  audit_derive.c (the record, its messages in order, createAccount and
//  buy, resends, states loaded from snapshots), audit_derive_adjust.c
//  (credits and debits), audit_derive_refund.c (refunds, and the purchases
//  refunded), audit_derive_order.c (orders and holds),
//  audit_derive_config.c (the configuration: the version every record
//  names, the configuration messages, who is an admin) and
//  audit_derive_seen.c (the tables of message IDs and of references
//  decided). Not for users: include audit_derive.h instead.
#ifndef AUDIT_DERIVE_PRIVATE_H_INCLUDED
#define AUDIT_DERIVE_PRIVATE_H_INCLUDED

#include <sodium.h>
#include "audit_derive.h"
#include "audit_orders.h"
#include "audit_state.h"
#include "tly_config.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_rate.h"

//  Slots of the first table of message IDs (a power of two).
#define AUDIT_DERIVE_SEEN_FIRST (1u << 16)

typedef struct {
    bool known;              //  the state before the partition's next record is known
    bool not_derived;        //  a record of it was not derived
    uint64_t partition_seq;  //  the partition seq the known state stands at
    int64_t clock_ms;        //  its latest record time: the least its actor's dedupe clock is
    uint64_t accounts;       //  in the state
    uint64_t adjustments;    //  credits and debits in the state (references taken)
    uint64_t orders;         //  orders in the state, final ones included
    uint32_t processing;     //  of those, in processing (TLY_ORDER_QUEUE_MAX at most)
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
    audit_orders_t *orders;  //  every order, final ones included (audit_derive_order.c)
    audit_derive_partition_t *partitions;  //  [TLY_PARTITIONS_MAX]
    audit_derive_seen_t *seen;
    size_t seen_capacity;  //  a power of two
    size_t seen_count;
    audit_derive_seen_t *live;  //  the entries a sweep keeps, while it puts them back
    size_t live_capacity;
    //  References of credits, debits and refunds taken, and the purchases
    //  refunded (under their purchase keys: audit_derive_refund.c).
    audit_derive_reference_t *references;
    size_t references_capacity;  //  a power of two
    size_t references_count;
    //  Reads a refund's purchase's record (NULL: none is read).
    audit_derive_lookup_fn *lookup;
    void *lookup_arg;
    uint8_t fingerprint_key [crypto_shorthash_KEYBYTES];
    uint8_t digest_key [crypto_shorthash_KEYBYTES];
    //  The configuration in force (audit_derive_config.c): its version, and
    //  its contents once known (from version 0, empty, or from the first
    //  record that carries one); a record's working copy, which its
    //  configuration messages change in order; a record's own, as read.
    bool version_known;  //  else the first record walked names it
    uint64_t version;
    bool config_known;
    tly_config_t *config;
    tly_config_t *working;
    tly_config_t *said;
    //  Partition 0's state snapshot's, before the first record walked
    //  names the version it must be.
    bool snapshot_pending;
    tly_config_t *snapshot_config;
    audit_derive_stats_t stats;
};

//  ---------------------------------------------------------------- one record

#define AUDIT_DERIVE_SHOWN 32  //  bytes of an item ID or a reference a reason shows

//  One record while it is checked.
typedef struct {
    audit_derive_t *self;
    const Tally__RecordDraft *draft;
    const Tally__Envelope *envelope;
    const uint8_t *user;  //  the sender's key
    char user_id [TLY_ID_MAX];
    const uint8_t *worker;  //  the worker's key: told, or the envelope's inbox
    uint32_t partition;
    //  The configuration the record's messages are decided under: the one
    //  in force, or from a configuration message on, the working copy
    //  (NULL: not known, so prices and admins are not checked).
    const tly_config_t *config;
    int64_t now_ms;                      //  the record's time: the actor decided at it
    int64_t clock_ms;                    //  the least the actor's dedupe clock was
    size_t index;                        //  the message being checked
    size_t next_event;                   //  the record's first event not yet matched to a message
    const Tally__InboxMessage *message;  //  the message being checked (NULL: none)
    char *reason;
    size_t reason_size;
} audit_derive_record_t;

//  What the rules give for one new message.
typedef struct {
    Tally__ErrorCode error;  //  OK, or the refusal they give
    //  Refusals the record may give instead, which verify cannot rule out
    //  (audit_derive_code of each; 0: none): a configured limit's,
    //  BAD_REQUEST for a credit or debit of a user verify knows no account
    //  of (another partition's), and where the configuration is not known,
    //  a price's refusals and PERMISSION_DENIED for a sender who may be an
    //  admin. Such a refusal changes nothing.
    uint64_t instead;
    //  A buy: what it is charged (the catalog's price, or the amount it
    //  names); where the configuration is not known and the buy names no
    //  amount, what the record says it was charged.
    int64_t charge;
    //  A configuration message decided under a configuration not known:
    //  its result is taken as the record says.
    bool unknown_config;
    bool event;            //  the message changes the state (with OK)
    int64_t balance;       //  the balance answered (createAccount) or left (buy)
    int64_t last_updated;  //  the balance's time, answered by createAccount
    int64_t held;          //  the held amount, answered by createAccount
    bool takes;            //  a buy that takes a rate limit token: the bucket after
    tly_rate_bucket_t bucket;
    int64_t retry_ms;  //  RATE_LIMITED: the wait it answers
    //  A credit or debit: its user's account, its key (tly_adjustment_key),
    //  the signed amount, and the first adjustment of its reference, if any.
    audit_account_t *target;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    int64_t amount;
    const audit_derive_reference_t *taken;
} audit_derive_expected_t;

//  code as a bit of audit_derive_expected_t.instead (none for a code out of
//  range: what a record says is not trusted to be a known code).
static inline uint64_t
audit_derive_code (Tally__ErrorCode code)
{
    return (unsigned) code < 64 ? (uint64_t) 1 << (unsigned) code : 0;
}

//  Fails the record with one line: its partition and user, the message
//  being checked, then what differs (format). Returns -1.
int audit_derive_fail (audit_derive_record_t *record, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  A result's outcome as a reason names it ("a purchase", "NO_ACCOUNT").
const char *audit_derive_outcome (const Tally__MessageResult *result);
//  An item ID or a reference as a reason shows it: its first bytes, those
//  that would not read on one line as '?'.
void audit_derive_shown (const char *text, char shown [AUDIT_DERIVE_SHOWN + 4]);
bool audit_derive_same_text (const char *text, const char *expected);
bool audit_derive_same_key (const ProtobufCBinaryData *key, const uint8_t expected [TLY_KEY_BYTES]);
//  The record's next event not matched to a message yet, if it is of kind.
const Tally__Event *audit_derive_next_event (const audit_derive_record_t *record,
                                             Tally__Event__KindCase kind);

//  Compares one value of what the record says with what follows.
#define AUDIT_DERIVE_SAME(record, what, said, given)                                              \
    do {                                                                                          \
        if ((said) != (given))                                                                    \
            return audit_derive_fail (record,                                                     \
                                      "%s %" PRId64 "; the envelope and the state give %" PRId64, \
                                      what, (int64_t) (said), (int64_t) (given));                 \
    } while (0)

#define AUDIT_DERIVE_SAME_TEXT(record, what, said, given)                                          \
    do {                                                                                           \
        if (!audit_derive_same_text (said, given))                                                 \
            return audit_derive_fail (record, "%s is not the one that follows (%s)", what, given); \
    } while (0)

//  ---------------------------------------------------------------- credits and debits

//  The credit or debit a message carries (NULL: none), and which.
const Tally__Adjustment *audit_derive_adjustment (const Tally__InboxMessage *message, bool *credit);
//  What the rules give for a new credit or debit (audit_derive_adjust.c).
void audit_derive_expect_adjustment (const audit_derive_record_t *record,
                                     const Tally__InboxMessage *message,
                                     audit_derive_expected_t *expected);
//  A credit or debit the rules allow: its repeat answered with the first
//  adjustment, or its event and result, and the state after it.
int audit_derive_check_adjusted (audit_derive_record_t *record, const Tally__InboxMessage *message,
                                 const Tally__MessageResult *result,
                                 const audit_derive_expected_t *expected);
//  Whether the record's next event applies a resent credit or debit again.
bool audit_derive_adjusts_again (const audit_derive_record_t *record,
                                 const Tally__InboxMessage *message);

//  ---------------------------------------------------------------- refunds

//  A new refund (audit_derive_refund.c): what the rules give, in their
//  order, and its event and result (the purchase read through the lookup),
//  and the state after it. Returns 0, or -1 (reason set).
int audit_derive_check_refund (audit_derive_record_t *record, const Tally__InboxMessage *message,
                               const Tally__MessageResult *result);
//  Whether the record's next event applies a resent refund again.
bool audit_derive_refunds_again (const audit_derive_record_t *record,
                                 const Tally__InboxMessage *message);
//  A refund as a reason names it ("refund of purchase co_z... reason \"...\"").
void audit_derive_describe_refund (const Tally__InboxMessage *message, char *described,
                                   size_t size);
//  Whether the purchase with raw object key key was refunded.
bool audit_derive_refunded (const audit_derive_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES]);
//  A state snapshot's adjustment of partition: a refund's (its reference
//  "refund:" + a purchase ID) marks the purchase refunded. Returns 0, or -1
//  for such a reference that names no purchase of partition.
int audit_derive_load_refund (audit_derive_t *self, uint32_t partition,
                              const Tally__AdjustmentRecord *record);

//  ---------------------------------------------------------------- orders

//  A new order message (audit_derive_order.c): what the rules give, its
//  OrderChanged and its result, and the state after it. Returns 0, or -1
//  (reason set).
int audit_derive_check_order (audit_derive_record_t *record, const Tally__InboxMessage *message,
                              const Tally__MessageResult *result);
//  Whether the record's next event applies a resent order message again.
bool audit_derive_orders_again (const audit_derive_record_t *record,
                                const Tally__InboxMessage *message);
//  An order message as a reason names it ("submitOrder co_z...").
void audit_derive_describe_order (const Tally__InboxMessage *message, char *described, size_t size);

//  ---------------------------------------------------------------- the configuration

//  At every record, before anything else (audit_derive_config.c): it must
//  name the version in force (the first record walked sets it when the walk
//  starts after the journal's first), and carry a configuration only in
//  partition 0. Sets record->config. Returns 0, or -1 (reason set).
int audit_derive_config_begin (audit_derive_record_t *record);
//  A record whose partition's state is not known: the configuration it
//  carries, if any, is taken as it says (a Config by the rules, the version
//  after the one in force). Returns 0, or -1 (reason set).
int audit_derive_config_take (audit_derive_record_t *record);
//  After the record's messages: the configuration it carries must be the
//  working copy its configuration messages left (none when they changed
//  nothing), which is in force from then on. Returns 0, or -1.
int audit_derive_config_end (audit_derive_record_t *record);
//  What the rules give for a new configuration message: BAD_REQUEST out of
//  partition 0, else what tly_config_decide gives on the working copy.
void audit_derive_expect_config (audit_derive_record_t *record, const Tally__InboxMessage *message,
                                 audit_derive_expected_t *expected);
//  A configuration message the rules allow: its ConfigChange (the version
//  it left, the admin or the item as it now is).
int audit_derive_check_configured (audit_derive_record_t *record,
                                   const Tally__InboxMessage *message,
                                   const Tally__MessageResult *result);
//  Whether the sender may credit and debit: 1 (the worker, or an admin of
//  the configuration in force), 0, or -1 when that is not known (an
//  admin's, or not).
int audit_derive_admin (const audit_derive_record_t *record);
//  A configuration message as a reason names it ("setPrice \"sword\" price
//  25 on sale").
void audit_derive_describe_config (const Tally__InboxMessage *message, char *described,
                                   size_t size);

//  ---------------------------------------------------------------- tables

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
