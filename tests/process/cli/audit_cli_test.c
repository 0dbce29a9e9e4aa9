//  audit_cli_test - runs the real `tally audit` on journals written with the
//  journal class: a random workload verifies, its refunds read from their
//  purchases' records, its orders (created, edited, submitted, completed,
//  failed, refused with every code) derived message by message; a flipped
//  byte, a deleted record, envelopes checked against the wrong worker,
//  records forged with the worker's key (an event the envelope does not
//  give, a refund of another amount than its purchase's, ALREADY_REFUNDED
//  of a purchase never refunded, a completion's balance_after or a line's
//  amount, a hold less than the order's total) and checkpoints signed
//  again with another key are each named; replay finds the balances and
//  held amounts the workload computed, and notices an event (a purchase, a
//  hold) that does not follow; export writes one valid JSON line per
//  record, the order messages and events included; and replay --compare
//  agrees with a ledger rebuilt from the journal (balances, holds,
//  orders), names a balance, an order or partition 0's configuration
//  changed behind its back, and calls a lagging ledger in flux.
#include <assert.h>
#include <inttypes.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit_cli_support.h"
#include "audit_workload.h"
#include "harness.h"
#include "journal_forge.h"
#include "tly_journal.h"
#include "tly_ledger.h"
#include "tly_store.h"
#include "tly_validate.h"

#define S_USERS       300
#define S_RECORDS     3000
#define S_PER_RECORD  8
#define S_PARTITIONS  16
#define S_CHECKPOINTS 250  //  records between checkpoints
#define S_SEED        20261127
#define S_FLIPPED_SEQ 1234
#define S_DELETED_SEQ 2001

//  ---------------------------------------------------------------- the checks

static void
s_test_verify (char *journal, char *data_dir, char *worker_id, char *other_id)
{
    at_expect (0, "verify: OK 3000 records, 12 checkpoints, head seq 3000",
               (char *[]) { "tally", "audit", "verify", "--journal", journal, "--worker", worker_id,
                            NULL });
    at_expect (0, "\"ok\":true,\"records\":3000",
               (char *[]) { "tally", "audit", "verify", "--data-dir", data_dir, "--json", NULL });
    //  Every record's events follow from its envelope, resends in the mix.
    char *output;
    assert (at_run (&output,
                    (char *[]) { "tally", "audit", "verify", "--journal", journal, "--json", NULL })
            == 0);
    assert (strstr (output, "\"derived\":3000,\"notDerived\":0,\"resends\":"));
    assert (!strstr (output, "\"resends\":0}"));
    //  The worker's refunds, each purchase's record read from the journal;
    //  some refused ALREADY_REFUNDED, some NOT_FOUND (taken as said).
    assert (at_json_number (output, "refunds") > 0
            && at_json_number (output, "refundsRefusedAgain") > 0
            && at_json_number (output, "refundLookupsTakenAsSaid") > 0
            && at_json_number (output, "refundsTakenAsSaid") == 0);
    //  Every order message derived, its OrderChanged and result whole.
    assert (at_json_number (output, "orderChanges") > 0);
    free (output);
    at_expect (0,
               "refunds, each of a purchase not refunded before, to its user for its amount as"
               " the purchase's record gives them; ",
               (char *[]) { "tally", "audit", "verify", "--journal", journal, NULL });
    //  The envelopes are addressed to the worker, who signs the checkpoints:
    //  another worker fails at the first record.
    at_expect (1, "00000000000000000001.mdb: record 1: the envelope is not addressed to the worker",
               (char *[]) { "tally", "audit", "verify", "--journal", journal, "--worker", other_id,
                            NULL });
    unsetenv ("TALLY_WORKER_ACCOUNT");
    at_expect (2, NULL, (char *[]) { "tally", "audit", "verify", "--journal", journal, NULL });
    setenv ("TALLY_WORKER_ACCOUNT", worker_id, 1);
    at_expect (2, NULL, (char *[]) { "tally", "audit", "verify", NULL });
    at_expect (2, NULL,
               (char *[]) { "tally", "audit", "verify", "--journal", at_path ("none"), NULL });

    //  One byte flipped inside one record's body.
    char *flipped = at_path ("flipped");
    at_copy_journal (journal, flipped);
    at_raw_t raw;
    at_raw_open_segment (&raw, flipped, "records");
    uint8_t key_bytes [8];
    MDB_val key = at_seq_key (S_FLIPPED_SEQ, key_bytes), value;
    assert (mdb_get (raw.txn, raw.dbi, &key, &value) == 0);
    uint8_t *copy = malloc (value.mv_size);
    memcpy (copy, value.mv_data, value.mv_size);
    copy [value.mv_size / 3] ^= 0x01;  //  well inside the body (the hash is last)
    value.mv_data = copy;
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    at_raw_close (&raw);
    free (copy);
    at_expect (1, "00000000000000000001.mdb: record 1234: hash mismatch (stored ",
               (char *[]) { "tally", "audit", "verify", "--journal", flipped, NULL });

    //  One record deleted.
    char *deleted = at_path ("deleted");
    at_copy_journal (journal, deleted);
    at_raw_open_segment (&raw, deleted, "records");
    key = at_seq_key (S_DELETED_SEQ, key_bytes);
    assert (mdb_del (raw.txn, raw.dbi, &key, NULL) == 0);
    at_raw_close (&raw);
    at_expect (1, "00000000000000000001.mdb: record 2001: gap: seq 2001 missing",
               (char *[]) { "tally", "audit", "verify", "--journal", deleted, NULL });
}

