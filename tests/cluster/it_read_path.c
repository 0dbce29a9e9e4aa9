//  Integration tests of the read path: subscriptions through real gateways.
//  Usage: it_read_path CASE BASE_PORT
//
//  This file holds the cases of what a subscriber sees and may see (seed,
//  two-gateways, permissions, retention) and main; the load cases (many,
//  slow) are it_read_path_load.c, those that restart or stop a process
//  it_read_path_restart.c, and what they all use it_read_path_client.c
//  (it_read_path.h).
#include "it_read_path.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_wire.h"

//  The seed's integration test, made exact: subscribe (through the root),
//  send 10 buys, see the snapshot and exactly 10 updates, in order.
static void
s_case_seed (it_cluster_t *cluster)
{
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 100);
    tly_watcher_t *watcher = rp_watcher (cluster->gateway, cluster->worker_id, &user);

    rp_seen_t root, balance;
    rp_seen_init (&root);
    rp_seen_init (&balance);
    rp_subscribe (watcher, user.root_id, &root);
    CHECK (root.count == 1 && streq (root.balance_id, user.balance_id));
    rp_subscribe (watcher, root.balance_id, &balance);
    CHECK (balance.count == 1 && balance.version [0] == 1 && balance.balance [0] == 100);
    CHECK (streq (balance.user_id, user.id));

    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &user.account);
    CHECK (sender);
    for (int i = 0; i < 10; i++) {
        tly_msg_t msg;
        tly_result_t result;
        tly_msg_buy (&msg, "test-item", 1 + i);
        CHECK (rp_send (sender, &msg, 1, &result).ok);
    }
    rp_want_t want = { &balance, 11 };
    CHECK (rp_dispatch_until (watcher, rp_has_count, &want, RP_TIMEOUT_MS));
    //  Nothing more arrives: exactly 10 updates (bounded wait for a negative).
    CHECK (tly_watcher_dispatch (watcher, 300) == 0);
    int64_t expected = 100;
    for (int i = 1; i <= 10; i++) {
        expected -= i;
        CHECK (balance.balance [i] == expected);
    }
    rp_check_contiguous (&balance, 10, 45);
    CHECK (balance.version [10] == 11);
    CHECK (root.count == 1);

    //  Unsubscribe: no more callbacks for the balance.
    CHECK (tly_watcher_unsubscribe (watcher, user.balance_id, RP_TIMEOUT_MS) == 0);
    tly_msg_t msg;
    tly_result_t result;
    tly_msg_buy (&msg, "test-item", 1);
    CHECK (rp_send (sender, &msg, 1, &result).ok);
    CHECK (tly_watcher_dispatch (watcher, 300) == 0);
    CHECK (balance.count == 11);
    tly_sender_destroy (&sender);
    tly_watcher_destroy (&watcher);
    rp_seen_free (&root);
    rp_seen_free (&balance);
}

//  A subscriber on gateway B sees buys sent through gateway A.
static void
s_case_two_gateways (it_cluster_t *cluster)
{
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 50);
    char second [64];
    it_gateway_endpoint (cluster, 2, second, sizeof second);
    tly_watcher_t *watcher = rp_watcher (second, cluster->worker_id, &user);
    rp_seen_t balance, log;
    rp_seen_init (&balance);
    rp_seen_init (&log);
    rp_subscribe (watcher, user.balance_id, &balance);
    rp_subscribe (watcher, user.purchases_id, &log);
    CHECK (log.count == 1 && log.log_count == 0);

    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &user.account);
    tly_msg_t msgs [5];
    tly_result_t results [5];
    for (int i = 0; i < 5; i++)
        tly_msg_buy (&msgs [i], "item-x", 2);
    CHECK (rp_send (sender, msgs, 5, results).ok);
    rp_want_t want = { &balance, 6 };
    CHECK (rp_dispatch_until (watcher, rp_has_count, &want, RP_TIMEOUT_MS));
    rp_want_t want_log = { &log, 6 };
    CHECK (rp_dispatch_until (watcher, rp_has_count, &want_log, RP_TIMEOUT_MS));
    rp_check_contiguous (&balance, 5, 40);
    CHECK (log.log_count == 5 && log.records == 5);
    tly_sender_destroy (&sender);
    tly_watcher_destroy (&watcher);
    rp_seen_free (&balance);
    rp_seen_free (&log);
}

