//  sdk_test - libtally and the CLI helpers, without a cluster: number parsing,
//  JSON output, sealing, reply decoding, and the sender against a scripted
//  in-process gateway (retries resend the same bytes).
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "tally.h"
#include "tly_codec.h"
#include "tly_sign.h"
#include "tly_wire.h"
#include "up.h"

void sdk_watch_test (void);
void cli_watch_test (void);

//  Runs print into a memory stream and compares with expected.
#define EXPECT_OUTPUT(expected, call) do { \
        char *text_ = NULL; size_t size_ = 0; \
        FILE *out = open_memstream (&text_, &size_); \
        assert (out); \
        call; \
        fclose (out); \
        if (strcmp (text_, (expected)) != 0) { \
            fprintf (stderr, "expected: %s\n     got: %s\n", (expected), text_); \
            assert (false); \
        } \
        free (text_); \
    } while (0)

static void
s_test_parse_int (void)
{
    int64_t value = 0;
    assert (cli_parse_int ("25", INT64_MIN, INT64_MAX, &value) == 0 && value == 25);
    assert (cli_parse_int ("-5", INT64_MIN, INT64_MAX, &value) == 0 && value == -5);
    assert (cli_parse_int ("0", 0, 0, &value) == 0 && value == 0);
    assert (cli_parse_int ("9223372036854775807", INT64_MIN, INT64_MAX, &value) == 0);
    assert (value == INT64_MAX);
    assert (cli_parse_int ("-9223372036854775808", INT64_MIN, INT64_MAX, &value) == 0);
    assert (value == INT64_MIN);
    value = 7;
    const char *bad [] = { "", "-", "+5", " 5", "5 ", "5x", "0x10", "1e3", "2.5",
                           "9223372036854775808", "-9223372036854775809",
                           "99999999999999999999", NULL };
    for (size_t i = 0; bad [i]; i++)
        assert (cli_parse_int (bad [i], INT64_MIN, INT64_MAX, &value) == -1);
    assert (value == 7);
    //  Range edges.
    assert (cli_parse_int ("1", 1, 65532, &value) == 0);
    assert (cli_parse_int ("65532", 1, 65532, &value) == 0);
    assert (cli_parse_int ("0", 1, 65532, &value) == -1);
    assert (cli_parse_int ("65533", 1, 65532, &value) == -1);
}

static void
s_test_json (void)
{
    EXPECT_OUTPUT ("\"item-123\"", cli_json_string (out, "item-123"));
    EXPECT_OUTPUT ("\"a\\\"b\\\\c\"", cli_json_string (out, "a\"b\\c"));
    EXPECT_OUTPUT ("\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"",
                   cli_json_string (out, "\n\r\t\b\f\x01\x1f\x7f"));
    EXPECT_OUTPUT ("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", cli_json_string (out, "caf\xc3\xa9 \xf0\x9f\x98\x80"));
    //  Bytes that are not UTF-8 cannot appear in JSON text.
    EXPECT_OUTPUT ("\"a\\ufffdb\"", cli_json_string (out, "a\xff" "b"));
    EXPECT_OUTPUT ("\"\\ufffd\"", cli_json_string (out, "\xc3"));
    EXPECT_OUTPUT ("\"\\ufffd\\ufffd\"", cli_json_string (out, "\xc0\xaf"));
    EXPECT_OUTPUT ("\"\\ufffd\\ufffd\\ufffd\"", cli_json_string (out, "\xed\xa0\x80"));
    EXPECT_OUTPUT ("{\"account\":\"co_zA\",\"secret\":\"s/t\",\"name\":\"Bob \\\"B\\\"\"}\n",
                   cli_json_account (out, "co_zA", "s/t", "Bob \"B\""));

    tly_result_t balance = { .ok = true, .kind = TLY_RESULT_BALANCE, .balance = 100,
                             .last_updated = 1764226800123 };
    strcpy (balance.id, "co_zBal");
    strcpy (balance.user_id, "co_zUser");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zBal\",\"userId\":\"co_zUser\","
                   "\"balance\":100,\"lastUpdated\":1764226800123}}\n",
                   cli_json_result (out, &balance));
    EXPECT_OUTPUT ("balance co_zBal user co_zUser = 100 (updated 2025-11-27T07:00:00.123Z)\n",
                   cli_text_result (out, &balance));

    tly_result_t purchase = { .ok = true, .kind = TLY_RESULT_PURCHASE, .amount = 25,
                              .timestamp = 5, .balance_after = 75 };
    strcpy (purchase.id, "co_zP");
    strcpy (purchase.user_id, "co_zU");
    strcpy (purchase.item_id, "item-\"1\"");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zP\",\"userId\":\"co_zU\",\"itemId\":\"item-\\\"1\\\"\","
                   "\"amount\":25,\"timestamp\":5,\"balanceAfter\":75}}\n",
                   cli_json_result (out, &purchase));
    EXPECT_OUTPUT ("purchase co_zP item item-\"1\" amount 25 balanceAfter 75\n",
                   cli_text_result (out, &purchase));

    tly_result_t refused = { .ok = false, .kind = TLY_RESULT_ERROR,
                             .code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE };
    strcpy (refused.message, "Insufficient balance");
    EXPECT_OUTPUT ("{\"ok\":false,\"error\":{\"code\":\"INSUFFICIENT_BALANCE\",\"message\":\"Insufficient balance\"}}\n",
                   cli_json_result (out, &refused));

    char when [32];
    cli_format_ms (0, when, sizeof when);
    assert (streq (when, "1970-01-01T00:00:00.000Z"));
    cli_format_ms (-1, when, sizeof when);
    assert (streq (when, "1969-12-31T23:59:59.999Z"));
}

