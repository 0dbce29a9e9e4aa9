//  it_money - credits and debits by the worker through a real cluster
//  (docs/protocol.md, "Credits and debits"): a webhook-style credit sent
//  three times, each as a new message, credits once and answers the first
//  adjustment every time, also after both actors were killed and started
//  again; a user crediting themselves is refused and changes nothing; a
//  debit past the balance is refused and one within it goes through; an
//  envelope naming two partitions is refused at the gateway; the user's
//  subscriptions see each change of the balance and the history in order,
//  the adjustment record is readable; a purchase is refunded by the worker
//  once, never by its buyer, also after both actors were killed and started
//  again (docs/protocol.md, "Refunds"); `tally audit verify` re-derives every
//  decision and `replay --compare` agrees with the actors.
//  Usage: it_money BASE_PORT
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
#define S_SEEN_MAX   64

//  What the user's subscriptions delivered, in order.
typedef struct {
    size_t count;
    uint64_t version [S_SEEN_MAX];
    int64_t balance [S_SEEN_MAX];
    bool snapshot [S_SEEN_MAX];
    uint64_t log_count;       //  the PurchaseLog's latest count
    size_t adjustments;       //  adjustments delivered in the log's versions
    int64_t last_adjustment;  //  the latest one's signed amount
    tly_adjustment_t record;  //  the AdjustmentRecord object, once read
    bool have_record;
} s_seen_t;

static void
s_on_object (const tly_object_t *object, void *arg)
{
    s_seen_t *seen = arg;
    CHECK (!object->ended);
    if (object->kind == TLY_OBJ_BALANCE) {
        CHECK (seen->count < S_SEEN_MAX);
        seen->version [seen->count] = object->version;
        seen->balance [seen->count] = object->balance.balance;
        seen->snapshot [seen->count++] = object->snapshot;
    } else if (object->kind == TLY_OBJ_PURCHASE_LOG) {
        seen->log_count = object->purchases.count;
        for (size_t i = 0; i < object->purchases.adjustment_count; i++) {
            seen->adjustments++;
            seen->last_adjustment = object->purchases.adjustments [i].amount;
        }
    } else if (object->kind == TLY_OBJ_ADJUSTMENT) {
        seen->record = object->adjustment;
        seen->have_record = true;
    }
}

//  Dispatches until the balance subscription has delivered want versions.
static void
s_until (tly_watcher_t *watcher, s_seen_t *seen, size_t want)
{
    int64_t deadline = th_now_ms () + IT_SEND_TIMEOUT_MS;
    while (seen->count < want) {
        CHECK (th_now_ms () < deadline);
        CHECK (tly_watcher_dispatch (watcher, 100) >= 0);
    }
}

