//  router_test - runs the real tally-router binary against fake balance
//  actors and a fake gateway (router_test_fakes) and checks startup errors,
//  partition assignment, routing of envelopes and snapshot requests, retries,
//  failover, an actor's leave, the update bus and the durable epoch counter
//  across restarts.
//  Every wait polls for a condition with a deadline; nothing sleeps.
#include "router_test_fakes.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Bad flags and unusable data directories stop the router at startup with 2.
static void
s_test_startup_errors (test_t *t)
{
    char *help [] = { TALLY_ROUTER_BIN, "--help", NULL };
    assert (fake_exit_code (t, help) == 0);
    char *no_dir [] = { TALLY_ROUTER_BIN, NULL };
    assert (fake_exit_code (t, no_dir) == 2);
    char *bad_number [] = { TALLY_ROUTER_BIN, "--data-dir", t->dir, "--attempts", "0", NULL };
    assert (fake_exit_code (t, bad_number) == 2);
    char *bad_dir [] = { TALLY_ROUTER_BIN, "--data-dir", "/dev/null/router", NULL };
    assert (fake_exit_code (t, bad_dir) == 2);

    char corrupt [128];
    snprintf (corrupt, sizeof corrupt, "%s/corrupt", t->dir);
    assert (mkdir (corrupt, 0700) == 0);
    char path [192];
    snprintf (path, sizeof path, "%s/router.epoch", corrupt);
    FILE *file = fopen (path, "w");
    assert (file);
    fputs ("not a number\n", file);
    fclose (file);
    char *bad_epoch [] = { TALLY_ROUTER_BIN, "--insecure", "--data-dir", corrupt,    "--frontend",
                           t->frontend,      "--backend",  t->backend,   "--bus-in", t->bus_in,
                           "--bus-out",      t->bus_out,   NULL };
    assert (fake_exit_code (t, bad_epoch) == 2);
    unlink (path);
    snprintf (path, sizeof path, "%s/router.lock", corrupt);
    unlink (path);
    assert (rmdir (corrupt) == 0);
}

//  The update bus: subscriptions reach the publishing actor, and updates on
//  subscribed topics reach the gateway unchanged, two frames each.
static void
s_test_bus (test_t *t)
{
    zsock_t *publisher = zsock_new (ZMQ_XPUB);
    zsock_t *subscriber = zsock_new (ZMQ_SUB);
    assert (publisher && subscriber);
    zsock_set_linger (publisher, 0);
    zsock_set_linger (subscriber, 0);
    assert (zsock_connect (publisher, "%s", t->bus_in) == 0);
    assert (zsock_connect (subscriber, "%s", t->bus_out) == 0);
    uint8_t topic [19] = { 1, 0, 7 };
    uint8_t other [19] = { 1, 0, 8 };
    assert (zmq_setsockopt (zsock_resolve (subscriber), ZMQ_SUBSCRIBE, topic, sizeof topic) == 0);

    //  The router subscribes to everything upstream first, then forwards
    //  the gateway's topic.
    zmsg_t *message = fake_recv_within (t, publisher);
    zframe_t *frame = zmsg_first (message);
    assert (zmsg_size (message) == 1 && zframe_size (frame) == 1 && zframe_data (frame) [0] == 1);
    zmsg_destroy (&message);
    message = fake_recv_within (t, publisher);
    frame = zmsg_first (message);
    assert (zmsg_size (message) == 1 && zframe_size (frame) == 1 + sizeof topic);
    assert (zframe_data (frame) [0] == 1 && memcmp (zframe_data (frame) + 1, topic, 19) == 0);
    zmsg_destroy (&message);

    //  Nobody watches `other`: only the update on `topic` arrives.
    for (int round = 0; round < 2; round++) {
        assert (zmq_send (zsock_resolve (publisher), round ? topic : other, 19, ZMQ_SNDMORE) == 19);
        assert (zmq_send (zsock_resolve (publisher), "object-v1", 9, 0) == 9);
    }
    message = fake_recv_within (t, subscriber);
    assert (zmsg_size (message) == 2);
    assert (memcmp (zframe_data (zmsg_first (message)), topic, 19) == 0);
    assert (zframe_streq (zmsg_next (message), "object-v1"));
    zmsg_destroy (&message);

    //  The last unsubscription reaches the publisher too.
    assert (zmq_setsockopt (zsock_resolve (subscriber), ZMQ_UNSUBSCRIBE, topic, sizeof topic) == 0);
    message = fake_recv_within (t, publisher);
    assert (zframe_data (zmsg_first (message)) [0] == 0);
    zmsg_destroy (&message);
    zsock_destroy (&subscriber);
    zsock_destroy (&publisher);
}

