//  orders_unit - runs the self-test of the order processor's classes:
//      orders_unit [-v] [CLASS]...      (all classes when none is named)
#include "harness.h"

void tly_orders_call_test (bool verbose);
void tly_orders_http_test (bool verbose);
void tly_orders_config_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_orders_call", tly_orders_call_test },
                                      { "tly_orders_http", tly_orders_http_test },
                                      { "tly_orders_config", tly_orders_config_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
