//  it_rate - the per-user rate limit through a real cluster (docs/
//  architecture.md, "Rate limit"): the actors run with a bucket of 3 that
//  refills one token a minute. A user's buys past the bucket are refused
//  RATE_LIMITED with the wait, in one envelope and alone, while another
//  user's buys go through; a resend of a buy that went through answers its
//  first result with the bucket empty (it takes no token); the refused
//  message sent again is decided again, not answered from memory. An actor
//  that takes the partitions over with no state of its own (rebuilt from the
//  journal) keeps the bucket: still refused, the wait counting down from the
//  same time. `tally audit verify` re-derives every decision, waits included,
//  and `replay --compare` agrees with the actors.
//  Usage: it_rate BASE_PORT
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_client.h"
#include "it_cluster.h"
#include "tally.h"
#include "tly_wire.h"

#define S_MINUTE_MS  60000
#define S_COMMAND_MS 60000

static const char *s_actor_args [] = { "--rate-per-minute", "1", "--rate-burst", "3", NULL };

//  A refusal on the rate limit, with a wait in (0, a minute].
static int64_t
s_limited (tly_result_t result)
{
    it_expect_error (result, TALLY__ERROR_CODE__RATE_LIMITED,
                     "Rate limited: too many buys, retry later");
    CHECK (result.retry_after_ms > 0 && result.retry_after_ms <= S_MINUTE_MS);
    return result.retry_after_ms;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: it_rate BASE_PORT\n");
        return 2;
    }
    it_balance_extra_args = s_actor_args;
    it_cluster_t *cluster = it_cluster_start (atoi (argv [1]), 2, 1);
    it_user_t alice, bob;
    it_user_new (&alice);
    it_user_new (&bob);
    tly_sender_t *a = it_sender (cluster->gateway, cluster->worker_id, &alice);
    tly_sender_t *b = it_sender (cluster->gateway, cluster->worker_id, &bob);
    CHECK (it_create (a, 100).ok && it_create (b, 100).ok);

    //  Alice: five buys in one envelope, the first one sealed apart to be
    //  sent again: three go through, two are refused.
    tly_msg_t msgs [5];
    for (int i = 0; i < 5; i++)
        CHECK (tly_msg_buy (&msgs [i], "gem", 10) == 0);
    uint8_t *first = NULL;
    size_t first_size = 0;
    CHECK (tly_sender_seal (a, msgs, 1, tly_now_ms (), &first, &first_size) == 0);
    tly_result_t results [5];
    size_t count = 0;
    CHECK (tly_sender_send_raw (a, first, first_size, IT_SEND_TIMEOUT_MS, results, 1, &count) == 0);
    CHECK (count == 1 && results [0].ok && results [0].balance_after == 90);
    tly_result_t first_result = results [0];
    CHECK (tly_sender_send (a, msgs + 1, 4, IT_SEND_TIMEOUT_MS, results) == 0);
    CHECK (results [0].ok && results [1].ok && results [1].balance_after == 70);
    int64_t wait = s_limited (results [2]);
    CHECK (s_limited (results [3]) == wait);
    th_step ("a user's buys past the bucket are refused RATE_LIMITED with the wait");

    //  Bob is not slowed by Alice: his bucket is his own.
    for (int i = 0; i < 3; i++)
        CHECK (it_buy (b, "rope", 1).balance_after == 99 - i);
    th_step ("another user's buys go through");

    //  The first buy again, with no token left: its first result.
    CHECK (tly_sender_send_raw (a, first, first_size, IT_SEND_TIMEOUT_MS, results, 1, &count) == 0);
    CHECK (count == 1 && results [0].ok && strcmp (results [0].id, first_result.id) == 0);
    CHECK (results [0].balance_after == 90);
    //  A refused message again (its ID, a new envelope): refused again, so
    //  decided again, with the wait shorter or the same.
    int64_t again = s_limited (it_send (a, &msgs [3]));
    CHECK (again <= wait);
    CHECK (it_balance (a) == 70);
    th_step ("a resend takes no token; a refused message is decided again");

    //  balance-1 goes with its state; balance-3, with none, takes its
    //  partitions from the journal: Alice's bucket is still empty.
    CHECK (it_cluster_remove (cluster, "balance-1") == 0);
    char state [512];
    snprintf (state, sizeof state, "%s/balance-1", cluster->dir);
    th_dir_remove (state);
    it_cluster_add_actor (cluster, "balance-3");
    CHECK (it_wait_actors (cluster->gateway, 2, 15000));
    int64_t after = s_limited (it_buy (a, "gem", 10));
    CHECK (after <= again);
    s_limited (it_buy (b, "rope", 1));  //  Bob's three were his bucket too
    CHECK (it_balance (a) == 70 && it_balance (b) == 97);
    th_step ("a new actor rebuilt from the journal keeps the buckets");
    tly_sender_destroy (&a);
    tly_sender_destroy (&b);
    free (first);

    const char *actors [] = { "balance-2", "balance-3", NULL };
    it_check_journal (cluster, actors, S_COMMAND_MS);
    th_step ("verify re-derives every decision; replay agrees with the actors");
    it_cluster_stop (&cluster);
    printf ("it_rate: OK\n");
    return 0;
}
