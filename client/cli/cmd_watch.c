//  tally watch - follow an object through a gateway: its snapshot, then
//  each change as it happens, one line each.
#include "cli.h"

#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>

#include "tly_wire.h"

#define WATCH_COUNT_MAX      1000000000
#define WATCH_TIMEOUT_MS_MAX (366LL * 24 * 3600 * 1000)  //  a year
//  Longest wait before a stop request is looked at again.
#define WATCH_SLICE_MS       200

static volatile sig_atomic_t s_stop;

static void
s_usage (FILE *out)
{
    fputs ("usage: tally watch balance [options]      your balance, as it changes\n"
           "       tally watch purchases [options]    your history (purchases, credits, debits):\n"
           "                                          the latest entries, then each new one\n"
           "       tally watch catalog [options]      the price catalog, as prices change\n"
           "       tally watch orders [options]       your latest orders, as they change\n"
           "       tally watch co_z... [options]      any object you may read\n"
           "\n"
           "Prints one line per snapshot or update (per history entry for `purchases`), checking\n"
           "the worker's signature on each. After a gateway restart or a resync a fresh\n"
           "snapshot line follows (for `purchases`: only entries not printed yet). A refunded\n"
           "purchase ends with 'refunded by ID at TIME' (its record's version 2), a refund's\n"
           "entry starts with 'refund'. A balance shows held, the total of your orders\n"
           "processing (available: balance - held); an order its status, items and error.\n"
           "\n"
           "options:\n"
           "  --gateway ENDPOINT    gateway to use (default $" TLY_ENV_GATEWAY
           ", else " TLY_ENDPOINT_GATEWAY ")\n" CLI_GATEWAY_KEY_USAGE
           "  --worker co_z...      the worker whose signature objects carry (default "
           "$" TLY_ENV_WORKER_ACCOUNT ")\n"
           "  --account-file FILE   your account, as `tally account create --json` writes it\n"
           "                        (default: $" TLY_ENV_ACCOUNT " and $" TLY_ENV_SECRET ")\n"
           "  --partitions N        the cluster's partition count (default 256)\n"
           "  --count N             stop after N lines\n"
           "  --timeout S           stop after S seconds (decimals allowed)\n"
           "  --json                one JSON object per line:\n"
           "                        "
           "{\"event\":\"snapshot\"|\"update\",\"kind\":..,\"version\":N,\"object\":{..}}\n"
           "\n"
           "Exit status: 0 stopped (--count reached, --timeout without --count, Ctrl-C),\n"
           "1 refused or ended (e.g. PERMISSION_DENIED, NOT_FOUND) or --timeout before --count,\n"
           "2 usage error or no answer from the gateway.\n",
           out);
}

typedef enum {
    TARGET_BALANCE,
    TARGET_PURCHASES,
    TARGET_OBJECT
} s_target_t;

typedef struct {
    const char *gateway;
    const char *gateway_key;
    const char *worker;
    const char *account_file;
    int64_t partitions;
    bool has_count;
    int64_t count;
    bool has_timeout;
    int64_t timeout_ms;
    bool json;
    const char *target;
} s_args_t;

typedef struct {
    s_args_t args;
    int64_t lines;                 //  printed so far
    uint64_t printed;              //  purchases: position of the last entry printed
    char balance_id [TLY_ID_MAX];  //  balance: read from the root
    char catalog_id [TLY_ID_MAX];  //  catalog: the worker's Catalog object
    bool ended;                    //  the gateway ended the subscription ...
    tly_error_t end;               //  ... and why
} s_watch_t;

static void
s_on_signal (int signal)
{
    (void) signal;
    s_stop = 1;
}

//  --timeout S: seconds, with decimals, into milliseconds.
static int
s_take_timeout (const char *command, const char *text, void *timeout_ms)
{
    if (cli_parse_seconds (text, WATCH_TIMEOUT_MS_MAX, timeout_ms) == 0)
        return 0;
    fprintf (stderr, "%s: --timeout: not a number of seconds in (0, %lld]: '%s'\n", command,
             WATCH_TIMEOUT_MS_MAX / 1000, text);
    return -1;
}

