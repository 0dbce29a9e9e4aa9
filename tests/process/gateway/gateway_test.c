//  gateway_test - runs the real tally-gateway between a client DEALER and a
//  fake router (a ROUTER bound where the gateway expects the router) and
//  checks what crosses each side: valid envelopes round-trip with the right
//  request_id and partition, every rejection carries its exact code and never
//  reaches the router, and deadlines, the in-flight limit and status work.
//  Every wait is a poll with a deadline.
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include "gateway_fixture.h"
#include "gateway_process.h"
#include "tally.pb-c.h"
#include "tly_account.h"
#include "tly_partition.h"
#include "tly_validate.h"
#include "tly_wire.h"

#define TIMEOUT_MS 300    //  --timeout-ms given to the gateway
#define WAIT_MS    10000  //  longest any expected message may take
#define PARTITIONS 256

//  --------------------------------------------------------------------------
//  The client side

//  The fake router's port: below the ephemeral range (32768..), and apart
//  from the fixed ranges of tests/CMakeLists.txt.
#define S_ROUTER_PORT_FIRST 25000
#define S_ROUTER_PORT_LAST  29999

//  Junk frames in the flood test: far more than a window's log budget.
#define S_FLOOD 2000

//  Lines of the file at path that contain needle.
static int
s_count_lines (const char *path, const char *needle)
{
    FILE *file = fopen (path, "r");
    CHECK (file);
    char line [4096];
    int count = 0;
    while (fgets (line, sizeof line, file))
        if (strstr (line, needle))
            count++;
    fclose (file);
    return count;
}

static void
s_client_send (zsock_t *client, const uint8_t *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    CHECK (zframe_send (&frame, client, 0) == 0);
}

//  Sends spec as request_id; keeps the SignedEnvelope it sent in *sent when not NULL.
static void
s_client_send_spec (zsock_t *client, const gateway_fixture_t *spec, uint64_t request_id,
                    Tally__ClientRequest **sent)
{
    size_t size = 0;
    uint8_t *frame = gateway_fixture_send (spec, request_id, &size);
    s_client_send (client, frame, size);
    if (sent)
        *sent = tally__client_request__unpack (NULL, size, frame);
    free (frame);
}

static Tally__ClientReply *
s_client_reply (zsock_t *client)
{
    zpoller_t *poller = zpoller_new (client, NULL);
    CHECK (zpoller_wait (poller, WAIT_MS) == client);
    zpoller_destroy (&poller);
    zframe_t *frame = zframe_recv (client);
    CHECK (frame && !zframe_more (frame));
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                             zframe_data (frame));
    CHECK (reply);
    zframe_destroy (&frame);
    return reply;
}

static void
s_expect_error (zsock_t *client, uint64_t request_id, Tally__ErrorCode code, const char *part)
{
    Tally__ClientReply *reply = s_client_reply (client);
    if (th_verbose)
        printf ("   request_id=%llu %s \"%s\"\n", (unsigned long long) reply->request_id,
                reply->error ? tly_error_name (reply->error->code) : "(none)",
                reply->error ? reply->error->message : "");
    CHECK (reply->request_id == request_id);
    CHECK (reply->error && reply->error->code == code);
    CHECK (reply->n_results == 0 && reply->status == NULL);
    CHECK (!part || strstr (reply->error->message, part));
    tally__client_reply__free_unpacked (reply, NULL);
}

//  --------------------------------------------------------------------------
//  The fake router

static Tally__GatewayToRouter *
s_router_recv (zsock_t *router, zframe_t **identity_p)
{
    zpoller_t *poller = zpoller_new (router, NULL);
    CHECK (zpoller_wait (poller, WAIT_MS) == router);
    zpoller_destroy (&poller);
    *identity_p = zframe_recv (router);
    CHECK (*identity_p && zframe_more (*identity_p));
    zframe_t *frame = zframe_recv (router);
    CHECK (frame && !zframe_more (frame));
    Tally__GatewayToRouter *message = tally__gateway_to_router__unpack (NULL, zframe_size (frame),
                                                                        zframe_data (frame));
    CHECK (message);
    zframe_destroy (&frame);
    return message;
}

