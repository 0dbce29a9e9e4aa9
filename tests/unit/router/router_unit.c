//  router_unit - runs the self-test of every tally-router class:
//      router_unit [-v] [CLASS]...     (all classes when none is named)
#include "harness.h"

void tly_router_epoch_test (bool verbose);
void tly_router_actors_test (bool verbose);
void tly_router_partmap_test (bool verbose);
void tly_router_flights_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_router_epoch", tly_router_epoch_test },
                                      { "tly_router_actors", tly_router_actors_test },
                                      { "tly_router_partmap", tly_router_partmap_test },
                                      { "tly_router_flights", tly_router_flights_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
