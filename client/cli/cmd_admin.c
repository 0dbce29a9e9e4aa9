//  tally admin - what only the worker may do: credit and debit a user's
//  balance. Signed with the worker's account and sent like `tally send`.
#include "cli.h"

#include <string.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally admin credit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "       tally admin debit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "\n"
           "As the worker, adds N minor units to a user's balance (credit) or takes them\n"
           "from it (debit; never below 0). The reference names the payment or event\n"
           "(1..128 bytes): a credit or debit with a reference the user already has is\n"
           "answered with the first one and changes nothing, so sending again is safe.\n"
           "\n"
           "options:\n"
           "  --user co_z...        the account whose balance changes\n"
           "  --amount N            minor units, 1..9007199254740991 (2^53 - 1)\n"
           "  --reference REF       the payment's or event's ID, 1..128 bytes\n"
           "  --note TEXT           shown to the user, 0..256 bytes (default "
           "none)\n" CLI_SEND_GATEWAY_USAGE
           "  --account-file FILE   the worker's account (tally up keeps it in DIR/worker.json)\n"
           "                        (default: $" TLY_ENV_ACCOUNT " and $" TLY_ENV_SECRET
           "); another\n"
           "                        account is refused before anything is "
           "sent\n" CLI_SEND_TIMEOUT_USAGE "\n"
           "Exit status: 0 done, 1 refused (e.g. INSUFFICIENT_BALANCE, NO_ACCOUNT), 2 usage error\n"
           "or no answer.\n",
           out);
}

typedef struct {
    cli_send_options_t send;
    const char *user;
    bool has_amount;
    int64_t amount;
    const char *reference;
    const char *note;
} s_args_t;

//  Returns -1 to go on, or the exit code.
static int
s_parse (const char *command, int argc, char **argv, s_args_t *args)
{
    args->send.timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    tly_flag_t flags [] = { CLI_SEND_FLAGS (&args->send),
                            TLY_FLAG_TEXT ("--user", &args->user),
                            TLY_FLAG_INT_GIVEN ("--amount", &args->amount, INT64_MIN, INT64_MAX,
                                                &args->has_amount),
                            TLY_FLAG_TEXT ("--reference", &args->reference),
                            TLY_FLAG_TEXT ("--note", &args->note),
                            TLY_FLAG_HELP };
    return cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                            NULL);
}

//  Builds the credit or debit the arguments describe. The amount's range
//  is the cluster's to check, as for `tally send`. Returns -1 to go on, or
//  the exit code.
static int
s_message (const char *command, bool credit, const s_args_t *args, tly_msg_t *msg)
{
    if (!args->user || !args->has_amount || !args->reference) {
        fprintf (stderr, "%s: --user, --amount and --reference are required\n", command);
        return CLI_EXIT_USAGE;
    }
    tly_error_t error;
    int rc = credit ? tly_msg_credit (msg, args->user, args->amount, args->reference, args->note,
                                      &error)
                    : tly_msg_debit (msg, args->user, args->amount, args->reference, args->note,
                                     &error);
    if (rc == 0)
        return -1;
    const char *flag = error.code == TALLY__ERROR_CODE__INVALID_REFERENCE ? "--reference"
                       : error.code == TALLY__ERROR_CODE__INVALID_NOTE    ? "--note"
                                                                          : "--user";
    fprintf (stderr, "%s: %s: %s\n", command, flag, error.message);
    return CLI_EXIT_USAGE;
}

int
cli_admin (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || (strcmp (argv [1], "credit") != 0 && strcmp (argv [1], "debit") != 0)) {
        fprintf (stderr, "tally admin: expected 'credit' or 'debit'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    bool credit = strcmp (argv [1], "credit") == 0;
    char command [64];
    snprintf (command, sizeof command, "tally admin %s", argv [1]);
    s_args_t args = { 0 };
    int rc = s_parse (command, argc - 1, argv + 1, &args);
    if (rc != -1)
        return rc;
    tly_msg_t msg;
    rc = s_message (command, credit, &args, &msg);
    if (rc != -1)
        return rc;
    return cli_send_one (command, &args.send, &msg, true);
}
