//  tly_bus self-test: subscriptions and leases decide what is watched; what
//  is published arrives as topic + signed BusObject.
#include "tly_bus.h"

#include <assert.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "tly_account.h"
#include "tly_object_id.h"
#include "tly_sign.h"
#include "tly_wire.h"

#define S_LEASE_MS    100
#define S_DEADLINE_MS 5000

//  Sends a subscription message upstream, as the router's XSUB does.
static void
s_subscription (zsock_t *xsub, uint8_t what, const uint8_t *topic, size_t size)
{
    uint8_t message [1 + TLY_BUS_TOPIC_BYTES + 1];
    message [0] = what;
    memcpy (message + 1, topic, size);
    assert (zmq_send (zsock_resolve (xsub), message, 1 + size, 0) == (int) (1 + size));
}

//  Lets the bus read its subscriptions until watched (topic) is want. The
//  XSUB is polled too: only then does it take the bus's connection and send
//  it the subscriptions made before.
static void
s_until_watched (tly_bus_t *bus, zsock_t *xsub, const uint8_t *topic, bool want)
{
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    zpoller_t *poller = zpoller_new (xsub, NULL);
    zpoller_add (poller, tly_bus_socket (bus));
    while (tly_bus_watched (bus, topic) != want) {
        assert (zclock_mono () < deadline);
        if (zpoller_wait (poller, 10))
            tly_bus_on_socket (bus);
    }
    zpoller_destroy (&poller);
}

//  What tly_bus_each_watched listed.
typedef struct {
    uint8_t topics [4][TLY_BUS_TOPIC_BYTES];
    size_t count;
} s_listed_t;

static void
s_list (const uint8_t topic [TLY_BUS_TOPIC_BYTES], void *arg)
{
    s_listed_t *listed = arg;
    assert (listed->count < 4);
    memcpy (listed->topics [listed->count++], topic, TLY_BUS_TOPIC_BYTES);
}

static bool
s_listed (const s_listed_t *listed, const uint8_t *topic)
{
    for (size_t i = 0; i < listed->count; i++)
        if (memcmp (listed->topics [i], topic, TLY_BUS_TOPIC_BYTES) == 0)
            return true;
    return false;
}

//  What tly_bus_each_settled called back with, in order.
static void
s_settled (const uint8_t topic [TLY_BUS_TOPIC_BYTES], uint32_t partition, void *arg)
{
    assert (partition == tly_object_key_partition (topic));
    s_list (topic, arg);
}

//  Calls tly_bus_each_settled until want objects came due, in listed.
static void
s_until_settled (tly_bus_t *bus, s_listed_t *listed, size_t want)
{
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    listed->count = 0;
    while (listed->count < want) {
        tly_bus_each_settled (bus, s_settled, listed);
        assert (zclock_mono () < deadline);
        zpoller_t *poller = zpoller_new (NULL);
        zpoller_wait (poller, 5);
        zpoller_destroy (&poller);
    }
}

//  Ticks until the bus has forgotten every entry.
static void
s_until_idle (tly_bus_t *bus)
{
    int64_t deadline = zclock_mono () + S_DEADLINE_MS;
    while (!tly_bus_idle (bus)) {
        assert (zclock_mono () < deadline);
        tly_bus_tick (bus);
        zpoller_t *poller = zpoller_new (NULL);
        zpoller_wait (poller, 10);
        zpoller_destroy (&poller);
    }
}

static Tally__BusObject *
s_receive (zsock_t *xsub, const uint8_t *topic)
{
    zpoller_t *poller = zpoller_new (xsub, NULL);
    assert (zpoller_wait (poller, S_DEADLINE_MS) == xsub);
    zpoller_destroy (&poller);
    zmsg_t *message = zmsg_recv (xsub);
    assert (message && zmsg_size (message) == 2);
    zframe_t *frame = zmsg_first (message);
    assert (zframe_size (frame) == TLY_BUS_TOPIC_BYTES);
    assert (memcmp (zframe_data (frame), topic, TLY_BUS_TOPIC_BYTES) == 0);
    frame = zmsg_next (message);
    Tally__BusObject *bus = tally__bus_object__unpack (NULL, zframe_size (frame),
                                                       zframe_data (frame));
    assert (bus && bus->object);
    zmsg_destroy (&message);
    return bus;
}