//  Returns -1 to go on, or the exit code.
static int
s_parse (const char *command, int argc, char **argv, s_args_t *args)
{
    args->partitions = TLY_PARTITIONS_DEFAULT;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--gateway", &args->gateway),
        TLY_FLAG_TEXT ("--gateway-key", &args->gateway_key),
        TLY_FLAG_TEXT ("--worker", &args->worker),
        TLY_FLAG_TEXT ("--account-file", &args->account_file),
        TLY_FLAG_INT ("--partitions", &args->partitions, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_INT_GIVEN ("--count", &args->count, 1, WATCH_COUNT_MAX, &args->has_count),
        TLY_FLAG_CALL ("--timeout", s_take_timeout, &args->timeout_ms, &args->has_timeout),
        TLY_FLAG_BOOL ("--json", &args->json),
        TLY_FLAG_HELP
    };
    int operand;
    int rc = cli_parse_flags (command, s_usage, flags, sizeof flags / sizeof flags [0], argc, argv,
                              &operand);
    if (rc != -1)
        return rc;
    if (operand == argc) {
        fprintf (stderr, "%s: what to watch? balance, purchases, catalog, orders or an object ID\n",
                 command);
        return CLI_EXIT_USAGE;
    }
    if (operand + 1 < argc)
        return cli_unexpected (command, argv [operand + 1]);
    args->target = argv [operand];
    return -1;
}

//  ---------------------------------------------------------------- output

static const char *
s_kind_name (tly_object_kind_t kind)
{
    return kind == TLY_OBJ_BALANCE        ? "balance"
           : kind == TLY_OBJ_PURCHASE     ? "purchase"
           : kind == TLY_OBJ_ROOT         ? "root"
           : kind == TLY_OBJ_PURCHASE_LOG ? "purchases"
           : kind == TLY_OBJ_SERVICE      ? "service"
           : kind == TLY_OBJ_ADJUSTMENT   ? "adjustment"
           : kind == TLY_OBJ_CATALOG      ? "catalog"
           : kind == TLY_OBJ_ORDER        ? "order"
           : kind == TLY_OBJ_ORDER_LIST   ? "orders"
           : kind == TLY_OBJ_ORDER_QUEUE  ? "order-queue"
                                          : "group";
}

static void
s_json_purchase (const tly_purchase_t *record)
{
    fputs ("{\"id\":", stdout);
    cli_json_string (stdout, record->id);
    fputs (",\"userId\":", stdout);
    cli_json_string (stdout, record->user_id);
    fputs (",\"itemId\":", stdout);
    cli_json_string (stdout, record->item_id);
    printf (",\"amount\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"balanceAfter\":%" PRId64,
            record->amount, record->timestamp, record->balance_after);
    cli_json_purchase_refund (stdout, record->partition_seq, record->refund_id,
                              record->refunded_at);
    fputc ('}', stdout);
}

static void
s_json_adjustment (const tly_adjustment_t *record)
{
    fputs ("{\"id\":", stdout);
    cli_json_string (stdout, record->id);
    fputs (",\"userId\":", stdout);
    cli_json_string (stdout, record->user_id);
    printf (",\"amount\":%" PRId64 ",\"reference\":", record->amount);
    cli_json_string (stdout, record->reference);
    fputs (",\"note\":", stdout);
    cli_json_string (stdout, record->note);
    printf (",\"timestamp\":%" PRId64 ",\"balanceAfter\":%" PRId64 ",\"by\":", record->timestamp,
            record->balance_after);
    cli_json_string (stdout, record->by);
    fputc ('}', stdout);
}

//  An adjustment's fields after its ID, as key=value (the note last: it may
//  hold blanks).
static void
s_text_adjustment (const tly_adjustment_t *record)
{
    char when [32];
    cli_format_ms (record->timestamp, when, sizeof when);
    printf (" amount=%" PRId64 " balanceAfter=%" PRId64 " reference=%s timestamp=%s by=%s",
            record->amount, record->balance_after, record->reference, when, record->by);
    if (*record->note)
        printf (" note=%s", record->note);
}

//  An order's fields after its ID, as key=value (the error last: it may
//  hold blanks).
static void
s_text_order (const tly_order_t *order)
{
    printf (" user=%s status=%s total=%" PRId64 " items=%zu", order->user_id,
            tly_order_status_name (order->status), order->total, order->item_count);
    for (size_t i = 0; i < order->item_count; i++)
        printf (" [%s amount=%" PRId64 "]", order->items [i].item_id, order->items [i].amount);
    for (size_t i = 0; i < order->purchase_count; i++)
        printf (" purchase=%s", order->purchase_ids [i]);
    if (*order->error)
        printf (" error=%s", order->error);
}

