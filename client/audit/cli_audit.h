//  cli_audit - `tally audit`: verify, replay, export and bench-replay over a
//  journal, read beside a live writer. docs/journal.md gives the format.
#ifndef CLI_AUDIT_H_INCLUDED
#define CLI_AUDIT_H_INCLUDED

//  argv [0] is "audit", argv [1] the subcommand. Returns CLI_EXIT_OK, then
//  CLI_EXIT_REJECTED when the journal failed a check, CLI_EXIT_USAGE for bad
//  arguments or a journal that cannot be read.
int cli_audit (int argc, char **argv);

#endif
