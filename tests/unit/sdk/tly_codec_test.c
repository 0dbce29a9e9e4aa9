//  tly_codec_test - libtally's messages, sealing of envelopes and decoding of
//  replies into results.
#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tally.h"
#include "tly_codec.h"
#include "tly_sign.h"
#include "tly_wire.h"

static void
s_test_messages (void)
{
    tly_msg_t first, second;
    assert (tly_msg_create_account (&first, 100) == 0);
    assert (first.kind == TLY_MSG_CREATE_ACCOUNT && first.initial_balance == 100);
    assert (tly_msg_buy (&second, "item-123", 25) == 0);
    assert (second.kind == TLY_MSG_BUY && second.amount == 25
            && streq (second.item_id, "item-123"));
    assert (memcmp (first.id, second.id, TLY_MESSAGE_ID_BYTES) != 0);

    char item [TLY_MSG_ITEM_CAP + 2];
    memset (item, 'x', sizeof item);
    item [TLY_MSG_ITEM_CAP] = 0;
    assert (tly_msg_buy (&second, item, 1) == 0);
    item [TLY_MSG_ITEM_CAP] = 'x';
    item [TLY_MSG_ITEM_CAP + 1] = 0;
    assert (tly_msg_buy (&second, item, 1) == -1);
}

static void
s_test_seal (void)
{
    tly_account_t user, worker;
    assert (tly_account_generate (&user) == 0);
    assert (tly_account_generate (&worker) == 0);
    tly_msg_t msgs [2];
    tly_msg_create_account (&msgs [0], 100);
    tly_msg_buy (&msgs [1], "item-123", 25);

    uint8_t *bytes;
    size_t size;
    assert (tly_codec_seal (&user, worker.sign_pk, msgs, 2, 1234567, &bytes, &size) == 0);
    Tally__SignedEnvelope *sealed = tally__signed_envelope__unpack (NULL, size, bytes);
    assert (sealed);
    assert (sealed->signature.len == TLY_SIGNATURE_BYTES);
    assert (tly_verify_envelope (user.sign_pk, sealed->envelope.data, sealed->envelope.len,
                                 sealed->signature.data, sealed->signature.len));
    assert (!tly_verify_envelope (worker.sign_pk, sealed->envelope.data, sealed->envelope.len,
                                  sealed->signature.data, sealed->signature.len));
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, sealed->envelope.len,
                                                         sealed->envelope.data);
    assert (envelope);
    assert (envelope->sender.len == TLY_KEY_BYTES
            && memcmp (envelope->sender.data, user.sign_pk, 32) == 0);
    assert (envelope->inbox.len == TLY_KEY_BYTES
            && memcmp (envelope->inbox.data, worker.sign_pk, 32) == 0);
    assert (envelope->timestamp_ms == 1234567);
    assert (envelope->n_messages == 2);
    assert (memcmp (envelope->messages [0]->message_id.data, msgs [0].id, 16) == 0);
    assert (envelope->messages [0]->body_case == TALLY__INBOX_MESSAGE__BODY_CREATE_ACCOUNT);
    assert (envelope->messages [0]->create_account->initial_balance == 100);
    assert (envelope->messages [1]->body_case == TALLY__INBOX_MESSAGE__BODY_BUY);
    assert (streq (envelope->messages [1]->buy->item_id, "item-123"));
    assert (envelope->messages [1]->buy->amount == 25);
    tally__envelope__free_unpacked (envelope, NULL);

    //  One flipped bit anywhere in the envelope breaks the signature.
    sealed->envelope.data [sealed->envelope.len / 2] ^= 0x01;
    assert (!tly_verify_envelope (user.sign_pk, sealed->envelope.data, sealed->envelope.len,
                                  sealed->signature.data, sealed->signature.len));
    tally__signed_envelope__free_unpacked (sealed, NULL);

    //  The ClientRequest wrapping carries the bytes verbatim.
    uint64_t ids [] = { 1, 127, 128, UINT64_MAX };
    for (size_t i = 0; i < sizeof ids / sizeof ids [0]; i++) {
        size_t request_size;
        uint8_t *request = tly_codec_wrap_send (ids [i], bytes, size, &request_size);
        Tally__ClientRequest *decoded = tally__client_request__unpack (NULL, request_size, request);
        assert (decoded);
        assert (decoded->request_id == ids [i]);
        assert (decoded->body_case == TALLY__CLIENT_REQUEST__BODY_SEND);
        uint8_t *repacked = malloc (size);
        assert (tally__signed_envelope__pack (decoded->send, repacked) == size);
        assert (memcmp (repacked, bytes, size) == 0);
        free (repacked);
        tally__client_request__free_unpacked (decoded, NULL);
        free (request);
    }
    free (bytes);

    //  Zero messages seal too (the gateway answers BAD_REQUEST), as do unknown kinds not.
    assert (tly_codec_seal (&user, worker.sign_pk, NULL, 0, 1, &bytes, &size) == 0);
    free (bytes);
    msgs [0].kind = 0;
    assert (tly_codec_seal (&user, worker.sign_pk, msgs, 2, 1, &bytes, &size) == -1);
}