//  Run 1: no actor, then one that never answers.
static void
s_test_without_answers (test_t *t)
{
    fake_start_router (t, "200", "2", "3");
    Tally__SystemStatus status = fake_status (t, 1);
    assert (!status.ready && status.actors == 0 && status.partitions_owned == 0);
    assert (status.epoch == 0);
    s_test_bus (t);

    //  Undecodable frames are dropped; the router keeps serving.
    zframe_t *junk = zframe_new ("\xff\xff\xff", 3);
    assert (zframe_send (&junk, t->gateway, 0) == 0);
    fake_route (t, 10, PARTITIONS);
    WAIT_UNTIL (t, fake_reply_for (t, 10));
    assert (fake_reply_for (t, 10)->code == TALLY__ERROR_CODE__BAD_REQUEST);

    //  Nobody owns partition 7: two envelopes wait, the third finds the hold
    //  queue full, and the waiting ones give up after attempts * attempt-ms.
    int64_t sent_ms = tly_mono_ms ();
    fake_route (t, 11, 7);
    fake_route (t, 12, 7);
    fake_route (t, 13, 7);
    WAIT_UNTIL (t, fake_reply_for (t, 13));
    assert (fake_reply_for (t, 13)->code == TALLY__ERROR_CODE__UNAVAILABLE);
    assert (!fake_reply_for (t, 11) && !fake_reply_for (t, 12));
    WAIT_UNTIL (t, fake_reply_for (t, 11) && fake_reply_for (t, 12));
    for (uint64_t route_id = 11; route_id <= 12; route_id++) {
        seen_reply_t *reply = fake_reply_for (t, route_id);
        assert (reply->code == TALLY__ERROR_CODE__UNAVAILABLE);
        assert (strcmp (reply->text, "no balance actor answered") == 0);
        assert (reply->at_ms - sent_ms >= 3 * 200 - 50);
    }

    //  Actor c takes everything with epoch 1, then never answers: each
    //  envelope is tried 3 times, then UNAVAILABLE. The fourth concurrent
    //  envelope is over --inflight-max and refused at once.
    actor_t *c = fake_actor_new (t, "c", PARTITIONS);
    WAIT_UNTIL (t, c->owned == PARTITIONS);
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        assert (c->epochs [partition] == 1);
    status = fake_status (t, 2);
    assert (status.ready && status.actors == 1 && status.partitions_owned == PARTITIONS);
    assert (status.epoch == 1);
    for (uint64_t route_id = 20; route_id <= 23; route_id++)
        fake_route (t, route_id, (uint32_t) route_id);
    WAIT_UNTIL (t, fake_reply_for (t, 23));
    assert (fake_reply_for (t, 23)->code == TALLY__ERROR_CODE__UNAVAILABLE);
    WAIT_UNTIL (t, fake_reply_for (t, 20) && fake_reply_for (t, 21) && fake_reply_for (t, 22));
    for (uint64_t route_id = 20; route_id <= 22; route_id++) {
        assert (fake_reply_for (t, route_id)->code == TALLY__ERROR_CODE__UNAVAILABLE);
        assert (fake_deliveries (c, route_id) == 3);
    }
    assert (fake_deliveries (c, 23) == 0);
    assert (c->heartbeats > 0);

    c->alive = false;
    fake_stop_router (t);
}

//  The nth partition (from 0) that the rule gives owner, one of pair.
static uint32_t
s_partition_of (actor_t **pair, actor_t *owner, int nth)
{
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        if (fake_rule_owner (pair, 2, partition) == owner && nth-- == 0)
            return partition;
    abort ();
}

