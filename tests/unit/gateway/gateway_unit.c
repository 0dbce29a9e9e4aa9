//  gateway_unit - runs the self-test of every tally-gateway class:
//      gateway_unit [-v] [CLASS]...    (all classes when none is named)
#include "harness.h"

void tly_gateway_pending_test (bool verbose);
void tly_gateway_index_test (bool verbose);
void tly_gateway_subs_test (bool verbose);
void tly_gateway_bus_test (bool verbose);
void tly_gateway_check_test (bool verbose);
void tly_gateway_rejects_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_gateway_pending", tly_gateway_pending_test },
                                      { "tly_gateway_index", tly_gateway_index_test },
                                      { "tly_gateway_subs", tly_gateway_subs_test },
                                      { "tly_gateway_bus", tly_gateway_bus_test },
                                      { "tly_gateway_check", tly_gateway_check_test },
                                      { "tly_gateway_rejects", tly_gateway_rejects_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
