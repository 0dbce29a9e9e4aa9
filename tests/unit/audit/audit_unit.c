//  audit_unit - runs the self-tests of the audit writer class (actors/audit)
//  and of the pieces the `tally audit` tools share (client/audit):
//      audit_unit [-v] [CLASS]...      (all classes when none is named)
#include "harness.h"

void audit_wire_test (bool verbose);
void audit_scratch_test (bool verbose);
void audit_derive_test (bool verbose);
void audit_derive_config_test (bool verbose);
void audit_derive_refund_test (bool verbose);
void audit_derive_order_test (bool verbose);
void tly_audit_check_test (bool verbose);
void tly_audit_writer_test (bool verbose);

static const th_unit_t s_units [] = { { "audit_wire", audit_wire_test },
                                      { "audit_scratch", audit_scratch_test },
                                      { "audit_derive", audit_derive_test },
                                      { "audit_derive_config", audit_derive_config_test },
                                      { "audit_derive_refund", audit_derive_refund_test },
                                      { "audit_derive_order", audit_derive_order_test },
                                      { "tly_audit_check", tly_audit_check_test },
                                      { "tly_audit_writer", tly_audit_writer_test },
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
