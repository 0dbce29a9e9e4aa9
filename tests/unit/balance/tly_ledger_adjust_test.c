//  tly_ledger's credits and debits self-test: the worker's adjustments as
//  execute decides them and as apply replays them (tly_ledger.h, "Credits
//  and debits").
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "tly_object_id.h"
#include "test_client.h"
#include "harness.h"

//  A credit (debit false) or debit of user by sender.
static Tally__InboxMessage *
s_adjust (tly_arena_t *arena, test_client_t *sender, const test_client_t *user, bool debit,
          int64_t amount, const char *reference, const char *note)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__Adjustment *adjustment = tly_arena_alloc (arena, sizeof *adjustment);
    tally__adjustment__init (adjustment);
    adjustment->user.len = TLY_KEY_BYTES;
    adjustment->user.data = (uint8_t *) user->user.pk;
    adjustment->amount = amount;
    adjustment->reference = (char *) reference;
    adjustment->note = (char *) note;
    message->body_case = debit ? TALLY__INBOX_MESSAGE__BODY_DEBIT
                               : TALLY__INBOX_MESSAGE__BODY_CREDIT;
    if (debit)
        message->debit = adjustment;
    else
        message->credit = adjustment;
    return message;
}

//  Runs message of sender as one envelope in its own transaction at now_ms;
//  the draft goes into drafts.
static Tally__RecordDraft *
s_run (tly_ledger_t *ledger, test_client_t *sender, Tally__InboxMessage *message, int64_t now_ms,
       tly_arena_t *arena, Tally__RecordDraft **drafts, size_t *n_drafts)
{
    assert (tly_ledger_begin (ledger) == 0);
    Tally__RecordDraft *draft = test_draft (ledger, sender, &message, 1, 1, now_ms, arena, NULL);
    assert (tly_ledger_commit (ledger) == 0);
    drafts [(*n_drafts)++] = draft;
    return draft;
}

static Tally__ErrorCode
s_code (const Tally__RecordDraft *draft)
{
    return test_error_code (draft->results [0]);
}

#define S_DRAFTS_MAX 256
#define S_MANY       110  //  credits past --keep-purchases' smallest (100)

