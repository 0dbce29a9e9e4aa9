//  router_test_fakes - the fake cluster router_test drives.
//  See router_test_fakes.h.
#include "router_test_fakes.h"
#include "tly_router_partmap.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
fake_start_router (test_t *t, const char *attempt_ms, const char *hold_max,
                   const char *inflight_max)
{
    char heartbeat [16], liveness [16];
    snprintf (heartbeat, sizeof heartbeat, "%d", HEARTBEAT_MS);
    snprintf (liveness, sizeof liveness, "%d", LIVENESS);
    char *argv [] = { TALLY_ROUTER_BIN,
                      "--insecure",
                      "--data-dir",
                      t->dir,
                      "--frontend",
                      t->frontend,
                      "--backend",
                      t->backend,
                      "--bus-in",
                      t->bus_in,
                      "--bus-out",
                      t->bus_out,
                      "--partitions",
                      "256",
                      "--heartbeat-ms",
                      heartbeat,
                      "--liveness",
                      liveness,
                      "--attempt-ms",
                      (char *) attempt_ms,
                      "--attempts",
                      "3",
                      "--hold-max",
                      (char *) hold_max,
                      "--inflight-max",
                      (char *) inflight_max,
                      NULL };
    t->router = th_process_new ("tally-router", argv);
    th_process_start (t->router);
}

void
fake_stop_router (test_t *t)
{
    assert (t->router);
    assert (th_process_stop (t->router, TH_DEADLINE_MS) == 0);
    th_process_destroy (&t->router);
}

static void
s_send (zsock_t *sock, const ProtobufCMessage *message)
{
    zframe_t *frame = tly_wire_pack (message);
    assert (zframe_send (&frame, sock, 0) == 0);
}

static void
s_hello (actor_t *actor)
{
    Tally__ActorHello hello = TALLY__ACTOR_HELLO__INIT;
    hello.name = (char *) actor->name;
    hello.partition_count = actor->partition_count;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_HELLO;
    message.hello = &hello;
    s_send (actor->sock, &message.base);
}

void
fake_leave (actor_t *actor, const char *name)
{
    Tally__ActorLeave leave = TALLY__ACTOR_LEAVE__INIT;
    leave.name = (char *) name;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_LEAVE;
    message.leave = &leave;
    s_send (actor->sock, &message.base);
    actor->alive = false;
}

actor_t *
fake_actor_new (test_t *t, const char *name, uint32_t partition_count)
{
    actor_t *actor = calloc (1, sizeof (*actor));
    assert (actor);
    actor->name = name;
    actor->partition_count = partition_count;
    actor->alive = true;
    actor->sock = zsock_new_dealer (t->backend);
    assert (actor->sock);
    zsock_set_linger (actor->sock, 0);
    assert (t->actor_count < ACTORS_MAX);
    t->actors [t->actor_count++] = actor;
    s_hello (actor);
    return actor;
}

static void
s_actor_on_message (actor_t *actor, zframe_t *frame)
{
    Tally__RouterToActor *message = tally__router_to_actor__unpack (NULL, zframe_size (frame),
                                                                    zframe_data (frame));
    assert (message);
    if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ASSIGNMENT) {
        Tally__Assignment *assignment = message->assignment;
        assert (assignment->partition_count == PARTITIONS);
        actor->assignments++;
        actor->owned = (uint32_t) assignment->n_owned;
        memset (actor->epochs, 0, sizeof actor->epochs);
        for (size_t at = 0; at < assignment->n_owned; at++) {
            assert (assignment->owned [at]->partition < PARTITIONS);
            assert (assignment->owned [at]->epoch > 0);
            actor->epochs [assignment->owned [at]->partition] = assignment->owned [at]->epoch;
        }
    } else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_ROUTE) {
        Tally__Route *route = message->route;
        assert (actor->route_count < SEEN_MAX);
        seen_route_t *seen = &actor->routes [actor->route_count++];
        seen->route_id = route->route_id;
        seen->partition = route->partition;
        assert (route->envelope && route->envelope->envelope.len < sizeof seen->envelope);
        memcpy (seen->envelope, route->envelope->envelope.data, route->envelope->envelope.len);
        assert (route->envelope->signature.len == TLY_SIGNATURE_BYTES);
    } else if (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_SNAPSHOT) {
        Tally__SnapshotRequest *snapshot = message->snapshot;
        assert (actor->route_count < SEEN_MAX);
        seen_route_t *seen = &actor->routes [actor->route_count++];
        seen->route_id = snapshot->snapshot_id;
        seen->partition = snapshot->partition;
        seen->snapshot = true;
        assert (strlen (snapshot->object_id) < sizeof seen->envelope);
        strcpy (seen->envelope, snapshot->object_id);
        assert (snapshot->reader.len == TLY_KEY_BYTES);
    } else {
        assert (message->body_case == TALLY__ROUTER_TO_ACTOR__BODY_HEARTBEAT);
        actor->heartbeats++;
    }
    tally__router_to_actor__free_unpacked (message, NULL);
}