//  Receives the next Route and checks it carries exactly what the client sent.
static Tally__GatewayToRouter *
s_router_expect_route (zsock_t *router, zframe_t **identity_p, const tly_account_t *user,
                       const Tally__ClientRequest *sent)
{
    Tally__GatewayToRouter *message = s_router_recv (router, identity_p);
    CHECK (message->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_ROUTE);
    const Tally__Route *route = message->route;
    CHECK (route->partition == tly_partition_of (user->sign_pk, PARTITIONS));
    const Tally__SignedEnvelope *got = route->envelope;
    const Tally__SignedEnvelope *want = sent->send;
    CHECK (got && got->envelope.len == want->envelope.len);
    CHECK (memcmp (got->envelope.data, want->envelope.data, want->envelope.len) == 0);
    CHECK (got->signature.len == want->signature.len);
    CHECK (memcmp (got->signature.data, want->signature.data, want->signature.len) == 0);
    return message;
}

//  Answers a Route with one fake MessageResult per message, echoing the ids.
static void
s_router_answer (zsock_t *router, zframe_t **identity_p, const Tally__Route *route)
{
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, route->envelope->envelope.len,
                                                         route->envelope->envelope.data);
    CHECK (envelope);
    size_t count = envelope->n_messages;
    Tally__MessageResult *results = calloc (count, sizeof (Tally__MessageResult));
    Tally__MessageResult **pointers = calloc (count, sizeof (Tally__MessageResult *));
    CHECK (results && pointers);
    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = "co_zfake";
    balance.user_id = "co_zfake";
    balance.balance = 10;
    for (size_t index = 0; index < count; index++) {
        Tally__MessageResult init = TALLY__MESSAGE_RESULT__INIT;
        results [index] = init;
        results [index].message_id = envelope->messages [index]->message_id;
        results [index].outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
        results [index].balance = &balance;
        pointers [index] = &results [index];
    }
    Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
    reply.route_id = route->route_id;
    reply.n_results = count;
    reply.results = pointers;
    Tally__RouterToGateway message = TALLY__ROUTER_TO_GATEWAY__INIT;
    message.body_case = TALLY__ROUTER_TO_GATEWAY__BODY_REPLY;
    message.reply = &reply;
    CHECK (tly_wire_send (zsock_resolve (router), *identity_p, &message.base) == 0);
    zframe_destroy (identity_p);
    free (pointers);
    free (results);
    tally__envelope__free_unpacked (envelope, NULL);
}

//  The client's reply holds one result per message sent, in order.
static void
s_expect_results (zsock_t *client, uint64_t request_id, const Tally__ClientRequest *sent)
{
    Tally__ClientReply *reply = s_client_reply (client);
    CHECK (reply->request_id == request_id);
    CHECK (reply->error == NULL);
    Tally__Envelope *envelope = tally__envelope__unpack (NULL, sent->send->envelope.len,
                                                         sent->send->envelope.data);
    CHECK (envelope && reply->n_results == envelope->n_messages);
    for (size_t index = 0; index < reply->n_results; index++) {
        ProtobufCBinaryData want = envelope->messages [index]->message_id;
        ProtobufCBinaryData got = reply->results [index]->message_id;
        CHECK (got.len == want.len && memcmp (got.data, want.data, want.len) == 0);
        CHECK (reply->results [index]->outcome_case == TALLY__MESSAGE_RESULT__OUTCOME_BALANCE);
    }
    tally__envelope__free_unpacked (envelope, NULL);
    tally__client_reply__free_unpacked (reply, NULL);
}

