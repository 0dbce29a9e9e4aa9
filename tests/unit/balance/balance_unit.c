//  Runs the balance actor's class self-tests:
//      balance_selftest [store|ledger|batch|catchup|objects|bus]...
#include <stdio.h>
#include <string.h>

#include "tly_batch.h"
#include "tly_bus.h"
#include "tly_catchup.h"
#include "tly_ledger.h"
#include "tly_objects.h"
#include "tly_store.h"

int
main (int argc, char *argv [])
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "store") == 0)
            tly_store_test (true);
        else
        if (strcmp (argv [i], "ledger") == 0)
            tly_ledger_test (true);
        else
        if (strcmp (argv [i], "batch") == 0)
            tly_batch_test (true);
        else
        if (strcmp (argv [i], "catchup") == 0)
            tly_catchup_test (true);
        else
        if (strcmp (argv [i], "objects") == 0)
            tly_objects_test (true);
        else
        if (strcmp (argv [i], "bus") == 0)
            tly_bus_test (true);
        else {
            fprintf (stderr, "balance_selftest: unknown test %s\n", argv [i]);
            return 2;
        }
    }
    return 0;
}
