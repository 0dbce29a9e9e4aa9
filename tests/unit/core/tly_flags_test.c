//  tly_flags_test - integer flags at the edges of their range.
#include "tly_flags.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int s_usage_calls;

static void
s_usage (FILE *out)
{
    (void) out;  //  a test keeps stdout and stderr quiet
    s_usage_calls++;
}

//  The table of a small program, parsed from words.
typedef struct {
    const char *name;
    int64_t delay;
    uint64_t every;
    size_t bytes;
    uint32_t count;
    bool count_given;
    tly_level_t level;
    bool json;
    int64_t odd;
    bool odd_given;
} s_config_t;

//  A CALL row's parser: odd numbers only.
static int
s_take_odd (const char *program, const char *text, void *target)
{
    int64_t value;
    if (tly_flags_parse_int (text, 1, 99, &value) == 0 && value % 2 == 1) {
        *(int64_t *) target = value;
        return 0;
    }
    fprintf (stderr, "%s: --odd: not odd, got '%s'\n", program, text);
    return -1;
}

static tly_flags_parsed_t
s_parse_stray (s_config_t *config, tly_flags_unknown_t unknown, const char *stray, int argc,
               char *argv [], int *operand)
{
    *config = (s_config_t) {
        .name = "default", .delay = 5, .every = 6, .bytes = 7, .count = 8, .level = TLY_INFO
    };
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--name", &config->name),
                            TLY_FLAG_INT ("--delay", &config->delay, -10, 10),
                            TLY_FLAG_INT ("--every", &config->every, 1, INT64_MAX),
                            TLY_FLAG_INT ("--bytes", &config->bytes, 0, 1000),
                            TLY_FLAG_INT_GIVEN ("--count", &config->count, 1, UINT32_MAX,
                                                &config->count_given),
                            TLY_FLAG_LEVEL (&config->level),
                            TLY_FLAG_BOOL ("--json", &config->json),
                            TLY_FLAG_CALL ("--odd", s_take_odd, &config->odd, &config->odd_given),
                            TLY_FLAG_HELP };
    tly_flags_spec_t spec = { "test", s_usage, unknown, flags, sizeof flags / sizeof flags [0],
                              stray };
    return tly_flags_parse (&spec, argc, argv, operand);
}

static tly_flags_parsed_t
s_parse (s_config_t *config, tly_flags_unknown_t unknown, int argc, char *argv [], int *operand)
{
    return s_parse_stray (config, unknown, NULL, argc, argv, operand);
}

//  What the last s_stderr_start .. s_stderr_end wrote on stderr.
static char s_stderr [256];
static int s_stderr_saved = -1;
static FILE *s_stderr_file;

static void
s_stderr_start (void)
{
    fflush (stderr);
    s_stderr_file = tmpfile ();
    assert (s_stderr_file);
    s_stderr_saved = dup (STDERR_FILENO);
    assert (s_stderr_saved >= 0);
    assert (dup2 (fileno (s_stderr_file), STDERR_FILENO) >= 0);
}

