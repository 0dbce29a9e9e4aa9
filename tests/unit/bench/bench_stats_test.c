//  bench_stats_test - latency quantiles and the /proc readers.
#include "bench.h"

#include <assert.h>
#include <stdio.h>
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
