//  tly_audit_check_test - the writer's check of a draft's events against its
//  envelope: what an actor writes passes (creations, purchases, refusals and
//  resends without events, a second createAccount answered without one);
//  events the envelope does not give are refused, each with its reason.
#include "tly_audit_check.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "tly_limits.h"

#define S_NOW      1767225600000LL
#define S_MESSAGES 4

//  A draft of an envelope from one user: createAccount(100), buy sword 30,
//  buy shield 500 (refused: INSUFFICIENT_BALANCE), createAccount(7) (the
//  account exists: its balance answered, no event); the events and results
//  an actor gives.
typedef struct {
    uint8_t user [TLY_KEY_BYTES];
    uint8_t ids [S_MESSAGES][TLY_MESSAGE_ID_BYTES];
    Tally__CreateAccount creates [2];
    Tally__Buy buys [2];
    Tally__InboxMessage messages [S_MESSAGES];
    Tally__InboxMessage *message_list [S_MESSAGES];
    uint8_t envelope_bytes [1024];
    Tally__SignedEnvelope request;
    Tally__AccountCreated created;
    Tally__PurchaseRecorded recorded;
    Tally__Event events [2];
    Tally__Event *event_list [2];
    Tally__UserBalance balances [2];
    Tally__PurchaseRecord purchase;
    Tally__Error error;
    Tally__MessageResult results [S_MESSAGES];
    Tally__MessageResult *result_list [S_MESSAGES];
    Tally__RecordDraft draft;
} s_fixture_t;

static void
s_pack_envelope (s_fixture_t *f, size_t messages)
{
    Tally__Envelope envelope = TALLY__ENVELOPE__INIT;
    envelope.sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, f->user };
    envelope.inbox = (ProtobufCBinaryData) { TLY_KEY_BYTES, f->user };
    envelope.timestamp_ms = S_NOW - 3;
    envelope.n_messages = messages;
    envelope.messages = f->message_list;
    size_t size = tally__envelope__get_packed_size (&envelope);
    assert (size <= sizeof f->envelope_bytes);
    tally__envelope__pack (&envelope, f->envelope_bytes);
    f->request.envelope = (ProtobufCBinaryData) { size, f->envelope_bytes };
}

