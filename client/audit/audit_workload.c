//  audit_workload - writes a realistic journal (see audit_workload.h).
#include "audit_workload.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit_journal.h"
#include "audit_scratch.h"
#include "tly_journal.h"
#include "tly_ledger.h"
#include "tly_log.h"
#include "tly_message_id.h"
#include "tly_partition.h"
#include "tly_sign.h"

#define S_BASE_MS           1767225600000LL  //  2026-01-01: the first record's time
#define S_STEP_MS           7                //  between records
#define S_BENCH_INITIAL     1000000000000LL  //  the benchmark's balances never run out
#define S_BENCH_AMOUNT_MAX  9
#define S_MIXED_INITIAL_MAX 1000
#define S_EPOCH_MOVE_ODDS   200  //  1 in this many records moves a partition
#define S_RESEND_ODDS       20   //  1 in this many messages resends the one before it
#define S_ITEM_KINDS        16

//  Item names, with one that needs escaping in JSON.
static const char *s_items [S_ITEM_KINDS] = {
    "sword",  "shield", "potion", "arrow",
    "bow",    "helmet", "boots",  "ring",
    "amulet", "scroll", "gem",    "map",
    "torch",  "rope",   "key",    "cloak \"of\" \\night\\ \xc3\xa9t\xc3\xa9\n"
};

struct _audit_workload_t {
    audit_workload_config_t config;
    audit_workload_user_t *users;
    uint64_t *partition_seqs;  //  [partitions]
    uint64_t *epochs;          //  [partitions]
    uint64_t random;           //  splitmix64 state
    uint64_t events;
    uint64_t messages;
    tly_arena_t *arena;  //  one commit's drafts
    //  While the journal is written: the balance actor's own ledger, in a
    //  scratch directory, decides each message.
    tly_ledger_t *ledger;
    bool written;
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
static uint64_t
s_below (audit_workload_t *self, uint64_t bound)
{
    assert (bound > 0);
    return s_next (self) % bound;
}

static void
s_random_bytes (audit_workload_t *self, uint8_t *out, size_t size)
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
        s_random_bytes (self, seed, sizeof seed);
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
static Tally__InboxMessage *
s_message (audit_workload_t *self, const audit_workload_user_t *user, bool first, int64_t now_ms)
{
    Tally__InboxMessage *message = tly_arena_alloc (self->arena, sizeof *message);
    tally__inbox_message__init (message);
    uint8_t *id = tly_arena_alloc (self->arena, TLY_MESSAGE_ID_BYTES);
    s_random_bytes (self, id, TLY_MESSAGE_ID_BYTES);
    tly_message_id_stamp (id, now_ms);  //  made when sent, as a client's
    message->message_id = (ProtobufCBinaryData) { TLY_MESSAGE_ID_BYTES, id };
    bool create;
    int64_t value;
    if (!self->config.mixed) {
        create = first && !user->exists;
        value = create ? S_BENCH_INITIAL : 1 + (int64_t) s_below (self, S_BENCH_AMOUNT_MAX);
    } else {
        uint64_t dice = s_below (self, 100);
        create = user->exists ? dice < 5 : dice < 85;
        value = create      ? (int64_t) s_below (self, S_MIXED_INITIAL_MAX + 1)
                : dice < 10 ? -(int64_t) s_below (self, 3)
                            : 1 + (int64_t) s_below (self, (uint64_t) (user->balance / 3 + 40));
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
        message->buy->item_id = (char *)
            s_items [s_below (self, self->config.mixed ? S_ITEM_KINDS : S_ITEM_KINDS - 1)];
        message->buy->amount = value;
    }
    return message;
}

//  What the user's state is after event, for the next messages the
//  workload makes and for the tests that check replay against it.
static void
s_follow (audit_workload_user_t *user, const Tally__Event *event)
{
    if (event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED) {
        user->exists = true;
        user->balance = event->account_created->initial_balance;
    } else {
        assert (event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED);
        user->balance = event->purchase_recorded->balance_after;
    }
}

//  One envelope from one user, signed by them, and the draft an actor makes
//  of it, decided by the ledger in its open transaction. Returns NULL when
//  the ledger could not be written (logged).
static Tally__RecordDraft *
s_draft (audit_workload_t *self, uint64_t index, const tly_account_t *worker)
{
    uint32_t count = self->config.per_record;
    uint32_t user_index = self->config.mixed ? (uint32_t) s_below (self, self->config.users)
                                             : (uint32_t) (index % self->config.users);
    audit_workload_user_t *user = &self->users [user_index];
    int64_t now_ms = S_BASE_MS + (int64_t) index * S_STEP_MS;

    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, user->pk };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) worker->sign_pk };
    envelope.timestamp_ms = now_ms - 3;
    envelope.n_messages = count;
    envelope.messages = tly_arena_alloc (self->arena, count * sizeof (Tally__InboxMessage *));
    for (uint32_t i = 0; i < count; i++)
        //  A resend in the same envelope (its first result again, no event).
        envelope.messages [i] = self->config.mixed && i > 0 && s_below (self, S_RESEND_ODDS) == 0
                                    ? envelope.messages [i - 1]
                                    : s_message (self, user, i == 0, now_ms - 3);

    Tally__SignedEnvelope *request = tly_arena_alloc (self->arena, sizeof *request);
    tally__signed_envelope__init (request);
    size_t size = tally__envelope__get_packed_size (&envelope);
    uint8_t *bytes = tly_arena_alloc (self->arena, size);
    tally__envelope__pack (&envelope, bytes);
    uint8_t *signature = tly_arena_alloc (self->arena, TLY_SIGNATURE_BYTES);
    tly_sign_envelope (user->sk, bytes, size, signature);
    request->envelope = (ProtobufCBinaryData) { size, bytes };
    request->signature = (ProtobufCBinaryData) { TLY_SIGNATURE_BYTES, signature };

    Tally__RecordDraft *draft = tly_arena_alloc (self->arena, sizeof *draft);
    tally__record_draft__init (draft);
    uint32_t partition = user->partition;
    if (self->config.mixed && s_below (self, S_EPOCH_MOVE_ODDS) == 0)
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
    tly_ledger_user_t sender;
    tly_ledger_user_init (&sender, user->pk, self->config.partitions);
    for (uint32_t i = 0; i < count; i++) {
        Tally__Event *event;
        uint64_t version;
        tly_ledger_result_t decided = tly_ledger_execute (
            self->ledger, &sender, envelope.messages [i], now_ms, self->arena, &draft->results [i],
            &event, &version);
        if (decided == TLY_LEDGER_ERROR)
            return NULL;
        //  Message IDs are random: never one seen before, but for the resends.
        assert (decided == TLY_LEDGER_APPLIED
                || (decided == TLY_LEDGER_DUPLICATE && i > 0
                    && envelope.messages [i] == envelope.messages [i - 1]));
        if (event) {
            s_follow (user, event);
            draft->events [draft->n_events++] = event;
        }
    }
    self->events += draft->n_events;
    self->messages += count;
    return draft;
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
