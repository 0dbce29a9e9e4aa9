//  tly_ledger's rate limit self-test: the per-user token bucket as execute
//  decides with it and as apply replays it (tly_ledger.h, "Rate limit").
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "test_client.h"
#include "harness.h"

//  The rate limit: a bucket of 3, 6 a minute (one token each 10 s). Every
//  new buy of an account takes a token, affordable or not; a resend takes
//  none; a refusal names the wait and is not remembered, so the same
//  message goes through once the wait is over. A replay of the records
//  leaves every bucket as the live one did.
static void
s_test_rate (const char *live_path, const char *replay_path, tly_arena_t *arena)
{
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = 4,
                                   .initial_max = 100,
                                   .amount_max = 100,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_MAX,
                                   .rate_per_minute = 6,
                                   .rate_burst = 3 };
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, &limits);
    assert (live);
    test_client_t alice, bob;
    test_client_init (&alice, limits.partition_count, 0);
    test_client_init (&bob, limits.partition_count, 0);
    Tally__RecordDraft *drafts [16];
    size_t n_drafts = 0;
    Tally__InboxMessage *setup [2] = { test_create (arena, &alice, 10),
                                       test_buy (arena, &bob, "nothing", 1) };
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, &setup [0], 1, 1, 1000, arena, NULL);
    //  No account: refused before the bucket, which has nothing to take from.
    drafts [n_drafts++] = test_draft (live, &bob, &setup [1], 1, 1, 1000, arena, NULL);
    assert (test_error_code (drafts [1]->results [0]) == TALLY__ERROR_CODE__NO_ACCOUNT);
    assert (tly_ledger_commit (live) == 0);

    //  Three at once: the burst (the third one unaffordable, a token all the same).
    Tally__InboxMessage *burst [3] = { test_buy (arena, &alice, "a", 4),
                                       test_buy (arena, &alice, "b", 4),
                                       test_buy (arena, &alice, "c", 4) };
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, burst, 3, 1, 2000, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    Tally__RecordDraft *draft = drafts [n_drafts - 1];
    assert (draft->rate_limit && draft->rate_limit->per_minute == 6
            && draft->rate_limit->burst == 3);
    assert (draft->results [0]->purchase && draft->results [1]->purchase);
    assert (test_error_code (draft->results [2]) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (test_balance (live, &alice) == 2);
    //  A resend of the first takes nothing: still its first result.
    Tally__MessageResult *result = NULL;
    assert (test_run_at (live, &alice, burst [0], 2000, arena, &result) == TLY_LEDGER_DUPLICATE);
    assert (result->purchase);
    //  The fourth, 1 s later: the next token is 9 s away.
    Tally__InboxMessage *fourth = test_buy (arena, &alice, "d", 1);
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, &fourth, 1, 1, 3000, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    result = drafts [n_drafts - 1]->results [0];
    assert (test_error_code (result) == TALLY__ERROR_CODE__RATE_LIMITED);
    assert (result->error->retry_after_ms == 9000);
    assert (strcmp (result->error->message, "Rate limited: too many buys, retry later") == 0);
    assert (test_balance (live, &alice) == 2);
    //  Not remembered: the same message is decided again, and goes through
    //  once its wait is over (at 12000, 10 s after the burst).
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, &fourth, 1, 1, 11999, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    assert (drafts [n_drafts - 1]->results [0]->error->retry_after_ms == 1);
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, &fourth, 1, 1, 12000, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    assert (drafts [n_drafts - 1]->results [0]->purchase);
    assert (test_balance (live, &alice) == 1);
    //  Now remembered: a resend takes nothing, even with no token left.
    assert (test_run_at (live, &alice, fourth, 12000, arena, &result) == TLY_LEDGER_DUPLICATE);
    assert (result->purchase && result->purchase->balance_after == 1);
    //  A minute later the bucket is full again, and no fuller: 3, then refused.
    Tally__InboxMessage *later [4] = { test_buy (arena, &alice, "e", 100),
                                       test_buy (arena, &alice, "f", 100),
                                       test_buy (arena, &alice, "g", 100),
                                       test_buy (arena, &alice, "h", 100) };
    assert (tly_ledger_begin (live) == 0);
    drafts [n_drafts++] = test_draft (live, &alice, later, 4, 1, 600000, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    draft = drafts [n_drafts - 1];
    for (int i = 0; i < 3; i++)
        assert (test_error_code (draft->results [i]) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (test_error_code (draft->results [3]) == TALLY__ERROR_CODE__RATE_LIMITED);
    assert (draft->results [3]->error->retry_after_ms == 10000);
    tly_account_state_t state;
    assert (tly_ledger_account (live, alice.user.pk, &state) == TLY_STORE_FOUND);
    assert (state.bucket_tokens == 0 && state.bucket_ms == 600000);

    //  The replay: the same buckets, from the records alone.
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, &limits);
    assert (replay);
    for (size_t i = 0; i < n_drafts; i++) {
        assert (tly_ledger_begin (replay) == 0);
        assert (tly_ledger_apply (replay, test_round_trip (drafts [i], arena), arena)
                == TLY_LEDGER_APPLIED);
        assert (tly_ledger_commit (replay) == 0);
    }
    tly_account_state_t replayed;
    assert (tly_ledger_account (replay, alice.user.pk, &replayed) == TLY_STORE_FOUND);
    assert (replayed.balance == state.balance && replayed.purchases == state.purchases);
    assert (replayed.bucket_tokens == state.bucket_tokens && replayed.bucket_ms == state.bucket_ms);
    //  And decides the next one as the live one does.
    Tally__InboxMessage *next = test_buy (arena, &alice, "i", 1);
    Tally__MessageResult *other = NULL;
    assert (test_run_at (live, &alice, next, 605000, arena, &result) == TLY_LEDGER_APPLIED);
    assert (test_run_at (replay, &alice, next, 605000, arena, &other) == TLY_LEDGER_APPLIED);
    assert (test_error_code (result) == TALLY__ERROR_CODE__RATE_LIMITED
            && test_error_code (other) == TALLY__ERROR_CODE__RATE_LIMITED);
    assert (result->error->retry_after_ms == 5000 && other->error->retry_after_ms == 5000);
    //  A record naming a limit no bucket takes is malformed: replay refuses
    //  it whole (burst one past TLY_RATE_BURST_MAX; the edge itself is fine).
    Tally__InboxMessage *last = test_buy (arena, &alice, "j", 1);
    assert (tly_ledger_begin (live) == 0);
    Tally__RecordDraft *edge = test_draft (live, &alice, &last, 1, 1, 700000, arena, NULL);
    assert (tly_ledger_commit (live) == 0);
    edge = test_round_trip (edge, arena);
    edge->rate_limit->burst = TLY_RATE_BURST_MAX + 1;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, edge, arena) == TLY_LEDGER_ERROR);
    tly_ledger_abort (replay);
    edge->rate_limit->burst = TLY_RATE_BURST_MAX;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, edge, arena) == TLY_LEDGER_APPLIED);
    assert (tly_ledger_commit (replay) == 0);
    tly_ledger_destroy (&replay);
    tly_ledger_destroy (&live);
}

void
tly_ledger_rate_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger_rate: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_ledger_rate_test");
    char live [sizeof root + 16], replay [sizeof root + 16];
    snprintf (live, sizeof live, "%s/live", root);
    snprintf (replay, sizeof replay, "%s/replay", root);
    tly_arena_t *arena = tly_arena_new (4096);
    s_test_rate (live, replay, arena);
    tly_arena_destroy (&arena);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