static Tally__RecordDraft *
s_fixture (s_fixture_t *f)
{
    memset (f, 0, sizeof *f);
    memset (f->user, 0x21, sizeof f->user);
    for (size_t i = 0; i < S_MESSAGES; i++) {
        memset (f->ids [i], (int) i + 1, TLY_MESSAGE_ID_BYTES);
        tally__inbox_message__init (&f->messages [i]);
        f->messages [i].message_id = (ProtobufCBinaryData) { TLY_MESSAGE_ID_BYTES, f->ids [i] };
        f->message_list [i] = &f->messages [i];
        tally__message_result__init (&f->results [i]);
        f->results [i].message_id = f->messages [i].message_id;
        f->result_list [i] = &f->results [i];
    }
    for (size_t i = 0; i < 2; i++) {
        tally__create_account__init (&f->creates [i]);
        tally__buy__init (&f->buys [i]);
        tally__user_balance__init (&f->balances [i]);
    }
    f->creates [0].initial_balance = 100;
    f->creates [1].initial_balance = 7;
    f->buys [0].item_id = "sword";
    f->buys [0].amount = 30;
    f->buys [1].item_id = "shield";
    f->buys [1].amount = 500;
    f->messages [0].body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    f->messages [0].create_account = &f->creates [0];
    f->messages [1].body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    f->messages [1].buy = &f->buys [0];
    f->messages [2].body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    f->messages [2].buy = &f->buys [1];
    f->messages [3].body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    f->messages [3].create_account = &f->creates [1];
    tally__signed_envelope__init (&f->request);
    s_pack_envelope (f, S_MESSAGES);

    tally__account_created__init (&f->created);
    f->created.user = (ProtobufCBinaryData) { TLY_KEY_BYTES, f->user };
    f->created.balance_id = "co_zBalance";
    f->created.initial_balance = 100;
    f->created.timestamp = S_NOW;
    tally__purchase_recorded__init (&f->recorded);
    f->recorded.user = f->created.user;
    f->recorded.purchase_id = "co_zPurchase";
    f->recorded.item_id = "sword";
    f->recorded.amount = 30;
    f->recorded.timestamp = S_NOW;
    f->recorded.balance_after = 70;
    for (size_t i = 0; i < 2; i++) {
        tally__event__init (&f->events [i]);
        f->event_list [i] = &f->events [i];
    }
    f->events [0].kind_case = TALLY__EVENT__KIND_ACCOUNT_CREATED;
    f->events [0].account_created = &f->created;
    f->events [1].kind_case = TALLY__EVENT__KIND_PURCHASE_RECORDED;
    f->events [1].purchase_recorded = &f->recorded;

    f->balances [0].balance = 100;
    f->balances [1].balance = 70;
    f->results [0].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    f->results [0].balance = &f->balances [0];
    tally__purchase_record__init (&f->purchase);
    f->purchase.item_id = "sword";
    f->purchase.amount = 30;
    f->purchase.timestamp = S_NOW;
    f->purchase.balance_after = 70;
    f->results [1].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    f->results [1].purchase = &f->purchase;
    tally__error__init (&f->error);
    f->error.code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
    f->results [2].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    f->results [2].error = &f->error;
    f->results [3].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    f->results [3].balance = &f->balances [1];

    tally__record_draft__init (&f->draft);
    f->draft.partition = 3;
    f->draft.partition_seq = 1;
    f->draft.epoch = 1;
    f->draft.timestamp_ms = S_NOW;
    f->draft.request = &f->request;
    f->draft.n_events = 2;
    f->draft.events = f->event_list;
    f->draft.n_results = S_MESSAGES;
    f->draft.results = f->result_list;
    return &f->draft;
}

//  The draft is refused, with a reason that holds text.
static void
s_refused (const Tally__RecordDraft *draft, tly_arena_t *arena, const char *text)
{
    const char *reason = tly_audit_check_draft (draft, arena);
    if (!reason || !strstr (reason, text)) {
        fprintf (stderr, "expected a refusal with '%s', got '%s'\n", text,
                 reason ? reason : "(passed)");
        CHECK (false);
    }
}

