//  audit_main - `tally audit`: picks the subcommand.
#include "cli_audit.h"
#include "audit_commands.h"

#include <stdio.h>
#include <string.h>
#include "cli.h"

static void
s_usage (FILE *out)
{
    fputs ("usage: tally audit <command> (--journal DIR | --data-dir DIR) [options]\n"
           "\n"
           "commands:\n"
           "  verify [--worker ID]           check the hash chain, every client signature\n"
           "                                 and every checkpoint; name the first failure\n"
           "  replay [--compare] [--balances] rebuild every balance from the journal;\n"
           "                                 --compare checks the balance actors' state\n"
           "  export --format jsonl [--from SEQ] [--partition P]\n"
           "                                 one JSON object per record\n"
           "  bench-replay [--records N] [--per-record K]\n"
           "                                 time replay on a journal built for it\n"
           "\n"
           "--journal DIR is the journal directory itself (tally-audit's DATA/journal);\n"
           "--data-dir DIR is a `tally up` data directory. The tools read a snapshot and\n"
           "never pause the writer. Run `tally audit <command> --help` for options.\n"
           "Exit status: 0 success, 1 the journal or the state failed a check,\n"
           "2 usage error or unreadable journal.\n",
           out);
}

int
cli_audit (int argc, char **argv)
{
    static const cli_command_t commands [] = { { "verify", audit_verify },
                                               { "replay", audit_replay },
                                               { "export", audit_export },
                                               { "bench-replay", audit_bench_replay },
                                               { NULL, NULL } };
    return cli_dispatch ("tally audit", commands, s_usage, argc, argv);
}
