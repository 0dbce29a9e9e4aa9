//  bench - `tally bench`: C concurrent clients send M buys each in envelopes
//  of B messages; prints durable throughput, round-trip latency quantiles,
//  errors, each server process's CPU seconds and RSS, and checks at the end
//  that the money adds up.
#include "bench.h"
#include "tly_account_load.h"

#include <czmq.h>
#include <assert.h>
#include <getopt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tly_log.h"
#include "tly_wire.h"

#define S_ATTEMPTS_MAX    100                        //  --attempts
#define S_DURATION_MS_MAX (30LL * 24 * 3600 * 1000)  //  --duration, --report-every: 30 days
#define S_RATE_MAX        10000000                   //  --rate, buys/s
#define S_REPORT_MS       60000                      //  --report-every's default
//  Each user's balance in a --duration run, which has no count of buys to
//  size it by: a million buys a second for eleven days, and 100,000 users'
//  sum still fits an int64.
#define S_SOAK_INITIAL    1000000000000LL
_Static_assert(S_SOAK_INITIAL *BENCH_USERS_MAX < INT64_MAX / 2, "the sum of balances fits");

//  createAccount for every user; a second one (the check) returns the balance.
static int
s_balances (const bench_plan_t *plan, bench_user_t *users, int user_count, int64_t initial,
            int64_t *balances)
{
    tly_sender_t *sender = NULL;
    for (int u = 0; u < user_count; u++) {
        sender = tly_sender_new_curve (plan->gateway, plan->gateway_key, plan->worker_id,
                                       &users [u].account);
        assert (sender);
        tly_msg_t msg;
        tly_msg_create_account (&msg, initial);
        tly_result_t result;
        if (tly_sender_send_one (sender, &msg, plan->timeout_ms, &result) != 0 || !result.ok) {
            fprintf (stderr, "tally bench: createAccount for user %d failed: %s\n", u,
                     result.ok ? tly_sender_error (sender)->message : result.message);
            tly_sender_destroy (&sender);
            return -1;
        }
        balances [u] = result.balance;
        tly_sender_destroy (&sender);
    }
    return 0;
}

//  A subscriber follows one user's balance and measures, for each update,
//  the time from sending the buy that caused it to the update's arrival.
typedef struct {
    const bench_plan_t *plan;
    bench_user_t *user;
    volatile bool *done;
    bench_latency_t latency;
    int64_t updates;
    int64_t start_balance;  //  from the snapshot, -1 before it
    int64_t last_balance;
} s_subscriber_t;

static void
s_on_update (const tly_object_t *object, void *arg)
{
    s_subscriber_t *sub = arg;
    if (object->kind != TLY_OBJ_BALANCE || object->ended)
        return;
    if (object->snapshot && sub->start_balance < 0)
        sub->start_balance = object->balance.balance;
    __atomic_store_n (&sub->last_balance, object->balance.balance, __ATOMIC_RELAXED);
    if (object->snapshot)
        return;
    sub->updates++;
    //  Every buy is 1, so the k-th buy of the run leaves start - k.
    int64_t k = sub->start_balance - object->balance.balance;
    if (k >= 1 && k < sub->user->sent_capacity) {
        int64_t sent = __atomic_load_n (&sub->user->sent_us [k], __ATOMIC_ACQUIRE);
        if (sent > 0)
            bench_latency_add (&sub->latency, zclock_usecs () - sent);
    }
}

static void *
s_subscriber_run (void *arg)
{
    s_subscriber_t *sub = arg;
    tly_watcher_t *watcher = tly_watcher_new_curve (sub->plan->gateway, sub->plan->gateway_key,
                                                    sub->plan->worker_id, &sub->user->account);
    assert (watcher);
    char balance_id [TLY_ID_MAX];
    tly_balance_id (sub->user->account.sign_pk, TLY_PARTITIONS_DEFAULT, balance_id);
    if (tly_watcher_subscribe (watcher, balance_id, s_on_update, sub, sub->plan->timeout_ms) != 0) {
        fprintf (stderr, "tally bench: subscriber cannot subscribe: %s\n",
                 tly_watcher_error (watcher)->message);
        tly_watcher_destroy (&watcher);
        return NULL;
    }
    //  Until the load is over and the balance shows every acknowledged buy.
    int64_t deadline = 0;
    while (true) {
        if (*sub->done && !deadline)
            deadline = tly_mono_ms () + sub->plan->timeout_ms;
        int64_t target = sub->user->initial
                         - __atomic_load_n (&sub->user->bought, __ATOMIC_RELAXED);
        if (*sub->done && (sub->last_balance == target || tly_mono_ms () > deadline))
            break;
        if (tly_watcher_dispatch (watcher, 50) < 0)
            break;
    }
    tly_watcher_destroy (&watcher);
    return NULL;
}

