//  it_client - what a cluster test's clients do through the SDK: one
//  user, one message at a time, checked as it goes (CHECK on failure).
#ifndef IT_CLIENT_H_INCLUDED
#define IT_CLIENT_H_INCLUDED

#include <stdint.h>
#include "tally.h"

#define IT_SEND_TIMEOUT_MS 10000

typedef struct {
    tly_account_t account;
    char id [TLY_ID_MAX];
} it_user_t;

//  A fresh account.
void it_user_new (it_user_t *user);
//  A sender for user through gateway.
tly_sender_t *it_sender (const char *gateway, const char *worker_id, const it_user_t *user);
//  One message, expecting a reply (ok or a per-message error).
tly_result_t it_send (tly_sender_t *sender, const tly_msg_t *msg);
tly_result_t it_create (tly_sender_t *sender, int64_t initial);
tly_result_t it_buy (tly_sender_t *sender, const char *item, int64_t amount);
//  The current balance, read the way the seed allows without subscriptions:
//  a second createAccount returns the existing balance unchanged.
int64_t it_balance (tly_sender_t *sender);
//  Checks that result is the error code, with the message words unless NULL.
void it_expect_error (tly_result_t result, Tally__ErrorCode code, const char *words);

#endif
