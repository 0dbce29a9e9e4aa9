//  tally account create - a fresh account: Ed25519 signer + X25519 sealer.
#include "cli.h"
#include "tly_account_load.h"

#include <sodium.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fputs ("usage: tally account create --name NAME [--json]\n"
           "\n"
           "Generates an account and prints its ID and secret:\n"
           "  " TLY_ENV_WORKER_ACCOUNT "=co_z...\n"
           "  " TLY_ENV_WORKER_SECRET "=sealerSecret_z.../signerSecret_z...\n"
           "With --json prints {\"account\":..,\"secret\":..,\"name\":..} instead, the\n"
           "format `tally send --account-file` reads (save it with mode 0600).\n"
           "Keep the secret like any other credential.\n",
           out);
}

int
cli_account (int argc, char **argv)
{
    const char *command = "tally account create";
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp (argv [1], "create") != 0) {
        fprintf (stderr, "tally account: expected 'create'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = NULL;
    bool json = false;
    tly_flag_t flags [] = { TLY_FLAG_TEXT ("--name", &name), TLY_FLAG_BOOL ("--json", &json),
                            TLY_FLAG_HELP };
    int operand;
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc - 1,
                              argv + 1, &operand);
    if (rc != -1)
        return rc;
    if (operand < argc - 1)
        return cli_unexpected (command, argv [operand + 1]);
    if (!name || !*name) {
        fprintf (stderr, "%s: --name is required\n", command);
        return CLI_EXIT_USAGE;
    }
    tly_account_t account;
    if (tly_account_generate (&account) == -1) {
        fprintf (stderr, "%s: cannot generate keys (libsodium failed)\n", command);
        return CLI_EXIT_USAGE;
    }
    char id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (account.sign_pk, id);
    tly_account_secret (&account, secret);
    if (json)
        cli_json_account (stdout, id, secret, name);
    else
        printf (TLY_ENV_WORKER_ACCOUNT "=%s\n" TLY_ENV_WORKER_SECRET "=%s\n", id, secret);
    sodium_memzero (&account, sizeof account);
    sodium_memzero (secret, sizeof secret);
    return CLI_EXIT_OK;
}
