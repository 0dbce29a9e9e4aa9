//  tly_flags - integer flag values, parsed and reported one way everywhere.
#include "tly_flags.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

int
tly_flags_parse_int (const char *text, int64_t min, int64_t max, int64_t *value)
{
    assert (text && value);
    assert (min <= max);
    //  strtoll skips leading blanks and accepts '+': a flag value must be
    //  exactly an optional '-' and digits.
    const char *digits = text [0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (errno == ERANGE || end == text || *end != 0)
        return -1;
    if (parsed < min || parsed > max)
        return -1;
    *value = parsed;
    return 0;
}

int
tly_flags_int (const char *program, const char *flag, const char *text,
               int64_t min, int64_t max, int64_t *value)
{
    assert (program && flag);
    if (tly_flags_parse_int (text, min, max, value) == 0)
        return 0;
    fprintf (stderr, "%s: %s: not an integer in range, got '%s' (expected %" PRId64 "..%" PRId64
             ")\n", program, flag, text, min, max);
    return -1;
}

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
    const char *bad [] = { "", " 5", "+5", "5 ", "12abc", "-", "--5", "0x10",
                           "9223372036854775808", "-9223372036854775809" };
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
