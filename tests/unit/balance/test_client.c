//  test_client - test helpers: a client's messages and journal drafts.
#include "test_client.h"

#include <assert.h>
#include <string.h>

#include "tly_message_id.h"
#include "tly_partition.h"
#include "tly_sign.h"

void
test_client_init (test_client_t *client, uint32_t partition_count, uint32_t partition)
{
    do {
        memset (client, 0, sizeof *client);
        int rc = tly_account_generate (&client->account);
        assert (rc == 0);
        tly_ledger_user_init (&client->user, client->account.sign_pk, partition_count);
    } while (partition != UINT32_MAX && client->user.partition != partition);
    assert (client->user.partition == tly_partition_of (client->account.sign_pk, partition_count));
    char id [TLY_ID_MAX];
    tly_account_id (client->account.sign_pk, id);
    assert (strcmp (id, client->user.id) == 0);
}

Tally__InboxMessage *
test_message_at (tly_arena_t *arena, test_client_t *client, int64_t made_ms)
{
    Tally__InboxMessage *message = tly_arena_alloc (arena, sizeof *message);
    tally__inbox_message__init (message);
    message->message_id.len = TLY_MESSAGE_ID_BYTES;
    message->message_id.data = tly_arena_alloc (arena, TLY_MESSAGE_ID_BYTES);
    memset (message->message_id.data, 0, TLY_MESSAGE_ID_BYTES);
    uint32_t id = ++client->next_id;
    for (int i = 0; i < 4; i++)
        message->message_id.data [TLY_MESSAGE_ID_BYTES - 4 + i] = (uint8_t) (id >> (24 - 8 * i));
    tly_message_id_stamp (message->message_id.data, made_ms);
    return message;
}

Tally__InboxMessage *
test_message (tly_arena_t *arena, test_client_t *client)
{
    return test_message_at (arena, client, 0);
}

Tally__InboxMessage *
test_create (tly_arena_t *arena, test_client_t *client, int64_t initial)
{
    Tally__InboxMessage *message = test_message (arena, client);
    Tally__CreateAccount *create = tly_arena_alloc (arena, sizeof *create);
    tally__create_account__init (create);
    create->initial_balance = initial;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    message->create_account = create;
    return message;
}

Tally__InboxMessage *
test_buy (tly_arena_t *arena, test_client_t *client, const char *item, int64_t amount)
{
    Tally__InboxMessage *message = test_message (arena, client);
    Tally__Buy *buy = tly_arena_alloc (arena, sizeof *buy);
    tally__buy__init (buy);
    buy->item_id = (char *) item;
    buy->amount = amount;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    message->buy = buy;
    return message;
}

static Tally__OrderItem **
s_order_items (tly_arena_t *arena, const char *const *ids, const int64_t *amounts, size_t count)
{
    Tally__OrderItem **items = tly_arena_alloc (arena, count * sizeof (Tally__OrderItem *));
    for (size_t i = 0; i < count; i++) {
        items [i] = tly_arena_alloc (arena, sizeof (Tally__OrderItem));
        tally__order_item__init (items [i]);
        items [i]->item_id = (char *) ids [i];
        items [i]->amount = amounts [i];
    }
    return items;
}

Tally__InboxMessage *
test_create_order (tly_arena_t *arena, test_client_t *sender, const char *const *ids,
                   const int64_t *amounts, size_t count)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__CreateOrder *create = tly_arena_alloc (arena, sizeof *create);
    tally__create_order__init (create);
    create->items = s_order_items (arena, ids, amounts, count);
    create->n_items = count;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ORDER;
    message->create_order = create;
    return message;
}

Tally__InboxMessage *
test_edit_order (tly_arena_t *arena, test_client_t *sender, const char *order_id,
                 const char *const *ids, const int64_t *amounts, size_t count)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__EditOrder *edit = tly_arena_alloc (arena, sizeof *edit);
    tally__edit_order__init (edit);
    edit->order_id = (char *) order_id;
    edit->items = s_order_items (arena, ids, amounts, count);
    edit->n_items = count;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_EDIT_ORDER;
    message->edit_order = edit;
    return message;
}

Tally__InboxMessage *
test_order_ref (tly_arena_t *arena, test_client_t *sender, Tally__InboxMessage__BodyCase body,
                const char *order_id, const char *error)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    message->body_case = body;
    if (body == TALLY__INBOX_MESSAGE__BODY_FAIL_ORDER) {
        Tally__FailOrder *fail = tly_arena_alloc (arena, sizeof *fail);
        tally__fail_order__init (fail);
        fail->order_id = (char *) order_id;
        fail->error = (char *) error;
        message->fail_order = fail;
        return message;
    }
    Tally__OrderRef *ref = tly_arena_alloc (arena, sizeof *ref);
    tally__order_ref__init (ref);
    ref->order_id = (char *) order_id;
    if (body == TALLY__INBOX_MESSAGE__BODY_SUBMIT_ORDER)
        message->submit_order = ref;
    else
        message->complete_order = ref;
    return message;
}

Tally__InboxMessage *
test_set_price (tly_arena_t *arena, test_client_t *sender, const char *item, int64_t price)
{
    Tally__InboxMessage *message = test_message (arena, sender);
    Tally__CatalogItem *set = tly_arena_alloc (arena, sizeof *set);
    tally__catalog_item__init (set);
    set->item_id = (char *) item;
    set->price = price;
    set->active = true;
    message->body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
    message->set_price = set;
    return message;
}

