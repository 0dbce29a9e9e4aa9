//  tally admin - what the worker and its admins may do: credit and debit a
//  user's balance, refund a purchase, complete or fail an order (the worker
//  or an admin), add and remove an admin (the worker only). Signed with the account of
//  --account-file and sent like `tally send`.
#include "cli.h"

#include <string.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally admin credit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "       tally admin debit --user co_z... --amount N --reference REF [--note TEXT] "
           "[options]\n"
           "       tally admin refund --purchase co_z... [--reason TEXT] [options]\n"
           "       tally admin complete ORDER_ID [options]\n"
           "       tally admin fail ORDER_ID [--error TEXT] [options]\n"
           "       tally admin add --account co_z... [options]\n"
           "       tally admin remove --account co_z... [options]\n"
           "\n"
           "credit, debit: as the worker or an admin, adds N minor units to a user's balance\n"
           "(credit) or takes them from it (debit; never below 0). The reference names the\n"
           "payment or event (1..128 bytes): a credit or debit with a reference the user\n"
           "already has is answered with the first one and changes nothing, so sending again\n"
           "is safe.\n"
           "refund: as the worker or an admin, gives a purchase's amount back to its user, once\n"
           "(a credit with reference refund:PURCHASE_ID); a second refund of the same purchase\n"
           "is refused ALREADY_REFUNDED. The purchase's record then shows the refund.\n"
           "complete, fail: as the worker or an admin (what the order processor does), ends\n"
           "an order in processing: complete captures its hold (one purchase per item), fail\n"
           "releases it, the error shown to the user. Another status is refused\n"
           "INVALID_TRANSITION.\n"
           "add, remove: as the worker, adds an account to the admin group or removes it. An\n"
           "admin may credit, debit, refund and set prices (`tally catalog set`). Adding an\n"
           "admin twice, or removing one who is not, changes nothing.\n"
           "\n"
           "options:\n"
           "  --user co_z...        credit, debit: the account whose balance changes\n"
           "  --amount N            credit, debit: minor units, 1..9007199254740991 (2^53 - 1)\n"
           "  --reference REF       credit, debit: the payment's or event's ID, 1..128 bytes\n"
           "  --note TEXT           credit, debit: shown to the user, 0..256 bytes (default "
           "none)\n"
           "  --purchase co_z...    refund: the purchase's ID (as a buy's result names it)\n"
           "  --reason TEXT         refund: shown to the user, 0..256 bytes (default none)\n"
           "  --error TEXT          fail: why, shown to the user, 0..256 bytes (default none)\n"
           "  --account co_z...     add, remove: the admin's account ID\n" CLI_SEND_GATEWAY_USAGE
           "  --account-file FILE   the sender's account: the worker's (tally up keeps it in\n"
           "                        DIR/worker.json), or for credit, debit, refund,\n"
           "                        complete and fail an admin's (default: $" TLY_ENV_ACCOUNT
           " and $" TLY_ENV_SECRET ");\n"
           "                        for add and remove another account than the worker's is\n"
           "                        refused before anything is sent\n" CLI_SEND_TIMEOUT_USAGE "\n"
           "Exit status: 0 done, 1 refused (e.g. INSUFFICIENT_BALANCE, NO_ACCOUNT,\n"
           "PERMISSION_DENIED, ALREADY_REFUNDED, INVALID_TRANSITION), 2 usage error or no\n"
           "answer.\n",
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
    const char *purchase;
    const char *reason;
    const char *error;
    const char *order_id;
} s_args_t;

//  The verbs, in the order of their names.
typedef enum {
    VERB_CREDIT,
    VERB_DEBIT,
    VERB_REFUND,
    VERB_COMPLETE,
    VERB_FAIL,
    VERB_ADD,
    VERB_REMOVE,
    VERB_COUNT
} s_verb_t;

static const char *s_verbs [VERB_COUNT] = { "credit", "debit", "refund", "complete",
                                            "fail",   "add",   "remove" };

