//  gateway_stream_test - the read path of the real tally-gateway, between
//  client DEALERs and a fake cluster (gateway_cluster): the clone pattern
//  with the snapshot answered in either order (SnapshotReply or bus first),
//  a slow client next to a fast one, the limits, the client TTL, a router
//  restart, and the current states an actor announces.
//  gateway_snapshot_test covers how snapshots find their way over the bus.
#include <sodium.h>
#include "gateway_cluster.h"
#include "gateway_fixture.h"
#include "tly_wire.h"
#include "tly_account.h"
#include "tly_object_id.h"

#define PARTITIONS          CLUSTER_PARTITIONS
#define WAIT_MS             CLUSTER_WAIT_MS
#define SNAPSHOT_TIMEOUT_MS 300  //  --timeout-ms in the limits test
#define S_TEXT(value)       S_TEXT_ (value)
#define S_TEXT_(value)      #value
#define CLIENT_QUEUE        "100"  //  --client-queue in the slow-client test
//  Updates published between reads of the fast client: well under the
//  queue, since the gateway writes a burst faster than its I/O thread sends.
#define SLOW_BATCH          25
#define SLOW_VERSIONS_MAX   1000000  //  the slow client must overflow before this

typedef struct {
    tly_account_t worker, alice, bob, stranger;
    char worker_id [TLY_ID_MAX];
} accounts_t;

