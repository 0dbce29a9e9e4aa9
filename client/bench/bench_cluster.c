//  bench_cluster - the cluster `tally bench` runs against: starting and
//  stopping its own (`tally up` as a child), and --catalog's setup on any
//  cluster (the worker's account, its setPrice, whether prices are closed).
#include "bench.h"
#include "tly_account_load.h"

#include <czmq.h>
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tly_curve.h"
#include "tly_wire.h"

#define S_READY_TIMEOUT_MS 30000

//  An item the bench never prices: with --catalog, one buy of it at no
//  amount shows whether the cluster's prices are closed (UNKNOWN_ITEM) or
//  open (INVALID_AMOUNT); neither moves money.
#define S_UNPRICED_ITEM "bench-unpriced"

//  Copies the value of a NAME=value line into out when line starts with
//  prefix ("NAME=") and the value fits.
static void
s_env_value (const char *line, const char *prefix, char *out, size_t out_size)
{
    size_t prefix_size = strlen (prefix);
    if (strncmp (line, prefix, prefix_size) == 0 && strlen (line + prefix_size) < out_size)
        memcpy (out, line + prefix_size, strlen (line + prefix_size) + 1);
}

pid_t
bench_cluster_start (const bench_cluster_plan_t *plan, char *gateway, size_t gateway_size,
                     char *gateway_key, size_t gateway_key_size, char *worker, size_t worker_size)
{
    const char *data_dir = plan->data_dir;
    const char *retain = plan->retain, *hops = plan->hops;
    int64_t segment_bytes = plan->segment_bytes;
    int64_t rate_per_minute = plan->rate_per_minute, rate_burst = plan->rate_burst;
    char self [4096];
    ssize_t size = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (size <= 0)
        return -1;
    self [size] = 0;
    char port [16], actors_text [16], initial [32];
    snprintf (port, sizeof port, "%d", plan->base_port);
    snprintf (actors_text, sizeof actors_text, "%d", plan->actors);
    snprintf (initial, sizeof initial, "%lld", (long long) plan->max_initial);
    char segment [32];
    snprintf (segment, sizeof segment, "%lld", (long long) segment_bytes);
    char rate [32], burst [32];
    snprintf (rate, sizeof rate, "%lld", (long long) rate_per_minute);
    snprintf (burst, sizeof burst, "%lld", (long long) rate_burst);
    pid_t pid = fork ();
    if (pid == 0) {
        char *argv [24] = { self, "up",       "--data-dir", (char *) data_dir, "--base-port",
                            port, "--actors", actors_text,  "--max-initial",   initial };
        int argc = 10;
        if (plan->open_prices)
            argv [argc++] = "--open-prices";  //  the bench's buys name their amounts
        if (hops) {
            argv [argc++] = "--hops";
            argv [argc++] = (char *) hops;
        }
        if (plan->insecure)
            argv [argc++] = "--insecure";
        if (retain) {
            argv [argc++] = "--retain";
            argv [argc++] = (char *) retain;
        }
        if (segment_bytes) {
            argv [argc++] = "--segment-bytes";
            argv [argc++] = segment;
        }
        if (rate_per_minute) {
            argv [argc++] = "--rate-per-minute";
            argv [argc++] = rate;
        }
        if (rate_burst) {
            argv [argc++] = "--rate-burst";
            argv [argc++] = burst;
        }
        argv [argc] = NULL;
        int null = open ("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2 (null, STDOUT_FILENO);
        execv (self, argv);
        _exit (127);
    }
    char env_path [4200];
    snprintf (env_path, sizeof env_path, "%s/tally.env", data_dir);
    int64_t deadline = tly_mono_ms () + S_READY_TIMEOUT_MS;
    while (tly_mono_ms () < deadline) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            fprintf (stderr, "tally bench: tally up exited early; see %s/logs\n", data_dir);
            return -1;
        }
        FILE *file = fopen (env_path, "r");
        if (file) {
            char line [256];
            *gateway = *gateway_key = *worker = 0;
            while (fgets (line, sizeof line, file)) {
                line [strcspn (line, "\n")] = 0;
                s_env_value (line, TLY_ENV_GATEWAY "=", gateway, gateway_size);
                s_env_value (line, TLY_ENV_GATEWAY_KEY "=", gateway_key, gateway_key_size);
                s_env_value (line, TLY_ENV_WORKER_ACCOUNT "=", worker, worker_size);
            }
            fclose (file);
            if (*gateway && *worker)
                return pid;
        }
        zclock_sleep (20);  //  polling a file the child writes once, under a deadline
    }
    fprintf (stderr, "tally bench: system not ready within %d ms; see %s/logs\n",
             S_READY_TIMEOUT_MS, data_dir);
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
    return -1;
}

void
bench_cluster_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}