//  Returns -1 to go on, or the exit code. A credit or debit takes its
//  fields, a refund its purchase and reason, an admin change its account.
static int
s_parse (const char *command, s_verb_t verb, int argc, char **argv, s_args_t *args)
{
    args->send.timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    tly_flag_t adjustment_flags [] = { CLI_SEND_FLAGS (&args->send),
                                       TLY_FLAG_TEXT ("--user", &args->user),
                                       TLY_FLAG_INT_GIVEN ("--amount", &args->amount, INT64_MIN,
                                                           INT64_MAX, &args->has_amount),
                                       TLY_FLAG_TEXT ("--reference", &args->reference),
                                       TLY_FLAG_TEXT ("--note", &args->note),
                                       TLY_FLAG_HELP };
    tly_flag_t refund_flags [] = { CLI_SEND_FLAGS (&args->send),
                                   TLY_FLAG_TEXT ("--purchase", &args->purchase),
                                   TLY_FLAG_TEXT ("--reason", &args->reason), TLY_FLAG_HELP };
    tly_flag_t admin_flags [] = { CLI_SEND_FLAGS (&args->send),
                                  TLY_FLAG_TEXT ("--account", &args->account), TLY_FLAG_HELP };
    tly_flag_t complete_flags [] = { CLI_SEND_FLAGS (&args->send), TLY_FLAG_HELP };
    tly_flag_t fail_flags [] = { CLI_SEND_FLAGS (&args->send),
                                 TLY_FLAG_TEXT ("--error", &args->error), TLY_FLAG_HELP };
    if (verb == VERB_COMPLETE || verb == VERB_FAIL) {
        bool complete = verb == VERB_COMPLETE;
        const tly_flag_t *flags = complete ? complete_flags : fail_flags;
        size_t count = complete ? sizeof complete_flags / sizeof complete_flags [0]
                                : sizeof fail_flags / sizeof fail_flags [0];
        int operand;
        int rc = cli_parse_flags (command, s_usage, flags, count, argc, argv, &operand);
        if (rc != -1)
            return rc;
        return cli_order_operand (command, argc, argv, operand, &args->order_id);
    }
    if (verb == VERB_CREDIT || verb == VERB_DEBIT)
        return cli_parse_flags (command, s_usage, adjustment_flags,
                                sizeof adjustment_flags / sizeof adjustment_flags [0], argc, argv,
                                NULL);
    if (verb == VERB_REFUND)
        return cli_parse_flags (command, s_usage, refund_flags,
                                sizeof refund_flags / sizeof refund_flags [0], argc, argv, NULL);
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

//  Builds the refund. Returns -1 to go on, or the exit code.
static int
s_refund (const char *command, const s_args_t *args, tly_msg_t *msg)
{
    if (!args->purchase) {
        fprintf (stderr, "%s: --purchase is required\n", command);
        return CLI_EXIT_USAGE;
    }
    tly_error_t error;
    if (tly_msg_refund (msg, args->purchase, args->reason, &error) == 0)
        return -1;
    fprintf (stderr, "%s: %s: %s\n", command,
             error.code == TALLY__ERROR_CODE__INVALID_NOTE ? "--reason" : "--purchase",
             error.message);
    return CLI_EXIT_USAGE;
}

//  Builds the completion or the failure. Returns -1 to go on, or the exit code.
static int
s_order (const char *command, bool complete, const s_args_t *args, tly_msg_t *msg)
{
    tly_error_t error;
    int rc = complete ? tly_msg_complete_order (msg, args->order_id, &error)
                      : tly_msg_fail_order (msg, args->order_id, args->error, &error);
    if (rc == 0)
        return -1;
    fprintf (stderr, "%s: %s: %s\n", command,
             error.code == TALLY__ERROR_CODE__INVALID_NOTE ? "--error" : "ORDER_ID", error.message);
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
    s_verb_t verb = VERB_CREDIT;
    while (argc >= 2 && verb < VERB_COUNT && strcmp (argv [1], s_verbs [verb]) != 0)
        verb++;
    if (argc < 2 || verb == VERB_COUNT) {
        fprintf (stderr, "tally admin: expected 'credit', 'debit', 'refund', 'complete', 'fail', "
                         "'add' or 'remove'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    char command [64];
    snprintf (command, sizeof command, "tally admin %s", argv [1]);
    s_args_t args = { 0 };
    int rc = s_parse (command, verb, argc - 1, argv + 1, &args);
    if (rc != -1)
        return rc;
    tly_msg_t msg;
    bool admin_change = verb == VERB_ADD || verb == VERB_REMOVE;
    bool order = verb == VERB_COMPLETE || verb == VERB_FAIL;
    rc = verb == VERB_REFUND ? s_refund (command, &args, &msg)
         : order             ? s_order (command, verb == VERB_COMPLETE, &args, &msg)
         : admin_change      ? s_admin (command, verb == VERB_ADD, &args, &msg)
                             : s_adjustment (command, verb == VERB_CREDIT, &args, &msg);
    if (rc != -1)
        return rc;
    //  Only the worker may change the admin group: another account is
    //  refused here. Whether an account is an admin is the cluster's to say.
    return cli_send_one (command, &args.send, &msg, admin_change);
}
