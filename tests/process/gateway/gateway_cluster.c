//  gateway_cluster - a fake cluster for the gateway's read-path tests. See
//  gateway_cluster.h.
#include "gateway_cluster.h"

#include <sodium.h>
#include "gateway_fixture.h"
#include "tly_object_id.h"
#include "tly_sign.h"
#include "tly_validate.h"
#include "tly_wire.h"

cluster_t *
cluster_new (const tly_account_t *worker, const tly_account_t *owner)
{
    cluster_t *cluster = calloc (1, sizeof (*cluster));
    CHECK (cluster);
    cluster->worker = worker;
    cluster->owner = owner;
    cluster->order = CLUSTER_REPLY_FIRST;
    cluster->router = zsock_new (ZMQ_ROUTER);
    cluster->bus = zsock_new (ZMQ_XPUB);
    CHECK (cluster->router && cluster->bus);
    zsock_set_xpub_manual (cluster->bus, 1);
    int port = zsock_bind (cluster->router, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    snprintf (cluster->router_endpoint, sizeof (cluster->router_endpoint), "tcp://127.0.0.1:%d",
              port);
    port = zsock_bind (cluster->bus, "tcp://127.0.0.1:*");
    CHECK (port > 0);
    snprintf (cluster->bus_endpoint, sizeof (cluster->bus_endpoint), "tcp://127.0.0.1:%d", port);
    return cluster;
}

void
cluster_destroy (cluster_t **cluster_p)
{
    zsock_destroy (&(*cluster_p)->router);
    zsock_destroy (&(*cluster_p)->bus);
    free (*cluster_p);
    *cluster_p = NULL;
}

void
cluster_start (cluster_t *cluster, const char *worker_id, char *endpoint, size_t size,
               char *flags [])
{
    snprintf (endpoint, size, "tcp://127.0.0.1:%d", th_free_port ());
    char *argv [32] = { NULL,
                        "--bind",
                        endpoint,
                        "--router",
                        cluster->router_endpoint,
                        "--bus",
                        cluster->bus_endpoint };
    size_t count = 7;
    for (size_t index = 0; flags [index]; index++) {
        CHECK (count + 1 < sizeof (argv) / sizeof (argv [0]));
        argv [count++] = flags [index];
    }
    gateway_start (argv, worker_id);
}

void
cluster_restart (cluster_t *cluster)
{
    zsock_destroy (&cluster->router);
    zsock_destroy (&cluster->bus);
    cluster->router = zsock_new (ZMQ_ROUTER);
    cluster->bus = zsock_new (ZMQ_XPUB);
    CHECK (cluster->router && cluster->bus);
    zsock_set_xpub_manual (cluster->bus, 1);
    //  The old sockets' ports are released by libzmq's I/O thread, a moment
    //  after they are destroyed.
    TH_WAIT_UNTIL (zsock_bind (cluster->router, "%s", cluster->router_endpoint) != -1,
                   CLUSTER_WAIT_MS, th_sleep_ms (10));
    TH_WAIT_UNTIL (zsock_bind (cluster->bus, "%s", cluster->bus_endpoint) != -1, CLUSTER_WAIT_MS,
                   th_sleep_ms (10));
    cluster->topic_count = 0;
    cluster->event_count = 0;
}

static cluster_object_t *
s_object (cluster_t *cluster, const char *id)
{
    for (size_t index = 0; index < cluster->object_count; index++)
        if (strcmp (cluster->objects [index].id, id) == 0)
            return &cluster->objects [index];
    CHECK (cluster->object_count < CLUSTER_OBJECTS_MAX);
    cluster_object_t *object = &cluster->objects [cluster->object_count++];
    snprintf (object->id, sizeof (object->id), "%s", id);
    object->version = 1;
    return object;
}

void
cluster_topic (const char *id, uint8_t topic [CLUSTER_TOPIC_BYTES])
{
    tly_object_kind_t kind = 0;
    uint32_t partition = 0;
    CHECK (tly_object_id_parse (id, &kind, &partition, topic + 3) == 0);
    topic [0] = (uint8_t) kind;
    topic [1] = (uint8_t) (partition >> 8);
    topic [2] = (uint8_t) partition;
}

//  --------------------------------------------------------------------------
//  The bus

static void
s_send_bus (cluster_t *cluster, const char *id, const uint8_t *data, size_t size)
{
    uint8_t topic [CLUSTER_TOPIC_BYTES];
    cluster_topic (id, topic);
    zframe_t *frame = zframe_new (topic, CLUSTER_TOPIC_BYTES);
    CHECK (zframe_send (&frame, cluster->bus, ZFRAME_MORE) == 0);
    frame = zframe_new (data, size);
    CHECK (zframe_send (&frame, cluster->bus, 0) == 0);
}

static void
s_publish (cluster_t *cluster, const char *id, uint64_t version, const uint8_t *requester,
           size_t requester_size, bool current)
{
    cluster_object_t *object = s_object (cluster, id);
    if (version > object->version)
        object->version = version;
    size_t size = 0;
    uint8_t *bytes = gateway_fixture_object (cluster->worker, cluster->owner, id, version, &size);
    Tally__SignedObject *signed_object = tally__signed_object__unpack (NULL, size, bytes);
    CHECK (signed_object);
    free (bytes);
    Tally__BusObject message = TALLY__BUS_OBJECT__INIT;
    message.object = signed_object;
    message.requester.len = requester_size;
    message.requester.data = (uint8_t *) requester;
    message.current = current;
    zframe_t *frame = tly_wire_pack (&message.base);
    s_send_bus (cluster, id, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    tally__signed_object__free_unpacked (signed_object, NULL);
}

void
cluster_publish_for (cluster_t *cluster, const char *id, uint64_t version, const uint8_t *requester,
                     size_t requester_size)
{
    s_publish (cluster, id, version, requester, requester_size, false);
}

void
cluster_publish (cluster_t *cluster, const char *id, uint64_t version)
{
    s_publish (cluster, id, version, NULL, 0, false);
}

void
cluster_publish_current (cluster_t *cluster, const char *id, uint64_t version)
{
    s_publish (cluster, id, version, NULL, 0, true);
}

void
cluster_publish_garbage (cluster_t *cluster, const char *id)
{
    const uint8_t garbage [] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    s_send_bus (cluster, id, garbage, sizeof (garbage));
}

static ssize_t
s_applied (cluster_t *cluster, const uint8_t topic [CLUSTER_TOPIC_BYTES])
{
    for (size_t index = 0; index < cluster->topic_count; index++)
        if (memcmp (cluster->topics [index], topic, CLUSTER_TOPIC_BYTES) == 0)
            return (ssize_t) index;
    return -1;
}

//  Reads one (un)subscription of the gateway, applies it to the XPUB (it
//  applies to the pipe it came from) and queues it for cluster_expect_bus.
static void
s_take_subscription (cluster_t *cluster)
{
    zframe_t *frame = zframe_recv (cluster->bus);
    CHECK (frame && zframe_size (frame) == 1 + CLUSTER_TOPIC_BYTES);
    const uint8_t *topic = zframe_data (frame) + 1;
    bool subscribe = zframe_data (frame) [0] == 1;
    CHECK (zmq_setsockopt (zsock_resolve (cluster->bus),
                           subscribe ? ZMQ_SUBSCRIBE : ZMQ_UNSUBSCRIBE, topic, CLUSTER_TOPIC_BYTES)
           == 0);
    ssize_t at = s_applied (cluster, topic);
    if (subscribe && at < 0) {
        CHECK (cluster->topic_count < CLUSTER_TOPICS_MAX);
        memcpy (cluster->topics [cluster->topic_count++], topic, CLUSTER_TOPIC_BYTES);
    } else if (!subscribe && at >= 0)
        memcpy (cluster->topics [at], cluster->topics [--cluster->topic_count],
                CLUSTER_TOPIC_BYTES);
    CHECK (cluster->event_count < CLUSTER_EVENTS_MAX);
    cluster_event_t *event = &cluster->events [cluster->event_count++];
    memcpy (event->topic, topic, CLUSTER_TOPIC_BYTES);
    event->subscribe = subscribe;
    zframe_destroy (&frame);
}

void
cluster_expect_bus (cluster_t *cluster, const char *id, bool subscribe)
{
    CHECK (cluster_wait (cluster, NULL, CLUSTER_WAIT_MS));
    uint8_t topic [CLUSTER_TOPIC_BYTES];
    cluster_topic (id, topic);
    const cluster_event_t *event = &cluster->events [0];
    CHECK (event->subscribe == subscribe);
    CHECK (memcmp (event->topic, topic, CLUSTER_TOPIC_BYTES) == 0);
    cluster->event_count--;
    memmove (cluster->events, cluster->events + 1, cluster->event_count * sizeof (*event));
}

//  --------------------------------------------------------------------------
//  The router

Tally__GatewayToRouter *
cluster_request (cluster_t *cluster, zframe_t **identity_p)
{
    zpoller_t *poller = zpoller_new (cluster->router, NULL);
    CHECK (zpoller_wait (poller, CLUSTER_WAIT_MS) == cluster->router);
    zpoller_destroy (&poller);
    *identity_p = zframe_recv (cluster->router);
    CHECK (*identity_p && zframe_more (*identity_p));
    zframe_t *frame = zframe_recv (cluster->router);
    CHECK (frame && !zframe_more (frame));
    Tally__GatewayToRouter *message = tally__gateway_to_router__unpack (NULL, zframe_size (frame),
                                                                        zframe_data (frame));
    zframe_destroy (&frame);
    CHECK (message && message->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_SNAPSHOT);
    const Tally__SnapshotRequest *request = message->snapshot;
    uint32_t partition = 0;
    CHECK (tly_object_id_parse (request->object_id, NULL, &partition, NULL) == 0);
    CHECK (request->partition == partition && request->reader.len == TLY_KEY_BYTES);
    CHECK (request->snapshot_id != 0);
    //  requester: the gateway's instance, then a snapshot number (big
    //  endian) newer than any before: a request asked again is a new one.
    CHECK (request->requester.len == CLUSTER_REQUESTER_BYTES);
    if (!cluster->instance_known)
        memcpy (cluster->instance, request->requester.data, CLUSTER_INSTANCE_BYTES);
    cluster->instance_known = true;
    CHECK (memcmp (cluster->instance, request->requester.data, CLUSTER_INSTANCE_BYTES) == 0);
    uint64_t number = 0;
    for (size_t at = CLUSTER_INSTANCE_BYTES; at < CLUSTER_REQUESTER_BYTES; at++)
        number = number << 8 | request->requester.data [at];
    CHECK (number > cluster->last_number);
    cluster->last_number = number;
    return message;
}

Tally__GatewayToRouter *
cluster_expect_request (cluster_t *cluster, zframe_t **identity_p, const char *id,
                        const tly_account_t *reader)
{
    Tally__GatewayToRouter *message = cluster_request (cluster, identity_p);
    CHECK (strcmp (message->snapshot->object_id, id) == 0);
    CHECK (memcmp (message->snapshot->reader.data, reader->sign_pk, TLY_KEY_BYTES) == 0);
    return message;
}

static void
s_reply (cluster_t *cluster, zframe_t *identity, const Tally__SnapshotRequest *request,
         uint64_t version, Tally__ErrorCode code)
{
    Tally__SnapshotReply reply = TALLY__SNAPSHOT_REPLY__INIT;
    reply.snapshot_id = request->snapshot_id;
    Tally__Error error = TALLY__ERROR__INIT;
    if (code != OK) {
        error.code = code;
        error.message = "reader may not read that object";
        reply.error = &error;
    } else
        reply.version = version;
    Tally__RouterToGateway message = TALLY__ROUTER_TO_GATEWAY__INIT;
    message.body_case = TALLY__ROUTER_TO_GATEWAY__BODY_SNAPSHOT;
    message.snapshot = &reply;
    CHECK (tly_wire_send (zsock_resolve (cluster->router), identity, &message.base) == 0);
}

//  Applies the gateway's bus subscriptions until topic is among them.
static void
s_until_applied (cluster_t *cluster, const char *id)
{
    uint8_t topic [CLUSTER_TOPIC_BYTES];
    cluster_topic (id, topic);
    int64_t deadline_ms = tly_mono_ms () + CLUSTER_WAIT_MS;
    zpoller_t *poller = zpoller_new (cluster->bus, NULL);
    while (s_applied (cluster, topic) < 0) {
        int64_t left_ms = deadline_ms - tly_mono_ms ();
        CHECK (left_ms >= 0);
        if (zpoller_wait (poller, (int) left_ms) == cluster->bus)
            s_take_subscription (cluster);
    }
    zpoller_destroy (&poller);
}

void
cluster_answer (cluster_t *cluster, zframe_t **identity_p, Tally__GatewayToRouter **request_p,
                uint64_t version, Tally__ErrorCode code, cluster_order_t order)
{
    const Tally__SnapshotRequest *request = (*request_p)->snapshot;
    const char *id = request->object_id;
    const uint8_t *requester = request->requester.data;
    size_t requester_size = request->requester.len;
    if (code != OK)
        s_reply (cluster, *identity_p, request, 0, code);
    else if (order == CLUSTER_REPLY_FIRST) {
        s_reply (cluster, *identity_p, request, version, OK);
        s_until_applied (cluster, id);
        cluster_publish_for (cluster, id, version, requester, requester_size);
    } else if (order == CLUSTER_BUS_FIRST) {
        s_until_applied (cluster, id);
        cluster_publish_for (cluster, id, version, requester, requester_size);
        s_reply (cluster, *identity_p, request, version, OK);
    } else if (order == CLUSTER_BUS_EARLY) {
        uint8_t topic [CLUSTER_TOPIC_BYTES];
        cluster_topic (id, topic);
        CHECK (s_applied (cluster, topic) < 0);
        cluster_publish_for (cluster, id, version, requester, requester_size);
        s_reply (cluster, *identity_p, request, version, OK);
    } else {
        CHECK (order == CLUSTER_BUS_NEVER);
        s_reply (cluster, *identity_p, request, version, OK);
    }
    zframe_destroy (identity_p);
    tally__gateway_to_router__free_unpacked (*request_p, NULL);
    *request_p = NULL;
}

bool
cluster_wait (cluster_t *cluster, zsock_t *sock, int timeout_ms)
{
    CHECK (sock != cluster->bus && sock != cluster->router);
    int64_t deadline_ms = tly_mono_ms () + timeout_ms;
    zpoller_t *poller = zpoller_new (cluster->bus, NULL);
    if (sock)
        zpoller_add (poller, sock);
    if (cluster->answer)
        zpoller_add (poller, cluster->router);
    bool ready = !sock && cluster->event_count > 0;
    while (!ready) {
        int64_t left_ms = deadline_ms - tly_mono_ms ();
        if (left_ms < 0)
            break;
        void *which = zpoller_wait (poller, (int) left_ms);
        if (which == cluster->bus) {
            s_take_subscription (cluster);
            ready = !sock;
        } else if (which && which == sock)
            ready = true;
        else if (which == cluster->router) {
            zframe_t *identity = NULL;
            Tally__GatewayToRouter *request = cluster_request (cluster, &identity);
            uint64_t version = s_object (cluster, request->snapshot->object_id)->version;
            cluster_answer (cluster, &identity, &request, version, OK, cluster->order);
            cluster->answered++;
        }
    }
    zpoller_destroy (&poller);
    return ready;
}

//  --------------------------------------------------------------------------
//  Clients

zsock_t *
client_new (const char *endpoint, int receive_queue, int receive_buffer)
{
    zsock_t *client = zsock_new (ZMQ_DEALER);
    CHECK (client);
    zsock_set_linger (client, 0);
    if (receive_queue > 0)
        zsock_set_rcvhwm (client, receive_queue);
    if (receive_buffer > 0)
        zsock_set_rcvbuf (client, receive_buffer);
    CHECK (zsock_connect (client, "%s", endpoint) == 0);
    return client;
}

void
client_send (zsock_t *client, uint8_t *bytes, size_t size)
{
    zframe_t *frame = zframe_new (bytes, size);
    CHECK (zframe_send (&frame, client, 0) == 0);
    free (bytes);
}

void
client_subscribe (zsock_t *client, const tly_account_t *reader, const char *id, uint64_t request_id,
                  bool forge)
{
    gateway_fixture_subscribe_t spec = gateway_fixture_subscribe_valid (reader, id, tly_now_ms ());
    spec.forge = forge;
    size_t size = 0;
    uint8_t *bytes = gateway_fixture_subscribe (&spec, request_id, &size);
    client_send (client, bytes, size);
}

Tally__ClientReply *
client_reply (cluster_t *cluster, zsock_t *client)
{
    CHECK (cluster_wait (cluster, client, CLUSTER_WAIT_MS));
    zframe_t *frame = zframe_recv (client);
    CHECK (frame && !zframe_more (frame));
    Tally__ClientReply *reply = tally__client_reply__unpack (NULL, zframe_size (frame),
                                                             zframe_data (frame));
    CHECK (reply);
    zframe_destroy (&frame);
    return reply;
}

uint64_t
client_version_of (cluster_t *cluster, const Tally__ClientReply *reply, const char *id)
{
    CHECK (reply->object);
    const Tally__SignedObject *object = reply->object;
    CHECK (tly_verify_domain (TLY_DOMAIN_OBJECT, cluster->worker->sign_pk, object->state.data,
                              object->state.len, object->signature.data, object->signature.len));
    Tally__ObjectState *state = tally__object_state__unpack (NULL, object->state.len,
                                                             object->state.data);
    CHECK (state && strcmp (state->object_id, id) == 0);
    uint64_t version = state->version;
    tally__object_state__free_unpacked (state, NULL);
    return version;
}

void
client_expect_object (cluster_t *cluster, zsock_t *client, uint64_t request_id,
                      Tally__PushKind push, const char *id, uint64_t version, Tally__ErrorCode code)
{
    Tally__ClientReply *reply = client_reply (cluster, client);
    uint64_t got = client_version_of (cluster, reply, id);
    if (th_verbose && (reply->request_id != request_id || reply->push != push || got != version))
        printf ("   got request_id=%llu push=%d version=%llu\n",
                (unsigned long long) reply->request_id, (int) reply->push,
                (unsigned long long) got);
    CHECK (reply->request_id == request_id && reply->push == push && got == version);
    CHECK (code == OK ? reply->error == NULL : reply->error && reply->error->code == code);
    tally__client_reply__free_unpacked (reply, NULL);
}

void
client_expect_error (cluster_t *cluster, zsock_t *client, uint64_t request_id, Tally__PushKind push,
                     Tally__ErrorCode code, const char *part)
{
    Tally__ClientReply *reply = client_reply (cluster, client);
    if (th_verbose)
        printf ("   request_id=%llu push=%d %s \"%s\"\n", (unsigned long long) reply->request_id,
                (int) reply->push, reply->error ? tly_error_name (reply->error->code) : "(none)",
                reply->error ? reply->error->message : "");
    CHECK (reply->request_id == request_id && reply->push == push);
    CHECK (reply->error && reply->error->code == code && reply->object == NULL);
    CHECK (!part || strstr (reply->error->message, part));
    tally__client_reply__free_unpacked (reply, NULL);
}

void
client_expect_empty (cluster_t *cluster, zsock_t *client, uint64_t request_id)
{
    Tally__ClientReply *reply = client_reply (cluster, client);
    CHECK (reply->request_id == request_id && reply->error == NULL && reply->object == NULL);
    CHECK (reply->push == NOT_PUSHED && reply->status == NULL && reply->n_results == 0);
    tally__client_reply__free_unpacked (reply, NULL);
}

void
client_expect_quiet (cluster_t *cluster, zsock_t *client, uint64_t request_id)
{
    size_t size = 0;
    uint8_t *bytes = gateway_fixture_ping (request_id, &size);
    client_send (client, bytes, size);
    client_expect_empty (cluster, client, request_id);
}

void
client_barrier (cluster_t *cluster, zsock_t *client, uint64_t request_id)
{
    CHECK (!cluster->answer);
    size_t size = 0;
    uint8_t *bytes = gateway_fixture_status (request_id, &size);
    client_send (client, bytes, size);
    zpoller_t *poller = zpoller_new (cluster->router, NULL);
    CHECK (zpoller_wait (poller, CLUSTER_WAIT_MS) == cluster->router);
    zpoller_destroy (&poller);
    zmsg_t *message = zmsg_recv (cluster->router);
    CHECK (message && zmsg_size (message) == 2);
    zframe_t *identity = zmsg_pop (message);
    zframe_t *frame = zmsg_pop (message);
    Tally__GatewayToRouter *status = tally__gateway_to_router__unpack (NULL, zframe_size (frame),
                                                                       zframe_data (frame));
    CHECK (status && status->body_case == TALLY__GATEWAY_TO_ROUTER__BODY_STATUS_ID);
    Tally__StatusReply reply = TALLY__STATUS_REPLY__INIT;
    reply.status_id = status->status_id;
    Tally__RouterToGateway answer = TALLY__ROUTER_TO_GATEWAY__INIT;
    answer.body_case = TALLY__ROUTER_TO_GATEWAY__BODY_STATUS;
    answer.status = &reply;
    CHECK (tly_wire_send (zsock_resolve (cluster->router), identity, &answer.base) == 0);
    tally__gateway_to_router__free_unpacked (status, NULL);
    zframe_destroy (&frame);
    zframe_destroy (&identity);
    zmsg_destroy (&message);
    Tally__ClientReply *status_reply = client_reply (cluster, client);
    CHECK (status_reply->request_id == request_id && status_reply->status);
    tally__client_reply__free_unpacked (status_reply, NULL);
}

void
client_subscribe_answered (cluster_t *cluster, zsock_t *client, const tly_account_t *reader,
                           const char *id, uint64_t request_id, bool new_topic, uint64_t version)
{
    client_subscribe (client, reader, id, request_id, false);
    if (new_topic)
        cluster_expect_bus (cluster, id, true);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = cluster_expect_request (cluster, &identity, id, reader);
    cluster_answer (cluster, &identity, &request, version, OK, cluster->order);
    client_expect_object (cluster, client, request_id, NOT_PUSHED, id, version, OK);
}
