//  journal_selftest - runs tly_journal's self-test under ctest.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "tly_journal.h"

int
main (int argc, char *argv [])
{
    bool verbose = argc > 1 && strcmp (argv [1], "-v") == 0;
    tly_journal_test (verbose);
    return 0;
}