//  The clone pattern, with every granted snapshot answered in `order`.
static void
s_test_clone_pattern (const accounts_t *accounts, cluster_order_t order)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    cluster->order = order;
    if (th_verbose)
        printf (" = snapshots answered %s\n",
                order == CLUSTER_REPLY_FIRST ? "SnapshotReply first" : "bus first");
    char endpoint [64];
    char *flags [] = { "--client-queue", "50", NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *one = client_new (endpoint, 0, 0);
    zsock_t *two = client_new (endpoint, 0, 0);
    char balance [TLY_ID_MAX], bob_balance [TLY_ID_MAX], root [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->alice.sign_pk, PARTITIONS, balance);
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->bob.sign_pk, PARTITIONS, bob_balance);
    tly_user_object_id (TLY_OBJ_ROOT, accounts->alice.sign_pk, PARTITIONS, root);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = NULL;

    th_step ("subscribe: bus topic, snapshot request, the bus snapshot as the answer");
    client_subscribe_answered (cluster, one, &accounts->alice, balance, 1, true, 1);

    th_step ("updates v2, v3: UPDATE pushes, in order");
    cluster_publish (cluster, balance, 2);
    cluster_publish (cluster, balance, 3);
    client_expect_object (cluster, one, 1, UPDATE, balance, 2, OK);
    client_expect_object (cluster, one, 1, UPDATE, balance, 3, OK);

    th_step ("a duplicate v3 is dropped; v4 follows");
    cluster_publish (cluster, balance, 3);
    cluster_publish (cluster, balance, 4);
    client_expect_object (cluster, one, 1, UPDATE, balance, 4, OK);

    th_step ("v6 after v4 (a gap): a new snapshot request, pushed as SNAPSHOT");
    cluster_publish (cluster, balance, 6);
    request = cluster_expect_request (cluster, &identity, balance, &accounts->alice);
    cluster_answer (cluster, &identity, &request, 6, OK, order);
    client_expect_object (cluster, one, 1, SNAPSHOT, balance, 6, OK);
    cluster_publish (cluster, balance, 7);
    client_expect_object (cluster, one, 1, UPDATE, balance, 7, OK);

    th_step ("updates before the bus snapshot are held: newer ones follow it");
    client_subscribe (one, &accounts->bob, bob_balance, 2, false);
    cluster_expect_bus (cluster, bob_balance, true);
    request = cluster_expect_request (cluster, &identity, bob_balance, &accounts->bob);
    cluster_publish (cluster, bob_balance, 4);
    cluster_publish (cluster, bob_balance, 5);
    cluster_publish (cluster, bob_balance, 6);
    //  Same bus, same order: once v8 is through, so are the three above.
    cluster_publish (cluster, balance, 8);
    client_expect_object (cluster, one, 1, UPDATE, balance, 8, OK);
    cluster_answer (cluster, &identity, &request, 5, OK, order);
    client_expect_object (cluster, one, 2, NOT_PUSHED, bob_balance, 5, OK);
    client_expect_object (cluster, one, 2, UPDATE, bob_balance, 6, OK);
    cluster_publish (cluster, bob_balance, 7);
    client_expect_object (cluster, one, 2, UPDATE, bob_balance, 7, OK);

    th_step ("permission denied: the error, nothing else; the topic is dropped");
    client_subscribe (two, &accounts->stranger, root, 10, false);
    cluster_expect_bus (cluster, root, true);
    request = cluster_expect_request (cluster, &identity, root, &accounts->stranger);
    cluster_answer (cluster, &identity, &request, 0, TALLY__ERROR_CODE__PERMISSION_DENIED, order);
    client_expect_error (cluster, two, 10, NOT_PUSHED, TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    cluster_expect_bus (cluster, root, false);
    client_expect_quiet (cluster, two, 11);

    th_step ("bad signature: BAD_SIGNATURE, nothing reaches the router");
    client_subscribe (two, &accounts->stranger, balance, 12, true);
    client_expect_error (cluster, two, 12, NOT_PUSHED, TALLY__ERROR_CODE__BAD_SIGNATURE,
                         "does not verify for reader");

    th_step ("two clients on one object: the snapshot goes to its requester only,"
             " every update to both");
    client_subscribe_answered (cluster, two, &accounts->alice, balance, 13, false, 8);
    cluster_publish (cluster, balance, 9);
    client_expect_object (cluster, one, 1, UPDATE, balance, 9, OK);
    client_expect_object (cluster, two, 13, UPDATE, balance, 9, OK);

    th_step ("unsubscribe: no more pushes; the topic goes with its last subscriber");
    size_t size = 0;
    uint8_t *bytes = NULL;
    bytes = gateway_fixture_unsubscribe (balance, 14, &size);
    client_send (two, bytes, size);
    client_expect_empty (cluster, two, 14);
    cluster_publish (cluster, balance, 10);
    client_expect_object (cluster, one, 1, UPDATE, balance, 10, OK);
    client_expect_quiet (cluster, two, 15);
    bytes = gateway_fixture_unsubscribe (balance, 3, &size);
    client_send (one, bytes, size);
    client_expect_empty (cluster, one, 3);
    cluster_expect_bus (cluster, balance, false);
    bytes = gateway_fixture_unsubscribe (balance, 4, &size);
    client_send (one, bytes, size);
    client_expect_empty (cluster, one, 4);
    bytes = gateway_fixture_unsubscribe ("co_zunknown", 5, &size);
    client_send (one, bytes, size);
    client_expect_error (cluster, one, 5, NOT_PUSHED, TALLY__ERROR_CODE__NOT_FOUND,
                         "is not a tally object ID");

    th_step ("a vanished client: its subscriptions end at the next push");
    char bob_root [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_ROOT, accounts->bob.sign_pk, PARTITIONS, bob_root);
    zsock_t *vanishing = client_new (endpoint, 0, 0);
    client_subscribe_answered (cluster, vanishing, &accounts->bob, bob_root, 20, true, 1);
    zsock_destroy (&vanishing);
    uint64_t version = 2;
    for (; !cluster_wait (cluster, NULL, 20); version++) {
        CHECK (version < WAIT_MS / 20);
        cluster_publish (cluster, bob_root, version);
    }
    cluster_expect_bus (cluster, bob_root, false);

    zsock_destroy (&one);
    zsock_destroy (&two);
    gateway_stop ();
    cluster_destroy (&cluster);
}

