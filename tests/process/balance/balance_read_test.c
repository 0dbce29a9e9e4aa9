//  balance_read_test - the real tally-balance binary between a fake router,
//  a fake audit writer and a fake update bus: the read path.
//
//  Checks: a snapshot is published on the bus (the requester copied, signed
//  by the worker) and then answered with its version; a stranger is denied
//  and nothing reaches the bus; unknown, malformed and misrouted IDs are
//  NOT_FOUND, unowned partitions NOT_OWNER; ServiceInfo is public; after
//  the bus subscribes, each buy publishes the balance and the purchase log,
//  in order, after the journal's ack and never before; after unsubscribing
//  (and the lease) nothing is published; a snapshot waits for its
//  partition's catch-up; a partition that starts serving again publishes
//  the current state of each watched object (BusObject.current), and of
//  nothing else; a deleted or corrupt state is rebuilt from the
//  journal and serves the same objects byte for byte; a leave the router
//  never acknowledges ends after the actor's bound on the wait.
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance_harness.h"
#include "tly_actor.h"
#include "tly_object_id.h"

#define S_EPOCH    5
#define S_LEASE_MS "400"
#define S_OBJECTS  4  //  balance, root, log, one purchase record

typedef struct {
    Tally__ObjectState *state;
    ProtobufCBinaryData bytes;  //  the signed state bytes, as published
} s_seen_t;

static void
s_seen_free (s_seen_t *seen)
{
    tally__object_state__free_unpacked (seen->state, NULL);
    free (seen->bytes.data);
}

//  The next bus message, which must be for the object with (when not NULL)
//  the requester; keeps its state and its bytes.
static s_seen_t
s_published (harness_t *test, const char *object_id, const char *requester)
{
    uint8_t topic [HARNESS_TOPIC_BYTES];
    s_seen_t seen = { NULL, { 0, NULL } };
    Tally__BusObject *bus = harness_next_published (test, topic, &seen.state);
    assert (strcmp (seen.state->object_id, object_id) == 0);
    size_t size = requester ? strlen (requester) : 0;
    assert (bus->requester.len == size);
    assert (size == 0 || memcmp (bus->requester.data, requester, size) == 0);
    seen.bytes.len = bus->object->state.len;
    seen.bytes.data = malloc (seen.bytes.len);
    memcpy (seen.bytes.data, bus->object->state.data, seen.bytes.len);
    tally__bus_object__free_unpacked (bus, NULL);
    return seen;
}

//  Asks for a snapshot; returns the reply's code (and version).
static Tally__ErrorCode
s_ask (harness_t *test, uint64_t id, uint32_t partition, const char *object_id,
       const uint8_t *reader, uint64_t *version)
{
    harness_snapshot (test, id, partition, object_id, reader, "gw-1");
    Tally__SnapshotReply *reply = harness_next_snapshot (test);
    assert (reply->snapshot_id == id);
    Tally__ErrorCode code = reply->error ? reply->error->code : TALLY__ERROR_CODE__OK;
    assert ((code == TALLY__ERROR_CODE__OK) == (reply->version > 0));
    if (version)
        *version = reply->version;
    tally__snapshot_reply__free_unpacked (reply, NULL);
    return code;
}

//  A snapshot that is published for requester "gw-1", then answered.
static s_seen_t
s_read (harness_t *test, uint64_t id, uint32_t partition, const char *object_id,
        const uint8_t *reader)
{
    uint64_t version = 0;
    assert (s_ask (test, id, partition, object_id, reader, &version) == TALLY__ERROR_CODE__OK);
    s_seen_t seen = s_published (test, object_id, "gw-1");
    assert (seen.state->version == version);
    return seen;
}

