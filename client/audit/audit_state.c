//  audit_state - balances rebuilt from nothing by replaying the journal.
//
//  Replay is the hot loop of `tally audit replay`, so it reads only what it
//  needs: the outer layers of each record (StoredRecord, RecordBody,
//  RecordDraft) are scanned on the wire, skipping the signed request and the
//  results, and only the events are decoded by protobuf-c, into an arena
//  reset per record. The scanner finds its fields by the numbers the
//  generated descriptors give them, looked up once by name, so that a change
//  to proto/tally.proto cannot leave it reading the wrong field. Accounts live in an open-addressing table keyed by the
//  user's 32-byte key, hashed with a random SipHash key so that chosen keys
//  cannot pile up in one place.
#include "audit_state.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "audit_journal.h"
#include "audit_orders.h"
#include "audit_wire.h"
#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_validate.h"

#define S_CAPACITY_FIRST (1u << 16)  //  slots of a new table (a power of two)
#define S_LOAD_PERCENT   70          //  grow past this fill

//  The fields replay picks out of a record, as the generated descriptors
//  number them.
typedef struct {
    audit_wire_field_t stored_body;      //  StoredRecord.body
    audit_wire_field_t body_draft;       //  RecordBody.draft
    audit_wire_field_t draft_partition;  //  RecordDraft.partition
    audit_wire_field_t draft_partition_seq;
    audit_wire_field_t draft_events;
    audit_wire_field_t draft_config_version;
    audit_wire_field_t draft_config;
} s_fields_t;

struct _audit_state_t {
    s_fields_t fields;
    audit_account_t *slots;
    size_t capacity;  //  a power of two
    size_t count;
    uint8_t hash_key [crypto_shorthash_KEYBYTES];
    uint64_t *partition_seqs;  //  [TLY_PARTITIONS_MAX]
    tly_arena_t *arena;
    uint64_t records;
    uint64_t events;
    uint64_t purchases;
    uint64_t adjustments;
    uint64_t refunds;
    audit_orders_t *orders;  //  every order the events give (audit_state_order.c)
    uint64_t order_changes;
    //  The purchases refunded (fingerprints of their object keys, 0 an
    //  empty slot): each is refunded once. As many as the refunds.
    uint64_t *refunded;
    size_t refunded_capacity;  //  a power of two
    uint64_t last_seq;
    uint64_t problems;
    tly_config_t *config;  //  the one in force
    uint64_t config_changes;
    char (*problem_text) [AUDIT_PROBLEM_MAX];  //  [AUDIT_PROBLEMS_KEPT]
    audit_progress_t *progress;                //  during a replay
};

audit_state_t *
audit_state_new (void)
{
    if (sodium_init () < 0)
        return NULL;
    audit_state_t *self = calloc (1, sizeof *self);
    assert (self);
    self->fields = (s_fields_t) {
        .stored_body = audit_wire_field (&tally__stored_record__descriptor, "body",
                                         PROTOBUF_C_TYPE_BYTES),
        .body_draft = audit_wire_field (&tally__record_body__descriptor, "draft",
                                        PROTOBUF_C_TYPE_MESSAGE),
        .draft_partition = audit_wire_field (&tally__record_draft__descriptor, "partition",
                                             PROTOBUF_C_TYPE_UINT32),
        .draft_partition_seq = audit_wire_field (&tally__record_draft__descriptor, "partition_seq",
                                                 PROTOBUF_C_TYPE_UINT64),
        .draft_events = audit_wire_field (&tally__record_draft__descriptor, "events",
                                          PROTOBUF_C_TYPE_MESSAGE),
        .draft_config_version = audit_wire_field (&tally__record_draft__descriptor,
                                                  "config_version", PROTOBUF_C_TYPE_UINT64),
        .draft_config = audit_wire_field (&tally__record_draft__descriptor, "config",
                                          PROTOBUF_C_TYPE_MESSAGE)
    };
    self->capacity = S_CAPACITY_FIRST;
    self->slots = calloc (self->capacity, sizeof (audit_account_t));
    self->partition_seqs = calloc (TLY_PARTITIONS_MAX, sizeof (uint64_t));
    self->problem_text = calloc (AUDIT_PROBLEMS_KEPT, AUDIT_PROBLEM_MAX);
    self->arena = tly_arena_new (AUDIT_ARENA_BLOCK);
    self->config = tly_config_new ();
    self->orders = audit_orders_new ();
    assert (self->slots && self->partition_seqs && self->problem_text);
    randombytes_buf (self->hash_key, sizeof self->hash_key);
    return self;
}

