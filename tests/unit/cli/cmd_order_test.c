//  cmd_order_test - `tally order create|edit|submit|show|list`, `tally admin
//  complete|fail` and `tally watch` of the order objects, run in this
//  process: their argument errors (exit 2, one line on stderr, nothing
//  sent), an order's life through a scripted gateway that decides as the
//  balance actor would (cmd_order_gateway: text and JSON, refusals with
//  exit 1), and the reads against fake_gateway serving signed objects
//  (order_fixture).
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run.h"
#include "cmd_order_gateway.h"
#include "fake_gateway.h"
#include "order_fixture.h"
#include "tally.h"

//  Runs command on "words tail", expecting exit code and, when not NULL, err
//  exactly (out empty then), else stdout's start.
static void
s_expect (int (*command) (int, char **), const char *words, const char *tail, int code,
          const char *out_start, const char *err_line)
{
    char line [2048], out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX];
    snprintf (line, sizeof line, "%s %s", words, tail);
    int rc = cli_run_line (command, line, out, err);
    bool ok = rc == code;
    if (err_line)
        ok = ok && streq (err, err_line) && *out == 0;
    if (out_start)
        ok = ok && strncmp (out, out_start, strlen (out_start)) == 0;
    if (!ok) {
        fprintf (stderr, "%s\n  exit %d\n  out: %s\n  err: %s\n", line, rc, out, err);
        assert (false);
    }
}

