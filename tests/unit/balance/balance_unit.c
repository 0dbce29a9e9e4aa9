//  balance_unit - runs the self-test of every balance actor class:
//      balance_unit [-v] [CLASS]...    (all classes when none is named)
#include "harness.h"

void tly_store_test (bool verbose);
void tly_ledger_test (bool verbose);
void tly_ledger_rate_test (bool verbose);
void tly_ledger_adjust_test (bool verbose);
void tly_ledger_config_test (bool verbose);
void tly_ledger_refund_test (bool verbose);
void tly_ledger_order_test (bool verbose);
void tly_batch_test (bool verbose);
void tly_catchup_test (bool verbose);
void tly_objects_test (bool verbose);
void tly_bus_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_store", tly_store_test },
                                      { "tly_ledger", tly_ledger_test },
                                      { "tly_ledger_rate", tly_ledger_rate_test },
                                      { "tly_ledger_adjust", tly_ledger_adjust_test },
                                      { "tly_ledger_config", tly_ledger_config_test },
                                      { "tly_ledger_refund", tly_ledger_refund_test },
                                      { "tly_ledger_order", tly_ledger_order_test },
                                      { "tly_batch", tly_batch_test },
                                      { "tly_catchup", tly_catchup_test },
                                      { "tly_objects", tly_objects_test },
                                      { "tly_bus", tly_bus_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