void
tly_audit_check_test (bool verbose)
{
    if (verbose)
        printf (" * tly_audit_check: ");
    tly_arena_t *arena = tly_arena_new (1 << 16);
    CHECK (arena);
    s_fixture_t f;

    //  What an actor writes passes.
    Tally__RecordDraft *draft = s_fixture (&f);
    CHECK (tly_audit_check_draft (draft, arena) == NULL);
    //  Without events nothing is checked: a record of refusals or resends.
    draft->n_events = 0;
    f.request.envelope = (ProtobufCBinaryData) { 3, (uint8_t *) "\xff\xff\xff" };
    CHECK (tly_audit_check_draft (draft, arena) == NULL);
    //  A purchase alone, its createAccount answered without an event.
    draft = s_fixture (&f);
    draft->n_events = 1;
    draft->events = &f.event_list [1];
    CHECK (tly_audit_check_draft (draft, arena) == NULL);

    //  The attack: AccountCreated (and its answer) with a balance the
    //  createAccount did not sign.
    draft = s_fixture (&f);
    f.created.initial_balance = 1000000000;
    f.balances [0].balance = 1000000000;
    s_refused (draft, arena, "event 1: AccountCreated follows from no createAccount");
    //  The event and the answer disagree.
    draft = s_fixture (&f);
    f.balances [0].balance = 101;
    s_refused (draft, arena, "event 1: AccountCreated follows from no createAccount");
    //  A purchase of another amount, another item, or leaving a debt.
    draft = s_fixture (&f);
    f.recorded.amount = 3;
    f.purchase.amount = 3;
    s_refused (draft, arena, "event 2: PurchaseRecorded follows from no buy");
    draft = s_fixture (&f);
    f.recorded.item_id = "shield";
    f.purchase.item_id = "shield";
    s_refused (draft, arena, "event 2: PurchaseRecorded follows from no buy");
    draft = s_fixture (&f);
    f.recorded.balance_after = -1;
    s_refused (draft, arena, "event 2: PurchaseRecorded leaves a negative balance");
    //  The answer says another balance after than the event.
    draft = s_fixture (&f);
    f.purchase.balance_after = 71;
    s_refused (draft, arena, "event 2: PurchaseRecorded follows from no buy");
    //  Events in another order than their messages.
    draft = s_fixture (&f);
    f.event_list [0] = &f.events [1];
    f.event_list [1] = &f.events [0];
    s_refused (draft, arena, "event 2: AccountCreated follows from no createAccount");
    //  A second AccountCreated (the account was created by the first).
    draft = s_fixture (&f);
    f.events [1] = f.events [0];
    s_refused (draft, arena, "event 2: a second AccountCreated for one user");
    //  Another user's event, another time, an unknown kind.
    draft = s_fixture (&f);
    uint8_t other [TLY_KEY_BYTES];
    memset (other, 0x22, sizeof other);
    f.recorded.user = (ProtobufCBinaryData) { TLY_KEY_BYTES, other };
    s_refused (draft, arena, "event 2: not for the envelope's sender");
    draft = s_fixture (&f);
    f.created.timestamp = S_NOW - 1;
    s_refused (draft, arena, "event 1: not stamped with the draft's time");
    draft = s_fixture (&f);
    f.events [1].kind_case = TALLY__EVENT__KIND__NOT_SET;
    s_refused (draft, arena, "event 2: of no known kind");
    //  Events for an envelope that does not decode, or for no request.
    draft = s_fixture (&f);
    f.request.envelope = (ProtobufCBinaryData) { 3, (uint8_t *) "\xff\xff\xff" };
    s_refused (draft, arena, "events for an envelope that does not decode");
    draft = s_fixture (&f);
    draft->request = NULL;
    s_refused (draft, arena, "events without a request");
    //  More events than the envelope's messages give.
    draft = s_fixture (&f);
    s_pack_envelope (&f, 1);
    s_refused (draft, arena, "event 2: PurchaseRecorded follows from no buy");

    //  A configuration: partition 0's only, by the rules of a Config.
    uint8_t worker [TLY_KEY_BYTES], admin [TLY_KEY_BYTES];
    memset (worker, 0x57, sizeof worker);
    memset (admin, 0x41, sizeof admin);
    Tally__CatalogItem item = TALLY__CATALOG_ITEM__INIT;
    item.item_id = "sword";
    item.price = 10;
    item.active = true;
    Tally__CatalogItem *items [] = { &item, &item };
    ProtobufCBinaryData admins [] = { { TLY_KEY_BYTES, admin } };
    Tally__Config config = TALLY__CONFIG__INIT;
    config.version = 1;
    config.n_items = 1;
    config.items = items;
    config.n_admins = 1;
    config.admins = admins;
    draft = s_fixture (&f);
    CHECK (tly_audit_check_config (draft, worker, arena) == NULL);  //  none
    draft->config = &config;
    draft->partition = 0;
    CHECK (tly_audit_check_config (draft, worker, arena) == NULL);
    draft->partition = 3;
    CHECK (strcmp (tly_audit_check_config (draft, worker, arena),
                   "a configuration outside partition 0")
           == 0);
    draft->partition = 0;
    config.n_items = 2;  //  the same item twice
    CHECK (strstr (tly_audit_check_config (draft, worker, arena), "out of order or repeated"));
    config.n_items = 1;
    admins [0].data = worker;  //  the worker listed as an admin
    CHECK (strstr (tly_audit_check_config (draft, worker, arena), "is the worker"));

    tly_arena_destroy (&arena);
    if (verbose)
        printf ("OK\n");
}
