//  bench_soak - `tally bench --duration`: one line per interval while the
//  load runs (buys/s, round trip p50/p99, journal and state bytes on disk,
//  every process's RSS) and a summary that sets the run's end against its
//  start; then, on a cluster of its own, the journal check.
#include "bench.h"

#include <czmq.h>
#include <assert.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tly_wire.h"

#define S_TICK_MS       100  //  the load's answers are taken this often
//  The summary's first and last windows: 5 minutes, or a fifth of a
//  shorter run.
#define S_WINDOW_MS_MAX 300000
#define S_ACTORS_MAX    BENCH_PROCS_MAX

//  One process's RSS over the run, by name: a restarted server keeps its
//  name and gets a new pid.
typedef struct {
    char name [32];
    long warm_kb;                     //  at the end of the first window; -1 before
    long last_kb;                     //  at the last report
    long warm_anon_kb, last_anon_kb;  //  the same for RssAnon: RSS less mapped files
} s_rss_t;

typedef struct {
    const bench_soak_plan_t *plan;
    FILE *out;
    s_rss_t rss [BENCH_PROCS_MAX + 1];
    int rss_count;
} s_soak_t;

static s_rss_t *
s_rss_of (s_soak_t *self, const char *name)
{
    for (int i = 0; i < self->rss_count; i++)
        if (strcmp (self->rss [i].name, name) == 0)
            return &self->rss [i];
    if (self->rss_count == BENCH_PROCS_MAX + 1)
        return NULL;
    s_rss_t *rss = &self->rss [self->rss_count++];
    size_t size = strnlen (name, sizeof rss->name - 1);
    memcpy (rss->name, name, size);
    rss->name [size] = 0;
    rss->warm_kb = rss->last_kb = rss->warm_anon_kb = rss->last_anon_kb = -1;
    return rss;
}

//  Reads every process's VmRSS and RssAnon now: the cluster's from its pids
//  file, read again each time (`tally up` rewrites it when it restarts a
//  server), and the bench's own. Prints them as rss_mib=name:MiB,... and
//  anon_mib=... when line is set; records them as the warm-up figures when
//  warm, and as the end figures unless after: the load is over then, and the
//  bench has let its clients go. The two tell a leak (anonymous memory) from the pages of LMDB's
//  memory-mapped files, which count in RSS and grow with the data.
static void
s_rss_sample (s_soak_t *self, bool line, bool warm, bool after)
{
    bench_proc_t procs [BENCH_PROCS_MAX];
    int count = self->plan->pids_path
                    ? bench_procs_load (self->plan->pids_path, procs, BENCH_PROCS_MAX - 1)
                    : 0;
    if (count < 0)
        count = 0;
    memset (&procs [count], 0, sizeof procs [count]);
    snprintf (procs [count].name, sizeof procs [count].name, "bench");
    procs [count].pid = getpid ();
    count++;
    long kb [BENCH_PROCS_MAX], anon_kb [BENCH_PROCS_MAX];
    for (int i = 0; i < count; i++) {
        kb [i] = bench_proc_status_kb (procs [i].pid, "VmRSS");
        anon_kb [i] = bench_proc_status_kb (procs [i].pid, "RssAnon");
        s_rss_t *rss = s_rss_of (self, procs [i].name);
        if (rss && kb [i] > 0 && anon_kb [i] >= 0 && (!after || warm)) {
            rss->last_kb = kb [i];
            rss->last_anon_kb = anon_kb [i];
            if (warm) {
                rss->warm_kb = kb [i];
                rss->warm_anon_kb = anon_kb [i];
            }
        }
    }
    if (!line)
        return;
    for (int pass = 0; pass < 2; pass++) {
        long *figures = pass ? anon_kb : kb;
        fputs (pass ? " anon_mib=" : " rss_mib=", self->out);
        for (int i = 0; i < count; i++)
            if (figures [i] >= 0)
                fprintf (self->out, "%s%s:%.1f", i ? "," : "", procs [i].name,
                         (double) figures [i] / 1024.0);
            else
                fprintf (self->out, "%s%s:-", i ? "," : "", procs [i].name);
    }
}

//  " name warm -> last (+x%)" for each process, of RSS or of RssAnon.
static void
s_growth_print (s_soak_t *self, bool anon)
{
    for (int i = 0; i < self->rss_count; i++) {
        const s_rss_t *rss = &self->rss [i];
        long warm = anon ? rss->warm_anon_kb : rss->warm_kb;
        long last = anon ? rss->last_anon_kb : rss->last_kb;
        if (warm > 0 && last > 0)
            fprintf (self->out, " %s %.1f -> %.1f (%+.1f%%)", rss->name, (double) warm / 1024.0,
                     (double) last / 1024.0, 100.0 * (double) (last - warm) / (double) warm);
        else
            fprintf (self->out, " %s -", rss->name);
    }
    fputc ('\n', self->out);
}