//  A client that stops reading fills its queue (--client-queue, a small
//  receive queue on its side); the other client on the same
//  object must get every update regardless, and the slow one, once it
//  reads again, what was queued, then a SLOW_CONSUMER snapshot, then updates.
static void
s_test_slow_client (const accounts_t *accounts)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    char endpoint [64];
    char *flags [] = { "--client-queue", CLIENT_QUEUE, NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    char log [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, accounts->alice.sign_pk, PARTITIONS, log);
    cluster->answer = true;

    th_step ("a slow client does not delay another on the same object");
    //  The kernel's default receive buffer, not a tiny one: a window far
    //  below the loopback MSS drained the backlog in 1-2 s here but stalled
    //  past the test's timeout on a loaded machine.
    zsock_t *slow = client_new (endpoint, 10, 0);
    zsock_t *fast = client_new (endpoint, 0, 0);
    client_subscribe (slow, &accounts->alice, log, 30, false);
    cluster_expect_bus (cluster, log, true);
    client_expect_object (cluster, slow, 30, NOT_PUSHED, log, 1, OK);
    client_subscribe (fast, &accounts->alice, log, 5, false);
    client_expect_object (cluster, fast, 5, NOT_PUSHED, log, 1, OK);
    //  The slow client's first resync probe shows that its queue filled.
    size_t answered = cluster->answered;
    uint64_t version = 2;
    while (cluster->answered == answered) {
        CHECK (version < SLOW_VERSIONS_MAX);
        for (uint64_t next = version; next < version + SLOW_BATCH; next++)
            cluster_publish (cluster, log, next);
        for (uint64_t next = version; next < version + SLOW_BATCH; next++)
            client_expect_object (cluster, fast, 5, UPDATE, log, next, OK);
        version += SLOW_BATCH;
    }
    uint64_t newest = version - 1;
    if (th_verbose)
        printf ("   the slow client fell behind; %llu updates published\n",
                (unsigned long long) newest - 1);

    th_step ("reading again, it gets what was queued, then a SLOW_CONSUMER snapshot");
    int64_t read_ms = th_now_ms ();
    uint64_t expected = 2;
    while (true) {
        Tally__ClientReply *reply = client_reply (cluster, slow);
        uint64_t got = client_version_of (cluster, reply, log);
        CHECK (reply->request_id == 30);
        if (reply->push == SNAPSHOT) {
            CHECK (reply->error && reply->error->code == TALLY__ERROR_CODE__SLOW_CONSUMER);
            CHECK (got == newest);
            tally__client_reply__free_unpacked (reply, NULL);
            break;
        }
        CHECK (reply->push == UPDATE && reply->error == NULL && got == expected);
        expected++;
        tally__client_reply__free_unpacked (reply, NULL);
    }
    CHECK (expected - 1 < newest);  //  it did miss some
    if (th_verbose)
        printf ("   read %llu queued updates in %lld ms\n", (unsigned long long) expected - 2,
                (long long) (th_now_ms () - read_ms));

    th_step ("then updates resume for both");
    cluster_publish (cluster, log, newest + 1);
    client_expect_object (cluster, fast, 5, UPDATE, log, newest + 1, OK);
    client_expect_object (cluster, slow, 30, UPDATE, log, newest + 1, OK);

    zsock_destroy (&slow);
    zsock_destroy (&fast);
    gateway_stop ();
    cluster_destroy (&cluster);
}

static void
s_test_limits (const accounts_t *accounts)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    char endpoint [64];
    char *flags [] = { "--max-pending",
                       "1",
                       "--max-subscriptions",
                       "2",
                       "--max-subscriptions-total",
                       "3",
                       "--timeout-ms",
                       S_TEXT (SNAPSHOT_TIMEOUT_MS),
                       NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *one = client_new (endpoint, 0, 0);
    zsock_t *two = client_new (endpoint, 0, 0);
    char ids [4][TLY_ID_MAX];
    for (uint32_t index = 0; index < 4; index++) {
        uint8_t tail [16] = { (uint8_t) index };
        tly_object_id (TLY_OBJ_BALANCE, 9, tail, ids [index]);
    }
    zframe_t *identity = NULL;

    th_step ("snapshots in flight over --max-pending: UNAVAILABLE at once");
    int64_t sent_ms = tly_mono_ms ();
    client_subscribe (one, &accounts->alice, ids [0], 1, false);
    cluster_expect_bus (cluster, ids [0], true);
    Tally__GatewayToRouter *held = cluster_expect_request (cluster, &identity, ids [0],
                                                           &accounts->alice);
    client_subscribe (two, &accounts->alice, ids [1], 1, false);
    client_expect_error (cluster, two, 1, NOT_PUSHED, TALLY__ERROR_CODE__UNAVAILABLE,
                         "snapshots in flight (limit 1)");

    th_step ("no snapshot within --timeout-ms: TIMEOUT, the topic is dropped");
    client_expect_error (cluster, one, 1, NOT_PUSHED, TALLY__ERROR_CODE__TIMEOUT, "within 300 ms");
    CHECK (tly_mono_ms () - sent_ms >= SNAPSHOT_TIMEOUT_MS);
    cluster_expect_bus (cluster, ids [0], false);
    //  Too late: the topic is gone, and the reply finds nothing.
    cluster_answer (cluster, &identity, &held, 1, OK, CLUSTER_BUS_NEVER);
    client_expect_quiet (cluster, one, 2);

    th_step ("over --max-subscriptions: TOO_MANY_SUBSCRIPTIONS");
    client_subscribe_answered (cluster, one, &accounts->alice, ids [0], 3, true, 1);
    client_subscribe_answered (cluster, one, &accounts->alice, ids [1], 4, true, 1);
    client_subscribe (one, &accounts->alice, ids [2], 5, false);
    client_expect_error (cluster, one, 5, NOT_PUSHED, TALLY__ERROR_CODE__TOO_MANY_SUBSCRIPTIONS,
                         "client has 2 subscriptions (limit 2)");

    th_step ("subscribing again replaces: a new snapshot, pushes under the new id");
    client_subscribe_answered (cluster, one, &accounts->alice, ids [0], 6, false, 3);
    cluster_publish (cluster, ids [0], 4);
    client_expect_object (cluster, one, 6, UPDATE, ids [0], 4, OK);

    th_step ("over --max-subscriptions-total: UNAVAILABLE");
    client_subscribe_answered (cluster, two, &accounts->alice, ids [2], 2, true, 1);
    client_subscribe (two, &accounts->alice, ids [3], 3, false);
    client_expect_error (cluster, two, 3, NOT_PUSHED, TALLY__ERROR_CODE__UNAVAILABLE,
                         "gateway serves 3 subscriptions (limit 3)");

    th_step ("an object of a partition beyond --partitions: NOT_FOUND");
    char beyond [TLY_ID_MAX];
    uint8_t tail [16] = { 0 };
    tly_object_id (TLY_OBJ_BALANCE, PARTITIONS + 44, tail, beyond);
    client_subscribe (two, &accounts->alice, beyond, 4, false);
    client_expect_error (cluster, two, 4, NOT_PUSHED, TALLY__ERROR_CODE__NOT_FOUND,
                         "partition 300 but the cluster has 256");

    zsock_destroy (&one);
    zsock_destroy (&two);
    gateway_stop ();
    cluster_destroy (&cluster);
}

