//  bench_unit - runs the self-test of the benchmark's classes:
//      bench_unit [-v] [CLASS]...      (all classes when none is named)
#include "harness.h"

void bench_stats_test (bool verbose);

static const th_unit_t s_units [] = { { "bench_stats", bench_stats_test }, { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
