//  bench_stats_test - latency quantiles, the histogram of long runs, the
//  /proc readers and bytes on disk.
#include "bench.h"

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
bench_stats_test (bool verbose)
{
    if (verbose)
        printf (" * bench_stats: ");
    bench_latency_t latency = { 0 };
    assert (bench_latency_quantile (&latency, 0.5) == 0);
    for (int64_t i = 100; i >= 1; i--)
        bench_latency_add (&latency, i);
    assert (bench_latency_quantile (&latency, 0.5) == 50);
    assert (bench_latency_quantile (&latency, 0.9) == 90);
    assert (bench_latency_quantile (&latency, 0.99) == 99);
    assert (bench_latency_quantile (&latency, 0.999) == 100);
    assert (bench_latency_quantile (&latency, 0) == 1);
    assert (bench_latency_quantile (&latency, 1) == 100);
    bench_latency_t more = { 0 };
    bench_latency_add (&more, 1000);
    bench_latency_merge (&latency, &more);
    assert (latency.count == 101 && bench_latency_quantile (&latency, 1) == 1000);
    bench_latency_free (&more);
    bench_latency_free (&latency);

    //  The histogram: exact below BENCH_HIST_SUB, within 1/64 above, never
    //  below the true quantile, and bounded however large a value.
    bench_hist_t *hist = calloc (2, sizeof *hist);
    assert (hist);
    assert (bench_hist_quantile (&hist [0], 0.5) == 0);
    for (int64_t i = 1; i <= 63; i++)
        bench_hist_add (&hist [0], i);
    assert (hist [0].total == 63);
    assert (bench_hist_quantile (&hist [0], 0.5) == 32);
    assert (bench_hist_quantile (&hist [0], 0) == 1);
    assert (bench_hist_quantile (&hist [0], 1) == 63);
    bench_hist_reset (&hist [0]);
    for (int64_t v = 1; v <= 100000000; v = v * 3 + 7) {
        bench_hist_reset (&hist [1]);
        bench_hist_add (&hist [1], v);
        int64_t got = bench_hist_quantile (&hist [1], 0.99);
        assert (got >= v && got - v <= v / BENCH_HIST_SUB);
    }
    //  The edges of a bucket: 64 and 65 share none below 128, 128 and 129 do.
    bench_hist_reset (&hist [1]);
    bench_hist_add (&hist [1], 128);
    assert (bench_hist_quantile (&hist [1], 1) == 129);
    bench_hist_add (&hist [1], -5);  //  a clock step back counts as 0
    assert (bench_hist_quantile (&hist [1], 0) == 0);
    bench_hist_add (&hist [1], INT64_MAX);  //  into the last bucket
    assert (bench_hist_quantile (&hist [1], 1) > ((int64_t) 1 << BENCH_HIST_TOP));
    //  Quantiles of 10,000 samples 1..10,000 µs, and a merge.
    for (int64_t i = 1; i <= 10000; i++)
        bench_hist_add (&hist [0], i);
    int64_t p50 = bench_hist_quantile (&hist [0], 0.5);
    int64_t p99 = bench_hist_quantile (&hist [0], 0.99);
    assert (p50 >= 5000 && p50 <= 5000 + 5000 / BENCH_HIST_SUB);
    assert (p99 >= 9900 && p99 <= 9900 + 9900 / BENCH_HIST_SUB);
    bench_hist_merge (&hist [0], &hist [1]);
    assert (hist [0].total == 10003);
    free (hist);

    //  Bytes on disk: allocated blocks, so a sparse file counts what it
    //  holds; files below an `archive` folder left out, or counted alone.
    char dir [] = "/tmp/bench-stats-XXXXXX";
    assert (mkdtemp (dir));
    char path [128];
    snprintf (path, sizeof path, "%s/sparse", dir);
    int fd = open (path, O_WRONLY | O_CREAT, 0600);
    assert (fd >= 0);
    assert (ftruncate (fd, 1 << 30) == 0);
    char block [8192];
    memset (block, 1, sizeof block);
    assert (pwrite (fd, block, sizeof block, 0) == (ssize_t) sizeof block);
    assert (fsync (fd) == 0);
    close (fd);
    int64_t live = bench_disk_bytes (dir, "archive", false);
    assert (live >= 8192 && live < 1 << 20);
    snprintf (path, sizeof path, "%s/archive", dir);
    assert (mkdir (path, 0700) == 0);
    snprintf (path, sizeof path, "%s/archive/old", dir);
    fd = open (path, O_WRONLY | O_CREAT, 0600);
    assert (fd >= 0);
    for (int i = 0; i < 4; i++)
        assert (write (fd, block, sizeof block) == (ssize_t) sizeof block);
    assert (fsync (fd) == 0);
    close (fd);
    assert (bench_disk_bytes (dir, "archive", false) == live);
    int64_t archived = bench_disk_bytes (dir, "archive", true);
    assert (archived >= 4 * 8192 && archived < 1 << 20);
    assert (bench_disk_bytes (dir, NULL, false) == live + archived);
    assert (bench_disk_bytes ("/nonexistent/bench", NULL, false) == -1);
    assert (unlink (path) == 0);
    snprintf (path, sizeof path, "%s/archive", dir);
    assert (rmdir (path) == 0);
    snprintf (path, sizeof path, "%s/sparse", dir);
    assert (unlink (path) == 0);
    assert (rmdir (dir) == 0);

    //  This process is its own subject for the /proc readers.
    assert (bench_proc_cpu (getpid ()) >= 0);
    assert (bench_proc_status_kb (getpid (), "VmRSS") > 0);
    assert (bench_proc_status_kb (getpid (), "NoSuchField") == -1);
    assert (bench_proc_pss_kb (getpid ()) > 0);
    assert (bench_proc_pss_kb (-5) == -1);
    assert (bench_proc_cpu (-5) == -1);
    if (verbose)
        printf ("OK\n");
}
