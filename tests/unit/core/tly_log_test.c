//  tly_log_test - level names, the --log-level flag and line budgets.
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

    //  A budget of 3 lines per 1000 ms: 3 pass, the rest are counted, and
    //  the first line of a later window carries the count.
    tly_log_limit_t limit = TLY_LOG_LIMIT (3, 1000);
    uint64_t suppressed = 99;
    for (int i = 0; i < 3; i++) {
        assert (tly_log_limit_admit (&limit, 5000 + i, &suppressed));
        assert (suppressed == 0);
    }
    for (int i = 0; i < 1000; i++)
        assert (!tly_log_limit_admit (&limit, 5100 + i / 2, &suppressed) && suppressed == 0);
    assert (tly_log_limit_admit (&limit, 6000, &suppressed) && suppressed == 1000);
    assert (tly_log_limit_admit (&limit, 6001, &suppressed) && suppressed == 0);
    //  A quiet window ends with nothing to report; much later, a fresh one.
    assert (tly_log_limit_admit (&limit, 90000, &suppressed) && suppressed == 0);
    assert (tly_log_limit_admit (&limit, 90001, &suppressed) && suppressed == 0);
    assert (tly_log_limit_admit (&limit, 90002, &suppressed) && suppressed == 0);
    assert (!tly_log_limit_admit (&limit, 90003, &suppressed));
    if (verbose)
        printf ("OK\n");
}