static void
s_test_usage (const char *tail, zactor_t *gateway)
{
    char out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX];
    assert (cli_run_line (cli_order, "order --help", out, err) == CLI_EXIT_OK);
    assert (strncmp (out, "usage: tally order create --item ITEM[=AMOUNT]", 46) == 0 && *err == 0);
    assert (cli_run_line (cli_order, "order edit --help", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "tally order edit ORDER_ID --item"));
    const char *verbs = "tally order: expected 'create', 'edit', 'submit', 'show' or 'list'\n";
    assert (cli_run_line (cli_order, "order", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, verbs, strlen (verbs)) == 0);
    assert (cli_run_line (cli_order, "order cancel x", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, verbs, strlen (verbs)) == 0);
    assert (cli_run_line (cli_admin, "admin fail --help", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "tally admin fail ORDER_ID [--error TEXT]"));

    char order_id [TLY_ID_MAX], list_id [TLY_ID_MAX];
    order_fixture_id (1, order_id);
    order_fixture_list_id (list_id);
    char words [1024], expected [1024];
    struct {
        int (*command) (int, char **);
        const char *words;
        const char *line;
    } errors [] = {
        { cli_order, "order create", "tally order create: --item is required (1..16 of them)\n" },
        { cli_order, "order create --item a=x",
          "tally order create: --item: amount is not an integer in 'a=x' (ITEM or ITEM=AMOUNT)\n" },
        { cli_order, "order create --item a=",
          "tally order create: --item: amount is not an integer in 'a=' (ITEM or ITEM=AMOUNT)\n" },
        { cli_order, "order create --item =5",
          "tally order create: --item: item 1: itemId must not be empty\n" },
        { cli_order, "order create --item=",
          "tally order create: --item: item 1: itemId must not be empty\n" },
        { cli_order, "order create --item a --item b=9007199254740992",
          "tally order create: --item: item 2: amount exceeds the largest balance (2^53 - 1)\n" },
        { cli_order, "order create --item a --item b=-1",
          "tally order create: --item: item 2: amount must be 0 (the catalog price) or a "
          "positive whole number of minor units\n" },
        { cli_order, "order create --item a stray",
          "tally order create: unexpected argument 'stray'\n" },
        { cli_order, "order create --reason r",
          "tally order create: bad option or missing value: '--reason' (try tally order create "
          "--help)\n" },
        { cli_order, "order edit --item a",
          "tally order edit: which order? tally order edit ORDER_ID\n" },
        { cli_order, "order edit nope --item a",
          "tally order edit: ORDER_ID: order 'nope' is not an order's ID (co_z...)\n" },
        { cli_order, "order submit",
          "tally order submit: which order? tally order submit ORDER_ID\n" },
        { cli_order, "order submit LIST", NULL },  //  another object's ID: expected below
        { cli_order, "order submit ORDER stray",
          "tally order submit: unexpected argument 'stray'\n" },
        { cli_order, "order submit ORDER --item a",
          "tally order submit: bad option or missing value: '--item' (try tally order submit "
          "--help)\n" },
        { cli_order, "order show nope",
          "tally order show: ORDER_ID: order 'nope' is not an order's ID (co_z...)\n" },
        { cli_order, "order list stray", "tally order list: unexpected argument 'stray'\n" },
        { cli_order, "order list --partitions 0",
          "tally order list: --partitions: not an integer in range, got '0' (expected "
          "1..65536)\n" },
        { cli_admin, "admin complete",
          "tally admin complete: which order? tally admin complete ORDER_ID\n" },
        { cli_admin, "admin complete ORDER --error x",
          "tally admin complete: bad option or missing value: '--error' (try tally admin "
          "complete --help)\n" },
        { cli_admin, "admin fail nope --error x",
          "tally admin fail: ORDER_ID: order 'nope' is not an order's ID (co_z...)\n" },
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors [0]; i++) {
        //  ORDER and LIST stand for the order's and the OrderList's IDs.
        snprintf (words, sizeof words, "%s", errors [i].words);
        char *at = strstr (words, "ORDER");
        if (at) {
            snprintf (expected, sizeof expected, "%s", at + 5);
            snprintf (at, sizeof words - (size_t) (at - words), "%s%s", order_id, expected);
        }
        at = strstr (words, "LIST");
        const char *line = errors [i].line;
        if (at) {
            snprintf (at, sizeof words - (size_t) (at - words), "%s", list_id);
            snprintf (expected, sizeof expected,
                      "tally order submit: ORDER_ID: order '%s' is not an order's ID (co_z...)\n",
                      list_id);
            line = expected;
        }
        s_expect (errors [i].command, words, tail, CLI_EXIT_USAGE, NULL, line);
    }
    //  More than 16 items; an error one byte past its limit.
    char many [1024] = "order create";
    for (int i = 0; i <= TLY_ORDER_ITEMS_MAX; i++)
        strcat (many, " --item=a");
    s_expect (cli_order, many, tail, CLI_EXIT_USAGE, NULL,
              "tally order create: --item: an order holds at most 16 items\n");
    //  An item ID one byte past its 128 (the ID at 128: s_test_life).
    char long_item [TLY_ITEM_ID_MAX + 2];
    memset (long_item, 'i', sizeof long_item - 1);
    long_item [sizeof long_item - 1] = 0;
    snprintf (words, sizeof words, "order create --item %s=5", long_item);
    s_expect (cli_order, words, tail, CLI_EXIT_USAGE, NULL,
              "tally order create: --item: item ID of 129 bytes exceeds 128 bytes\n");
    char text [TLY_ORDER_ERROR_MAX + 2];
    memset (text, 'e', sizeof text - 1);
    text [sizeof text - 1] = 0;
    snprintf (words, sizeof words, "admin fail %s --error %s", order_id, text);
    s_expect (cli_admin, words, tail, CLI_EXIT_USAGE, NULL,
              "tally admin fail: --error: error of 257 bytes exceeds 256 bytes\n");
    assert (order_gateway_sends (gateway) == 0);
}