Tally__InboxMessage *
test_debit (tly_arena_t *arena, test_client_t *worker, test_client_t *user, int64_t amount,
            const char *reference)
{
    Tally__InboxMessage *message = test_message (arena, worker);
    Tally__Adjustment *adjustment = tly_arena_alloc (arena, sizeof *adjustment);
    tally__adjustment__init (adjustment);
    adjustment->user = (ProtobufCBinaryData) { TLY_KEY_BYTES, user->user.pk };
    adjustment->amount = amount;
    adjustment->reference = (char *) reference;
    adjustment->note = "";
    message->body_case = TALLY__INBOX_MESSAGE__BODY_DEBIT;
    message->debit = adjustment;
    return message;
}

Tally__SignedEnvelope *
test_signed_envelope (tly_arena_t *arena, test_client_t *client, const uint8_t *inbox,
                      Tally__InboxMessage **messages, size_t count, int64_t now_ms)
{
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender.len = TLY_KEY_BYTES;
    envelope.sender.data = client->account.sign_pk;
    envelope.inbox.len = TLY_KEY_BYTES;
    envelope.inbox.data = (uint8_t *) inbox;
    envelope.timestamp_ms = now_ms;
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
    return request;
}

Tally__RecordDraft *
test_draft (tly_ledger_t *ledger, test_client_t *client, Tally__InboxMessage **messages,
            size_t count, uint64_t epoch, int64_t now_ms, tly_arena_t *arena, uint64_t *versions)
{
    Tally__SignedEnvelope *request = test_signed_envelope (arena, client, client->account.sign_pk,
                                                           messages, count, now_ms);
    Tally__RecordDraft *draft = tly_arena_alloc (arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = client->user.route;
    draft->epoch = epoch;
    draft->timestamp_ms = now_ms;
    draft->request = request;
    draft->results = tly_arena_alloc (arena, count * sizeof (Tally__MessageResult *));
    draft->events = tly_arena_alloc (arena, count * sizeof (Tally__Event *));
    draft->config_version = tly_config_version (tly_ledger_config (ledger));
    int started = tly_ledger_envelope (ledger, client->user.route);
    assert (started == 0);
    for (size_t i = 0; i < count; i++) {
        Tally__Event *event = NULL;
        uint64_t version = 0;
        tly_ledger_result_t done = tly_ledger_execute (ledger, &client->user, messages [i], now_ms,
                                                       arena, &draft->results [draft->n_results++],
                                                       &event, &version);
        assert (done != TLY_LEDGER_ERROR);
        assert ((event != NULL) == (version > 0));
        if (event && versions)
            versions [draft->n_events] = version;
        if (event)
            draft->events [draft->n_events++] = event;
    }
    draft->config = tly_ledger_config_draft (ledger, draft->config_version, arena);
    const tly_ledger_limits_t *limits = tly_ledger_limits (ledger);
    draft->open_prices = limits->open_prices;
    if (limits->rate_per_minute > 0) {
        draft->rate_limit = tly_arena_alloc (arena, sizeof *draft->rate_limit);
        tally__rate_limit__init (draft->rate_limit);
        draft->rate_limit->per_minute = limits->rate_per_minute;
        draft->rate_limit->burst = limits->rate_burst;
    }
    int rc = tly_ledger_advance (ledger, draft->partition, epoch, &draft->partition_seq);
    assert (rc == 0);
    return draft;
}

Tally__RecordDraft *
test_round_trip (const Tally__RecordDraft *draft, tly_arena_t *arena)
{
    size_t size = tally__record_draft__get_packed_size (draft);
    uint8_t *data = tly_arena_alloc (arena, size);
    tally__record_draft__pack (draft, data);
    Tally__RecordDraft *copy = tally__record_draft__unpack (tly_arena_allocator (arena), size,
                                                            data);
    assert (copy);
    return copy;
}

tly_ledger_result_t
test_run_at (tly_ledger_t *ledger, test_client_t *client, Tally__InboxMessage *message,
             int64_t now_ms, tly_arena_t *arena, Tally__MessageResult **result_p)
{
    Tally__Event *event = NULL;
    uint64_t version = 0;
    assert (tly_ledger_begin (ledger) == 0);
    tly_ledger_result_t done = tly_ledger_execute (ledger, &client->user, message, now_ms, arena,
                                                   result_p, &event, &version);
    assert (done != TLY_LEDGER_ERROR);
    assert (tly_ledger_commit (ledger) == 0);
    return done;
}

int64_t
test_balance (tly_ledger_t *ledger, test_client_t *client)
{
    tly_account_state_t state;
    assert (tly_ledger_account (ledger, client->user.pk, &state) == TLY_STORE_FOUND);
    return state.balance;
}

Tally__ErrorCode
test_error_code (const Tally__MessageResult *result)
{
    return result->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_ERROR ? result->error->code
                                                                        : TALLY__ERROR_CODE__OK;
}

Tally__RecordDraft *
test_run_message (test_run_t *run, test_client_t *sender, Tally__InboxMessage *message)
{
    assert (tly_ledger_begin (run->ledger) == 0);
    Tally__RecordDraft *draft = test_draft (run->ledger, sender, &message, 1, 1, run->now++,
                                            run->arena, NULL);
    assert (tly_ledger_commit (run->ledger) == 0);
    assert (run->n < TEST_RUN_DRAFTS_MAX);
    run->drafts [run->n++] = draft;
    return draft;
}

Tally__ErrorCode
test_draft_code (const Tally__RecordDraft *draft)
{
    return test_error_code (draft->results [0]);
}