//  The fields of object as a JSON object (camelCase, as the seed names them).
static void
s_json_value (const tly_object_t *object)
{
    if (object->kind == TLY_OBJ_PURCHASE) {
        s_json_purchase (&object->purchase);
        return;
    }
    if (object->kind == TLY_OBJ_ADJUSTMENT) {
        s_json_adjustment (&object->adjustment);
        return;
    }
    if (object->kind == TLY_OBJ_ORDER) {
        cli_json_order (stdout, &object->order);
        return;
    }
    fputs ("{\"id\":", stdout);
    if (object->kind == TLY_OBJ_BALANCE) {
        cli_json_string (stdout, object->balance.id);
        fputs (",\"userId\":", stdout);
        cli_json_string (stdout, object->balance.user_id);
        printf (",\"balance\":%" PRId64 ",\"held\":%" PRId64 ",\"available\":%" PRId64
                ",\"lastUpdated\":%" PRId64,
                object->balance.balance, object->balance.held,
                object->balance.balance - object->balance.held, object->balance.last_updated);
    } else if (object->kind == TLY_OBJ_ROOT) {
        cli_json_string (stdout, object->root.id);
        fputs (",\"userId\":", stdout);
        cli_json_string (stdout, object->root.user_id);
        fputs (",\"balanceId\":", stdout);
        cli_json_string (stdout, object->root.balance_id);
        fputs (",\"purchasesId\":", stdout);
        cli_json_string (stdout, object->root.purchases_id);
    } else if (object->kind == TLY_OBJ_PURCHASE_LOG) {
        cli_json_string (stdout, object->purchases.id);
        fputs (",\"userId\":", stdout);
        cli_json_string (stdout, object->purchases.user_id);
        printf (",\"count\":%" PRIu64 ",\"records\":[", object->purchases.count);
        for (size_t i = 0; i < object->purchases.record_count; i++) {
            if (i > 0)
                fputc (',', stdout);
            s_json_purchase (&object->purchases.records [i]);
        }
        fputs ("],\"adjustments\":[", stdout);
        for (size_t i = 0; i < object->purchases.adjustment_count; i++) {
            if (i > 0)
                fputc (',', stdout);
            s_json_adjustment (&object->purchases.adjustments [i]);
        }
        fputc (']', stdout);
    } else if (object->kind == TLY_OBJ_CATALOG) {
        cli_json_string (stdout, object->catalog.id);
        printf (",\"configVersion\":%" PRIu64 ",\"items\":[", object->catalog.config_version);
        for (size_t i = 0; i < object->catalog.item_count; i++) {
            const tly_catalog_item_t *item = &object->catalog.items [i];
            if (i > 0)
                fputc (',', stdout);
            cli_json_catalog_item (stdout, item->item_id, item->price, item->active);
        }
        fputc (']', stdout);
    } else if (object->kind == TLY_OBJ_ORDER_LIST) {
        cli_json_string (stdout, object->orders.id);
        fputs (",\"userId\":", stdout);
        cli_json_string (stdout, object->orders.user_id);
        printf (",\"count\":%" PRIu64 ",\"orders\":", object->orders.count);
        cli_json_order_summaries (stdout, object->orders.orders, object->orders.order_count);
    } else if (object->kind == TLY_OBJ_ORDER_QUEUE) {
        cli_json_string (stdout, object->order_queue.id);
        printf (",\"partition\":%" PRIu32 ",\"orders\":", object->order_queue.partition);
        cli_json_order_summaries (stdout, object->order_queue.orders,
                                  object->order_queue.order_count);
    } else {
        assert (object->kind == TLY_OBJ_SERVICE);
        cli_json_string (stdout, object->service.id);
        fputs (",\"workerId\":", stdout);
        cli_json_string (stdout, object->service.worker_id);
        printf (",\"maxInitialBalance\":%" PRId64 ",\"maxAmount\":%" PRId64
                ",\"partitionCount\":%" PRIu32 ",\"ratePerMinute\":%" PRIu32
                ",\"rateBurst\":%" PRIu32 ",\"openPrices\":%s",
                object->service.max_initial_balance, object->service.max_amount,
                object->service.partition_count, object->service.rate_per_minute,
                object->service.rate_burst, object->service.open_prices ? "true" : "false");
    }
    fputc ('}', stdout);
}