//  An order's life: created, edited, submitted, completed; another failed.
static void
s_test_life (const char *user_tail, const char *worker_tail, const char *user_id,
             const char *worker_file, const char *endpoint, const char *worker_id,
             zactor_t *gateway)
{
    char out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX], line [2048], expected [2048];
    snprintf (line, sizeof line, "order create --item item-1 --item item-2=25 %s", user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    char order_id [TLY_ID_MAX];
    assert (sscanf (out, "order %63s", order_id) == 1);
    tly_object_kind_t kind;
    assert (tly_object_id_parse (order_id, &kind, NULL, NULL) == 0 && kind == TLY_OBJ_ORDER);
    snprintf (expected, sizeof expected, "order %s draft total 35 items 2\n", order_id);
    assert (streq (out, expected));
    //  Edited, JSON: every field.
    snprintf (line, sizeof line, "order edit %s --item item-3=5 --json %s", order_id, user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected,
              "{\"ok\":true,\"result\":{\"id\":\"%s\",\"userId\":\"%s\",\"status\":\"draft\","
              "\"items\":[{\"itemId\":\"item-3\",\"amount\":5}],\"total\":5,\"error\":\"\","
              "\"version\":2,\"createdAt\":%lld,\"updatedAt\":%lld,\"submittedAt\":0,"
              "\"finishedAt\":0,\"purchaseIds\":[]}}\n",
              order_id, user_id, ORDER_GATEWAY_NOW_MS, ORDER_GATEWAY_NOW_MS + 2);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "order submit %s %s", order_id, user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected, "order %s processing total 5 items 1\n", order_id);
    assert (streq (out, expected));
    //  Refused: exit 1, text on stderr, JSON on stdout.
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED && *out == 0);
    assert (streq (err, "error: Order is not a draft: only a draft can be edited or submitted "
                        "(INVALID_TRANSITION)\n"));
    snprintf (line, sizeof line, "order edit %s --item a --json %s", order_id, user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED);
    const char *invalid = "{\"ok\":false,\"error\":{\"code\":\"INVALID_TRANSITION\"";
    assert (strncmp (out, invalid, strlen (invalid)) == 0);
    snprintf (line, sizeof line, "admin complete %s %s", order_id, user_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED && *out == 0);
    assert (
        streq (err, "error: Only the worker may complete or fail an order (PERMISSION_DENIED)\n"));
    //  The worker completes it: a purchase per line.
    snprintf (line, sizeof line, "admin complete %s %s", order_id, worker_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected, "order %s completed total 5 items 1\n", order_id);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "admin fail %s --json %s", order_id, worker_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (strstr (out, "\"INVALID_TRANSITION\""));

    //  Two more orders, failed with an error of blanks (argv by hand): text, JSON.
    char others [2][TLY_ID_MAX];
    for (int i = 0; i < 2; i++) {
        snprintf (line, sizeof line, "order create --item item-9 %s", user_tail);
        assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK);
        assert (sscanf (out, "order %63s", others [i]) == 1 && !streq (others [i], order_id));
        snprintf (line, sizeof line, "order submit %s %s", others [i], user_tail);
        assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK);
    }
    //  getopt permutes argv: one array per run.
    char *argv [2][13];
    for (int i = 0; i < 2; i++) {
        char *words [] = { "admin",
                           "fail",
                           "--error",
                           "card declined",
                           others [i],
                           "--gateway",
                           (char *) endpoint,
                           "--worker",
                           (char *) worker_id,
                           "--account-file",
                           (char *) worker_file,
                           "--json",
                           NULL };
        memcpy (argv [i], words, sizeof words);
    }
    argv [0][11] = NULL;
    assert (cli_run_argv (cli_admin, 11, argv [0], out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected, "order %s failed total 10 items 1 error card declined\n",
              others [0]);
    assert (streq (out, expected));
    assert (cli_run_argv (cli_admin, 12, argv [1], out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected,
              "{\"ok\":true,\"result\":{\"id\":\"%s\",\"userId\":\"%s\",\"status\":\"failed\","
              "\"items\":[{\"itemId\":\"item-9\",\"amount\":10}],\"total\":10,\"error\":"
              "\"card declined\",\"version\":3,\"createdAt\":%lld,\"updatedAt\":%lld,"
              "\"submittedAt\":%lld,\"finishedAt\":%lld,\"purchaseIds\":[]}}\n",
              others [1], user_id, ORDER_GATEWAY_NOW_MS, ORDER_GATEWAY_NOW_MS + 3,
              ORDER_GATEWAY_NOW_MS + 2, ORDER_GATEWAY_NOW_MS + 3);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "order edit %s --item a %s", others [0], user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED);
    //  An order of nobody's: NOT_FOUND.
    char unknown [TLY_ID_MAX];
    order_fixture_id (77, unknown);
    snprintf (line, sizeof line, "order submit %s %s", unknown, user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED);
    assert (streq (err, "error: No such order (NOT_FOUND)\n"));
    //  At the limits: 16 lines, an amount of 0 (the catalog price) and one
    //  of 2^53 - 1. The CLI sends them; the order's total, over 2^53 - 1,
    //  is the cluster's to refuse (as the balance actor does).
    snprintf (line, sizeof line, "order create%s --item b=0 --item c=9007199254740991 --json %s",
              " --item=a --item=a --item=a --item=a --item=a --item=a --item=a"
              " --item=a --item=a --item=a --item=a --item=a --item=a --item=a",
              user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED);
    assert (strstr (out, "\"code\":\"INVALID_AMOUNT\"")
            && strstr (out, "Order total too large: at most 9007199254740991"));
    assert (order_gateway_sends (gateway) == 17);
    //  One line of 2^53 - 1, the largest total, its item ID at 128 bytes.
    char item [TLY_ITEM_ID_MAX + 1], expected_line [TLY_ITEM_ID_MAX + 96];
    memset (item, 'c', TLY_ITEM_ID_MAX);
    item [TLY_ITEM_ID_MAX] = 0;
    snprintf (line, sizeof line, "order create --item %s=9007199254740991 --json %s", item,
              user_tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected_line, sizeof expected_line,
              "{\"itemId\":\"%s\",\"amount\":9007199254740991}],\"total\":9007199254740991,", item);
    assert (strstr (out, expected_line));
    assert (order_gateway_sends (gateway) == 18);
}