void
tly_bus_test (bool verbose)
{
    if (verbose)
        printf (" * tly_bus: ");
    assert (sodium_init () >= 0);
    tly_account_t worker;
    assert (tly_account_generate (&worker) == 0);
    zsock_t *xsub = zsock_new (ZMQ_XSUB);
    assert (xsub);
    zsock_set_linger (xsub, 0);
    int port = zsock_bind (xsub, "tcp://127.0.0.1:*");
    assert (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    tly_bus_t *bus = tly_bus_new (endpoint, NULL, worker.sign_sk, S_LEASE_MS);
    assert (bus);
    //  Nothing settles before the settling part below, however slow the run.
    tly_bus_set_settle_ms (bus, 600000);
    assert (tly_bus_idle (bus));

    char id [TLY_ID_MAX];
    uint8_t topic [TLY_BUS_TOPIC_BYTES], other [TLY_BUS_TOPIC_BYTES];
    tly_user_object_id (TLY_OBJ_BALANCE, worker.sign_pk, 16, id);
    int decoded = tly_base58_decode (id + 4, topic, sizeof topic);
    assert (decoded == TLY_BUS_TOPIC_BYTES);
    memcpy (other, topic, sizeof other);
    other [18] ^= 1;

    //  Subscribe to everything (ignored), junk (ignored), then one topic.
    s_subscription (xsub, 1, topic, 0);
    s_subscription (xsub, 7, topic, TLY_BUS_TOPIC_BYTES);
    s_subscription (xsub, 1, topic, 5);
    s_subscription (xsub, 1, topic, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, topic, true);
    assert (!tly_bus_watched (bus, other) && !tly_bus_idle (bus));

    Tally__UserBalance balance = TALLY__USER_BALANCE__INIT;
    balance.id = id;
    balance.balance = 42;
    Tally__ObjectValue value = TALLY__OBJECT_VALUE__INIT;
    value.kind_case = TALLY__OBJECT_VALUE__KIND_BALANCE;
    value.balance = &balance;
    Tally__ObjectState state = TALLY__OBJECT_STATE__INIT;
    state.object_id = id;
    state.version = 3;
    state.value = &value;
    assert (tly_bus_publish (bus, topic, &state, NULL) == 0);
    Tally__BusObject *received = s_receive (xsub, topic);
    assert (received->requester.len == 0);
    Tally__SignedObject *object = received->object;
    assert (tly_verify_domain (TLY_DOMAIN_OBJECT, worker.sign_pk, object->state.data,
                               object->state.len, object->signature.data, object->signature.len));
    assert (!tly_verify_domain (TLY_DOMAIN_ENVELOPE, worker.sign_pk, object->state.data,
                                object->state.len, object->signature.data, object->signature.len));
    Tally__ObjectState *back = tally__object_state__unpack (NULL, object->state.len,
                                                            object->state.data);
    assert (back && back->version == 3 && back->value->balance->balance == 42);
    tally__object_state__free_unpacked (back, NULL);
    tally__bus_object__free_unpacked (received, NULL);

    //  Unsubscribed: no longer watched, and forgotten.
    s_subscription (xsub, 0, topic, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, topic, false);
    assert (tly_bus_idle (bus));

    //  A snapshot leases its topic for a while, then the tick forgets it.
    uint8_t requester [] = { 9, 9, 9 };
    ProtobufCBinaryData ask = { sizeof requester, requester };
    assert (tly_bus_publish (bus, other, &state, &ask) == 0);
    received = s_receive (xsub, other);
    assert (received->requester.len == 3 && received->requester.data [0] == 9);
    tally__bus_object__free_unpacked (received, NULL);
    assert (tly_bus_watched (bus, other) && !tly_bus_idle (bus));
    s_until_watched (bus, xsub, other, false);
    s_until_idle (bus);
    //  A subscription outlives its lease: once a lease taken later has run
    //  out, so has the first, and the subscription still counts.
    uint8_t third [TLY_BUS_TOPIC_BYTES];
    memcpy (third, topic, sizeof third);
    third [17] ^= 1;
    s_subscription (xsub, 1, topic, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, topic, true);
    assert (tly_bus_publish (bus, topic, &state, &ask) == 0);
    assert (tly_bus_publish (bus, third, &state, &ask) == 0);
    tally__bus_object__free_unpacked (s_receive (xsub, topic), NULL);
    tally__bus_object__free_unpacked (s_receive (xsub, third), NULL);
    s_until_watched (bus, xsub, third, false);
    tly_bus_tick (bus);
    assert (tly_bus_watched (bus, topic));

    //  A partition's watched objects are listed (not one whose lease ran
    //  out); another partition's list is empty.
    uint32_t partition = tly_object_key_partition (topic);
    assert (tly_object_key_partition (third) == partition);
    s_listed_t listed = { .count = 0 };
    tly_bus_each_watched (bus, partition, s_list, &listed);
    assert (listed.count == 1 && s_listed (&listed, topic));
    listed.count = 0;
    tly_bus_each_watched (bus, (partition + 1) % TLY_PARTITIONS_MAX, s_list, &listed);
    assert (listed.count == 0);
    s_subscription (xsub, 1, third, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, third, true);
    tly_bus_each_watched (bus, partition, s_list, &listed);
    assert (listed.count == 2 && s_listed (&listed, topic) && s_listed (&listed, third));

    //  A current state goes out marked so, for no requester, leasing nothing.
    state.version = 4;
    assert (tly_bus_publish_current (bus, topic, &state) == 0);
    received = s_receive (xsub, topic);
    assert (received->current && received->requester.len == 0);
    back = tally__object_state__unpack (NULL, received->object->state.len,
                                        received->object->state.data);
    assert (back && back->version == 4);
    tally__object_state__free_unpacked (back, NULL);
    tally__bus_object__free_unpacked (received, NULL);

    //  Settling: an object published as an update comes due once, after
    //  the settle time, oldest first; one published current since does
    //  not; a later update moves it to the back.
    tly_bus_set_settle_ms (bus, 30);
    assert (tly_bus_each_settled (bus, s_settled, &listed) == 0);  //  current: settled
    state.version = 5;
    assert (tly_bus_publish (bus, third, &state, NULL) == 0);
    assert (tly_bus_publish (bus, topic, &state, NULL) == 0);
    listed.count = 0;
    assert (tly_bus_each_settled (bus, s_settled, &listed) == 0);  //  not yet
    s_until_settled (bus, &listed, 2);
    assert (listed.count == 2 && memcmp (listed.topics [0], third, sizeof third) == 0
            && memcmp (listed.topics [1], topic, sizeof topic) == 0);
    assert (tly_bus_each_settled (bus, s_settled, &listed) == 0);  //  once
    tally__bus_object__free_unpacked (s_receive (xsub, third), NULL);
    tally__bus_object__free_unpacked (s_receive (xsub, topic), NULL);
    assert (tly_bus_publish (bus, topic, &state, NULL) == 0);
    assert (tly_bus_publish (bus, third, &state, NULL) == 0);
    assert (tly_bus_publish (bus, topic, &state, NULL) == 0);    //  to the back
    assert (tly_bus_publish_current (bus, third, &state) == 0);  //  settled now
    s_until_settled (bus, &listed, 1);
    assert (listed.count == 1 && s_listed (&listed, topic));
    for (int i = 0; i < 4; i++)
        tally__bus_object__free_unpacked (s_receive (xsub, i % 2 ? third : topic), NULL);
    //  An object forgotten with an update unsettled leaves the list.
    assert (tly_bus_publish (bus, third, &state, NULL) == 0);
    tally__bus_object__free_unpacked (s_receive (xsub, third), NULL);
    s_subscription (xsub, 0, third, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, third, false);
    //  Subscribed again: newly watched, it comes due once more (its state
    //  may have changed while nobody watched), and only once.
    s_subscription (xsub, 1, third, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, third, true);
    s_until_settled (bus, &listed, 1);
    assert (listed.count == 1 && s_listed (&listed, third));
    assert (tly_bus_each_settled (bus, s_settled, &listed) == 0);

    //  What is forgotten leaves the list (their leases ran out long ago).
    s_subscription (xsub, 0, topic, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, topic, false);
    listed.count = 0;
    tly_bus_each_watched (bus, partition, s_list, &listed);
    assert (listed.count == 1 && s_listed (&listed, third));
    s_subscription (xsub, 0, third, TLY_BUS_TOPIC_BYTES);
    s_until_watched (bus, xsub, third, false);
    listed.count = 0;
    tly_bus_each_watched (bus, partition, s_list, &listed);
    assert (listed.count == 0);
    s_until_idle (bus);

    tly_bus_destroy (&bus);
    assert (bus == NULL);
    zsock_destroy (&xsub);
    if (verbose)
        printf ("OK\n");
}