static void
s_usage (FILE *out)
{
    fputs (
        "usage: tally bench [options]\n"
        "  --clients C        concurrent clients, one envelope in flight each (default 16)\n"
        "  --threads T        threads driving the clients (default: the CPU count)\n"
        "  --users U          distinct accounts (default: C)\n"
        "  --buys M           buys per client (default 1000)\n"
        "  --duration D       instead of --buys: send for D seconds (decimals allowed, or\n"
        "                     with a unit: 90s, 30m, 2h), printing a line of figures per\n"
        "                     interval and a summary at the end (see bench/README.md)\n"
        "  --report-every S   the interval, spelled as --duration (default 60)\n"
        "  --rate R           R buys/s from all clients together (default: as fast as answered)\n"
        "  --batch B          messages per signed envelope, 1..256 (default 1)\n"
        "  --initial N        each user's initial balance (default: enough for every buy)\n"
        "  --baseline N       first run N buys from one client, batch 1, and print ratios\n"
        "  --subscribers S    follow the balances of S users and time each update\n"
        "                     from the buy's send to its arrival (S <= users, users >= clients)\n"
        "  --json FILE        also write the figures as JSON (- for stdout)\n"
        "  --timeout-ms MS    per envelope (default 10000)\n"
        "  --attempts N       posts of an unanswered envelope, the same message IDs each\n"
        "                     time, before it counts as failed (default 1: no resend)\n"
        "  --catalog          buys at the catalog's price: the worker first sets " BENCH_ITEM "'s\n"
        "                     price (one setPrice), then every buy names no amount; the\n"
        "                     system it starts has prices closed (without --catalog:\n"
        "                     `tally up --open-prices`, and each buy names its amount)\n"
        "  target a running system:  --gateway EP --worker co_z... [--gateway-key KEY]\n"
        "                            [--pids FILE] (KEY default $" TLY_ENV_GATEWAY_KEY ")\n"
        "                            [--data-dir DIR: its `tally up` dir, for disk figures\n"
        "                            and DIR/pids]\n"
        "                            [--worker-account-file FILE: the worker's account, for\n"
        "                            --catalog; default $" TLY_ENV_WORKER_SECRET "]\n"
        "  or start one (default):   [--base-port 17800] [--data-dir DIR] [--actors 2]\n"
        "                            [--retain POLICY] [--segment-bytes N] [--hops unix|tcp]\n"
        "                            [--insecure] [--rate-per-minute N] [--rate-burst B]\n"
        "                            (tally up's)\n",
        out);
}

//  --duration and --report-every: seconds with decimals, as `tally watch
//  --timeout`, or with a unit s, m or h.
static int
s_take_duration (const char *flag, const char *text, int64_t *ms)
{
    char number [32];
    size_t size = strlen (text);
    int64_t unit = 1;
    if (size > 1 && size < sizeof number && strchr ("smh", text [size - 1])) {
        unit = text [size - 1] == 's' ? 1 : text [size - 1] == 'm' ? 60 : 3600;
        size--;
    }
    if (size < sizeof number) {
        memcpy (number, text, size);
        number [size] = 0;
        if (cli_parse_seconds (number, S_DURATION_MS_MAX / unit, ms) == 0) {
            *ms *= unit;
            return 0;
        }
    }
    fprintf (stderr,
             "tally bench: %s: not a duration in (0, %lld] s, e.g. 600, 2.5, 90s, 30m, 2h: '%s'\n",
             flag, S_DURATION_MS_MAX / 1000, text);
    return -1;
}

