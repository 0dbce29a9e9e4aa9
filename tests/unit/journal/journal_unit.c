//  journal_unit - runs the self-tests of the audit writer's journal (the class, and its
//  segments):
//      journal_unit [-v] [CLASS]...    (all classes when none is named)
#include "harness.h"

void tly_journal_test (bool verbose);
void tly_journal_config_test (bool verbose);
void tly_journal_segment_test (bool verbose);

static const th_unit_t s_units [] = { { "tly_journal", tly_journal_test },
                                      { "tly_journal_config", tly_journal_config_test },
                                      { "tly_journal_segment", tly_journal_segment_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
