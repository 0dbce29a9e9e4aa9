//  bench - `tally bench`: load, latency, resource and correctness figures.
#ifndef BENCH_H_INCLUDED
#define BENCH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tally.h"

#define BENCH_CLIENTS_MAX 1024
#define BENCH_USERS_MAX   100000
#define BENCH_PROCS_MAX   16

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
    int64_t buys;  //  per client
    int batch;
    int64_t amount;
    int attempts;  //  posts of one envelope (the same message IDs) before it fails
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

int cli_bench (int argc, char **argv);

#endif
