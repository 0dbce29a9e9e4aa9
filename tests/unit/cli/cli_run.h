//  cli_run - runs one `tally` subcommand in this process, its stdout and
//  stderr caught, for the CLI's command tests.
#ifndef CLI_RUN_H_INCLUDED
#define CLI_RUN_H_INCLUDED

#include <stddef.h>

#include "tally.h"

#define CLI_RUN_OUTPUT_MAX 4096  //  bytes of out and err, NUL included
#define CLI_RUN_ARGS_MAX   32

//  Runs command (cli_watch, cli_admin, ...) on argv [0..argc), with out and
//  err (CLI_RUN_OUTPUT_MAX bytes each) getting what it printed. Returns its
//  exit code.
int cli_run_argv (int (*command) (int argc, char **argv), int argc, char **argv, char *out,
                  char *err);
//  The same with line split at blanks into argv (arguments without blanks).
int cli_run_line (int (*command) (int argc, char **argv), const char *line, char *out, char *err);
//  Writes account, as `tally account create --json` does, with name, to a
//  fresh temporary file: path is its template ("/tmp/...-XXXXXX"),
//  rewritten to the file's name.
void cli_run_account_file (const tly_account_t *account, const char *name, char *path);

#endif