static void
s_gateway_on_message (test_t *t, zframe_t *frame)
{
    Tally__RouterToGateway *message = tally__router_to_gateway__unpack (NULL, zframe_size (frame),
                                                                        zframe_data (frame));
    assert (message);
    if (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_REPLY) {
        Tally__RouteReply *reply = message->reply;
        assert (t->reply_count < SEEN_MAX);
        seen_reply_t *seen = &t->replies [t->reply_count++];
        seen->route_id = reply->route_id;
        seen->code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
        snprintf (seen->text, sizeof seen->text, "%s", reply->error ? reply->error->message : "");
        seen->results = reply->n_results;
        if (reply->n_results > 0 && reply->results [0]->balance)
            seen->balance = reply->results [0]->balance->balance;
        seen->at_ms = tly_mono_ms ();
    } else if (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_SNAPSHOT) {
        Tally__SnapshotReply *reply = message->snapshot;
        assert (t->reply_count < SEEN_MAX);
        seen_reply_t *seen = &t->replies [t->reply_count++];
        seen->route_id = reply->snapshot_id;
        seen->snapshot = true;
        seen->code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
        seen->at_ms = tly_mono_ms ();
    } else {
        assert (message->body_case == TALLY__ROUTER_TO_GATEWAY__BODY_STATUS);
        t->have_status = true;
        t->status_id = message->status->status_id;
        t->status = *message->status->status;
    }
    tally__router_to_gateway__free_unpacked (message, NULL);
}

//  Handles whatever arrives within timeout_ms and sends the hellos that fall due.
void
fake_pump (test_t *t, int64_t timeout_ms)
{
    int64_t now = tly_mono_ms ();
    if (now >= t->next_hello_ms) {
        for (size_t at = 0; at < t->actor_count; at++)
            if (t->actors [at]->alive)
                s_hello (t->actors [at]);
        t->next_hello_ms = now + HEARTBEAT_MS;
    }
    if (t->next_hello_ms - now < timeout_ms)
        timeout_ms = t->next_hello_ms - now;
    zmq_pollitem_t items [ACTORS_MAX + 1];
    items [0] = (zmq_pollitem_t) { zsock_resolve (t->gateway), 0, ZMQ_POLLIN, 0 };
    for (size_t at = 0; at < t->actor_count; at++)
        items [at + 1] = (zmq_pollitem_t) { zsock_resolve (t->actors [at]->sock), 0, ZMQ_POLLIN,
                                            0 };
    int ready = zmq_poll (items, (int) t->actor_count + 1, (long) timeout_ms);
    assert (ready >= 0);
    for (size_t at = 0; at <= t->actor_count; at++) {
        zsock_t *sock = at == 0 ? t->gateway : t->actors [at - 1]->sock;
        while (items [at].revents & ZMQ_POLLIN) {
            zframe_t *frame = zframe_recv_nowait (sock);
            if (!frame)
                break;
            if (at == 0)
                s_gateway_on_message (t, frame);
            else
                s_actor_on_message (t->actors [at - 1], frame);
            zframe_destroy (&frame);
        }
    }
}