//  Run 2: actors a and b share the partitions; routing, NOT_OWNER, failover.
static uint64_t
s_test_two_actors (test_t *t)
{
    fake_start_router (t, "5000", "100", "1000");
    actor_t *a = fake_actor_new (t, "a", PARTITIONS);
    actor_t *b = fake_actor_new (t, "b", PARTITIONS);
    actor_t *pair [] = { a, b };
    //  An actor configured with another partition count is ignored.
    actor_t *d = fake_actor_new (t, "d", PARTITIONS / 2);
    WAIT_UNTIL (t, fake_split_by_rule (pair, 2));
    //  Partitions the rule gives each of them, for the routes below.
    uint32_t a_first = s_partition_of (pair, a, 0), a_second = s_partition_of (pair, a, 1);
    uint32_t a_third = s_partition_of (pair, a, 2);
    uint32_t b_first = s_partition_of (pair, b, 0), b_second = s_partition_of (pair, b, 1);
    //  Run 1 handed out epoch 1; the counter survived the restart.
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        assert ((a->epochs [partition] | b->epochs [partition]) > 1);
    //  A second router can share neither the data directory nor the ports.
    char other_dir [128];
    snprintf (other_dir, sizeof other_dir, "%s/other", t->dir);
    char *same_dir [] = { TALLY_ROUTER_BIN,
                          "--insecure",
                          "--data-dir",
                          t->dir,
                          "--frontend",
                          "tcp://127.0.0.1:0",
                          "--backend",
                          "tcp://127.0.0.1:0",
                          "--bus-in",
                          "tcp://127.0.0.1:0",
                          "--bus-out",
                          "tcp://127.0.0.1:0",
                          NULL };
    assert (fake_exit_code (t, same_dir) == 2);
    char *same_ports [] = { TALLY_ROUTER_BIN, "--insecure", "--data-dir", other_dir,  "--frontend",
                            t->frontend,      "--backend",  t->backend,   "--bus-in", t->bus_in,
                            "--bus-out",      t->bus_out,   NULL };
    assert (fake_exit_code (t, same_ports) == 2);
    Tally__SystemStatus status = fake_status (t, 3);
    assert (status.ready && status.actors == 2 && status.partitions_owned == PARTITIONS);
    uint64_t epoch = fake_max_epoch (a) > fake_max_epoch (b) ? fake_max_epoch (a)
                                                             : fake_max_epoch (b);
    assert (status.epoch == epoch);
    assert (d->assignments == 0);

    //  a_first belongs to a: the reply goes back with the gateway's route_id
    //  and the actor's results.
    fake_route (t, 30, a_first);
    WAIT_UNTIL (t, fake_deliveries (a, 30) == 1);
    assert (a->routes [a->route_count - 1].partition == a_first);
    uint64_t router_id = fake_router_id (a, 30);
    assert (router_id != 30);
    fake_answer (a, router_id, TALLY__ERROR_CODE__OK, 42);
    WAIT_UNTIL (t, fake_reply_for (t, 30));
    assert (fake_reply_for (t, 30)->code == TALLY__ERROR_CODE__OK);
    assert (fake_reply_for (t, 30)->results == 1 && fake_reply_for (t, 30)->balance == 42);
    assert (fake_deliveries (b, 30) == 0);

    //  NOT_OWNER from b: routed again (to b, still the owner), then answered.
    fake_route (t, 31, b_first);
    WAIT_UNTIL (t, fake_deliveries (b, 31) == 1);
    fake_answer (b, fake_router_id (b, 31), TALLY__ERROR_CODE__NOT_OWNER, 0);
    WAIT_UNTIL (t, fake_deliveries (b, 31) == 2);
    fake_answer (b, fake_router_id (b, 31), TALLY__ERROR_CODE__OK, 31);
    WAIT_UNTIL (t, fake_reply_for (t, 31));
    assert (fake_reply_for (t, 31)->code == TALLY__ERROR_CODE__OK);

    //  Snapshot requests are routed the same way: a_second is a's, its
    //  NOT_OWNER sends the request again, its answer goes back with the
    //  gateway's snapshot_id; a reply of the wrong kind for it is dropped.
    fake_snapshot (t, 50, a_second, "co_zobject50");
    WAIT_UNTIL (t, fake_received (a, "co_zobject50") == 1);
    seen_route_t request = a->routes [a->route_count - 1];
    assert (request.snapshot && request.partition == a_second && request.route_id != 50);
    fake_answer_snapshot (a, request.route_id, TALLY__ERROR_CODE__NOT_OWNER);
    WAIT_UNTIL (t, fake_received (a, "co_zobject50") == 2);
    assert (a->routes [a->route_count - 1].route_id == request.route_id);
    fake_answer (a, request.route_id, TALLY__ERROR_CODE__OK, 50);
    fake_answer_snapshot (a, request.route_id, TALLY__ERROR_CODE__NOT_FOUND);
    WAIT_UNTIL (t, fake_snapshot_reply_for (t, 50));
    assert (fake_snapshot_reply_for (t, 50)->code == TALLY__ERROR_CODE__NOT_FOUND);
    assert (fake_replies_for (t, 50) == 0);
    fake_snapshot (t, 51, PARTITIONS, "co_zobject51");
    WAIT_UNTIL (t, fake_snapshot_reply_for (t, 51));
    assert (fake_snapshot_reply_for (t, 51)->code == TALLY__ERROR_CODE__BAD_REQUEST);

    //  a falls silent with an envelope in flight: within the liveness
    //  deadline b owns everything, a's partitions with a newer epoch, and the
    //  envelope is sent again to b.
    uint64_t a_epochs [PARTITIONS], b_epochs [PARTITIONS];
    memcpy (a_epochs, a->epochs, sizeof a_epochs);
    memcpy (b_epochs, b->epochs, sizeof b_epochs);
    fake_route (t, 32, a_third);
    WAIT_UNTIL (t, fake_deliveries (a, 32) == 1);
    a->alive = false;
    int64_t silent_ms = tly_mono_ms ();
    WAIT_UNTIL (t, b->owned == PARTITIONS);
    assert (tly_mono_ms () - silent_ms <= (LIVENESS + 2) * HEARTBEAT_MS + 500);
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        if (fake_rule_owner (pair, 2, partition) == a)
            assert (b->epochs [partition] > a_epochs [partition] && b->epochs [partition] > epoch);
        else
            assert (b->epochs [partition] == b_epochs [partition]);
    WAIT_UNTIL (t, fake_deliveries (b, 32) == 1);
    assert (fake_router_id (b, 32) == fake_router_id (a, 32));
    fake_answer (b, fake_router_id (b, 32), TALLY__ERROR_CODE__OK, 32);
    WAIT_UNTIL (t, fake_reply_for (t, 32));

    //  A duplicate reply for a finished route is dropped: the gateway sees
    //  the reply to 33 (sent after it on the same pipe) and no second 32.
    fake_route (t, 33, b_second);
    WAIT_UNTIL (t, fake_deliveries (b, 33) == 1);
    fake_answer (b, fake_router_id (b, 32), TALLY__ERROR_CODE__OK, 32);
    fake_answer (b, fake_router_id (b, 33), TALLY__ERROR_CODE__OK, 33);
    WAIT_UNTIL (t, fake_reply_for (t, 33));
    assert (fake_replies_for (t, 32) == 1 && fake_replies_for (t, 31) == 1);
    assert (fake_reply_for (t, 33)->balance == 33);

    status = fake_status (t, 4);
    assert (status.ready && status.actors == 1 && status.partitions_owned == PARTITIONS);
    assert (status.epoch == fake_max_epoch (b) && status.epoch > epoch);
    assert (d->assignments == 0);
    d->alive = false;
    fake_stop_router (t);
    return status.epoch;
}

