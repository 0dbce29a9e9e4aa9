//  it_catalog - the admin group and the price catalog through a real
//  cluster whose actors keep prices closed (docs/protocol.md, "Admins and
//  the catalog"): a buy of an item not in the catalog is refused; a user's
//  price change is refused and changes nothing; the worker's price is
//  charged to buys that name it or no amount, on every actor at once (users
//  in many partitions, so both actors decide, the one not owning partition
//  0 learning each change from the audit writer); after a price change the
//  old price is refused and the new one charged; an admin the worker added
//  sets prices and credits, and nothing more once removed; the Catalog
//  object is read by anyone and follows every change in order; both actors
//  killed and started again keep it all; `tally audit verify` re-derives
//  every decision and `replay --compare` agrees with the actors.
//  Usage: it_catalog BASE_PORT
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_partition.h"

#define S_COMMAND_MS 60000
#define S_USERS      8
#define S_SEEN_MAX   32

//  Every version of the catalog the subscription delivered, in order.
typedef struct {
    size_t count;
    uint64_t version [S_SEEN_MAX];
    uint64_t config_version [S_SEEN_MAX];
    int64_t sword [S_SEEN_MAX];  //  its price, -1 when absent
    bool sword_active [S_SEEN_MAX];
    size_t items [S_SEEN_MAX];
} s_seen_t;

static void
s_on_catalog (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    CHECK (!object->ended && object->kind == TLY_OBJ_CATALOG);
    CHECK (seen->count < S_SEEN_MAX);
    size_t at = seen->count++;
    seen->version [at] = object->version;
    seen->config_version [at] = object->catalog.config_version;
    seen->items [at] = object->catalog.item_count;
    seen->sword [at] = -1;
    for (size_t i = 0; i < object->catalog.item_count; i++)
        if (strcmp (object->catalog.items [i].item_id, "sword") == 0) {
            seen->sword [at] = object->catalog.items [i].price;
            seen->sword_active [at] = object->catalog.items [i].active;
        }
}

//  Dispatches until the catalog's latest version is config version want.
static void
s_until (tly_watcher_t *watcher, s_seen_t *seen, uint64_t want)
{
    int64_t deadline = th_now_ms () + IT_SEND_TIMEOUT_MS;
    while (seen->count == 0 || seen->config_version [seen->count - 1] != want) {
        CHECK (th_now_ms () < deadline);
        CHECK (tly_watcher_dispatch (watcher, 100) >= 0);
    }
}

static tly_result_t
s_set_price (tly_sender_t *sender, const char *item, int64_t price, bool active)
{
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_set_price (&msg, item, price, active, &error) == 0);
    return it_send (sender, &msg);
}

static tly_result_t
s_admin (tly_sender_t *sender, const char *account_id, bool add)
{
    tly_msg_t msg;
    tly_error_t error;
    CHECK ((add ? tly_msg_add_admin : tly_msg_remove_admin) (&msg, account_id, &error) == 0);
    return it_send (sender, &msg);
}

static tly_result_t
s_credit (tly_sender_t *sender, const char *user_id, int64_t amount, const char *reference)
{
    tly_msg_t msg;
    tly_error_t error;
    CHECK (tly_msg_credit (&msg, user_id, amount, reference, NULL, &error) == 0);
    return it_send (sender, &msg);
}

//  A price change by sender, answered with version.
static void
s_priced (tly_sender_t *sender, const char *item, int64_t price, bool active, uint64_t version)
{
    tly_result_t result = s_set_price (sender, item, price, active);
    CHECK (result.ok && result.kind == TLY_RESULT_CONFIG && result.config_version == version
           && result.has_item && result.price == price && result.active == active
           && strcmp (result.item_id, item) == 0);
}