//  An actor that starts serving a partition announces the current state of
//  each watched object (BusObject.current): the updates its previous owner
//  journaled may never have been published. A subscriber behind it gets it
//  as a SNAPSHOT push; one that is not gets nothing; a pending snapshot
//  older than it is followed by a resync.
static void
s_test_current (const accounts_t *accounts)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    char endpoint [64];
    char *flags [] = { NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *one = client_new (endpoint, 0, 0);
    zsock_t *two = client_new (endpoint, 0, 0);
    char balance [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->alice.sign_pk, PARTITIONS, balance);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = NULL;

    th_step ("the current state of what a subscriber has: nothing; updates go on");
    client_subscribe_answered (cluster, one, &accounts->alice, balance, 1, true, 1);
    cluster_publish_current (cluster, balance, 1);
    cluster_publish (cluster, balance, 2);
    client_expect_object (cluster, one, 1, UPDATE, balance, 2, OK);

    th_step ("v3 never published, then the current state v4: a SNAPSHOT push; updates follow");
    cluster_publish_current (cluster, balance, 4);
    client_expect_object (cluster, one, 1, SNAPSHOT, balance, 4, OK);
    cluster_publish (cluster, balance, 5);
    client_expect_object (cluster, one, 1, UPDATE, balance, 5, OK);

    th_step ("an older current state is dropped");
    cluster_publish_current (cluster, balance, 3);
    cluster_publish (cluster, balance, 6);
    client_expect_object (cluster, one, 1, UPDATE, balance, 6, OK);

    th_step ("a pending snapshot older than the current state: answered, then resynced");
    client_subscribe (two, &accounts->alice, balance, 7, false);
    request = cluster_expect_request (cluster, &identity, balance, &accounts->alice);
    cluster_publish_current (cluster, balance, 8);
    client_expect_object (cluster, one, 1, SNAPSHOT, balance, 8, OK);
    cluster_answer (cluster, &identity, &request, 7, OK, CLUSTER_REPLY_FIRST);
    client_expect_object (cluster, two, 7, NOT_PUSHED, balance, 7, OK);
    request = cluster_expect_request (cluster, &identity, balance, &accounts->alice);
    cluster_answer (cluster, &identity, &request, 8, OK, CLUSTER_REPLY_FIRST);
    client_expect_object (cluster, two, 7, SNAPSHOT, balance, 8, OK);
    cluster_publish (cluster, balance, 9);
    client_expect_object (cluster, one, 1, UPDATE, balance, 9, OK);
    client_expect_object (cluster, two, 7, UPDATE, balance, 9, OK);

    zsock_destroy (&one);
    zsock_destroy (&two);
    gateway_stop ();
    cluster_destroy (&cluster);
}

