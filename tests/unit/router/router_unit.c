//  router_selftest - runs the self-test of every tally-router class.
#include "tly_router_actors.h"
#include "tly_router_epoch.h"
#include "tly_router_flights.h"
#include "tly_router_partmap.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char *argv [])
{
    bool verbose = argc > 1 && strcmp (argv [1], "-v") == 0;
    tly_router_epoch_test (verbose);
    tly_router_actors_test (verbose);
    tly_router_partmap_test (verbose);
    tly_router_flights_test (verbose);
    printf ("router_selftest: OK\n");
    return 0;
}
