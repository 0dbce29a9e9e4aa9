//  tly_codec_test - libtally's messages, sealing of envelopes and decoding of
//  replies into results.
#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tally.h"
#include "tly_codec.h"
#include "tly_config.h"
#include "tly_message_id.h"
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

//  Credits and debits: the user by account ID, reference and note copied;
//  what does not fit the server's limits refused here, saying which.
static void
s_test_adjustments (void)
{
    tly_account_t user;
    assert (tly_account_generate (&user) == 0);
    char user_id [TLY_ID_MAX];
    tly_account_id (user.sign_pk, user_id);
    tly_msg_t credit, debit;
    tly_error_t error;
    assert (tly_msg_credit (&credit, user_id, 500, "pay-1", "Welcome bonus", &error) == 0);
    assert (credit.kind == TLY_MSG_CREDIT && credit.amount == 500);
    assert (memcmp (credit.user, user.sign_pk, TLY_KEY_BYTES) == 0);
    assert (streq (credit.reference, "pay-1") && streq (credit.note, "Welcome bonus"));
    assert (tly_msg_debit (&debit, user_id, 20, "refund-7", NULL, NULL) == 0);
    assert (debit.kind == TLY_MSG_DEBIT && debit.amount == 20 && streq (debit.note, ""));
    assert (streq (debit.reference, "refund-7"));
    assert (memcmp (credit.id, debit.id, TLY_MESSAGE_ID_BYTES) != 0);
    //  Amounts and empty references are the cluster's to judge.
    assert (tly_msg_debit (&debit, user_id, -1, "", "", &error) == 0 && debit.amount == -1);

    //  Not an account ID: nothing written to msg.
    tly_msg_t before = credit;
    char object_id [TLY_ID_MAX];
    tly_balance_id (user.sign_pk, TLY_PARTITIONS_DEFAULT, object_id);
    const char *bad [] = {
        "", "nope", "co_z", object_id, "co_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", NULL
    };
    for (size_t i = 0; bad [i]; i++) {
        memset (&error, 0, sizeof error);
        assert (tly_msg_credit (&credit, bad [i], 1, "r", "", &error) == -1);
        assert (error.code == TALLY__ERROR_CODE__BAD_REQUEST && !error.remote);
        assert (strstr (error.message, "is not an account ID (co_z...)"));
        assert (memcmp (&credit, &before, sizeof credit) == 0);
    }
    assert (tly_msg_debit (&credit, "nope", 1, "r", "", NULL) == -1);
    assert (tly_msg_debit (&credit, "nope", 1, "r", "", &error) == -1);
    assert (streq (error.message, "user 'nope' is not an account ID (co_z...)"));

    //  Reference and note: at the server's limit, and one byte past it.
    char reference [TLY_REFERENCE_MAX + 2], note [TLY_NOTE_MAX + 2];
    memset (reference, 'r', TLY_REFERENCE_MAX);
    reference [TLY_REFERENCE_MAX] = 0;
    memset (note, 'n', TLY_NOTE_MAX);
    note [TLY_NOTE_MAX] = 0;
    assert (tly_msg_credit (&credit, user_id, 1, reference, note, &error) == 0);
    assert (strlen (credit.reference) == TLY_REFERENCE_MAX && strlen (credit.note) == TLY_NOTE_MAX);
    before = credit;
    reference [TLY_REFERENCE_MAX] = 'r';
    reference [TLY_REFERENCE_MAX + 1] = 0;
    assert (tly_msg_credit (&credit, user_id, 1, reference, "", &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INVALID_REFERENCE && !error.remote);
    assert (streq (error.message, "reference of 129 bytes exceeds 128 bytes"));
    reference [TLY_REFERENCE_MAX] = 0;
    note [TLY_NOTE_MAX] = 'n';
    note [TLY_NOTE_MAX + 1] = 0;
    assert (tly_msg_debit (&credit, user_id, 1, reference, note, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INVALID_NOTE && !error.remote);
    assert (streq (error.message, "note of 257 bytes exceeds 256 bytes"));
    assert (memcmp (&credit, &before, sizeof credit) == 0);
}

//  Configuration messages: the admin by account ID, the item and price
//  copied; an account that is not one and an item past the SDK's cap
//  refused here, saying which; a buy of amount 0 (the catalog price) goes
//  as it is.
static void
s_test_config_messages (void)
{
    tly_account_t admin;
    assert (tly_account_generate (&admin) == 0);
    char admin_id [TLY_ID_MAX];
    tly_account_id (admin.sign_pk, admin_id);
    tly_msg_t add, remove, price, buy;
    tly_error_t error;
    assert (tly_msg_add_admin (&add, admin_id, &error) == 0);
    assert (add.kind == TLY_MSG_ADD_ADMIN && memcmp (add.user, admin.sign_pk, TLY_KEY_BYTES) == 0);
    assert (tly_msg_remove_admin (&remove, admin_id, NULL) == 0);
    assert (remove.kind == TLY_MSG_REMOVE_ADMIN
            && memcmp (remove.user, admin.sign_pk, TLY_KEY_BYTES) == 0);
    assert (memcmp (add.id, remove.id, TLY_MESSAGE_ID_BYTES) != 0);
    assert (tly_msg_set_price (&price, "item-123", 25, true, &error) == 0);
    assert (price.kind == TLY_MSG_SET_PRICE && streq (price.item_id, "item-123")
            && price.price == 25 && price.active);
    assert (tly_msg_set_price (&price, "item-9", 0, false, NULL) == 0);
    assert (price.price == 0 && !price.active);
    assert (tly_msg_buy (&buy, "item-123", 0) == 0);
    assert (buy.kind == TLY_MSG_BUY && buy.amount == 0);

    tly_msg_t before = add;
    const char *bad [] = { "", "nope", "co_z", "co_zzzzz" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        error.code = TALLY__ERROR_CODE__OK;
        assert (tly_msg_add_admin (&add, bad [i], &error) == -1);
        assert (error.code == TALLY__ERROR_CODE__BAD_REQUEST && !error.remote);
        assert (strstr (error.message, "is not an account ID"));
        assert (tly_msg_remove_admin (&add, bad [i], NULL) == -1);
        assert (memcmp (&add, &before, sizeof add) == 0);
    }
    char item [TLY_MSG_ITEM_CAP + 2];
    memset (item, 'x', sizeof item);
    item [TLY_MSG_ITEM_CAP] = 0;
    assert (tly_msg_set_price (&price, item, 1, true, &error) == 0);
    before = price;
    item [TLY_MSG_ITEM_CAP] = 'x';
    item [TLY_MSG_ITEM_CAP + 1] = 0;
    assert (tly_msg_set_price (&price, item, 1, true, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INVALID_ITEM && !error.remote);
    assert (streq (error.message, "item ID of 257 bytes exceeds 256 bytes"));
    assert (memcmp (&price, &before, sizeof price) == 0);
}

//  n msgs sealed by account for its own inbox at timestamp: the envelope
//  as the server reads it, its signature checked (free it with
//  tally__envelope__free_unpacked).
static Tally__Envelope *
s_sealed (const tly_account_t *account, const tly_msg_t *msgs, size_t n, int64_t timestamp)
{
    uint8_t *bytes;
    size_t size;
    assert (tly_codec_seal (account, account->sign_pk, msgs, n, timestamp, &bytes, &size) == 0);
    Tally__SignedEnvelope *sealed = tally__signed_envelope__unpack (NULL, size, bytes);
    assert (sealed);
    assert (tly_verify_envelope (account->sign_pk, sealed->envelope.data, sealed->envelope.len,
                                 sealed->signature.data, sealed->signature.len));
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, sealed->envelope.len,
                                                         sealed->envelope.data);
    assert (envelope && envelope->n_messages == n);
    tally__signed_envelope__free_unpacked (sealed, NULL);
    free (bytes);
    return envelope;
}

//  A configuration envelope as the worker seals it: each body as lib's
//  tly_config_decide reads it, and decided as the actor would decide it.
static void
s_test_seal_config (void)
{
    tly_account_t worker, admin;
    assert (tly_account_generate (&worker) == 0 && tly_account_generate (&admin) == 0);
    char admin_id [TLY_ID_MAX];
    tly_account_id (admin.sign_pk, admin_id);
    tly_msg_t msgs [4];
    assert (tly_msg_add_admin (&msgs [0], admin_id, NULL) == 0);
    assert (tly_msg_set_price (&msgs [1], "caf\xc3\xa9", 25, true, NULL) == 0);
    assert (tly_msg_set_price (&msgs [2], "item-9", TLY_BALANCE_MAX, false, NULL) == 0);
    assert (tly_msg_remove_admin (&msgs [3], admin_id, NULL) == 0);
    Tally__Envelope *envelope = s_sealed (&worker, msgs, 4, 9);
    Tally__InboxMessage **in = envelope->messages;
    assert (in [0]->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN);
    assert (in [0]->add_admin->account.len == TLY_KEY_BYTES
            && memcmp (in [0]->add_admin->account.data, admin.sign_pk, TLY_KEY_BYTES) == 0);
    assert (in [1]->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE);
    assert (streq (in [1]->set_price->item_id, "caf\xc3\xa9") && in [1]->set_price->price == 25
            && in [1]->set_price->active);
    assert (in [2]->set_price->price == TLY_BALANCE_MAX && !in [2]->set_price->active);
    assert (in [3]->body_case == TALLY__INBOX_MESSAGE__BODY_REMOVE_ADMIN);
    assert (memcmp (in [3]->remove_admin->account.data, admin.sign_pk, TLY_KEY_BYTES) == 0);
    tly_config_t *config = tly_config_new ();
    for (size_t i = 0; i < 4; i++) {
        assert (memcmp (in [i]->message_id.data, msgs [i].id, TLY_MESSAGE_ID_BYTES) == 0);
        assert (tly_config_message (in [i]));
        bool changed;
        const char *text;
        assert (tly_config_decide (config, worker.sign_pk, worker.sign_pk, in [i], &changed, &text)
                == TALLY__ERROR_CODE__OK);
        assert (changed);
        tly_config_set_version (config, i + 1);  //  one record each, as the actor counts
    }
    assert (tly_config_item_count (config) == 2 && tly_config_admin_count (config) == 0);
    assert (tly_config_item (config, "item-9")->price == TLY_BALANCE_MAX);
    tly_config_destroy (&config);
    tally__envelope__free_unpacked (envelope, NULL);
}

//  Refunds: a purchase's object ID (in its canonical text), the reason as
//  the note; what is no purchase's ID, and a reason past the server's
//  limit, refused here saying which, msg untouched. Sealed, the body is
//  what the server's own check (tly_validate_refund) takes.
static void
s_test_refund (void)
{
    tly_account_t user, worker;
    assert (tly_account_generate (&user) == 0 && tly_account_generate (&worker) == 0);
    uint8_t message_id [TLY_MESSAGE_ID_BYTES], key [TLY_OBJECT_KEY_BYTES];
    tly_message_id_new (message_id, 1767225600000);
    uint32_t partition = tly_partition_of (user.sign_pk, TLY_PARTITIONS_DEFAULT);
    tly_purchase_key (partition, user.sign_pk, message_id, key);
    char purchase_id [TLY_ID_MAX];
    tly_object_id_of_key (key, purchase_id);

    tly_msg_t refund, other;
    tly_error_t error;
    assert (tly_msg_refund (&refund, purchase_id, "Not delivered", &error) == 0);
    assert (refund.kind == TLY_MSG_REFUND && streq (refund.purchase_id, purchase_id));
    assert (streq (refund.note, "Not delivered") && refund.amount == 0);
    assert (tly_msg_refund (&other, purchase_id, NULL, NULL) == 0);
    assert (streq (other.note, "") && memcmp (refund.id, other.id, TLY_MESSAGE_ID_BYTES) != 0);
    assert (tly_msg_refund (&other, purchase_id, "", &error) == 0 && streq (other.note, ""));

    //  Not a purchase's ID: an account, another object's, malformed.
    tly_msg_t before = refund;
    char user_id [TLY_ID_MAX], balance_id [TLY_ID_MAX], adjustment_id [TLY_ID_MAX];
    tly_account_id (user.sign_pk, user_id);
    tly_balance_id (user.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    tly_adjustment_key (partition, user.sign_pk, "pay-1", key);
    tly_object_id_of_key (key, adjustment_id);
    char truncated [TLY_ID_MAX];
    snprintf (truncated, sizeof truncated, "%.*s", (int) strlen (purchase_id) - 1, purchase_id);
    const char *bad [] = { "", "nope", "co_z", user_id, balance_id, adjustment_id, truncated };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        memset (&error, 0, sizeof error);
        assert (tly_msg_refund (&refund, bad [i], "r", &error) == -1);
        assert (error.code == TALLY__ERROR_CODE__BAD_REQUEST && !error.remote);
        assert (strstr (error.message, "is not a purchase's ID (co_z...)"));
        assert (memcmp (&refund, &before, sizeof refund) == 0);
    }
    assert (tly_msg_refund (&refund, "nope", NULL, NULL) == -1);
    assert (tly_msg_refund (&refund, "nope", NULL, &error) == -1);
    assert (streq (error.message, "purchase 'nope' is not a purchase's ID (co_z...)"));

    //  The reason: at the server's limit, and one byte past it.
    char reason [TLY_NOTE_MAX + 2];
    memset (reason, 'n', TLY_NOTE_MAX);
    reason [TLY_NOTE_MAX] = 0;
    assert (tly_msg_refund (&refund, purchase_id, reason, &error) == 0);
    assert (strlen (refund.note) == TLY_NOTE_MAX);
    before = refund;
    reason [TLY_NOTE_MAX] = 'n';
    reason [TLY_NOTE_MAX + 1] = 0;
    assert (tly_msg_refund (&refund, purchase_id, reason, &error) == -1);
    assert (error.code == TALLY__ERROR_CODE__INVALID_NOTE && !error.remote);
    assert (streq (error.message, "reason of 257 bytes exceeds 256 bytes"));
    assert (memcmp (&refund, &before, sizeof refund) == 0);

    //  Sealed by the worker with a credit: each body as the server reads it.
    tly_msg_t msgs [2];
    assert (tly_msg_refund (&msgs [0], purchase_id, "caf\xc3\xa9 froid", NULL) == 0);
    assert (tly_msg_credit (&msgs [1], user_id, 5, "pay-1", NULL, NULL) == 0);
    Tally__Envelope *envelope = s_sealed (&worker, msgs, 2, 11);
    const Tally__InboxMessage *first = envelope->messages [0];
    assert (memcmp (first->message_id.data, msgs [0].id, TLY_MESSAGE_ID_BYTES) == 0);
    assert (first->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND);
    assert (streq (first->refund->purchase_id, purchase_id));
    assert (streq (first->refund->reason, "caf\xc3\xa9 froid"));
    const char *why = NULL;
    assert (tly_validate_refund (first->refund, &why) == TALLY__ERROR_CODE__OK);
    assert (envelope->messages [1]->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT);
    tally__envelope__free_unpacked (envelope, NULL);
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

    //  A credit and a debit, as the worker would seal them: the user's key,
    //  amount, reference and note, each in its own body.
    char user_id [TLY_ID_MAX];
    tly_account_id (user.sign_pk, user_id);
    tly_msg_t adjustments [2];
    assert (tly_msg_credit (&adjustments [0], user_id, 500, "pay-1", "Welcome", NULL) == 0);
    assert (tly_msg_debit (&adjustments [1], user_id, 20, "caf\xc3\xa9", NULL, NULL) == 0);
    uint8_t *adjusted;
    size_t adjusted_size;
    assert (tly_codec_seal (&worker, worker.sign_pk, adjustments, 2, 7, &adjusted, &adjusted_size)
            == 0);
    Tally__SignedEnvelope *signed_adjustments = tally__signed_envelope__unpack (NULL, adjusted_size,
                                                                                adjusted);
    assert (signed_adjustments);
    assert (tly_verify_envelope (
        worker.sign_pk, signed_adjustments->envelope.data, signed_adjustments->envelope.len,
        signed_adjustments->signature.data, signed_adjustments->signature.len));
    envelope = tally__envelope__unpack (NULL, signed_adjustments->envelope.len,
                                        signed_adjustments->envelope.data);
    assert (envelope && envelope->n_messages == 2);
    assert (memcmp (envelope->sender.data, worker.sign_pk, TLY_KEY_BYTES) == 0);
    const Tally__InboxMessage *first = envelope->messages [0], *second = envelope->messages [1];
    assert (memcmp (first->message_id.data, adjustments [0].id, 16) == 0);
    assert (first->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT);
    assert (first->credit->user.len == TLY_KEY_BYTES
            && memcmp (first->credit->user.data, user.sign_pk, TLY_KEY_BYTES) == 0);
    assert (first->credit->amount == 500 && streq (first->credit->reference, "pay-1")
            && streq (first->credit->note, "Welcome"));
    assert (second->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT);
    assert (second->debit->amount == 20 && streq (second->debit->reference, "caf\xc3\xa9")
            && streq (second->debit->note, ""));
    //  What the server checks first: the message passes it as sealed.
    const char *why = NULL;
    assert (tly_validate_adjustment (first->credit, &why) == TALLY__ERROR_CODE__OK);
    assert (tly_validate_adjustment (second->debit, &why) == TALLY__ERROR_CODE__OK);
    tally__envelope__free_unpacked (envelope, NULL);
    tally__signed_envelope__free_unpacked (signed_adjustments, NULL);
    free (adjusted);

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
    uint8_t ids [4][16];
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
    purchase.partition_seq = 9;
    purchase.refund_id = "co_zRefund";
    purchase.refunded_at = 45;
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
    Tally__AdjustmentRecord adjustment = TALLY__ADJUSTMENT_RECORD__INIT;
    adjustment.id = "co_zA";
    adjustment.user_id = "co_zUser";
    adjustment.amount = -20;
    adjustment.reference = "refund-7";
    adjustment.note = "Refund \"7\"";
    adjustment.timestamp = 44;
    adjustment.balance_after = 55;
    adjustment.by = "co_zWorker";
    Tally__CatalogItem item = TALLY__CATALOG_ITEM__INIT;
    item.item_id = "item-123";
    item.price = 25;
    item.active = true;
    Tally__ConfigChange admin_change = TALLY__CONFIG_CHANGE__INIT;
    admin_change.version = 3;
    admin_change.admin_id = "co_zAdmin";
    Tally__ConfigChange price_change = TALLY__CONFIG_CHANGE__INIT;
    price_change.version = UINT64_MAX;
    price_change.item = &item;
    Tally__MessageResult results [6] = { TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT,
                                         TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT,
                                         TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT };
    Tally__MessageResult *list [6] = { &results [0], &results [1], &results [2],
                                       &results [3], &results [4], &results [5] };
    uint8_t config_ids [2][16];
    randombytes_buf (config_ids, sizeof config_ids);
    results [4].message_id.data = config_ids [0];
    results [4].message_id.len = 16;
    results [5].message_id.data = config_ids [1];
    results [5].message_id.len = 16;
    results [4].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
    results [4].config = &admin_change;
    results [5].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
    results [5].config = &price_change;
    for (size_t i = 0; i < 4; i++) {
        results [i].message_id.data = ids [i];
        results [i].message_id.len = 16;
    }
    results [0].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    results [0].balance = &balance;
    results [1].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_PURCHASE;
    results [1].purchase = &purchase;
    results [2].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
    results [2].error = &error;
    results [3].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    results [3].adjustment = &adjustment;
    Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
    reply.request_id = 9;
    reply.n_results = 6;
    reply.results = list;

    tly_result_t decoded [6];
    size_t count = 0;
    tly_error_t failure;
    assert (tly_codec_results (&reply, decoded, 6, &count, &failure) == 0);
    assert (count == 6);
    //  Configuration changes: the admin's, the item's.
    assert (decoded [4].ok && decoded [4].kind == TLY_RESULT_CONFIG);
    assert (decoded [4].config_version == 3 && streq (decoded [4].admin_id, "co_zAdmin"));
    assert (!decoded [4].has_item && *decoded [4].item_id == 0);
    assert (decoded [5].ok && decoded [5].kind == TLY_RESULT_CONFIG);
    assert (decoded [5].config_version == UINT64_MAX && *decoded [5].admin_id == 0);
    assert (decoded [5].has_item && streq (decoded [5].item_id, "item-123"));
    assert (decoded [5].price == 25 && decoded [5].active);
    //  A configuration change's field that does not fit: malformed.
    char long_item [TLY_MSG_ITEM_CAP + 2];
    memset (long_item, 'i', sizeof long_item - 1);
    long_item [sizeof long_item - 1] = 0;
    item.item_id = long_item;
    assert (tly_codec_results (&reply, decoded, 6, &count, &failure) == -1);
    assert (failure.code == TALLY__ERROR_CODE__INTERNAL && strstr (failure.message, "item ID"));
    item.item_id = "item-123";
    char long_admin [TLY_ID_MAX + 1];
    memset (long_admin, 'a', sizeof long_admin - 1);
    long_admin [sizeof long_admin - 1] = 0;
    admin_change.admin_id = long_admin;
    assert (tly_codec_results (&reply, decoded, 6, &count, &failure) == -1);
    assert (failure.code == TALLY__ERROR_CODE__INTERNAL && strstr (failure.message, "admin ID"));
    admin_change.admin_id = "co_zAdmin";
    reply.n_results = 4;
    assert (tly_codec_results (&reply, decoded, 4, &count, &failure) == 0);
    assert (count == 4);
    assert (decoded [0].ok && decoded [0].kind == TLY_RESULT_BALANCE);
    assert (streq (decoded [0].id, "co_zBal") && streq (decoded [0].user_id, "co_zUser"));
    assert (decoded [0].balance == 100 && decoded [0].last_updated == 42);
    assert (memcmp (decoded [0].message_id, ids [0], 16) == 0);
    assert (decoded [1].ok && decoded [1].kind == TLY_RESULT_PURCHASE);
    assert (streq (decoded [1].item_id, "item-123"));
    assert (decoded [1].amount == 25 && decoded [1].timestamp == 43
            && decoded [1].balance_after == 75);
    assert (decoded [1].partition_seq == 9 && streq (decoded [1].refund_id, "co_zRefund")
            && decoded [1].refunded_at == 45);
    assert (!decoded [2].ok && decoded [2].kind == TLY_RESULT_ERROR);
    assert (decoded [2].code == TALLY__ERROR_CODE__INSUFFICIENT_BALANCE);
    //  No text from the server: the default message for the code.
    assert (streq (decoded [2].message, "Insufficient balance"));
    assert (decoded [3].ok && decoded [3].kind == TLY_RESULT_ADJUSTMENT);
    assert (streq (decoded [3].id, "co_zA") && streq (decoded [3].user_id, "co_zUser"));
    assert (decoded [3].amount == -20 && decoded [3].timestamp == 44
            && decoded [3].balance_after == 55);
    assert (streq (decoded [3].reference, "refund-7") && streq (decoded [3].note, "Refund \"7\"")
            && streq (decoded [3].by, "co_zWorker"));
    //  An adjustment's field that does not fit: the reply is malformed.
    char long_note [TLY_MSG_NOTE_CAP + 2];
    memset (long_note, 'n', sizeof long_note - 1);
    long_note [sizeof long_note - 1] = 0;
    adjustment.note = long_note;
    assert (tly_codec_results (&reply, decoded, 4, &count, &failure) == -1);
    assert (failure.code == TALLY__ERROR_CODE__INTERNAL && strstr (failure.message, "adjustment"));
    adjustment.note = "";
    //  A refund's record: an adjustment like a credit's, its reference the
    //  purchase's, its note the reason.
    adjustment.amount = 25;
    adjustment.reference = "refund:co_zP";
    adjustment.note = "Not delivered";
    assert (tly_codec_results (&reply, decoded, 4, &count, &failure) == 0);
    assert (decoded [3].ok && decoded [3].kind == TLY_RESULT_ADJUSTMENT
            && decoded [3].amount == 25);
    assert (streq (decoded [3].reference, "refund:co_zP")
            && streq (decoded [3].note, "Not delivered"));
    //  A purchase's refund ID that does not fit: malformed.
    char long_refund [TLY_ID_MAX + 1];
    memset (long_refund, 'r', sizeof long_refund - 1);
    long_refund [sizeof long_refund - 1] = 0;
    purchase.refund_id = long_refund;
    assert (tly_codec_results (&reply, decoded, 4, &count, &failure) == -1);
    assert (failure.code == TALLY__ERROR_CODE__INTERNAL && strstr (failure.message, "purchase"));
    purchase.refund_id = "";
    assert (tly_codec_results (&reply, decoded, 4, &count, &failure) == 0);
    assert (*decoded [1].refund_id == 0);
    reply.n_results = 3;

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
    s_test_adjustments ();
    s_test_config_messages ();
    s_test_refund ();
    s_test_seal ();
    s_test_seal_config ();
    s_test_results ();
    if (verbose)
        printf ("OK\n");
}