static const char *
s_stderr_end (void)
{
    fflush (stderr);
    assert (dup2 (s_stderr_saved, STDERR_FILENO) >= 0);
    close (s_stderr_saved);
    rewind (s_stderr_file);
    size_t size = fread (s_stderr, 1, sizeof s_stderr - 1, s_stderr_file);
    s_stderr [size] = 0;
    fclose (s_stderr_file);
    return s_stderr;
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
    const char *bad [] = { "",
                           " 5",
                           "+5",
                           "5 ",
                           "5x",
                           "12abc",
                           "-",
                           "--5",
                           "0x10",
                           "1e3",
                           "2.5",
                           "9223372036854775808",
                           "-9223372036854775809",
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
    //  The line of a value out of range names the flag, the text and the range.
    s_stderr_start ();
    assert (tly_flags_int ("test", "--count", "9223372036854775808", 1, 5, &value) == -1);
    assert (strcmp (s_stderr_end (), "test: --count: not an integer in range, got "
                                     "'9223372036854775808' (expected 1..5)\n")
            == 0);
    assert (value == 3);

    //  A table: every kind of row, the defaults kept where no flag is given.
    s_config_t config;
    int operand = -1;
    char *none [] = { "test", NULL };
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 1, none, &operand) == TLY_FLAGS_RUN);
    assert (operand == 1 && strcmp (config.name, "default") == 0 && config.delay == 5);
    assert (!config.count_given && !config.json && !config.odd_given);
    char *all [] = { "test",
                     "--name",
                     "n",
                     "--delay",
                     "-10",
                     "--every",
                     "9223372036854775807",
                     "--bytes",
                     "1000",
                     "--count",
                     "4294967295",
                     "--log-level",
                     "warn",
                     "rest",
                     NULL };
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 14, all, &operand) == TLY_FLAGS_RUN);
    assert (strcmp (config.name, "n") == 0 && config.delay == -10 && config.every == INT64_MAX);
    assert (config.bytes == 1000 && config.count == UINT32_MAX && config.level == TLY_WARN);
    assert (operand == 13 && strcmp (all [operand], "rest") == 0);
    assert (config.count_given && !config.odd_given);
    char *more [] = { "test", "--json", "--odd", "7", NULL };
    assert (s_parse (&config, TLY_FLAGS_TRY_HELP, 4, more, &operand) == TLY_FLAGS_RUN);
    assert (config.json && config.odd == 7 && config.odd_given && operand == 4);
    char *even [] = { "test", "--odd", "8", NULL };
    assert (s_parse (&config, TLY_FLAGS_TRY_HELP, 3, even, &operand) == TLY_FLAGS_USAGE);
    assert (config.odd == 0);
    //  --help serves the usage and ends the parse; a bad value or flag is a
    //  usage error, the usage shown only when the spec asks for it.
    s_usage_calls = 0;
    char *help [] = { "test", "--help", "--delay", "x", NULL };
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 4, help, &operand) == TLY_FLAGS_HELP);
    assert (s_usage_calls == 1);
    assert (tly_flags_exit_status (TLY_FLAGS_HELP) == 0);
    assert (tly_flags_exit_status (TLY_FLAGS_USAGE) == 2);
    char *out_of_range [] = { "test", "--delay", "11", NULL };
    assert (s_parse (&config, TLY_FLAGS_SHOW_USAGE, 3, out_of_range, &operand) == TLY_FLAGS_USAGE);
    char *count_zero [] = { "test", "--count", "0", NULL };
    assert (s_parse (&config, TLY_FLAGS_SHOW_USAGE, 3, count_zero, &operand) == TLY_FLAGS_USAGE);
    //  One past a uint32_t row's max, and past int64_t, are refused the same way.
    char *count_over [] = { "test", "--count", "4294967296", NULL };
    s_stderr_start ();
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 3, count_over, &operand) == TLY_FLAGS_USAGE);
    assert (strcmp (s_stderr_end (), "test: --count: not an integer in range, got '4294967296' "
                                     "(expected 1..4294967295)\n")
            == 0);
    assert (config.count == 8);
    char *every_over [] = { "test", "--every", "9223372036854775808", NULL };
    assert (s_parse (&config, TLY_FLAGS_SHOW_USAGE, 3, every_over, &operand) == TLY_FLAGS_USAGE);
    assert (config.every == 6);
    char *bad_level [] = { "test", "--log-level", "loud", NULL };
    assert (s_parse (&config, TLY_FLAGS_SHOW_USAGE, 3, bad_level, &operand) == TLY_FLAGS_USAGE);
    assert (s_usage_calls == 1);
    char *unknown [] = { "test", "--bogus", NULL };
    s_stderr_start ();
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 2, unknown, &operand) == TLY_FLAGS_USAGE);
    assert (
        strcmp (s_stderr_end (), "test: option '--bogus' is unknown or needs a value; see --help\n")
        == 0);
    assert (s_usage_calls == 1);
    char *missing [] = { "test", "--name", NULL };
    assert (s_parse (&config, TLY_FLAGS_SHOW_USAGE, 2, missing, &operand) == TLY_FLAGS_USAGE);
    assert (s_usage_calls == 2);
    //  The CLI's way: -h is --help, an unknown flag is one line.
    char *short_help [] = { "test", "-h", NULL };
    assert (s_parse (&config, TLY_FLAGS_TRY_HELP, 2, short_help, &operand) == TLY_FLAGS_HELP);
    assert (s_usage_calls == 3);
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 2, short_help, &operand) == TLY_FLAGS_USAGE);
    s_stderr_start ();
    assert (s_parse (&config, TLY_FLAGS_TRY_HELP, 2, unknown, &operand) == TLY_FLAGS_USAGE);
    assert (
        strcmp (s_stderr_end (), "test: bad option or missing value: '--bogus' (try test --help)\n")
        == 0);
    assert (s_usage_calls == 3);
    //  A spec that refuses arguments other than flags reports the first in
    //  its own words, after the flags are taken; without one they are the
    //  caller's.
    char *stray [] = { "test", "--delay", "3", "x", "y", NULL };
    s_stderr_start ();
    assert (s_parse_stray (&config, TLY_FLAGS_ONE_LINE, "unexpected argument '%s'; see --help", 5,
                           stray, NULL)
            == TLY_FLAGS_USAGE);
    assert (strcmp (s_stderr_end (), "test: unexpected argument 'x'; see --help\n") == 0);
    assert (config.delay == 3);
    assert (s_parse_stray (&config, TLY_FLAGS_ONE_LINE, "unexpected argument '%s'", 3, stray, NULL)
            == TLY_FLAGS_RUN);
    assert (s_parse (&config, TLY_FLAGS_ONE_LINE, 5, stray, &operand) == TLY_FLAGS_RUN);
    assert (operand == 3);
    assert (s_usage_calls == 3);
    if (verbose)
        printf ("OK\n");
}
