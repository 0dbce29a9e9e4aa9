//  tly_ledger's refunds self-test: a purchase's amount given back once by
//  an admin, as a credit of its user with the refund's own reference, the
//  purchase's record gaining a second version; every refusal changing
//  nothing; apply rebuilding the same state (docs/protocol.md, "Refunds").
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "tly_object_id.h"
#include "tly_validate.h"
#include "test_client.h"
#include "harness.h"

static Tally__InboxMessage *
s_refund (tly_arena_t *arena, test_client_t *sender, const char *purchase_id, const char *reason)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__Refund *refund = tly_arena_alloc (arena, sizeof *refund);
    tally__refund__init (refund);
    refund->purchase_id = (char *) purchase_id;
    refund->reason = (char *) reason;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_REFUND;
    message->refund = refund;
    return message;
}

static void
s_test_refund (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    test_client_t worker, alice, mallory;
    test_client_init (&worker, 4, 0);
    test_client_init (&alice, 4, 1);
    test_client_init (&mallory, 4, 1);
    tly_ledger_limits_t limits = { .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 100,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .open_prices = true };
    memcpy (limits.worker, worker.user.pk, TLY_KEY_BYTES);
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live);
    worker.user.worker = true;
    test_run_t run = { .ledger = live, .arena = arena, .now = 1000 };
    test_run_message (&run, &alice, test_create (arena, &alice, 100));
    Tally__RecordDraft *draft = test_run_message (&run, &alice,
                                                  test_buy (arena, &alice, "gem", 30));
    const Tally__PurchaseRecord *bought = draft->results [0]->purchase;
    assert (bought && bought->partition_seq == draft->partition_seq && !*bought->refund_id);
    const char *purchase_id = tly_arena_strdup (arena, bought->id);
    assert (test_balance (live, &alice) == 70);

    //  Refusals, each changing nothing.
    worker.user.route = mallory.user.route = 1;
    draft = test_run_message (&run, &mallory, s_refund (arena, &mallory, purchase_id, ""));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__PERMISSION_DENIED
            && draft->n_events == 0);
    assert (strcmp (draft->results [0]->error->message, "Only an admin may refund a purchase")
            == 0);
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, "co_zgarbage", ""));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__BAD_REQUEST);
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, alice.user.id, ""));
    assert (test_draft_code (draft)
            == TALLY__ERROR_CODE__BAD_REQUEST);  //  an account, not a purchase
    char long_reason [TLY_NOTE_MAX + 2];
    memset (long_reason, 'r', sizeof long_reason - 1);
    long_reason [sizeof long_reason - 1] = 0;
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, purchase_id, long_reason));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_NOTE);
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 1, 2, 3 };
    uint8_t key [TLY_OBJECT_KEY_BYTES];
    char unknown [TLY_ID_MAX];
    tly_purchase_key (1, alice.user.pk, message_id, key);
    tly_object_id_of_key (key, unknown);
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, unknown, ""));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__NOT_FOUND);
    worker.user.route = 2;  //  not the purchase's partition
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, purchase_id, ""));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__BAD_REQUEST);
    worker.user.route = 1;
    assert (test_balance (live, &alice) == 70);

    //  The refund: a credit of the purchase's amount, with its reference.
    draft = test_run_message (&run, &worker,
                              s_refund (arena, &worker, purchase_id, "arrived broken"));
    const Tally__AdjustmentRecord *record = draft->results [0]->adjustment;
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference (purchase_id, reference);
    assert (record && record->amount == 30 && record->balance_after == 100);
    assert (strcmp (record->reference, reference) == 0
            && strcmp (record->note, "arrived broken") == 0
            && strcmp (record->by, worker.user.id) == 0
            && strcmp (record->user_id, alice.user.id) == 0);
    const Tally__BalanceAdjusted *adjusted = draft->events [0]->balance_adjusted;
    assert (adjusted && strcmp (adjusted->refund_of, purchase_id) == 0
            && adjusted->purchase_partition_seq == bought->partition_seq);
    Tally__PurchaseRecord *marked = NULL;
    assert (tly_ledger_purchase (live, purchase_id, arena, &marked) == TLY_LEDGER_KEPT);
    assert (strcmp (marked->refund_id, record->id) == 0 && marked->refunded_at == run.now - 1);
    assert (test_balance (live, &alice) == 100);
    const char *refund_id = tly_arena_strdup (arena, record->id);
    //  Twice: refused, with its own code.
    draft = test_run_message (&run, &worker, s_refund (arena, &worker, purchase_id, "again"));
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__ALREADY_REFUNDED && draft->n_events == 0);
    //  A credit may not take a refund's reference.
    Tally__InboxMessage *credit = test_message (arena, &worker);
    Tally__Adjustment *adjustment = tly_arena_alloc (arena, sizeof *adjustment);
    tally__adjustment__init (adjustment);
    adjustment->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, alice.user.pk };
    adjustment->amount = 5;
    adjustment->reference = "refund:co_zsomething";
    adjustment->note = "";
    credit->body_case = TALLY__INBOX_MESSAGE__BODY_CREDIT;
    credit->credit = adjustment;
    draft = test_run_message (&run, &worker, credit);
    assert (test_draft_code (draft) == TALLY__ERROR_CODE__INVALID_REFERENCE);
    assert (test_balance (live, &alice) == 100);

    //  Apply rebuilds the same: the balance and the purchase's second version.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    assert (tly_ledger_begin (replay) == 0);
    for (size_t i = 0; i < run.n; i++)
        assert (tly_ledger_apply (replay, test_round_trip (run.drafts [i], arena), arena)
                == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    assert (test_balance (replay, &alice) == 100);
    Tally__PurchaseRecord *replayed = NULL;
    assert (tly_ledger_purchase (replay, purchase_id, arena, &replayed) == TLY_LEDGER_KEPT);
    assert (strcmp (replayed->refund_id, refund_id) == 0
            && replayed->refunded_at == marked->refunded_at
            && replayed->partition_seq == marked->partition_seq);
    tly_ledger_destroy (&replay);
    tly_ledger_destroy (&live);
}

void
tly_ledger_refund_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger_refund: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_refund_test");
    char live [sizeof root + 16], replay [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    tly_arena_t *arena = tly_arena_new (1 << 16);
    s_test_refund (live, replay, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
