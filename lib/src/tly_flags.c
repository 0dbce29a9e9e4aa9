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
