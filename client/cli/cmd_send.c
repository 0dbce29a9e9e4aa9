//  tally send - sign one inbox message, send it through a gateway, print the reply.
#include "cli.h"

#include <limits.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fputs (
        "usage: tally send create-account --initial N [options]\n"
        "       tally send buy --item ITEM [--amount N] [options]\n"
        "\n"
        "A buy without --amount (or with --amount 0) is charged the item's catalog price\n"
        "(`tally catalog list`); with it, the amount must be that price (else\n"
        "PRICE_MISMATCH), or name the price of an item not in the catalog where the\n"
        "cluster has open prices.\n"
        "\n"
        "options:\n" CLI_SEND_GATEWAY_USAGE
        "  --account-file FILE   your account, as `tally account create --json` writes it\n"
        "                        (default: $" TLY_ENV_ACCOUNT " and $" TLY_ENV_SECRET
        ")\n" CLI_SEND_TIMEOUT_USAGE "\n"
        "Exit status: 0 done, 1 refused (e.g. INSUFFICIENT_BALANCE, UNKNOWN_ITEM), 2 usage error\n"
        "or no answer.\n",
        out);
}

typedef struct {
    cli_send_options_t send;
    bool has_initial;
    int64_t initial;
    const char *item;
    bool has_amount;
    int64_t amount;
} s_args_t;

//  Returns -1 to go on, or the exit code.
static int
s_parse (const char *command, int argc, char **argv, s_args_t *args)
{
    args->send.timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    tly_flag_t flags [] = {
        CLI_SEND_FLAGS (&args->send),
        TLY_FLAG_INT_GIVEN ("--initial", &args->initial, INT64_MIN, INT64_MAX, &args->has_initial),
        TLY_FLAG_TEXT ("--item", &args->item),
        TLY_FLAG_INT_GIVEN ("--amount", &args->amount, INT64_MIN, INT64_MAX, &args->has_amount),
        TLY_FLAG_HELP
    };
    return cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                            NULL);
}

//  Builds the one message the arguments describe. Returns -1 to go on, or the exit code.
static int
s_message (const char *command, const char *kind, const s_args_t *args, tly_msg_t *msg)
{
    if (strcmp (kind, "create-account") == 0) {
        if (!args->has_initial) {
            fprintf (stderr, "%s: --initial is required\n", command);
            return CLI_EXIT_USAGE;
        }
        if (args->item || args->has_amount) {
            fprintf (stderr, "%s: --item and --amount belong to `tally send buy`\n", command);
            return CLI_EXIT_USAGE;
        }
        tly_msg_create_account (msg, args->initial);
        return -1;
    }
    if (!args->item) {
        fprintf (stderr, "%s: --item is required\n", command);
        return CLI_EXIT_USAGE;
    }
    if (args->has_initial) {
        fprintf (stderr, "%s: --initial belongs to `tally send create-account`\n", command);
        return CLI_EXIT_USAGE;
    }
    //  No amount: 0, the catalog price.
    if (tly_msg_buy (msg, args->item, args->has_amount ? args->amount : 0) == -1) {
        fprintf (stderr, "%s: --item: longer than %d bytes\n", command, TLY_MSG_ITEM_CAP);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

int
cli_send (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || (strcmp (argv [1], "create-account") != 0 && strcmp (argv [1], "buy") != 0)) {
        fprintf (stderr, "tally send: expected 'create-account' or 'buy'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    const char *kind = argv [1];
    char command [64];
    snprintf (command, sizeof command, "tally send %s", kind);
    s_args_t args = { 0 };
    int rc = s_parse (command, argc - 1, argv + 1, &args);
    if (rc != -1)
        return rc;
    tly_msg_t msg;
    rc = s_message (command, kind, &args, &msg);
    if (rc != -1)
        return rc;
    return cli_send_one (command, &args.send, &msg, false);
}