void
audit_state_destroy (audit_state_t **self_p)
{
    assert (self_p);
    audit_state_t *self = *self_p;
    if (!self)
        return;
    free (self->slots);
    free (self->refunded);
    free (self->partition_seqs);
    free (self->problem_text);
    tly_arena_destroy (&self->arena);
    tly_config_destroy (&self->config);
    audit_orders_destroy (&self->orders);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------- the table

static size_t
s_home (const audit_state_t *self, const uint8_t user [TLY_KEY_BYTES])
{
    uint8_t hash [crypto_shorthash_BYTES];
    crypto_shorthash (hash, user, TLY_KEY_BYTES, self->hash_key);
    uint64_t value;
    memcpy (&value, hash, sizeof value);
    return (size_t) value & (self->capacity - 1);
}

//  The slot holding user, or the empty slot where it would go.
static audit_account_t *
s_probe (const audit_state_t *self, const uint8_t user [TLY_KEY_BYTES])
{
    size_t index = s_home (self, user);
    while (true) {
        audit_account_t *slot = &self->slots [index];
        if (!slot->used || memcmp (slot->user, user, TLY_KEY_BYTES) == 0)
            return slot;
        index = (index + 1) & (self->capacity - 1);
    }
}

static void
s_grow (audit_state_t *self)
{
    audit_account_t *old = self->slots;
    size_t old_capacity = self->capacity;
    assert (old_capacity <= SIZE_MAX / 2 / sizeof (audit_account_t));
    self->capacity = old_capacity * 2;
    self->slots = calloc (self->capacity, sizeof (audit_account_t));
    assert (self->slots);
    for (size_t i = 0; i < old_capacity; i++)
        if (old [i].used)
            *s_probe (self, old [i].user) = old [i];
    free (old);
}

audit_account_t *
audit_state_find (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES])
{
    assert (self && user);
    audit_account_t *slot = s_probe (self, user);
    return slot->used ? slot : NULL;
}

static audit_account_t *
s_insert (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES])
{
    if ((self->count + 1) * 100 > self->capacity * S_LOAD_PERCENT)
        s_grow (self);
    audit_account_t *slot = s_probe (self, user);
    assert (!slot->used);
    memcpy (slot->user, user, TLY_KEY_BYTES);
    slot->used = true;
    self->count++;
    return slot;
}

audit_account_t *
audit_state_add (audit_state_t *self, const uint8_t user [TLY_KEY_BYTES], uint32_t partition)
{
    assert (self && user && partition < TLY_PARTITIONS_MAX);
    audit_account_t *account = s_insert (self, user);
    account->partition = partition;
    return account;
}

size_t
audit_state_capacity (audit_state_t *self)
{
    assert (self);
    return self->capacity;
}

audit_account_t *
audit_state_slot (audit_state_t *self, size_t index)
{
    assert (self && index < self->capacity);
    return &self->slots [index];
}

const tly_config_t *
audit_state_config (audit_state_t *self)
{
    assert (self);
    return self->config;
}

uint64_t
audit_state_partition_seq (audit_state_t *self, uint32_t partition)
{
    assert (self && partition < TLY_PARTITIONS_MAX);
    return self->partition_seqs [partition];
}

//  ---------------------------------------------------------------- problems

