//  bench - `tally bench`: load, latency, resource and correctness figures.
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "tally.h"

#define BENCH_CLIENTS_MAX 1024
#define BENCH_USERS_MAX   100000
#define BENCH_PROCS_MAX   16
//  The item every buy of the bench names; with --catalog the worker prices
//  it in the catalog first.
#define BENCH_ITEM        "bench-item"

//  One server process whose CPU and memory the bench reports.
typedef struct {
    char name [32];
    pid_t pid;
    double cpu_start;    //  user + system seconds at load start
    double cpu_seconds;  //  spent during the run
    long idle_rss_kb;    //  VmRSS before load
    long idle_pss_kb;    //  Pss before load (shared pages split between sharers)
    long peak_rss_kb;    //  VmHWM after the run
} bench_proc_t;

//  Reads name/pid lines from a `tally up` pids file. Returns the count, or -1.
int bench_procs_load (const char *path, bench_proc_t *procs, int max);
//  CPU seconds (user + system) of pid, or -1.
double bench_proc_cpu (pid_t pid);
//  A "VmRSS" or "VmHWM" figure of pid in kB, or -1.
long bench_proc_status_kb (pid_t pid, const char *field);
//  The proportional set size of pid in kB (smaps_rollup "Pss"), or -1.
long bench_proc_pss_kb (pid_t pid);

//  Latency samples in microseconds.
typedef struct {
    int64_t *samples;
    size_t count;
    size_t capacity;
} bench_latency_t;

void bench_latency_add (bench_latency_t *self, int64_t micros);
//  Sorts and returns the q-quantile (0..1) in microseconds; 0 when empty.
int64_t bench_latency_quantile (bench_latency_t *self, double q);
void bench_latency_merge (bench_latency_t *into, const bench_latency_t *from);
void bench_latency_free (bench_latency_t *self);

//  Latencies in microseconds as a log-linear histogram, for runs of any
//  length in bounded memory: values below BENCH_HIST_SUB are exact, larger
//  ones fall into one of BENCH_HIST_SUB buckets per power of two (1/64, or
//  1.6%, wide). A `--duration` run keeps one per interval and window
//  instead of every sample.
#define BENCH_HIST_SUB     64
#define BENCH_HIST_BITS    6   //  log2 (BENCH_HIST_SUB)
#define BENCH_HIST_TOP     40  //  values from 2^40 us (12.7 days) on share the last bucket
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB * (BENCH_HIST_TOP - BENCH_HIST_BITS + 2))
_Static_assert((1 << BENCH_HIST_BITS) == BENCH_HIST_SUB, "one sub-bucket per low bit");

typedef struct {
    int64_t counts [BENCH_HIST_BUCKETS];
    int64_t total;
} bench_hist_t;

void bench_hist_add (bench_hist_t *self, int64_t micros);
void bench_hist_merge (bench_hist_t *into, const bench_hist_t *from);
//  The q-quantile (0..1) in microseconds: the largest value of the bucket
//  that holds the nearest-rank sample, so never below it; 0 when empty.
int64_t bench_hist_quantile (const bench_hist_t *self, double q);
void bench_hist_reset (bench_hist_t *self);

//  Bytes on disk (allocated blocks, not apparent sizes: LMDB's maps are
//  sparse files) of the files under path, recursively. Files below a
//  directory named `skip` are left out when skip is not NULL; with only,
//  just those are counted. Returns -1 when path cannot be read.
int64_t bench_disk_bytes (const char *path, const char *skip, bool only);

//  One account the bench buys for.
typedef struct {
    tly_account_t account;
    int64_t initial;
    int64_t bought;    //  sum of successful buys (atomic)
    int64_t sent;      //  buys sent so far (by its one client)
    int64_t *sent_us;  //  [k]: when buy k was sent, for subscribers
    int64_t sent_capacity;
} bench_user_t;

//  What every client of a run does.
typedef struct {
    const char *gateway;
    const char *worker_id;
    int timeout_ms;
    int64_t buys;         //  per client; unused when duration_ms is set
    int64_t duration_ms;  //  when not 0: send for this long instead of `buys`
    double rate;          //  buys/s of all clients together; 0: as fast as answered
    int batch;
    int64_t amount;           //  what each buy costs: named in the buy, or the catalog price
    int attempts;             //  posts of one envelope (the same message IDs) before it fails
    const char *gateway_key;  //  the gateway's CURVE public key; NULL: no CURVE
    bool catalog;  //  buys name no amount: BENCH_ITEM is charged its catalog price (amount)
} bench_plan_t;

//  What a run measured.
typedef struct {
    double seconds;
    int64_t ok, refused, failed;
    int64_t resent;  //  envelopes posted again after a timeout
    bench_latency_t latency;
} bench_run_t;

