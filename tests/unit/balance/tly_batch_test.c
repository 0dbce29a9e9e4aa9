//  tly_batch self-test: a batch is decided, journaled and answered as one;
//  refusals, resends, malformed routes and the size limits.
#include "tly_batch.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_client.h"
#include "harness.h"

#define S_PARTITIONS 4

//  A route for client's signed envelope of messages, addressed to inbox.
static Tally__Route *
s_route (tly_arena_t *arena, uint64_t route_id, test_client_t *client, const uint8_t *inbox,
         Tally__InboxMessage **messages, size_t count)
{
    Tally__SignedEnvelope *signed_envelope = test_signed_envelope (arena, client, inbox, messages,
                                                                   count, 1000);
    Tally__Route *route = tly_arena_alloc (arena, sizeof *route);
    tally__route__init (route);
    route->route_id = route_id;
    route->partition = client->user.partition;
    route->envelope = signed_envelope;
    return route;
}

//  An AppendReply with one status per draft: OK unless listed in refuse.
static Tally__AppendReply *
s_reply (tly_arena_t *arena, size_t count, size_t refuse_index, Tally__ErrorCode refuse_code)
{
    Tally__AppendReply *reply = tly_arena_alloc (arena, sizeof *reply);
    tally__append_reply__init (reply);
    reply->n_statuses = count;
    reply->statuses = tly_arena_alloc (arena, count * sizeof (Tally__AppendStatus *));
    for (size_t i = 0; i < count; i++) {
        Tally__AppendStatus *status = tly_arena_alloc (arena, sizeof *status);
        tally__append_status__init (status);
        status->code = i == refuse_index ? refuse_code : TALLY__ERROR_CODE__OK;
        status->seq = i + 1;
        reply->statuses [i] = status;
    }
    return reply;
}

static Tally__RouteReply *
s_answer (zsock_t *peer)
{
    zframe_t *frame = zframe_recv (peer);
    assert (frame);
    Tally__ActorToRouter *message = tally__actor_to_router__unpack (NULL, zframe_size (frame),
                                                                    zframe_data (frame));
    zframe_destroy (&frame);
    assert (message && message->body_case == TALLY__ACTOR_TO_ROUTER__BODY_REPLY);
    Tally__RouteReply *reply = message->reply;
    message->reply = NULL;
    message->body_case = TALLY__ACTOR_TO_ROUTER__BODY__NOT_SET;
    tally__actor_to_router__free_unpacked (message, NULL);
    return reply;
}

static Tally__ErrorCode
s_answer_error (zsock_t *peer)
{
    Tally__RouteReply *reply = s_answer (peer);
    Tally__ErrorCode code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
    tally__route_reply__free_unpacked (reply, NULL);
    return code;
}

static uint32_t s_refused_partition;
static Tally__ErrorCode s_refused_code;
static int s_refused_calls;

static void
s_refused (uint32_t partition, Tally__ErrorCode code, void *arg)
{
    assert (arg == &s_refused_calls);
    s_refused_partition = partition;
    s_refused_code = code;
    s_refused_calls++;
}

