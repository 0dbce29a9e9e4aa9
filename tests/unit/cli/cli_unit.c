//  cli_unit - runs the self-test of the `tally` CLI's helpers and commands
//  that run in-process (against a scripted gateway where they need one):
//      cli_unit [-v] [CLASS]...        (all classes when none is named)
#include <assert.h>
#include <czmq.h>
#include <sodium.h>

#include "harness.h"

void cli_util_test (bool verbose);
void up_test (bool verbose);
void cmd_watch_test (bool verbose);
void cmd_admin_test (bool verbose);
void cmd_catalog_test (bool verbose);
void cmd_order_test (bool verbose);

static const th_unit_t s_units [] = { { "cli_util", cli_util_test },
                                      { "up", up_test },
                                      { "cmd_watch", cmd_watch_test },
                                      { "cmd_admin", cmd_admin_test },
                                      { "cmd_catalog", cmd_catalog_test },
                                      { "cmd_order", cmd_order_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    zsys_handler_set (NULL);
    assert (sodium_init () >= 0);
    return th_unit_run (s_units, argc, argv);
}