static void
s_text_value (const tly_object_t *object)
{
    char when [32];
    if (object->kind == TLY_OBJ_BALANCE) {
        cli_format_ms (object->balance.last_updated, when, sizeof when);
        printf (" balance=%" PRId64 " held=%" PRId64 " available=%" PRId64 " updated=%s",
                object->balance.balance, object->balance.held,
                object->balance.balance - object->balance.held, when);
    } else if (object->kind == TLY_OBJ_PURCHASE) {
        cli_format_ms (object->purchase.timestamp, when, sizeof when);
        printf (" item=%s amount=%" PRId64 " balanceAfter=%" PRId64 " timestamp=%s",
                object->purchase.item_id, object->purchase.amount, object->purchase.balance_after,
                when);
        cli_text_refunded (stdout, object->purchase.refund_id, object->purchase.refunded_at);
    } else if (object->kind == TLY_OBJ_ROOT)
        printf (" user=%s balanceId=%s purchasesId=%s", object->root.user_id,
                object->root.balance_id, object->root.purchases_id);
    else if (object->kind == TLY_OBJ_PURCHASE_LOG)
        printf (" count=%" PRIu64 " records=%zu adjustments=%zu", object->purchases.count,
                object->purchases.record_count, object->purchases.adjustment_count);
    else if (object->kind == TLY_OBJ_ADJUSTMENT) {
        printf (" user=%s", object->adjustment.user_id);
        s_text_adjustment (&object->adjustment);
    } else if (object->kind == TLY_OBJ_CATALOG) {
        printf (" configVersion=%" PRIu64 " items=%zu", object->catalog.config_version,
                object->catalog.item_count);
        for (size_t i = 0; i < object->catalog.item_count; i++) {
            const tly_catalog_item_t *item = &object->catalog.items [i];
            printf (" [%s price=%" PRId64 " %s]", item->item_id, item->price,
                    item->active ? "active" : "inactive");
        }
    } else if (object->kind == TLY_OBJ_ORDER)
        s_text_order (&object->order);
    else if (object->kind == TLY_OBJ_ORDER_LIST || object->kind == TLY_OBJ_ORDER_QUEUE) {
        bool list = object->kind == TLY_OBJ_ORDER_LIST;
        const tly_order_summary_t *orders = list ? object->orders.orders
                                                 : object->order_queue.orders;
        size_t count = list ? object->orders.order_count : object->order_queue.order_count;
        if (list)
            printf (" count=%" PRIu64, object->orders.count);
        else
            printf (" partition=%" PRIu32, object->order_queue.partition);
        printf (" orders=%zu", count);
        for (size_t i = 0; i < count; i++)
            printf (" [%s %s total=%" PRId64 " v%" PRIu64 "]", orders [i].id,
                    tly_order_status_name (orders [i].status), orders [i].total,
                    orders [i].version);
    } else {
        assert (object->kind == TLY_OBJ_SERVICE);
        printf (" worker=%s maxInitialBalance=%" PRId64 " maxAmount=%" PRId64 " partitions=%" PRIu32
                " ratePerMinute=%" PRIu32 " rateBurst=%" PRIu32 " openPrices=%s",
                object->service.worker_id, object->service.max_initial_balance,
                object->service.max_amount, object->service.partition_count,
                object->service.rate_per_minute, object->service.rate_burst,
                object->service.open_prices ? "true" : "false");
    }
}

static bool
s_room (const s_watch_t *watch)
{
    return !watch->args.has_count || watch->lines < watch->args.count;
}

//  Ends the line: stdout may be a pipe that a test reads line by line.
static void
s_end_line (s_watch_t *watch)
{
    fputc ('\n', stdout);
    fflush (stdout);
    watch->lines++;
}

static void
s_print_object (s_watch_t *watch, const tly_object_t *object)
{
    const char *event = object->snapshot ? "snapshot" : "update";
    if (watch->args.json) {
        printf ("{\"event\":\"%s\",\"kind\":\"%s\",\"version\":%" PRIu64 ",\"object\":", event,
                s_kind_name (object->kind), object->version);
        s_json_value (object);
        fputc ('}', stdout);
    } else {
        printf ("%s %s %s v%" PRIu64, event, s_kind_name (object->kind), object->id,
                object->version);
        s_text_value (object);
    }
    s_end_line (watch);
}

static void
s_print_record (s_watch_t *watch, const tly_object_t *log, const tly_purchase_t *record)
{
    if (watch->args.json) {
        printf ("{\"event\":\"%s\",\"kind\":\"purchase\",\"version\":%" PRIu64 ",\"object\":",
                log->snapshot ? "snapshot" : "update", log->version);
        s_json_purchase (record);
        fputc ('}', stdout);
    } else {
        printf ("purchase %s item=%s amount=%" PRId64 " balanceAfter=%" PRId64, record->id,
                record->item_id, record->amount, record->balance_after);
        cli_text_refunded (stdout, record->refund_id, record->refunded_at);
    }
    s_end_line (watch);
}