//  The envelope text of the route the gateway sends as route_id (static buffer).
const char *
fake_envelope_text (uint64_t gateway_route_id)
{
    static char text [32];
    snprintf (text, sizeof text, "envelope-%" PRIu64, gateway_route_id);
    return text;
}

void
fake_route (test_t *t, uint64_t route_id, uint32_t partition)
{
    const char *text = fake_envelope_text (route_id);
    uint8_t signature [TLY_SIGNATURE_BYTES] = { 0 };
    Tally__SignedEnvelope envelope = TALLY__SIGNED_ENVELOPE__INIT;
    envelope.envelope.data = (uint8_t *) text;
    envelope.envelope.len = strlen (text);
    envelope.signature.data = signature;
    envelope.signature.len = sizeof signature;
    Tally__Route route = TALLY__ROUTE__INIT;
    route.route_id = route_id;
    route.partition = partition;
    route.envelope = &envelope;
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_ROUTE;
    message.route = &route;
    s_send (t->gateway, &message.base);
}

void
fake_snapshot (test_t *t, uint64_t snapshot_id, uint32_t partition, const char *object_id)
{
    uint8_t reader [TLY_KEY_BYTES] = { 1 };
    Tally__SnapshotRequest snapshot = TALLY__SNAPSHOT_REQUEST__INIT;
    snapshot.snapshot_id = snapshot_id;
    snapshot.partition = partition;
    snapshot.object_id = (char *) object_id;
    snapshot.reader.data = reader;
    snapshot.reader.len = sizeof reader;
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_SNAPSHOT;
    message.snapshot = &snapshot;
    s_send (t->gateway, &message.base);
}

void
fake_answer_snapshot (actor_t *actor, uint64_t snapshot_id, Tally__ErrorCode error_code)
{
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = error_code;
    Tally__SnapshotReply reply = TALLY__SNAPSHOT_REPLY__INIT;
    reply.snapshot_id = snapshot_id;
    reply.error = &error;
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_SNAPSHOT;
    message.snapshot = &reply;
    s_send (actor->sock, &message.base);
}

//  Asks for the router's status and waits for the answer.
Tally__SystemStatus
fake_status (test_t *t, uint64_t status_id)
{
    Tally__GatewayToRouter message = TALLY__GATEWAY_TO_ROUTER__INIT;
    message.body_case = TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID;
    message.status_id = status_id;
    t->have_status = false;
    s_send (t->gateway, &message.base);
    WAIT_UNTIL (t, t->have_status && t->status_id == status_id);
    assert (t->status.partition_count == PARTITIONS);
    return t->status;
}

//  A reply to route_id: results carries a balance, or error is set.
void
fake_answer (actor_t *actor, uint64_t route_id, Tally__ErrorCode error_code, int64_t balance)
{
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 7 };
    Tally__UserBalance user_balance = TALLY__USER_BALANCE__INIT;
    user_balance.balance = balance;
    Tally__MessageResult result = TALLY__MESSAGE_RESULT__INIT;
    result.message_id.data = message_id;
    result.message_id.len = sizeof message_id;
    result.outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_BALANCE;
    result.balance = &user_balance;
    Tally__MessageResult *results [] = { &result };
    Tally__Error error = TALLY__ERROR__INIT;
    error.code = error_code;
    Tally__RouteReply reply = TALLY__ROUTE_REPLY__INIT;
    reply.route_id = route_id;
    if (error_code != TALLY__ERROR_CODE__OK)
        reply.error = &error;
    else {
        reply.n_results = 1;
        reply.results = results;
    }
    Tally__ActorToRouter message = TALLY__ACTOR_TO_ROUTER__INIT;
    message.body_case = TALLY__ACTOR_TO_ROUTER__BODY_REPLY;
    message.reply = &reply;
    s_send (actor->sock, &message.base);
}

seen_reply_t *
fake_reply_for (test_t *t, uint64_t route_id)
{
    for (size_t at = 0; at < t->reply_count; at++)
        if (t->replies [at].route_id == route_id && !t->replies [at].snapshot)
            return &t->replies [at];
    return NULL;
}

