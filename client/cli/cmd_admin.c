//  tally admin - what the worker and its admins may do: credit and debit a
//  user's balance (the worker or an admin), add and remove an admin (the
//  worker only). Signed with the account of --account-file and sent like
//  `tally send`.
#include "cli.h"

#include <string.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally admin credit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "       tally admin debit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "       tally admin add --account co_z... [options]\n"
           "       tally admin remove --account co_z... [options]\n"
           "\n"
           "credit, debit: as the worker or an admin, adds N minor units to a user's balance\n"
           "(credit) or takes them from it (debit; never below 0). The reference names the\n"
           "payment or event (1..128 bytes): a credit or debit with a reference the user\n"
           "already has is answered with the first one and changes nothing, so sending again\n"
           "is safe.\n"
           "add, remove: as the worker, adds an account to the admin group or removes it. An\n"
           "admin may credit, debit and set prices (`tally catalog set`). Adding an admin\n"
           "twice, or removing one who is not, changes nothing.\n"
           "\n"
           "options:\n"
           "  --user co_z...        credit, debit: the account whose balance changes\n"
           "  --amount N            credit, debit: minor units, 1..9007199254740991 (2^53 - 1)\n"
           "  --reference REF       credit, debit: the payment's or event's ID, 1..128 bytes\n"
           "  --note TEXT           credit, debit: shown to the user, 0..256 bytes (default "
           "none)\n"
           "  --account co_z...     add, remove: the admin's account ID\n" CLI_SEND_GATEWAY_USAGE
           "  --account-file FILE   the sender's account: the worker's (tally up keeps it in\n"
           "                        DIR/worker.json), or for credit and debit an admin's\n"
           "                        (default: $" TLY_ENV_ACCOUNT " and $" TLY_ENV_SECRET
           "); for add and\n"
           "                        remove another account than the worker's is refused\n"
           "                        before anything is sent\n" CLI_SEND_TIMEOUT_USAGE "\n"
           "Exit status: 0 done, 1 refused (e.g. INSUFFICIENT_BALANCE, NO_ACCOUNT,\n"
           "PERMISSION_DENIED), 2 usage error or no answer.\n",
           out);
}

typedef struct {
    cli_send_options_t send;
    const char *user;
    bool has_amount;
    int64_t amount;
    const char *reference;
    const char *note;
    const char *account;
} s_args_t;

//  Returns -1 to go on, or the exit code. A credit or debit takes its
//  fields, an admin change its account.
static int
s_parse (const char *command, bool adjustment, int argc, char **argv, s_args_t *args)
{
    args->send.timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    tly_flag_t adjustment_flags [] = { CLI_SEND_FLAGS (&args->send),
                                       TLY_FLAG_TEXT ("--user", &args->user),
                                       TLY_FLAG_INT_GIVEN ("--amount", &args->amount, INT64_MIN,
                                                           INT64_MAX, &args->has_amount),
                                       TLY_FLAG_TEXT ("--reference", &args->reference),
                                       TLY_FLAG_TEXT ("--note", &args->note),
                                       TLY_FLAG_HELP };
    tly_flag_t admin_flags [] = { CLI_SEND_FLAGS (&args->send),
                                  TLY_FLAG_TEXT ("--account", &args->account), TLY_FLAG_HELP };
    if (adjustment)
        return cli_parse_flags (command, s_usage, adjustment_flags,
                                sizeof adjustment_flags / sizeof adjustment_flags [0], argc, argv,
                                NULL);
    return cli_parse_flags (command, s_usage, admin_flags,
                            sizeof admin_flags / sizeof admin_flags [0], argc, argv, NULL);
}

//  Builds the credit or debit the arguments describe. The amount's range
//  is the cluster's to check, as for `tally send`. Returns -1 to go on, or
//  the exit code.
static int
s_adjustment (const char *command, bool credit, const s_args_t *args, tly_msg_t *msg)
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

//  Builds the admin change. Returns -1 to go on, or the exit code.
static int
s_admin (const char *command, bool add, const s_args_t *args, tly_msg_t *msg)
{
    if (!args->account) {
        fprintf (stderr, "%s: --account is required\n", command);
        return CLI_EXIT_USAGE;
    }
    tly_error_t error;
    int rc = add ? tly_msg_add_admin (msg, args->account, &error)
                 : tly_msg_remove_admin (msg, args->account, &error);
    if (rc == 0)
        return -1;
    fprintf (stderr, "%s: --account: %s\n", command, error.message);
    return CLI_EXIT_USAGE;
}

int
cli_admin (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    const char *verbs [] = { "credit", "debit", "add", "remove" };
    size_t verb = 0;
    while (argc >= 2 && verb < 4 && strcmp (argv [1], verbs [verb]) != 0)
        verb++;
    if (argc < 2 || verb == 4) {
        fprintf (stderr, "tally admin: expected 'credit', 'debit', 'add' or 'remove'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    bool adjustment = verb < 2;
    char command [64];
    snprintf (command, sizeof command, "tally admin %s", argv [1]);
    s_args_t args = { 0 };
    int rc = s_parse (command, adjustment, argc - 1, argv + 1, &args);
    if (rc != -1)
        return rc;
    tly_msg_t msg;
    rc = adjustment ? s_adjustment (command, verb == 0, &args, &msg)
                    : s_admin (command, verb == 2, &args, &msg);
    if (rc != -1)
        return rc;
    //  Only the worker may change the admin group: another account is
    //  refused here. Whether an account is an admin is the cluster's to say.
    return cli_send_one (command, &args.send, &msg, !adjustment);
}