//  ---------------------------------------------------------------- forged records
//  Each forgery rewrites a copy as a writer with the worker's key could
//  (chain and checkpoints made good again); verify must name the record.

typedef struct {
    Tally__Event__KindCase kind;  //  the kind of event to forge, in a record of one message
    int what;                     //  S_FORGE_*
    bool other_key;               //  sign the checkpoints again with another key
} s_forgery_t;

#define S_FORGE_NOTHING       0    //  change no value (the record stays as it was)
#define S_FORGE_INITIAL       1    //  AccountCreated: another initial balance
#define S_FORGE_BALANCE_AFTER 2    //  PurchaseRecorded: more left after it
#define S_FORGE_DROP          3    //  the PurchaseRecorded taken out: a purchase for nothing
#define S_FORGE_REFUND_AMOUNT 4    //  a refund (BalanceAdjusted) of one more than the purchase
#define S_FORGE_REFUSED_AGAIN 5    //  a refund refused NOT_FOUND said ALREADY_REFUNDED
#define S_FORGE_ORDER_AFTER   6    //  a completion's OrderChanged: more left after it
#define S_FORGE_ORDER_LINE    7    //  a completion's first purchase: one more charged
#define S_FORGE_ORDER_HELD    8    //  a submit's OrderChanged: less held after it
#define S_FORGE_FROM_SEQ      500  //  forge no record before this one

//  The record's first OrderChanged of status (NULL: none).
static Tally__OrderChanged *
s_order_changed (Tally__RecordDraft *draft, Tally__OrderStatus status)
{
    for (size_t i = 0; i < draft->n_events; i++)
        if (draft->events [i]->kind_case == TALLY__EVENT__KIND_ORDER_CHANGED
            && draft->events [i]->order_changed->order->status == status)
            return draft->events [i]->order_changed;
    return NULL;
}

