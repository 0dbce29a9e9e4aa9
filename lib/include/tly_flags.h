//  tly_flags - one parser for the integer flags of every process and the CLI,
//  and one table-driven parser for a server's whole command line.
//
//      int64_t value;
//      if (tly_flags_int (PROCESS, "--partitions", optarg, 1, TLY_PARTITIONS_MAX, &value))
//          return 2;       //  the line is already on stderr
//
//      tly_flag_t flags [] = {
//          TLY_FLAG_TEXT ("--data-dir", &config->data_dir),
//          TLY_FLAG_INT ("--partitions", &config->partitions, 1, TLY_PARTITIONS_MAX),
//          TLY_FLAG_LEVEL (level),
//          TLY_FLAG_HELP
//      };
//      tly_flags_spec_t spec = { PROCESS, s_usage, TLY_FLAGS_ONE_LINE, flags, 4,
//                                "unexpected argument '%s'; see --help" };
//      tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
#ifndef TLY_FLAGS_H_INCLUDED
#define TLY_FLAGS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "tly_log.h"

//  What a command line asks for: every process's config parser says it
//  with these, and its main exits with tly_flags_exit_status when not RUN.
typedef enum {
    TLY_FLAGS_RUN,   //  the config is complete: run
    TLY_FLAGS_HELP,  //  --help was served on stdout: exit 0
    TLY_FLAGS_USAGE  //  the reason is on stderr: exit 2
} tly_flags_parsed_t;

//  What a flag's value goes into; TLY_FLAG_INT picks the integer's kind
//  from its type.
typedef enum {
    TLY_FLAG_KIND_TEXT,   //  const char *, pointing into argv
    TLY_FLAG_KIND_I64,    //  int64_t
    TLY_FLAG_KIND_U64,    //  uint64_t or size_t, min >= 0
    TLY_FLAG_KIND_U32,    //  uint32_t, 0 <= min <= max <= UINT32_MAX
    TLY_FLAG_KIND_LEVEL,  //  tly_level_t, through tly_log_level_flag
    TLY_FLAG_KIND_BOOL,   //  no value: bool, set true
    TLY_FLAG_KIND_CALL,   //  the row's own take function
    TLY_FLAG_KIND_HELP    //  no value: the usage on stdout
} tly_flag_kind_t;

//  A CALL row's parser: stores text's value into target, or prints one line
//  on stderr and returns -1.
typedef int (tly_flag_take_fn) (const char *program, const char *text, void *target);

//  One row of a command line's table: the flag, with its "--", and where
//  its value goes.
typedef struct {
    const char *flag;
    tly_flag_kind_t kind;
    void *target;
    int64_t min, max;        //  integers: the accepted range
    bool *given;             //  when not NULL: set true once the flag is met
    tly_flag_take_fn *take;  //  CALL rows
} tly_flag_t;

//  The type of target is checked: a text flag takes a const char **, an
//  integer flag an int64_t *, uint64_t * (size_t *) or uint32_t *.
#define TLY_FLAG_TEXT(flag, target)                                                             \
    {                                                                                           \
        (flag), TLY_FLAG_KIND_TEXT, (void *) (1 ? (target) : (const char **) NULL), 0, 0, NULL, \
            NULL                                                                                \
    }
#define TLY_FLAG_INT(flag, target, min, max) TLY_FLAG_INT_GIVEN (flag, target, min, max, NULL)
#define TLY_FLAG_INT_GIVEN(flag, target, min, max, given) \
    {                                                     \
        (flag),                                           \
            _Generic(*(target), int64_t                   \
                     : TLY_FLAG_KIND_I64, uint64_t        \
                     : TLY_FLAG_KIND_U64, uint32_t        \
                     : TLY_FLAG_KIND_U32),                \
            (target), (min), (max), (given), NULL         \
    }
#define TLY_FLAG_LEVEL(target)                                                                    \
    {                                                                                             \
        "--log-level", TLY_FLAG_KIND_LEVEL, (void *) (1 ? (target) : (tly_level_t *) NULL), 0, 0, \
            NULL, NULL                                                                            \
    }
#define TLY_FLAG_BOOL(flag, target)                                                           \
    {                                                                                         \
        (flag), TLY_FLAG_KIND_BOOL, (void *) (1 ? (target) : (bool *) NULL), 0, 0, NULL, NULL \
    }
#define TLY_FLAG_CALL(flag, take, target, given)                    \
    {                                                               \
        (flag), TLY_FLAG_KIND_CALL, (target), 0, 0, (given), (take) \
    }
#define TLY_FLAG_HELP                                        \
    {                                                        \
        "--help", TLY_FLAG_KIND_HELP, NULL, 0, 0, NULL, NULL \
    }

//  How an unknown flag, or one missing its value, is reported.
typedef enum {
    TLY_FLAGS_SHOW_USAGE,  //  getopt's line, then the usage on stderr
    TLY_FLAGS_ONE_LINE,    //  "<program>: option '<arg>' is unknown or needs a
                           //  value; see --help"
    TLY_FLAGS_TRY_HELP     //  the CLI's: "<program>: bad option or missing value:
                           //  '<arg>' (try <program> --help)"; -h is --help
} tly_flags_unknown_t;

typedef struct {
    const char *program;        //  the first word of every error line
    void (*usage) (FILE *out);  //  the --help text
    tly_flags_unknown_t unknown;
    const tly_flag_t *flags;
    size_t count;
    //  When not NULL, an argument that is not a flag is a usage error,
    //  reported as "<program>: " and this format of it (one %s; each
    //  process keeps its own wording); when NULL, the caller takes those.
    const char *stray;
} tly_flags_spec_t;

#define TLY_FLAGS_COUNT_MAX 32  //  rows of one table

//  Parses the whole of text as a decimal integer in [min, max]: an optional
//  '-' and digits, no blanks, no '+', no trailing characters, no overflow.
//  Returns 0 with *value set, or -1 with *value untouched.
int tly_flags_parse_int (const char *text, int64_t min, int64_t max, int64_t *value);

//  tly_flags_parse_int for a flag's value; on failure prints one line,
//  "<program>: <flag>: not an integer in range, got '<text>' (expected <min>..<max>)",
//  to stderr. Returns 0 or -1; the caller picks the exit status.
int tly_flags_int (const char *program, const char *flag, const char *text, int64_t min,
                   int64_t max, int64_t *value);

//  Parses argv's flags by spec's table, in order, each value into its row's
//  target; the first bad one ends the parse with its reason on stderr
//  (tly_flags_int's line for an integer). Sets *operand to the index of the
//  first argument that is not a flag (argc when none): what a process
//  makes of those is its own, unless spec->stray refuses them (operand
//  may then be NULL). Can be called again on another argv.
tly_flags_parsed_t tly_flags_parse (const tly_flags_spec_t *spec, int argc, char *argv [],
                                    int *operand);

//  The CLI's line for the flag getopt_long just found unknown or without its
//  value (argv [optind - 1]), for a parser with its own getopt loop.
void tly_flags_bad_option (const char *program, int argc, char *argv []);

//  A process's exit status when parsed is not RUN: 0 after --help, 2 after
//  a usage error.
int tly_flags_exit_status (tly_flags_parsed_t parsed);

#endif