//  A router restart: an update published before the gateway's bus
//  subscription reached the new router is lost there, and no later version
//  shows the gap while the object stays quiet. The gateway, back on the
//  router, resyncs what it follows.
static void
s_test_router_restart (const accounts_t *accounts)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    char endpoint [64];
    char *flags [] = { NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *client = client_new (endpoint, 0, 0);
    char balance [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->alice.sign_pk, PARTITIONS, balance);
    zframe_t *identity = NULL;
    Tally__GatewayToRouter *request = NULL;

    th_step ("subscribed and following: v1, then v2");
    client_subscribe_answered (cluster, client, &accounts->alice, balance, 1, true, 1);
    cluster_publish (cluster, balance, 2);
    client_expect_object (cluster, client, 1, UPDATE, balance, 2, OK);

    th_step ("the router restarts and v3 is lost on the new bus: a fresh snapshot request");
    cluster_restart (cluster);
    cluster_publish (cluster, balance, 3);
    request = cluster_expect_request (cluster, &identity, balance, &accounts->alice);
    cluster_answer (cluster, &identity, &request, 3, OK, CLUSTER_REPLY_FIRST);
    cluster_expect_bus (cluster, balance, true);
    client_expect_object (cluster, client, 1, SNAPSHOT, balance, 3, OK);

    th_step ("updates follow the resync snapshot");
    cluster_publish (cluster, balance, 4);
    client_expect_object (cluster, client, 1, UPDATE, balance, 4, OK);

    zsock_destroy (&client);
    gateway_stop ();
    cluster_destroy (&cluster);
}

static void
s_test_ttl (const accounts_t *accounts)
{
    cluster_t *cluster = cluster_new (&accounts->worker, &accounts->alice);
    char endpoint [64];
    char *flags [] = { "--client-ttl-ms", "500", NULL };
    cluster_start (cluster, accounts->worker_id, endpoint, sizeof (endpoint), flags);
    zsock_t *silent = client_new (endpoint, 0, 0);
    zsock_t *pinging = client_new (endpoint, 0, 0);
    char balance [TLY_ID_MAX], bob_balance [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->alice.sign_pk, PARTITIONS, balance);
    tly_user_object_id (TLY_OBJ_BALANCE, accounts->bob.sign_pk, PARTITIONS, bob_balance);

    th_step ("a client silent for --client-ttl-ms loses its subscriptions");
    int64_t silent_since_ms = tly_mono_ms ();
    client_subscribe_answered (cluster, silent, &accounts->alice, balance, 1, true, 1);
    client_subscribe_answered (cluster, pinging, &accounts->bob, bob_balance, 1, true, 1);
    //  The other client pings every 100 ms while the test waits on the bus.
    uint64_t ping_id = 2;
    while (!cluster_wait (cluster, NULL, 100)) {
        CHECK (tly_mono_ms () - silent_since_ms < WAIT_MS);
        client_expect_quiet (cluster, pinging, ping_id++);
    }
    cluster_expect_bus (cluster, balance, false);
    CHECK (tly_mono_ms () - silent_since_ms >= 500);
    client_expect_error (cluster, silent, 1, ENDED, TALLY__ERROR_CODE__TIMEOUT, "no message from");

    th_step ("the client that pinged still gets its updates");
    cluster_publish (cluster, bob_balance, 2);
    client_expect_object (cluster, pinging, 1, UPDATE, bob_balance, 2, OK);

    zsock_destroy (&silent);
    zsock_destroy (&pinging);
    gateway_stop ();
    cluster_destroy (&cluster);
}

int
main (int argc, char *argv [])
{
    gateway_process_init (argc, argv);
    accounts_t accounts;
    CHECK (tly_account_generate (&accounts.worker) == 0);
    CHECK (tly_account_generate (&accounts.alice) == 0);
    CHECK (tly_account_generate (&accounts.bob) == 0);
    CHECK (tly_account_generate (&accounts.stranger) == 0);
    tly_account_id (accounts.worker.sign_pk, accounts.worker_id);

    s_test_clone_pattern (&accounts, CLUSTER_REPLY_FIRST);
    s_test_clone_pattern (&accounts, CLUSTER_BUS_FIRST);
    s_test_slow_client (&accounts);
    s_test_limits (&accounts);
    s_test_ttl (&accounts);
    s_test_router_restart (&accounts);
    s_test_current (&accounts);
    if (th_verbose)
        printf ("gateway_stream_test: OK\n");
    return 0;
}