//  User B may not read user A's objects; anyone may read the public ServiceInfo.
static void
s_case_permissions (it_cluster_t *cluster)
{
    rp_user_t alice, bob;
    rp_user_new (&alice);
    rp_user_new (&bob);
    rp_create (cluster->gateway, cluster->worker_id, &alice, 77);
    rp_create (cluster->gateway, cluster->worker_id, &bob, 10);
    tly_watcher_t *watcher = rp_watcher (cluster->gateway, cluster->worker_id, &bob);
    rp_seen_t seen;
    rp_seen_init (&seen);
    const char *alices [] = { alice.balance_id, alice.root_id, alice.purchases_id };
    for (int i = 0; i < 3; i++) {
        CHECK (tly_watcher_subscribe (watcher, alices [i], rp_on_object, &seen, RP_TIMEOUT_MS)
               == -1);
        const tly_error_t *error = tly_watcher_error (watcher);
        CHECK (error->remote && error->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
        //  Nothing of Alice's data in what Bob got.
        CHECK (!strstr (error->message, alice.id) && !strstr (error->message, "77"));
        printf ("denied as expected: %s\n", error->message);
    }
    //  A purchase record of Alice's, by its ID.
    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &alice.account);
    tly_msg_t msg;
    tly_result_t result;
    tly_msg_buy (&msg, "secret-item", 7);
    CHECK (rp_send (sender, &msg, 1, &result).ok);
    CHECK (tly_watcher_subscribe (watcher, result.id, rp_on_object, &seen, RP_TIMEOUT_MS) == -1);
    CHECK (tly_watcher_error (watcher)->code == TALLY__ERROR_CODE__PERMISSION_DENIED);
    CHECK (!strstr (tly_watcher_error (watcher)->message, "secret-item"));
    CHECK (tly_watcher_dispatch (watcher, 300) == 0);
    CHECK (seen.count == 0);

    //  Alice may read her purchase record; an unknown object is NOT_FOUND.
    tly_watcher_t *own = rp_watcher (cluster->gateway, cluster->worker_id, &alice);
    rp_seen_t record;
    rp_seen_init (&record);
    rp_subscribe (own, result.id, &record);
    CHECK (record.count == 1 && record.version [0] == 1);
    rp_user_t nobody;
    rp_user_new (&nobody);
    CHECK (tly_watcher_subscribe (own, nobody.balance_id, rp_on_object, &record, RP_TIMEOUT_MS)
           == -1);
    CHECK (tly_watcher_error (own)->code == TALLY__ERROR_CODE__NOT_FOUND);

    //  Public read: the ServiceInfo, for Bob and for an account with no balance.
    uint8_t worker [TLY_KEY_BYTES];
    CHECK (tly_account_id_parse (cluster->worker_id, worker) == 0);
    char service_id [TLY_ID_MAX];
    tly_service_id (worker, service_id);
    rp_seen_t service;
    rp_seen_init (&service);
    rp_subscribe (watcher, service_id, &service);
    tly_watcher_t *stranger = rp_watcher (cluster->gateway, cluster->worker_id, &nobody);
    rp_seen_t service2;
    rp_seen_init (&service2);
    rp_subscribe (stranger, service_id, &service2);
    CHECK (service.count == 1 && service2.count == 1);
    tly_watcher_destroy (&stranger);
    tly_watcher_destroy (&own);
    tly_sender_destroy (&sender);
    tly_watcher_destroy (&watcher);
    rp_seen_free (&seen);
    rp_seen_free (&record);
    rp_seen_free (&service);
    rp_seen_free (&service2);
}

//  Retention (--keep-purchases 100): after 101 buys the first purchase
//  record is no longer kept live. Its owner reading it gets NOT_FOUND and a
//  message that says so and points to the journal; the second is there; the
//  purchase log is whole (count 101, the latest 100 records); a resend of
//  the first buy's message answers its first result.
#define S_KEEP "100"
enum {
    S_KEPT = 100
};