static bool
s_forge (uint64_t seq, Tally__RecordDraft *draft, void *arg)
{
    const s_forgery_t *forgery = arg;
    if (seq < S_FORGE_FROM_SEQ)
        return false;
    if (forgery->what == S_FORGE_REFUSED_AGAIN) {
        Tally__MessageResult *result = draft->n_results == 1 ? draft->results [0] : NULL;
        if (!result || result->outcome_case != TALLY__MESSAGE_RESULT__OUTCOME_ERROR
            || result->error->code != TALLY__ERROR_CODE__NOT_FOUND)
            return false;
        //  A refund's (an order message's NOT_FOUND is of an order).
        Tally__Envelope *envelope = tally__envelope__unpack (NULL, draft->request->envelope.len,
                                                             draft->request->envelope.data);
        bool refund = envelope && envelope->n_messages == 1
                      && envelope->messages [0]->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND;
        if (envelope)
            tally__envelope__free_unpacked (envelope, NULL);
        if (!refund)
            return false;
        result->error->code = TALLY__ERROR_CODE__ALREADY_REFUNDED;
        return true;
    }
    if (forgery->what == S_FORGE_ORDER_AFTER || forgery->what == S_FORGE_ORDER_LINE) {
        Tally__OrderChanged *changed = s_order_changed (draft,
                                                        TALLY__ORDER_STATUS__ORDER_COMPLETED);
        if (!changed)
            return false;
        if (forgery->what == S_FORGE_ORDER_AFTER)
            changed->balance_after += 7;
        else {
            changed->purchases [0]->amount++;
            changed->purchases [0]->balance_after--;
        }
        return true;
    }
    if (forgery->what == S_FORGE_ORDER_HELD) {
        //  Less held than the order's total: a submit that spends more
        //  than the balance has available once another order holds it.
        Tally__OrderChanged *changed = s_order_changed (draft,
                                                        TALLY__ORDER_STATUS__ORDER_PROCESSING);
        if (!changed)
            return false;
        changed->held_after -= changed->order->total;
        return true;
    }
    if (draft->n_events == 0 || draft->events [0]->kind_case != forgery->kind)
        return false;
    if (forgery->what == S_FORGE_REFUND_AMOUNT) {
        Tally__BalanceAdjusted *adjusted = draft->events [0]->balance_adjusted;
        if (!adjusted->refund_of || !*adjusted->refund_of)
            return false;
        Tally__AdjustmentRecord *record = draft->results [0]->adjustment;
        adjusted->amount = ++record->amount;
        adjusted->balance_after = ++record->balance_after;
        return true;
    }
    if (forgery->what == S_FORGE_INITIAL)
        draft->events [0]->account_created->initial_balance += 1000000000;
    else if (forgery->what == S_FORGE_BALANCE_AFTER)
        draft->events [0]->purchase_recorded->balance_after += 7;
    else if (forgery->what == S_FORGE_DROP) {
        tally__event__free_unpacked (draft->events [0], NULL);
        memmove (draft->events, draft->events + 1, --draft->n_events * sizeof *draft->events);
    }
    return true;
}

static void
s_test_forged (char *journal, const tly_account_t *worker, const tly_account_t *other)
{
    static const struct {
        s_forgery_t forgery;
        const char *name;
        const char *reason;
    } cases [] = {
        { { TALLY__EVENT__KIND_ACCOUNT_CREATED, S_FORGE_INITIAL, false },
          "forged-initial",
          "AccountCreated says initial_balance " },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_BALANCE_AFTER, false },
          "forged-after",
          "PurchaseRecorded says balance_after " },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_DROP, false },
          "forged-dropped",
          "the record has no PurchaseRecorded for it; the envelope and the state give one" },
        { { TALLY__EVENT__KIND_BALANCE_ADJUSTED, S_FORGE_REFUND_AMOUNT, false },
          "forged-refund",
          "; the purchase's record (partition seq " },
        { { TALLY__EVENT__KIND_BALANCE_ADJUSTED, S_FORGE_REFUSED_AGAIN, false },
          "forged-refused",
          "the result is ALREADY_REFUNDED; the records refund the purchase nowhere before" },
        { { TALLY__EVENT__KIND_ORDER_CHANGED, S_FORGE_ORDER_AFTER, false },
          "forged-order-after",
          "(completeOrder co_z" },
        { { TALLY__EVENT__KIND_ORDER_CHANGED, S_FORGE_ORDER_AFTER, false },
          "forged-order-after-field",
          "OrderChanged says balance_after " },
        { { TALLY__EVENT__KIND_ORDER_CHANGED, S_FORGE_ORDER_LINE, false },
          "forged-order-line",
          "OrderChanged's purchase 1 says amount " },
        { { TALLY__EVENT__KIND_ORDER_CHANGED, S_FORGE_ORDER_HELD, false },
          "forged-order-held",
          "OrderChanged says held_after " },
        { { TALLY__EVENT__KIND_PURCHASE_RECORDED, S_FORGE_NOTHING, true },
          "forged-signer",
          ": bad signature (not signed by the worker)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char *copy = at_path (cases [i].name);
        at_copy_journal (journal, copy);
        s_forgery_t forgery = cases [i].forgery;
        uint64_t seq = journal_forge (copy, s_forge, &forgery, forgery.other_key ? other : worker);
        assert (seq >= S_FORGE_FROM_SEQ);
        char expected [256];
        if (forgery.other_key)
            snprintf (expected, sizeof expected, "%s", cases [i].reason);
        else
            snprintf (expected, sizeof expected, "record %" PRIu64 ": partition ", seq);
        at_expect (1, expected, (char *[]) { "tally", "audit", "verify", "--journal", copy, NULL });
        if (!forgery.other_key)
            at_expect (1, cases [i].reason,
                       (char *[]) { "tally", "audit", "verify", "--journal", copy, NULL });
    }
}