//  Every user buys item naming amount (0: none), charged charge.
static void
s_all_buy (tly_sender_t *users [S_USERS], int64_t balances [S_USERS], const char *item,
           int64_t amount, int64_t charge)
{
    for (int i = 0; i < S_USERS; i++) {
        tly_result_t bought = it_buy (users [i], item, amount);
        CHECK (bought.ok && bought.kind == TLY_RESULT_PURCHASE && bought.amount == charge);
        balances [i] -= charge;
        CHECK (bought.balance_after == balances [i]);
    }
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_catalog BASE_PORT\n");
        return 2;
    }
    it_closed_prices = true;
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    it_user_t worker = { .account = cluster->worker };
    strcpy (worker.id, cluster->worker_id);
    tly_sender_t *w = it_sender (cluster->gateway, cluster->worker_id, &worker);
    //  Users in partitions apart, so that both actors decide buys.
    it_user_t users [S_USERS], bob;
    tly_sender_t *u [S_USERS];
    int64_t balances [S_USERS];
    for (int i = 0; i < S_USERS; i++) {
        bool apart;
        do {
            it_user_new (&users [i]);
            uint32_t partition = tly_partition_of (users [i].account.sign_pk,
                                                   TLY_PARTITIONS_DEFAULT);
            apart = partition != 0;
            for (int j = 0; j < i && apart; j++)
                apart = partition
                        != tly_partition_of (users [j].account.sign_pk, TLY_PARTITIONS_DEFAULT);
        } while (!apart);
        u [i] = it_sender (cluster->gateway, cluster->worker_id, &users [i]);
        CHECK (it_create (u [i], 100).ok);
        balances [i] = 100;
    }
    it_user_new (&bob);
    tly_sender_t *b = it_sender (cluster->gateway, cluster->worker_id, &bob);

    //  Prices closed and nothing priced: every buy is of an unknown item.
    it_expect_error (it_buy (u [0], "sword", 5), TALLY__ERROR_CODE__UNKNOWN_ITEM,
                     "Unknown item: not in the catalog");
    //  A user may not set a price: refused, nothing changes.
    it_expect_error (s_set_price (u [0], "sword", 1, true), TALLY__ERROR_CODE__PERMISSION_DENIED,
                     "Only an admin may set a price");
    it_expect_error (it_buy (u [0], "sword", 1), TALLY__ERROR_CODE__UNKNOWN_ITEM, NULL);
    th_step ("prices closed: an item not in the catalog is refused; a user's price is refused");

    //  The worker's price, charged on every actor: named or not.
    s_priced (w, "sword", 10, true, 1);
    s_all_buy (u, balances, "sword", 0, 10);
    s_all_buy (u, balances, "sword", 10, 10);
    it_expect_error (it_buy (u [1], "sword", 9), TALLY__ERROR_CODE__PRICE_MISMATCH,
                     "Price mismatch: the amount is not the catalog price");
    th_step ("the catalog price is charged to buys naming it or no amount, in every partition");

    //  A price change: the old price refused everywhere, the new one charged.
    s_priced (w, "sword", 12, true, 2);
    for (int i = 0; i < S_USERS; i++)
        it_expect_error (it_buy (u [i], "sword", 10), TALLY__ERROR_CODE__PRICE_MISMATCH, NULL);
    s_all_buy (u, balances, "sword", 12, 12);
    int learned = it_logged (cluster, "balance-1", "ledger.config")
                  + it_logged (cluster, "balance-2", "ledger.config");
    CHECK (learned >= 2);  //  the actor not owning partition 0 took versions 1 and 2
    th_step ("after a price change the stale price is refused and the new one charged");

    //  An admin: sets prices and credits; nothing more once removed.
    tly_result_t added = s_admin (w, bob.id, true);
    CHECK (added.ok && added.config_version == 3 && strcmp (added.admin_id, bob.id) == 0);
    it_expect_error (s_admin (b, users [0].id, true), TALLY__ERROR_CODE__PERMISSION_DENIED,
                     "Only the worker may add or remove an admin");
    s_priced (b, "shield", 7, true, 4);
    tly_result_t credit = s_credit (b, users [0].id, 30, "refund-desk-1");
    CHECK (credit.ok && credit.balance_after == balances [0] + 30
           && strcmp (credit.by, bob.id) == 0);
    balances [0] += 30;
    it_expect_error (s_credit (u [1], users [0].id, 30, "self-service"),
                     TALLY__ERROR_CODE__PERMISSION_DENIED,
                     "Only an admin may credit or debit a balance");
    tly_result_t removed = s_admin (w, bob.id, false);
    CHECK (removed.ok && removed.config_version == 5);
    it_expect_error (s_set_price (b, "shield", 1, true), TALLY__ERROR_CODE__PERMISSION_DENIED,
                     NULL);
    it_expect_error (s_credit (b, users [0].id, 30, "refund-desk-2"),
                     TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    CHECK (it_balance (u [0]) == balances [0]);
    th_step ("an admin the worker added sets prices and credits, and nothing once removed");

    //  The catalog, read by anyone, follows each change in order.
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (cluster->worker.sign_pk, catalog_id);
    tly_watcher_t *watcher = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                    cluster->worker_id, &users [2].account);
    CHECK (watcher);
    s_seen_t seen = { .count = 0 };
    CHECK (tly_watcher_subscribe (watcher, catalog_id, s_on_catalog, &seen, IT_SEND_TIMEOUT_MS)
           == 0);
    s_until (watcher, &seen, 5);
    CHECK (seen.version [seen.count - 1] == 6 && seen.items [seen.count - 1] == 2
           && seen.sword [seen.count - 1] == 12);
    s_priced (w, "sword", 15, false, 6);
    s_until (watcher, &seen, 6);
    CHECK (seen.version [seen.count - 1] == 7 && seen.sword [seen.count - 1] == 15
           && !seen.sword_active [seen.count - 1]);
    for (size_t i = 1; i < seen.count; i++)
        CHECK (seen.version [i] == seen.version [i - 1] + 1);
    it_expect_error (it_buy (u [3], "sword", 15), TALLY__ERROR_CODE__UNKNOWN_ITEM,
                     "Unknown item: not for sale");
    th_step ("the catalog object is read by a user and follows every change in order");
    tly_watcher_destroy (&watcher);

    //  Both actors killed and started again: the catalog and the group kept.
    it_cluster_kill (cluster, "balance-1", SIGKILL);
    it_cluster_kill (cluster, "balance-2", SIGKILL);
    it_cluster_restart (cluster, "balance-1");
    it_cluster_restart (cluster, "balance-2");
    CHECK (it_wait_actors (cluster->gateway, 2, 15000));
    it_expect_error (it_buy (u [3], "sword", 15), TALLY__ERROR_CODE__UNKNOWN_ITEM, NULL);
    it_expect_error (s_set_price (b, "sword", 1, true), TALLY__ERROR_CODE__PERMISSION_DENIED, NULL);
    s_priced (w, "sword", 15, true, 7);
    s_all_buy (u, balances, "sword", 0, 15);
    s_all_buy (u, balances, "shield", 7, 7);
    th_step ("after both actors were killed and restarted the catalog and the group are kept");

    for (int i = 0; i < S_USERS; i++)
        tly_sender_destroy (&u [i]);
    tly_sender_destroy (&b);
    tly_sender_destroy (&w);
    const char *actors [] = { "balance-1", "balance-2", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
    th_step ("verify re-derives every price and permission; replay agrees with the actors");
    it_cluster_stop (&cluster);
    printf ("it_catalog: OK\n");
    return 0;
}
