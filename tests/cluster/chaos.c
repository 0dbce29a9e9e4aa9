//  tally-chaos - a seeded chaos run: a whole cluster of real processes on
//  loopback (audit writer, router, 3 balance actors, 2 gateways) under load
//  from client threads, while a scheduler kills, stops, adds and removes
//  processes and slows the disk at seeded times; then chaos_check proves
//  the guarantees from the clients' histories and the journal.
//
//  Usage: tally-chaos --seed S|random --duration SECONDS [--base-port P]
//                     [--data-dir DIR] [--clients N] [--tamper] [-v]
//
//  --tamper changes one acknowledged answer in the histories before the
//  check, which must then fail: the test that the checker can fail.
//
//  The seed decides every fault, its target, its time and how long it
//  lasts, and every client's choices (users, amounts, batches, resends);
//  the processes' own timing is the machine's, so two runs of one seed
//  inject the same faults at the same moments of different interleavings.
//
//  This file is the run: its flags, the cluster, the threads started and
//  joined, the report. The client threads are chaos_client.c, the watchers
//  chaos_watch.c, the faults chaos_scheduler.c; chaos_private.h is what
//  they share, and chaos_check.c the checker.
#include "chaos.h"
#include "chaos_private.h"

#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally.h"
#include "tly_log.h"
#include "tly_partition.h"
#include "tly_wire.h"

#define S_CLIENTS_DEFAULT 6
#define S_ACTORS          3
#define S_WATCHERS        2  //  one per gateway, each of a shared user
#define S_MAX_INITIAL     "1000000"

//  The run's state its parts share (chaos_private.h says what each is).
int64_t chaos_start_ms;
const tly_account_t *chaos_shared [2 * CHAOS_CLIENTS_MAX];
volatile int chaos_phase = 0;
//  When the run started, as the wall clock the cluster's logs use.
static char s_start_wall [32];

//  ---------------------------------------------------------------- failures

//  What a failure needs to be followed in the cluster's logs (whose lines
//  carry wall-clock times): when the load ended, the last faults, and for a
//  watcher that failed, its object, partition and last deliveries.
static void
s_print_trails (const chaos_scheduler_t *scheduler, const chaos_watch_t *watch, int64_t end_ms)
{
    printf ("chaos: trail: times from the start of the load (%s); it ended at %.3f s\n",
            s_start_wall, (double) end_ms / 1000.0);
    uint64_t first = scheduler->injected > CHAOS_TRAIL ? scheduler->injected - CHAOS_TRAIL : 0;
    for (uint64_t n = first; n < scheduler->injected; n++) {
        const chaos_injected_t *fault = &scheduler->trail [n % CHAOS_TRAIL];
        printf ("chaos: trail: %.3f s fault %s: %s\n", (double) fault->at_ms / 1000.0,
                chaos_fault_names [fault->fault], fault->target);
    }
    for (int w = 0; w < S_WATCHERS; w++) {
        const chaos_watch_t *self = &watch [w];
        if (!self->report.violations)
            continue;
        uint32_t partition = tly_partition_of (self->account.sign_pk, TLY_PARTITIONS_DEFAULT);
        printf ("chaos: trail: watcher %d on %s follows %s (user %s, partition %" PRIu32
                "); SDK: %" PRIu64 " gaps, %" PRIu64 " rounds of resubscribing, %" PRIu64
                " rejected, %" PRIu64 " duplicates\n",
                w, self->gateway, self->balance_id, self->id, partition, self->stats.gaps,
                self->stats.resubscribes, self->stats.rejected, self->stats.duplicates);
        first = self->delivered > CHAOS_TRAIL ? self->delivered - CHAOS_TRAIL : 0;
        for (uint64_t n = first; n < self->delivered; n++) {
            const chaos_delivery_t *got = &self->trail [n % CHAOS_TRAIL];
            if (got->kind == 'e')
                printf ("chaos: trail: %.3f s watcher %d: ended, %s\n",
                        (double) got->at_ms / 1000.0, w, tly_error_name (got->code));
            else
                printf ("chaos: trail: %.3f s watcher %d: %s v%" PRIu64 " balance %" PRId64
                        "%s%s\n",
                        (double) got->at_ms / 1000.0, w, got->kind == 's' ? "snapshot" : "update",
                        got->version, got->balance, got->code ? ", " : "",
                        got->code ? tly_error_name (got->code) : "");
        }
    }
}

//  ---------------------------------------------------------------- main