static void
s_print_adjustment (s_watch_t *watch, const tly_object_t *log, const tly_adjustment_t *record)
{
    if (watch->args.json) {
        printf ("{\"event\":\"%s\",\"kind\":\"adjustment\",\"version\":%" PRIu64 ",\"object\":",
                log->snapshot ? "snapshot" : "update", log->version);
        s_json_adjustment (record);
        fputc ('}', stdout);
    } else {
        printf ("%s %s", cli_adjustment_name (record->amount, record->reference), record->id);
        s_text_adjustment (record);
    }
    s_end_line (watch);
}

//  ---------------------------------------------------------------- callbacks

//  Returns true when object is news (not an end); notes an end in watch.
static bool
s_news (s_watch_t *watch, const tly_object_t *object)
{
    if (object->ended) {
        watch->ended = true;
        watch->end = (tly_error_t) { .code = object->code, .remote = true };
        memcpy (watch->end.message, object->message, sizeof watch->end.message);
        return false;
    }
    if (object->snapshot && object->code != TALLY__ERROR_CODE__OK)
        fprintf (stderr, "tally watch: %s resynced (%s)\n", object->id,
                 tly_error_name (object->code));
    return true;
}

static void
s_on_object (const tly_object_t *object, void *arg)
{
    s_watch_t *watch = arg;
    if (s_news (watch, object) && s_room (watch))
        s_print_object (watch, object);
}

static void
s_on_root (const tly_object_t *object, void *arg)
{
    s_watch_t *watch = arg;
    if (s_news (watch, object))
        snprintf (watch->balance_id, sizeof watch->balance_id, "%s", object->root.balance_id);
}

//  A log snapshot holds the latest entries and an update the new ones, as
//  two lists each oldest first: purchases and adjustments. They are merged
//  by timestamp (at the same millisecond, purchases first: the log does not
//  say which came first then). Each entry's position (1 = first entry ever)
//  says whether it was printed.
static void
s_on_purchases (const tly_object_t *object, void *arg)
{
    s_watch_t *watch = arg;
    if (!s_news (watch, object))
        return;
    const tly_purchase_log_t *log = &object->purchases;
    size_t entries = log->record_count + log->adjustment_count;
    assert (entries <= log->count);
    uint64_t position = log->count - entries;
    size_t purchase = 0, adjustment = 0;
    while (purchase + adjustment < entries && s_room (watch)) {
        bool take_purchase = adjustment == log->adjustment_count
                             || (purchase < log->record_count
                                 && log->records [purchase].timestamp
                                        <= log->adjustments [adjustment].timestamp);
        bool news = ++position > watch->printed;
        if (take_purchase) {
            if (news)
                s_print_record (watch, object, &log->records [purchase]);
            purchase++;
        } else {
            if (news)
                s_print_adjustment (watch, object, &log->adjustments [adjustment]);
            adjustment++;
        }
        if (news)
            watch->printed = position;
    }
}

//  ---------------------------------------------------------------- the watch

//  Subscribes within what is left of deadline. Returns -1 to go on, or the exit code.
static int
s_subscribe (s_watch_t *watch, tly_watcher_t *watcher, const char *object_id, tly_object_fn *fn,
             int64_t deadline)
{
    int64_t left = deadline - tly_mono_ms ();
    int timeout_ms = left < 1                        ? 1
                     : left < CLI_TIMEOUT_MS_DEFAULT ? (int) left
                                                     : CLI_TIMEOUT_MS_DEFAULT;
    if (tly_watcher_subscribe (watcher, object_id, fn, watch, timeout_ms) == 0)
        return -1;
    if (s_stop)
        return CLI_EXIT_OK;
    return cli_report_error (tly_watcher_error (watcher), watch->args.json);
}