//  Changes one event of a draft (the first it finds worth changing).
typedef bool (s_bend_fn) (Tally__Event *event);

static bool
s_bend_purchase (Tally__Event *event)
{
    if (event->kind_case != TALLY__EVENT__KIND_PURCHASE_RECORDED)
        return false;
    event->purchase_recorded->balance_after -= 1;
    return true;
}

static bool
s_bend_hold (Tally__Event *event)
{
    if (event->kind_case != TALLY__EVENT__KIND_ORDER_CHANGED
        || event->order_changed->order->status != TALLY__ORDER_STATUS__ORDER_PROCESSING)
        return false;
    event->order_changed->held_after += 1;
    return true;
}

static bool
s_bend_refund (Tally__Event *event)
{
    if (event->kind_case != TALLY__EVENT__KIND_BALANCE_ADJUSTED
        || !*event->balance_adjusted->refund_of)
        return false;
    strcpy (event->balance_adjusted->reference, "pay-1");  //  "refund:co_z..." is longer
    return true;
}

//  A copy of the journal (name) with one event of the first record from
//  seq 100 on that bend changes rewritten in place: the body changes, the
//  stored hash does not (replay does not look). Returns the record's seq.
static uint64_t
s_bend (const char *journal, const char *name, s_bend_fn *bend)
{
    char *bent = at_path (name);
    at_copy_journal (journal, bent);
    at_raw_t raw;
    at_raw_open_segment (&raw, bent, "records");
    uint64_t seq = 0;
    for (uint64_t candidate = 100; !seq; candidate++) {
        uint8_t key_bytes [8];
        MDB_val key = at_seq_key (candidate, key_bytes), value;
        assert (mdb_get (raw.txn, raw.dbi, &key, &value) == 0);
        Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, value.mv_size,
                                                                    value.mv_data);
        Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                              stored->body.data);
        Tally__RecordDraft *draft = body->draft;
        for (size_t i = 0; i < draft->n_events && !seq; i++)
            if (bend (draft->events [i]))
                seq = candidate;
        if (seq) {
            Tally__StoredRecord bent_record = *stored;
            uint8_t *body_bytes = malloc (tally__record_body__get_packed_size (body));
            bent_record.body.len = tally__record_body__pack (body, body_bytes);
            bent_record.body.data = body_bytes;
            value.mv_size = tally__stored_record__get_packed_size (&bent_record);
            uint8_t *stored_bytes = malloc (value.mv_size);
            tally__stored_record__pack (&bent_record, stored_bytes);
            value.mv_data = stored_bytes;
            assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
            free (stored_bytes);
            free (body_bytes);
        }
        tally__record_body__free_unpacked (body, NULL);
        tally__stored_record__free_unpacked (stored, NULL);
    }
    at_raw_close (&raw);
    return seq;
}