static void
s_test_messages (void)
{
    tly_msg_t first, second;
    assert (tly_msg_create_account (&first, 100) == 0);
    assert (first.kind == TLY_MSG_CREATE_ACCOUNT && first.initial_balance == 100);
    assert (tly_msg_buy (&second, "item-123", 25) == 0);
    assert (second.kind == TLY_MSG_BUY && second.amount == 25 && streq (second.item_id, "item-123"));
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
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, sealed->envelope.len, sealed->envelope.data);
    assert (envelope);
    assert (envelope->sender.len == TLY_KEY_BYTES && memcmp (envelope->sender.data, user.sign_pk, 32) == 0);
    assert (envelope->inbox.len == TLY_KEY_BYTES && memcmp (envelope->inbox.data, worker.sign_pk, 32) == 0);
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
    Tally__MessageResult results [3] = {
        TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT, TALLY__MESSAGE_RESULT__INIT
    };
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
    assert (decoded [1].amount == 25 && decoded [1].timestamp == 43 && decoded [1].balance_after == 75);
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

//  ---------------------------------------------------------------- sender
//  A scripted gateway: request 1 is ignored (the sender must resend the
//  same bytes), request 2 is answered after a stale reply, request 3 is
//  refused with UNKNOWN_INBOX, request 4 is a status request. A frame that
//  does not decode is answered BAD_REQUEST, like the real gateway does.
static void
s_fake_gateway (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "i", port);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    zframe_t *first = NULL;
    int requests = 0;
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe)
            break;
        assert (which == router);
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *identity = zmsg_pop (msg);
        zframe_t *data = zmsg_pop (msg);
        requests++;
        Tally__ClientRequest *request = tally__client_request__unpack (NULL, zframe_size (data),
                                                                       zframe_data (data));
        Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
        Tally__Error error = TALLY__ERROR__INIT;
        if (!request) {
            //  As the real gateway does: BAD_REQUEST to request_id 0.
            error.code = TALLY__ERROR_CODE__BAD_REQUEST;
            reply.error = &error;
            tly_wire_send (router, identity, &reply.base);
            zframe_destroy (&identity);
            zframe_destroy (&data);
            zmsg_destroy (&msg);
            continue;
        }
        reply.request_id = request->request_id;
        Tally__SystemStatus status = TALLY__SYSTEM_STATUS__INIT;
        Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
        Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
        Tally__MessageResult *results [1] = { &result };
        if (requests == 1)
            first = zframe_dup (data);
        else
        if (requests == 2) {
            assert (zframe_eq (first, data));
            Tally__Envelope *envelope = tally__envelope__unpack (NULL, request->send->envelope.len,
                                                                 request->send->envelope.data);
            assert (envelope && envelope->n_messages == 1);
            Tally__ClientReply stale = TALLY__CLIENT_REPLY__INIT;
            stale.request_id = request->request_id + 1;
            tly_wire_send (router, identity, &stale.base);
            result.message_id = envelope->messages [0]->message_id;
            result.outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
            result.balance = &balance;
            balance.id = "co_zBal";
            balance.user_id = "co_zUser";
            balance.balance = envelope->messages [0]->create_account->initial_balance;
            reply.n_results = 1;
            reply.results = results;
            tly_wire_send (router, identity, &reply.base);
            tally__envelope__free_unpacked (envelope, NULL);
        }
        else
        if (requests == 3) {
            error.code = TALLY__ERROR_CODE__UNKNOWN_INBOX;
            reply.error = &error;
            tly_wire_send (router, identity, &reply.base);
        }
        else {
            assert (request->body_case == TALLY__CLIENT_REQUEST__BODY_STATUS);
            status.ready = true;
            status.partition_count = 256;
            status.partitions_owned = 256;
            status.actors = 2;
            status.epoch = 3;
            reply.status = &status;
            tly_wire_send (router, identity, &reply.base);
        }
        tally__client_request__free_unpacked (request, NULL);
        zframe_destroy (&identity);
        zframe_destroy (&data);
        zmsg_destroy (&msg);
    }
    zframe_destroy (&first);
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

