//  it_ws - the gateway's WebSocket endpoint (--bind-ws; docs/protocol.md,
//  "WebSocket") in a real cluster: the C SDK over ws:// runs the seed's
//  scenario (createAccount, a buy, a refused buy) and follows a balance
//  that a TCP client's buy changes, so replies and pushes reach the right
//  socket whichever one a client came in on; the same checks refuse a bad
//  signature there; and a browser's WebSocket API (Node's, run with
//  --experimental-websocket) gets a status and a BAD_REQUEST through it.
//  Usage: it_ws BASE_PORT WS_CLIENT_SCRIPT   (tests/cluster/ws_client.mjs; Node 20)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_wire.h"

#define S_WAIT_MS 15000

typedef struct {
    int64_t balance;
    uint64_t version;
} s_seen_t;

static void
s_on_balance (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    seen->balance = object->balance.balance;
    seen->version = object->version;
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: it_ws BASE_PORT WS_CLIENT_SCRIPT\n");
        return 2;
    }
    int base_port = atoi (argv [1]);
    char ws [64];
    snprintf (ws, sizeof ws, "ws://127.0.0.1:%d/tally", base_port + 9);
    const char *gateway_args [] = { "--bind-ws", ws, NULL };
    it_gateway_extra_args = gateway_args;
    it_cluster_t *cluster = it_cluster_start (base_port, 2, 1);
    CHECK (it_logged (cluster, "gateway-1", "bind_ws=ws://") == 1);

    //  The seed's scenario over ws:// (no CURVE there: TLS is a proxy's).
    it_user_t alice;
    it_user_new (&alice);
    tly_sender_t *web = tly_sender_new (ws, cluster->worker_id, &alice.account);
    CHECK (web);
    CHECK (it_create (web, 100).balance == 100);
    CHECK (it_buy (web, "sword", 25).balance_after == 75);
    it_expect_error (it_buy (web, "castle", 100), TALLY__ERROR_CODE__INSUFFICIENT_BALANCE,
                     "Insufficient balance");
    th_step ("the seed's scenario through the WebSocket endpoint");

    //  Alice follows her balance over ws://; her buy over TCP (CURVE) moves it.
    tly_watcher_t *watcher = tly_watcher_new (ws, cluster->worker_id, &alice.account);
    CHECK (watcher);
    char balance_id [TLY_ID_MAX];
    tly_balance_id (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    s_seen_t seen = { 0 };
    CHECK (tly_watcher_subscribe (watcher, balance_id, s_on_balance, &seen, S_WAIT_MS) == 0);
    CHECK (seen.balance == 75);
    tly_sender_t *tcp = it_sender (cluster->gateway, cluster->worker_id, &alice);
    CHECK (it_buy (tcp, "shield", 5).balance_after == 70);
    int64_t deadline = th_now_ms () + S_WAIT_MS;
    while (seen.balance != 70) {
        CHECK (th_now_ms () < deadline);
        CHECK (tly_watcher_dispatch (watcher, 500) >= 0);
    }
    th_step ("a WebSocket watcher sees a TCP client's buy");

    //  The same checks: a signature that does not verify is refused whole.
    tly_msg_t msg;
    CHECK (tly_msg_buy (&msg, "gem", 1) == 0);
    uint8_t *sealed = NULL;
    size_t sealed_size = 0;
    CHECK (tly_sender_seal (web, &msg, 1, tly_now_ms (), &sealed, &sealed_size) == 0);
    sealed [sealed_size - 1] ^= 1;
    tly_result_t result;
    size_t count = 0;
    CHECK (tly_sender_send_raw (web, sealed, sealed_size, S_WAIT_MS, &result, 1, &count) == -1);
    CHECK (tly_sender_error (web)->code == TALLY__ERROR_CODE__BAD_SIGNATURE);
    CHECK (tly_sender_error (web)->remote);
    free (sealed);
    CHECK (it_balance (web) == 70);
    th_step ("a bad signature over ws:// is refused as over TCP");

    //  A browser's WebSocket API.
    char *node [] = { "node", "--experimental-websocket", argv [2], ws, NULL };
    CHECK (it_run_cli ("/usr/bin/env", node, S_WAIT_MS) == 0);
    th_step ("a browser's WebSocket API gets a status and a refusal");

    tly_watcher_destroy (&watcher);
    tly_sender_destroy (&web);
    tly_sender_destroy (&tcp);
    it_cluster_stop (&cluster);
    printf ("it_ws: OK\n");
    return 0;
}
