//  tly_log_test - level names and the --log-level flag.
#include "tly_log.h"

#include <assert.h>
#include <stdio.h>

void
tly_log_test (bool verbose)
{
    if (verbose)
        printf (" * tly_log: ");
    tly_level_t level = TLY_ERROR;
    assert (tly_log_parse_level ("debug", &level) == 0 && level == TLY_DEBUG);
    assert (tly_log_level_flag ("test", "warn", &level) == 0 && level == TLY_WARN);
    assert (tly_log_parse_level ("WARN", &level) == -1 && level == TLY_WARN);
    assert (tly_log_parse_level ("", &level) == -1);
    assert (tly_log_level_flag ("test", "loud", &level) == -1 && level == TLY_WARN);
    if (verbose)
        printf ("OK\n");
}