static void
s_test_sender (void)
{
    tly_account_t user, worker;
    tly_account_generate (&user);
    tly_account_generate (&worker);
    char worker_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);

    assert (tly_sender_new ("tcp://127.0.0.1:1", "co_zNotAKey", &user) == NULL);
    assert (tly_sender_new ("nonsense://", worker_id, &user) == NULL);

    zactor_t *gateway = zactor_new (s_fake_gateway, NULL);
    int port;
    zsock_recv (gateway, "i", &port);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    tly_sender_t *sender = tly_sender_new (endpoint, worker_id, &user);
    assert (sender);

    tly_msg_t msg;
    tly_msg_create_account (&msg, 100);
    tly_result_t result;
    assert (tly_sender_send_one (sender, &msg, 900, &result) == 0);
    assert (result.ok && result.kind == TLY_RESULT_BALANCE && result.balance == 100);

    assert (tly_sender_send_one (sender, &msg, 900, &result) == -1);
    assert (tly_sender_error (sender)->remote);
    assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__UNKNOWN_INBOX);
    assert (streq (tly_sender_error (sender)->message, tly_error_default_message (TALLY__ERROR_CODE__UNKNOWN_INBOX)));

    //  Bytes that do not decode: the gateway answers request_id 0.
    const uint8_t junk [] = { 0xff, 0xff, 0xff };
    size_t count = 0;
    assert (tly_sender_send_raw (sender, junk, sizeof junk, 900, &result, 1, &count) == -1);
    assert (tly_sender_error (sender)->remote);
    assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__BAD_REQUEST);

    tly_status_t status;
    assert (tly_sender_status (sender, 900, &status) == 0);
    assert (status.ready && status.partition_count == 256 && status.actors == 2 && status.epoch == 3);

    //  Batch limits are checked before anything is sent.
    assert (tly_sender_send (sender, &msg, 0, 900, &result) == -1);
    assert (!tly_sender_error (sender)->remote);
    tly_sender_destroy (&sender);
    tly_sender_destroy (&sender);
    zactor_destroy (&gateway);

    //  Nobody listening: a local TIMEOUT after the attempts.
    tly_sender_t *lonely = tly_sender_new ("tcp://127.0.0.1:9", worker_id, &user);
    assert (lonely);
    int64_t start = tly_mono_ms ();
    assert (tly_sender_send_one (lonely, &msg, 300, &result) == -1);
    assert (tly_mono_ms () - start >= 300);
    assert (tly_sender_error (lonely)->code == TALLY__ERROR_CODE__TIMEOUT);
    assert (!tly_sender_error (lonely)->remote);
    assert (cli_report_error (tly_sender_error (lonely), false) == CLI_EXIT_USAGE);
    tly_sender_destroy (&lonely);

    //  A status-only sender cannot seal.
    tly_sender_t *status_only = tly_sender_new ("tcp://127.0.0.1:9", NULL, NULL);
    uint8_t *bytes;
    size_t size;
    assert (tly_sender_seal (status_only, &msg, 1, 1, &bytes, &size) == -1);
    tly_sender_destroy (&status_only);
}