//  One buy of 1 through route_id: nothing may be published before the ack.
static void
s_buy (harness_t *test, harness_user_t *user, uint64_t route_id)
{
    Tally__SignedEnvelope *envelope = harness_envelope (test, user, -1, "pearl", 1);
    harness_route (test, route_id, user->partition, envelope);
    Tally__AuditRequest *request = harness_next_append (test);
    harness_expect_no_publish (test);
    harness_answer_append (test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    Tally__RouteReply *reply = harness_next_reply (test);
    assert (reply->route_id == route_id && harness_code (reply) == TALLY__ERROR_CODE__OK);
    tally__route_reply__free_unpacked (reply, NULL);
    harness_free_envelope (envelope);
}

//  Buys until a buy publishes the purchase log (the subscriptions took):
//  then the balance came first, at the same version.
static uint64_t
s_buy_until_published (harness_t *test, harness_user_t *user, uint64_t *route_id,
                       const char *balance_id, const char *log_id)
{
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (true) {
        assert (zclock_mono () < deadline);
        s_buy (test, user, ++*route_id);
        harness_pump (test, HARNESS_NOTHING, HARNESS_QUIET_MS);
        if (zlist_size (test->published) < 2) {
            zmsg_t *message;
            while ((message = zlist_pop (test->published)))
                zmsg_destroy (&message);
            continue;
        }
        s_seen_t balance = s_published (test, balance_id, NULL);
        s_seen_t log = s_published (test, log_id, NULL);
        assert (balance.state->version == log.state->version);
        uint64_t version = log.state->version;
        s_seen_free (&balance);
        s_seen_free (&log);
        return version;
    }
}

//  Buys until a buy publishes nothing (the unsubscriptions took, the lease ran out).
static void
s_buy_until_quiet (harness_t *test, harness_user_t *user, uint64_t *route_id)
{
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (true) {
        assert (zclock_mono () < deadline);
        s_buy (test, user, ++*route_id);
        harness_pump (test, HARNESS_NOTHING, HARNESS_QUIET_MS);
        if (zlist_size (test->published) == 0)
            return;
        zmsg_t *message;
        while ((message = zlist_pop (test->published)))
            zmsg_destroy (&message);
    }
}

//  The packed states of the objects as the worker reads them.
static void
s_capture (harness_t *test, uint64_t first_id, uint32_t partition, char ids [S_OBJECTS][TLY_ID_MAX],
           s_seen_t seen [S_OBJECTS])
{
    for (size_t i = 0; i < S_OBJECTS; i++)
        seen [i] = s_read (test, first_id + i, partition, ids [i], test->worker.sign_pk);
}

static void
s_expect_same (s_seen_t before [S_OBJECTS], s_seen_t after [S_OBJECTS])
{
    for (size_t i = 0; i < S_OBJECTS; i++) {
        assert (before [i].bytes.len == after [i].bytes.len);
        assert (memcmp (before [i].bytes.data, after [i].bytes.data, before [i].bytes.len) == 0);
        s_seen_free (&after [i]);
    }
}

static size_t
s_moved_aside (const char *dir)
{
    DIR *listing = opendir (dir);
    assert (listing);
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (listing)))
        count += strstr (entry->d_name, "balance-test.corrupt-") == entry->d_name;
    closedir (listing);
    return count;
}

