//  audit_workload - writes a realistic journal (see audit_workload.h).
#include "audit_workload_private.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit_journal.h"
#include "audit_orders.h"
#include "audit_scratch.h"
#include "tly_journal.h"
#include "tly_ledger.h"
#include "tly_log.h"
#include "tly_message_id.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_sign.h"
#include "tly_validate.h"

#define S_BASE_MS           1767225600000LL  //  2026-01-01: the first record's time
#define S_STEP_MS           7                //  between records
#define S_BENCH_INITIAL     1000000000000LL  //  the benchmark's balances never run out
#define S_BENCH_AMOUNT_MAX  9
#define S_MIXED_INITIAL_MAX 1000
#define S_EPOCH_MOVE_ODDS   200  //  1 in this many records moves a partition
#define S_RESEND_ODDS       20   //  1 in this many messages resends the one before it
#define S_REFUND_ODDS       25   //  1 in this many records (mixed) is a refund by the worker
#define S_UNKNOWN_ODDS      5    //  1 in this many refunds is of a purchase no state holds

//  Item names, with one that needs escaping in JSON.
const char *audit_workload_items [AUDIT_WORKLOAD_ITEM_KINDS] = {
    "sword",  "shield", "potion", "arrow",
    "bow",    "helmet", "boots",  "ring",
    "amulet", "scroll", "gem",    "map",
    "torch",  "rope",   "key",    "cloak \"of\" \\night\\ \xc3\xa9t\xc3\xa9\n"
};


