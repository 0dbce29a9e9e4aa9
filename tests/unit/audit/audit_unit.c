//  audit_unit - runs the self-test of the audit writer class (actors/audit):
//      audit_unit [-v] [CLASS]...      (all classes when none is named)
#include "harness.h"

void tly_audit_writer_test (bool verbose);

static const th_unit_t s_units [] = {
    { "tly_audit_writer", tly_audit_writer_test },
    { NULL, NULL }
};

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