static void
s_test_replay (char *journal, audit_workload_t *workload)
{
    char *output;
    assert (at_run (&output, (char *[]) { "tally", "audit", "replay", "--journal", journal,
                                          "--balances", "--json", NULL })
            == 0);
    size_t accounts = 0, lines = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        assert (at_json_value (line) && *at_json_value (line) == 0);
        lines++;
        if (strncmp (line, "{\"user\":", 8) != 0) {
            assert (strstr (line, "\"ok\":true") && at_json_number (line, "refunds") > 0);
            //  Orders rebuilt from their OrderChanged events, and the holds.
            assert (at_json_number (line, "orders") > 0 && at_json_number (line, "ordersOpen") > 0
                    && at_json_number (line, "orderChanges") > at_json_number (line, "orders")
                    && at_json_number (line, "heldSum") > 0);
            continue;
        }
        bool found = false;
        for (uint32_t i = 0; i < S_USERS && !found; i++) {
            const audit_workload_user_t *user = audit_workload_user (workload, i);
            if (strncmp (line + 9, user->id, strlen (user->id)) != 0)
                continue;
            char expected [64];
            snprintf (expected, sizeof expected, "\"balance\":%" PRId64 ",\"held\":%" PRId64 "}",
                      user->balance, user->held);
            assert (user->exists && strstr (line, expected));
            found = true;
        }
        assert (found);
        accounts++;
    }
    free (output);
    size_t existing = 0;
    for (uint32_t i = 0; i < S_USERS; i++)
        existing += audit_workload_user (workload, i)->exists;
    assert (accounts == existing && lines == accounts + 1);

    //  A purchase that does not follow the balance before it; a refund
    //  whose reference is not its purchase's.
    char expected [128];
    uint64_t seq = s_bend (journal, "bent", s_bend_purchase);
    snprintf (expected, sizeof expected, "replay: seq %" PRIu64 ": PurchaseRecorded for", seq);
    at_expect (1, expected,
               (char *[]) { "tally", "audit", "replay", "--journal", at_path ("bent"), NULL });
    //  A hold that does not follow the order submitted.
    seq = s_bend (journal, "bent-hold", s_bend_hold);
    snprintf (expected, sizeof expected, "replay: seq %" PRIu64 ": OrderChanged for co_z", seq);
    at_expect (1, expected,
               (char *[]) { "tally", "audit", "replay", "--journal", at_path ("bent-hold"), NULL });
    at_expect (1, "does not follow the balance and the held amount",
               (char *[]) { "tally", "audit", "replay", "--journal", at_path ("bent-hold"), NULL });
    seq = s_bend (journal, "bent-refund", s_bend_refund);
    snprintf (expected, sizeof expected,
              "replay: seq %" PRIu64 ": BalanceAdjusted is no refund of a purchase of partition",
              seq);
    at_expect (
        1, expected,
        (char *[]) { "tally", "audit", "replay", "--journal", at_path ("bent-refund"), NULL });
}

//  What the order messages and events export as.
#define S_ORDER_SHAPES 10
static const char *s_order_shapes [S_ORDER_SHAPES] = {
    "\"type\":\"createOrder\",\"items\":[{\"itemId\":",
    "\"type\":\"editOrder\",\"orderId\":\"co_z",
    "\"type\":\"submitOrder\",\"orderId\":\"co_z",
    "\"type\":\"completeOrder\",\"orderId\":\"co_z",
    "\"type\":\"failOrder\",\"orderId\":\"co_z",
    "{\"type\":\"OrderChanged\",\"user\":\"co_z",
    "\"status\":\"processing\"",
    ",\"heldAfter\":",
    ",\"purchaseIds\":[\"co_z",
    ",\"purchases\":[{\"type\":\"PurchaseRecorded\"",
};