static uint64_t
s_next (audit_workload_t *self)
{
    uint64_t z = (self->random += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

//  Uniform enough in [0, bound) for a workload.
uint64_t
audit_workload_below (audit_workload_t *self, uint64_t bound)
{
    assert (bound > 0);
    return s_next (self) % bound;
}

void
audit_workload_random_bytes (audit_workload_t *self, uint8_t *out, size_t size)
{
    for (size_t i = 0; i < size; i += 8) {
        uint64_t value = s_next (self);
        memcpy (out + i, &value, size - i < 8 ? size - i : 8);
    }
}

audit_workload_t *
audit_workload_new (const audit_workload_config_t *config)
{
    assert (config);
    if (config->users == 0 || config->per_record == 0 || config->per_record > TLY_BATCH_MAX
        || config->partitions == 0 || config->partitions > TLY_PARTITIONS_MAX || sodium_init () < 0)
        return NULL;
    audit_workload_t *self = calloc (1, sizeof *self);
    assert (self);
    self->config = *config;
    self->random = config->seed;
    self->users = calloc (config->users, sizeof (audit_workload_user_t));
    self->partition_seqs = calloc (config->partitions, sizeof (uint64_t));
    self->epochs = calloc (config->partitions, sizeof (uint64_t));
    assert (self->users && self->partition_seqs && self->epochs);
    for (uint32_t i = 0; i < config->partitions; i++)
        self->epochs [i] = 1;
    for (uint32_t i = 0; i < config->users; i++) {
        audit_workload_user_t *user = &self->users [i];
        uint8_t seed [crypto_sign_SEEDBYTES];
        audit_workload_random_bytes (self, seed, sizeof seed);
        crypto_sign_seed_keypair (user->pk, user->sk, seed);
        tly_account_id (user->pk, user->id);
        user->partition = tly_partition_of (user->pk, config->partitions);
    }
    self->arena = tly_arena_new (AUDIT_ARENA_BLOCK);
    return self;
}

void
audit_workload_destroy (audit_workload_t **self_p)
{
    assert (self_p);
    audit_workload_t *self = *self_p;
    if (!self)
        return;
    free (self->users);
    free (self->partition_seqs);
    free (self->epochs);
    tly_arena_destroy (&self->arena);
    free (self);
    *self_p = NULL;
}

const audit_workload_user_t *
audit_workload_user (audit_workload_t *self, uint32_t index)
{
    assert (self && index < self->config.users);
    return &self->users [index];
}

uint64_t
audit_workload_events (audit_workload_t *self)
{
    assert (self);
    return self->events;
}

uint64_t
audit_workload_messages (audit_workload_t *self)
{
    assert (self);
    return self->messages;
}

//  ---------------------------------------------------------------- one record

//  What the user sends: mostly what makes sense for their account, and in a
//  mixed workload sometimes what an actor must refuse.
Tally__InboxMessage *
audit_workload_new_message (audit_workload_t *self, int64_t now_ms)
{
    Tally__InboxMessage *message = tly_arena_alloc (self->arena, sizeof *message);
    tally__inbox_message__init (message);
    uint8_t *id = tly_arena_alloc (self->arena, TLY_MESSAGE_ID_BYTES);
    audit_workload_random_bytes (self, id, TLY_MESSAGE_ID_BYTES);
    tly_message_id_stamp (id, now_ms);  //  made when sent, as a client's
    message->message_id = (ProtobufCBinaryData) { TLY_MESSAGE_ID_BYTES, id };
    return message;
}

Tally__InboxMessage *
audit_workload_message (audit_workload_t *self, const audit_workload_user_t *user, bool first,
                        int64_t now_ms)
{
    Tally__InboxMessage *message = audit_workload_new_message (self, now_ms);
    bool create;
    int64_t value;
    if (!self->config.mixed) {
        create = first && !user->exists;
        value = create ? S_BENCH_INITIAL
                       : 1 + (int64_t) audit_workload_below (self, S_BENCH_AMOUNT_MAX);
    } else {
        uint64_t dice = audit_workload_below (self, 100);
        create = user->exists ? dice < 5 : dice < 85;
        value = create      ? (int64_t) audit_workload_below (self, S_MIXED_INITIAL_MAX + 1)
                : dice < 10 ? -(int64_t) audit_workload_below (self, 3)
                            : 1
                                  + (int64_t) audit_workload_below (
                                      self, (uint64_t) (user->balance / 3 + 40));
    }
    if (create) {
        message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
        message->create_account = tly_arena_alloc (self->arena, sizeof *message->create_account);
        tally__create_account__init (message->create_account);
        message->create_account->initial_balance = value;
    } else {
        message->body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
        message->buy = tly_arena_alloc (self->arena, sizeof *message->buy);
        tally__buy__init (message->buy);
        message->buy->item_id = (char *) audit_workload_items [audit_workload_below (
            self, self->config.mixed ? AUDIT_WORKLOAD_ITEM_KINDS : AUDIT_WORKLOAD_ITEM_KINDS - 1)];
        message->buy->amount = value;
    }
    return message;
}

//  What the user's state is after event, for the next messages the
//  workload makes and for the tests that check replay against it.
static void
s_follow (audit_workload_t *self, audit_workload_user_t *user, const Tally__Event *event)
{
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED) {
        user->exists = true;
        user->balance = event->account_created->initial_balance;
    } else if (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED) {
        user->balance = event->purchase_recorded->balance_after;
        if (self->config.mixed)
            snprintf (self->purchases [self->purchase_count++ % AUDIT_WORKLOAD_PURCHASES_KEPT],
                      TLY_ID_MAX, "%s", event->purchase_recorded->purchase_id);
    } else if (event->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED)
        audit_workload_follow_order (self, event->order_changed);
    else {
        //  A refund: a credit of the purchase's user, not the sender.
        assert (event->kind_case == TALLY__EVENT__KIND_BALANCE_ADJUSTED);
        const Tally__BalanceAdjusted *adjusted = event->balance_adjusted;
        for (uint32_t i = 0; i < self->config.users; i++)
            if (memcmp (self->users [i].pk, adjusted->user.data, TLY_KEY_BYTES) == 0)
                self->users [i].balance = adjusted->balance_after;
    }
}

//  The draft an actor makes of sender's envelope of count messages (signed
//  with sign_sk), routed to partition, decided by the ledger in its open
//  transaction as an actor's batch decides it. user is the sender's, whose
//  state its events follow. Returns NULL when the ledger could not be
//  written (logged).
Tally__RecordDraft *
audit_workload_decided (audit_workload_t *self, Tally__Envelope *envelope, const uint8_t *sign_sk,
                        const tly_ledger_user_t *sender, audit_workload_user_t *user,
                        int64_t now_ms)
{
    Tally__SignedEnvelope *request = tly_arena_alloc (self->arena, sizeof *request);
    tally__signed_envelope__init (request);
    size_t size = tally__envelope__get_packed_size (envelope);
    uint8_t *bytes = tly_arena_alloc (self->arena, size);
    tally__envelope__pack (envelope, bytes);
    uint8_t *signature = tly_arena_alloc (self->arena, TLY_SIGNATURE_BYTES);
    tly_sign_envelope (sign_sk, bytes, size, signature);
    request->envelope = (ProtobufCBinaryData) { size, bytes };
    request->signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, signature };

    size_t count = envelope->n_messages;
    Tally__RecordDraft *draft = tly_arena_alloc (self->arena, sizeof *draft);
    tally__record_draft__init (draft);
    uint32_t partition = sender->route;
    if (self->config.mixed && audit_workload_below (self, S_EPOCH_MOVE_ODDS) == 0)
        self->epochs [partition]++;
    draft->partition = partition;
    draft->partition_seq = ++self->partition_seqs [partition];
    draft->epoch = self->epochs [partition];
    draft->timestamp_ms = now_ms;
    draft->request = request;
    //  Decided as an actor with open prices decides (no catalog), which the
    //  record says, as an actor's do.
    draft->open_prices = tly_ledger_limits (self->ledger)->open_prices;
    draft->config_version = tly_config_version (tly_ledger_config (self->ledger));
    draft->events = tly_arena_alloc (self->arena, count * sizeof (Tally__Event *));
    draft->results = tly_arena_alloc (self->arena, count * sizeof (Tally__MessageResult *));
    draft->n_results = count;
    //  Its purchases name the record's partition seq.
    if (tly_ledger_envelope (self->ledger, partition) == -1)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        Tally__Event *event;
        uint64_t version;
        tly_ledger_result_t decided = tly_ledger_execute (
            self->ledger, sender, envelope->messages [i], now_ms, self->arena, &draft->results [i],
            &event, &version);
        if (decided == TLY_LEDGER_ERROR)
            return NULL;
        //  Message IDs are random: never one seen before, but for the resends.
        assert (decided == TLY_LEDGER_APPLIED
                || (decided == TLY_LEDGER_DUPLICATE && i > 0
                    && envelope->messages [i] == envelope->messages [i - 1]));
        const Tally__InboxMessage *message = envelope->messages [i];
        const Tally__MessageResult *result = draft->results [i];
        if (decided == TLY_LEDGER_APPLIED
            && result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR) {
            unsigned code = (unsigned) result->error->code;
            if (tly_order_message_id (message)
                || message->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER)
                self->order_refusals [code < 64 ? code : 0]++;
            //  A buy the balance pays for, refused for what orders hold.
            if (message->body_case == TALLY__INBOX_MESSAGE__BODY_BUY
                && code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && user && user->held > 0
                && message->buy->amount <= user->balance)
                self->held_refusals++;
        }
        if (event) {
            s_follow (self, user, event);
            draft->events [draft->n_events++] = event;
        }
    }
    //  A configuration message that changed it: the draft carries the new one.
    draft->config = tly_ledger_config_draft (self->ledger, draft->config_version, self->arena);
    uint64_t partition_seq;
    if (tly_ledger_advance (self->ledger, partition, draft->epoch, &partition_seq) == -1)
        return NULL;
    assert (partition_seq == draft->partition_seq);
    self->events += draft->n_events;
    self->messages += count;
    return draft;
}

