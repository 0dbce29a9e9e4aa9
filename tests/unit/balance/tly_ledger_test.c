//  tly_ledger self-test: every method, and the ledger's promises at their edges
//  (no reset, no negative balance, dedupe, replay idempotence, persistence,
//  retention of purchase records).
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_object_id.h"
#include "test_client.h"
#include "harness.h"

static uint64_t s_version;  //  what the last s_run's event reached

//  Executes one message in its own transaction; returns the result.
static Tally__MessageResult *
s_run (tly_ledger_t *ledger, test_client_t *client, Tally__InboxMessage *message,
       tly_arena_t *arena, Tally__Event **event_p)
{
    Tally__Event *event = NULL;
    Tally__MessageResult *result = NULL;
    assert (tly_ledger_begin (ledger) == 0);
    assert (tly_ledger_execute (ledger, &client->user, message, 1000, arena, &result, &event,
                                &s_version)
            != TLY_LEDGER_ERROR);
    assert (tly_ledger_commit (ledger) == 0);
    assert ((event != NULL) == (s_version > 0));
    if (event_p)
        *event_p = event;
    assert (result);
    return result;
}

static void
s_test_execute (const char *path, const tly_ledger_limits_t *limits, tly_arena_t *arena)
{
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, limits);
    assert (ledger);
    //  One process per state.
    assert (tly_ledger_new (path, 1 << 24, limits) == NULL);

    test_client_t alice, bob;
    test_client_init (&alice, limits->partition_count, UINT32_MAX);
    test_client_init (&bob, limits->partition_count, UINT32_MAX);

    //  createAccount: validated, then created once, never reset.
    Tally__Event *event = NULL;
    Tally__MessageResult *result = s_run (ledger, &alice, test_create (arena, &alice, 101), arena,
                                          &event);
    assert (test_error_code (result) == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE && !event);
    result = s_run (ledger, &alice, test_create (arena, &alice, -1), arena, &event);
    assert (test_error_code (result) == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE && !event);
    result = s_run (ledger, &alice, test_create (arena, &alice, 50), arena, &event);
    assert (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE);
    assert (result->balance->balance == 50 && result->balance->last_updated == 1000);
    assert (strcmp (result->balance->user_id, alice.user.id) == 0);
    assert (event && event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED);
    assert (event->account_created->initial_balance == 50 && s_version == 1);
    //  The balance ID is deterministic: kind 1, the partition, BLAKE2b("balance" || key).
    uint8_t hash [TLY_HASH_BYTES];
    uint8_t input [7 + TLY_KEY_BYTES];
    memcpy (input, "balance", 7);
    memcpy (input + 7, alice.account.sign_pk, TLY_KEY_BYTES);
    crypto_generichash (hash, sizeof hash, input, sizeof input, NULL, 0);
    char expected_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_BALANCE, alice.user.partition, hash, expected_id);
    assert (strcmp (result->balance->id, expected_id) == 0);
    result = s_run (ledger, &alice, test_create (arena, &alice, 100), arena, &event);
    assert (result->balance->balance == 50 && !event);
    assert (strcmp (result->balance->id, expected_id) == 0);

    //  buy: validated, then debited, never below zero.
    assert (
        test_error_code (s_run (ledger, &alice, test_buy (arena, &alice, "sword", 0), arena, NULL))
        == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (
        test_error_code (s_run (ledger, &alice, test_buy (arena, &alice, "sword", -5), arena, NULL))
        == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (test_error_code (
                s_run (ledger, &alice, test_buy (arena, &alice, "sword", INT64_MIN), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (test_error_code (s_run (ledger, &alice,
                                    test_buy (arena, &alice, "sword", limits->amount_max + 1),
                                    arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (test_error_code (s_run (ledger, &alice, test_buy (arena, &alice, "", 5), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_ITEM);
    assert (test_balance (ledger, &alice) == 50);

    Tally__InboxMessage *sword = test_buy (arena, &alice, "sword", 20);
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE);
    assert (result->purchase->balance_after == 30 && result->purchase->amount == 20);
    assert (strcmp (result->purchase->item_id, "sword") == 0);
    assert (event && event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED);
    assert (s_version == 2);  //  the balance and purchase log: one more version
    char purchase_id [TLY_ID_MAX];
    strcpy (purchase_id, result->purchase->id);
    Tally__PurchaseRecord *stored = NULL;
    assert (tly_ledger_purchase (ledger, purchase_id, arena, &stored) == TLY_LEDGER_KEPT);
    assert (stored && stored->balance_after == 30 && strcmp (stored->user_id, alice.user.id) == 0);

    result = s_run (ledger, &alice, test_buy (arena, &alice, "shield", 31), arena, &event);
    assert (test_error_code (result) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && !event);
    assert (strcmp (result->error->message, "Insufficient balance") == 0);
    result = s_run (ledger, &bob, test_buy (arena, &bob, "sword", 1), arena, &event);
    assert (test_error_code (result) == TALLY__ERROR_CODE__NO_ACCOUNT && !event);
    assert (strcmp (result->error->message, "No account found") == 0);

    //  Dedupe: the same message ID returns the first result and does nothing.
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->purchase->balance_after == 30 && !event);
    assert (strcmp (result->purchase->id, purchase_id) == 0);
    assert (test_balance (ledger, &alice) == 30);
    //  Errors are remembered too: topping up cannot turn an old error into a debit.
    Tally__InboxMessage *too_much = test_buy (arena, &alice, "crown", 40);
    assert (test_error_code (s_run (ledger, &alice, too_much, arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (test_error_code (s_run (ledger, &alice, too_much, arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  The same message ID from another sender is another message.
    Tally__InboxMessage *bob_create = test_create (arena, &bob, 10);
    memcpy (bob_create->message_id.data, sword->message_id.data, TLY_MESSAGE_ID_BYTES);
    assert (s_run (ledger, &bob, bob_create, arena, NULL)->balance->balance == 10);

    //  Malformed messages.
    Tally__InboxMessage *no_body = test_message (arena, &alice);
    assert (test_error_code (s_run (ledger, &alice, no_body, arena, NULL))
            == TALLY__ERROR_CODE__BAD_REQUEST);
    Tally__InboxMessage *short_id = test_buy (arena, &alice, "sword", 1);
    short_id->message_id.len = 3;
    assert (test_error_code (s_run (ledger, &alice, short_id, arena, NULL))
            == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (test_balance (ledger, &alice) == 30);

    //  Within one transaction later messages see earlier effects; abort forgets them.
    assert (tly_ledger_begin (ledger) == 0);
    assert (tly_ledger_in_txn (ledger));
    Tally__MessageResult *first = NULL, *second = NULL;
    Tally__InboxMessage *spend = test_buy (arena, &alice, "bow", 30);
    assert (tly_ledger_execute (ledger, &alice.user, spend, 2000, arena, &first, &event, &s_version)
            == TLY_LEDGER_APPLIED);
    assert (first->purchase->balance_after == 0 && s_version == 3);
    assert (tly_ledger_execute (ledger, &alice.user, test_buy (arena, &alice, "arrow", 1), 2000,
                                arena, &second, &event, &s_version)
            == TLY_LEDGER_APPLIED);
    assert (test_error_code (second) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && s_version == 0);
    assert (
        tly_ledger_execute (ledger, &alice.user, spend, 2000, arena, &second, &event, &s_version)
        == TLY_LEDGER_DUPLICATE);
    assert (second->purchase->balance_after == 0 && !event && s_version == 0);
    uint64_t seq, epoch;
    assert (tly_ledger_advance (ledger, alice.user.partition, 7, &seq) == 0 && seq == 1);
    assert (tly_ledger_advance (ledger, alice.user.partition, 7, &seq) == 0 && seq == 2);
    tly_ledger_abort (ledger);
    assert (!tly_ledger_in_txn (ledger));
    assert (test_balance (ledger, &alice) == 30);
    assert (tly_ledger_progress (ledger, alice.user.partition, &seq, &epoch) == 0);
    assert (seq == 0 && epoch == 0);

    //  Persistence across reopen: state and dedupe survive.
    tly_ledger_destroy (&ledger);
    assert (ledger == NULL);
    ledger = tly_ledger_new (path, 1 << 24, limits);
    assert (ledger);
    assert (test_balance (ledger, &alice) == 30);
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->purchase->balance_after == 30 && !event);
    assert (tly_ledger_purchase (ledger, purchase_id, arena, &stored) == TLY_LEDGER_KEPT);
    assert (tly_ledger_purchase (ledger, expected_id, arena, &stored) == TLY_LEDGER_UNKNOWN);
    assert (tly_ledger_purchase (ledger, "co_zNotAPurchase", arena, &stored) == TLY_LEDGER_UNKNOWN
            && !stored);
    tly_ledger_destroy (&ledger);
}

static void
s_test_overflow (const char *path, tly_arena_t *arena)
{
    //  With the widest limits, money stays in range at both ends.
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 1,
                                   .initial_max = INT64_MAX,
                                   .amount_max = INT64_MAX,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger);
    test_client_t rich;
    test_client_init (&rich, 1, UINT32_MAX);
    assert (
        s_run (ledger, &rich, test_create (arena, &rich, INT64_MAX), arena, NULL)->balance->balance
        == INT64_MAX);
    assert (s_run (ledger, &rich, test_buy (arena, &rich, "world", INT64_MAX), arena, NULL)
                ->purchase->balance_after
            == 0);
    assert (test_error_code (
                s_run (ledger, &rich, test_buy (arena, &rich, "world", INT64_MAX), arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (test_error_code (
                s_run (ledger, &rich, test_buy (arena, &rich, "world", INT64_MIN), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (test_balance (ledger, &rich) == 0);
    tly_ledger_destroy (&ledger);
}

static void
s_test_apply (const char *live_path, const char *replay_path, const tly_ledger_limits_t *limits,
              tly_arena_t *arena)
{
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, limits);
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, limits);
    assert (live && replay);
    test_client_t carol;
    test_client_init (&carol, limits->partition_count, UINT32_MAX);

    //  Two envelopes executed live, as the journal would hand them back.
    Tally__InboxMessage *one [] = { test_create (arena, &carol, 100),
                                    test_buy (arena, &carol, "gem", 30) };
    Tally__InboxMessage *two [] = { test_buy (arena, &carol, "gem", 30), one [1],
                                    test_buy (arena, &carol, "ring", 500) };
    assert (tly_ledger_begin (live) == 0);
    Tally__RecordDraft *first = test_round_trip (
        test_draft (live, &carol, one, 2, 3, 1000, arena, NULL), arena);
    Tally__RecordDraft *second = test_round_trip (
        test_draft (live, &carol, two, 3, 3, 1000, arena, NULL), arena);
    assert (tly_ledger_commit (live) == 0);
    assert (first->partition_seq == 1 && second->partition_seq == 2);
    assert (first->n_events == 2 && second->n_events == 1);

    //  Out of order is refused; in order rebuilds the live state exactly.
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, second, arena) == TLY_LEDGER_ERROR);
    tly_ledger_abort (replay);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, first, arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_apply (replay, second, arena) == TLY_LEDGER_APPLIED);
    //  Idempotent: a record already applied changes nothing.
    assert (tly_ledger_apply (replay, first, arena) == TLY_LEDGER_DUPLICATE);
    assert (tly_ledger_apply (replay, second, arena) == TLY_LEDGER_DUPLICATE);
    assert (tly_ledger_commit (replay) == 0);

    tly_account_state_t live_state, replay_state;
    assert (tly_ledger_account (live, carol.user.pk, &live_state) == TLY_STORE_FOUND);
    assert (tly_ledger_account (replay, carol.user.pk, &replay_state) == TLY_STORE_FOUND);
    assert (strcmp (live_state.balance_id, replay_state.balance_id) == 0);
    assert (live_state.balance == replay_state.balance);
    assert (live_state.last_updated == replay_state.last_updated);
    assert (live_state.created == replay_state.created);
    assert (live_state.purchases == 2 && replay_state.purchases == 2);
    assert (replay_state.balance == 40);
    uint64_t seq, epoch;
    assert (tly_ledger_progress (replay, carol.user.partition, &seq, &epoch) == 0);
    assert (seq == 2 && epoch == 3);
    Tally__PurchaseRecord *stored = NULL;
    assert (tly_ledger_purchase (replay, second->results [0]->purchase->id, arena, &stored)
            == TLY_LEDGER_KEPT);

    //  The replayed dedupe answers a resend exactly like the live one.
    assert (tly_ledger_begin (replay) == 0);
    Tally__MessageResult *result = NULL;
    Tally__Event *event = NULL;
    assert (
        tly_ledger_execute (replay, &carol.user, two [2], 5000, arena, &result, &event, &s_version)
        == TLY_LEDGER_DUPLICATE);
    assert (test_error_code (result) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && !event);
    assert (
        tly_ledger_execute (replay, &carol.user, one [1], 5000, arena, &result, &event, &s_version)
        == TLY_LEDGER_DUPLICATE);
    assert (result->purchase->balance_after == 70 && !event);
    tly_ledger_abort (replay);

    //  A record that does not follow the state is refused.
    Tally__RecordDraft *forged = test_round_trip (second, arena);
    forged->partition_seq = 3;
    forged->events [0]->purchase_recorded->balance_after = 35;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) == TLY_LEDGER_ERROR);
    tly_ledger_abort (replay);
    forged = test_round_trip (first, arena);
    forged->partition_seq = 3;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) == TLY_LEDGER_ERROR);
    tly_ledger_abort (replay);
    assert (tly_ledger_account (replay, carol.user.pk, &replay_state) == TLY_STORE_FOUND);
    assert (replay_state.balance == 40);

    tly_ledger_destroy (&live);
    tly_ledger_destroy (&replay);
}

static tly_store_walk_t
s_sum (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    (void) user;
    int64_t *sum = arg;
    *sum += state->balance;
    return TLY_STORE_WALK_NEXT;
}

static tly_store_walk_t
s_first (const uint8_t user [TLY_KEY_BYTES], const tly_account_state_t *state, void *arg)
{
    (void) user;
    (void) state;
    (*(int *) arg)++;
    return TLY_STORE_WALK_STOP;
}

//  Versions, the purchase log and its index, the owners of derived objects,
//  and a reader beside the live ledger.
static void
s_test_objects (const char *path, tly_arena_t *arena)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 8,
                                   .initial_max = 1000,
                                   .amount_max = 10,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger);
    tly_ledger_set_snapshot_every (ledger, 7);  //  flushes along the way
    assert (tly_ledger_limits (ledger)->initial_max == 1000);
    test_client_t dora, eve;
    test_client_init (&dora, limits.partition_count, UINT32_MAX);
    test_client_init (&eve, limits.partition_count, UINT32_MAX);
    s_run (ledger, &dora, test_create (arena, &dora, 1000), arena, NULL);
    s_run (ledger, &eve, test_create (arena, &eve, 5), arena, NULL);
    const size_t buys = 150;
    for (size_t i = 1; i <= buys; i++) {
        char item [16];
        snprintf (item, sizeof item, "item-%zu", i);
        Tally__MessageResult *result = s_run (ledger, &dora, test_buy (arena, &dora, item, 1),
                                              arena, NULL);
        assert (result->purchase->balance_after == (int64_t) (1000 - i));
        assert (s_version == i + 1);
        tly_arena_reset (arena);
    }
    s_run (ledger, &dora, test_buy (arena, &dora, "too-much", 10000), arena, NULL);
    assert (s_version == 0);
    tly_account_state_t state;
    assert (tly_ledger_account (ledger, dora.user.pk, &state) == TLY_STORE_FOUND);
    assert (state.purchases == buys && state.balance == 1000 - (int64_t) buys);

    //  The log: any window, oldest first, numbered from 1.
    Tally__PurchaseRecord *records [100];
    size_t count = 0;
    assert (tly_ledger_purchases (ledger, dora.user.pk, 51, 100, arena, records, &count) == 0);
    assert (count == 100);
    for (size_t i = 0; i < count; i++) {
        char item [16];
        snprintf (item, sizeof item, "item-%zu", 51 + i);
        assert (strcmp (records [i]->item_id, item) == 0);
        assert (records [i]->balance_after == (int64_t) (1000 - 51 - i));
    }
    assert (tly_ledger_purchases (ledger, dora.user.pk, 149, 100, arena, records, &count) == 0);
    assert (count == 2 && strcmp (records [1]->item_id, "item-150") == 0);
    assert (tly_ledger_purchases (ledger, eve.user.pk, 1, 100, arena, records, &count) == 0);
    assert (count == 0);

    //  Each derived object names its user; nothing else does.
    const tly_object_kind_t kinds [] = { TLY_OBJ_BALANCE, TLY_OBJ_ROOT, TLY_OBJ_PURCHASE_LOG };
    for (size_t i = 0; i < 3; i++) {
        char id [TLY_ID_MAX];
        uint8_t user [TLY_KEY_BYTES];
        tly_user_object_id (kinds [i], dora.account.sign_pk, limits.partition_count, id);
        assert (tly_ledger_owner (ledger, id, user) == TLY_STORE_FOUND);
        assert (memcmp (user, dora.user.pk, TLY_KEY_BYTES) == 0);
        tly_user_object_id (kinds [i], eve.account.sign_pk, limits.partition_count, id);
        assert (tly_ledger_owner (ledger, id, user) == TLY_STORE_FOUND);
        assert (memcmp (user, eve.user.pk, TLY_KEY_BYTES) == 0);
    }
    char other [TLY_ID_MAX];
    uint8_t user [TLY_KEY_BYTES];
    tly_user_object_id (TLY_OBJ_GROUP, dora.account.sign_pk, limits.partition_count, other);
    assert (tly_ledger_owner (ledger, other, user) == TLY_STORE_ABSENT);
    assert (tly_ledger_owner (ledger, "co_zNotAnObject", user) == TLY_STORE_ABSENT);
    assert (tly_ledger_owner (ledger, NULL, user) == TLY_STORE_ABSENT);

    //  Committed reads ignore the open transaction.
    assert (tly_ledger_begin (ledger) == 0);
    Tally__MessageResult *result = NULL;
    Tally__Event *event = NULL;
    assert (tly_ledger_execute (ledger, &eve.user, test_buy (arena, &eve, "pin", 1), 3000, arena,
                                &result, &event, &s_version)
                == TLY_LEDGER_APPLIED
            && s_version == 2);
    assert (test_balance (ledger, &eve) == 4);
    assert (tly_ledger_read_begin (ledger) == 0);
    assert (test_balance (ledger, &eve) == 5);
    tly_ledger_read_end (ledger);
    tly_ledger_abort (ledger);

    //  A reader beside the live ledger: every account, any partition.
    tly_ledger_t *reader = tly_ledger_new_reader (path);
    assert (reader);
    int64_t sum = 0;
    assert (tly_ledger_each_account (reader, s_sum, &sum) == 0);
    assert (sum == 1000 - (int64_t) buys + 5);
    int seen = 0;
    assert (tly_ledger_each_account (reader, s_first, &seen) == 0 && seen == 1);
    uint64_t seq, epoch;
    assert (tly_ledger_progress (reader, TLY_PARTITIONS_MAX - 1, &seq, &epoch) == 0 && seq == 0);
    assert (!tly_ledger_corrupt (reader) && !tly_ledger_corrupt (ledger));
    tly_ledger_destroy (&reader);
    tly_ledger_destroy (&ledger);
    assert (tly_ledger_new_reader ("/nonexistent/tly_ledger_test") == NULL);
}

static size_t
s_remembered (const char *path)
{
    tly_store_t *store = tly_store_new_reader (path);
    assert (store);
    size_t count = 0;
    assert (tly_store_results_count (store, &count) == 0);
    tly_store_destroy (&store);
    return count;
}

//  The dedupe window at its edges: an ID is taken from window before the
//  clock to window after it, remembered as long, then refused and forgotten.
//  The clock never goes back, and survives a reopen; replay keeps only the
//  results still inside the window.
static void
s_test_window (const char *path, const char *replay_path, tly_arena_t *arena)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 100,
                                   .dedupe_window_ms = 10000 };
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger && tly_ledger_clock (ledger) == 0);
    test_client_t alice;
    test_client_init (&alice, limits.partition_count, UINT32_MAX);
    Tally__MessageResult *result = NULL;
    Tally__InboxMessage *create = test_create (arena, &alice, 100);  //  made at 0
    Tally__RecordDraft *drafts [2];
    assert (tly_ledger_begin (ledger) == 0);
    drafts [0] = test_draft (ledger, &alice, &create, 1, 1, 1000, arena, NULL);
    assert (tly_ledger_commit (ledger) == 0);
    assert (tly_ledger_clock (ledger) == 1000);
    assert (s_remembered (path) == 1);
    assert (test_run_at (ledger, &alice, create, 1000, arena, &result) == TLY_LEDGER_DUPLICATE);
    assert (result->balance && result->balance->balance == 100);
    assert (strcmp (result->balance->user_id, alice.user.id) == 0);
    assert (strcmp (result->balance->id, drafts [0]->results [0]->balance->id) == 0);

    //  Made at 1000: taken until the clock passes 11000.
    Tally__InboxMessage *buy = test_buy (arena, &alice, "sword", 30);
    tly_message_id_stamp (buy->message_id.data, 1000);
    assert (test_run_at (ledger, &alice, buy, 1000, arena, &result) == TLY_LEDGER_APPLIED);
    assert (test_balance (ledger, &alice) == 70);
    assert (s_remembered (path) == 2);
    Tally__MessageResult *first = result;
    assert (test_run_at (ledger, &alice, buy, 11000, arena, &result) == TLY_LEDGER_DUPLICATE);
    //  Whole again, although dedupe keeps only what its key does not give.
    assert (result->purchase && result->purchase->balance_after == 70);
    assert (strcmp (result->purchase->id, first->purchase->id) == 0);
    assert (strcmp (result->purchase->user_id, alice.user.id) == 0);
    assert (strcmp (result->purchase->item_id, "sword") == 0);
    assert (result->purchase->timestamp == 1000 && result->purchase->amount == 30);
    assert (result->message_id.len == TLY_MESSAGE_ID_BYTES
            && memcmp (result->message_id.data, buy->message_id.data, TLY_MESSAGE_ID_BYTES) == 0);
    //  The create's result (made at 0) is forgotten at clock 10001 and on.
    assert (s_remembered (path) == 1);
    assert (test_run_at (ledger, &alice, buy, 11001, arena, &result) == TLY_LEDGER_STALE);
    assert (test_error_code (result) == TALLY__ERROR_CODE__STALE_MESSAGE_ID);
    assert (test_balance (ledger, &alice) == 70);
    //  And now the buy's.
    assert (s_remembered (path) == 0);

    //  Ahead of the clock: up to the window, not beyond.
    Tally__InboxMessage *ahead = test_buy (arena, &alice, "shield", 10);
    tly_message_id_stamp (ahead->message_id.data, 21002);
    assert (test_run_at (ledger, &alice, ahead, 11001, arena, &result) == TLY_LEDGER_STALE);
    tly_message_id_stamp (ahead->message_id.data, 21001);
    assert (test_run_at (ledger, &alice, ahead, 11001, arena, &result) == TLY_LEDGER_APPLIED);
    assert (test_balance (ledger, &alice) == 60);

    //  A clock that steps back does not take the forgotten ID again.
    assert (test_run_at (ledger, &alice, buy, 500, arena, &result) == TLY_LEDGER_STALE);
    assert (tly_ledger_clock (ledger) == 11001);
    assert (test_balance (ledger, &alice) == 60);
    tly_ledger_destroy (&ledger);
    ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger && tly_ledger_clock (ledger) == 11001);
    assert (test_run_at (ledger, &alice, buy, 500, arena, &result) == TLY_LEDGER_STALE);
    assert (test_run_at (ledger, &alice, ahead, 500, arena, &result) == TLY_LEDGER_DUPLICATE);
    //  Bob's account, made and decided at 30000: a record for the replay.
    test_client_t bob;
    test_client_init (&bob, limits.partition_count, UINT32_MAX);
    Tally__InboxMessage *bob_create = test_create (arena, &bob, 50);
    tly_message_id_stamp (bob_create->message_id.data, 30000);
    assert (tly_ledger_begin (ledger) == 0);
    drafts [1] = test_draft (ledger, &bob, &bob_create, 1, 1, 30000, arena, NULL);
    assert (tly_ledger_commit (ledger) == 0);
    tly_ledger_destroy (&ledger);

    //  Replay: the clock follows the records' times, and a record's results
    //  are kept only while their IDs are inside the window.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, test_round_trip (drafts [0], arena), arena)
            == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    assert (tly_ledger_clock (replay) == 1000);
    assert (s_remembered (replay_path) == 1);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, test_round_trip (drafts [1], arena), arena)
            == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    assert (tly_ledger_clock (replay) == 30000);
    //  Alice's create (made at 0) is forgotten, Bob's (made at 30000) kept.
    assert (s_remembered (replay_path) == 1);
    assert (test_run_at (replay, &bob, bob_create, 30000, arena, &result) == TLY_LEDGER_DUPLICATE);
    assert (test_run_at (replay, &alice, create, 30000, arena, &result) == TLY_LEDGER_STALE);
    tly_ledger_destroy (&replay);
}

//  The packed bytes of a result or a record, in arena.
static ProtobufCBinaryData
s_packed (const ProtobufCMessage *message, tly_arena_t *arena)
{
    ProtobufCBinaryData packed = { protobuf_c_message_get_packed_size (message), NULL };
    packed.data = tly_arena_alloc (arena, packed.len);
    protobuf_c_message_pack (message, packed.data);
    return packed;
}

static bool
s_same (ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && memcmp (a.data, b.data, a.len) == 0;
}

#define S_KEEP TLY_KEEP_PURCHASES_MIN

//  Both ledgers keep the same records of the same purchases, byte for byte.
static void
s_expect_same_kept (tly_ledger_t *a, tly_ledger_t *b, char ids [][TLY_ID_MAX], size_t count,
                    tly_arena_t *arena)
{
    for (size_t i = 0; i < count; i++) {
        Tally__PurchaseRecord *one = NULL, *other = NULL;
        tly_ledger_kept_t kept = tly_ledger_purchase (a, ids [i], arena, &one);
        assert (kept == TLY_LEDGER_KEPT || kept == TLY_LEDGER_DROPPED);
        assert (tly_ledger_purchase (b, ids [i], arena, &other) == kept);
        assert (kept == TLY_LEDGER_DROPPED
                || s_same (s_packed (&one->base, arena), s_packed (&other->base, arena)));
    }
}

//  Retention: the state keeps each user's latest keep_purchases records, so
//  purchase number keep_purchases + 1 drops the first in its own
//  transaction (the account keeps counting); a replay of the journal drops
//  the same ones; a resend of the dropped purchase's message still answers
//  its first result, live and replayed.
static void
s_test_retention (const char *live_path, const char *replay_path, const char *wide_path,
                  tly_arena_t *arena)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 4,
                                   .initial_max = 1000,
                                   .amount_max = 10,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT,
                                   .keep_purchases = S_KEEP };
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live && tly_ledger_limits (live)->keep_purchases == S_KEEP);
    test_client_t dave, erin;
    test_client_init (&dave, 4, 1);
    test_client_init (&erin, 4, 1);  //  the same partition as Dave's
    static Tally__RecordDraft *journal [S_KEEP + 3];
    static char ids [S_KEEP + 2][TLY_ID_MAX];
    static Tally__InboxMessage *buys [S_KEEP + 1];
    size_t records = 0;

    //  Erin buys once, Dave S_KEEP times: everything is kept.
    assert (tly_ledger_begin (live) == 0);
    Tally__InboxMessage *erins [] = { test_create (arena, &erin, 1000),
                                      test_buy (arena, &erin, "pearl", 1) };
    tly_message_id_stamp (erins [1]->message_id.data, 1000);
    Tally__RecordDraft *draft = test_draft (live, &erin, erins, 2, 1, 1000, arena, NULL);
    strcpy (ids [S_KEEP + 1], draft->results [1]->purchase->id);
    journal [records++] = test_round_trip (draft, arena);
    Tally__InboxMessage *opening [] = { test_create (arena, &dave, 1000) };
    journal [records++] = test_round_trip (
        test_draft (live, &dave, opening, 1, 1, 1000, arena, NULL), arena);
    for (size_t i = 0; i < S_KEEP; i++) {
        buys [i] = test_buy (arena, &dave, "gem", 1);
        tly_message_id_stamp (buys [i]->message_id.data, 1000 + (int64_t) i);
        draft = test_draft (live, &dave, &buys [i], 1, 1, 1000 + (int64_t) i, arena, NULL);
        strcpy (ids [i], draft->results [0]->purchase->id);
        journal [records++] = test_round_trip (draft, arena);
    }
    assert (tly_ledger_commit (live) == 0);
    Tally__PurchaseRecord *record = NULL;
    for (size_t i = 0; i < S_KEEP; i++)
        assert (tly_ledger_purchase (live, ids [i], arena, &record) == TLY_LEDGER_KEPT);
    ProtobufCBinaryData first = s_packed (&journal [2]->results [0]->base, arena);

    //  Purchase S_KEEP + 1 drops the first, in its own transaction.
    assert (tly_ledger_begin (live) == 0);
    buys [S_KEEP] = test_buy (arena, &dave, "gem", 1);
    tly_message_id_stamp (buys [S_KEEP]->message_id.data, 1000 + S_KEEP);
    draft = test_draft (live, &dave, &buys [S_KEEP], 1, 1, 1000 + S_KEEP, arena, NULL);
    strcpy (ids [S_KEEP], draft->results [0]->purchase->id);
    journal [records++] = test_round_trip (draft, arena);
    assert (tly_ledger_purchase (live, ids [0], arena, &record) == TLY_LEDGER_DROPPED);
    tly_ledger_abort (live);
    assert (tly_ledger_purchase (live, ids [0], arena, &record) == TLY_LEDGER_KEPT);
    assert (tly_ledger_begin (live) == 0);
    draft = test_draft (live, &dave, &buys [S_KEEP], 1, 1, 1000 + S_KEEP, arena, NULL);
    assert (strcmp (draft->results [0]->purchase->id, ids [S_KEEP]) == 0);
    assert (tly_ledger_commit (live) == 0);
    assert (tly_ledger_purchase (live, ids [0], arena, &record) == TLY_LEDGER_DROPPED && !record);
    for (size_t i = 1; i <= S_KEEP; i++)
        assert (tly_ledger_purchase (live, ids [i], arena, &record) == TLY_LEDGER_KEPT);
    //  Another user's record as old stays: retention is per user.
    assert (tly_ledger_purchase (live, ids [S_KEEP + 1], arena, &record) == TLY_LEDGER_KEPT);
    tly_account_state_t state;
    assert (tly_ledger_account (live, dave.user.pk, &state) == TLY_STORE_FOUND);
    assert (state.purchases == S_KEEP + 1 && state.balance == 1000 - (S_KEEP + 1));
    static Tally__PurchaseRecord *log [S_KEEP];
    size_t count = 0;
    assert (tly_ledger_purchases (live, dave.user.pk, 2, S_KEEP, arena, log, &count) == 0);
    assert (count == S_KEEP && strcmp (log [0]->id, ids [1]) == 0);
    assert (strcmp (log [S_KEEP - 1]->id, ids [S_KEEP]) == 0);
    assert (tly_ledger_purchases (live, dave.user.pk, 1, S_KEEP, arena, log, &count) == 0);
    assert (count == 0 && !tly_ledger_corrupt (live));

    //  A resend of the dropped purchase's message: its first result, whole.
    Tally__MessageResult *result = NULL;
    Tally__Event *event = NULL;
    assert (tly_ledger_begin (live) == 0);
    assert (
        tly_ledger_execute (live, &dave.user, buys [0], 2000, arena, &result, &event, &s_version)
        == TLY_LEDGER_DUPLICATE);
    assert (!event && strcmp (result->purchase->id, ids [0]) == 0);
    assert (s_same (s_packed (&result->base, arena), first));
    tly_ledger_abort (live);

    //  Replayed from the journal: the same records kept, the same dropped,
    //  the same answer to the resend.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay && tly_ledger_begin (replay) == 0);
    for (size_t i = 0; i < records; i++)
        assert (tly_ledger_apply (replay, journal [i], arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    s_expect_same_kept (live, replay, ids, S_KEEP + 2, arena);
    tly_account_state_t replayed;
    assert (tly_ledger_account (replay, dave.user.pk, &replayed) == TLY_STORE_FOUND);
    assert (replayed.purchases == state.purchases && replayed.balance == state.balance);
    assert (tly_ledger_begin (replay) == 0);
    assert (
        tly_ledger_execute (replay, &dave.user, buys [0], 2000, arena, &result, &event, &s_version)
        == TLY_LEDGER_DUPLICATE);
    assert (s_same (s_packed (&result->base, arena), first));
    tly_ledger_abort (replay);

    //  The limit decides, not the journal: keeping more, nothing is dropped.
    limits.keep_purchases = 2 * S_KEEP;
    tly_ledger_t *wide = tly_ledger_new (wide_path, 1 << 24, &limits);
    assert (wide && tly_ledger_begin (wide) == 0);
    for (size_t i = 0; i < records; i++)
        assert (tly_ledger_apply (wide, journal [i], arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (wide) == 0);
    assert (tly_ledger_purchase (wide, ids [0], arena, &record) == TLY_LEDGER_KEPT);
    tly_ledger_destroy (&wide);
    tly_ledger_destroy (&replay);
    tly_ledger_destroy (&live);
}

void
tly_ledger_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_test");
    char path [10][sizeof root + 16];
    for (int i = 0; i < 10; i++)
        snprintf (path [i], sizeof path [i], "%s/state-%d", root, i);

    tly_arena_t *arena = tly_arena_new (4096);
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 16,
                                   .initial_max = 100,
                                   .amount_max = 1000,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    s_test_execute (path [0], &limits, arena);
    s_test_overflow (path [1], arena);
    tly_arena_reset (arena);
    s_test_apply (path [2], path [3], &limits, arena);
    tly_arena_reset (arena);
    s_test_objects (path [4], arena);
    tly_arena_reset (arena);
    s_test_window (path [5], path [6], arena);
    tly_arena_reset (arena);
    s_test_retention (path [7], path [8], path [9], arena);
    tly_arena_destroy (&arena);

    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