static void
s_test_export (char *journal)
{
    uint64_t orders [S_ORDER_SHAPES] = { 0 };
    char *output;
    assert (at_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                          "--format", "jsonl", NULL })
            == 0);
    uint64_t seq = 0, in_partition_3 = 0, refunds = 0, refunded = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        seq++;
        char prefix [32];
        snprintf (prefix, sizeof prefix, "{\"seq\":%" PRIu64 ",\"hash\":\"", seq);
        assert (strncmp (line, prefix, strlen (prefix)) == 0);
        const char *end = at_json_value (line);
        assert (end && *end == 0);
        assert (strstr (line, "\"sender\":\"co_z") && strstr (line, "\"results\":[{"));
        in_partition_3 += strstr (line, ",\"partition\":3,") != NULL;
        //  A refund's message, and its event naming the purchase's record.
        refunds += strstr (line, "\"type\":\"refund\",\"purchaseId\":\"co_z") != NULL;
        refunded += strstr (line, ",\"refundOf\":\"co_z") != NULL
                    && strstr (line, ",\"purchasePartitionSeq\":");
        //  The order messages and their events.
        for (size_t i = 0; i < S_ORDER_SHAPES; i++)
            orders [i] += strstr (line, s_order_shapes [i]) != NULL;
        //  A purchase names the record that made it.
        if (strstr (line, "\"type\":\"purchase\""))
            assert (strstr (line, ",\"partitionSeq\":"));
    }
    free (output);
    assert (seq == S_RECORDS && in_partition_3 > 0 && refunds > refunded && refunded > 0);
    for (size_t i = 0; i < S_ORDER_SHAPES; i++)
        if (orders [i] == 0) {
            fprintf (stderr, "no record exports %s\n", s_order_shapes [i]);
            assert (false);
        }

    assert (at_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                          "--format", "jsonl", "--partition", "3", NULL })
            == 0);
    uint64_t lines = 0, partition_seq = 0;
    for (char *line = strtok (output, "\n"); line; line = strtok (NULL, "\n")) {
        lines++;
        char expected [64];
        snprintf (expected, sizeof expected, ",\"partition\":3,\"partitionSeq\":%" PRIu64 ",",
                  ++partition_seq);
        assert (strstr (line, expected));
    }
    free (output);
    assert (lines == in_partition_3);

    assert (at_run (&output, (char *[]) { "tally", "audit", "export", "--journal", journal,
                                          "--format", "jsonl", "--from", "2991", NULL })
            == 0);
    assert (strncmp (output, "{\"seq\":2991,", 12) == 0);
    lines = 0;
    for (char *at = output; (at = strchr (at, '\n')); at++)
        lines++;
    assert (lines == 10);
    free (output);
    at_expect (
        2, NULL,
        (char *[]) { "tally", "audit", "export", "--journal", journal, "--format", "csv", NULL });
}

//  A ledger rebuilt from the journal's first `last` records, as an actor's
//  catch-up would build it.
typedef struct {
    tly_ledger_t *ledger;
    tly_arena_t *arena;
    uint64_t last;
} s_rebuild_t;

static tly_journal_step_t
s_apply (uint64_t seq, const uint8_t *bytes, size_t size, void *arg)
{
    s_rebuild_t *rebuild = arg;
    if (seq > rebuild->last)
        return TLY_JOURNAL_STOP;
    Tally__StoredRecord *stored = tally__stored_record__unpack (NULL, size, bytes);
    Tally__RecordBody *body = tally__record_body__unpack (NULL, stored->body.len,
                                                          stored->body.data);
    assert (tly_ledger_apply (rebuild->ledger, body->draft, rebuild->arena) == TLY_LEDGER_APPLIED);
    tly_arena_reset (rebuild->arena);
    tally__record_body__free_unpacked (body, NULL);
    tally__stored_record__free_unpacked (stored, NULL);
    return TLY_JOURNAL_NEXT;
}

static void
s_rebuild (const char *journal_dir, const char *ledger_dir, uint64_t last)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 1000,
                                   .amount_max = 1000000,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    s_rebuild_t rebuild = { .ledger = tly_ledger_new (ledger_dir, 1 << 28, &limits),
                            .arena = tly_arena_new (1 << 16),
                            .last = last };
    assert (rebuild.ledger && rebuild.arena);
    tly_journal_t *journal = tly_journal_new_reader (journal_dir);
    assert (journal);
    assert (tly_ledger_begin (rebuild.ledger) == 0);
    assert (tly_journal_iterate (journal, 1, s_apply, &rebuild) == 0);
    assert (tly_ledger_commit (rebuild.ledger) == 0);
    tly_journal_destroy (&journal);
    tly_arena_destroy (&rebuild.arena);
    tly_ledger_destroy (&rebuild.ledger);
}