seen_reply_t *
fake_snapshot_reply_for (test_t *t, uint64_t snapshot_id)
{
    for (size_t at = 0; at < t->reply_count; at++)
        if (t->replies [at].route_id == snapshot_id && t->replies [at].snapshot)
            return &t->replies [at];
    return NULL;
}

size_t
fake_replies_for (test_t *t, uint64_t route_id)
{
    size_t count = 0;
    for (size_t at = 0; at < t->reply_count; at++)
        count += t->replies [at].route_id == route_id && !t->replies [at].snapshot;
    return count;
}

//  How many requests carrying text (envelope or object ID) the actor received.
size_t
fake_received (actor_t *actor, const char *text)
{
    size_t count = 0;
    for (size_t at = 0; at < actor->route_count; at++)
        count += strcmp (actor->routes [at].envelope, text) == 0;
    return count;
}

//  The router's id on the request carrying text.
uint64_t
fake_received_id (actor_t *actor, const char *text)
{
    for (size_t at = 0; at < actor->route_count; at++)
        if (strcmp (actor->routes [at].envelope, text) == 0)
            return actor->routes [at].route_id;
    abort ();
}

//  How many times the actor received the envelope the gateway sent as route_id.
size_t
fake_deliveries (actor_t *actor, uint64_t gateway_route_id)
{
    return fake_received (actor, fake_envelope_text (gateway_route_id));
}

//  The router's route_id for the envelope the gateway sent as route_id.
uint64_t
fake_router_id (actor_t *actor, uint64_t gateway_route_id)
{
    return fake_received_id (actor, fake_envelope_text (gateway_route_id));
}

uint64_t
fake_max_epoch (actor_t *actor)
{
    uint64_t max = 0;
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        if (actor->epochs [partition] > max)
            max = actor->epochs [partition];
    return max;
}

actor_t *
fake_rule_owner (actor_t **actors, size_t n, uint32_t partition)
{
    assert (n >= 1 && n <= ACTORS_MAX && partition < PARTITIONS);
    tly_router_actor_t named [ACTORS_MAX];
    tly_router_actor_t *live [ACTORS_MAX];
    for (size_t at = 0; at < n; at++) {
        memset (&named [at], 0, sizeof named [at]);
        snprintf (named [at].name, sizeof named [at].name, "%s", actors [at]->name);
        named [at].name_hash = tly_router_partmap_name_hash (named [at].name);
        live [at] = &named [at];
    }
    return actors [tly_router_partmap_pick (live, n, partition)];
}

bool
fake_split_by_rule (actor_t **actors, size_t n)
{
    uint32_t owned [ACTORS_MAX] = { 0 };
    for (uint32_t partition = 0; partition < PARTITIONS; partition++) {
        actor_t *owner = fake_rule_owner (actors, n, partition);
        for (size_t at = 0; at < n; at++) {
            bool listed = actors [at]->epochs [partition] != 0;
            if (listed != (actors [at] == owner))
                return false;
            owned [at] += listed;
        }
    }
    //  No list names a partition twice.
    for (size_t at = 0; at < n; at++)
        if (actors [at]->owned != owned [at])
            return false;
    return true;
}

int
fake_exit_code (test_t *t, char *const argv [])
{
    assert (strcmp (argv [0], TALLY_ROUTER_BIN) == 0);
    th_process_t *router = th_process_new ("tally-router", argv);
    th_process_set_log (router, "/dev/null");
    th_process_start (router);
    TH_WAIT_UNTIL (!th_process_running (router), TH_DEADLINE_MS, fake_pump (t, 20));
    int code = th_process_status (router);
    th_process_destroy (&router);
    return code;
}

//  Receives one whole message, failing the test after WAIT_MS.
zmsg_t *
fake_recv_within (test_t *t, zsock_t *sock)
{
    TH_WAIT_UNTIL (zsock_events (sock) & ZMQ_POLLIN, WAIT_MS, fake_pump (t, 20));
    zmsg_t *message = zmsg_recv (sock);
    assert (message);
    return message;
}