static void
s_test_results (void)
{
    uint8_t ids [3][16];
    randombytes_buf (ids, sizeof ids);
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = "co_zBal";
    balance.user_id = "co_zUser";
    balance.balance = 100;
    balance.last_updated = 42;
    Tally__PurchaseRecord purchase = TALLY__PURCHASE_RECORD__INIT;
    purchase.id = "co_zP";
    purchase.user_id = "co_zUser";
    purchase.item_id = "item-123";
    purchase.amount = 25;
    purchase.timestamp = 43;
    purchase.balance_after = 75;
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
    Tally__MessageResult results [3] = { TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT,
                                         TALLY__MESSAGE_RESULT__INIT };
    Tally__MessageResult *list [3] = { &results [0], &results [1], &results [2] };
    for (size_t i = 0; i < 3; i++) {
        results [i].message_id.data = ids [i];
        results [i].message_id.len = 16;
    }
    results [0].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    results [0].balance = &balance;
    results [1].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    results [1].purchase = &purchase;
    results [2].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    results [2].error = &error;
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = 9;
    reply.n_results = 3;
    reply.results = list;

    tly_result_t decoded [3];
    size_t count = 0;
    tly_error_t failure;
    assert (tly_codec_results (&reply, decoded, 3, &count, &failure) == 0);
    assert (count == 3);
    assert (decoded [0].ok && decoded [0].kind == TLY_RESULT_BALANCE);
    assert (streq (decoded [0].id, "co_zBal") && streq (decoded [0].user_id, "co_zUser"));
    assert (decoded [0].balance == 100 && decoded [0].last_updated == 42);
    assert (memcmp (decoded [0].message_id, ids [0], 16) == 0);
    assert (decoded [1].ok && decoded [1].kind == TLY_RESULT_PURCHASE);
    assert (streq (decoded [1].item_id, "item-123"));
    assert (decoded [1].amount == 25 && decoded [1].timestamp == 43
            && decoded [1].balance_after == 75);
    assert (!decoded [2].ok && decoded [2].kind == TLY_RESULT_ERROR);
    assert (decoded [2].code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  No text from the server: the default message for the code.
    assert (streq (decoded [2].message, "Insufficient balance"));

    //  More results than room, a result without outcome, a short message ID.
    assert (tly_codec_results (&reply, decoded, 2, &count, &failure) == -1);
    assert (failure.code == TALLY__ERROR_CODE__INTERNAL && !failure.remote);
    results [2].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME__NOT_SET;
    assert (tly_codec_results (&reply, decoded, 3, &count, &failure) == -1);
    results [2].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    results [1].message_id.len = 15;
    assert (tly_codec_results (&reply, decoded, 3, &count, &failure) == -1);
}

void
tly_codec_test (bool verbose)
{
    if (verbose)
        printf (" * tly_codec: ");
    assert (sodium_init () >= 0);
    s_test_messages ();
    s_test_seal ();
    s_test_results ();
    if (verbose)
        printf ("OK\n");
}
