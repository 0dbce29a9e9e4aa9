//  cmd_watch_test - `tally watch`, run in this process against a scripted
//  gateway (fake_gateway): its lines, text and JSON, its exit codes,
//  purchase records printed once each across a resync, and the catalog by
//  its word.
#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run.h"
#include "fake_gateway.h"
#include "tally.h"
#include "watch_fixture.h"

#define S_OUTPUT_MAX CLI_RUN_OUTPUT_MAX

//  Runs `tally watch args...` in this process, its stdout and stderr caught
//  in out and err. Returns its exit code.
static int
s_run_watch (const char *endpoint, const char *account_file, const char *args, char *out, char *err)
{
    char line [1024];
    snprintf (line, sizeof line, "watch %s --gateway %s --worker %s --account-file %s", args,
              endpoint, watch_keys.worker_id, account_file);
    return cli_run_line (cli_watch, line, out, err);
}

void
cmd_watch_test (bool verbose)
{
    if (verbose)
        printf (" * cmd_watch: ");
    watch_fixture_init ();
    char account_file [] = "/tmp/sdk-watch-test-XXXXXX";
    cli_run_account_file (&watch_keys.user, "me", account_file);
    int port;
    zactor_t *fake = fake_gateway_new (&port);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    char out [S_OUTPUT_MAX], err [S_OUTPUT_MAX], expected [S_OUTPUT_MAX];
    char when [4][32];
    for (int v = 1; v <= 3; v++)
        cli_format_ms (WATCH_UPDATED_MS + v, when [v], sizeof when [v]);

    //  balance: through the root, then the snapshot and each update.
    size_t size;
    uint8_t *bytes = watch_root (&size);
    fake_gateway_serve (fake, watch_keys.root_id, bytes, size);
    free (bytes);
    watch_serve_balance (fake, 1, 100);
    for (uint64_t v = 2; v <= 3; v++) {
        bytes = watch_balance (&watch_keys.worker, v, 110 - 10 * (int64_t) v, &size);
        fake_gateway_queue (fake, watch_keys.balance_id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
        free (bytes);
    }
    assert (s_run_watch (endpoint, account_file, "balance --count 3", out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot balance %s v1 balance=100 held=0 available=100 updated=%s\n"
              "update balance %s v2 balance=90 held=0 available=90 updated=%s\n"
              "update balance %s v3 balance=80 held=0 available=80 updated=%s\n",
              watch_keys.balance_id, when [1], watch_keys.balance_id, when [2],
              watch_keys.balance_id, when [3]);
    assert (streq (out, expected));

    //  Any object by ID, as JSON; --timeout alone ends well.
    char args [256];
    snprintf (args, sizeof args, "%s --json --timeout 0.3", watch_keys.balance_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (
        expected, sizeof expected,
        "{\"event\":\"snapshot\",\"kind\":\"balance\",\"version\":1,\"object\":{\"id\":\"%s\","
        "\"userId\":\"%s\",\"balance\":100,\"held\":0,\"available\":100,\"lastUpdated\":%lld}}\n",
        watch_keys.balance_id, watch_keys.user_id, WATCH_UPDATED_MS + 1);
    assert (streq (out, expected));
    snprintf (args, sizeof args, "%s --count 2 --timeout 0.3", watch_keys.balance_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_REJECTED);
    assert (streq (err, "tally watch: timeout after 1 of 2\n"));

    //  purchases: each record once, also across a resync.
    bytes = watch_log (3, 3, 2, &size);
    fake_gateway_serve (fake, watch_keys.purchases_id, bytes, size);
    free (bytes);
    bytes = watch_log (4, 4, 1, &size);
    fake_gateway_queue (fake, watch_keys.purchases_id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
    free (bytes);
    bytes = watch_log (4, 4, 2, &size);
    fake_gateway_queue (fake, watch_keys.purchases_id, TALLY__PUSH_KIND__SNAPSHOT,
                        TALLY__ERROR_CODE__SLOW_CONSUMER, bytes, size);
    free (bytes);
    bytes = watch_log (5, 5, 1, &size);
    fake_gateway_queue (fake, watch_keys.purchases_id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
    free (bytes);
    assert (s_run_watch (endpoint, account_file, "purchases --count 4", out, err) == CLI_EXIT_OK);
    assert (streq (out, "purchase co_zPurchase2 item=item-2 amount=2 balanceAfter=98\n"
                        "purchase co_zPurchase3 item=item-3 amount=3 balanceAfter=97\n"
                        "purchase co_zPurchase4 item=item-4 amount=4 balanceAfter=96\n"
                        "purchase co_zPurchase5 item=item-5 amount=5 balanceAfter=95\n"));
    assert (strstr (err, "resynced (SLOW_CONSUMER)"));
    assert (s_run_watch (endpoint, account_file, "purchases --json --count 1", out, err)
            == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"purchase\",\"version\":3,\"object\":{\"id\":\"co_"
              "zPurchase2\","
              "\"userId\":\"%s\",\"itemId\":\"item-2\",\"amount\":2,\"timestamp\":%lld,"
              "\"balanceAfter\":98,\"partitionSeq\":0,\"refundId\":\"\",\"refundedAt\":0}}\n",
              watch_keys.user_id, WATCH_UPDATED_MS);
    assert (streq (out, expected));
    //  The log itself, by its ID.
    snprintf (args, sizeof args, "%s --count 1", watch_keys.purchases_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot purchases %s v3 count=3 records=2 adjustments=0\n",
              watch_keys.purchases_id);
    assert (streq (out, expected));
    snprintf (args, sizeof args, "%s --count 1 --json", watch_keys.purchases_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (
        expected, sizeof expected,
        "{\"event\":\"snapshot\",\"kind\":\"purchases\",\"version\":3,\"object\":{\"id\":\"%s\","
        "\"userId\":\"%s\",\"count\":3,\"records\":[{\"id\":\"co_zPurchase2\",\"userId\":\"%s\","
        "\"itemId\":\"item-2\",\"amount\":2,\"timestamp\":%lld,\"balanceAfter\":98,"
        "\"partitionSeq\":0,\"refundId\":\"\",\"refundedAt\":0},"
        "{\"id\":\"co_zPurchase3\",\"userId\":\"%s\",\"itemId\":\"item-3\",\"amount\":3,"
        "\"timestamp\":%lld,\"balanceAfter\":97,\"partitionSeq\":0,\"refundId\":\"\","
        "\"refundedAt\":0}],\"adjustments\":[]}}\n",
        watch_keys.purchases_id, watch_keys.user_id, watch_keys.user_id, WATCH_UPDATED_MS,
        watch_keys.user_id, WATCH_UPDATED_MS);
    assert (streq (out, expected));

    //  A history: purchases and adjustments merged in order, each once,
    //  also across a resync. Entries 3 and 6 are adjustments.
    char when_of [7][32];
    for (int p = 1; p <= 6; p++)
        cli_format_ms (WATCH_UPDATED_MS + p, when_of [p], sizeof when_of [p]);
    bytes = watch_history (5, 5, 3, 3, &size);
    fake_gateway_serve (fake, watch_keys.purchases_id, bytes, size);
    free (bytes);
    bytes = watch_history (5, 5, 3, 3, &size);
    fake_gateway_queue (fake, watch_keys.purchases_id, TALLY__PUSH_KIND__SNAPSHOT,
                        TALLY__ERROR_CODE__SLOW_CONSUMER, bytes, size);
    free (bytes);
    bytes = watch_history (6, 6, 1, 3, &size);
    fake_gateway_queue (fake, watch_keys.purchases_id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
    free (bytes);
    assert (s_run_watch (endpoint, account_file, "purchases --count 4", out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "credit co_zAdjustment3 amount=3 balanceAfter=103 reference=ref-3 timestamp=%s "
              "by=%s note=note 3\n"
              "purchase co_zPurchase4 item=item-4 amount=4 balanceAfter=96\n"
              "purchase co_zPurchase5 item=item-5 amount=5 balanceAfter=95\n"
              "debit co_zAdjustment6 amount=-6 balanceAfter=94 reference=ref-6 timestamp=%s "
              "by=%s note=note 6\n",
              when_of [3], watch_keys.worker_id, when_of [6], watch_keys.worker_id);
    assert (streq (out, expected));
    assert (s_run_watch (endpoint, account_file, "purchases --json --count 1", out, err)
            == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"adjustment\",\"version\":5,\"object\":{\"id\":"
              "\"co_zAdjustment3\",\"userId\":\"%s\",\"amount\":3,\"reference\":\"ref-3\","
              "\"note\":\"note 3\",\"timestamp\":%lld,\"balanceAfter\":103,\"by\":\"%s\"}}\n",
              watch_keys.user_id, WATCH_UPDATED_MS + 3, watch_keys.worker_id);
    assert (streq (out, expected));
    snprintf (args, sizeof args, "%s --count 1", watch_keys.purchases_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot purchases %s v5 count=5 records=2 adjustments=1\n",
              watch_keys.purchases_id);
    assert (streq (out, expected));
    snprintf (args, sizeof args, "%s --count 1 --json", watch_keys.purchases_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    assert (strstr (out, "\"records\":[{\"id\":\"co_zPurchase4\""));
    assert (strstr (out, "}],\"adjustments\":[{\"id\":\"co_zAdjustment3\""));

    //  An AdjustmentRecord by its ID.
    Tally__AdjustmentRecord record;
    Tally__ObjectValue value;
    Tally__ObjectState state;
    char adjustment_id [TLY_ID_MAX];
    watch_adjustment_state (&state, &value, &record, 6, adjustment_id);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &state, &size);
    fake_gateway_serve (fake, adjustment_id, bytes, size);
    free (bytes);
    snprintf (args, sizeof args, "%s --count 1", adjustment_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot adjustment %s v1 user=%s amount=-6 balanceAfter=94 reference=ref-6 "
              "timestamp=%s by=%s note=note 6\n",
              adjustment_id, watch_keys.user_id, when_of [6], watch_keys.worker_id);
    assert (streq (out, expected));
    snprintf (args, sizeof args, "%s --count 1 --json", adjustment_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"adjustment\",\"version\":1,\"object\":{\"id\":"
              "\"%s\",\"userId\":\"%s\",\"amount\":-6,\"reference\":\"ref-6\",\"note\":\"note 6\","
              "\"timestamp\":%lld,\"balanceAfter\":94,\"by\":\"%s\"}}\n",
              adjustment_id, watch_keys.user_id, WATCH_UPDATED_MS + 6, watch_keys.worker_id);
    assert (streq (out, expected));

    //  A purchase by its ID: version 1, then its refund's version 2 naming
    //  the refund (text and JSON).
    watch_purchase_t purchase;
    watch_purchase_state (&purchase, false);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &purchase.state, &size);
    fake_gateway_serve (fake, purchase.id, bytes, size);
    free (bytes);
    watch_purchase_state (&purchase, true);
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &purchase.state, &size);
    fake_gateway_queue (fake, purchase.id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
    snprintf (args, sizeof args, "%s --count 2", purchase.id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot purchase %s v1 item=item-1 amount=25 balanceAfter=75 timestamp=%s\n"
              "update purchase %s v2 item=item-1 amount=25 balanceAfter=75 timestamp=%s "
              "refunded by %s at %s\n",
              purchase.id, when [1], purchase.id, when [1], purchase.refund_id, when [2]);
    assert (streq (out, expected));
    fake_gateway_serve (fake, purchase.id, bytes, size);
    free (bytes);
    snprintf (args, sizeof args, "%s --count 1 --json", purchase.id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"purchase\",\"version\":2,\"object\":{\"id\":"
              "\"%s\",\"userId\":\"%s\",\"itemId\":\"item-1\",\"amount\":25,\"timestamp\":%lld,"
              "\"balanceAfter\":75,\"partitionSeq\":9,\"refundId\":\"%s\",\"refundedAt\":%lld}}\n",
              purchase.id, watch_keys.user_id, WATCH_UPDATED_MS + 1, purchase.refund_id,
              WATCH_UPDATED_MS + 2);
    assert (streq (out, expected));
    //  In the history: a refunded purchase says so, and the refund's entry
    //  (a credit whose reference is the purchase's) is a refund.
    watch_log_t l;
    watch_history_state (&l, 4, 4, 2, 4);  //  entries 3 (a purchase) and 4 (an adjustment)
    l.records [0].refund_id = purchase.refund_id;
    l.records [0].refunded_at = WATCH_UPDATED_MS + 4;
    char reference [TLY_REFERENCE_MAX + 1];
    tly_refund_reference ("co_zPurchase3", reference);
    l.adjustments [0].amount = 3;
    l.adjustments [0].reference = reference;
    l.adjustments [0].note = "broken";
    l.adjustments [0].balance_after = 100;
    bytes = watch_sign (&watch_keys.worker, TLY_DOMAIN_OBJECT, &l.state, &size);
    fake_gateway_serve (fake, watch_keys.purchases_id, bytes, size);
    free (bytes);
    assert (s_run_watch (endpoint, account_file, "purchases --count 2", out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "purchase co_zPurchase3 item=item-3 amount=3 balanceAfter=97 refunded by %s at %s\n"
              "refund co_zAdjustment4 amount=3 balanceAfter=100 reference=refund:co_zPurchase3 "
              "timestamp=%s by=%s note=broken\n",
              purchase.refund_id, when_of [4], when_of [4], watch_keys.worker_id);
    assert (streq (out, expected));

    //  catalog: the worker's Catalog object by that word, each version whole.
    bytes = watch_catalog (2, 3, &size);
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (watch_keys.worker.sign_pk, catalog_id);
    fake_gateway_serve (fake, catalog_id, bytes, size);
    free (bytes);
    bytes = watch_catalog (3, 4, &size);
    fake_gateway_queue (fake, catalog_id, TALLY__PUSH_KIND__UPDATE, 0, bytes, size);
    free (bytes);
    assert (s_run_watch (endpoint, account_file, "catalog --count 2", out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "snapshot catalog %s v2 configVersion=1 items=3 [item-1 price=10 active] "
              "[item-2 price=20 active] [item-3 price=30 inactive]\n"
              "update catalog %s v3 configVersion=2 items=4 [item-1 price=10 active] "
              "[item-2 price=20 active] [item-3 price=30 inactive] [item-4 price=40 active]\n",
              catalog_id, catalog_id);
    assert (streq (out, expected));
    assert (s_run_watch (endpoint, account_file, "catalog --count 1 --json", out, err)
            == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"event\":\"snapshot\",\"kind\":\"catalog\",\"version\":2,\"object\":{\"id\":"
              "\"%s\",\"configVersion\":1,\"items\":[{\"itemId\":\"item-1\",\"price\":10,"
              "\"active\":true},{\"itemId\":\"item-2\",\"price\":20,\"active\":true},"
              "{\"itemId\":\"item-3\",\"price\":30,\"active\":false}]}}\n",
              catalog_id);
    assert (streq (out, expected));
    //  By its ID, the same.
    snprintf (args, sizeof args, "%s --count 1", catalog_id);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_OK);
    assert (strncmp (out, "snapshot catalog ", 17) == 0 && strstr (out, " v2 configVersion=1"));

    //  Refusals: one line, exit 1.
    fake_gateway_deny (fake, watch_keys.purchases_id, TALLY__ERROR_CODE__PERMISSION_DENIED);
    assert (s_run_watch (endpoint, account_file, "purchases", out, err) == CLI_EXIT_REJECTED);
    assert (streq (out, "") && streq (err, "error: Permission denied (PERMISSION_DENIED)\n"));
    char other [TLY_ID_MAX];
    tly_balance_id (watch_keys.forger.sign_pk, 256, other);
    snprintf (args, sizeof args, "%s --json", other);
    assert (s_run_watch (endpoint, account_file, args, out, err) == CLI_EXIT_REJECTED);
    const char *refused = "{\"ok\":false,\"error\":{\"code\":\"NOT_FOUND\"";
    assert (strncmp (out, refused, strlen (refused)) == 0);
    zactor_destroy (&fake);

    //  No gateway: exit 2.
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:9");
    assert (s_run_watch (endpoint, account_file, "balance --timeout 0.3", out, err)
            == CLI_EXIT_USAGE);
    assert (strstr (err, "(TIMEOUT)"));
    unlink (account_file);
    if (verbose)
        printf ("OK\n");
}
