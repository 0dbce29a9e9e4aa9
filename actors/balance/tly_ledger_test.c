//  tly_ledger self-test: every method, and the ledger's promises at their edges
//  (no reset, no negative balance, dedupe, replay idempotence, persistence).
#include "tly_ledger.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_id.h"
#include "tly_sign.h"

//  Builds messages and journal drafts the way a client and the actor would.
typedef struct {
    tly_account_t account;
    tly_ledger_user_t user;
    uint8_t next_id;
} s_client_t;

static void
s_client_init (s_client_t *client, uint32_t partition_count)
{
    memset (client, 0, sizeof *client);
    int rc = tly_account_generate (&client->account);
    assert (rc == 0);
    tly_ledger_user_init (&client->user, client->account.sign_pk, partition_count);
    assert (client->user.partition == tly_partition_of (client->account.sign_pk, partition_count));
    char id [TLY_ID_MAX];
    tly_account_id (client->account.sign_pk, id);
    assert (strcmp (id, client->user.id) == 0);
}

static Tally__InboxMessage *
s_message (tly_arena_t *arena, s_client_t *client)
{
    Tally__InboxMessage *message = tly_arena_alloc (arena, sizeof *message);
    tally__inbox_message__init (message);
    message->message_id.len = TLY_MESSAGE_ID_BYTES;
    message->message_id.data = tly_arena_alloc (arena, TLY_MESSAGE_ID_BYTES);
    message->message_id.data [0] = ++client->next_id;
    return message;
}

static Tally__InboxMessage *
s_create (tly_arena_t *arena, s_client_t *client, int64_t initial)
{
    Tally__InboxMessage *message = s_message (arena, client);
    Tally__CreateAccount *create = tly_arena_alloc (arena, sizeof *create);
    tally__create_account__init (create);
    create->initial_balance = initial;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    message->create_account = create;
    return message;
}

static Tally__InboxMessage *
s_buy (tly_arena_t *arena, s_client_t *client, const char *item, int64_t amount)
{
    Tally__InboxMessage *message = s_message (arena, client);
    Tally__Buy *buy = tly_arena_alloc (arena, sizeof *buy);
    tally__buy__init (buy);
    buy->item_id = (char *) item;
    buy->amount = amount;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    message->buy = buy;
    return message;
}

//  Executes one message in its own transaction; returns the result.
static Tally__MessageResult *
s_run (tly_ledger_t *ledger, s_client_t *client, Tally__InboxMessage *message,
       tly_arena_t *arena, Tally__Event **event_p)
{
    Tally__Event *event = NULL;
    Tally__MessageResult *result = NULL;
    assert (tly_ledger_begin (ledger) == 0);
    assert (tly_ledger_execute (ledger, &client->user, message, 1000, arena, &result, &event) >= 0);
    assert (tly_ledger_commit (ledger) == 0);
    if (event_p)
        *event_p = event;
    assert (result);
    return result;
}

static int64_t
s_balance (tly_ledger_t *ledger, s_client_t *client)
{
    tly_account_state_t state;
    assert (tly_ledger_account (ledger, client->user.pk, &state) == 0);
    return state.balance;
}

static Tally__ErrorCode
s_error_code (const Tally__MessageResult *result)
{
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR
         ? result->error->code : TALLY__ERROR_CODE__OK;
}

