//  it_curve - CurveZMQ on every hop of a real cluster on loopback TCP
//  (docs/architecture.md, "Security"). The seed's scenario and a
//  subscription work with CURVE on; a process with a key of its own can
//  neither register as an actor, append to the journal, publish on or read
//  the bus, nor route through the router, and each attempt is refused and
//  logged while the cluster keeps serving; a client without the gateway's
//  key, or with a wrong one, gets a clear error at once; no secret key is
//  in any log line or on any command line.
//  Usage: it_curve BASE_PORT
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_curve.h"

#define S_WAIT_MS 15000

//  Waits until the named child's log holds text (a deadline, polled).
static bool
s_wait_logged (it_cluster_t *cluster, const char *name, const char *text)
{
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < deadline) {
        if (it_logged (cluster, name, text) > 0)
            return true;
        zclock_sleep (50);  //  polling a log file under a deadline
    }
    return false;
}

//  A stranger: a key pair of its own, trusted by nobody.
static void
s_stranger_key (it_cluster_t *cluster, char *secret, size_t size, char *z85_key)
{
    char error [512];
    if (tly_curve_keygen (cluster->keys, "stranger", z85_key, error, sizeof error) == -1)
        th_fail (__FILE__, __LINE__, "stranger key: %s", error);
    snprintf (secret, size, "%s/stranger.key_secret", cluster->keys);
}

//  A socket of type connected to endpoint as a CURVE client with the
//  stranger's key (or as a plain client when secret is NULL).
static zsock_t *
s_stranger_socket (int type, const char *endpoint, const char *secret, const char *server_key)
{
    zsock_t *sock = zsock_new (type);
    CHECK (sock);
    zsock_set_linger (sock, 0);
    if (secret) {
        zcert_t *cert = zcert_load (secret);
        CHECK (cert);
        zcert_apply (cert, sock);
        zcert_destroy (&cert);
        uint8_t key [TLY_CURVE_KEY_BYTES];
        char error [512];
        CHECK (tly_curve_public_parse (server_key, key, error, sizeof error) == 0);
        zsock_set_curve_serverkey_bin (sock, key);
    }
    CHECK (zsock_connect (sock, "%s", endpoint) == 0);
    return sock;
}