//  One valid envelope of `messages` messages, all the way there and back.
static void
s_round_trip (zsock_t *client, zsock_t *router, const gateway_fixture_t *spec, uint64_t request_id)
{
    Tally__ClientRequest *sent = NULL;
    s_client_send_spec (client, spec, request_id, &sent);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *message = s_router_expect_route (router, &identity, spec->sender, sent);
    s_router_answer (router, &identity, message->route);
    s_expect_results (client, request_id, sent);
    tally__gateway_to_router__free_unpacked (message, NULL);
    tally__client_request__free_unpacked (sent, NULL);
}

//  --------------------------------------------------------------------------

static void
s_test_startup_errors (const char *worker_id)
{
    char out [4096];
    th_step ("missing worker: exit 2 naming TALLY_WORKER_ACCOUNT");
    char *bare [] = { NULL, NULL };
    CHECK (gateway_run (bare, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "TALLY_WORKER_ACCOUNT") && strchr (out, '\n') == out + strlen (out) - 1);

    th_step ("malformed worker in the environment: exit 2 naming"
             " TALLY_WORKER_ACCOUNT");
    CHECK (gateway_run (bare, "co_znotanaccount", out, sizeof (out)) == 2);
    CHECK (strstr (out, "TALLY_WORKER_ACCOUNT") && strchr (out, '\n') == out + strlen (out) - 1);

    th_step ("malformed flag values: exit 2, one line");
    char *zero [] = { NULL, "--worker", (char *) worker_id, "--partitions", "0", NULL };
    CHECK (gateway_run (zero, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "--partitions") && strchr (out, '\n') == out + strlen (out) - 1);
    char *queue [] = { NULL, "--worker", (char *) worker_id, "--client-queue", "0", NULL };
    CHECK (gateway_run (queue, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "--client-queue") && strchr (out, '\n') == out + strlen (out) - 1);
    char *ttl [] = { NULL, "--worker", (char *) worker_id, "--client-ttl-ms", "soon", NULL };
    CHECK (gateway_run (ttl, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "--client-ttl-ms") && strchr (out, '\n') == out + strlen (out) - 1);
    //  A frame larger than TLY_FRAME_CLIENT_MAX could not cross the hops after
    //  the gateway: refused at start, with the bound.
    char frame_max [16];
    snprintf (frame_max, sizeof frame_max, "%d", TLY_FRAME_CLIENT_MAX + 1);
    char *frame [] = { NULL, "--worker", (char *) worker_id, "--max-frame", frame_max, NULL };
    CHECK (gateway_run (frame, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "--max-frame") && strstr (out, "expected 1..524288"));
    char *unknown [] = { NULL, "--frobnicate", NULL };
    CHECK (gateway_run (unknown, worker_id, out, sizeof (out)) == 2);
    //  The WebSocket endpoint is a ws:// one.
    char *ws [] = { NULL, "--worker", (char *) worker_id, "--bind-ws", "tcp://127.0.0.1:1", NULL };
    CHECK (gateway_run (ws, NULL, out, sizeof (out)) == 2);
    CHECK (strstr (out, "--bind-ws takes a ws:// endpoint") && strstr (out, "tcp://127.0.0.1:1")
           && strchr (out, '\n') == out + strlen (out) - 1);

    th_step ("--help: usage on stdout, exit 0");
    char *help [] = { NULL, "--help", NULL };
    CHECK (gateway_run (help, NULL, out, sizeof (out)) == 0);
    CHECK (strstr (out, "usage: tally-gateway") && strstr (out, "--max-pending"));
    CHECK (strstr (out, "--bus") && strstr (out, "--client-queue"));
    CHECK (strstr (out, "--client-ttl-ms") && strstr (out, "--bind-ws"));
    CHECK (strstr (out, "--max-subscriptions") && strstr (out, "--max-subscriptions-total"));
}