static void s_problem (audit_state_t *self, uint64_t seq, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_problem (audit_state_t *self, uint64_t seq, const char *format, ...)
{
    if (self->problems < AUDIT_PROBLEMS_KEPT) {
        char *text = self->problem_text [self->problems];
        int prefix = snprintf (text, AUDIT_PROBLEM_MAX, "seq %" PRIu64 ": ", seq);
        va_list args;
        va_start (args, format);
        vsnprintf (text + prefix, AUDIT_PROBLEM_MAX - (size_t) prefix, format, args);
        va_end (args);
    }
    self->problems++;
}

const char *
audit_state_problem (audit_state_t *self, size_t index)
{
    assert (self);
    assert (index < self->problems && index < AUDIT_PROBLEMS_KEPT);
    return self->problem_text [index];
}

//  ---------------------------------------------------------------- events

static void
s_account_created (audit_state_t *self, uint64_t seq, uint32_t partition,
                   const Tally__AccountCreated *created)
{
    char id [TLY_ID_MAX];
    if (created->user.len != TLY_KEY_BYTES) {
        s_problem (self, seq, "AccountCreated: user is not a 32-byte key");
        return;
    }
    if (created->initial_balance < 0) {
        tly_account_id (created->user.data, id);
        s_problem (self, seq, "AccountCreated for %s: negative initial balance %" PRId64, id,
                   created->initial_balance);
        return;
    }
    if (audit_state_find (self, created->user.data)) {
        tly_account_id (created->user.data, id);
        s_problem (self, seq, "AccountCreated for %s, which already has an account", id);
        return;
    }
    audit_account_t *account = s_insert (self, created->user.data);
    account->balance = created->initial_balance;
    account->partition = partition;
}

static void
s_purchase_recorded (audit_state_t *self, uint64_t seq, const Tally__PurchaseRecorded *recorded)
{
    char id [TLY_ID_MAX];
    if (recorded->user.len != TLY_KEY_BYTES) {
        s_problem (self, seq, "PurchaseRecorded: user is not a 32-byte key");
        return;
    }
    audit_account_t *account = audit_state_find (self, recorded->user.data);
    if (!account) {
        tly_account_id (recorded->user.data, id);
        s_problem (self, seq, "PurchaseRecorded for %s, which has no account", id);
        return;
    }
    int64_t expected;
    if (recorded->amount <= 0
        || __builtin_sub_overflow (account->balance, recorded->amount, &expected)
        || expected != recorded->balance_after || recorded->balance_after < account->held) {
        tly_account_id (recorded->user.data, id);
        s_problem (self, seq,
                   "PurchaseRecorded for %s does not follow the balance: %" PRId64 " - %" PRId64
                   " is not %" PRId64 ", or spends what orders hold (%" PRId64 ")",
                   id, account->balance, recorded->amount, recorded->balance_after, account->held);
        //  Follow the record, so one bad record is reported once, not at every later one.
        if (recorded->balance_after >= 0)
            account->balance = recorded->balance_after;
        return;
    }
    account->balance = recorded->balance_after;
    self->purchases++;
}

//  Marks the purchase with object key key refunded; false when it was.
static bool
s_mark_refunded (audit_state_t *self, const uint8_t key [TLY_OBJECT_KEY_BYTES])
{
    if (self->refunds * 100 >= self->refunded_capacity * S_LOAD_PERCENT) {
        size_t capacity = self->refunded_capacity ? 2 * self->refunded_capacity : 1024;
        uint64_t *table = calloc (capacity, sizeof *table);
        assert (table);
        for (size_t i = 0; i < self->refunded_capacity; i++) {
            uint64_t fingerprint = self->refunded [i];
            size_t index = fingerprint & (capacity - 1);
            while (fingerprint && table [index])
                index = (index + 1) & (capacity - 1);
            table [index] = fingerprint;
        }
        free (self->refunded);
        self->refunded = table;
        self->refunded_capacity = capacity;
    }
    uint8_t hash [crypto_shorthash_BYTES];
    crypto_shorthash (hash, key, TLY_OBJECT_KEY_BYTES, self->hash_key);
    uint64_t fingerprint;
    memcpy (&fingerprint, hash, sizeof fingerprint);
    fingerprint = fingerprint ? fingerprint : 1;  //  0 marks an empty slot
    size_t index = fingerprint & (self->refunded_capacity - 1);
    while (self->refunded [index] && self->refunded [index] != fingerprint)
        index = (index + 1) & (self->refunded_capacity - 1);
    if (self->refunded [index])
        return false;
    self->refunded [index] = fingerprint;
    return true;
}

//  A refund's form, as the events alone tell it (docs/protocol.md
//  "Refunds"): a credit whose reference is "refund:" + the ID of a purchase
//  of the record's partition, made at or before the record, and refunded
//  once; no other credit or debit takes such a reference. Returns false
//  with the problem counted.
static bool
s_refund_form (audit_state_t *self, uint64_t seq, uint32_t partition, uint64_t partition_seq,
               const Tally__BalanceAdjusted *adjusted)
{
    const char *reference = adjusted->reference ? adjusted->reference : "";
    bool named = strncmp (reference, TLY_REFUND_PREFIX, sizeof TLY_REFUND_PREFIX - 1) == 0;
    const char *purchase_id = adjusted->refund_of;
    if (!purchase_id || !*purchase_id) {
        if (named || adjusted->purchase_partition_seq)
            s_problem (self, seq,
                       "BalanceAdjusted names a refund's reference or record, and no"
                       " purchase refunded");
        return !named && !adjusted->purchase_partition_seq;
    }
    char expected [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (purchase_id, expected);
    tly_object_kind_t kind;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (strcmp (reference, expected) != 0 || adjusted->amount <= 0
        || tly_object_id_parse (purchase_id, &kind, NULL, NULL) == -1 || kind != TLY_OBJ_PURCHASE
        || tly_object_key_parse (purchase_id, key) == -1
        || tly_object_key_partition (key) != partition || adjusted->purchase_partition_seq == 0
        || adjusted->purchase_partition_seq > partition_seq) {
        s_problem (self, seq,
                   "BalanceAdjusted is no refund of a purchase of partition %" PRIu32
                   " made at or before it (a credit whose reference is \"refund:\" and the"
                   " purchase ID)",
                   partition);
        return false;
    }
    if (!s_mark_refunded (self, key)) {
        s_problem (self, seq, "BalanceAdjusted refunds purchase %.64s, refunded before",
                   purchase_id);
        return false;
    }
    self->refunds++;
    return true;
}

//  A credit (amount > 0) or debit (< 0) of an account of the record's
//  partition: the balance after must follow, within 0 .. TLY_BALANCE_MAX;
//  a refund's as a refund's form is.
static void
s_balance_adjusted (audit_state_t *self, uint64_t seq, uint32_t partition, uint64_t partition_seq,
                    const Tally__BalanceAdjusted *adjusted)
{
    char id [TLY_ID_MAX];
    if (adjusted->user.len != TLY_KEY_BYTES) {
        s_problem (self, seq, "BalanceAdjusted: user is not a 32-byte key");
        return;
    }
    //  Reported, and the balance followed as below.
    s_refund_form (self, seq, partition, partition_seq, adjusted);
    audit_account_t *account = audit_state_find (self, adjusted->user.data);
    if (!account || account->partition != partition) {
        tly_account_id (adjusted->user.data, id);
        s_problem (self, seq, "BalanceAdjusted for %s, which has no account in partition %" PRIu32,
                   id, partition);
        return;
    }
    int64_t expected;
    if (adjusted->amount == 0 || adjusted->amount < -TLY_BALANCE_MAX
        || adjusted->amount > TLY_BALANCE_MAX
        || __builtin_add_overflow (account->balance, adjusted->amount, &expected)
        || expected != adjusted->balance_after || adjusted->balance_after < 0
        || (adjusted->amount < 0 && adjusted->balance_after < account->held)
        || (adjusted->amount > 0 && adjusted->balance_after > TLY_BALANCE_MAX)) {
        tly_account_id (adjusted->user.data, id);
        s_problem (self, seq,
                   "BalanceAdjusted for %s does not follow the balance: %" PRId64 " %+" PRId64
                   " is not %" PRId64 ", or debits what orders hold (%" PRId64 ")",
                   id, account->balance, adjusted->amount, adjusted->balance_after, account->held);
        //  Follow the record, so one bad record is reported once, not at every later one.
        if (adjusted->balance_after >= 0)
            account->balance = adjusted->balance_after;
        return;
    }
    account->balance = adjusted->balance_after;
    self->adjustments++;
}

//  The order's status may go from was to to: created a draft, a draft
//  edited or submitted, a processing one completed or failed.
static bool
s_transition (Tally__OrderStatus was, Tally__OrderStatus to)
{
    switch (was) {
        case TALLY__ORDER_STATUS__ORDER_STATUS_NONE: return to == TALLY__ORDER_STATUS__ORDER_DRAFT;
        case TALLY__ORDER_STATUS__ORDER_DRAFT:
            return to == TALLY__ORDER_STATUS__ORDER_DRAFT
                   || to == TALLY__ORDER_STATUS__ORDER_PROCESSING;
        case TALLY__ORDER_STATUS__ORDER_PROCESSING:
            return to == TALLY__ORDER_STATUS__ORDER_COMPLETED
                   || to == TALLY__ORDER_STATUS__ORDER_FAILED;
        default: return false;
    }
}

//  A completion's purchases: one per line, in order, each the line's item
//  and amount with the running balance after; together the order's total.
static bool
s_order_purchases (audit_state_t *self, uint64_t seq, const Tally__OrderChanged *changed,
                   int64_t balance)
{
    const Tally__Order *order = changed->order;
    bool completed = order->status == TALLY__ORDER_STATUS__ORDER_COMPLETED;
    if (changed->n_purchases != (completed ? order->n_items : 0)) {
        s_problem (self, seq, "OrderChanged for order %.64s has %zu purchases for %zu lines (%s)",
                   order->id, changed->n_purchases, order->n_items,
                   tly_order_status_name (order->status));
        return false;
    }
    for (size_t i = 0; i < changed->n_purchases; i++) {
        const Tally__PurchaseRecorded *purchase = changed->purchases [i];
        const Tally__OrderItem *item = order->items [i];
        if (!purchase || !item || purchase->amount != item->amount
            || strcmp (purchase->item_id ? purchase->item_id : "",
                       item->item_id ? item->item_id : "")
            || purchase->user.len != changed->user.len
            || memcmp (purchase->user.data, changed->user.data, changed->user.len) != 0
            || __builtin_sub_overflow (balance, purchase->amount, &balance)
            || purchase->balance_after != balance) {
            s_problem (self, seq,
                       "OrderChanged completes order %.64s, and its purchase %zu is not its line"
                       " (item, amount, user) with the balance after",
                       order->id, i + 1);
            return false;
        }
    }
    self->purchases += changed->n_purchases;
    return true;
}

//  An order created, edited, submitted, completed or failed: its move must
//  be legal (a version more, the lines' sum its total), and the user's
//  balance and held amount follow (a submit holds the total, a completion
//  takes it from both, a failure releases it), 0 <= held <= balance.
static void
s_order_changed (audit_state_t *self, uint64_t seq, uint32_t partition,
                 const Tally__OrderChanged *changed)
{
    char id [TLY_ID_MAX];
    const Tally__Order *said = changed->order;
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    tly_object_kind_t kind;
    if (changed->user.len != TLY_KEY_BYTES || !said || !said->id
        || tly_object_id_parse (said->id, &kind, NULL, NULL) == -1 || kind != TLY_OBJ_ORDER
        || tly_object_key_parse (said->id, key) == -1) {
        s_problem (self, seq, "OrderChanged: no user key, or no order's ID");
        return;
    }
    tly_account_id (changed->user.data, id);
    audit_account_t *account = audit_state_find (self, changed->user.data);
    if (!account || account->partition != partition || tly_object_key_partition (key) != partition
        || !said->user_id || strcmp (said->user_id, id) != 0) {
        s_problem (self, seq,
                   "OrderChanged for %s: no account in partition %" PRIu32
                   ", or an order of another partition or user",
                   id, partition);
        return;
    }
    int64_t total = 0;
    bool summed = said->n_items >= 1 && said->n_items <= TLY_ORDER_ITEMS_MAX;
    for (size_t i = 0; summed && i < said->n_items; i++)
        summed = said->items [i] && said->items [i]->amount >= 0
                 && !__builtin_add_overflow (total, said->items [i]->amount, &total);
    if (!summed || total != said->total || total > TLY_BALANCE_MAX)
        s_problem (self, seq, "OrderChanged: order %.64s's lines do not sum to its total %" PRId64,
                   said->id, said->total);
    audit_order_t *order = audit_orders_find (self->orders, key);
    Tally__OrderStatus was = order ? order->status : TALLY__ORDER_STATUS__ORDER_STATUS_NONE;
    uint64_t version = order ? order->version : 0;
    if (!s_transition (was, said->status) || said->version != version + 1
        || (order && memcmp (order->user, changed->user.data, TLY_KEY_BYTES) != 0))
        s_problem (self, seq,
                   "OrderChanged: order %.64s goes from %s (version %" PRIu64 ") to %s (version"
                   " %" PRIu64 "): no order message does that",
                   said->id, order ? tly_order_status_name (was) : "nothing", version,
                   tly_order_status_name (said->status), said->version);
    int64_t balance = account->balance, held = account->held;
    if (was != said->status && said->status == TALLY__ORDER_STATUS__ORDER_PROCESSING)
        held += said->total;
    else if (was == TALLY__ORDER_STATUS__ORDER_PROCESSING) {
        //  What was held: the order's total as submitted.
        int64_t taken = order->total;
        held -= taken;
        if (said->status == TALLY__ORDER_STATUS__ORDER_COMPLETED)
            balance -= taken;
    }
    s_order_purchases (self, seq, changed, account->balance);
    if (changed->balance_after != balance || changed->held_after != held || changed->held_after < 0
        || changed->held_after > changed->balance_after)
        s_problem (self, seq,
                   "OrderChanged for %s (order %.64s, %s) does not follow the balance and the"
                   " held amount: balance %" PRId64 " held %" PRId64 " give %" PRId64
                   " and %" PRId64 ", it says %" PRId64 " and %" PRId64 " (0 <= held <= balance)",
                   id, said->id, tly_order_status_name (said->status), account->balance,
                   account->held, balance, held, changed->balance_after, changed->held_after);
    //  Follow the record, so one bad record is reported once.
    if (!order)
        order = audit_orders_add (self->orders, key, changed->user.data);
    order->status = said->status;
    order->version = said->version;
    order->total = said->total;
    account->balance = changed->balance_after;
    account->held = changed->held_after;
    self->order_changes++;
}

static void
s_apply_event (audit_state_t *self, uint64_t seq, uint32_t partition, uint64_t partition_seq,
               const uint8_t *bytes, size_t size)
{
    Tally__Event *event = tally__event__unpack (tly_arena_allocator (self->arena), size, bytes);
    self->events++;
    if (!event)
        s_problem (self, seq, "an event does not decode");
    else if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED)
        s_account_created (self, seq, partition, event->account_created);
    else if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED)
        s_purchase_recorded (self, seq, event->purchase_recorded);
    else if (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED)
        s_balance_adjusted (self, seq, partition, partition_seq, event->balance_adjusted);
    else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
        s_order_changed (self, seq, partition, event->order_changed);
    else
        s_problem (self, seq, "an event of no known kind");
}

