//  tly_flags - integer flag values, parsed and reported one way everywhere,
//  and the command line of a server parsed from its table of flags.
#include "tly_flags.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
tly_flags_int (const char *program, const char *flag, const char *text, int64_t min, int64_t max,
               int64_t *value)
{
    assert (program && flag);
    if (tly_flags_parse_int (text, min, max, value) == 0)
        return 0;
    fprintf (stderr,
             "%s: %s: not an integer in range, got '%s' (expected %" PRId64 "..%" PRId64 ")\n",
             program, flag, text, min, max);
    return -1;
}

//  Stores a value already inside row's range into its target.
static void
s_store (const tly_flag_t *row, int64_t value)
{
    switch (row->kind) {
        case TLY_FLAG_KIND_I64: *(int64_t *) row->target = value; break;
        case TLY_FLAG_KIND_U64:
            assert (row->min >= 0);
            *(uint64_t *) row->target = (uint64_t) value;
            break;
        case TLY_FLAG_KIND_U32:
            assert (row->min >= 0 && row->max <= UINT32_MAX);
            *(uint32_t *) row->target = (uint32_t) value;
            break;
        default: assert (false);
    }
}

//  Takes one flag's value; -1 after the reason on stderr.
static int
s_take (const tly_flags_spec_t *spec, const tly_flag_t *row, const char *text)
{
    int64_t value;
    switch (row->kind) {
        case TLY_FLAG_KIND_TEXT: *(const char **) row->target = text; return 0;
        case TLY_FLAG_KIND_LEVEL:
            return tly_log_level_flag (spec->program, text, (tly_level_t *) row->target);
        case TLY_FLAG_KIND_BOOL: *(bool *) row->target = true; return 0;
        case TLY_FLAG_KIND_CALL: return row->take (spec->program, text, row->target);
        default:
            if (tly_flags_int (spec->program, row->flag, text, row->min, row->max, &value) == -1)
                return -1;
            s_store (row, value);
            return 0;
    }
}

void
tly_flags_bad_option (const char *program, int argc, char *argv [])
{
    assert (program && argv);
    const char *option = optind >= 1 && optind <= argc ? argv [optind - 1] : "?";
    fprintf (stderr, "%s: bad option or missing value: '%s' (try %s --help)\n", program, option,
             program);
}

//  An unknown flag, or one without its value, reported as spec says.
static void
s_unknown (const tly_flags_spec_t *spec, int argc, char *argv [])
{
    if (spec->unknown == TLY_FLAGS_SHOW_USAGE)
        spec->usage (stderr);  //  after getopt's own line
    else if (spec->unknown == TLY_FLAGS_ONE_LINE)
        fprintf (stderr, "%s: option '%s' is unknown or needs a value; see --help\n", spec->program,
                 argv [optind - 1]);
    else
        tly_flags_bad_option (spec->program, argc, argv);
}

tly_flags_parsed_t
tly_flags_parse (const tly_flags_spec_t *spec, int argc, char *argv [], int *operand)
{
    assert (spec && spec->program && spec->usage && spec->flags && (operand || spec->stray));
    assert (spec->count <= TLY_FLAGS_COUNT_MAX);
    //  getopt_long's table, in the rows' order (which is the order glibc
    //  lists the candidates of an ambiguous abbreviation in); a row's
    //  option value is beyond every short option character.
    enum {
        ROW_BASE = 256
    };
    struct option options [TLY_FLAGS_COUNT_MAX + 1];
    for (size_t index = 0; index < spec->count; index++) {
        const tly_flag_t *row = &spec->flags [index];
        assert (row->flag && strncmp (row->flag, "--", 2) == 0);
        assert (row->min <= row->max);
        assert ((row->kind == TLY_FLAG_KIND_CALL) == (row->take != NULL));
        bool bare = row->kind == TLY_FLAG_KIND_HELP || row->kind == TLY_FLAG_KIND_BOOL;
        options [index] = (struct option) { row->flag + 2, bare ? no_argument : required_argument,
                                            NULL, ROW_BASE + (int) index };
    }
    options [spec->count] = (struct option) { NULL, 0, NULL, 0 };
    opterr = spec->unknown == TLY_FLAGS_SHOW_USAGE;
    optind = 0;  //  glibc: start afresh on this argv
    //  The CLI's ":h": getopt stays quiet and -h asks for help.
    const char *short_options = spec->unknown == TLY_FLAGS_TRY_HELP ? ":h" : "";
    int option;
    while ((option = getopt_long (argc, argv, short_options, options, NULL)) != -1) {
        if (option == 'h' && spec->unknown == TLY_FLAGS_TRY_HELP) {
            spec->usage (stdout);
            return TLY_FLAGS_HELP;
        }
        if (option < ROW_BASE || option >= ROW_BASE + (int) spec->count) {
            s_unknown (spec, argc, argv);
            return TLY_FLAGS_USAGE;
        }
        const tly_flag_t *row = &spec->flags [option - ROW_BASE];
        if (row->given)
            *row->given = true;
        if (row->kind == TLY_FLAG_KIND_HELP) {
            spec->usage (stdout);
            return TLY_FLAGS_HELP;
        }
        if (s_take (spec, row, optarg) == -1)
            return TLY_FLAGS_USAGE;
    }
    if (spec->stray && optind < argc) {
        fprintf (stderr, "%s: ", spec->program);
        fprintf (stderr, spec->stray, argv [optind]);
        fputc ('\n', stderr);
        return TLY_FLAGS_USAGE;
    }
    if (operand)
        *operand = optind;
    return TLY_FLAGS_RUN;
}

int
tly_flags_exit_status (tly_flags_parsed_t parsed)
{
    assert (parsed != TLY_FLAGS_RUN);
    return parsed == TLY_FLAGS_HELP ? 0 : 2;
}