static void
s_usage (void)
{
    fprintf (stderr, "usage: tally-chaos --seed S|random --duration SECONDS [--base-port P]\n"
                     "                   [--data-dir DIR] [--clients N] [--tamper] [-v]\n");
}

static void
s_print (const chaos_report_t *report, int64_t duration_ms, int actors_end)
{
    printf ("chaos: seed %" PRIu64 ", %.1f s of load, %d actors at the end\n", report->seed,
            (double) duration_ms / 1000.0, actors_end);
    uint64_t faults = 0;
    for (int f = 0; f < CHAOS_FAULTS; f++) {
        printf ("chaos:   faults %-24s %" PRIu64 "\n", chaos_fault_names [f], report->faults [f]);
        faults += report->faults [f];
    }
    printf ("chaos:   faults in all %" PRIu64 "; the slow disk's fsync delay fired in %" PRIu64
            " of its %" PRIu64 "\n",
            faults, report->slow_fired, report->faults [CHAOS_SLOW_DISK]);
    printf ("chaos: envelopes %" PRIu64 ", resent %" PRIu64 " as the same bytes and %" PRIu64
            " newly signed, %" PRIu64 " sends unanswered\n",
            report->envelopes, report->resent_bytes, report->resent_sealed, report->send_failures);
    printf ("chaos: messages sent %" PRIu64 ", acknowledged %" PRIu64 ", unanswered %" PRIu64
            " (%" PRIu64 " of them applied)\n",
            report->sent, report->acknowledged, report->unanswered, report->unanswered_applied);
    printf ("chaos: journal: %" PRIu64 " records, %" PRIu64 " message results, %" PRIu64
            " accounts, %" PRIu64 " purchases, %" PRIu64 " credits (of %" PRIu64
            " credit messages, %" PRIu64 " of them a reference sent before)\n",
            report->records, report->journaled, report->accounts, report->purchases,
            report->credits, report->credits_sent, report->credits_repeated);
    printf ("chaos: catalog: %" PRIu64 " price changes sent, %" PRIu64
            " configuration results and %" PRIu64 " buys at the catalog's price journaled\n",
            report->prices_sent, report->config_results, report->priced_buys);
    printf ("chaos: refunds: %" PRIu64 " sent, %" PRIu64 " journaled as refunds\n",
            report->refunds_sent, report->refunds);
    printf ("chaos: watchers: %" PRIu64 " updates in order, %" PRIu64
            " snapshots (first and after a resubscribe), %" PRIu64 " gaps repaired, %" PRIu64
            " rounds of resubscribing\n",
            report->watch_updates, report->watch_snapshots, report->watch_gaps,
            report->watch_resubscribes);
    printf ("chaos: lost %" PRIu64 ", applied twice %" PRIu64
            ", journaled with another result %" PRIu64 "\n",
            report->lost, report->twice, report->different);
}