//  An order changed behind the journal's back: one version more.
static void
s_test_compare_order (char *data_dir, const char *full)
{
    at_raw_t raw;
    at_raw_open (&raw, full, "purchases");
    MDB_cursor *cursor;
    assert (mdb_cursor_open (raw.txn, raw.dbi, &cursor) == 0);
    uint8_t first [1] = { TLY_OBJ_ORDER };
    MDB_val key = { sizeof first, first }, value;
    assert (mdb_cursor_get (cursor, &key, &value, MDB_SET_RANGE) == 0);
    assert (((const uint8_t *) key.mv_data) [0] == TLY_OBJ_ORDER);
    Tally__Order *order = tally__order__unpack (NULL, value.mv_size, value.mv_data);
    assert (order);
    order->version++;
    uint8_t order_key [TLY_OBJECT_KEY_BYTES];
    memcpy (order_key, key.mv_data, sizeof order_key);
    mdb_cursor_close (cursor);
    value.mv_size = tally__order__get_packed_size (order);
    uint8_t *packed = malloc (value.mv_size);
    tally__order__pack (order, packed);
    value.mv_data = packed;
    key = (MDB_val) { sizeof order_key, order_key };
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    at_raw_close (&raw);
    char expected [128];
    snprintf (expected, sizeof expected, " order %s journal ", order->id);
    at_expect (
        1, expected,
        (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    free (packed);
    tally__order__free_unpacked (order, NULL);
}

static void
s_test_compare (char *journal, char *data_dir)
{
    //  tally up's layout: DIR/balance-N/balance/balance-N.
    char *actor = at_path ("up/balance-1");
    assert (mkdir (actor, 0700) == 0);
    assert (mkdir (at_path ("up/balance-1/balance"), 0700) == 0);
    char *full = at_path ("up/balance-1/balance/balance-1");
    s_rebuild (journal, full, S_RECORDS);
    at_expect (
        0, "compare: OK 16 partitions, ",
        (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    char *output;
    assert (at_run (&output, (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir,
                                          "--compare", "--json", NULL })
            == 0);
    assert (strstr (output, "\"compare\":{\"ok\":true") && at_json_number (output, "orders") > 0);
    free (output);

    //  A stale copy beside it (a partition that moved away) does not count...
    char *half = at_path ("half");
    s_rebuild (journal, half, S_RECORDS / 2);
    at_expect (0, "0 differences, 0 partitions in flux",
               (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare",
                            "--actors-dir", half, "--actors-dir", full, NULL });
    //  ... but alone it is behind: in flux, not different.
    at_expect (0, "in flux: actor at partition seq",
               (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare",
                            "--actors-dir", half, "--attempts", "2", NULL });

    //  Partition 0's configuration changed behind the journal's back (a
    //  price the records never set: the journal's catalog is "sword" at 30,
    //  then at 35, version 2), then put back.
    at_raw_t raw;
    at_raw_open (&raw, full, "purchases");
    uint8_t config_key [TLY_STORE_OBJECT_BYTES];
    tly_store_config_key (config_key);
    MDB_val key = { sizeof config_key, config_key }, value;
    assert (mdb_get (raw.txn, raw.dbi, &key, &value) == 0);
    uint8_t kept [256];
    size_t kept_size = value.mv_size;
    assert (kept_size <= sizeof kept);
    memcpy (kept, value.mv_data, kept_size);
    Tally__CatalogItem item = TALLY__CATALOG_ITEM__INIT;
    item.item_id = (char *) "sword";
    item.price = 30;
    item.active = true;
    Tally__CatalogItem *items [1] = { &item };
    Tally__Config config = TALLY__CONFIG__INIT;
    config.version = 1;
    config.n_items = 1;
    config.items = items;
    uint8_t packed [64];
    assert (tally__config__get_packed_size (&config) <= sizeof packed);
    value = (MDB_val) { tally__config__pack (&config, packed), packed };
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    at_raw_close (&raw);
    at_expect (
        1,
        "compare: partition 0 configuration: journal version 2 (0 admins, 1 items) actor"
        " version 1 (0 admins, 1 items)",
        (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    at_expect (1, "\"configMatches\":false",
               (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare",
                            "--json", NULL });
    at_raw_open (&raw, full, "purchases");
    value = (MDB_val) { kept_size, kept };
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    at_raw_close (&raw);
    at_expect (
        0, "the configuration matches",
        (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });

    //  A balance changed behind the journal's back.
    at_raw_open (&raw, full, "accounts");
    MDB_cursor *cursor;
    assert (mdb_cursor_open (raw.txn, raw.dbi, &cursor) == 0);
    assert (mdb_cursor_get (cursor, &key, &value, MDB_FIRST) == 0);
    uint8_t *copy = malloc (value.mv_size);
    memcpy (copy, value.mv_data, value.mv_size);
    copy [7] ^= 0x04;  //  the balance is the first i64 BE
    value.mv_data = copy;
    uint8_t user [TLY_KEY_BYTES];
    memcpy (user, key.mv_data, TLY_KEY_BYTES);
    mdb_cursor_close (cursor);
    key.mv_data = user;
    assert (mdb_put (raw.txn, raw.dbi, &key, &value, 0) == 0);
    at_raw_close (&raw);
    free (copy);
    char expected [128], id [TLY_ID_MAX];
    tly_account_id (user, id);
    snprintf (expected, sizeof expected, " user %s journal ", id);
    at_expect (
        1, expected,
        (char *[]) { "tally", "audit", "replay", "--data-dir", data_dir, "--compare", NULL });
    at_expect (2, NULL,
               (char *[]) { "tally", "audit", "replay", "--journal", journal, "--compare", NULL });
    s_test_compare_order (data_dir, full);
}

int
main (void)
{
    assert (sodium_init () >= 0);
    th_dir_new (at_root, sizeof at_root, "audit_cli_test");
    assert (mkdir (at_path ("up"), 0700) == 0 && mkdir (at_path ("up/audit"), 0700) == 0);
    char *data_dir = strdup (at_path ("up"));
    char *journal = strdup (at_path ("up/audit/journal"));

    tly_account_t worker, other;
    assert (tly_account_generate (&worker) == 0 && tly_account_generate (&other) == 0);
    char worker_id [TLY_ID_MAX], other_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_id (other.sign_pk, other_id);
    setenv ("TALLY_WORKER_ACCOUNT", worker_id, 1);
    audit_workload_config_t config = { .users = S_USERS,
                                       .records = S_RECORDS,
                                       .per_record = S_PER_RECORD,
                                       .partitions = S_PARTITIONS,
                                       .mixed = true,
                                       .seed = S_SEED,
                                       .checkpoint_every = S_CHECKPOINTS };
    audit_workload_t *workload = audit_workload_new (&config);
    assert (workload);
    assert (audit_workload_write (workload, journal, &worker) == 0);
    //  The mix has what it should: more messages than events (rejections);
    //  the worker's refunds and the order envelopes hold fewer messages.
    assert (audit_workload_messages (workload) < S_RECORDS * S_PER_RECORD
            && audit_workload_messages (workload) > S_RECORDS * (S_PER_RECORD - 2));
    assert (audit_workload_events (workload) < audit_workload_messages (workload));
    //  Orders: created, edited, submitted, completed and failed, and every
    //  refusal an order message may get with open prices; buys refused
    //  for what orders hold.
    assert (audit_workload_order_changes (workload) > 0
            && audit_workload_orders_completed (workload) > 0
            && audit_workload_held_refusals (workload) > 0);
    const Tally__ErrorCode refusals [] = {
        TALLY__ERROR_CODE__BAD_REQUEST,       TALLY__ERROR_CODE__INVALID_ITEM,
        TALLY__ERROR_CODE__INVALID_AMOUNT,    TALLY__ERROR_CODE__INVALID_NOTE,
        TALLY__ERROR_CODE__NO_ACCOUNT,        TALLY__ERROR_CODE__NOT_FOUND,
        TALLY__ERROR_CODE__PERMISSION_DENIED, TALLY__ERROR_CODE__INVALID_TRANSITION,
        TALLY__ERROR_CODE__ORDER_LIMIT,       TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
        TALLY__ERROR_CODE__PRICE_MISMATCH
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals [0]; i++)
        if (audit_workload_order_refusals (workload, refusals [i]) == 0) {
            fprintf (stderr, "no order refused %s\n", tly_error_name (refusals [i]));
            assert (false);
        }

    s_test_verify (journal, data_dir, worker_id, other_id);
    s_test_forged (journal, &worker, &other);
    s_test_replay (journal, workload);
    s_test_export (journal);
    s_test_compare (journal, data_dir);

    audit_workload_destroy (&workload);
    free (data_dir);
    free (journal);
    th_dir_remove (at_root);
    printf ("audit_cli_test: OK\n");
    return 0;
}
