//  journal_unit - runs the self-test of the audit writer's journal class:
//      journal_unit [-v] [CLASS]...    (all classes when none is named)
#include "harness.h"

void tly_journal_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_journal", tly_journal_test }, { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