static int
s_is_actor_dir (const struct dirent *entry)
{
    return strncmp (entry->d_name, "balance-", 8) == 0;
}

//  Journal bytes on disk, live and archived, and each balance actor's state
//  bytes, from a `tally up` data dir: DIR/audit holds the journal (files
//  below a folder named archive count as archived), DIR/balance-N actor N's
//  state. Prints "-" for what it cannot know.
static void
s_disk_print (s_soak_t *self)
{
    const char *dir = self->plan->data_dir;
    if (!dir) {
        fputs (" journal_mib=- archived_mib=- state_mib=-", self->out);
        return;
    }
    char path [4200];
    snprintf (path, sizeof path, "%s/audit", dir);
    int64_t live = bench_disk_bytes (path, "archive", false);
    int64_t archived = bench_disk_bytes (path, "archive", true);
    if (live >= 0)
        fprintf (self->out, " journal_mib=%.1f archived_mib=%.1f", (double) live / 1048576.0,
                 (double) (archived > 0 ? archived : 0) / 1048576.0);
    else
        fputs (" journal_mib=- archived_mib=-", self->out);
    fputs (" state_mib=", self->out);
    struct dirent **actors = NULL;
    int count = scandir (dir, &actors, s_is_actor_dir, alphasort);
    if (count <= 0)
        fputc ('-', self->out);
    for (int i = 0; i < count; i++) {
        snprintf (path, sizeof path, "%s/%s", dir, actors [i]->d_name);
        int64_t bytes = bench_disk_bytes (path, NULL, false);
        if (i < S_ACTORS_MAX)
            fprintf (self->out, "%s%s:%.1f", i ? "," : "", actors [i]->d_name,
                     (double) (bytes > 0 ? bytes : 0) / 1048576.0);
        free (actors [i]);
    }
    free (actors);
}

//  What a stretch of the run answered: its acknowledged buys, refused or
//  lost messages and round trips.
typedef struct {
    int64_t from_ms, to_ms;  //  since the start
    int64_t ok, errors;
    bench_hist_t hist;
} s_span_t;

static void
s_span_add (s_span_t *into, const s_span_t *from)
{
    into->ok += from->ok;
    into->errors += from->errors;
    into->to_ms = from->to_ms;
    bench_hist_merge (&into->hist, &from->hist);
}

static double
s_span_rate (const s_span_t *span)
{
    int64_t ms = span->to_ms - span->from_ms;
    return ms > 0 ? (double) span->ok * 1000.0 / (double) ms : 0;
}

static void
s_line (s_soak_t *self, const s_span_t *span)
{
    fprintf (self->out, "soak t=%.1fs buys/s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%lld",
             (double) span->to_ms / 1000.0, s_span_rate (span),
             (double) bench_hist_quantile (&span->hist, 0.5) / 1e3,
             (double) bench_hist_quantile (&span->hist, 0.99) / 1e3, (long long) span->errors);
    s_disk_print (self);
}

static void
s_summary (s_soak_t *self, const s_span_t *first, const s_span_t *last, const s_span_t *all)
{
    FILE *out = self->out;
    double first_rate = s_span_rate (first), last_rate = s_span_rate (last);
    double first_p99 = (double) bench_hist_quantile (&first->hist, 0.99) / 1e3;
    double last_p99 = (double) bench_hist_quantile (&last->hist, 0.99) / 1e3;
    fprintf (out,
             "soak summary: %.1f s, %lld buys acknowledged (%.0f/s), %lld refused or unanswered; "
             "round trip p50 %.3f ms p99 %.3f ms\n",
             (double) all->to_ms / 1000.0, (long long) all->ok, s_span_rate (all),
             (long long) all->errors, (double) bench_hist_quantile (&all->hist, 0.5) / 1e3,
             (double) bench_hist_quantile (&all->hist, 0.99) / 1e3);
    fprintf (out,
             "soak first %.1f s vs last %.1f s: buys/s %.0f -> %.0f (x%.2f), p99 %.3f -> %.3f ms "
             "(x%.2f)\n",
             (double) (first->to_ms - first->from_ms) / 1000.0,
             (double) (last->to_ms - last->from_ms) / 1000.0, first_rate, last_rate,
             first_rate > 0 ? last_rate / first_rate : 0, first_p99, last_p99,
             first_p99 > 0 ? last_p99 / first_p99 : 0);
    fprintf (out, "soak rss after warm-up (%.1f s) -> end, MiB:", (double) first->to_ms / 1000.0);
    s_growth_print (self, false);
    fprintf (out, "soak anon after warm-up (%.1f s) -> end, MiB:", (double) first->to_ms / 1000.0);
    s_growth_print (self, true);
    fflush (out);
}

