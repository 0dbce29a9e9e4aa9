//  it_client - what a cluster test's clients do through the SDK.
#include "it_client.h"

#include <czmq.h>
#include <stdio.h>

#include "harness.h"
#include "it_cluster.h"

void
it_user_new (it_user_t *user)
{
    CHECK (tly_account_generate (&user->account) == 0);
    tly_account_id (user->account.sign_pk, user->id);
}

tly_sender_t *
it_sender (const char *gateway, const char *worker_id, const it_user_t *user)
{
    tly_sender_t *sender = tly_sender_new_curve (gateway, it_gateway_key, worker_id,
                                                 &user->account);
    CHECK (sender);
    return sender;
}

tly_result_t
it_send (tly_sender_t *sender, const tly_msg_t *msg)
{
    tly_result_t result;
    int rc = tly_sender_send_one (sender, msg, IT_SEND_TIMEOUT_MS, &result);
    if (rc != 0)
        fprintf (stderr, "send failed: %s (%s)\n", tly_sender_error (sender)->message,
                 tly_error_name (tly_sender_error (sender)->code));
    CHECK (rc == 0);
    return result;
}

tly_result_t
it_create (tly_sender_t *sender, int64_t initial)
{
    tly_msg_t msg;
    CHECK (tly_msg_create_account (&msg, initial) == 0);
    return it_send (sender, &msg);
}

tly_result_t
it_buy (tly_sender_t *sender, const char *item, int64_t amount)
{
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, item, amount) == 0);
    return it_send (sender, &msg);
}

int64_t
it_balance (tly_sender_t *sender)
{
    tly_result_t result = it_create (sender, 0);
    CHECK (result.ok && result.kind == TLY_RESULT_BALANCE);
    return result.balance;
}

void
it_expect_error (tly_result_t result, Tally__ErrorCode code, const char *words)
{
    if (result.ok || result.code != code)
        fprintf (stderr, "expected %s, got ok=%d %s: %s\n", tly_error_name (code), result.ok,
                 tly_error_name (result.code), result.message);
    CHECK (!result.ok && result.code == code);
    if (words)
        CHECK (streq (result.message, words));
}