//  Runs `clients` clients over users on `threads` threads; client c sends
//  for users c, c+C, ... with one envelope in flight at a time. Fills run.
void bench_load_run (const bench_plan_t *plan, bench_user_t *users, int user_count, int clients,
                     int threads, bench_run_t *run);

//  The same in steps, for a caller that reports while the load runs:
//
//      bench_load_t *load = bench_load_start (&plan, users, U, C, T);
//      while (!bench_load_done (load))
//          bench_load_take (load, &hist, &ok, &errors);   //  what was answered since
//      bench_load_join (&load, &run);
//
//  With plan->duration_ms set, round trips go only to what bench_load_take
//  hands out (run->latency stays empty): a long run keeps no samples.
typedef struct _bench_load_t bench_load_t;

bench_load_t *bench_load_start (const bench_plan_t *plan, bench_user_t *users, int user_count,
                                int clients, int threads);
//  Adds the round trips answered since the last call to hist, and their
//  acknowledged buys and refused or unanswered messages to *ok and *errors.
void bench_load_take (bench_load_t *self, bench_hist_t *hist, int64_t *ok, int64_t *errors);
//  True when every client has sent its last envelope and has its answer.
bool bench_load_done (bench_load_t *self);
//  Waits for the clients, fills run and frees the load.
void bench_load_join (bench_load_t **self_p, bench_run_t *run);

//  A --duration run's reporting: what it reads the cluster's figures from.
typedef struct {
    int64_t duration_ms;
    int64_t report_ms;      //  a line this often
    const char *data_dir;   //  the cluster's `tally up` data dir, or NULL: no disk figures
    const char *pids_path;  //  its pids file, or NULL: only the bench's own RSS
} bench_soak_plan_t;

//  Prints a line per interval while load runs, then the summary (first
//  against last window, RSS growth after warm-up); returns when the load is
//  done. The caller joins the load and checks the balances.
void bench_soak_report (const bench_soak_plan_t *plan, bench_load_t *load, FILE *out);
//  The journal check at the end of a run on a stopped cluster: `tally audit
//  verify` and `tally audit replay --compare` on data_dir, their output and
//  one line of ours on stdout; worker is the account whose key signs the
//  journal's checkpoints. With kept (the cluster ran with `--retain
//  delete`: its first records are gone), `verify --kept` checks what is
//  kept and replay, which starts at the first record, is not run. Returns 0
//  when the checks pass, else -1.
int bench_soak_check (const char *data_dir, const char *worker, bool kept);

//  The cluster the bench starts for itself when no --gateway is given:
//  `tally up`'s flags.
typedef struct {
    const char *data_dir;
    int base_port;
    int actors;
    int64_t max_initial;
    const char *retain;     //  NULL: tally up's default
    int64_t segment_bytes;  //  0: tally up's default
    const char *hops;       //  NULL: tally up's default
    bool insecure;
    bool open_prices;         //  buys name their amounts (no --catalog)
    int64_t rate_per_minute;  //  0: no rate limit
    int64_t rate_burst;       //  0: tally up's default
} bench_cluster_plan_t;

//  Starts `tally up` as a child and waits for DIR/tally.env, from which it
//  fills gateway, gateway_key and worker. Returns the child's pid, or -1.
pid_t bench_cluster_start (const bench_cluster_plan_t *plan, char *gateway, size_t gateway_size,
                           char *gateway_key, size_t gateway_key_size, char *worker,
                           size_t worker_size);
//  Stops the child pid (SIGTERM) and waits for it; nothing when pid <= 0.
void bench_cluster_stop (pid_t pid);

//  --catalog against a running system: the worker's account, which sets the
//  price, from worker_file or else $TALLY_WORKER_ACCOUNT/$TALLY_WORKER_SECRET
//  (worker_flag, --worker as given, wins over the first); it must be the
//  account worker. Returns 0, or -1 having said why.
int bench_catalog_worker (const char *worker_file, const char *worker_flag, const char *worker,
                          tly_account_t *account);
//  --catalog on the cluster the bench started: the worker's account from
//  data_dir/worker.json. Returns 0, or -1 having said why.
int bench_catalog_worker_from_dir (const char *data_dir, tly_account_t *account);
//  --catalog: the worker prices BENCH_ITEM at plan->amount and puts it on
//  sale, in one setPrice. Returns the configuration version it left, or -1.
int64_t bench_catalog_set_price (const bench_plan_t *plan, const tly_account_t *worker);
//  --catalog: whether the cluster's prices are closed, from one buy by user
//  of an item not in the catalog at no amount. Returns 1 closed
//  (UNKNOWN_ITEM), 0 open (INVALID_AMOUNT), -1 when the answer is neither.
int bench_catalog_prices_closed (const bench_plan_t *plan, bench_user_t *user);

int cli_bench (int argc, char **argv);

#endif
