//  gateway_snapshot_test - how the real tally-gateway gets its snapshots over
//  the update bus (docs/protocol.md "Clone pattern at the gateway"), against
//  a fake cluster (gateway_cluster): the SnapshotReply and the bus snapshot
//  in either order at the gateway, a bus snapshot lost because the gateway's
//  subscription had not reached the bus yet, or never published, snapshots
//  for other requesters, stale ones and an earlier run's, and the end of a
//  subscribe and of a resync after TLY_GATEWAY_SNAPSHOT_ATTEMPTS requests.
#include <sodium.h>
#include "gateway_cluster.h"
#include "tly_gateway_stream.h"
#include "tly_gateway_subs.h"
#include "tly_wire.h"
#include "tly_account.h"
#include "tly_object_id.h"

#define TIMEOUT TALLY__ERROR_CODE__TIMEOUT

typedef struct {
    tly_account_t worker, alice, bob;
    char worker_id [TLY_ID_MAX];
    char balance [TLY_ID_MAX];  //  alice's
    char bob_balance [TLY_ID_MAX];
    char root [TLY_ID_MAX];  //  alice's
    char bob_root [TLY_ID_MAX];
    char log [TLY_ID_MAX];  //  alice's purchases
} world_t;

//  Answers the next SnapshotRequest (for id, by reader) with a
//  SnapshotReply{version} only: the bus never brings the snapshot. Its
//  requester goes to requester when that is not NULL. Returns when the
//  reply went, by the monotonic clock the gateway uses too.
static int64_t
s_answer_unseen (cluster_t *cluster, const char *id, const tly_account_t *reader, uint64_t version,
                 uint8_t *requester)
{
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = cluster_expect_request (cluster, &identity, id, reader);
    if (requester)
        memcpy (requester, request->snapshot->requester.data, CLUSTER_REQUESTER_BYTES);
    int64_t replied_ms = tly_mono_ms ();
    cluster_answer (cluster, &identity, &request, version, OK, CLUSTER_BUS_NEVER);
    return replied_ms;
}

//  The next SnapshotRequest (for id, by reader) comes at least
//  TLY_GATEWAY_BUS_WAIT_MS after replied_ms, under a new number.
static Tally__GatewayToRouter *
s_expect_again (cluster_t *cluster, zframe_t **identity_p, const char *id,
                const tly_account_t *reader, int64_t replied_ms)
{
    Tally__GatewayToRouter *request = cluster_expect_request (cluster, identity_p, id, reader);
    int64_t waited_ms = tly_mono_ms () - replied_ms;
    if (th_verbose)
        printf ("   asked again after %lld ms\n", (long long) waited_ms);
    CHECK (waited_ms >= TLY_GATEWAY_BUS_WAIT_MS);
    return request;
}

