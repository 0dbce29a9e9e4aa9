//  audit_commands - the `tally audit` subcommands that cli_audit picks
//  (audit_main.c). Each takes its argv [0] as its own name and returns a
//  CLI exit code (cli.h).
#ifndef AUDIT_COMMANDS_H_INCLUDED
#define AUDIT_COMMANDS_H_INCLUDED

//  What a subcommand's flag parser decided.
typedef enum {
    AUDIT_PARSE_RUN,    //  run the command
    AUDIT_PARSE_HELP,   //  --help was served: exit CLI_EXIT_OK
    AUDIT_PARSE_FAILED  //  one line is on stderr: exit CLI_EXIT_USAGE
} audit_parse_t;

int audit_verify (int argc, char **argv);        //  audit_verify.c
int audit_replay (int argc, char **argv);        //  audit_replay.c (and audit_compare.c)
int audit_export (int argc, char **argv);        //  audit_export.c
int audit_bench_replay (int argc, char **argv);  //  audit_bench.c

#endif