//  The worker's refund of one of the latest purchases (some refunded
//  before: ALREADY_REFUNDED), or of one no state holds (NOT_FOUND), routed
//  to the purchase's partition.
static Tally__RecordDraft *
s_refund_draft (audit_workload_t *self, int64_t now_ms, const tly_account_t *worker)
{
    static const char *reasons [] = { "", "arrived broken", "never delivered" };
    Tally__InboxMessage *message = audit_workload_new_message (self, now_ms - 3);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
    message->refund = tly_arena_alloc (self->arena, sizeof *message->refund);
    tally__refund__init (message->refund);
    char *purchase_id = tly_arena_alloc (self->arena, TLY_ID_MAX);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    if (audit_workload_below (self, S_UNKNOWN_ODDS) == 0) {
        uint8_t message_id [TLY_MESSAGE_ID_BYTES];
        audit_workload_random_bytes (self, message_id, sizeof message_id);
        tly_purchase_key ((uint32_t) audit_workload_below (self, self->config.partitions),
                          worker->sign_pk, message_id, key);
        tly_object_id_of_key (key, purchase_id);
    } else {
        uint64_t kept = self->purchase_count < AUDIT_WORKLOAD_PURCHASES_KEPT
                            ? self->purchase_count
                            : AUDIT_WORKLOAD_PURCHASES_KEPT;
        snprintf (purchase_id, TLY_ID_MAX, "%s",
                  self->purchases [audit_workload_below (self, kept)]);
        int parsed = tly_object_key_parse (purchase_id, key);
        assert (parsed == 0);
    }
    message->refund->purchase_id = purchase_id;
    message->refund->reason = (char *) reasons [audit_workload_below (self, 3)];

    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.timestamp_ms = now_ms - 3;
    envelope.n_messages = 1;
    envelope.messages = tly_arena_alloc (self->arena, sizeof (Tally__InboxMessage *));
    envelope.messages [0] = message;
    tly_ledger_user_t sender;
    tly_ledger_user_init (&sender, worker->sign_pk, self->config.partitions);
    sender.route = tly_object_key_partition (key);
    sender.worker = true;
    return audit_workload_decided (self, &envelope, worker->sign_sk, &sender, NULL, now_ms);
}