//  Run 3: a restarted router hands out only newer epochs.
static void
s_test_restart (test_t *t, uint64_t epoch_before)
{
    actor_t *b = t->actors [2];
    assert (strcmp (b->name, "b") == 0);
    b->owned = 0;
    memset (b->epochs, 0, sizeof b->epochs);
    fake_start_router (t, "5000", "100", "1000");
    WAIT_UNTIL (t, b->owned == PARTITIONS);
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        assert (b->epochs [partition] == epoch_before + 1);
    Tally__SystemStatus status = fake_status (t, 5);
    assert (status.ready && status.epoch == epoch_before + 1);

    //  b restarts (same name, new connection) with an envelope in flight: the
    //  old incarnation is dropped at once, the new one owns every partition
    //  with a newer epoch and gets the envelope again.
    fake_route (t, 40, 9);
    WAIT_UNTIL (t, fake_deliveries (b, 40) == 1);
    b->alive = false;
    //  Let b's last hello land first: two more router heartbeats take longer
    //  than a hello needs to cross loopback.
    int heartbeats = b->heartbeats;
    WAIT_UNTIL (t, b->heartbeats >= heartbeats + 2);
    actor_t *restarted = fake_actor_new (t, "b", PARTITIONS);
    WAIT_UNTIL (t, restarted->owned == PARTITIONS && fake_deliveries (restarted, 40) == 1);
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        assert (restarted->epochs [partition] == epoch_before + 2);
    fake_answer (restarted, fake_router_id (restarted, 40), TALLY__ERROR_CODE__OK, 40);
    WAIT_UNTIL (t, fake_reply_for (t, 40));
    assert (fake_reply_for (t, 40)->balance == 40);
    status = fake_status (t, 6);
    assert (status.ready && status.actors == 1 && status.epoch == epoch_before + 2);
    fake_stop_router (t);

    char path [128];
    snprintf (path, sizeof path, "%s/router.epoch", t->dir);
    FILE *file = fopen (path, "r");
    assert (file);
    unsigned long long saved = 0;
    assert (fscanf (file, "%llu", &saved) == 1);
    fclose (file);
    assert (saved == epoch_before + 2);
}