static void
s_case_retention (it_cluster_t *cluster)
{
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 1000);
    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &user.account);
    CHECK (sender);
    tly_msg_t first_msg, msg;
    tly_result_t first, second, result;
    CHECK (tly_msg_buy (&first_msg, "gem", 1) == 0);
    CHECK (rp_send (sender, &first_msg, 1, &first).ok);
    for (int i = 1; i <= S_KEPT; i++) {
        CHECK (tly_msg_buy (&msg, "gem", 1) == 0);
        CHECK (rp_send (sender, &msg, 1, &result).ok);
        CHECK (result.balance_after == 1000 - 1 - i);
        if (i == 1)
            second = result;
    }

    tly_watcher_t *watcher = rp_watcher (cluster->gateway, cluster->worker_id, &user);
    rp_seen_t seen;
    rp_seen_init (&seen);
    CHECK (tly_watcher_subscribe (watcher, first.id, rp_on_object, &seen, RP_TIMEOUT_MS) == -1);
    const tly_error_t *error = tly_watcher_error (watcher);
    printf ("retention: the first purchase record: %s: %s\n", tly_error_name (error->code),
            error->message);
    CHECK (error->remote && error->code == TALLY__ERROR_CODE__NOT_FOUND);
    CHECK (strstr (error->message, "no longer kept live") && strstr (error->message, "journal"));
    rp_seen_t record;
    rp_seen_init (&record);
    rp_subscribe (watcher, second.id, &record);
    CHECK (record.count == 1 && record.version [0] == 1);
    rp_seen_t log;
    rp_seen_init (&log);
    rp_subscribe (watcher, user.purchases_id, &log);
    CHECK (log.count == 1 && log.log_count == S_KEPT + 1 && log.records == S_KEPT);

    //  The resend: the first result, whole, though its record is gone.
    CHECK (rp_send (sender, &first_msg, 1, &result).ok);
    CHECK (strcmp (result.id, first.id) == 0 && result.balance_after == first.balance_after);
    CHECK (result.timestamp == first.timestamp && strcmp (result.item_id, "gem") == 0);
    printf ("retention: the resend of the first buy answered its first result (%s)\n", result.id);
    tly_watcher_destroy (&watcher);
    tly_sender_destroy (&sender);
    rp_seen_free (&seen);
    rp_seen_free (&record);
    rp_seen_free (&log);
}

//  Updates lost on their way (the actors' fault point bus.publish drops
//  every one, as a full high-water mark on a hop would): a quiet object
//  still reaches its last version, as a SNAPSHOT push of its current state
//  once it has been quiet for the settle time (TLY_BUS_SETTLE_MS); once
//  nothing is dropped, updates follow it in order.
static void
s_case_dropped (it_cluster_t *cluster)
{
#if defined(TLY_FAULTS_BUILD)
    rp_user_t user;
    rp_user_new (&user);
    rp_create (cluster->gateway, cluster->worker_id, &user, 100);
    tly_watcher_t *watcher = rp_watcher (cluster->gateway, cluster->worker_id, &user);
    rp_seen_t balance;
    rp_seen_init (&balance);
    rp_subscribe (watcher, user.balance_id, &balance);
    CHECK (balance.count == 1 && balance.version [0] == 1);
    it_cluster_faults (cluster, "balance-1", "bus.publish=fail");
    it_cluster_faults (cluster, "balance-2", "bus.publish=fail");
    tly_sender_t *sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &user.account);
    CHECK (sender);
    for (int i = 0; i < 3; i++) {
        tly_msg_t msg;
        tly_result_t result;
        tly_msg_buy (&msg, "test-item", 10);
        CHECK (rp_send (sender, &msg, 1, &result).ok);
    }
    //  v4 (balance 70), as a snapshot: never as an update.
    rp_want_t want = { &balance, 2 };
    CHECK (rp_dispatch_until (watcher, rp_has_count, &want, RP_TIMEOUT_MS));
    size_t last = rp_seen_count (&balance) - 1;
    CHECK (balance.snapshot [last] && balance.version [last] == 4 && balance.balance [last] == 70);
    for (size_t i = 1; i <= last; i++)
        CHECK (balance.snapshot [i]);
    printf ("dropped: the last version came as the current state (v%" PRIu64 ", %zu pushes)\n",
            balance.version [last], last);
    const char *dropped = "point=bus.publish hit=";
    CHECK (it_logged (cluster, "balance-1", dropped) + it_logged (cluster, "balance-2", dropped)
           >= 3);
    it_cluster_faults (cluster, "balance-1", "");
    it_cluster_faults (cluster, "balance-2", "");
    tly_msg_t msg;
    tly_result_t result;
    tly_msg_buy (&msg, "test-item", 5);
    CHECK (rp_send (sender, &msg, 1, &result).ok);
    want.want = last + 2;
    CHECK (rp_dispatch_until (watcher, rp_has_count, &want, RP_TIMEOUT_MS));
    CHECK (!balance.snapshot [last + 1] && balance.version [last + 1] == 5
           && balance.balance [last + 1] == 65);
    tly_sender_destroy (&sender);
    tly_watcher_destroy (&watcher);
    rp_seen_free (&balance);