int
main (void)
{
    printf (" * balance_read: ");
    fflush (stdout);
    harness_t test;
    harness_init (&test);
    test.lease_ms = S_LEASE_MS;
    harness_user_t alice, bob, carol;
    harness_user_in (&alice, 1);
    harness_user_in (&bob, 1);
    harness_user_in (&carol, 3);
    const uint32_t owned [] = { 0, 1, 2 };
    harness_start (&test);
    harness_connect_actor (&test, owned, 3, S_EPOCH);

    //  Alice opens with 100 and buys a sword; nobody watches: nothing published.
    Tally__SignedEnvelope *opening = harness_envelope (&test, &alice, 100, "sword", 30);
    harness_route (&test, 1, alice.partition, opening);
    Tally__AuditRequest *request = harness_next_append (&test);
    harness_answer_append (&test, request, TALLY__ERROR_CODE__OK, true);
    tally__audit_request__free_unpacked (request, NULL);
    Tally__RouteReply *reply = harness_next_reply (&test);
    char ids [S_OBJECTS][TLY_ID_MAX];  //  balance, root, log, the sword
    strcpy (ids [3], reply->results [1]->purchase->id);
    tally__route_reply__free_unpacked (reply, NULL);
    harness_free_envelope (opening);
    harness_expect_no_publish (&test);
    tly_user_object_id (TLY_OBJ_BALANCE, alice.account.sign_pk, HARNESS_PARTITIONS, ids [0]);
    tly_user_object_id (TLY_OBJ_ROOT, alice.account.sign_pk, HARNESS_PARTITIONS, ids [1]);
    tly_user_object_id (TLY_OBJ_PURCHASE_LOG, alice.account.sign_pk, HARNESS_PARTITIONS, ids [2]);
    const uint8_t *reader = alice.account.sign_pk;

    //  Alice reads her balance: published with the requester, then answered.
    s_seen_t seen = s_read (&test, 11, alice.partition, ids [0], reader);
    assert (seen.state->version == 2 && seen.state->value->balance->balance == 70);
    assert (seen.state->group->n_members == 1);
    assert (memcmp (seen.state->group->members [0]->account.data, reader, TLY_KEY_BYTES) == 0);
    s_seen_free (&seen);
    seen = s_read (&test, 12, alice.partition, ids [1], reader);
    assert (strcmp (seen.state->value->root->balance_id, ids [0]) == 0);
    s_seen_free (&seen);
    seen = s_read (&test, 13, alice.partition, ids [2], reader);
    assert (seen.state->value->purchases->count == 1);
    assert (strcmp (seen.state->value->purchases->records [0]->id, ids [3]) == 0);
    s_seen_free (&seen);

    //  Bob may not; misrouted, unknown and malformed IDs are not found;
    //  partition 3 is not this actor's. Nothing reaches the bus.
    for (size_t i = 0; i < S_OBJECTS; i++)
        assert (s_ask (&test, 20 + i, alice.partition, ids [i], bob.account.sign_pk, NULL)
                == TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (s_ask (&test, 30, 2, ids [0], reader, NULL) == TALLY__ERROR_CODE__NOT_FOUND);
    char unknown [TLY_ID_MAX];
    tly_user_object_id (TLY_OBJ_BALANCE, bob.account.sign_pk, HARNESS_PARTITIONS, unknown);
    assert (s_ask (&test, 31, bob.partition, unknown, reader, NULL)
            == TALLY__ERROR_CODE__NOT_FOUND);
    assert (s_ask (&test, 32, 1, "co_zNotAnObject", reader, NULL) == TALLY__ERROR_CODE__NOT_FOUND);
    tly_user_object_id (TLY_OBJ_BALANCE, carol.account.sign_pk, HARNESS_PARTITIONS, unknown);
    assert (s_ask (&test, 33, 3, unknown, reader, NULL) == TALLY__ERROR_CODE__NOT_OWNER);
    assert (s_ask (&test, 34, HARNESS_PARTITIONS, unknown, reader, NULL)
            == TALLY__ERROR_CODE__BAD_REQUEST);
    harness_expect_no_publish (&test);

    //  ServiceInfo: public.
    char service [TLY_ID_MAX];
    tly_service_object_id (test.worker.sign_pk, service);
    seen = s_read (&test, 40, 0, service, carol.account.sign_pk);
    assert (seen.state->version == 1
            && seen.state->value->service->partition_count == HARNESS_PARTITIONS);
    assert (strcmp (seen.state->value->service->worker_id, test.worker_id) == 0);
    s_seen_free (&seen);

    //  Subscribed: each buy publishes the balance, then the log, after the
    //  ack, each at the next version; the log update holds only the new record.
    harness_subscribe (&test, ids [0], true);
    harness_subscribe (&test, ids [2], true);
    uint64_t route_id = 100;
    uint64_t version = s_buy_until_published (&test, &alice, &route_id, ids [0], ids [2]);
    s_buy (&test, &alice, ++route_id);
    seen = s_published (&test, ids [0], NULL);
    assert (seen.state->version == version + 1);
    assert (seen.state->value->balance->balance == 70 - (int64_t) (version - 1));
    s_seen_free (&seen);
    seen = s_published (&test, ids [2], NULL);
    assert (seen.state->version == version + 1 && seen.state->value->purchases->n_records == 1);
    assert (seen.state->value->purchases->count == version);
    s_seen_free (&seen);
    harness_expect_no_publish (&test);

    //  Unsubscribed, and the lease over: nothing more.
    harness_subscribe (&test, ids [0], false);
    harness_subscribe (&test, ids [2], false);
    s_buy_until_quiet (&test, &alice, &route_id);
    s_buy (&test, &alice, ++route_id);
    harness_expect_no_publish (&test);

    //  A snapshot waits for its partition's catch-up.
    test.hold_reads = true;
    size_t reads = test.reads;
    harness_assign (&test, owned, 3, S_EPOCH + 1);
    int64_t deadline = zclock_mono () + HARNESS_DEADLINE_MS;
    while (test.reads < reads + 3 && zclock_mono () < deadline)
        harness_pump (&test, HARNESS_NOTHING, HARNESS_HEARTBEAT_MS);
    assert (test.reads == reads + 3);
    harness_snapshot (&test, 50, alice.partition, ids [0], reader, "gw-1");
    harness_pump (&test, HARNESS_SNAPSHOT, HARNESS_QUIET_MS);
    assert (zlist_size (test.snapshots) == 0 && zlist_size (test.published) == 0);
    test.hold_reads = false;
    while ((request = zlist_pop (test.held_reads))) {
        harness_answer_read (&test, request->read);
        tally__audit_request__free_unpacked (request, NULL);
    }
    Tally__SnapshotReply *held = harness_next_snapshot (&test);
    assert (held->snapshot_id == 50 && !held->error);
    tally__snapshot_reply__free_unpacked (held, NULL);
    seen = s_published (&test, ids [0], "gw-1");
    s_seen_free (&seen);

    //  Serving again (a new assignment, caught up): the current state of
    //  each watched object goes out, marked current, and nothing more.
    harness_subscribe (&test, ids [0], true);
    harness_subscribe (&test, ids [2], true);
    version = s_buy_until_published (&test, &alice, &route_id, ids [0], ids [2]);
    harness_assign (&test, owned, 3, S_EPOCH + 2);
    bool announced [S_OBJECTS] = { false };
    for (int count = 0; count < 2; count++) {
        uint8_t topic [HARNESS_TOPIC_BYTES];
        Tally__ObjectState *state = NULL;
        Tally__BusObject *bus = harness_next_published (&test, topic, &state);
        assert (bus->current && bus->requester.len == 0 && state->version == version);
        size_t at = strcmp (state->object_id, ids [0]) == 0 ? 0 : 2;
        assert (strcmp (state->object_id, ids [at]) == 0 && !announced [at]);
        announced [at] = true;
        if (at == 0)
            assert (state->value->balance->balance == 70 - (int64_t) (version - 2));
        else
            assert (state->value->purchases->count == version - 1);
        tally__object_state__free_unpacked (state, NULL);
        tally__bus_object__free_unpacked (bus, NULL);
    }
    harness_expect_no_publish (&test);
    harness_subscribe (&test, ids [0], false);
    harness_subscribe (&test, ids [2], false);
    s_buy_until_quiet (&test, &alice, &route_id);

    //  The state deleted: rebuilt from the journal, the same objects.
    s_seen_t before [S_OBJECTS], after [S_OBJECTS];
    s_capture (&test, 60, alice.partition, ids, before);
    assert (harness_stop (&test) == 0);
    char path [256];
    snprintf (path, sizeof path, "%s/balance/balance-test", test.data_dir);
    th_dir_remove (path);
    harness_start (&test);
    harness_connect_actor (&test, owned, 3, S_EPOCH + 3);
    assert (test.read_after [alice.partition] == 0);
    s_capture (&test, 70, alice.partition, ids, after);
    s_expect_same (before, after);

    //  The state corrupt: moved aside, rebuilt, the same objects.
    assert (harness_stop (&test) == 0);
    snprintf (path, sizeof path, "%s/balance/balance-test/data.mdb", test.data_dir);
    int fd = open (path, O_WRONLY | O_TRUNC);
    assert (fd != -1);
    char garbage [8192];
    memset (garbage, 0x5a, sizeof garbage);
    assert (write (fd, garbage, sizeof garbage) == (ssize_t) sizeof garbage);
    close (fd);
    harness_start (&test);
    harness_connect_actor (&test, owned, 3, S_EPOCH + 4);
    assert (test.read_after [alice.partition] == 0);
    snprintf (path, sizeof path, "%s/balance", test.data_dir);
    assert (s_moved_aside (path) == 1);
    s_capture (&test, 80, alice.partition, ids, after);
    s_expect_same (before, after);
    for (size_t i = 0; i < S_OBJECTS; i++)
        s_seen_free (&before [i]);

    //  A leave the router never acknowledges: the actor exits 0 once
    //  TLY_ACTOR_LEAVE_WAIT_MS has passed, not before and not much later.
    int64_t waited_ms;
    assert (harness_stop_unacknowledged (&test, &waited_ms) == 0);
    assert (waited_ms >= TLY_ACTOR_LEAVE_WAIT_MS - 100);
    assert (waited_ms < TLY_ACTOR_LEAVE_WAIT_MS + 1500);
    harness_fini (&test);
    printf ("OK\n");
    return 0;
}
