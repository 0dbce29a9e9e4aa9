//  tly_flags - one parser for the integer flags of every process and the CLI.
//
//      int64_t value;
//      if (tly_flags_int (PROCESS, "--partitions", optarg, 1, TLY_PARTITIONS_MAX, &value))
//          return 2;       //  the line is already on stderr
#ifndef TLY_FLAGS_H_INCLUDED
#define TLY_FLAGS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Parses the whole of text as a decimal integer in [min, max]: an optional
//  '-' and digits, no blanks, no '+', no trailing characters, no overflow.
//  Returns 0 with *value set, or -1 with *value untouched.
int  tly_flags_parse_int (const char *text, int64_t min, int64_t max, int64_t *value);

//  tly_flags_parse_int for a flag's value; on failure prints one line,
//  "<program>: <flag>: not an integer in range, got '<text>' (expected <min>..<max>)",
//  to stderr. Returns 0 or -1; the caller picks the exit status.
int  tly_flags_int (const char *program, const char *flag, const char *text,
                    int64_t min, int64_t max, int64_t *value);

#endif
