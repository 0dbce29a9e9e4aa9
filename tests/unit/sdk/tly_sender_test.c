//  tly_sender_test - the sender against a scripted in-process gateway:
//  retries resend the same bytes, stale and refused replies, status, and
//  pipelined posts collected as they are answered.
#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tally.h"
#include "tly_codec.h"
#include "tly_wire.h"

//  A fake gateway's first step: its ROUTER on a free loopback port, which
//  it tells the test through pipe.
static zsock_t *
s_gateway_bind (zsock_t *pipe)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    assert (port > 0);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "i", port);
    return router;
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
    zsock_t *router = s_gateway_bind (pipe);
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
        else if (requests == 2) {
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
        } else if (requests == 3) {
            error.code = TALLY__ERROR_CODE__UNKNOWN_INBOX;
            reply.error = &error;
            tly_wire_send (router, identity, &reply.base);
        } else {
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
    assert (streq (tly_sender_error (sender)->message,
                   tly_error_default_message (TALLY__ERROR_CODE__UNKNOWN_INBOX)));

    //  Bytes that do not decode: the gateway answers request_id 0.
    const uint8_t junk [] = { 0xff, 0xff, 0xff };
    size_t count = 0;
    assert (tly_sender_send_raw (sender, junk, sizeof junk, 900, &result, 1, &count) == -1);
    assert (tly_sender_error (sender)->remote);
    assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__BAD_REQUEST);

    tly_status_t status;
    assert (tly_sender_status (sender, 900, &status) == 0);
    assert (status.ready && status.partition_count == 256 && status.actors == 2
            && status.epoch == 3);

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
    zsock_t *router = s_gateway_bind (pipe);
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
        } else {
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
            } else if (request_id == refused) {
                assert (rc == TLY_COLLECT_ERROR && count == 0);
                assert (tly_sender_error (sender)->remote);
                assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__UNKNOWN_INBOX);
                saw_refused = true;
            } else if (request_id == 0) {
                assert (rc == TLY_COLLECT_ERROR && !tly_sender_error (sender)->remote);
                assert (tly_sender_error (sender)->code == TALLY__ERROR_CODE__INTERNAL);
                saw_junk = true;
            } else {
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

void
tly_sender_test (bool verbose)
{
    if (verbose)
        printf (" * tly_sender: ");
    assert (sodium_init () >= 0);
    s_test_sender ();
    s_test_sender_pipeline ();
    if (verbose)
        printf ("OK\n");
}