//  Either order at the gateway, lost and never-published snapshots, other
//  requesters, the last attempt. Leaves the gateway's instance in instance.
static void
s_test_bus_snapshots (const world_t *world, uint8_t instance [CLUSTER_INSTANCE_BYTES])
{
    cluster_t *cluster = cluster_new (&world->worker, &world->alice);
    char endpoint [64];
    char *flags [] = { NULL };
    cluster_start (cluster, world->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *one = client_new (endpoint, 0, 0);
    zsock_t *two = client_new (endpoint, 0, 0);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = NULL;
    uint8_t first [CLUSTER_REQUESTER_BYTES];
    char last_attempt [64];
    snprintf (last_attempt, sizeof (last_attempt), "after %d requests",
              TLY_GATEWAY_SNAPSHOT_ATTEMPTS);

    th_step ("SnapshotReply first at the gateway: the snapshot comes from the bus");
    client_subscribe (one, &world->alice, world->balance, 1, false);
    cluster_expect_bus (cluster, world->balance, true);
    s_answer_unseen (cluster, world->balance, &world->alice, 3, first);
    client_barrier (cluster, one, 100);
    cluster_publish_for (cluster, world->balance, 3, first, sizeof (first));
    client_expect_object (cluster, one, 1, NOT_PUSHED, world->balance, 3, OK);
    cluster_publish (cluster, world->balance, 4);
    client_expect_object (cluster, one, 1, UPDATE, world->balance, 4, OK);

    th_step ("the bus snapshot first: delivered at once; the late reply changes"
             " nothing");
    client_subscribe (one, &world->bob, world->bob_balance, 2, false);
    cluster_expect_bus (cluster, world->bob_balance, true);
    request = cluster_expect_request (cluster, &identity, world->bob_balance, &world->bob);
    cluster_publish_for (cluster, world->bob_balance, 5, request->snapshot->requester.data,
                         request->snapshot->requester.len);
    client_expect_object (cluster, one, 2, NOT_PUSHED, world->bob_balance, 5, OK);
    cluster_answer (cluster, &identity, &request, 5, OK, CLUSTER_BUS_NEVER);
    client_barrier (cluster, one, 101);
    cluster_publish (cluster, world->bob_balance, 6);
    client_expect_object (cluster, one, 2, UPDATE, world->bob_balance, 6, OK);

    th_step ("a snapshot published before the gateway's subscription reached the"
             " bus is lost: asked again, delivered");
    client_subscribe (one, &world->alice, world->log, 3, false);
    request = cluster_expect_request (cluster, &identity, world->log, &world->alice);
    int64_t replied_ms = tly_mono_ms ();
    cluster_answer (cluster, &identity, &request, 2, OK, CLUSTER_BUS_EARLY);
    request = s_expect_again (cluster, &identity, world->log, &world->alice, replied_ms);
    cluster_answer (cluster, &identity, &request, 2, OK, CLUSTER_REPLY_FIRST);
    client_expect_object (cluster, one, 3, NOT_PUSHED, world->log, 2, OK);
    cluster_expect_bus (cluster, world->log, true);

    th_step ("another gateway's snapshot, a stale one and garbage are not delivered");
    client_subscribe (one, &world->alice, world->root, 4, false);
    cluster_expect_bus (cluster, world->root, true);
    replied_ms = s_answer_unseen (cluster, world->root, &world->alice, 7, first);
    uint8_t other [CLUSTER_REQUESTER_BYTES];
    memcpy (other, first, sizeof (other));
    other [0] ^= 0xff;
    cluster_publish_for (cluster, world->root, 7, other, sizeof (other));
    request = s_expect_again (cluster, &identity, world->root, &world->alice, replied_ms);
    cluster_publish_for (cluster, world->root, 8, first, sizeof (first));
    cluster_publish_garbage (cluster, world->root);
    cluster_answer (cluster, &identity, &request, 9, OK, CLUSTER_BUS_FIRST);
    client_expect_object (cluster, one, 4, NOT_PUSHED, world->root, 9, OK);

    th_step ("someone else's snapshot is no update: no gap, no resync");
    cluster_publish_for (cluster, world->root, 11, other, sizeof (other));
    cluster_publish (cluster, world->root, 10);
    client_expect_object (cluster, one, 4, UPDATE, world->root, 10, OK);
    client_barrier (cluster, one, 102);

    th_step ("a resync whose snapshot the bus does not bring: asked again, SNAPSHOT");
    cluster_publish (cluster, world->balance, 6);
    replied_ms = s_answer_unseen (cluster, world->balance, &world->alice, 6, NULL);
    request = s_expect_again (cluster, &identity, world->balance, &world->alice, replied_ms);
    cluster_answer (cluster, &identity, &request, 6, OK, CLUSTER_REPLY_FIRST);
    client_expect_object (cluster, one, 1, SNAPSHOT, world->balance, 6, OK);

    th_step ("no snapshot on the bus after the last request: the subscribe gets"
             " TIMEOUT, the topic is dropped");
    client_subscribe (two, &world->bob, world->bob_root, 1, false);
    cluster_expect_bus (cluster, world->bob_root, true);
    for (int attempt = 1; attempt <= TLY_GATEWAY_SNAPSHOT_ATTEMPTS; attempt++)
        s_answer_unseen (cluster, world->bob_root, &world->bob, 1, NULL);
    client_expect_error (cluster, two, 1, NOT_PUSHED, TIMEOUT, last_attempt);
    cluster_expect_bus (cluster, world->bob_root, false);
    client_barrier (cluster, two, 2);

    th_step ("the same for a resync: ENDED with TIMEOUT");
    cluster_publish (cluster, world->bob_balance, 8);
    for (int attempt = 1; attempt <= TLY_GATEWAY_SNAPSHOT_ATTEMPTS; attempt++)
        s_answer_unseen (cluster, world->bob_balance, &world->bob, 8, NULL);
    client_expect_error (cluster, one, 2, ENDED, TIMEOUT, last_attempt);
    cluster_expect_bus (cluster, world->bob_balance, false);
    cluster_publish (cluster, world->balance, 7);
    client_expect_object (cluster, one, 1, UPDATE, world->balance, 7, OK);

    memcpy (instance, cluster->instance, CLUSTER_INSTANCE_BYTES);
    zsock_destroy (&one);
    zsock_destroy (&two);
    gateway_stop ();
    cluster_destroy (&cluster);
}

//  A gateway started again picks a new instance: a snapshot for the old
//  one's request with the very same number is not for it.
static void
s_test_new_instance (const world_t *world, const uint8_t old [CLUSTER_INSTANCE_BYTES])
{
    cluster_t *cluster = cluster_new (&world->worker, &world->alice);
    char endpoint [64];
    char *flags [] = { NULL };
    cluster_start (cluster, world->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *client = client_new (endpoint, 0, 0);

    th_step ("a new run, a new instance: the old one's snapshots are not delivered");
    client_subscribe (client, &world->alice, world->balance, 1, false);
    cluster_expect_bus (cluster, world->balance, true);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = cluster_expect_request (cluster, &identity, world->balance,
                                                              &world->alice);
    CHECK (memcmp (cluster->instance, old, CLUSTER_INSTANCE_BYTES) != 0);
    uint8_t requester [CLUSTER_REQUESTER_BYTES];
    memcpy (requester, request->snapshot->requester.data, sizeof (requester));
    memcpy (requester, old, CLUSTER_INSTANCE_BYTES);
    cluster_publish_for (cluster, world->balance, 5, requester, sizeof (requester));
    cluster_answer (cluster, &identity, &request, 6, OK, CLUSTER_REPLY_FIRST);
    client_expect_object (cluster, client, 1, NOT_PUSHED, world->balance, 6, OK);

    zsock_destroy (&client);
    gateway_stop ();
    cluster_destroy (&cluster);
}

int
main (int argc, char *argv [])
{
    gateway_process_init (argc, argv);
    world_t world;
    CHECK (tly_account_generate (&world.worker) == 0);
    CHECK (tly_account_generate (&world.alice) == 0);
    CHECK (tly_account_generate (&world.bob) == 0);
    tly_account_id (world.worker.sign_pk, world.worker_id);
    const uint8_t *alice = world.alice.sign_pk;
    const uint8_t *bob = world.bob.sign_pk;
    tly_user_object_id (TLY_OBJ_BALANCE, alice, CLUSTER_PARTITIONS, world.balance);
    tly_user_object_id (TLY_OBJ_BALANCE, bob, CLUSTER_PARTITIONS, world.bob_balance);
    tly_user_object_id (TLY_OBJ_ROOT, alice, CLUSTER_PARTITIONS, world.root);
    tly_user_object_id (TLY_OBJ_ROOT, bob, CLUSTER_PARTITIONS, world.bob_root);
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, alice, CLUSTER_PARTITIONS, world.log);

    uint8_t instance [CLUSTER_INSTANCE_BYTES];
    s_test_bus_snapshots (&world, instance);
    s_test_new_instance (&world, instance);
    if (th_verbose)
        printf ("gateway_snapshot_test: OK\n");
    return 0;
}