//  Run 4: an actor that leaves hands its partitions over at once, and a
//  leave from a connection that is not that actor moves nothing.
static void
s_test_leave (test_t *t)
{
    for (size_t at = 0; at < t->actor_count; at++)
        t->actors [at]->alive = false;
    fake_start_router (t, "5000", "100", "1000");
    actor_t *e = fake_actor_new (t, "e", PARTITIONS);
    actor_t *f = fake_actor_new (t, "f", PARTITIONS);
    actor_t *pair [] = { e, f };
    WAIT_UNTIL (t, fake_split_by_rule (pair, 2));
    uint64_t epoch = fake_status (t, 7).epoch;
    assert (epoch == fake_max_epoch (e) || epoch == fake_max_epoch (f));
    uint32_t e_first = s_partition_of (pair, e, 0), e_second = s_partition_of (pair, e, 1);
    uint64_t e_epochs [PARTITIONS], f_epochs [PARTITIONS];
    memcpy (e_epochs, e->epochs, sizeof e_epochs);
    memcpy (f_epochs, f->epochs, sizeof f_epochs);

    //  Two envelopes of e's partitions in flight at e: 60 on its first
    //  attempt, 61 on its last (e answered NOT_OWNER twice while it owned the
    //  partition).
    fake_route (t, 60, e_first);
    fake_route (t, 61, e_second);
    WAIT_UNTIL (t, fake_deliveries (e, 60) == 1 && fake_deliveries (e, 61) == 1);
    for (size_t answered = 1; answered <= 2; answered++) {
        fake_answer (e, fake_router_id (e, 61), TALLY__ERROR_CODE__NOT_OWNER, 0);
        WAIT_UNTIL (t, fake_deliveries (e, 61) == answered + 1);
    }

    //  e leaves: f owns everything, e's partitions at a newer epoch, e hears
    //  the acknowledgement (an empty Assignment, which a silent actor never
    //  gets), and both envelopes go to f, 61 too: a handover costs no attempt.
    int assignments = e->assignments;
    int64_t left_ms = tly_mono_ms ();
    fake_leave (e, "e");
    WAIT_UNTIL (t, f->owned == PARTITIONS && e->assignments > assignments
                       && fake_deliveries (f, 60) == 1 && fake_deliveries (f, 61) == 1);
    printf ("leave: partitions and envelopes handed over in %" PRId64 " ms\n",
            tly_mono_ms () - left_ms);
    assert (e->owned == 0);
    for (uint32_t partition = 0; partition < PARTITIONS; partition++)
        if (fake_rule_owner (pair, 2, partition) == e)
            assert (f->epochs [partition] == epoch + 1 && e_epochs [partition] <= epoch);
        else
            assert (f->epochs [partition] == f_epochs [partition]);
    assert (fake_router_id (f, 60) == fake_router_id (e, 60));

    //  e's NOT_OWNER for what it still held, sent after its leave, is
    //  dropped: f answers, once, and the gateway gets f's answers.
    fake_answer (e, fake_router_id (e, 60), TALLY__ERROR_CODE__NOT_OWNER, 0);
    fake_answer (f, fake_router_id (f, 60), TALLY__ERROR_CODE__OK, 60);
    fake_answer (f, fake_router_id (f, 61), TALLY__ERROR_CODE__OK, 61);
    WAIT_UNTIL (t, fake_reply_for (t, 60) && fake_reply_for (t, 61));
    assert (fake_reply_for (t, 60)->code == TALLY__ERROR_CODE__OK);
    assert (fake_reply_for (t, 60)->balance == 60 && fake_reply_for (t, 61)->balance == 61);
    assert (fake_replies_for (t, 60) == 1 && fake_deliveries (f, 60) == 1);
    Tally__SystemStatus status = fake_status (t, 8);
    assert (status.ready && status.actors == 1 && status.epoch == epoch + 1);

    //  Leaves from a connection that is no registered actor (its hello was
    //  refused: wrong partition count), naming itself or naming f: each is
    //  acknowledged, and nothing moves.
    int f_assignments = f->assignments;
    actor_t *ghost = fake_actor_new (t, "ghost", PARTITIONS / 2);
    fake_leave (ghost, "ghost");
    WAIT_UNTIL (t, ghost->assignments == 1);
    fake_leave (ghost, "f");
    WAIT_UNTIL (t, ghost->assignments == 2);
    assert (ghost->owned == 0);
    status = fake_status (t, 9);
    assert (status.ready && status.actors == 1 && status.epoch == epoch + 1);
    assert (f->assignments == f_assignments && f->owned == PARTITIONS);
    fake_route (t, 62, e_first);
    WAIT_UNTIL (t, fake_deliveries (f, 62) == 1);
    fake_answer (f, fake_router_id (f, 62), TALLY__ERROR_CODE__OK, 62);
    WAIT_UNTIL (t, fake_reply_for (t, 62));
    assert (fake_reply_for (t, 62)->code == TALLY__ERROR_CODE__OK);
    f->alive = false;
    fake_stop_router (t);
}