static void
s_print_run (FILE *out, const char *label, bench_run_t *run)
{
    double rate = run->seconds > 0 ? (double) run->ok / run->seconds : 0;
    fprintf (out, "%-15s %.0f durable buys/s (%lld ok in %.3f s)\n", label, rate,
             (long long) run->ok, run->seconds);
    if (run->latency.count == 0 && run->ok + run->refused + run->failed > 0)
        fprintf (out, "%-15s in the soak lines above\n", "round trip");
    else
        fprintf (out,
                 "%-15s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms"
                 "  (%zu envelopes)\n",
                 "round trip", bench_latency_quantile (&run->latency, 0.5) / 1e3,
                 bench_latency_quantile (&run->latency, 0.9) / 1e3,
                 bench_latency_quantile (&run->latency, 0.99) / 1e3,
                 bench_latency_quantile (&run->latency, 0.999) / 1e3,
                 bench_latency_quantile (&run->latency, 1) / 1e3, run->latency.count);
    fprintf (out, "%-15s %lld refused messages, %lld envelopes unanswered (%lld posted again)\n",
             "errors", (long long) run->refused, (long long) run->failed, (long long) run->resent);
}

static void
s_json_run (FILE *out, const char *key, bench_run_t *run)
{
    fprintf (
        out,
        "\"%s\":{\"seconds\":%.6f,\"ok\":%lld,\"refused\":%lld,\"failed\":%lld,\"resent\":%lld,"
        "\"buys_per_second\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
        "\"p999\":%.3f,\"max\":%.3f},\"envelopes\":%zu}",
        key, run->seconds, (long long) run->ok, (long long) run->refused, (long long) run->failed,
        (long long) run->resent, run->seconds > 0 ? (double) run->ok / run->seconds : 0,
        bench_latency_quantile (&run->latency, 0.5) / 1e3,
        bench_latency_quantile (&run->latency, 0.9) / 1e3,
        bench_latency_quantile (&run->latency, 0.99) / 1e3,
        bench_latency_quantile (&run->latency, 0.999) / 1e3,
        bench_latency_quantile (&run->latency, 1) / 1e3, run->latency.count);
}