void
tly_batch_test (bool verbose)
{
    if (verbose)
        printf (" * tly_batch: ");
    assert (sodium_init () >= 0);
    char root [64];
    th_dir_new (root, sizeof root, "tly_batch_test");
    tly_ledger_limits_t limits = { .open_prices = true,
                                   .partition_count = S_PARTITIONS,
                                   .initial_max = 100,
                                   .amount_max = 1000,
                                   .dedupe_window_ms = TLY_DEDUPE_WINDOW_MS_DEFAULT };
    tly_ledger_t *ledger = tly_ledger_new (root, 1 << 26, &limits);
    assert (ledger);
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    tly_batch_t *batch = tly_batch_new (ledger, worker.sign_pk, S_PARTITIONS);
    assert (batch);
    zsock_t *router = zsock_new_pair ("@inproc://tly_batch_test");
    zsock_t *peer = zsock_new_pair (">inproc://tly_batch_test");
    assert (router && peer);
    tly_arena_t *arena = tly_arena_new (4096);
    test_client_t alice, bob;
    test_client_init (&alice, S_PARTITIONS, UINT32_MAX);
    do
        test_client_init (&bob, S_PARTITIONS, UINT32_MAX);
    while (bob.user.partition == alice.user.partition);
    bool drafted;

    //  One batch: two good envelopes, four malformed routes.
    Tally__InboxMessage *opening [] = { test_create (arena, &alice, 100),
                                        test_buy (arena, &alice, "gem", 30) };
    Tally__Route *first = s_route (arena, 1, &alice, worker.sign_pk, opening, 2);
    Tally__InboxMessage *bob_opening [] = { test_create (arena, &bob, 50) };
    Tally__Route *second = s_route (arena, 2, &bob, worker.sign_pk, bob_opening, 1);
    Tally__InboxMessage *stray [] = { test_buy (arena, &alice, "gem", 1) };
    Tally__Route *wrong_inbox = s_route (arena, 3, &alice, alice.account.sign_pk, stray, 1);
    Tally__Route *garbage = s_route (arena, 4, &alice, worker.sign_pk, stray, 1);
    garbage->envelope->envelope.len = 3;
    garbage->envelope->envelope.data [0] = 0xFF;
    Tally__Route *misrouted = s_route (arena, 5, &alice, worker.sign_pk, stray, 1);
    misrouted->partition = bob.user.partition;
    //  An item ID with a NUL inside: decoded, it would read "ab".
    Tally__InboxMessage *nul_buy [] = { test_buy (arena, &alice, "abXcd", 1) };
    Tally__Route *nul_item = s_route (arena, 6, &alice, worker.sign_pk, nul_buy, 1);
    uint8_t *text = memmem (nul_item->envelope->envelope.data, nul_item->envelope->envelope.len,
                            "abXcd", 5);
    assert (text);
    text [2] = 0;

    assert (tly_batch_begin (batch, 5000) == 0);
    assert (tly_batch_open (batch));
    Tally__Route *routes [] = { first, second, wrong_inbox, garbage, misrouted, nul_item };
    for (size_t i = 0; i < 6; i++) {
        assert (tly_batch_add (batch, routes [i], 9, &drafted) == TLY_BATCH_ADDED);
        assert (drafted == (i < 2));
    }
    assert (tly_batch_size (batch) == 6 && tly_batch_drafts (batch) == 2);
    assert (tly_batch_draft_partition (batch, 1) == bob.user.partition);
    zframe_t *frame = tly_batch_append (batch, 77);
    Tally__AuditRequest *request = tally__audit_request__unpack (NULL, zframe_size (frame),
                                                                 zframe_data (frame));
    zframe_destroy (&frame);
    assert (request && request->body_case == TALLY__AUDIT_REQUEST__BODY_APPEND);
    assert (request->append->request_id == 77 && request->append->n_records == 2);
    Tally__RecordDraft *record = request->append->records [0];
    assert (record->partition == alice.user.partition && record->partition_seq == 1);
    assert (record->epoch == 9 && record->timestamp_ms == 5000);
    assert (record->n_events == 2 && record->n_results == 2);
    assert (record->request->envelope.len == first->envelope->envelope.len);
    //  The size bound holds for a real draft.
    assert (tally__record_draft__get_packed_size (record)
            <= tally__signed_envelope__get_packed_size (first->envelope) + TLY_BATCH_DRAFT_OVERHEAD
                   + 2 * TLY_BATCH_MESSAGE_BOUND);
    tally__audit_request__free_unpacked (request, NULL);
    //  Nothing is visible before the writer acks.
    assert (tly_ledger_in_txn (ledger));
    assert (tly_batch_settle (batch, s_reply (arena, 2, SIZE_MAX, 0), s_refused, &s_refused_calls)
            == 0);
    assert (s_refused_calls == 0);
    //  Journaled: answered before the state commits.
    assert (tly_ledger_in_txn (ledger));
    assert (tly_batch_answer (batch, zsock_resolve (router)) == 0);
    assert (tly_ledger_in_txn (ledger));
    tly_batch_commit (batch, s_refused, &s_refused_calls);
    assert (!tly_ledger_in_txn (ledger) && s_refused_calls == 0);
    tly_batch_end (batch);
    assert (!tly_batch_open (batch));
    Tally__RouteReply *answer = s_answer (peer);
    assert (answer->route_id == 1 && !answer->error && answer->n_results == 2);
    assert (answer->results [0]->balance->balance == 100);
    assert (answer->results [1]->purchase->balance_after == 70);
    tally__route_reply__free_unpacked (answer, NULL);
    answer = s_answer (peer);
    assert (answer->route_id == 2 && answer->results [0]->balance->balance == 50);
    tally__route_reply__free_unpacked (answer, NULL);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__UNKNOWN_INBOX);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (test_balance (ledger, &alice) == 70 && test_balance (ledger, &bob) == 50);

    //  A resend is answered from dedupe with no draft and no append.
    assert (tly_batch_begin (batch, 6000) == 0);
    assert (tly_batch_add (batch, first, 9, &drafted) == TLY_BATCH_ADDED && !drafted);
    assert (tly_batch_drafts (batch) == 0);
    assert (tly_batch_settle (batch, NULL, s_refused, &s_refused_calls) == 0);
    assert (tly_batch_answer (batch, zsock_resolve (router)) == 0);
    tly_batch_commit (batch, s_refused, &s_refused_calls);
    tly_batch_end (batch);
    answer = s_answer (peer);
    assert (answer->route_id == 1 && answer->results [1]->purchase->balance_after == 70);
    assert (answer->results [0]->balance->last_updated == 5000);
    tally__route_reply__free_unpacked (answer, NULL);

    //  Partial refusal: bob's partition is fenced, alice's draft stands.
    Tally__InboxMessage *alice_buy [] = { test_buy (arena, &alice, "ring", 10) };
    Tally__InboxMessage *bob_buy [] = { test_buy (arena, &bob, "ring", 5) };
    Tally__Route *third = s_route (arena, 6, &alice, worker.sign_pk, alice_buy, 1);
    Tally__Route *fourth = s_route (arena, 7, &bob, worker.sign_pk, bob_buy, 1);
    assert (tly_batch_begin (batch, 7000) == 0);
    assert (tly_batch_add (batch, third, 9, &drafted) == TLY_BATCH_ADDED && drafted);
    assert (tly_batch_add (batch, fourth, 9, &drafted) == TLY_BATCH_ADDED && drafted);
    assert (tly_batch_add (batch, first, 9, &drafted) == TLY_BATCH_ADDED && !drafted);
    assert (tly_batch_settle (batch, s_reply (arena, 2, 1, TALLY__ERROR_CODE__STALE_EPOCH),
                              s_refused, &s_refused_calls)
            == 0);
    assert (s_refused_calls == 1 && s_refused_partition == bob.user.partition);
    assert (s_refused_code == TALLY__ERROR_CODE__STALE_EPOCH);
    assert (tly_batch_answer (batch, zsock_resolve (router)) == 0);
    tly_batch_commit (batch, s_refused, &s_refused_calls);
    tly_batch_end (batch);
    answer = s_answer (peer);
    assert (answer->route_id == 6 && answer->results [0]->purchase->balance_after == 60);
    tally__route_reply__free_unpacked (answer, NULL);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__NOT_OWNER);
    assert (s_answer_error (peer) == TALLY__ERROR_CODE__OK);
    assert (test_balance (ledger, &alice) == 60 && test_balance (ledger, &bob) == 50);
    uint64_t seq, epoch;
    assert (tly_ledger_progress (ledger, alice.user.partition, &seq, &epoch) == 0 && seq == 2);
    assert (tly_ledger_progress (ledger, bob.user.partition, &seq, &epoch) == 0 && seq == 1);

    //  Abandoned (journal timeout) and mismatched replies leave no trace.
    assert (tly_batch_begin (batch, 8000) == 0);
    assert (tly_batch_add (batch, fourth, 9, &drafted) == TLY_BATCH_ADDED && drafted);
    tly_batch_abandon (batch);
    assert (tly_batch_begin (batch, 8000) == 0);
    assert (tly_batch_add (batch, fourth, 9, &drafted) == TLY_BATCH_ADDED && drafted);
    assert (tly_batch_settle (batch, s_reply (arena, 0, SIZE_MAX, 0), s_refused, &s_refused_calls)
            == -1);
    tly_batch_abandon (batch);
    assert (test_balance (ledger, &bob) == 50);
    assert (tly_ledger_progress (ledger, bob.user.partition, &seq, &epoch) == 0 && seq == 1);

    //  Limits: TLY_ACTOR_BATCH_MAX routes, and the append byte budget.
    assert (tly_batch_begin (batch, 9000) == 0);
    for (size_t i = 0; i < TLY_ACTOR_BATCH_MAX; i++)
        assert (tly_batch_add (batch, first, 9, &drafted) == TLY_BATCH_ADDED);
    assert (tly_batch_add (batch, first, 9, &drafted) == TLY_BATCH_FULL);
    tly_batch_abandon (batch);
    char item [TLY_ITEM_ID_MAX + 1];
    memset (item, 'i', TLY_ITEM_ID_MAX);
    item [TLY_ITEM_ID_MAX] = 0;
    Tally__InboxMessage *many [TLY_BATCH_MAX];
    for (size_t i = 0; i < TLY_BATCH_MAX; i++)
        many [i] = test_buy (arena, &alice, item, 1);
    Tally__Route *big = s_route (arena, 8, &alice, worker.sign_pk, many, TLY_BATCH_MAX);
    assert (tly_batch_begin (batch, 9000) == 0);
    size_t added = 0;
    while (tly_batch_add (batch, big, 9, &drafted) == TLY_BATCH_ADDED)
        added++;
    assert (added > 1 && added < TLY_ACTOR_BATCH_MAX);
    frame = tly_batch_append (batch, 78);
    assert (zframe_size (frame) <= TLY_BATCH_APPEND_BUDGET);
    zframe_destroy (&frame);
    tly_batch_abandon (batch);
    assert (test_balance (ledger, &alice) == 60);

    tly_arena_destroy (&arena);
    zsock_destroy (&peer);
    zsock_destroy (&router);
    tly_batch_destroy (&batch);
    assert (batch == NULL);
    tly_ledger_destroy (&ledger);
    th_dir_remove (root);
    if (verbose)
        printf ("OK\n");
}
