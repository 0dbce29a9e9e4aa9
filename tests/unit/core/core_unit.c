//  Self-tests of the shared core (lib/), run by ctest.
#include <stdio.h>
#include <string.h>

#include "tly_account.h"
#include "tly_account_load.h"
#include "tly_arena.h"
#include "tly_base58.h"
#include "tly_flags.h"
#include "tly_log.h"
#include "tly_object_id.h"
#include "tly_partition.h"
#include "tly_sign.h"
#include "tly_validate.h"

int
main (int argc, char **argv)
{
    bool verbose = argc > 1 && strcmp (argv [1], "-v") == 0;
    tly_base58_test (verbose);
    tly_account_test (verbose);
    tly_account_load_test (verbose);
    tly_partition_test (verbose);
    tly_object_id_test (verbose);
    tly_sign_test (verbose);
    tly_validate_test (verbose);
    tly_arena_test (verbose);
    tly_log_test (verbose);
    tly_flags_test (verbose);
    printf ("core_test: OK\n");
    return 0;
}
