//  tally catalog - the price catalog: set an item's price (the worker or an
//  admin), list the items (anyone: the Catalog object, read once).
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

//  How long `list` waits for the gateway to confirm the unsubscribe.

static void
s_usage (FILE *out)
{
    fputs ("usage: tally catalog set ITEM --price N [--inactive] [options]\n"
           "       tally catalog list [options]\n"
           "\n"
           "set: as the worker or an admin, sets ITEM's price in minor units\n"
           "(1..9007199254740991) and puts it on sale, or with --inactive takes it off sale\n"
           "(its buys are refused UNKNOWN_ITEM; the item stays in the catalog). A buy without\n"
           "an amount (`tally send buy --item ITEM`) is charged the price; one that names\n"
           "another amount is refused PRICE_MISMATCH.\n"
           "list: prints the catalog, which anyone may read: every item ever priced, its\n"
           "price and whether it is on sale, one line each.\n"
           "\n"
           "options:\n"
           "  --price N             set: minor units, 1..9007199254740991 (2^53 - 1)\n"
           "  --inactive            set: not for sale\n" CLI_SEND_GATEWAY_USAGE
           "  --account-file FILE   set: the worker's or an admin's account; list: any\n"
           "                        account, to sign the read (default: $" TLY_ENV_ACCOUNT " and\n"
           "                        $" TLY_ENV_SECRET ")\n"
           "  --timeout-ms MS       give up after MS milliseconds (default 10000); set resends\n"
           "                        the same signed message within it, which is safe\n"
           "  --json                set: {\"ok\":..,\"result\"|\"error\":..}; list: one object,\n"
           "                        {\"id\":..,\"version\":N,\"configVersion\":N,\"items\":[..]}\n"
           "\n"
           "Exit status: 0 done, 1 refused (e.g. PERMISSION_DENIED, INVALID_PRICE), 2 usage\n"
           "error or no answer.\n",
           out);
}

//  ---------------------------------------------------------------- set

static int
s_set (const char *command, int argc, char **argv)
{
    cli_send_options_t send = { .timeout_ms = CLI_TIMEOUT_MS_DEFAULT };
    bool has_price = false, inactive = false;
    int64_t price = 0;
    tly_flag_t flags [] = { CLI_SEND_FLAGS (&send),
                            TLY_FLAG_INT_GIVEN ("--price", &price, INT64_MIN, INT64_MAX,
                                                &has_price),
                            TLY_FLAG_BOOL ("--inactive", &inactive), TLY_FLAG_HELP };
    int operand;
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                              &operand);
    if (rc != -1)
        return rc;
    if (operand == argc) {
        fprintf (stderr, "%s: which item? tally catalog set ITEM --price N\n", command);
        return CLI_EXIT_USAGE;
    }
    if (operand + 1 < argc)
        return cli_unexpected (command, argv [operand + 1]);
    if (!has_price) {
        fprintf (stderr, "%s: --price is required\n", command);
        return CLI_EXIT_USAGE;
    }
    //  The price's range and the item's rules are the cluster's to check,
    //  as a buy's amount is.
    tly_msg_t msg;
    tly_error_t error;
    if (tly_msg_set_price (&msg, argv [operand], price, !inactive, &error) == -1) {
        fprintf (stderr, "%s: ITEM: %s\n", command, error.message);
        return CLI_EXIT_USAGE;
    }
    return cli_send_one (command, &send, &msg, false);
}

//  ---------------------------------------------------------------- list

typedef struct {
    bool taken;
    char id [TLY_ID_MAX];
    uint64_t version;
    tly_catalog_t catalog;  //  items allocated here
} s_list_t;

//  Keeps the first version (the snapshot) past the callback.
static void
s_on_catalog (const tly_object_t *object, void *arg)
{
    s_list_t *list = arg;
    if (list->taken || object->ended || object->kind != TLY_OBJ_CATALOG)
        return;
    list->taken = true;
    snprintf (list->id, sizeof list->id, "%s", object->id);
    list->version = object->version;
    list->catalog = object->catalog;
    list->catalog.items = NULL;
    if (object->catalog.item_count > 0) {
        size_t size = object->catalog.item_count * sizeof *object->catalog.items;
        list->catalog.items = malloc (size);
        assert (list->catalog.items);
        memcpy (list->catalog.items, object->catalog.items, size);
    }
}

static void
s_print_list (const s_list_t *list, bool json)
{
    const tly_catalog_t *catalog = &list->catalog;
    if (json) {
        fputs ("{\"id\":", stdout);
        cli_json_string (stdout, list->id);
        printf (",\"version\":%" PRIu64 ",\"configVersion\":%" PRIu64 ",\"items\":[", list->version,
                catalog->config_version);
        for (size_t i = 0; i < catalog->item_count; i++) {
            if (i > 0)
                fputc (',', stdout);
            cli_json_catalog_item (stdout, catalog->items [i].item_id, catalog->items [i].price,
                                   catalog->items [i].active);
        }
        fputs ("]}\n", stdout);
        return;
    }
    printf ("catalog %s v%" PRIu64 " configVersion %" PRIu64 " items %zu\n", list->id,
            list->version, catalog->config_version, catalog->item_count);
    for (size_t i = 0; i < catalog->item_count; i++) {
        cli_text_catalog_item (stdout, catalog->items [i].item_id, catalog->items [i].price,
                               catalog->items [i].active);
        fputc ('\n', stdout);
    }
}

static int
s_list (const char *command, int argc, char **argv)
{
    cli_send_options_t options = { .timeout_ms = CLI_TIMEOUT_MS_DEFAULT };
    tly_flag_t flags [] = { CLI_SEND_FLAGS (&options), TLY_FLAG_HELP };
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                              NULL);
    if (rc != -1)
        return rc;
    const char *worker;
    tly_account_t account;
    rc = cli_identity (command, options.worker, options.account_file, &worker, &account);
    if (rc != -1)
        return rc;
    uint8_t worker_pk [TLY_KEY_BYTES];
    int parsed = tly_account_id_parse (worker, worker_pk);
    assert (parsed == 0);  //  cli_identity checked it
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (worker_pk, catalog_id);
    s_list_t list = { .taken = false };
    rc = cli_read_snapshot (command, &options, worker, &account, catalog_id, s_on_catalog, &list);
    if (rc == -1) {
        assert (list.taken);
        s_print_list (&list, options.json);
        rc = CLI_EXIT_OK;
    }
    free (list.catalog.items);
    return rc;
}

int
cli_catalog (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || (strcmp (argv [1], "set") != 0 && strcmp (argv [1], "list") != 0)) {
        fprintf (stderr, "tally catalog: expected 'set' or 'list'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    char command [64];
    snprintf (command, sizeof command, "tally catalog %s", argv [1]);
    return strcmp (argv [1], "set") == 0 ? s_set (command, argc - 1, argv + 1)
                                         : s_list (command, argc - 1, argv + 1);
}
