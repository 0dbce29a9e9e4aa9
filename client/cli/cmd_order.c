//  tally order - a user's orders (docs/protocol.md, "Orders"): create one,
//  edit it, submit it (signed and sent like `tally send`), show one or list
//  them (a one-shot read, like `tally catalog list`). Completing and
//  failing are the worker's: `tally admin complete|fail`.
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

//  How long show and list wait for the gateway to confirm the unsubscribe.

static void
s_usage (FILE *out)
{
    fputs (
        "usage: tally order create --item ITEM[=AMOUNT] [--item ...] [options]\n"
        "       tally order edit ORDER_ID --item ITEM[=AMOUNT] [--item ...] [options]\n"
        "       tally order submit ORDER_ID [options]\n"
        "       tally order show ORDER_ID [options]\n"
        "       tally order list [options]\n"
        "\n"
        "create: a new order in draft with 1..16 items; ITEM alone is charged its catalog\n"
        "price, ITEM=AMOUNT names the price (the catalog's, or where the cluster has open\n"
        "prices, that of an item not in it). edit: replaces a draft's items. submit: holds\n"
        "the order's total on your balance and hands the order to the order processor,\n"
        "which completes it (the hold captured, one purchase per item) or fails it (the\n"
        "hold released, its error says why). show: the order as it now is, with its\n"
        "items. list: your latest 32 orders, oldest first. Each order prints as\n"
        "'order ID STATUS total N items K [error E]'.\n"
        "\n"
        "options:\n"
        "  --item ITEM[=AMOUNT]  create, edit: one item of the order, 1..16 of them (the\n"
        "                        last '=' starts the amount; none: the catalog price)\n"
        "  --partitions N        list: the cluster's partition count (default "
        "256)\n" CLI_SEND_GATEWAY_USAGE
        "  --account-file FILE   your account, as `tally account create --json` writes it\n"
        "                        (default: $" TLY_ENV_ACCOUNT " and $" TLY_ENV_SECRET
        ")\n" CLI_SEND_TIMEOUT_USAGE
        "                        (show, list: {\"id\":..,\"version\":N,\"order\"|\"orders\":..})\n"
        "\n"
        "Exit status: 0 done, 1 refused (e.g. INSUFFICIENT_BALANCE, INVALID_TRANSITION,\n"
        "ORDER_LIMIT, NOT_FOUND), 2 usage error or no answer.\n",
        out);
}

typedef enum {
    VERB_CREATE,
    VERB_EDIT,
    VERB_SUBMIT,
    VERB_SHOW,
    VERB_LIST,
    VERB_COUNT
} s_verb_t;

static const char *s_verbs [VERB_COUNT] = { "create", "edit", "submit", "show", "list" };

typedef struct {
    cli_send_options_t send;
    cli_order_items_t items;
    int64_t partitions;
    const char *order_id;
} s_args_t;

