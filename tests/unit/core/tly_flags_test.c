//  tly_flags_test - integer flags at the edges of their range.
#include "tly_flags.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>

void
tly_flags_test (bool verbose)
{
    if (verbose)
        printf (" * tly_flags: ");
    int64_t value = 0;
    assert (tly_flags_parse_int ("25", INT64_MIN, INT64_MAX, &value) == 0 && value == 25);
    assert (tly_flags_parse_int ("-5", INT64_MIN, INT64_MAX, &value) == 0 && value == -5);
    assert (tly_flags_parse_int ("0", 0, 0, &value) == 0 && value == 0);
    assert (tly_flags_parse_int ("9223372036854775807", INT64_MIN, INT64_MAX, &value) == 0
            && value == INT64_MAX);
    assert (tly_flags_parse_int ("-9223372036854775808", INT64_MIN, INT64_MAX, &value) == 0
            && value == INT64_MIN);
    const char *bad [] = { "", " 5", "+5", "5 ", "5x", "12abc", "-", "--5", "0x10", "1e3", "2.5",
                           "9223372036854775808", "-9223372036854775809",
                           "99999999999999999999" };
    value = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert (tly_flags_parse_int (bad [i], INT64_MIN, INT64_MAX, &value) == -1 && value == 7);
    //  The edges of a range are inside it, one past them is not.
    assert (tly_flags_parse_int ("1", 1, 65532, &value) == 0 && value == 1);
    assert (tly_flags_parse_int ("65532", 1, 65532, &value) == 0 && value == 65532);
    assert (tly_flags_parse_int ("0", 1, 65532, &value) == -1);
    assert (tly_flags_parse_int ("65533", 1, 65532, &value) == -1);
    assert (tly_flags_int ("test", "--count", "3", 1, 5, &value) == 0 && value == 3);
    if (verbose)
        printf ("OK\n");
}