//  Answers every send at once: one result per message, except an envelope
//  whose first buy is 13 (refused whole: UNKNOWN_INBOX) and one whose first
//  buy is 99 (a frame that does not decode goes first).
static void
s_fake_pipeline_gateway (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "i", port);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    while (zpoller_wait (poller, -1) == router) {
        zmsg_t *msg = zmsg_recv (router);
        zframe_t *identity = zmsg_pop (msg);
        zframe_t *data = zmsg_pop (msg);
        Tally__ClientRequest *request = tally__client_request__unpack (NULL, zframe_size (data),
                                                                       zframe_data (data));
        assert (request && request->body_case == TALLY__CLIENT_REQUEST__BODY_SEND);
        Tally__Envelope *envelope = tally__envelope__unpack (NULL, request->send->envelope.len,
                                                             request->send->envelope.data);
        assert (envelope && envelope->n_messages >= 1);
        int64_t first = envelope->messages [0]->buy->amount;
        Tally__ClientReply reply = TALLY__CLIENT_REPLY__INIT;
        reply.request_id = request->request_id;
        Tally__Error error = TALLY__ERROR__INIT;
        Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
        balance.id = "co_zBal";
        balance.user_id = "co_zUser";
        Tally__MessageResult results [4];
        Tally__MessageResult *pointers [4];
        assert (envelope->n_messages <= 4);
        if (first == 13) {
            error.code = TALLY__ERROR_CODE__UNKNOWN_INBOX;
            reply.error = &error;
        }
        else {
            for (size_t i = 0; i < envelope->n_messages; i++) {
                tally__message_result__init (&results [i]);
                results [i].message_id = envelope->messages [i]->message_id;
                results [i].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
                results [i].balance = &balance;
                pointers [i] = &results [i];
            }
            reply.n_results = envelope->n_messages;
            reply.results = pointers;
        }
        if (first == 99) {
            zframe_t *copy = zframe_dup (identity);
            zframe_send (&copy, router, ZFRAME_MORE);
            zsock_send (router, "s", "not a ClientReply \xff\xff");
        }
        tly_wire_send (router, identity, &reply.base);
        tally__envelope__free_unpacked (envelope, NULL);
        tally__client_request__free_unpacked (request, NULL);
        zframe_destroy (&identity);
        zframe_destroy (&data);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

//  Posts without waiting, then collects the answers as they come.
static void
s_test_sender_pipeline (void)
{
    tly_account_t user, worker;
    tly_account_generate (&user);
    tly_account_generate (&worker);
    char worker_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    zactor_t *gateway = zactor_new (s_fake_pipeline_gateway, NULL);
    int port;
    zsock_recv (gateway, "i", &port);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    tly_sender_t *sender = tly_sender_new (endpoint, worker_id, &user);
    assert (sender);

    uint64_t request_id = 7;
    size_t count = 7;
    tly_result_t results [4];
    //  Nothing posted, nothing waiting.
    assert (tly_sender_collect (sender, &request_id, results, 4, &count) == TLY_COLLECT_NONE);
    assert (request_id == 0 && count == 0);
    //  Limits are checked before anything is sent.
    tly_msg_t msgs [3];
    assert (tly_sender_post (sender, msgs, 0, &request_id) == -1);
    assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__BATCH_TOO_LARGE);
    static tly_msg_t too_many [TLY_BATCH_MAX + 1];
    assert (tly_sender_post (sender, too_many, TLY_BATCH_MAX + 1, &request_id) == -1);
    assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__BATCH_TOO_LARGE);

    tly_msg_buy (&msgs [0], "a", 1);
    tly_msg_buy (&msgs [1], "b", 2);
    uint64_t two, refused, garbled;
    assert (tly_sender_post (sender, msgs, 2, &two) == 0);
    tly_msg_buy (&msgs [2], "c", 13);
    assert (tly_sender_post (sender, &msgs [2], 1, &refused) == 0);
    tly_msg_buy (&msgs [2], "d", 99);
    assert (tly_sender_post (sender, &msgs [2], 1, &garbled) == 0);
    assert (two != refused && refused != garbled && two != garbled);

    //  Four answers in order: two results, a refusal, junk, one result.
    int answers = 0;
    bool saw_two = false, saw_refused = false, saw_junk = false, saw_garbled = false;
    int64_t deadline = tly_mono_ms () + 5000;
    while (answers < 4 && tly_mono_ms () < deadline) {
        zmq_pollitem_t item = { tly_sender_socket (sender), 0, ZMQ_POLLIN, 0 };
        assert (zmq_poll (&item, 1, 100) >= 0);
        int rc;
        while ((rc = tly_sender_collect (sender, &request_id, results, 4, &count))
               != TLY_COLLECT_NONE) {
            answers++;
            if (request_id == two) {
                assert (rc == TLY_COLLECT_ANSWER && count == 2 && results [0].ok && results [1].ok);
                assert (memcmp (results [1].message_id, msgs [1].id, TLY_MESSAGE_ID_BYTES) == 0);
                saw_two = true;
            }
            else
            if (request_id == refused) {
                assert (rc == TLY_COLLECT_ERROR && count == 0);
                assert (tly_sender_error (sender)->remote);
                assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__UNKNOWN_INBOX);
                saw_refused = true;
            }
            else
            if (request_id == 0) {
                assert (rc == TLY_COLLECT_ERROR && !tly_sender_error (sender)->remote);
                assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__INTERNAL);
                saw_junk = true;
            }
            else {
                assert (request_id == garbled && rc == TLY_COLLECT_ANSWER && count == 1
                        && results [0].ok);
                saw_garbled = true;
            }
        }
    }
    assert (saw_two && saw_refused && saw_junk && saw_garbled);
    assert (tly_sender_collect (sender, &request_id, results, 4, &count) == TLY_COLLECT_NONE);
    tly_sender_destroy (&sender);
    zactor_destroy (&gateway);

    //  A status-only sender cannot post.
    tly_sender_t *status_only = tly_sender_new (endpoint, NULL, NULL);
    assert (tly_sender_post (status_only, msgs, 1, &request_id) == -1);
    tly_sender_destroy (&status_only);
}