//  ---------------------------------------------------------------- the configuration

//  Every record names the configuration in force; one of partition 0 may
//  carry a new one (config: NULL when it carries none), of the next
//  version, in force from then on.
static void
s_apply_config (audit_state_t *self, uint64_t seq, uint64_t partition, uint64_t config_version,
                const audit_field_t *config)
{
    uint64_t version = tly_config_version (self->config);
    if (config_version != version)
        s_problem (self, seq,
                   "the record was decided under config version %" PRIu64 ", current %" PRIu64,
                   config_version, version);
    if (!config)
        return;
    if (partition != 0) {
        s_problem (self, seq,
                   "a record of partition %" PRIu64 " carries a configuration: only partition 0's"
                   " records change it",
                   partition);
        return;
    }
    Tally__Config *carried = tally__config__unpack (tly_arena_allocator (self->arena), config->size,
                                                    config->data);
    char reason [AUDIT_PROBLEM_MAX / 2];
    if (!carried)
        s_problem (self, seq, "its configuration does not decode");
    else if (carried->version != config_version + 1)
        s_problem (self, seq,
                   "it carries config version %" PRIu64 ", not the one after the one it was"
                   " decided under (%" PRIu64 ")",
                   carried->version, config_version);
    else if (tly_config_from_proto (self->config, carried, NULL, reason, sizeof reason) == -1)
        s_problem (self, seq, "its configuration (version %" PRIu64 ") breaks the rules: %s",
                   carried->version, reason);
    else
        self->config_changes++;
}