//  Every secret key of the cluster's servers: not in a log, not on a command line.
static void
s_no_secret_shown (it_cluster_t *cluster)
{
    const char *servers [] = { "audit", "router", "balance", "gateway" };
    for (size_t i = 0; i < 4; i++) {
        char path [400];
        snprintf (path, sizeof path, "%s/%s.key_secret", cluster->keys, servers [i]);
        zconfig_t *cert = zconfig_load (path);
        CHECK (cert);
        char secret [TLY_CURVE_Z85_CHARS + 1];
        snprintf (secret, sizeof secret, "%s", zconfig_get (cert, "curve/secret-key", ""));
        zconfig_destroy (&cert);
        CHECK (strlen (secret) == TLY_CURVE_Z85_CHARS);
        for (int c = 0; c < cluster->child_count; c++) {
            it_child_t *child = &cluster->children [c];
            CHECK (it_logged (cluster, child->name, secret) == 0);
            for (int a = 0; child->argv [a]; a++)
                CHECK (!strstr (child->argv [a], secret));
        }
    }
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_curve BASE_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    int base = atoi (argv [1]);
    it_cluster_t *cluster = it_cluster_start (base, 1, 1);
    CHECK (it_gateway_key);

    th_step ("the seed's scenario and a subscription, with CURVE on every hop");
    it_user_t user;
    it_user_new (&user);
    tly_sender_t *sender = it_sender (cluster->gateway, cluster->worker_id, &user);
    CHECK (it_create (sender, 100).ok);
    tly_result_t bought = it_buy (sender, "item-123", 25);
    CHECK (bought.ok && bought.balance_after == 75);
    it_expect_error (it_buy (sender, "item-456", 100), TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
                     "Insufficient balance");
    char *watch [] = { "watch", "balance", "--count", "1", "--timeout", "10", NULL };
    char secret_env [TLY_SECRET_MAX + 32], account_env [TLY_ID_MAX + 32];
    char user_secret [TLY_SECRET_MAX];
    tly_account_secret (&user.account, user_secret);
    snprintf (account_env, sizeof account_env, "TALLY_ACCOUNT=%s", user.id);
    snprintf (secret_env, sizeof secret_env, "TALLY_SECRET=%s", user_secret);
    putenv (account_env);
    putenv (secret_env);
    setenv ("TALLY_WORKER_ACCOUNT", cluster->worker_id, 1);
    setenv ("TALLY_GATEWAY", cluster->gateway, 1);
    CHECK (it_run_cli (TALLY_CLI_BIN, watch, 15000) == 0);

    th_step ("a client without the gateway's key, or with a wrong one: a clear error at once");
    tly_sender_t *plain = tly_sender_new (cluster->gateway, cluster->worker_id, &user.account);
    CHECK (plain);
    tly_msg_t msg;
    tly_msg_buy (&msg, "item-1", 1);
    int64_t started = zclock_mono ();
    tly_result_t result;
    CHECK (tly_sender_send (plain, &msg, 1, IT_SEND_TIMEOUT_MS, &result) == -1);
    const tly_error_t *error = tly_sender_error (plain);
    CHECK (error->code == TALLY__ERROR_CODE__UNAVAILABLE);
    CHECK (strstr (error->message, "requires CURVE"));
    CHECK (zclock_mono () - started < 3000);
    tly_sender_destroy (&plain);
    char router_key [400];
    snprintf (router_key, sizeof router_key, "%s/router.key", cluster->keys);
    tly_sender_t *wrong = tly_sender_new_curve (cluster->gateway, router_key, cluster->worker_id,
                                                &user.account);
    CHECK (wrong);
    started = zclock_mono ();
    CHECK (tly_sender_send (wrong, &msg, 1, IT_SEND_TIMEOUT_MS, &result) == -1);
    CHECK (tly_sender_error (wrong)->code == TALLY__ERROR_CODE__UNAVAILABLE);
    CHECK (strstr (tly_sender_error (wrong)->message, "refused"));
    CHECK (zclock_mono () - started < 3000);
    tly_sender_destroy (&wrong);

    th_step ("a stranger posing as a balance actor: refused by the router and the audit writer");
    //  The key goes in as an argument, never as a format: Z85 has '%'.
    char stranger [400], stranger_z85 [TLY_CURVE_Z85_CHARS + 1], expected [220];
    s_stranger_key (cluster, stranger, sizeof stranger, stranger_z85);
    char state [400], audit_key [400];
    snprintf (state, sizeof state, "%s/stranger", cluster->dir);
    snprintf (audit_key, sizeof audit_key, "%s/audit.key", cluster->keys);
    char *actor [] = { TALLY_BALANCE_BIN, "--data-dir",     state,     "--name",       "stranger",
                       "--router",        cluster->backend, "--audit", cluster->audit, "--bus",
                       cluster->bus_in,   "--curve-secret", stranger,  "--router-key", router_key,
                       "--audit-key",     audit_key,        NULL };
    th_process_t *impostor = th_process_new ("stranger", actor);
    char impostor_log [400];
    snprintf (impostor_log, sizeof impostor_log, "%s/stranger.log", cluster->dir);
    th_process_set_log (impostor, impostor_log);
    th_process_start (impostor);
    snprintf (expected, sizeof expected, "event=curve.refused peers=actors key=%s", stranger_z85);
    CHECK (s_wait_logged (cluster, "router", expected));
    CHECK (s_wait_logged (cluster, "audit", expected));
    CHECK (it_wait_actors (cluster->gateway, 1, 5000));
    th_process_destroy (&impostor);

    th_step ("a stranger on the router's frontend and on the bus: refused and logged");
    char frontend [64], bus_out [64];
    snprintf (frontend, sizeof frontend, "tcp://127.0.0.1:%d", base + 1);
    snprintf (bus_out, sizeof bus_out, "tcp://127.0.0.1:%d", base + 5);
    zsock_t *route = s_stranger_socket (ZMQ_DEALER, frontend, stranger, router_key);
    zsock_t *reader = s_stranger_socket (ZMQ_SUB, bus_out, stranger, router_key);
    zsock_set_subscribe (reader, "");
    snprintf (expected, sizeof expected, "event=curve.refused peers=gateways key=%s", stranger_z85);
    CHECK (s_wait_logged (cluster, "router", expected));
    //  Nothing ever reaches the reader: the handshake never completed.
    zsock_t *plain_bus = s_stranger_socket (ZMQ_SUB, bus_out, NULL, NULL);
    zsock_set_subscribe (plain_bus, "");
    CHECK (it_buy (sender, "item-789", 5).ok);
    zpoller_t *poller = zpoller_new (reader, plain_bus, NULL);
    CHECK (zpoller_wait (poller, 1000) == NULL && zpoller_expired (poller));
    zpoller_destroy (&poller);
    zsock_destroy (&route);
    zsock_destroy (&reader);
    zsock_destroy (&plain_bus);

    th_step ("a gateway with a stranger's key: the router refuses it, it says so");
    char stranger_bind [64];
    snprintf (stranger_bind, sizeof stranger_bind, "tcp://127.0.0.1:%d", base + 90);
    char *gateway [] = { TALLY_GATEWAY_BIN, "--bind",   stranger_bind,
                         "--router",        frontend,   "--bus",
                         bus_out,           "--worker", cluster->worker_id,
                         "--curve-secret",  stranger,   "--router-key",
                         router_key,        NULL };
    th_process_t *rogue = th_process_new ("rogue-gateway", gateway);
    char rogue_log [400];
    snprintf (rogue_log, sizeof rogue_log, "%s/rogue-gateway.log", cluster->dir);
    th_process_set_log (rogue, rogue_log);
    th_process_start (rogue);
    CHECK (s_wait_logged (cluster, "rogue-gateway", "event=router.refused"));
    snprintf (expected, sizeof expected, "event=curve.refused peers=gateways key=%s", stranger_z85);
    CHECK (it_logged (cluster, "router", expected) >= 2);  //  the socket's, then the gateway's
    CHECK (it_logged (cluster, "rogue-gateway", "event=router.refused") == 1);
    th_process_destroy (&rogue);

    th_step ("the cluster keeps serving; no secret key in a log or on a command line");
    CHECK (it_buy (sender, "item-790", 5).ok);
    CHECK (it_balance (sender) == 65);
    s_no_secret_shown (cluster);
    tly_sender_destroy (&sender);
    it_cluster_stop (&cluster);
    printf ("it_curve: OK\n");
    return 0;
}