static void
s_test_up_helpers (void)
{
    up_child_t *child = up_child_new ("balance-1", "/bin/true", (const char *[]) { "x", NULL },
                                      (char *[]) { NULL }, "/dev/null");
    for (int i = 0; i < UP_RESTARTS_MAX; i++)
        assert (up_child_may_restart (child, 1000 + i));
    assert (!up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS - 1));
    assert (up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS));
    assert (!up_child_may_restart (child, 1000 + UP_RESTART_WINDOW_MS));
    assert (up_child_may_restart (child, 1001 + UP_RESTART_WINDOW_MS));
    up_child_destroy (&child);
    up_child_destroy (&child);

    char how [96];
    up_describe_status (1 << 8, how, sizeof how);
    assert (streq (how, "exited with status 1"));
    up_describe_status (9, how, sizeof how);
    assert (strncmp (how, "killed by signal 9", 18) == 0);

    char path [64], error [256];
    assert (up_find_binary ("sh", "nowhere", "/bin", path, sizeof path, error, sizeof error) == 0);
    assert (streq (path, "/bin/sh"));
    assert (up_find_binary ("tally-nothing", "nowhere", "/bin", path, sizeof path, error, sizeof error) == -1);
    assert (streq (error, "/bin"));
}

int
main (void)
{
    zsys_handler_set (NULL);
    assert (sodium_init () >= 0);
    s_test_parse_int ();
    s_test_json ();
    s_test_messages ();
    s_test_seal ();
    s_test_results ();
    s_test_sender ();
    s_test_sender_pipeline ();
    s_test_up_helpers ();
    sdk_watch_test ();
    cli_watch_test ();
    printf ("sdk_test: OK\n");
    return 0;
}