int
main (void)
{
    zsys_handler_set (NULL);
    test_t *t = calloc (1, sizeof (*t));
    assert (t);
    th_dir_new (t->dir, sizeof t->dir, "router_test");
    snprintf (t->frontend, sizeof t->frontend, "tcp://127.0.0.1:%d", th_free_port ());
    snprintf (t->backend, sizeof t->backend, "tcp://127.0.0.1:%d", th_free_port ());
    snprintf (t->bus_in, sizeof t->bus_in, "tcp://127.0.0.1:%d", th_free_port ());
    snprintf (t->bus_out, sizeof t->bus_out, "tcp://127.0.0.1:%d", th_free_port ());
    t->gateway = zsock_new_dealer (t->frontend);
    assert (t->gateway);
    zsock_set_linger (t->gateway, 0);

    s_test_startup_errors (t);
    s_test_without_answers (t);
    uint64_t epoch = s_test_two_actors (t);
    s_test_restart (t, epoch);
    s_test_leave (t);

    for (size_t at = 0; at < t->actor_count; at++) {
        zsock_destroy (&t->actors [at]->sock);
        free (t->actors [at]);
    }
    zsock_destroy (&t->gateway);
    const char *leftovers [] = { "router.epoch", "router.lock", "other/router.epoch",
                                 "other/router.lock" };
    for (size_t at = 0; at < sizeof leftovers / sizeof leftovers [0]; at++) {
        char path [128];
        snprintf (path, sizeof path, "%s/%s", t->dir, leftovers [at]);
        unlink (path);
    }
    char other [128];
    snprintf (other, sizeof other, "%s/other", t->dir);
    rmdir (other);
    assert (rmdir (t->dir) == 0);
    free (t);
    printf ("router_test: OK\n");
    return 0;
}