//  show, list and watch against fake_gateway.
static void
s_test_reads (const char *account_file)
{
    int port;
    zactor_t *fake = fake_gateway_new (&port);
    char tail [512], out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX], line [1024];
    char expected [CLI_RUN_OUTPUT_MAX];
    snprintf (tail, sizeof tail,
              "--gateway tcp://127.0.0.1:%d --worker %s --account-file %s --timeout-ms 2000", port,
              watch_keys.worker_id, account_file);
    order_fixture_t order;
    order_fixture_order (&order, 4, TALLY__ORDER_STATUS__ORDER_COMPLETED, 2);
    size_t size;
    uint8_t *bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &order.state, &size);
    fake_gateway_serve (fake, order.id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "order show %s %s", order.id, tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected,
              "order %s completed total 30 items 2\n"
              "  item item-1 amount 10 purchase %s\n"
              "  item item-2 amount 20 purchase %s\n",
              order.id, order.purchase_ids [0], order.purchase_ids [1]);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "order show %s --json %s", order.id, tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"id\":\"%s\",\"version\":4,\"order\":{\"id\":\"%s\",\"userId\":\"%s\","
              "\"status\":\"completed\",\"items\":[{\"itemId\":\"item-1\",\"amount\":10},"
              "{\"itemId\":\"item-2\",\"amount\":20}],\"total\":30,\"error\":\"\",\"version\":4,"
              "\"createdAt\":%lld,\"updatedAt\":%lld,\"submittedAt\":%lld,\"finishedAt\":%lld,"
              "\"purchaseIds\":[\"%s\",\"%s\"]}}\n",
              order.id, order.id, watch_keys.user_id, WATCH_UPDATED_MS + 1, WATCH_UPDATED_MS + 4,
              WATCH_UPDATED_MS + 2, WATCH_UPDATED_MS + 4, order.purchase_ids [0],
              order.purchase_ids [1]);
    assert (streq (out, expected));
    //  An order the gateway refuses to show: exit 1, its code.
    char other [TLY_ID_MAX];
    order_fixture_id (2, other);
    fake_gateway_deny (fake, other, TALLY__ERROR_CODE__NOT_FOUND);
    snprintf (line, sizeof line, "order show %s %s", other, tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_REJECTED && *out == 0);
    assert (strstr (err, "(NOT_FOUND)\n"));

    //  list: the user's OrderList, found from the account.
    order_fixture_list_t list;
    order_fixture_list (&list, 6, 5, 2);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &list.state, &size);
    fake_gateway_serve (fake, list.id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "order list %s", tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK && *err == 0);
    snprintf (expected, sizeof expected,
              "orders %s v6 count 5 shown 2\n"
              "order %s failed total 40 version 4\n"
              "order %s draft total 50 version 5\n",
              list.id, list.ids [0], list.ids [1]);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "order list --json %s", tail);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"id\":\"%s\",\"version\":6,\"userId\":\"%s\",\"count\":5,\"orders\":["
              "{\"id\":\"%s\",\"userId\":\"%s\",\"status\":\"failed\",\"total\":40,\"version\":4,"
              "\"updatedAt\":%lld,\"submittedAt\":%lld},"
              "{\"id\":\"%s\",\"userId\":\"%s\",\"status\":\"draft\",\"total\":50,\"version\":5,"
              "\"updatedAt\":%lld,\"submittedAt\":0}]}\n",
              list.id, watch_keys.user_id, list.ids [0], watch_keys.user_id, WATCH_UPDATED_MS + 4,
              WATCH_UPDATED_MS + 4, list.ids [1], watch_keys.user_id, WATCH_UPDATED_MS + 5);
    assert (streq (out, expected));

    //  watch: the orders by their word, an order, a queue (JSON), a held balance.
    snprintf (line, sizeof line, "watch orders --count 1 %s", tail);
    *strstr (line, " --timeout-ms 2000") = 0;
    assert (cli_run_line (cli_watch, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot orders %s v6 count=5 orders=2 [%s failed total=40 v4] [%s draft total=50 "
              "v5]\n",
              list.id, list.ids [0], list.ids [1]);
    assert (streq (out, expected));
    order_fixture_order (&order, 3, TALLY__ORDER_STATUS__ORDER_FAILED, 1);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &order.state, &size);
    fake_gateway_serve (fake, order.id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "watch %s --count 1 %s", order.id, tail);
    *strstr (line, " --timeout-ms 2000") = 0;
    assert (cli_run_line (cli_watch, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot order %s v3 user=%s status=failed total=10 items=1 [item-1 amount=10] "
              "error=" ORDER_FIXTURE_ERROR "\n",
              order.id, watch_keys.user_id);
    assert (streq (out, expected));
    order_fixture_queue (&list, 2, 1);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &list.state, &size);
    fake_gateway_serve (fake, list.id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "watch %s --json --count 1 %s", list.id, tail);
    *strstr (line, " --timeout-ms 2000") = 0;
    assert (cli_run_line (cli_watch, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"order-queue\",\"version\":2,\"object\":{\"id\":"
              "\"%s\",\"partition\":%u,\"orders\":[{\"id\":\"%s\",\"userId\":\"%s\",\"status\":"
              "\"processing\",\"total\":10,\"version\":1,\"updatedAt\":%lld,\"submittedAt\":%lld}"
              "]}}\n",
              list.id, tly_partition_of (watch_keys.user.sign_pk, TLY_PARTITIONS_DEFAULT),
              list.ids [0], watch_keys.user_id, WATCH_UPDATED_MS + 1, WATCH_UPDATED_MS + 1);
    assert (streq (out, expected));
    watch_balance_t balance;
    watch_balance_state (&balance, 7, 100);
    balance.balance.held = 60;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &balance.state, &size);
    fake_gateway_serve (fake, watch_keys.balance_id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "watch %s --json --count 1 %s", watch_keys.balance_id, tail);
    *strstr (line, " --timeout-ms 2000") = 0;
    assert (cli_run_line (cli_watch, line, out, err) == CLI_EXIT_OK);
    assert (strstr (out, "\"balance\":100,\"held\":60,\"available\":40,"));
    zactor_destroy (&fake);
}