//  Executes messages as one envelope of client in an open transaction and
//  returns the journal draft the actor would append.
static Tally__RecordDraft *
s_draft (tly_ledger_t *ledger, s_client_t *client, Tally__InboxMessage **messages, size_t count,
         uint64_t epoch, tly_arena_t *arena)
{
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender.len = TLY_KEY_BYTES;
    envelope.sender.data = client->account.sign_pk;
    envelope.inbox.len = TLY_KEY_BYTES;
    envelope.inbox.data = client->account.sign_pk;
    envelope.timestamp_ms = 1000;
    envelope.n_messages = count;
    envelope.messages = messages;
    Tally__SignedEnvelope *request = tly_arena_alloc (arena, sizeof *request);
    tally__signed_envelope__init (request);
    request->envelope.len = tally__envelope__get_packed_size (&envelope);
    request->envelope.data = tly_arena_alloc (arena, request->envelope.len);
    tally__envelope__pack (&envelope, request->envelope.data);
    request->signature.len = TLY_SIGNATURE_BYTES;
    request->signature.data = tly_arena_alloc (arena, TLY_SIGNATURE_BYTES);
    tly_sign_envelope (client->account.sign_sk, request->envelope.data, request->envelope.len,
                       request->signature.data);

    Tally__RecordDraft *draft = tly_arena_alloc (arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = client->user.partition;
    draft->epoch = epoch;
    draft->timestamp_ms = 1000;
    draft->request = request;
    draft->results = tly_arena_alloc (arena, count * sizeof (Tally__MessageResult *));
    draft->events = tly_arena_alloc (arena, count * sizeof (Tally__Event *));
    for (size_t i = 0; i < count; i++) {
        Tally__Event *event = NULL;
        assert (tly_ledger_execute (ledger, &client->user, messages [i], 1000, arena,
                                    &draft->results [draft->n_results++], &event) >= 0);
        if (event)
            draft->events [draft->n_events++] = event;
    }
    assert (tly_ledger_advance (ledger, draft->partition, epoch, &draft->partition_seq) == 0);
    return draft;
}

//  Packs and unpacks a draft, as it travels through the journal.
static Tally__RecordDraft *
s_round_trip (const Tally__RecordDraft *draft, tly_arena_t *arena)
{
    size_t size = tally__record_draft__get_packed_size (draft);
    uint8_t *data = tly_arena_alloc (arena, size);
    tally__record_draft__pack (draft, data);
    Tally__RecordDraft *copy = tally__record_draft__unpack (tly_arena_allocator (arena), size, data);
    assert (copy);
    return copy;
}

static void
s_test_execute (const char *path, const tly_ledger_limits_t *limits, tly_arena_t *arena)
{
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, limits);
    assert (ledger);
    //  One process per state.
    assert (tly_ledger_new (path, 1 << 24, limits) == NULL);

    s_client_t alice, bob;
    s_client_init (&alice, limits->partition_count);
    s_client_init (&bob, limits->partition_count);

    //  createAccount: validated, then created once, never reset.
    Tally__Event *event = NULL;
    Tally__MessageResult *result = s_run (ledger, &alice, s_create (arena, &alice, 101), arena, &event);
    assert (s_error_code (result) == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE && !event);
    result = s_run (ledger, &alice, s_create (arena, &alice, -1), arena, &event);
    assert (s_error_code (result) == TALLY__ERROR_CODE__INVALID_INITIAL_BALANCE && !event);
    result = s_run (ledger, &alice, s_create (arena, &alice, 50), arena, &event);
    assert (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE);
    assert (result->balance->balance == 50 && result->balance->last_updated == 1000);
    assert (strcmp (result->balance->user_id, alice.user.id) == 0);
    assert (event && event->kind_case == TALLY__EVENT__KIND_ACCOUNT_CREATED);
    assert (event->account_created->initial_balance == 50);
    //  The balance ID is deterministic: kind 1, the partition, BLAKE2b("balance" || key).
    uint8_t hash [TLY_HASH_BYTES];
    uint8_t input [7 + TLY_KEY_BYTES];
    memcpy (input, "balance", 7);
    memcpy (input + 7, alice.account.sign_pk, TLY_KEY_BYTES);
    crypto_generichash (hash, sizeof hash, input, sizeof input, NULL, 0);
    char expected_id [TLY_ID_MAX];
    tly_object_id (TLY_OBJ_BALANCE, alice.user.partition, hash, expected_id);
    assert (strcmp (result->balance->id, expected_id) == 0);
    result = s_run (ledger, &alice, s_create (arena, &alice, 100), arena, &event);
    assert (result->balance->balance == 50 && !event);
    assert (strcmp (result->balance->id, expected_id) == 0);

    //  buy: validated, then debited, never below zero.
    assert (s_error_code (s_run (ledger, &alice, s_buy (arena, &alice, "sword", 0), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (s_error_code (s_run (ledger, &alice, s_buy (arena, &alice, "sword", -5), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (s_error_code (s_run (ledger, &alice, s_buy (arena, &alice, "sword", INT64_MIN), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (s_error_code (s_run (ledger, &alice, s_buy (arena, &alice, "sword", limits->amount_max + 1),
                                 arena, NULL)) == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (s_error_code (s_run (ledger, &alice, s_buy (arena, &alice, "", 5), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_ITEM);
    assert (s_balance (ledger, &alice) == 50);

    Tally__InboxMessage *sword = s_buy (arena, &alice, "sword", 20);
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE);
    assert (result->purchase->balance_after == 30 && result->purchase->amount == 20);
    assert (strcmp (result->purchase->item_id, "sword") == 0);
    assert (event && event->kind_case == TALLY__EVENT__KIND_PURCHASE_RECORDED);
    char purchase_id [TLY_ID_MAX];
    strcpy (purchase_id, result->purchase->id);
    Tally__PurchaseRecord *stored = tly_ledger_purchase (ledger, purchase_id, arena);
    assert (stored && stored->balance_after == 30 && strcmp (stored->user_id, alice.user.id) == 0);

    result = s_run (ledger, &alice, s_buy (arena, &alice, "shield", 31), arena, &event);
    assert (s_error_code (result) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && !event);
    assert (strcmp (result->error->message, "Insufficient balance") == 0);
    result = s_run (ledger, &bob, s_buy (arena, &bob, "sword", 1), arena, &event);
    assert (s_error_code (result) == TALLY__ERROR_CODE__NO_ACCOUNT && !event);
    assert (strcmp (result->error->message, "No account found") == 0);

    //  Dedupe: the same message ID returns the first result and does nothing.
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->purchase->balance_after == 30 && !event);
    assert (strcmp (result->purchase->id, purchase_id) == 0);
    assert (s_balance (ledger, &alice) == 30);
    //  Errors are remembered too: topping up cannot turn an old error into a debit.
    Tally__InboxMessage *too_much = s_buy (arena, &alice, "crown", 40);
    assert (s_error_code (s_run (ledger, &alice, too_much, arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (s_error_code (s_run (ledger, &alice, too_much, arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  The same message ID from another sender is another message.
    Tally__InboxMessage *bob_create = s_create (arena, &bob, 10);
    memcpy (bob_create->message_id.data, sword->message_id.data, TLY_MESSAGE_ID_BYTES);
    assert (s_run (ledger, &bob, bob_create, arena, NULL)->balance->balance == 10);

    //  Malformed messages.
    Tally__InboxMessage *no_body = s_message (arena, &alice);
    assert (s_error_code (s_run (ledger, &alice, no_body, arena, NULL)) == TALLY__ERROR_CODE__BAD_REQUEST);
    Tally__InboxMessage *short_id = s_buy (arena, &alice, "sword", 1);
    short_id->message_id.len = 3;
    assert (s_error_code (s_run (ledger, &alice, short_id, arena, NULL)) == TALLY__ERROR_CODE__BAD_REQUEST);
    assert (s_balance (ledger, &alice) == 30);

    //  Within one transaction later messages see earlier effects; abort forgets them.
    assert (tly_ledger_begin (ledger) == 0);
    assert (tly_ledger_in_txn (ledger));
    Tally__MessageResult *first = NULL, *second = NULL;
    Tally__InboxMessage *spend = s_buy (arena, &alice, "bow", 30);
    assert (tly_ledger_execute (ledger, &alice.user, spend, 2000, arena, &first, &event) == 0);
    assert (first->purchase->balance_after == 0);
    assert (tly_ledger_execute (ledger, &alice.user, s_buy (arena, &alice, "arrow", 1), 2000, arena,
                                &second, &event) == 0);
    assert (s_error_code (second) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (tly_ledger_execute (ledger, &alice.user, spend, 2000, arena, &second, &event) == 1);
    assert (second->purchase->balance_after == 0 && !event);
    uint64_t seq, epoch;
    assert (tly_ledger_advance (ledger, alice.user.partition, 7, &seq) == 0 && seq == 1);
    assert (tly_ledger_advance (ledger, alice.user.partition, 7, &seq) == 0 && seq == 2);
    tly_ledger_abort (ledger);
    assert (!tly_ledger_in_txn (ledger));
    assert (s_balance (ledger, &alice) == 30);
    assert (tly_ledger_progress (ledger, alice.user.partition, &seq, &epoch) == 0);
    assert (seq == 0 && epoch == 0);

    //  Persistence across reopen: state and dedupe survive.
    tly_ledger_destroy (&ledger);
    assert (ledger == NULL);
    ledger = tly_ledger_new (path, 1 << 24, limits);
    assert (ledger);
    assert (s_balance (ledger, &alice) == 30);
    result = s_run (ledger, &alice, sword, arena, &event);
    assert (result->purchase->balance_after == 30 && !event);
    assert (tly_ledger_purchase (ledger, purchase_id, arena));
    assert (tly_ledger_purchase (ledger, expected_id, arena) == NULL);
    tly_ledger_destroy (&ledger);
}

static void
s_test_overflow (const char *path, tly_arena_t *arena)
{
    //  With the widest limits, money stays in range at both ends.
    tly_ledger_limits_t limits = { .partition_count = 1, .initial_max = INT64_MAX,
                                   .amount_max = INT64_MAX };
    tly_ledger_t *ledger = tly_ledger_new (path, 1 << 24, &limits);
    assert (ledger);
    s_client_t rich;
    s_client_init (&rich, 1);
    assert (s_run (ledger, &rich, s_create (arena, &rich, INT64_MAX), arena, NULL)->balance->balance
            == INT64_MAX);
    assert (s_run (ledger, &rich, s_buy (arena, &rich, "world", INT64_MAX), arena, NULL)
            ->purchase->balance_after == 0);
    assert (s_error_code (s_run (ledger, &rich, s_buy (arena, &rich, "world", INT64_MAX), arena, NULL))
            == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    assert (s_error_code (s_run (ledger, &rich, s_buy (arena, &rich, "world", INT64_MIN), arena, NULL))
            == TALLY__ERROR_CODE__INVALID_AMOUNT);
    assert (s_balance (ledger, &rich) == 0);
    tly_ledger_destroy (&ledger);
}

static void
s_test_apply (const char *live_path, const char *replay_path, const tly_ledger_limits_t *limits,
              tly_arena_t *arena)
{
    tly_ledger_t *live = tly_ledger_new (live_path, 1 << 24, limits);
    tly_ledger_t *replay = tly_ledger_new (replay_path, 1 << 24, limits);
    assert (live && replay);
    s_client_t carol;
    s_client_init (&carol, limits->partition_count);

    //  Two envelopes executed live, as the journal would hand them back.
    Tally__InboxMessage *one [] = { s_create (arena, &carol, 100), s_buy (arena, &carol, "gem", 30) };
    Tally__InboxMessage *two [] = { s_buy (arena, &carol, "gem", 30), one [1],
                                    s_buy (arena, &carol, "ring", 500) };
    assert (tly_ledger_begin (live) == 0);
    Tally__RecordDraft *first = s_round_trip (s_draft (live, &carol, one, 2, 3, arena), arena);
    Tally__RecordDraft *second = s_round_trip (s_draft (live, &carol, two, 3, 3, arena), arena);
    assert (tly_ledger_commit (live) == 0);
    assert (first->partition_seq == 1 && second->partition_seq == 2);
    assert (first->n_events == 2 && second->n_events == 1);

    //  Out of order is refused; in order rebuilds the live state exactly.
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, second, arena) == -1);
    tly_ledger_abort (replay);
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, first, arena) == 1);
    assert (tly_ledger_apply (replay, second, arena) == 1);
    //  Idempotent: a record already applied changes nothing.
    assert (tly_ledger_apply (replay, first, arena) == 0);
    assert (tly_ledger_apply (replay, second, arena) == 0);
    assert (tly_ledger_commit (replay) == 0);

    tly_account_state_t live_state, replay_state;
    assert (tly_ledger_account (live, carol.user.pk, &live_state) == 0);
    assert (tly_ledger_account (replay, carol.user.pk, &replay_state) == 0);
    assert (strcmp (live_state.balance_id, replay_state.balance_id) == 0);
    assert (live_state.balance == replay_state.balance);
    assert (live_state.last_updated == replay_state.last_updated);
    assert (live_state.created == replay_state.created);
    assert (replay_state.balance == 40);
    uint64_t seq, epoch;
    assert (tly_ledger_progress (replay, carol.user.partition, &seq, &epoch) == 0);
    assert (seq == 2 && epoch == 3);
    assert (tly_ledger_purchase (replay, second->results [0]->purchase->id, arena));

    //  The replayed dedupe answers a resend exactly like the live one.
    assert (tly_ledger_begin (replay) == 0);
    Tally__MessageResult *result = NULL;
    Tally__Event *event = NULL;
    assert (tly_ledger_execute (replay, &carol.user, two [2], 5000, arena, &result, &event) == 1);
    assert (s_error_code (result) == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE && !event);
    assert (tly_ledger_execute (replay, &carol.user, one [1], 5000, arena, &result, &event) == 1);
    assert (result->purchase->balance_after == 70 && !event);
    tly_ledger_abort (replay);

    //  A record that does not follow the state is refused.
    Tally__RecordDraft *forged = s_round_trip (second, arena);
    forged->partition_seq = 3;
    forged->events [0]->purchase_recorded->balance_after = 35;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) == -1);
    tly_ledger_abort (replay);
    forged = s_round_trip (first, arena);
    forged->partition_seq = 3;
    assert (tly_ledger_begin (replay) == 0);
    assert (tly_ledger_apply (replay, forged, arena) == -1);
    tly_ledger_abort (replay);
    assert (tly_ledger_account (replay, carol.user.pk, &replay_state) == 0);
    assert (replay_state.balance == 40);

    tly_ledger_destroy (&live);
    tly_ledger_destroy (&replay);
}

void
tly_ledger_test (bool verbose)
{
    if (verbose)
        printf (" * tly_ledger: ");
    assert (sodium_init () >= 0);
    char root [] = "/tmp/tly_ledger_test_XXXXXX";
    assert (mkdtemp (root));
    char path [4][sizeof root + 16];
    for (int i = 0; i < 4; i++)
        snprintf (path [i], sizeof path [i], "%s/state-%d", root, i);

    tly_arena_t *arena = tly_arena_new (4096);
    tly_ledger_limits_t limits = { .partition_count = 16, .initial_max = 100, .amount_max = 1000 };
    s_test_execute (path [0], &limits, arena);
    s_test_overflow (path [1], arena);
    tly_arena_reset (arena);
    s_test_apply (path [2], path [3], &limits, arena);
    tly_arena_destroy (&arena);

    char command [sizeof root + 16];
    snprintf (command, sizeof command, "rm -rf %s", root);
    assert (system (command) == 0);
    if (verbose)
        printf ("OK\n");
}