//  One envelope from one user, signed by them (in a mixed workload, now
//  and then the worker's refund instead), and the draft an actor makes of
//  it, decided by the ledger in its open transaction. Returns NULL when
//  the ledger could not be written (logged).
static Tally__RecordDraft *
s_draft (audit_workload_t *self, uint64_t index, const tly_account_t *worker)
{
    int64_t now_ms = S_BASE_MS + (int64_t) index * S_STEP_MS;
    if (self->config.mixed && (index == 0 || index == self->config.records / 2))
        return audit_workload_price_draft (
            self, now_ms, worker, index == 0 ? AUDIT_WORKLOAD_PRICE : AUDIT_WORKLOAD_PRICE_LATER);
    if (self->config.mixed && self->purchase_count > 0
        && audit_workload_below (self, S_REFUND_ODDS) == 0)
        return s_refund_draft (self, now_ms, worker);
    if (self->config.mixed && audit_workload_below (self, AUDIT_WORKLOAD_ORDER_ODDS) == 0)
        return audit_workload_order_draft (self, index, now_ms, worker);
    uint32_t count = self->config.per_record;
    uint32_t user_index = self->config.mixed
                              ? (uint32_t) audit_workload_below (self, self->config.users)
                              : (uint32_t) (index % self->config.users);
    audit_workload_user_t *user = &self->users [user_index];

    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, user->pk };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.timestamp_ms = now_ms - 3;
    envelope.n_messages = count;
    envelope.messages = tly_arena_alloc (self->arena, count * sizeof (Tally__InboxMessage *));
    for (uint32_t i = 0; i < count; i++)
        //  A resend in the same envelope (its first result again, no event).
        envelope.messages [i] = self->config.mixed && i > 0
                                        && audit_workload_below (self, S_RESEND_ODDS) == 0
                                    ? envelope.messages [i - 1]
                                    : audit_workload_message (self, user, i == 0, now_ms - 3);
    tly_ledger_user_t sender;
    tly_ledger_user_init (&sender, user->pk, self->config.partitions);
    return audit_workload_decided (self, &envelope, user->sk, &sender, user, now_ms);
}