void
bench_soak_report (const bench_soak_plan_t *plan, bench_load_t *load, FILE *out)
{
    assert (plan && load && out);
    assert (plan->duration_ms > 0 && plan->report_ms > 0);
    s_soak_t self;
    memset (&self, 0, sizeof self);
    self.plan = plan;
    self.out = out;
    int64_t window = plan->duration_ms / 5 < S_WINDOW_MS_MAX ? plan->duration_ms / 5
                                                             : S_WINDOW_MS_MAX;
    if (window < S_TICK_MS)
        window = S_TICK_MS;
    //  Spans are large (a histogram each); the interval, the two windows
    //  and the whole run are all the run keeps.
    s_span_t *spans = calloc (5, sizeof *spans);
    assert (spans);
    s_span_t *tick = &spans [0], *interval = &spans [1], *first = &spans [2], *last = &spans [3],
             *all = &spans [4];
    last->from_ms = plan->duration_ms - window;
    int64_t start = tly_mono_ms (), next_report = plan->report_ms;
    bool warm = false;
    s_rss_sample (&self, false, false, false);  //  the processes' order for the summary
    fprintf (out, "soak %lld s, a line every %.1f s; windows of %.1f s\n",
             (long long) (plan->duration_ms / 1000), (double) plan->report_ms / 1000.0,
             (double) window / 1000.0);
    fflush (out);
    for (int64_t tick_end = S_TICK_MS;; tick_end += S_TICK_MS) {
        bool done = bench_load_done (load);
        int64_t wait = start + tick_end - tly_mono_ms ();
        if (!done && wait > 0)
            zclock_sleep ((int) wait);  //  a reporting clock, not a wait for a condition
        int64_t now = tly_mono_ms () - start;
        bench_hist_reset (&tick->hist);
        tick->ok = tick->errors = 0;
        bench_load_take (load, &tick->hist, &tick->ok, &tick->errors);
        tick->from_ms = tick_end - S_TICK_MS;
        tick->to_ms = now;
        s_span_add (interval, tick);
        s_span_add (all, tick);
        if (tick->from_ms < window)
            s_span_add (first, tick);
        if (tick->from_ms >= last->from_ms)
            s_span_add (last, tick);
        bool sample_warm = !warm && now >= window;
        //  The load's tail (answers to the envelopes in flight at the end)
        //  gets a line of its own only when it has any.
        bool report = now >= next_report || (done && interval->hist.total > 0);
        if (report) {
            s_line (&self, interval);
            s_rss_sample (&self, true, sample_warm, done);
            fputc ('\n', out);
            fflush (out);
            memset (interval, 0, sizeof *interval);
            interval->from_ms = now;
            while (next_report <= now)
                next_report += plan->report_ms;
        } else if (sample_warm)
            s_rss_sample (&self, false, true, done);
        warm = warm || sample_warm;
        if (done)
            break;
    }
    first->to_ms = first->to_ms < window ? first->to_ms : window;
    s_summary (&self, first, last, all);
    free (spans);
}

//  Runs `tally audit COMMAND --data-dir DIR [FLAG [VALUE [LAST]]]` (this very binary), its
//  output on ours. Returns its exit status, or -1 when it could not run.
static int
s_audit (const char *command, const char *flag, const char *value, const char *data_dir,
         const char *last)
{
    char self [4096];
    ssize_t size = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (size <= 0)
        return -1;
    self [size] = 0;
    fflush (stdout);
    pid_t pid = fork ();
    if (pid == 0) {
        char *argv [] = { self,           "audit",           (char *) command,
                          "--data-dir",   (char *) data_dir, (char *) flag,
                          (char *) value, (char *) last,     NULL };
        execv (self, argv);
        _exit (127);
    }
    int status;
    if (pid < 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
bench_soak_check (const char *data_dir, const char *worker, bool kept)
{
    assert (data_dir && worker);
    if (kept) {
        int verify = s_audit ("verify", "--kept", "--worker", data_dir, worker);
        printf ("%-15s %s: tally audit verify --kept exit %d (replay not run: retention deleted"
                " the first records)\n",
                "journal", verify == 0 ? "OK" : "FAILED", verify);
        return verify == 0 ? 0 : -1;
    }
    int verify = s_audit ("verify", "--worker", worker, data_dir, NULL);
    int compare = s_audit ("replay", "--compare", NULL, data_dir, NULL);
    printf ("%-15s %s: tally audit verify exit %d, replay --compare exit %d\n", "journal",
            verify == 0 && compare == 0 ? "OK" : "FAILED", verify, compare);
    return verify == 0 && compare == 0 ? 0 : -1;
}