//  ---------------------------------------------------------------- records

static bool
s_is (const audit_field_t *field, audit_wire_field_t wanted)
{
    return field->number == wanted.number && field->type == wanted.type;
}

//  The one length-delimited field of a message with wanted's number, which
//  must appear once (a second copy would be merged by a decoder: never in a
//  real record).
static int
s_only_field (const uint8_t *data, size_t size, audit_wire_field_t wanted, audit_field_t *found)
{
    assert (wanted.type == AUDIT_WIRE_BYTES);
    audit_wire_t wire = { data, data + size };
    audit_field_t field;
    audit_wire_step_t step;
    bool seen = false;
    while ((step = audit_wire_next (&wire, &field)) == AUDIT_WIRE_FIELD)
        if (field.number == wanted.number) {
            if (seen || field.type != wanted.type)
                return -1;
            *found = field;
            seen = true;
        }
    return step == AUDIT_WIRE_END && seen ? 0 : -1;
}

static tly_journal_step_t
s_replay_record (uint64_t seq, const uint8_t *stored, size_t size, void *arg)
{
    audit_state_t *self = arg;
    assert (seq > self->last_seq);
    self->last_seq = seq;
    self->records++;
    audit_progress_update (self->progress, self->records);

    const s_fields_t *fields = &self->fields;
    audit_field_t body, draft;
    if (s_only_field (stored, size, fields->stored_body, &body) == -1
        || s_only_field (body.data, body.size, fields->body_draft, &draft) == -1) {
        s_problem (self, seq, "the record does not decode");
        return TLY_JOURNAL_NEXT;
    }
    //  The draft: partition and partition seq first (an encoder may write
    //  fields in any order), then the events in order.
    uint64_t partition = 0, partition_seq = 0, config_version = 0;
    audit_field_t config = { 0 };
    int configs = 0;  //  copies of it: one at most in a real record
    audit_wire_t wire = { draft.data, draft.data + draft.size };
    audit_field_t field;
    audit_wire_step_t step;
    while ((step = audit_wire_next (&wire, &field)) == AUDIT_WIRE_FIELD) {
        if (s_is (&field, fields->draft_partition))
            partition = field.varint;
        else if (s_is (&field, fields->draft_partition_seq))
            partition_seq = field.varint;
        else if (s_is (&field, fields->draft_config_version))
            config_version = field.varint;
        else if (s_is (&field, fields->draft_config)) {
            config = field;
            configs++;
        }
    }
    if (step == AUDIT_WIRE_MALFORMED) {
        s_problem (self, seq, "the record's draft does not decode");
        return TLY_JOURNAL_NEXT;
    }
    if (partition >= TLY_PARTITIONS_MAX) {
        s_problem (self, seq, "partition %" PRIu64 " is out of range", partition);
        return TLY_JOURNAL_NEXT;
    }
    self->partition_seqs [partition] = partition_seq;
    wire = (audit_wire_t) { draft.data, draft.data + draft.size };
    while (audit_wire_next (&wire, &field) == AUDIT_WIRE_FIELD)
        if (s_is (&field, fields->draft_events))
            s_apply_event (self, seq, (uint32_t) partition, partition_seq, field.data, field.size);
    if (configs > 1)
        s_problem (self, seq, "its configuration appears %d times", configs);
    else
        s_apply_config (self, seq, partition, config_version, configs ? &config : NULL);
    tly_arena_reset (self->arena);
    return TLY_JOURNAL_NEXT;
}