#else
    (void) cluster;
#endif
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: it_read_path "
                         "seed|two-gateways|permissions|many|slow|gateway-restart|retention|"
                         "router-restart|append-timeout|dropped"
                         " BASE_PORT\n");
        return 2;
    }
    const char *name = argv [1];
    int base_port = atoi (argv [2]);
    zsys_init ();
    zsys_set_linger (0);
    static const char *big_initial [] = { "--max-initial", "100000", NULL };
    it_balance_extra_args = big_initial;
    //  A small per-client queue makes the slow client overflow quickly. It
    //  stays silent while the buys run, which on a loaded machine in a
    //  sanitizer build took 36 s once: longer than the default client TTL
    //  (30 s), after which the gateway ends a silent client's subscriptions
    //  and there is nothing left to resync.
    static const char *small_queue [] = { "--client-queue", "64", "--client-ttl-ms", "600000",
                                          NULL };
    if (streq (name, "slow"))
        it_gateway_extra_args = small_queue;
    //  The slow case times how the gateway queues, drops and resyncs for a
    //  raw client reading one frame at a time; CURVE's cost per frame on
    //  that reader only slows its drain (in the sanitizer build, past the
    //  deadline once), and every other case runs with CURVE.
    if (streq (name, "slow"))
        it_cluster_curve = false;
    static const char *keep_few [] = { "--max-initial", "100000", "--keep-purchases", S_KEEP,
                                       NULL };
    if (streq (name, "retention"))
        it_balance_extra_args = keep_few;
    //  Appends given up on quickly, while the test holds the audit writer.
    static const char *impatient [] = { "--max-initial", "100000", "--audit-timeout-ms", "500",
                                        NULL };
    if (streq (name, "append-timeout"))
        it_balance_extra_args = impatient;
#if !defined(TLY_FAULTS_BUILD)
    if (streq (name, "dropped")) {
        printf ("it_read_path dropped: skipped: the fault points are not compiled in (configure"
                " with -DTALLY_FAULTS=ON, as make test does)\n");
        return 77;
    }
#endif
    it_cluster_t *cluster = it_cluster_start (base_port, 2, 2);
    if (streq (name, "seed"))
        s_case_seed (cluster);
    else if (streq (name, "two-gateways"))
        s_case_two_gateways (cluster);
    else if (streq (name, "permissions"))
        s_case_permissions (cluster);
    else if (streq (name, "many"))
        rp_case_many (cluster);
    else if (streq (name, "slow"))
        rp_case_slow (cluster);
    else if (streq (name, "gateway-restart"))
        rp_case_gateway_restart (cluster);
    else if (streq (name, "retention"))
        s_case_retention (cluster);
    else if (streq (name, "router-restart"))
        rp_case_router_restart (cluster);
    else if (streq (name, "append-timeout"))
        rp_case_append_timeout (cluster);
    else if (streq (name, "dropped"))
        s_case_dropped (cluster);
    else {
        fprintf (stderr, "it_read_path: unknown case %s\n", name);
        return 2;
    }
    it_cluster_stop (&cluster);
    printf ("it_read_path %s: OK\n", name);
    return 0;
}