int
cli_bench (int argc, char **argv)
{
    int64_t clients = 16, users_n = 0, buys = 1000, batch = 1, initial = 0, baseline = 0;
    int64_t timeout_ms = 10000, base_port = 17800, actors = 2, subscribers = 0, attempts = 1;
    int64_t duration_ms = 0, report_ms = S_REPORT_MS, rate = 0;
    bool buys_given = false, report_given = false;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    int64_t threads = cpus >= 1 && cpus <= BENCH_CLIENTS_MAX ? cpus : 1;
    const char *gateway_flag = NULL, *worker_flag = NULL, *pids_flag = NULL;
    const char *json_path = NULL, *data_dir_flag = NULL, *retain = NULL;
    int64_t segment_bytes = 0, rate_per_minute = 0, rate_burst = 0;
    const char *gateway_key_flag = NULL, *hops = NULL;
    const char *worker_file_flag = NULL;
    bool insecure = false, catalog = false;
    static struct option options [] = { { "clients", required_argument, 0, 'c' },
                                        { "users", required_argument, 0, 'u' },
                                        { "buys", required_argument, 0, 'm' },
                                        { "batch", required_argument, 0, 'b' },
                                        { "initial", required_argument, 0, 'i' },
                                        { "baseline", required_argument, 0, 'B' },
                                        { "json", required_argument, 0, 'j' },
                                        { "timeout-ms", required_argument, 0, 't' },
                                        { "attempts", required_argument, 0, 'A' },
                                        { "gateway", required_argument, 0, 'g' },
                                        { "worker", required_argument, 0, 'w' },
                                        { "pids", required_argument, 0, 'p' },
                                        { "base-port", required_argument, 0, 'P' },
                                        { "data-dir", required_argument, 0, 'd' },
                                        { "actors", required_argument, 0, 'a' },
                                        { "subscribers", required_argument, 0, 's' },
                                        { "threads", required_argument, 0, 'T' },
                                        { "duration", required_argument, 0, 'D' },
                                        { "rate", required_argument, 0, 'r' },
                                        { "report-every", required_argument, 0, 'R' },
                                        { "retain", required_argument, 0, 'e' },
                                        { "segment-bytes", required_argument, 0, 'S' },
                                        { "gateway-key", required_argument, 0, 'K' },
                                        { "hops", required_argument, 0, 'H' },
                                        { "insecure", no_argument, 0, 'I' },
                                        { "rate-per-minute", required_argument, 0, 'M' },
                                        { "rate-burst", required_argument, 0, 'N' },
                                        { "catalog", no_argument, 0, 'C' },
                                        { "worker-account-file", required_argument, 0, 'W' },
                                        { "help", no_argument, 0, 'h' },
                                        { 0, 0, 0, 0 } };
    optind = 1;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        int rc = 0;
        switch (option) {
            case 'c':
                rc = tly_flags_int ("bench", "--clients", optarg, 1, BENCH_CLIENTS_MAX, &clients);
                break;
            case 'u':
                rc = tly_flags_int ("bench", "--users", optarg, 1, BENCH_USERS_MAX, &users_n);
                break;
            case 'm':
                rc = tly_flags_int ("bench", "--buys", optarg, 1, 100000000, &buys);
                buys_given = true;
                break;
            case 'D': rc = s_take_duration ("--duration", optarg, &duration_ms); break;
            case 'R':
                rc = s_take_duration ("--report-every", optarg, &report_ms);
                report_given = true;
                break;
            case 'r': rc = tly_flags_int ("bench", "--rate", optarg, 1, S_RATE_MAX, &rate); break;
            case 'b':
                rc = tly_flags_int ("bench", "--batch", optarg, 1, TLY_BATCH_MAX, &batch);
                break;
            case 'i':
                rc = tly_flags_int ("bench", "--initial", optarg, 1, INT64_MAX / 2, &initial);
                break;
            case 'B':
                rc = tly_flags_int ("bench", "--baseline", optarg, 1, 1000000, &baseline);
                break;
            case 't':
                rc = tly_flags_int ("bench", "--timeout-ms", optarg, 1, 3600000, &timeout_ms);
                break;
            case 'A':
                rc = tly_flags_int ("bench", "--attempts", optarg, 1, S_ATTEMPTS_MAX, &attempts);
                break;
            case 'P':
                rc = tly_flags_int ("bench", "--base-port", optarg, 1024, 65000, &base_port);
                break;
            case 'a': rc = tly_flags_int ("bench", "--actors", optarg, 1, 8, &actors); break;
            case 's':
                rc = tly_flags_int ("bench", "--subscribers", optarg, 0, BENCH_CLIENTS_MAX,
                                    &subscribers);
                break;
            case 'T':
                rc = tly_flags_int ("bench", "--threads", optarg, 1, BENCH_CLIENTS_MAX, &threads);
                break;
            case 'e': retain = optarg; break;
            case 'S':
                rc = tly_flags_int ("bench", "--segment-bytes", optarg, 1, INT64_MAX,
                                    &segment_bytes);
                break;
            case 'M':
                rc = tly_flags_int ("bench", "--rate-per-minute", optarg, 1,
                                    TLY_RATE_PER_MINUTE_MAX, &rate_per_minute);
                break;
            case 'N':
                rc = tly_flags_int ("bench", "--rate-burst", optarg, 1, TLY_RATE_BURST_MAX,
                                    &rate_burst);
                break;
            case 'j': json_path = optarg; break;
            case 'g': gateway_flag = optarg; break;
            case 'K': gateway_key_flag = optarg; break;
            case 'H': hops = optarg; break;
            case 'I': insecure = true; break;
            case 'C': catalog = true; break;
            case 'W': worker_file_flag = optarg; break;
            case 'w': worker_flag = optarg; break;
            case 'p': pids_flag = optarg; break;
            case 'd': data_dir_flag = optarg; break;
            case 'h': s_usage (stdout); return CLI_EXIT_OK;
            default: return cli_bad_option ("bench", argc, argv);
        }
        if (rc != 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf (stderr, "tally bench: unexpected argument '%s'\n", argv [optind]);
        return CLI_EXIT_USAGE;
    }
    if (worker_file_flag && !(catalog && gateway_flag)) {
        fprintf (stderr, "tally bench: --worker-account-file is for --catalog against a running"
                         " system (--gateway)\n");
        return CLI_EXIT_USAGE;
    }
    if (rate_burst && !rate_per_minute) {
        fprintf (stderr, "tally bench: --rate-burst needs --rate-per-minute\n");
        return CLI_EXIT_USAGE;
    }
    if (!users_n)
        users_n = clients;
    if (duration_ms && (buys_given || subscribers)) {
        fprintf (stderr, "tally bench: --duration runs without --buys and --subscribers\n");
        return CLI_EXIT_USAGE;
    }
    if (report_given && !duration_ms) {
        fprintf (stderr, "tally bench: --report-every needs --duration\n");
        return CLI_EXIT_USAGE;
    }
    if (subscribers > users_n || (subscribers && users_n < clients)) {
        fprintf (stderr,
                 "tally bench: --subscribers needs subscribers <= users and users >= clients\n");
        return CLI_EXIT_USAGE;
    }
    //  Every user gets enough for all the buys that may land on it: clients
    //  send whole envelopes round-robin over their users, so a user may get
    //  one envelope more than the even share.
    int64_t per_user = (clients * buys + users_n - 1) / users_n + batch;
    if (!initial)
        initial = duration_ms ? S_SOAK_INITIAL : per_user + baseline;

    char gateway [CLI_ENDPOINT_MAX], worker [TLY_ID_MAX], data_dir [4096] = "", pids_path [4200];
    char gateway_key [4096] = "";
    pid_t up_pid = 0;
    bool scratch = false;
    //  --catalog: the worker's account, which sets the price.
    tly_account_t worker_account;
    if (gateway_flag || worker_flag) {
        if (!gateway_flag || !worker_flag) {
            fprintf (stderr, "tally bench: --gateway and --worker go together\n");
            return CLI_EXIT_USAGE;
        }
        if (retain || segment_bytes || hops || insecure || rate_per_minute || rate_burst) {
            fprintf (stderr, "tally bench: --retain, --segment-bytes, --hops, --insecure and"
                             " --rate-* are for the system it starts; give them to that system"
                             " instead\n");
            return CLI_EXIT_USAGE;
        }
        snprintf (gateway, sizeof gateway, "%s", gateway_flag);
        snprintf (worker, sizeof worker, "%s", worker_flag);
        if (catalog) {
            if (bench_catalog_worker (worker_file_flag, worker_flag, worker, &worker_account) != 0)
                return CLI_EXIT_USAGE;
        }
        const char *key = cli_gateway_key (gateway_key_flag);
        snprintf (gateway_key, sizeof gateway_key, "%s", key ? key : "");
        //  Its data dir, when given, is where the disk figures and the pids
        //  come from; a cluster elsewhere (containers, other hosts) shows
        //  only what --pids names, or just the bench itself.
        if (data_dir_flag)
            snprintf (data_dir, sizeof data_dir, "%s", data_dir_flag);
        if (pids_flag)
            snprintf (pids_path, sizeof pids_path, "%s", pids_flag);
        else if (data_dir_flag)
            snprintf (pids_path, sizeof pids_path, "%s/pids", data_dir_flag);
        else
            *pids_path = 0;
    } else {
        if (data_dir_flag)
            snprintf (data_dir, sizeof data_dir, "%s", data_dir_flag);
        else {
            snprintf (data_dir, sizeof data_dir, "/tmp/tally-bench-XXXXXX");
            if (!mkdtemp (data_dir)) {
                fprintf (stderr, "tally bench: cannot create a scratch directory\n");
                return CLI_EXIT_USAGE;
            }
            scratch = true;
        }
        bench_cluster_plan_t cluster = { data_dir, (int) base_port, (int) actors, initial,
                                         retain,   segment_bytes,   hops,         insecure,
                                         !catalog, rate_per_minute, rate_burst };
        up_pid = bench_cluster_start (&cluster, gateway, sizeof gateway, gateway_key,
                                      sizeof gateway_key, worker, sizeof worker);
        if (up_pid <= 0)
            return CLI_EXIT_USAGE;
        snprintf (pids_path, sizeof pids_path, "%s/pids", data_dir);
        if (catalog && bench_catalog_worker_from_dir (data_dir, &worker_account) != 0) {
            bench_cluster_stop (up_pid);
            return CLI_EXIT_USAGE;
        }
    }

    bench_proc_t procs [BENCH_PROCS_MAX];
    int proc_count = *pids_path ? bench_procs_load (pids_path, procs, BENCH_PROCS_MAX) : 0;
    if (proc_count < 0)
        proc_count = 0;
    long idle_rss_total = 0, idle_pss_total = 0;
    for (int i = 0; i < proc_count; i++) {
        procs [i].idle_rss_kb = bench_proc_status_kb (procs [i].pid, "VmRSS");
        procs [i].idle_pss_kb = bench_proc_pss_kb (procs [i].pid);
        idle_rss_total += procs [i].idle_rss_kb > 0 ? procs [i].idle_rss_kb : 0;
        idle_pss_total += procs [i].idle_pss_kb > 0 ? procs [i].idle_pss_kb : 0;
    }

    bench_user_t *users = calloc ((size_t) users_n, sizeof *users);
    int64_t *balances = calloc ((size_t) users_n, sizeof *balances);
    assert (users && balances);
    for (int64_t u = 0; u < users_n; u++) {
        tly_account_generate (&users [u].account);
        users [u].initial = initial;
    }
    bench_plan_t plan = { gateway,          worker,
                          (int) timeout_ms, buys,
                          duration_ms,      (double) rate,
                          (int) batch,      1,
                          (int) attempts,   *gateway_key ? gateway_key : NULL,
                          catalog };
    int exit_code = CLI_EXIT_OK;
    if (s_balances (&plan, users, (int) users_n, initial, balances) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    for (int64_t u = 0; u < users_n; u++)
        if (balances [u] != initial) {
            fprintf (stderr,
                     "tally bench: user %lld starts at %lld, not %lld (is --max-initial lower?)\n",
                     (long long) u, (long long) balances [u], (long long) initial);
            exit_code = CLI_EXIT_USAGE;
            goto done;
        }
    //  --catalog: the price is set, and the prices' state known, before the
    //  load (and the baseline) starts.
    int64_t config_version = 0;
    int prices_closed = 0;
    if (catalog) {
        config_version = bench_catalog_set_price (&plan, &worker_account);
        sodium_memzero (&worker_account, sizeof worker_account);
        prices_closed = config_version < 0 ? -1 : bench_catalog_prices_closed (&plan, &users [0]);
        if (prices_closed == 0 && up_pid > 0) {
            fprintf (stderr, "tally bench: --catalog: the system it started has open prices\n");
            prices_closed = -1;
        }
        if (prices_closed < 0) {
            exit_code = CLI_EXIT_USAGE;
            goto done;
        }
    }

    bench_run_t base_run = { 0 };
    if (baseline) {
        bench_plan_t base_plan = plan;
        base_plan.buys = baseline;
        base_plan.batch = 1;
        bench_load_run (&base_plan, users, 1, 1, 1, &base_run);
    }
    volatile bool load_done = false;
    s_subscriber_t *subs = calloc ((size_t) (subscribers ? subscribers : 1), sizeof *subs);
    pthread_t *sub_threads = calloc ((size_t) (subscribers ? subscribers : 1), sizeof *sub_threads);
    assert (subs && sub_threads);
    for (int64_t i = 0; i < subscribers; i++) {
        bench_user_t *user = &users [i];
        user->sent_capacity = per_user + 2;
        user->sent_us = calloc ((size_t) user->sent_capacity, sizeof *user->sent_us);
        assert (user->sent_us);
        subs [i] = (s_subscriber_t) { &plan, user, &load_done, { 0 }, 0, -1, -1 };
        if (pthread_create (&sub_threads [i], NULL, s_subscriber_run, &subs [i]) != 0) {
            fprintf (stderr, "tally bench: cannot start subscriber thread\n");
            return CLI_EXIT_USAGE;
        }
    }
    //  Subscribers hold their snapshots before the load starts.
    for (int64_t i = 0; i < subscribers; i++) {
        int64_t deadline = tly_mono_ms () + timeout_ms;
        while (__atomic_load_n (&subs [i].last_balance, __ATOMIC_RELAXED) < 0
               && tly_mono_ms () < deadline)
            zclock_sleep (1);
    }
    for (int i = 0; i < proc_count; i++)
        procs [i].cpu_start = bench_proc_cpu (procs [i].pid);
    //  Said when it happens, for whoever disturbs the system under load.
    fprintf (stderr, "tally bench: %lld users ready, load starts\n", (long long) users_n);
    bench_run_t run;
    if (duration_ms) {
        bench_soak_plan_t soak = { duration_ms, report_ms, *data_dir ? data_dir : NULL,
                                   *pids_path ? pids_path : NULL };
        bench_load_t *load = bench_load_start (&plan, users, (int) users_n, (int) clients,
                                               (int) threads);
        bench_soak_report (&soak, load, stdout);
        bench_load_join (&load, &run);
    } else
        bench_load_run (&plan, users, (int) users_n, (int) clients, (int) threads, &run);
    load_done = true;
    bench_latency_t sub_latency = { 0 };
    int64_t sub_updates = 0;
    for (int64_t i = 0; i < subscribers; i++) {
        pthread_join (sub_threads [i], NULL);
        bench_latency_merge (&sub_latency, &subs [i].latency);
        sub_updates += subs [i].updates;
        bench_latency_free (&subs [i].latency);
        free (users [i].sent_us);
    }
    free (subs);
    free (sub_threads);
    for (int i = 0; i < proc_count; i++) {
        procs [i].cpu_seconds = bench_proc_cpu (procs [i].pid) - procs [i].cpu_start;
        procs [i].peak_rss_kb = bench_proc_status_kb (procs [i].pid, "VmHWM");
    }

    //  Correctness: every balance is its initial minus its acknowledged buys,
    //  none is negative, and the totals agree.
    int64_t total_initial = 0, total_bought = 0, total_now = 0, mismatches = 0, negatives = 0;
    if (s_balances (&plan, users, (int) users_n, initial, balances) != 0) {
        exit_code = CLI_EXIT_USAGE;
        goto done;
    }
    for (int64_t u = 0; u < users_n; u++) {
        total_initial += users [u].initial;
        total_bought += users [u].bought;
        total_now += balances [u];
        negatives += balances [u] < 0;
        mismatches += balances [u] != users [u].initial - users [u].bought;
    }
    bool correct = mismatches == 0 && negatives == 0 && total_now == total_initial - total_bought
                   && run.ok == total_bought - (baseline ? base_run.ok : 0);

    char load_text [64];
    if (duration_ms)
        snprintf (load_text, sizeof load_text, rate ? "duration=%.1fs rate=%lld" : "duration=%.1fs",
                  (double) duration_ms / 1000.0, (long long) rate);
    else
        snprintf (load_text, sizeof load_text, "buys/client=%lld", (long long) buys);
    printf ("tally bench: clients=%lld threads=%lld users=%lld %s batch=%lld gateway=%s\n",
            (long long) clients, (long long) (threads < clients ? threads : clients),
            (long long) users_n, load_text, (long long) batch, gateway);
    if (catalog)
        printf ("%-15s %s at %lld, set by the worker (configuration version %lld); buys name no"
                " amount; prices %s\n",
                "catalog", BENCH_ITEM, (long long) plan.amount, (long long) config_version,
                prices_closed ? "closed (an item not in the catalog: UNKNOWN_ITEM)"
                              : "open (an item not in the catalog is charged what its buy names)");
    if (baseline) {
        s_print_run (stdout, "baseline", &base_run);
        printf ("%-15s (1 client, batch 1, %lld buys)\n", "", (long long) baseline);
    }
    s_print_run (stdout, "throughput", &run);
    if (baseline && base_run.seconds > 0 && base_run.ok > 0) {
        double base_rate = (double) base_run.ok / base_run.seconds;
        double rate = run.seconds > 0 ? (double) run.ok / run.seconds : 0;
        printf ("%-15s throughput x%.1f of baseline; p50 round trip x%.2f of baseline\n", "ratio",
                rate / base_rate,
                (double) bench_latency_quantile (&run.latency, 0.5)
                    / (double) bench_latency_quantile (&base_run.latency, 0.5));
    }
    if (subscribers)
        printf ("%-15s p50 %.3f ms  p99 %.3f ms  (%lld updates to %lld subscribers, buy sent -> "
                "update received)\n",
                "subscription", bench_latency_quantile (&sub_latency, 0.5) / 1e3,
                bench_latency_quantile (&sub_latency, 0.99) / 1e3, (long long) sub_updates,
                (long long) subscribers);
    else
        printf ("%-15s not measured (--subscribers S)\n", "subscription");
    if (proc_count) {
        printf ("%-15s %-12s %8s %12s %12s %12s\n", "process", "name", "cpu s", "idle rss kB",
                "idle pss kB", "peak rss kB");
        for (int i = 0; i < proc_count; i++)
            printf ("%-15s %-12s %8.2f %12ld %12ld %12ld\n", "", procs [i].name,
                    procs [i].cpu_seconds, procs [i].idle_rss_kb, procs [i].idle_pss_kb,
                    procs [i].peak_rss_kb);
        printf ("%-15s %.1f MB idle RSS, %.1f MB idle PSS, all server processes together\n",
                "memory", (double) idle_rss_total / 1024.0, (double) idle_pss_total / 1024.0);
    }
    printf ("%-15s %s: sum of balances %lld == initial %lld - bought %lld; %lld mismatched, %lld "
            "negative\n",
            "correctness", correct ? "OK" : "FAILED", (long long) total_now,
            (long long) total_initial, (long long) total_bought, (long long) mismatches,
            (long long) negatives);
    //  A long run on its own cluster also checks the journal, on the
    //  stopped cluster: the actors commit their state after they answer.
    if (duration_ms && up_pid > 0) {
        bench_cluster_stop (up_pid);
        up_pid = 0;
        if (bench_soak_check (data_dir, worker, retain && streq (retain, "delete")) != 0)
            correct = false;
    }

    if (json_path) {
        FILE *out = streq (json_path, "-") ? stdout : fopen (json_path, "w");
        if (!out) {
            fprintf (stderr, "tally bench: cannot write %s\n", json_path);
            exit_code = CLI_EXIT_USAGE;
        } else {
            fprintf (out,
                     "{\"clients\":%lld,\"users\":%lld,\"buys_per_client\":%lld,\"batch\":%lld,"
                     "\"duration_ms\":%lld,\"rate\":%lld,",
                     (long long) clients, (long long) users_n, (long long) (duration_ms ? 0 : buys),
                     (long long) batch, (long long) duration_ms, (long long) rate);
            if (catalog)
                fprintf (out,
                         "\"catalog\":{\"item\":\"%s\",\"price\":%lld,\"config_version\":%lld,"
                         "\"prices_closed\":%s},",
                         BENCH_ITEM, (long long) plan.amount, (long long) config_version,
                         prices_closed ? "true" : "false");
            s_json_run (out, "run", &run);
            if (baseline) {
                fputc (',', out);
                s_json_run (out, "baseline", &base_run);
            }
            fprintf (out,
                     ",\"subscription\":{\"subscribers\":%lld,\"updates\":%lld,"
                     "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f}}",
                     (long long) subscribers, (long long) sub_updates,
                     bench_latency_quantile (&sub_latency, 0.5) / 1e3,
                     bench_latency_quantile (&sub_latency, 0.99) / 1e3);
            fprintf (out, ",\"processes\":[");
            for (int i = 0; i < proc_count; i++)
                fprintf (out,
                         "%s{\"name\":\"%s\",\"pid\":%ld,\"cpu_seconds\":%.3f,\"idle_rss_kb\":%ld,"
                         "\"idle_pss_kb\":%ld,\"peak_rss_kb\":%ld}",
                         i ? "," : "", procs [i].name, (long) procs [i].pid, procs [i].cpu_seconds,
                         procs [i].idle_rss_kb, procs [i].idle_pss_kb, procs [i].peak_rss_kb);
            fprintf (out,
                     "],\"idle_rss_kb_total\":%ld,\"idle_pss_kb_total\":%ld,\"correct\":%s,"
                     "\"balance_total\":%lld,\"initial_total\":%lld,\"bought_total\":%lld}\n",
                     idle_rss_total, idle_pss_total, correct ? "true" : "false",
                     (long long) total_now, (long long) total_initial, (long long) total_bought);
            if (out != stdout)
                fclose (out);
        }
    }
    if (!correct) {
        fprintf (stderr, "tally bench: CORRECTNESS CHECK FAILED\n");
        exit_code = CLI_EXIT_REJECTED;
    }
    if (run.ok == 0 && run.refused + run.failed > 0) {
        //  Every buy refused (say, named prices on a system whose prices are
        //  closed) or unanswered: no figure above measures anything.
        fprintf (stderr,
                 "tally bench: no buy was acknowledged (%lld refused, %lld envelopes unanswered;"
                 " each client's first error is above)\n",
                 (long long) run.refused, (long long) run.failed);
        exit_code = CLI_EXIT_REJECTED;
    }
    bench_latency_free (&run.latency);
    bench_latency_free (&base_run.latency);
    bench_latency_free (&sub_latency);
done:
    if (catalog)
        sodium_memzero (&worker_account, sizeof worker_account);
    free (users);
    free (balances);
    bench_cluster_stop (up_pid);
    if (scratch) {
        char command [4200];
        snprintf (command, sizeof command, "rm -rf '%s'", data_dir);
        if (system (command) != 0)
            fprintf (stderr, "tally bench: could not remove %s\n", data_dir);
    }
    return exit_code;
}