//  A credit or debit by the worker, answered.
static tly_result_t
s_adjust (tly_sender_t *worker, bool debit, const char *user_id, int64_t amount,
          const char *reference, const char *note)
{
    tly_msg_t msg;
    tly_error_t error;
    CHECK ((debit ? tly_msg_debit : tly_msg_credit) (&msg, user_id, amount, reference, note, &error)
           == 0);
    return it_send (worker, &msg);
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_money BASE_PORT\n");
        return 2;
    }
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    it_user_t worker = { .account = cluster->worker };
    strcpy (worker.id, cluster->worker_id);
    //  Alice in another partition than the worker's, so that an envelope
    //  holding her credit and the worker's own createAccount names two.
    it_user_t alice;
    do
        it_user_new (&alice);
    while (tly_partition_of (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT)
           == tly_partition_of (cluster->worker.sign_pk, TLY_PARTITIONS_DEFAULT));
    tly_sender_t *w = it_sender (cluster->gateway, cluster->worker_id, &worker);
    tly_sender_t *a = it_sender (cluster->gateway, cluster->worker_id, &alice);
    CHECK (it_create (a, 10).ok);
    char balance_id [TLY_ID_MAX], purchases_id [TLY_ID_MAX];
    tly_balance_id (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    tly_purchases_id (alice.account.sign_pk, TLY_PARTITIONS_DEFAULT, purchases_id);
    tly_watcher_t *watcher = tly_watcher_new_curve (cluster->gateway, it_gateway_key,
                                                    cluster->worker_id, &alice.account);
    CHECK (watcher);
    s_seen_t seen = { .count = 0 };
    CHECK (tly_watcher_subscribe (watcher, balance_id, s_on_object, &seen, IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (tly_watcher_subscribe (watcher, purchases_id, s_on_object, &seen, IT_SEND_TIMEOUT_MS)
           == 0);
    CHECK (seen.count == 1 && seen.balance [0] == 10 && seen.log_count == 0);

    //  The payment provider's webhook, delivered three times: one credit.
    tly_result_t first = s_adjust (w, false, alice.id, 50, "ch_3MqLlZ", "top-up: 50 credits");
    CHECK (first.ok && first.kind == TLY_RESULT_ADJUSTMENT && first.amount == 50
           && first.balance_after == 60 && strcmp (first.by, worker.id) == 0
           && strcmp (first.user_id, alice.id) == 0);
    for (int i = 0; i < 2; i++) {
        tly_result_t again = s_adjust (w, false, alice.id, 50, "ch_3MqLlZ", "top-up: 50 credits");
        CHECK (again.ok && strcmp (again.id, first.id) == 0 && again.balance_after == 60
               && again.timestamp == first.timestamp);
    }
    CHECK (it_balance (a) == 60);
    th_step ("a credit delivered three times credits once; each answer is the first");

    //  Both actors killed and started again: still once.
    it_cluster_kill (cluster, "balance-1", SIGKILL);
    it_cluster_kill (cluster, "balance-2", SIGKILL);
    it_cluster_restart (cluster, "balance-1");
    it_cluster_restart (cluster, "balance-2");
    CHECK (it_wait_actors (cluster->gateway, 2, 15000));
    tly_result_t late = s_adjust (w, false, alice.id, 50, "ch_3MqLlZ", "top-up: 50 credits");
    CHECK (late.ok && strcmp (late.id, first.id) == 0 && late.balance_after == 60);
    CHECK (it_balance (a) == 60);
    th_step ("after both actors were killed and restarted, the fourth delivery is the first");

    //  Alice may not credit herself: refused, nothing changes.
    it_expect_error (s_adjust (a, false, alice.id, 1000, "free", NULL),
                     TALLY__ERROR_CODE__PERMISSION_DENIED,
                     "Only an admin may credit or debit a balance");
    CHECK (it_balance (a) == 60);
    //  A debit past the balance, then one within it.
    it_expect_error (s_adjust (w, true, alice.id, 61, "chargeback-1", NULL),
                     TALLY__ERROR_CODE__INSUFFICIENT_BALANCE, "Insufficient balance");
    tly_result_t debit = s_adjust (w, true, alice.id, 20, "chargeback-1", "chargeback");
    CHECK (debit.ok && debit.amount == -20 && debit.balance_after == 40);
    th_step ("a user's own credit is refused; a debit never goes below 0");

    //  One envelope, two partitions: refused whole at the gateway.
    tly_msg_t mixed [2];
    tly_error_t error;
    CHECK (tly_msg_credit (&mixed [0], alice.id, 5, "mixed", NULL, &error) == 0);
    CHECK (tly_msg_create_account (&mixed [1], 0) == 0);
    tly_result_t results [2];
    CHECK (tly_sender_send (w, mixed, 2, IT_SEND_TIMEOUT_MS, results) == -1);
    const tly_error_t *refused = tly_sender_error (w);
    CHECK (refused->remote && refused->code == TALLY__ERROR_CODE__BAD_REQUEST
           && strstr (refused->message, "go to one partition"));
    CHECK (it_balance (a) == 40);
    th_step ("an envelope naming two partitions is refused at the gateway");


    //  The subscriptions: 10, 60, 40 in order (a resync after the restart
    //  may repeat a version as a snapshot, never skip or reorder one).
    s_until (watcher, &seen, 3);
    int64_t deadline = th_now_ms () + IT_SEND_TIMEOUT_MS;
    while (seen.balance [seen.count - 1] != 40 || seen.log_count != 2) {
        CHECK (th_now_ms () < deadline);
        CHECK (tly_watcher_dispatch (watcher, 100) >= 0);
    }
    for (size_t i = 1; i < seen.count; i++)
        CHECK (seen.version [i] == seen.version [i - 1] + 1
               || (seen.snapshot [i] && seen.version [i] >= seen.version [i - 1]));
    CHECK (seen.version [seen.count - 1] == 3 && seen.last_adjustment == -20);
    CHECK (tly_watcher_subscribe (watcher, first.id, s_on_object, &seen, IT_SEND_TIMEOUT_MS) == 0);
    CHECK (seen.have_record && seen.record.amount == 50
           && strcmp (seen.record.reference, "ch_3MqLlZ") == 0
           && strcmp (seen.record.note, "top-up: 50 credits") == 0);
    th_step ("the user's balance and history show each credit and debit; the record reads");
    //  Refunds: the worker's, once; never the buyer's own.
    tly_result_t bought = it_buy (a, "gem", 15);
    CHECK (bought.ok && bought.balance_after == 25 && bought.partition_seq > 0);
    tly_msg_t refund;
    CHECK (tly_msg_refund (&refund, bought.id, "arrived broken", &error) == 0);
    it_expect_error (it_send (a, &refund), TALLY__ERROR_CODE__PERMISSION_DENIED,
                     "Only an admin may refund a purchase");
    CHECK (tly_msg_refund (&refund, bought.id, "arrived broken", &error) == 0);
    tly_result_t refunded = it_send (w, &refund);
    CHECK (refunded.ok && refunded.kind == TLY_RESULT_ADJUSTMENT && refunded.amount == 15
           && refunded.balance_after == 40 && strcmp (refunded.note, "arrived broken") == 0
           && strncmp (refunded.reference, "refund:", 7) == 0);
    CHECK (it_balance (a) == 40);
    CHECK (tly_msg_refund (&refund, bought.id, "again", &error) == 0);
    it_expect_error (it_send (w, &refund), TALLY__ERROR_CODE__ALREADY_REFUNDED,
                     "Purchase already refunded");
    //  Both actors killed and started again: still refunded once.
    it_cluster_kill (cluster, "balance-1", SIGKILL);
    it_cluster_kill (cluster, "balance-2", SIGKILL);
    it_cluster_restart (cluster, "balance-1");
    it_cluster_restart (cluster, "balance-2");
    CHECK (it_wait_actors (cluster->gateway, 2, 15000));
    CHECK (tly_msg_refund (&refund, bought.id, "after a restart", &error) == 0);
    it_expect_error (it_send (w, &refund), TALLY__ERROR_CODE__ALREADY_REFUNDED, NULL);
    CHECK (it_balance (a) == 40);
    th_step ("a purchase is refunded once, by the worker, also across a restart of both actors;"
             " the buyer's own refund is refused");
    tly_watcher_destroy (&watcher);
    tly_sender_destroy (&w);
    tly_sender_destroy (&a);

    const char *actors [] = { "balance-1", "balance-2", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
    th_step ("verify re-derives every credit and debit; replay agrees with the actors");
    it_cluster_stop (&cluster);
    printf ("it_money: OK\n");
    return 0;
}