int
bench_catalog_worker (const char *worker_file, const char *worker_flag, const char *worker,
                      tly_account_t *account)
{
    char reason [256];
    //  Only the worker (or an admin) may set a price: without its
    //  secret the bench cannot price its item.
    const char *secret = getenv (TLY_ENV_WORKER_SECRET);
    if (!worker_file && (!secret || !*secret)) {
        fprintf (stderr, "tally bench: --catalog against a running system needs the worker's"
                         " secret to set the price: --worker-account-file FILE or "
                         "$" TLY_ENV_WORKER_SECRET "\n");
        return -1;
    }
    int loaded = worker_file
                     ? tly_account_from_file (worker_file, account, reason, sizeof reason)
                     : tly_account_from_env (TLY_ENV_WORKER_ACCOUNT, TLY_ENV_WORKER_SECRET,
                                             worker_flag, NULL, account, reason, sizeof reason);
    if (loaded == -1) {
        fprintf (stderr, "tally bench: --catalog: %s\n", reason);
        return -1;
    }
    char id [TLY_ID_MAX];
    tly_account_id (account->sign_pk, id);
    if (!streq (id, worker)) {
        sodium_memzero (account, sizeof *account);
        fprintf (stderr, "tally bench: --catalog: the account %s is not the worker %s\n", id,
                 worker);
        return -1;
    }
    return 0;
}

int
bench_catalog_worker_from_dir (const char *data_dir, tly_account_t *account)
{
    //  The worker's account is the one `tally up` made in its data dir.
    char worker_path [4200], reason [256];
    snprintf (worker_path, sizeof worker_path, "%s/worker.json", data_dir);
    if (tly_account_from_file (worker_path, account, reason, sizeof reason) == -1) {
        fprintf (stderr, "tally bench: --catalog: %s\n", reason);
        return -1;
    }
    return 0;
}

//  --catalog: the worker prices BENCH_ITEM at plan->amount and puts it on
//  sale, in one setPrice. Returns the configuration version it left, or -1.
int64_t
bench_catalog_set_price (const bench_plan_t *plan, const tly_account_t *worker)
{
    tly_msg_t msg;
    tly_error_t error;
    int rc = tly_msg_set_price (&msg, BENCH_ITEM, plan->amount, true, &error);
    assert (rc == 0);
    tly_sender_t *sender = tly_sender_new_curve (plan->gateway, plan->gateway_key, plan->worker_id,
                                                 worker);
    assert (sender);
    tly_result_t result;
    int64_t version = -1;
    if (tly_sender_send_one (sender, &msg, plan->timeout_ms, &result) != 0)
        fprintf (stderr, "tally bench: setPrice %s failed: %s\n", BENCH_ITEM,
                 tly_sender_error (sender)->message);
    else if (!result.ok)
        fprintf (stderr, "tally bench: setPrice %s refused: %s: %s\n", BENCH_ITEM,
                 tly_error_name (result.code), result.message);
    else if (result.kind != TLY_RESULT_CONFIG || !result.has_item || result.price != plan->amount
             || !result.active)
        fprintf (stderr, "tally bench: setPrice %s answered something else than the price\n",
                 BENCH_ITEM);
    else
        version = (int64_t) result.config_version;
    tly_sender_destroy (&sender);
    return version;
}

//  --catalog: whether the cluster's prices are closed, from one buy of an
//  item not in the catalog at no amount. Returns 1 closed (UNKNOWN_ITEM), 0
//  open (INVALID_AMOUNT), -1 when the answer is neither.
int
bench_catalog_prices_closed (const bench_plan_t *plan, bench_user_t *user)
{
    tly_msg_t msg;
    int rc = tly_msg_buy (&msg, S_UNPRICED_ITEM, 0);
    assert (rc == 0);
    tly_sender_t *sender = tly_sender_new_curve (plan->gateway, plan->gateway_key, plan->worker_id,
                                                 &user->account);
    assert (sender);
    tly_result_t result;
    int closed = -1;
    if (tly_sender_send_one (sender, &msg, plan->timeout_ms, &result) != 0)
        fprintf (stderr, "tally bench: the buy of %s failed: %s\n", S_UNPRICED_ITEM,
                 tly_sender_error (sender)->message);
    else if (!result.ok && result.code == TALLY__ERROR_CODE__UNKNOWN_ITEM)
        closed = 1;
    else if (!result.ok && result.code == TALLY__ERROR_CODE__INVALID_AMOUNT)
        closed = 0;
    else
        fprintf (stderr,
                 "tally bench: the buy of %s at no amount answered %s, not UNKNOWN_ITEM"
                 " or INVALID_AMOUNT\n",
                 S_UNPRICED_ITEM, result.ok ? "ok" : tly_error_name (result.code));
    tly_sender_destroy (&sender);
    return closed;
}