static void
s_test_adjust (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 100,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .keep_purchases = TLY_KEEP_PURCHASES_MIN };
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live);
    test_client_t worker, alice, bob, mallory;
    test_client_init (&worker, limits.partition_count, UINT32_MAX);
    test_client_init (&alice, limits.partition_count, 1);
    test_client_init (&bob, limits.partition_count, 1);
    test_client_init (&mallory, limits.partition_count, 1);
    //  Routed to the adjusted users' partition, as the gateway does.
    worker.user.route = mallory.user.route = 1;
    worker.user.worker = true;
    Tally__RecordDraft **drafts = tly_arena_alloc (arena, S_DRAFTS_MAX * sizeof *drafts);
    size_t n = 0;
    Tally__RecordDraft *draft = s_run (live, &alice, test_create (arena, &alice, 10), 1000, arena,
                                       drafts, &n);

    //  A credit: the balance, the record, the event, one more history entry.
    Tally__InboxMessage *credit = s_adjust (arena, &worker, &alice, false, 50, "ch_1", "top-up");
    draft = s_run (live, &worker, credit, 2000, arena, drafts, &n);
    assert (draft->partition == 1 && draft->n_events == 1);
    const Tally__AdjustmentRecord *record = draft->results [0]->adjustment;
    assert (record && record->amount == 50 && record->balance_after == 60);
    assert (strcmp (record->reference, "ch_1") == 0 && strcmp (record->note, "top-up") == 0);
    assert (strcmp (record->user_id, alice.user.id) == 0
            && strcmp (record->by, worker.user.id) == 0);
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char id [TLY_ID_MAX];
    tly_adjustment_key (1, alice.user.pk, "ch_1", key);
    tly_object_id_of_key (key, id);
    assert (strcmp (record->id, id) == 0);
    const Tally__BalanceAdjusted *adjusted = draft->events [0]->balance_adjusted;
    assert (adjusted && adjusted->amount == 50 && adjusted->balance_after == 60
            && adjusted->timestamp == 2000
            && memcmp (adjusted->user.data, alice.user.pk, TLY_KEY_BYTES) == 0
            && memcmp (adjusted->by.data, worker.user.pk, TLY_KEY_BYTES) == 0);
    assert (test_balance (live, &alice) == 60);
    //  The same message again: its first result, as any message.
    Tally__MessageResult *result = NULL;
    assert (test_run_at (live, &worker, credit, 2500, arena, &result) == TLY_LEDGER_DUPLICATE);
    assert (result->adjustment && strcmp (result->adjustment->id, id) == 0);
    //  The same reference in a new message (a webhook delivered again):
    //  the first adjustment, nothing changes, no event.
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, false, 50, "ch_1", "again"),
                   3000, arena, drafts, &n);
    assert (draft->n_events == 0 && draft->results [0]->adjustment);
    assert (strcmp (draft->results [0]->adjustment->id, id) == 0
            && draft->results [0]->adjustment->balance_after == 60
            && strcmp (draft->results [0]->adjustment->note, "top-up") == 0);
    //  A debit of the same reference too: references are per user, shared.
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, true, 5, "ch_1", ""), 3100,
                   arena, drafts, &n);
    assert (draft->n_events == 0 && draft->results [0]->adjustment->amount == 50);
    assert (test_balance (live, &alice) == 60);

    //  A debit past the balance is refused, and its reference stays free.
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, true, 61, "fix-1", ""), 4000,
                   arena, drafts, &n);
    assert (s_code (draft) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && draft->n_events == 0);
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, true, 60, "fix-1", "to 0"),
                   4100, arena, drafts, &n);
    assert (draft->results [0]->adjustment->amount == -60
            && draft->results [0]->adjustment->balance_after == 0
            && draft->events [0]->balance_adjusted->amount == -60);
    assert (test_balance (live, &alice) == 0);

    //  Refusals, each changing nothing: not the worker, no account, bad
    //  fields, past the largest balance.
    draft = s_run (live, &mallory, s_adjust (arena, &mallory, &alice, false, 5, "free", ""), 5000,
                   arena, drafts, &n);
    assert (s_code (draft) == TALLY__ERROR_CODE__PERMISSION_DENIED && draft->n_events == 0);
    draft = s_run (live, &worker, s_adjust (arena, &worker, &bob, false, 5, "r", ""), 5000, arena,
                   drafts, &n);
    assert (s_code (draft) == TALLY__ERROR_CODE__NO_ACCOUNT);
    char long_note [TLY_NOTE_MAX + 2];
    memset (long_note, 'n', sizeof long_note - 1);
    long_note [sizeof long_note - 1] = 0;
    char long_reference [TLY_REFERENCE_MAX + 2];
    memset (long_reference, 'r', sizeof long_reference - 1);
    long_reference [sizeof long_reference - 1] = 0;
    const struct {
        int64_t amount;
        const char *reference, *note;
        Tally__ErrorCode code;
    } bad [] = { { 0, "r", "", TALLY__ERROR_CODE__INVALID_AMOUNT },
                 { -5, "r", "", TALLY__ERROR_CODE__INVALID_AMOUNT },
                 { TLY_BALANCE_MAX + 1, "r", "", TALLY__ERROR_CODE__INVALID_AMOUNT },
                 { 5, "", "", TALLY__ERROR_CODE__INVALID_REFERENCE },
                 { 5, long_reference, "", TALLY__ERROR_CODE__INVALID_REFERENCE },
                 { 5, "\xff", "", TALLY__ERROR_CODE__INVALID_REFERENCE },
                 { 5, "r", long_note, TALLY__ERROR_CODE__INVALID_NOTE },
                 { 5, "r", "\xc3", TALLY__ERROR_CODE__INVALID_NOTE } };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        draft = s_run (live, &worker,
                       s_adjust (arena, &worker, &alice, false, bad [i].amount, bad [i].reference,
                                 bad [i].note),
                       5000, arena, drafts, &n);
        assert (s_code (draft) == bad [i].code && draft->n_events == 0);
    }
    //  Exactly the largest balance, then one more.
    long_reference [TLY_REFERENCE_MAX] = 0;  //  128 bytes: the longest
    draft = s_run (live, &worker,
                   s_adjust (arena, &worker, &alice, false, TLY_BALANCE_MAX, long_reference, ""),
                   6000, arena, drafts, &n);
    assert (draft->results [0]->adjustment->balance_after == TLY_BALANCE_MAX);
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, false, 1, "one more", ""), 6100,
                   arena, drafts, &n);
    assert (s_code (draft) == TALLY__ERROR_CODE__BALANCE_LIMIT && draft->n_events == 0);
    assert (test_balance (live, &alice) == TLY_BALANCE_MAX);
    //  A buy: the history counts purchases and adjustments alike.
    draft = s_run (live, &alice, test_buy (arena, &alice, "gem", 7), 7000, arena, drafts, &n);
    assert (draft->results [0]->purchase
            && draft->results [0]->purchase->balance_after == TLY_BALANCE_MAX - 7);
    tly_account_state_t state;
    assert (tly_ledger_account (live, alice.user.pk, &state) == TLY_STORE_FOUND);
    assert (state.purchases == 4);  //  credit, debit, credit, buy
    tly_store_entries_t entries = {
        .purchases = tly_arena_alloc (arena, 8 * sizeof (Tally__PurchaseRecord *)),
        .adjustments = tly_arena_alloc (arena, 8 * sizeof (Tally__AdjustmentRecord *))
    };
    assert (tly_ledger_entries (live, alice.user.pk, 1, 8, arena, &entries) == 0);
    assert (entries.count == 4 && entries.n_adjustments == 3 && entries.n_purchases == 1);
    assert (entries.adjustments [0]->amount == 50 && entries.adjustments [1]->amount == -60);

    //  Past --keep-purchases, the oldest log entries go, but an adjustment's
    //  record stays: its reference still answers the first credit.
    for (int i = 0; i < S_MANY; i++) {
        char reference [32];
        snprintf (reference, sizeof reference, "bulk-%d", i);
        s_run (live, &worker,
               s_adjust (arena, &worker, &alice, true, 1, tly_arena_strdup (arena, reference), ""),
               8000 + i, arena, drafts, &n);
    }
    assert (tly_ledger_entries (live, alice.user.pk, 1, 8, arena, &entries) == 0
            && entries.count == 0);  //  the first entries were dropped
    Tally__AdjustmentRecord *kept = NULL;
    assert (tly_ledger_adjustment (live, id, arena, &kept) == TLY_STORE_FOUND
            && kept->amount == 50);
    draft = s_run (live, &worker, s_adjust (arena, &worker, &alice, false, 50, "ch_1", ""), 9000,
                   arena, drafts, &n);
    assert (draft->n_events == 0 && strcmp (draft->results [0]->adjustment->id, id) == 0);

    //  A replay of the records leaves the same balance, history and records.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    for (size_t i = 0; i < n; i++) {
        assert (tly_ledger_begin (replay) == 0);
        assert (tly_ledger_apply (replay, test_round_trip (drafts [i], arena), arena)
                == TLY_LEDGER_APPLIED);
        assert (tly_ledger_commit (replay) == 0);
    }
    assert (tly_ledger_account (live, alice.user.pk, &state) == TLY_STORE_FOUND);
    assert (state.balance == TLY_BALANCE_MAX - 7 - S_MANY && state.purchases == 4 + S_MANY);
    tly_account_state_t replayed;
    assert (tly_ledger_account (replay, alice.user.pk, &replayed) == TLY_STORE_FOUND);
    assert (replayed.balance == state.balance && replayed.purchases == state.purchases);
    assert (tly_ledger_adjustment (replay, id, arena, &kept) == TLY_STORE_FOUND
            && kept->amount == 50 && strcmp (kept->by, worker.user.id) == 0);
    //  A record whose event says another balance is refused whole.
    Tally__InboxMessage *next = s_adjust (arena, &worker, &bob, false, 1, "x", "");
    draft = s_run (live, &bob, test_create (arena, &bob, 1), 10000, arena, drafts, &n);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, test_round_trip (draft, arena), arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    draft = s_run (live, &worker, next, 10100, arena, drafts, &n);
    Tally__RecordDraft *forged = test_round_trip (draft, arena);
    forged->events [0]->balance_adjusted->balance_after = 1000;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) == TLY_LEDGER_ERROR);
    tly_ledger_abort (replay);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, test_round_trip (draft, arena), arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    tly_ledger_destroy (&replay);
    tly_ledger_destroy (&live);
}

void
tly_ledger_adjust_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger_adjust: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_adjust_test");
    char live [sizeof root + 16], replay [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    tly_arena_t *arena = tly_arena_new (4096);
    s_test_adjust (live, replay, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