//  ---------------------------------------------------------------- the journal

//  Appends every record, AUDIT_WORKLOAD_COMMIT at a time, as an actor's
//  batches: decided in one ledger transaction, journaled (signed where the
//  writer would sign: every checkpoint_every records), then committed.
static int
s_write (audit_workload_t *self, tly_journal_t *journal, const tly_account_t *worker)
{
    tly_journal_signer_t signer = { .sign_sk = worker->sign_sk,
                                    .sign_pk = worker->sign_pk,
                                    .every = self->config.checkpoint_every,
                                    .record_time = true };
    Tally__RecordDraft *drafts [AUDIT_WORKLOAD_COMMIT];
    Tally__AppendStatus statuses [AUDIT_WORKLOAD_COMMIT];
    int rc = 0;
    for (uint64_t first = 0; rc == 0 && first < self->config.records;
         first += AUDIT_WORKLOAD_COMMIT) {
        uint64_t left = self->config.records - first;
        size_t count = left < AUDIT_WORKLOAD_COMMIT ? (size_t) left : AUDIT_WORKLOAD_COMMIT;
        rc = tly_ledger_begin (self->ledger);
        for (size_t i = 0; rc == 0 && i < count; i++)
            if (!(drafts [i] = s_draft (self, first + i, worker)))
                rc = -1;
        if (rc == 0)
            rc = tly_journal_append_batch (journal, drafts, count, statuses,
                                           self->config.checkpoint_every ? &signer : NULL);
        for (size_t i = 0; rc == 0 && i < count; i++)
            assert (statuses [i].code == TALLY__ERROR_CODE__OK);
        if (rc == 0)
            rc = tly_ledger_commit (self->ledger);
        else
            tly_ledger_abort (self->ledger);
        tly_arena_reset (self->arena);
    }
    //  And the head, as a clean stop leaves it.
    if (rc == 0 && self->config.checkpoint_every)
        rc = tly_journal_checkpoint (journal, worker->sign_sk, worker->sign_pk,
                                     S_BASE_MS + (int64_t) self->config.records * S_STEP_MS);
    return rc;
}

int
audit_workload_write (audit_workload_t *self, const char *dir, const tly_account_t *worker)
{
    assert (self && dir && worker);
    //  The users' state is the one ledger's: one journal per workload.
    assert (!self->written);
    self->written = true;
    //  Limits that admit every createAccount and buy the workload means to
    //  succeed; the ledger refuses the rest as an actor would.
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = self->config.partitions,
                                   .initial_max = S_BENCH_INITIAL,
                                   .amount_max = TLY_AMOUNT_MAX_DEFAULT,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    memcpy (limits.worker, worker->sign_pk, TLY_KEY_BYTES);
    char ledger_dir [AUDIT_PATH_MAX];
    if (audit_scratch_new ("tally-workload", ledger_dir, sizeof ledger_dir) == -1) {
        tly_log (TLY_ERROR, "workload.failed", "reason=\"cannot make a directory\" dir=%s",
                 ledger_dir);
        return -1;
    }
    self->ledger = tly_ledger_new (ledger_dir, TLY_LMDB_MAP_DEFAULT, &limits);
    tly_journal_t *journal = self->ledger ? tly_journal_new (dir, TLY_LMDB_MAP_DEFAULT) : NULL;
    int rc = journal ? s_write (self, journal, worker) : -1;
    tly_journal_destroy (&journal);
    //  Gone before anyone reads the journal: its pages are not written back.
    tly_ledger_destroy (&self->ledger);
    audit_scratch_remove (ledger_dir);
    if (rc == -1)
        tly_log (TLY_ERROR, "workload.failed", "dir=%s", dir);
    return rc;
}