int
audit_state_replay (audit_state_t *self, tly_journal_t *journal, audit_progress_t *progress)
{
    assert (self && journal);
    self->progress = progress;
    int rc = tly_journal_iterate (journal, self->last_seq + 1, s_replay_record, self);
    self->progress = NULL;
    if (rc == -1 && !audit_journal_gap ("tally audit", journal))
        fprintf (stderr,
                 "tally audit: reading the journal failed after seq %" PRIu64
                 " (see the log line above)\n",
                 self->last_seq);
    return rc;
}

void
audit_state_stats (audit_state_t *self, audit_stats_t *stats)
{
    assert (self && stats);
    *stats = (audit_stats_t) { .records = self->records,
                               .events = self->events,
                               .accounts = self->count,
                               .purchases = self->purchases,
                               .adjustments = self->adjustments,
                               .refunds = self->refunds,
                               .orders = audit_orders_count (self->orders),
                               .order_changes = self->order_changes,
                               .last_seq = self->last_seq,
                               .config_version = tly_config_version (self->config),
                               .config_changes = self->config_changes,
                               .problems = self->problems };
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots [i].used) {
            if (__builtin_add_overflow (stats->balance_sum, self->slots [i].balance,
                                        &stats->balance_sum))
                stats->sum_overflows = true;
            stats->held_sum += self->slots [i].held;
        }
    for (size_t i = 0; i < audit_orders_capacity (self->orders); i++) {
        const audit_order_t *order = audit_orders_slot (self->orders, i);
        stats->orders_open += order->used && audit_order_open (order->status);
    }
}

audit_orders_t *
audit_state_orders (audit_state_t *self)
{
    assert (self);
    return self->orders;
}