//  Subscribes to what the target names. Returns -1 to go on, or the exit code.
static int
s_start (s_watch_t *watch, tly_watcher_t *watcher, const uint8_t account [TLY_KEY_BYTES],
         int64_t deadline)
{
    uint32_t partitions = (uint32_t) watch->args.partitions;
    const char *target = watch->args.target;
    char object_id [TLY_ID_MAX];
    if (strcmp (target, "purchases") == 0) {
        tly_purchases_id (account, partitions, object_id);
        return s_subscribe (watch, watcher, object_id, s_on_purchases, deadline);
    }
    if (strcmp (target, "orders") == 0) {
        tly_orders_id (account, partitions, object_id);
        return s_subscribe (watch, watcher, object_id, s_on_object, deadline);
    }
    if (strcmp (target, "balance") != 0)
        return s_subscribe (watch, watcher, target, s_on_object, deadline);

    //  The balance is found through the account's root, as in the seed.
    tly_root_id (account, partitions, object_id);
    int rc = s_subscribe (watch, watcher, object_id, s_on_root, deadline);
    if (rc != -1)
        return rc;
    tly_watcher_unsubscribe (watcher, object_id, CLI_UNSUBSCRIBE_MS);
    tly_object_kind_t kind;
    if (tly_object_id_parse (watch->balance_id, &kind, NULL, NULL) == -1
        || kind != TLY_OBJ_BALANCE) {
        tly_error_t error = { .code = TALLY__ERROR_CODE__INTERNAL, .remote = true };
        snprintf (error.message, sizeof error.message, "root %s names no balance ('%s')", object_id,
                  watch->balance_id);
        return cli_report_error (&error, watch->args.json);
    }
    return s_subscribe (watch, watcher, watch->balance_id, s_on_object, deadline);
}

//  Prints what comes until the count, the deadline, an end or a signal.
static int
s_follow (s_watch_t *watch, tly_watcher_t *watcher, int64_t deadline)
{
    while (!s_stop) {
        if (!s_room (watch))
            return CLI_EXIT_OK;
        if (watch->ended)
            return cli_report_error (&watch->end, watch->args.json);
        int64_t left = deadline - tly_mono_ms ();
        if (left <= 0) {
            if (!watch->args.has_count)
                return CLI_EXIT_OK;
            fprintf (stderr, "tally watch: timeout after %" PRId64 " of %" PRId64 "\n",
                     watch->lines, watch->args.count);
            return CLI_EXIT_REJECTED;
        }
        tly_watcher_dispatch (watcher, left < WATCH_SLICE_MS ? (int) left : WATCH_SLICE_MS);
    }
    return CLI_EXIT_OK;
}

int
cli_watch (int argc, char **argv)
{
    const char *command = "tally watch";
    s_watch_t watch = { .lines = 0 };
    int rc = s_parse (command, argc, argv, &watch.args);
    if (rc != -1)
        return rc;
    const char *target = watch.args.target;
    if (strcmp (target, "balance") != 0 && strcmp (target, "purchases") != 0
        && strcmp (target, "catalog") != 0 && strcmp (target, "orders") != 0
        && tly_object_id_parse (target, NULL, NULL, NULL) == -1) {
        fprintf (stderr,
                 "%s: '%s' is not balance, purchases, catalog, orders or an object ID (co_z...)\n",
                 command, target);
        return CLI_EXIT_USAGE;
    }
    const char *worker;
    tly_account_t account;
    rc = cli_identity (command, watch.args.worker, watch.args.account_file, &worker, &account);
    if (rc != -1)
        return rc;
    if (strcmp (target, "catalog") == 0) {
        //  The worker's Catalog object, by its ID.
        uint8_t worker_pk [TLY_KEY_BYTES];
        int parsed = tly_account_id_parse (worker, worker_pk);
        assert (parsed == 0);  //  cli_identity checked it
        tly_catalog_id (worker_pk, watch.catalog_id);
        watch.args.target = watch.catalog_id;
    }
    uint8_t account_pk [TLY_KEY_BYTES];
    memcpy (account_pk, account.sign_pk, sizeof account_pk);
    tly_watcher_t *watcher = tly_watcher_new_curve (cli_gateway (watch.args.gateway),
                                                    cli_gateway_key (watch.args.gateway_key),
                                                    worker, &account);
    sodium_memzero (&account, sizeof account);
    if (!watcher) {
        fprintf (stderr, "%s: cannot use gateway '%s'\n", command,
                 cli_gateway (watch.args.gateway));
        return CLI_EXIT_USAGE;
    }
    //  No SA_RESTART: a signal ends the wait it arrives in.
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    setvbuf (stdout, NULL, _IOLBF, 0);

    int64_t deadline = watch.args.has_timeout ? tly_mono_ms () + watch.args.timeout_ms : INT64_MAX;
    rc = s_start (&watch, watcher, account_pk, deadline);
    if (rc == -1)
        rc = s_follow (&watch, watcher, deadline);
    tly_watcher_destroy (&watcher);
    return rc;
}
