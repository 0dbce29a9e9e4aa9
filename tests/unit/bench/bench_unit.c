//  Self-test of the benchmark's statistics, run by ctest.
#include <stdio.h>
#include <string.h>

#include "bench.h"

int
main (int argc, char **argv)
{
    bench_stats_test (argc > 1 && strcmp (argv [1], "-v") == 0);
    return 0;
}
