//  derive_fixture - test helpers for verify's derivation.
#include "derive_fixture.h"

#include <stdio.h>
#include <string.h>
#include "audit_scratch.h"
#include "harness.h"
#include "tly_account.h"
#include "tly_config.h"
#include "tly_message_id.h"

void
derive_fixture_new (derive_fixture_t *fixture, const char *name, const tly_ledger_limits_t *limits)
{
    memset (fixture, 0, sizeof *fixture);
    if (limits) {
        CHECK (audit_scratch_new (name, fixture->dir, sizeof fixture->dir) == 0);
        fixture->ledger = tly_ledger_new (fixture->dir, 1 << 24, limits);
        CHECK (fixture->ledger);
    }
    fixture->arena = tly_arena_new (1 << 16);
    CHECK (fixture->arena);
}

void
derive_fixture_destroy (derive_fixture_t *fixture)
{
    if (fixture->ledger) {
        tly_ledger_destroy (&fixture->ledger);
        audit_scratch_remove (fixture->dir);
    }
    tly_arena_destroy (&fixture->arena);
}

//  ---------------------------------------------------------------- messages

Tally__InboxMessage *
derive_fixture_message (derive_fixture_t *fixture, int64_t made_ms)
{
    Tally__InboxMessage *message = tly_arena_alloc (fixture->arena, sizeof *message);
    tally__inbox_message__init (message);
    uint8_t *id = tly_arena_alloc (fixture->arena, TLY_MESSAGE_ID_BYTES);
    memset (id, 0, TLY_MESSAGE_ID_BYTES);
    fixture->next_id++;
    memcpy (id + TLY_MESSAGE_ID_BYTES - sizeof fixture->next_id, &fixture->next_id,
            sizeof fixture->next_id);
    tly_message_id_stamp (id, made_ms);
    message->message_id = (ProtobufCBinaryData) { TLY_MESSAGE_ID_BYTES, id };
    return message;
}

Tally__InboxMessage *
derive_fixture_create (derive_fixture_t *fixture, int64_t made_ms, int64_t initial)
{
    Tally__InboxMessage *message = derive_fixture_message (fixture, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT;
    message->create_account = tly_arena_alloc (fixture->arena, sizeof *message->create_account);
    tally__create_account__init (message->create_account);
    message->create_account->initial_balance = initial;
    return message;
}

Tally__InboxMessage *
derive_fixture_buy (derive_fixture_t *fixture, int64_t made_ms, const char *item, int64_t amount)
{
    Tally__InboxMessage *message = derive_fixture_message (fixture, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_BUY;
    message->buy = tly_arena_alloc (fixture->arena, sizeof *message->buy);
    tally__buy__init (message->buy);
    message->buy->item_id = (char *) item;
    message->buy->amount = amount;
    return message;
}

Tally__InboxMessage *
derive_fixture_set_price (derive_fixture_t *fixture, int64_t made_ms, const char *item,
                          int64_t price, bool active)
{
    Tally__InboxMessage *message = derive_fixture_message (fixture, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_SET_PRICE;
    message->set_price = tly_arena_alloc (fixture->arena, sizeof *message->set_price);
    tally__catalog_item__init (message->set_price);
    message->set_price->item_id = (char *) item;
    message->set_price->price = price;
    message->set_price->active = active;
    return message;
}

Tally__InboxMessage *
derive_fixture_add_admin (derive_fixture_t *fixture, int64_t made_ms, const uint8_t *account)
{
    Tally__InboxMessage *message = derive_fixture_message (fixture, made_ms);
    message->body_case = TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN;
    message->add_admin = tly_arena_alloc (fixture->arena, sizeof *message->add_admin);
    tally__admin_change__init (message->add_admin);
    message->add_admin->account = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) account };
    return message;
}

//  ---------------------------------------------------------------- drafts

Tally__RecordDraft *
derive_fixture_decide (derive_fixture_t *fixture, const tly_ledger_user_t *user, int64_t now_ms,
                       Tally__InboxMessage **messages, size_t count)
{
    CHECK (fixture->ledger);
    CHECK (fixture->count < DERIVE_FIXTURE_RECORDS);
    Tally__Envelope *envelope = tly_arena_alloc (fixture->arena, sizeof *envelope);
    tally__envelope__init (envelope);
    envelope->sender = (ProtobufCBinaryData) { TLY_KEY_BYTES, (uint8_t *) user->pk };
    envelope->n_messages = count;
    envelope->messages = tly_arena_alloc (fixture->arena, count * sizeof *messages);
    memcpy (envelope->messages, messages, count * sizeof *messages);
    Tally__RecordDraft *draft = tly_arena_alloc (fixture->arena, sizeof *draft);
    tally__record_draft__init (draft);
    draft->partition = user->route;
    draft->partition_seq = ++fixture->partition_seqs [user->route];
    draft->epoch = 1;
    draft->timestamp_ms = now_ms;
    const tly_ledger_limits_t *limits = tly_ledger_limits (fixture->ledger);
    draft->open_prices = limits->open_prices;
    draft->config_version = tly_config_version (tly_ledger_config (fixture->ledger));
    draft->results = tly_arena_alloc (fixture->arena, count * sizeof *draft->results);
    draft->events = tly_arena_alloc (fixture->arena, count * sizeof *draft->events);
    draft->n_results = count;
    if (limits->rate_per_minute > 0) {
        draft->rate_limit = tly_arena_alloc (fixture->arena, sizeof *draft->rate_limit);
        tally__rate_limit__init (draft->rate_limit);
        draft->rate_limit->per_minute = limits->rate_per_minute;
        draft->rate_limit->burst = limits->rate_burst;
    }
    CHECK (tly_ledger_begin (fixture->ledger) == 0);
    CHECK (tly_ledger_envelope (fixture->ledger, user->route) == 0);
    for (size_t i = 0; i < count; i++) {
        Tally__Event *event;
        uint64_t version;
        CHECK (tly_ledger_execute (fixture->ledger, user, messages [i], now_ms, fixture->arena,
                                   &draft->results [i], &event, &version)
               != TLY_LEDGER_ERROR);
        if (event)
            draft->events [draft->n_events++] = event;
    }
    draft->config = tly_ledger_config_draft (fixture->ledger, draft->config_version,
                                             fixture->arena);
    uint64_t partition_seq;
    CHECK (tly_ledger_advance (fixture->ledger, draft->partition, 1, &partition_seq) == 0);
    CHECK (partition_seq == draft->partition_seq);
    CHECK (tly_ledger_commit (fixture->ledger) == 0);
    fixture->envelopes [fixture->count] = envelope;
    fixture->drafts [fixture->count++] = draft;
    return draft;
}

//  ---------------------------------------------------------------- checks

int
derive_fixture_derive (const derive_fixture_t *fixture, audit_derive_t *derive, size_t first,
                       size_t last, char *reason)
{
    for (size_t i = first; i < last; i++)
        if (audit_derive_record (derive, fixture->drafts [i], fixture->envelopes [i], reason,
                                 AUDIT_DERIVE_REASON_MAX)
            == -1) {
            fprintf (stderr, "record %zu does not follow: %s\n", i, reason);
            CHECK (false);
        }
    return audit_derive_record (derive, fixture->drafts [last], fixture->envelopes [last], reason,
                                AUDIT_DERIVE_REASON_MAX);
}

void
derive_fixture_named (int rc, const char *reason, const char *text)
{
    if (rc != -1 || !strstr (reason, text)) {
        fprintf (stderr, "expected a failure with '%s', got %d '%s'\n", text, rc, reason);
        CHECK (false);
    }
}