int
main (int argc, char *argv [])
{
    gateway_process_init (argc, argv);
    tly_account_t worker, user, stranger;
    CHECK (tly_account_generate (&worker) == 0);
    CHECK (tly_account_generate (&user) == 0);
    CHECK (tly_account_generate (&stranger) == 0);
    char worker_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);

    s_test_startup_errors (worker_id);

    //  The fake router's port is below the kernel's ephemeral range: a
    //  gateway reconnecting to it while nothing listens could otherwise
    //  be given that very port for its own end and connect to itself.
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    CHECK (router);
    int router_port = th_free_port_between (S_ROUTER_PORT_FIRST, S_ROUTER_PORT_LAST);
    CHECK (zsock_bind (router, "tcp://127.0.0.1:%d", router_port) == router_port);
    char router_endpoint [64], client_endpoint [64];
    snprintf (router_endpoint, sizeof (router_endpoint), "tcp://127.0.0.1:%d", router_port);
    snprintf (client_endpoint, sizeof (client_endpoint), "tcp://127.0.0.1:%d", th_free_port ());

    //  --max-pending 1 puts the in-flight limit where one test can touch it.
    char *gateway_argv [] = { NULL,       "--bind",        client_endpoint,
                              "--router", router_endpoint, "--timeout-ms",
                              "300",      "--max-pending", "1",
                              NULL };
    char dir [256], log_path [300];
    th_dir_new (dir, sizeof dir, "gateway_test");
    snprintf (log_path, sizeof log_path, "%s/gateway.log", dir);
    gateway_set_log (log_path);
    int64_t started_ms = th_now_ms ();
    gateway_start (gateway_argv, worker_id);
    gateway_set_log (NULL);
    zsock_t *client = zsock_new (ZMQ_DEALER);
    CHECK (client);
    zsock_set_linger (client, 0);
    CHECK (zsock_connect (client, "%s", client_endpoint) == 0);

    int64_t now_ms = tly_now_ms ();
    gateway_fixture_t valid = gateway_fixture_valid (&user, worker.sign_pk, now_ms);
    gateway_fixture_t spec = valid;

    th_step ("valid envelope of 3 messages round-trips with its request_id and"
             " partition");
    spec.messages = 3;
    s_round_trip (client, router, &spec, 1);

    th_step ("rejections: exact code, nothing reaches the router");
    spec = valid;
    spec.forge = true;
    s_client_send_spec (client, &spec, 10, NULL);
    s_expect_error (client, 10, TALLY__ERROR_CODE__BAD_SIGNATURE, "does not verify for sender");
    spec = valid;
    memcpy (spec.inbox, stranger.sign_pk, TLY_KEY_BYTES);
    s_client_send_spec (client, &spec, 11, NULL);
    s_expect_error (client, 11, TALLY__ERROR_CODE__UNKNOWN_INBOX, "but this gateway serves");
    spec = valid;
    spec.timestamp_ms = now_ms - 60000;
    s_client_send_spec (client, &spec, 12, NULL);
    s_expect_error (client, 12, TALLY__ERROR_CODE__STALE_TIMESTAMP, "behind the gateway clock");
    spec = valid;
    spec.timestamp_ms = now_ms + 60000;
    s_client_send_spec (client, &spec, 13, NULL);
    s_expect_error (client, 13, TALLY__ERROR_CODE__STALE_TIMESTAMP, "ahead of the gateway clock");
    spec = valid;
    spec.messages = TLY_BATCH_MAX + 1;
    s_client_send_spec (client, &spec, 14, NULL);
    s_expect_error (client, 14, TALLY__ERROR_CODE__BATCH_TOO_LARGE, "(limit 256)");
    spec = valid;
    spec.messages = 0;
    s_client_send_spec (client, &spec, 15, NULL);
    s_expect_error (client, 15, TALLY__ERROR_CODE__BAD_REQUEST, "no messages");
    spec = valid;
    spec.messages = 4;
    spec.duplicate_id = true;
    s_client_send_spec (client, &spec, 16, NULL);
    s_expect_error (client, 16, TALLY__ERROR_CODE__DUPLICATE_MESSAGE_ID, NULL);
    spec = valid;
    spec.id_bytes = 15;
    s_client_send_spec (client, &spec, 17, NULL);
    s_expect_error (client, 17, TALLY__ERROR_CODE__BAD_REQUEST, "15-byte id");
    //  Signed as sent, but protobuf-c would decode the item as "ab".
    spec = valid;
    spec.nul_item = true;
    s_client_send_spec (client, &spec, 18, NULL);
    s_expect_error (client, 18, TALLY__ERROR_CODE__BAD_REQUEST, "Buy.item_id holds a NUL byte");

    //  Frames of junk at the size limit and one byte over it: 0xff never decodes.
    uint8_t *junk = malloc (TLY_FRAME_MAX_DEFAULT + 1);
    CHECK (junk);
    memset (junk, 0xff, TLY_FRAME_MAX_DEFAULT + 1);
    s_client_send (client, junk, TLY_FRAME_MAX_DEFAULT + 1);
    s_expect_error (client, 0, TALLY__ERROR_CODE__FRAME_TOO_LARGE,
                    "frame of 131073 bytes exceeds limit 131072");
    s_client_send (client, junk, TLY_FRAME_MAX_DEFAULT);
    s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST, "does not decode");
    s_client_send (client, junk, 9);
    s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST, "does not decode");
    //  Decodes (protobuf-c keeps a field numbered 0 as unknown), but would
    //  not decode again once re-encoded: refused before anything re-encodes it.
    const uint8_t field_zero [] = { 0x85, 0x00, 0x00, 0x00, 0x93, 0x00 };
    s_client_send (client, field_zero, sizeof field_zero);
    s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST,
                    "ClientRequest is not a protobuf encoding");
    free (junk);
    zmsg_t *two_frames = zmsg_new ();
    zmsg_addstr (two_frames, "one");
    zmsg_addstr (two_frames, "two");
    CHECK (zmsg_send (&two_frames, client) == 0);
    s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST, "2 data frames");

    th_step ("a flood of %d junk frames: each answered, the log within its budget", S_FLOOD);
    const uint8_t garbage [] = { 0xff, 0xff, 0xff };
    for (int i = 0; i < S_FLOOD; i++) {
        s_client_send (client, garbage, sizeof garbage);
        s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST, "does not decode");
    }
    //  TLY_REJECT_LOG_BURST lines per window at most, in every window the
    //  gateway has lived through so far.
    int64_t windows = (th_now_ms () - started_ms) / TLY_REJECT_LOG_WINDOW_MS + 2;
    int lines = s_count_lines (log_path, "event=request.rejected ");
    if (th_verbose)
        printf ("   %d request.rejected lines in %" PRId64 " windows\n", lines, windows - 1);
    CHECK (lines >= TLY_REJECT_LOG_BURST && lines <= TLY_REJECT_LOG_BURST * windows);
    //  The next window's first line says how many were left out (one such
    //  line per window the flood outlasted: a slow build's flood can take
    //  more than one).
    TH_WAIT_UNTIL (
        s_count_lines (log_path, "event=log.suppressed event=request.rejected lines=") >= 1,
        3 * TLY_REJECT_LOG_WINDOW_MS, {
            s_client_send (client, garbage, sizeof garbage);
            s_expect_error (client, 0, TALLY__ERROR_CODE__BAD_REQUEST, "does not decode");
            th_sleep_ms (20);
        });

    th_step ("after the rejections a valid envelope still works, and is the router's"
             " first message");
    s_round_trip (client, router, &valid, 20);

    th_step ("over --max-pending: UNAVAILABLE at once, the request in flight still"
             " answered");
    Tally__ClientRequest *first = NULL;
    s_client_send_spec (client, &valid, 30, &first);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *held = s_router_expect_route (router, &identity, &user, first);
    s_client_send_spec (client, &valid, 31, NULL);
    s_expect_error (client, 31, TALLY__ERROR_CODE__UNAVAILABLE, "(limit 1)");
    s_router_answer (router, &identity, held->route);
    s_expect_results (client, 30, first);
    tally__gateway_to_router__free_unpacked (held, NULL);
    tally__client_request__free_unpacked (first, NULL);

    th_step ("router silent: TIMEOUT; its late reply is dropped");
    int64_t sent_ms = tly_mono_ms ();
    s_client_send_spec (client, &valid, 40, &first);
    held = s_router_expect_route (router, &identity, &user, first);
    s_expect_error (client, 40, TALLY__ERROR_CODE__TIMEOUT, "within 300 ms");
    CHECK (tly_mono_ms () - sent_ms >= TIMEOUT_MS);
    s_router_answer (router, &identity, held->route);
    tally__gateway_to_router__free_unpacked (held, NULL);
    tally__client_request__free_unpacked (first, NULL);
    //  The next reply the client sees is for the next request, not the late one.
    s_round_trip (client, router, &valid, 41);

    th_step ("status: forwarded to the router and answered");
    size_t size = 0;
    uint8_t *status_frame = gateway_fixture_status (50, &size);
    s_client_send (client, status_frame, size);
    Tally__GatewayToRouter *asked = s_router_recv (router, &identity);
    CHECK (asked->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID);
    Tally__SystemStatus status = TALLY__SYSTEM_STATUS__INIT;
    status.ready = true;
    status.partition_count = PARTITIONS;
    status.partitions_owned = PARTITIONS;
    status.actors = 2;
    status.epoch = 7;
    Tally__StatusReply status_reply = TALLY__STATUS_REPLY__INIT;
    status_reply.status_id = asked->status_id;
    status_reply.status = &status;
    Tally__RouterToGateway answer = TALLY__ROUTER_TO_GATEWAY__INIT;
    answer.body_case = TALLY__ROUTER_TO_GATEWAY__BODY_STATUS;
    answer.status = &status_reply;
    CHECK (tly_wire_send (zsock_resolve (router), identity, &answer.base) == 0);
    zframe_destroy (&identity);
    tally__gateway_to_router__free_unpacked (asked, NULL);
    Tally__ClientReply *reply = s_client_reply (client);
    CHECK (reply->request_id == 50 && reply->error == NULL && reply->status);
    CHECK (reply->status->ready && reply->status->partition_count == PARTITIONS);
    CHECK (reply->status->actors == 2 && reply->status->epoch == 7);
    tally__client_reply__free_unpacked (reply, NULL);

    th_step ("status with the router silent: TIMEOUT");
    s_client_send (client, status_frame, size);
    asked = s_router_recv (router, &identity);
    CHECK (asked->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID);
    s_expect_error (client, 50, TALLY__ERROR_CODE__TIMEOUT, "no reply from the cluster");
    zframe_destroy (&identity);
    tally__gateway_to_router__free_unpacked (asked, NULL);
    free (status_frame);

    th_step ("bind in use: exit 2 with one line");
    char out [1024];
    CHECK (gateway_run (gateway_argv, worker_id, out, sizeof (out)) == 2);
    CHECK (strstr (out, "cannot bind"));

    th_step ("SIGTERM: clean exit 0");
    gateway_stop ();
    zsock_destroy (&client);
    th_dir_remove (dir);

    //  With no router listening, the first envelope waits in the queue to the
    //  router (one deep at --max-pending 1) and times out; the next finds the
    //  queue full and is refused at once.
    th_step ("router down: TIMEOUT, then UNAVAILABLE while its queue is full");
    snprintf (router_endpoint, sizeof (router_endpoint), "tcp://127.0.0.1:%d", th_free_port ());
    snprintf (client_endpoint, sizeof (client_endpoint), "tcp://127.0.0.1:%d", th_free_port ());
    gateway_start (gateway_argv, worker_id);
    client = zsock_new (ZMQ_DEALER);
    CHECK (client);
    zsock_set_linger (client, 0);
    CHECK (zsock_connect (client, "%s", client_endpoint) == 0);
    s_client_send_spec (client, &valid, 60, NULL);
    s_expect_error (client, 60, TALLY__ERROR_CODE__TIMEOUT, "within 300 ms");
    s_client_send_spec (client, &valid, 61, NULL);
    s_expect_error (client, 61, TALLY__ERROR_CODE__UNAVAILABLE, "router is not taking messages");
    gateway_stop ();
    zsock_destroy (&client);

    //  The gateway handles 16 client requests per loop turn and sends their
    //  envelopes to the router together; 40 at once cross that edge twice.
    th_step ("a burst of 40 envelopes: every one reaches the router, in order,"
             " and is answered");
    snprintf (router_endpoint, sizeof (router_endpoint), "tcp://127.0.0.1:%d", router_port);
    snprintf (client_endpoint, sizeof (client_endpoint), "tcp://127.0.0.1:%d", th_free_port ());
    char *burst_argv [] = {
        NULL, "--bind", client_endpoint, "--router", router_endpoint, "--max-pending", "100", NULL
    };
    gateway_start (burst_argv, worker_id);
    client = zsock_new (ZMQ_DEALER);
    CHECK (client);
    zsock_set_linger (client, 0);
    CHECK (zsock_connect (client, "%s", client_endpoint) == 0);
    enum {
        BURST = 40
    };
    Tally__ClientRequest *burst [BURST];
    Tally__GatewayToRouter *routed [BURST];
    zframe_t *identities [BURST];
    for (int i = 0; i < BURST; i++)
        s_client_send_spec (client, &valid, 100 + (uint64_t) i, &burst [i]);
    for (int i = 0; i < BURST; i++)
        routed [i] = s_router_expect_route (router, &identities [i], &user, burst [i]);
    for (int i = 0; i < BURST; i++)
        s_router_answer (router, &identities [i], routed [i]->route);
    for (int i = 0; i < BURST; i++) {
        s_expect_results (client, 100 + (uint64_t) i, burst [i]);
        tally__gateway_to_router__free_unpacked (routed [i], NULL);
        tally__client_request__free_unpacked (burst [i], NULL);
    }

    //  The router goes away holding a request, and a new one binds its
    //  endpoint: the gateway sends the new one what was in flight, the same
    //  bytes under the same route_id, so the client is answered without
    //  resending and without waiting for its timeout.
    th_step ("router restart: the request it held is sent to the new router");
    Tally__ClientRequest *held_request = NULL;
    s_client_send_spec (client, &valid, 200, &held_request);
    zframe_t *held_identity = NULL;
    Tally__GatewayToRouter *held_route = s_router_expect_route (router, &held_identity, &user,
                                                                held_request);
    zframe_destroy (&held_identity);
    zsock_destroy (&router);
    router = zsock_new (ZMQ_ROUTER);
    CHECK (router);
    zsock_set_linger (router, 0);
    //  The old socket's port is let go in the background.
    TH_WAIT_UNTIL (zsock_bind (router, "%s", router_endpoint) == router_port, WAIT_MS,
                   th_sleep_ms (10));
    int64_t restarted_ms = th_now_ms ();
    Tally__GatewayToRouter *again = s_router_expect_route (router, &held_identity, &user,
                                                           held_request);
    CHECK (again->route->route_id == held_route->route->route_id);
    if (th_verbose)
        printf ("   sent again %" PRId64 " ms after the new router bound\n",
                th_now_ms () - restarted_ms);
    s_router_answer (router, &held_identity, again->route);
    s_expect_results (client, 200, held_request);
    tally__gateway_to_router__free_unpacked (again, NULL);
    tally__gateway_to_router__free_unpacked (held_route, NULL);
    tally__client_request__free_unpacked (held_request, NULL);
    gateway_stop ();

    zsock_destroy (&client);
    zsock_destroy (&router);
    if (th_verbose)
        printf ("gateway_test: OK\n");
    return 0;
}