int
main (int argc, char **argv)
{
    uint64_t seed = 0;
    bool seeded = false;
    int64_t duration_s = 0;
    int base_port = 24600;
    int clients = S_CLIENTS_DEFAULT;
    bool tamper = false;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv [i + 1] : NULL;
        char *end = NULL;
        if (streq (argv [i], "-v"))
            th_verbose = true;
        else if (streq (argv [i], "--tamper"))
            tamper = true;
        else if (streq (argv [i], "--seed") && value) {
            if (streq (value, "random")) {
                seed = (uint64_t) tly_now_ms () ^ ((uint64_t) getpid () << 32);
                seeded = true;
            } else {
                seed = strtoull (value, &end, 10);
                seeded = end != value && *end == 0;
            }
            i++;
        } else if (streq (argv [i], "--duration") && value) {
            duration_s = strtoll (value, &end, 10);
            if (end == value || *end || duration_s < 1 || duration_s > 7 * 24 * 3600) {
                fprintf (stderr, "tally-chaos: --duration %s: seconds, 1 to 604800\n", value);
                return 2;
            }
            i++;
        } else if (streq (argv [i], "--base-port") && value) {
            base_port = atoi (value);
            if (base_port < 1024 || base_port > 65535 - 100) {
                fprintf (stderr, "tally-chaos: --base-port %s: 1024 to 65435\n", value);
                return 2;
            }
            i++;
        } else if (streq (argv [i], "--data-dir") && value) {
            it_cluster_parent_dir = value;
            i++;
        } else if (streq (argv [i], "--clients") && value) {
            clients = atoi (value);
            if (clients < 2 || clients > CHAOS_CLIENTS_MAX) {
                fprintf (stderr, "tally-chaos: --clients %s: 2 to %d\n", value, CHAOS_CLIENTS_MAX);
                return 2;
            }
            i++;
        } else {
            s_usage ();
            return 2;
        }
    }
    if (!seeded || duration_s == 0) {
        if (!seeded && duration_s)
            fprintf (stderr, "tally-chaos: --seed needs a number or `random`\n");
        s_usage ();
        return 2;
    }
    //  Line by line: a long run's log shows each line as it comes, and no
    //  line is lost however the run ends.
    setvbuf (stdout, NULL, _IOLBF, 0);
    //  The seed first, so that any failure, however it ends, can be replayed.
    printf ("chaos: seed %" PRIu64 " (replay: tally-chaos --seed %" PRIu64 " --duration %" PRId64
            ")\n",
            seed, seed, duration_s);
    fflush (stdout);
    //  Ctrl-C or SIGTERM ends the run at once (and its processes with it):
    //  czmq's handler would only make every socket call fail from then on.
    zsys_handler_set (NULL);
    zsys_init ();
    zsys_set_linger (0);
    CHECK (sodium_init () >= 0);
    //  The SDK's own lines (a watcher reconnecting after each gateway kill)
    //  at info would bury the run's; -v shows them.
    tly_log_init ("tally-chaos", th_verbose ? TLY_INFO : TLY_WARN);
    if (!chaos_slow_disk)
        printf ("chaos: no slow disk: this build has no fault points (-DTALLY_FAULTS=ON has)\n");

    static const char *balance_args [] = { "--max-initial", S_MAX_INITIAL, NULL };
    it_balance_extra_args = balance_args;
    it_cluster_t *cluster = it_cluster_start (base_port, S_ACTORS, 2);
    printf ("chaos: cluster in %s\n", cluster->dir);
    char second [64];
    it_gateway_endpoint (cluster, 2, second, sizeof second);

    //  Shared users: client i's slot 0 is client i-1's slot 1.
    tly_account_t shared [CHAOS_CLIENTS_MAX];
    for (int i = 0; i < clients; i++) {
        CHECK (tly_account_generate (&shared [i]) == 0);
        chaos_shared [i] = &shared [i];
    }
    for (int i = 0; i < clients; i++)
        chaos_shared [CHAOS_CLIENTS_MAX + i] = &shared [(i + 1) % clients];
    chaos_start_ms = tly_mono_ms ();
    time_t wall = (time_t) (tly_now_ms () / 1000);
    struct tm utc;
    strftime (s_start_wall, sizeof s_start_wall, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&wall, &utc));
    uint64_t rng = seed;
    CHECK (clients >= 2 && clients <= CHAOS_CLIENTS_MAX);
    chaos_client_t *client = calloc ((size_t) clients, sizeof *client);
    CHECK (client);
    for (int i = 0; i < clients; i++) {
        client [i].index = i;
        client [i].rng = th_rng_next (&rng);
        client [i].gateway = i % 2 ? second : cluster->gateway;
        client [i].worker_id = cluster->worker_id;
        client [i].worker = &cluster->worker;
        client [i].report.seed = seed;
        CHECK (pthread_create (&client [i].thread, NULL, chaos_client, &client [i]) == 0);
    }

    //  Two watchers, one per gateway, of the first two shared users.
    chaos_watch_t watch [S_WATCHERS];
    memset (watch, 0, sizeof watch);
    for (int w = 0; w < S_WATCHERS; w++) {
        watch [w].index = w;
        watch [w].gateway = w % 2 ? second : cluster->gateway;
        watch [w].worker_id = cluster->worker_id;
        watch [w].account = shared [w];
        tly_account_id (shared [w].sign_pk, watch [w].id);
        tly_balance_id (shared [w].sign_pk, TLY_PARTITIONS_DEFAULT, watch [w].balance_id);
        CHECK (pthread_create (&watch [w].thread, NULL, chaos_watch, &watch [w]) == 0);
    }

    chaos_report_t report = { .seed = seed };
    chaos_scheduler_t scheduler = { .cluster = cluster,
                                    .rng = th_rng_next (&rng),
                                    .report = &report,
                                    .actor_count = S_ACTORS,
                                    .next_actor = S_ACTORS + 1,
                                    .gateways = 2 };
    for (int a = 0; a < S_ACTORS; a++)
        snprintf (scheduler.actors [a], sizeof scheduler.actors [a], "balance-%d", a + 1);
    int64_t start = tly_mono_ms ();
    int64_t end = start + duration_s * 1000;
    while (report.violations == 0) {
        int64_t gap = 200 + (int64_t) th_rng_below (&scheduler.rng, 1300);
        if (tly_mono_ms () + gap >= end)
            break;
        chaos_pause (gap);
        chaos_fault_t fault = chaos_inject (&scheduler);
        report.faults [fault]++;
        chaos_await_ready (&scheduler, fault);
    }
    int64_t remaining = end - tly_mono_ms ();
    if (remaining > 0 && report.violations == 0)
        chaos_pause (remaining);
    int64_t load_ms = tly_mono_ms () - start;
    if (report.violations == 0
        && !it_wait_actors (cluster->gateway, (uint32_t) scheduler.actor_count, CHAOS_RECOVER_MS))
        chaos_violation (&report, "the router does not report the %d actors running",
                         scheduler.actor_count);

    //  The clients' last resends and reads: each bounded by the send timeout.
    __atomic_store_n (&chaos_phase, 1, __ATOMIC_SEQ_CST);
    chaos_msgs_t history = { 0 };
    for (int i = 0; i < clients; i++) {
        CHECK (pthread_join (client [i].thread, NULL) == 0);
        chaos_report_t *own = &client [i].report;
        report.envelopes += own->envelopes;
        report.resent_bytes += own->resent_bytes;
        report.resent_sealed += own->resent_sealed;
        report.send_failures += own->send_failures;
        report.credits_sent += own->credits_sent;
        report.credits_repeated += own->credits_repeated;
        report.prices_sent += own->prices_sent;
        report.refunds_sent += own->refunds_sent;
        if (own->violations)
            chaos_violation (&report, "%s", own->first_violation);
        for (size_t m = 0; m < client [i].history.count; m++)
            *chaos_msgs_add (&history) = client [i].history.items [m];
        free (client [i].history.items);
    }
    free (client);
    //  The load is over: every watcher must reach the balance a read returns.
    __atomic_store_n (&chaos_phase, 2, __ATOMIC_SEQ_CST);
    for (int w = 0; w < S_WATCHERS; w++) {
        CHECK (pthread_join (watch [w].thread, NULL) == 0);
        report.watch_updates += watch [w].updates;
        report.watch_snapshots += watch [w].snapshots;
        report.watch_gaps += watch [w].stats.gaps;
        report.watch_resubscribes += watch [w].stats.resubscribes;
        if (watch [w].report.violations)
            chaos_violation (&report, "%s", watch [w].report.first_violation);
        for (size_t m = 0; m < watch [w].history.count; m++)
            *chaos_msgs_add (&history) = watch [w].history.items [m];
        free (watch [w].history.items);
    }

    if (tamper)
        for (size_t m = 0; m < history.count; m++)
            if (history.items [m].state == CHAOS_OK) {
                printf ("chaos: --tamper: one acknowledged answer changed; the check must fail\n");
                history.items [m].value++;
                break;
            }
    //  Each arming logs the first delay it makes: a slow disk that never
    //  slowed anything would be a fault not injected.
    report.slow_fired = (uint64_t) it_logged (cluster, "audit",
                                              "event=fault.injected point=journal.sync");
    if (report.faults [CHAOS_SLOW_DISK] >= 3 && report.slow_fired == 0)
        chaos_violation (&report, "the slow disk was armed %" PRIu64 " times and never fired",
                         report.faults [CHAOS_SLOW_DISK]);
    if (report.violations == 0)
        chaos_check (cluster, &history, &report);
    free (history.items);
    s_print (&report, load_ms, scheduler.actor_count);
    if (report.violations && !tamper)
        s_print_trails (&scheduler, watch, start + load_ms - chaos_start_ms);
    if (report.violations) {
        printf ("chaos: seed %" PRIu64 ": FAILED: %" PRIu64 " violations, the first: %s\n", seed,
                report.violations, report.first_violation);
        char dir [sizeof cluster->dir];
        snprintf (dir, sizeof dir, "%s", cluster->dir);
        it_cluster_abandon (&cluster);
        if (tamper)
            th_dir_remove (dir);  //  the failure was made on purpose
        else
            printf ("chaos: the cluster's data and logs are kept in %s\n", dir);
        return 1;
    }
    it_cluster_stop (&cluster);
    printf ("chaos: seed %" PRIu64 ": OK\n", seed);
    return 0;
}