//  Returns -1 to go on, or the exit code. create and list take no operand,
//  the others the order's ID; create and edit take items, list partitions.
static int
s_parse (const char *command, s_verb_t verb, int argc, char **argv, s_args_t *args)
{
    args->send.timeout_ms = CLI_TIMEOUT_MS_DEFAULT;
    args->partitions = TLY_PARTITIONS_DEFAULT;
    tly_flag_t item_flags [] = { CLI_SEND_FLAGS (&args->send),
                                 TLY_FLAG_CALL ("--item", cli_take_item, &args->items, NULL),
                                 TLY_FLAG_HELP };
    tly_flag_t list_flags [] = {
        CLI_SEND_FLAGS (&args->send),
        TLY_FLAG_INT ("--partitions", &args->partitions, 1, TLY_PARTITIONS_MAX), TLY_FLAG_HELP
    };
    tly_flag_t plain_flags [] = { CLI_SEND_FLAGS (&args->send), TLY_FLAG_HELP };
    bool items = verb == VERB_CREATE || verb == VERB_EDIT;
    const tly_flag_t *flags = items ? item_flags : verb == VERB_LIST ? list_flags : plain_flags;
    size_t count = items               ? sizeof item_flags / sizeof item_flags [0]
                   : verb == VERB_LIST ? sizeof list_flags / sizeof list_flags [0]
                                       : sizeof plain_flags / sizeof plain_flags [0];
    bool operand_taken = verb != VERB_CREATE && verb != VERB_LIST;
    int operand;
    int rc = cli_parse_flags (command, s_usage, flags, count, argc, argv,
                              operand_taken ? &operand : NULL);
    if (rc != -1)
        return rc;
    if (operand_taken) {
        rc = cli_order_operand (command, argc, argv, operand, &args->order_id);
        if (rc != -1)
            return rc;
    }
    if (items && args->items.count == 0) {
        fprintf (stderr, "%s: --item is required (1..%d of them)\n", command, TLY_ORDER_ITEMS_MAX);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

//  Builds the message the arguments describe (the order's ID checked
//  already: what is refused here is an --item). Returns -1 to go on, or the
//  exit code.
static int
s_message (const char *command, s_verb_t verb, const s_args_t *args, tly_msg_t *msg)
{
    tly_error_t error;
    const cli_order_items_t *items = &args->items;
    int rc = verb == VERB_CREATE ? tly_msg_create_order (msg, items->items, items->count, &error)
             : verb == VERB_EDIT
                 ? tly_msg_edit_order (msg, args->order_id, items->items, items->count, &error)
                 : tly_msg_submit_order (msg, args->order_id, &error);
    if (rc == 0)
        return -1;
    fprintf (stderr, "%s: --item: %s\n", command, error.message);
    return CLI_EXIT_USAGE;
}

//  ---------------------------------------------------------------- show, list

//  The snapshot, kept past the callback.
typedef struct {
    bool taken;
    tly_object_kind_t kind;
    char id [TLY_ID_MAX];
    uint64_t version;
    tly_order_t order;      //  show
    tly_order_list_t list;  //  list: orders allocated here
} s_read_t;

static void
s_on_object (const tly_object_t *object, void *arg)
{
    s_read_t *read = arg;
    if (read->taken || object->ended || object->kind != read->kind)
        return;
    read->taken = true;
    snprintf (read->id, sizeof read->id, "%s", object->id);
    read->version = object->version;
    if (object->kind == TLY_OBJ_ORDER) {
        read->order = object->order;
        return;
    }
    read->list = object->orders;
    read->list.orders = NULL;
    if (object->orders.order_count > 0) {
        size_t size = object->orders.order_count * sizeof *object->orders.orders;
        read->list.orders = malloc (size);
        assert (read->list.orders);
        memcpy (read->list.orders, object->orders.orders, size);
    }
}

static void
s_print_read (const s_read_t *read, bool json)
{
    if (json) {
        fputs ("{\"id\":", stdout);
        cli_json_string (stdout, read->id);
        printf (",\"version\":%" PRIu64, read->version);
        if (read->kind == TLY_OBJ_ORDER) {
            fputs (",\"order\":", stdout);
            cli_json_order (stdout, &read->order);
        } else {
            fputs (",\"userId\":", stdout);
            cli_json_string (stdout, read->list.user_id);
            printf (",\"count\":%" PRIu64 ",\"orders\":", read->list.count);
            cli_json_order_summaries (stdout, read->list.orders, read->list.order_count);
        }
        fputs ("}\n", stdout);
        return;
    }
    if (read->kind == TLY_OBJ_ORDER) {
        cli_text_order (stdout, &read->order);
        fputc ('\n', stdout);
        cli_text_order_lines (stdout, &read->order);
        return;
    }
    printf ("orders %s v%" PRIu64 " count %" PRIu64 " shown %zu\n", read->id, read->version,
            read->list.count, read->list.order_count);
    for (size_t i = 0; i < read->list.order_count; i++) {
        cli_text_order_summary (stdout, &read->list.orders [i]);
        fputc ('\n', stdout);
    }
}

//  Subscribes to the order (show) or the account's OrderList (list), prints
//  the snapshot and unsubscribes.
static int
s_read (const char *command, s_verb_t verb, const s_args_t *args)
{
    s_read_t read = { .kind = verb == VERB_SHOW ? TLY_OBJ_ORDER : TLY_OBJ_ORDER_LIST };
    char object_id [TLY_ID_MAX];
    if (verb == VERB_SHOW)
        snprintf (object_id, sizeof object_id, "%s", args->order_id);
    const cli_send_options_t *options = &args->send;
    const char *worker;
    tly_account_t account;
    int rc = cli_identity (command, options->worker, options->account_file, &worker, &account);
    if (rc != -1)
        return rc;
    if (verb == VERB_LIST)
        tly_orders_id (account.sign_pk, (uint32_t) args->partitions, object_id);
    rc = cli_read_snapshot (command, options, worker, &account, object_id, s_on_object, &read);
    if (rc == -1) {
        assert (read.taken);
        s_print_read (&read, options->json);
        rc = CLI_EXIT_OK;
    }
    free (read.list.orders);
    return rc;
}

int
cli_order (int argc, char **argv)
{
    if (argc >= 2 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        s_usage (stdout);
        return CLI_EXIT_OK;
    }
    s_verb_t verb = VERB_CREATE;
    while (argc >= 2 && verb < VERB_COUNT && strcmp (argv [1], s_verbs [verb]) != 0)
        verb++;
    if (argc < 2 || verb == VERB_COUNT) {
        fprintf (stderr, "tally order: expected 'create', 'edit', 'submit', 'show' or 'list'\n");
        s_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    char command [64];
    snprintf (command, sizeof command, "tally order %s", argv [1]);
    s_args_t args = { .partitions = 0 };
    int rc = s_parse (command, verb, argc - 1, argv + 1, &args);
    if (rc != -1)
        return rc;
    if (verb == VERB_SHOW || verb == VERB_LIST)
        return s_read (command, verb, &args);
    tly_msg_t msg;
    rc = s_message (command, verb, &args, &msg);
    if (rc != -1)
        return rc;
    return cli_send_one (command, &args.send, &msg, false);
}