void
cmd_order_test (bool verbose)
{
    if (verbose)
        printf (" * cmd_order: ");
    watch_fixture_init ();
    char user_id [TLY_ID_MAX];
    tly_account_id (watch_keys.user.sign_pk, user_id);
    char worker_file [] = "/tmp/cmd-order-test-XXXXXX", user_file [] = "/tmp/cmd-order-test-XXXXXX";
    cli_run_account_file (&watch_keys.worker, "test account", worker_file);
    cli_run_account_file (&watch_keys.user, "test account", user_file);
    zactor_t *gateway = zactor_new (order_gateway_run, NULL);
    int port = 0;
    zsock_recv (gateway, "i", &port);
    assert (port > 0);
    char endpoint [64], user_tail [512], worker_tail [512];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (user_tail, sizeof user_tail,
              "--gateway %s --worker %s --account-file %s --timeout-ms 2000", endpoint,
              watch_keys.worker_id, user_file);
    snprintf (worker_tail, sizeof worker_tail,
              "--gateway %s --worker %s --account-file %s --timeout-ms 2000", endpoint,
              watch_keys.worker_id, worker_file);
    s_test_usage (user_tail, gateway);
    s_test_life (user_tail, worker_tail, user_id, worker_file, endpoint, watch_keys.worker_id,
                 gateway);
    zactor_destroy (&gateway);
    s_test_reads (user_file);

    //  No gateway: exit 2, as `tally send`.
    char line [1024], out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX];
    snprintf (line, sizeof line,
              "order create --item a --gateway tcp://127.0.0.1:9 --worker %s --account-file %s "
              "--timeout-ms 300",
              watch_keys.worker_id, user_file);
    assert (cli_run_line (cli_order, line, out, err) == CLI_EXIT_USAGE);
    assert (strstr (err, "(TIMEOUT)"));
    unlink (worker_file);
    unlink (user_file);
    if (verbose)
        printf ("OK\n");
}
