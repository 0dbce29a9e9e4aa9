//  test_client - test helpers: a client's messages and the journal
//  drafts the actor would make of them. For the self-tests only.
#ifndef TEST_CLIENT_H_INCLUDED
#define TEST_CLIENT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "tly_arena.h"
#include "tly_account.h"
#include "tly_ledger.h"

typedef struct {
    tly_account_t account;
    tly_ledger_user_t user;
    uint32_t next_id;
} test_client_t;

//  A fresh account (in any partition when partition is UINT32_MAX).
void test_client_init (test_client_t *client, uint32_t partition_count, uint32_t partition);
//  A message of client with a fresh ID made at made_ms; test_message's is
//  made at 0, inside the dedupe window of the small clocks the tests use.
Tally__InboxMessage *test_message_at (tly_arena_t *arena, test_client_t *client, int64_t made_ms);
Tally__InboxMessage *test_message (tly_arena_t *arena, test_client_t *client);
Tally__InboxMessage *test_create (tly_arena_t *arena, test_client_t *client, int64_t initial);
Tally__InboxMessage *test_buy (tly_arena_t *arena, test_client_t *client, const char *item,
                               int64_t amount);
//  The order messages (docs/protocol.md "Orders"): lines ids [i] at
//  amounts [i]; test_order_ref a submitOrder, completeOrder or failOrder
//  (with error) by its body.
Tally__InboxMessage *test_create_order (tly_arena_t *arena, test_client_t *sender,
                                        const char *const *ids, const int64_t *amounts,
                                        size_t count);
Tally__InboxMessage *test_edit_order (tly_arena_t *arena, test_client_t *sender,
                                      const char *order_id, const char *const *ids,
                                      const int64_t *amounts, size_t count);
Tally__InboxMessage *test_order_ref (tly_arena_t *arena, test_client_t *sender,
                                     Tally__InboxMessage__BodyCase body, const char *order_id,
                                     const char *error);
//  A setPrice of an active item; a debit by worker of user's amount.
Tally__InboxMessage *test_set_price (tly_arena_t *arena, test_client_t *sender, const char *item,
                                     int64_t price);
Tally__InboxMessage *test_debit (tly_arena_t *arena, test_client_t *worker, test_client_t *user,
                                 int64_t amount, const char *reference);
//  Client's envelope of messages to inbox at now_ms, signed by client.
Tally__SignedEnvelope *test_signed_envelope (tly_arena_t *arena, test_client_t *client,
                                             const uint8_t *inbox, Tally__InboxMessage **messages,
                                             size_t count, int64_t now_ms);
//  Executes messages as one envelope of client in the open transaction, at
//  now_ms, and returns the journal draft the actor would append; versions
//  (when not NULL) gets the version of each event.
Tally__RecordDraft *test_draft (tly_ledger_t *ledger, test_client_t *client,
                                Tally__InboxMessage **messages, size_t count, uint64_t epoch,
                                int64_t now_ms, tly_arena_t *arena, uint64_t *versions);
//  A run of single-message envelopes, each in its own transaction, whose
//  drafts are kept (for replay and the audit checks); now advances by 1.
#define TEST_RUN_DRAFTS_MAX 2048
typedef struct {
    tly_ledger_t *ledger;
    tly_arena_t *arena;
    Tally__RecordDraft *drafts [TEST_RUN_DRAFTS_MAX];
    size_t n;
    int64_t now;
} test_run_t;
//  Sender's message as an envelope of its own in run; returns its draft.
Tally__RecordDraft *test_run_message (test_run_t *run, test_client_t *sender,
                                      Tally__InboxMessage *message);
//  Executes message at now_ms in its own transaction; returns what it did
//  (never an error), the result in *result_p.
tly_ledger_result_t test_run_at (tly_ledger_t *ledger, test_client_t *client,
                                 Tally__InboxMessage *message, int64_t now_ms, tly_arena_t *arena,
                                 Tally__MessageResult **result_p);
//  The client's balance, which must have an account.
int64_t test_balance (tly_ledger_t *ledger, test_client_t *client);
//  The result's error code, OK for a balance or a purchase.
Tally__ErrorCode test_error_code (const Tally__MessageResult *result);
//  The error code of a draft's first result, OK for a balance or a purchase.
Tally__ErrorCode test_draft_code (const Tally__RecordDraft *draft);
//  Packs and unpacks a draft, as it travels through the journal.
Tally__RecordDraft *test_round_trip (const Tally__RecordDraft *draft, tly_arena_t *arena);

#endif
