//  core_unit - runs the self-test of every class of the shared core (lib/):
//      core_unit [-v] [CLASS]...       (all classes when none is named)
#include "harness.h"

void tly_base58_test (bool verbose);
void tly_account_test (bool verbose);
void tly_account_load_test (bool verbose);
void tly_partition_test (bool verbose);
void tly_object_id_test (bool verbose);
void tly_sign_test (bool verbose);
void tly_validate_test (bool verbose);
void tly_arena_test (bool verbose);
void tly_log_test (bool verbose);
void tly_flags_test (bool verbose);
void tly_health_test (bool verbose);
void tly_message_id_test (bool verbose);
void tly_curve_test (bool verbose);
void tly_mapping_test (bool verbose);
void tly_rate_test (bool verbose);
#if defined(TLY_FAULTS_BUILD)
void tly_fault_test (bool verbose);
#endif

static const th_unit_t s_units [] = { { "tly_base58", tly_base58_test },
                                      { "tly_account", tly_account_test },
                                      { "tly_account_load", tly_account_load_test },
                                      { "tly_partition", tly_partition_test },
                                      { "tly_object_id", tly_object_id_test },
                                      { "tly_sign", tly_sign_test },
                                      { "tly_validate", tly_validate_test },
                                      { "tly_arena", tly_arena_test },
                                      { "tly_log", tly_log_test },
                                      { "tly_flags", tly_flags_test },
                                      { "tly_health", tly_health_test },
                                      { "tly_message_id", tly_message_id_test },
                                      { "tly_curve", tly_curve_test },
                                      { "tly_mapping", tly_mapping_test },
                                      { "tly_rate", tly_rate_test },
#if defined(TLY_FAULTS_BUILD)
                                      { "tly_fault", tly_fault_test },
#endif
                                      { NULL, NULL } };

int
main (int argc, char *argv [])
{
    return th_unit_run (s_units, argc, argv);
}
