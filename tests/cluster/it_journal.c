//  Integration tests of event sourcing: a random workload, then the journal
//  verified and replayed against the live actors, then every actor's state
//  deleted and rebuilt from the journal.
//  Usage: it_journal BASE_PORT
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_cluster.h"
#include "tally.h"
#include "tly_wire.h"

#define S_TIMEOUT_MS 10000
#define S_USERS      40
#define S_ENVELOPES  300
#define S_COMMAND_MS 120000  //  longest one tally command may run

typedef struct {
    tly_account_t account;
    tly_sender_t *sender;
    int64_t balance;  //  -1 until created
} s_user_t;

typedef struct {
    int user;
    uint8_t *bytes;
    size_t size;
    size_t count;
    tly_result_t results [8];
} s_sealed_t;

static int64_t
s_balance_of (s_user_t *user)
{
    tly_msg_t msg;
    tly_msg_create_account (&msg, 0);
    tly_result_t result;
    CHECK (tly_sender_send_one (user->sender, &msg, S_TIMEOUT_MS, &result) == 0);
    CHECK (result.ok);
    return result.balance;
}

//  Resends every sealed envelope: each must answer exactly its first results.
static void
s_check_resends (s_user_t *users, s_sealed_t *sealed, int count)
{
    for (int e = 0; e < count; e++) {
        tly_result_t again [8];
        size_t n = 0;
        CHECK (tly_sender_send_raw (users [sealed [e].user].sender, sealed [e].bytes,
                                    sealed [e].size, S_TIMEOUT_MS, again, 8, &n)
               == 0);
        CHECK (n == sealed [e].count);
        for (size_t m = 0; m < n; m++) {
            tly_result_t *first = &sealed [e].results [m];
            CHECK (again [m].ok == first->ok && again [m].code == first->code);
            if (first->ok && first->kind == TLY_RESULT_PURCHASE) {
                CHECK (streq (again [m].id, first->id));
                CHECK (again [m].balance_after == first->balance_after);
                CHECK (again [m].timestamp == first->timestamp);
            }
            if (first->ok && first->kind == TLY_RESULT_BALANCE)
                CHECK (streq (again [m].id, first->id));
        }
    }
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_journal BASE_PORT\n");
        return 2;
    }
    zsys_init ();
    zsys_set_linger (0);
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    srand (12345);

    //  A random workload: many users, createAccount/buy mixes, rejections.
    s_user_t users [S_USERS];
    for (int u = 0; u < S_USERS; u++) {
        CHECK (tly_account_generate (&users [u].account) == 0);
        users [u].sender = tly_sender_new_curve (cluster->gateway, it_gateway_key,
                                                 cluster->worker_id, &users [u].account);
        CHECK (users [u].sender);
        users [u].balance = -1;
    }
    s_sealed_t *sealed = calloc (S_ENVELOPES, sizeof *sealed);
    CHECK (sealed);
    int accepted = 0, refused = 0;
    for (int e = 0; e < S_ENVELOPES; e++) {
        int u = rand () % S_USERS;
        size_t n = 1 + (size_t) (rand () % 8);
        tly_msg_t msgs [8];
        for (size_t m = 0; m < n; m++) {
            int kind = rand () % 10;
            if (kind == 0)
                tly_msg_create_account (&msgs [m], rand () % 120);  //  sometimes over the limit
            else if (kind == 1)
                tly_msg_buy (&msgs [m], "bad", -(rand () % 5));  //  refused: not positive
            else {
                char item [32];
                snprintf (item, sizeof item, "item-%d", rand () % 50);
                tly_msg_buy (&msgs [m], item, 1 + rand () % 30);
            }
        }
        sealed [e].user = u;
        sealed [e].count = n;
        CHECK (tly_sender_seal (users [u].sender, msgs, n, tly_now_ms (), &sealed [e].bytes,
                                &sealed [e].size)
               == 0);
        size_t got = 0;
        CHECK (tly_sender_send_raw (users [u].sender, sealed [e].bytes, sealed [e].size,
                                    S_TIMEOUT_MS, sealed [e].results, 8, &got)
               == 0);
        CHECK (got == n);
        for (size_t m = 0; m < n; m++) {
            tly_result_t *result = &sealed [e].results [m];
            if (result->ok && result->kind == TLY_RESULT_BALANCE)
                users [u].balance = result->balance;
            if (result->ok && result->kind == TLY_RESULT_PURCHASE)
                users [u].balance = result->balance_after;
            if (result->ok)
                accepted++;
            else
                refused++;
        }
    }
    printf ("workload: %d envelopes, %d messages accepted, %d refused\n", S_ENVELOPES, accepted,
            refused);
    CHECK (accepted > 100 && refused > 50);

    //  The journal verifies, and replaying it matches the live actors.
    const char *actors [] = { "balance-1", "balance-2", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);

    //  Delete every actor's state and restart them: everything comes back
    //  from the journal, including the dedupe entries.
    int64_t before [S_USERS];
    for (int u = 0; u < S_USERS; u++)
        before [u] = users [u].balance;
    for (int a = 1; a <= 2; a++) {
        char name [32];
        snprintf (name, sizeof name, "balance-%d", a);
        it_cluster_kill (cluster, name, SIGTERM);
        char state [512];
        snprintf (state, sizeof state, "%s/%s", cluster->dir, name);
        th_dir_remove (state);
    }
    it_cluster_restart (cluster, "balance-1");
    it_cluster_restart (cluster, "balance-2");
    CHECK (it_wait_ready (cluster->gateway, 15000));
    //  Reading through the cluster waits for each partition's catch-up.
    s_check_resends (users, sealed, S_ENVELOPES);
    for (int u = 0; u < S_USERS; u++)
        if (before [u] >= 0)
            CHECK (s_balance_of (&users [u]) == before [u]);
    it_check_journal (cluster, actors, S_COMMAND_MS);
    printf ("rebuild: %d users' balances and %d envelopes' results identical after wiping every "
            "actor\n",
            S_USERS, S_ENVELOPES);

    for (int e = 0; e < S_ENVELOPES; e++)
        free (sealed [e].bytes);
    free (sealed);
    for (int u = 0; u < S_USERS; u++)
        tly_sender_destroy (&users [u].sender);
    it_cluster_stop (&cluster);
    printf ("it_journal: OK\n");
    return 0;
}
