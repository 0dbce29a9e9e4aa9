//  cmd_catalog_test - `tally catalog`, run in this process: the argument
//  errors of `set` and `list` (exit 2, one line on stderr, nothing sent),
//  and `list` against a scripted gateway (fake_gateway) serving the
//  worker's Catalog: its lines, text and JSON, an empty catalog, a refusal
//  (exit 1) and no gateway (exit 2). `catalog set` through a gateway is
//  cmd_admin_test's, whose scripted gateway answers configuration messages.
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

void
cmd_catalog_test (bool verbose)
{
    if (verbose)
        printf (" * cmd_catalog: ");
    watch_fixture_init ();
    char account_file [] = "/tmp/cmd-catalog-test-XXXXXX";
    cli_run_account_file (&watch_keys.user, "me", account_file);
    char out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX], line [1024],
        expected [CLI_RUN_OUTPUT_MAX];

    //  Usage: help, no or an unknown subcommand.
    assert (cli_run_line (cli_catalog, "catalog --help", out, err) == CLI_EXIT_OK);
    assert (strncmp (out, "usage: tally catalog set ITEM --price N", 39) == 0 && *err == 0);
    assert (cli_run_line (cli_catalog, "catalog list -h", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "tally catalog list [options]"));
    assert (cli_run_line (cli_catalog, "catalog", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, "tally catalog: expected 'set' or 'list'\n", 40) == 0);
    assert (cli_run_line (cli_catalog, "catalog delete x", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, "tally catalog: expected 'set' or 'list'\n", 40) == 0);

    //  Argument errors: one line each, exit 2, nothing on stdout.
    char item [TLY_MSG_ITEM_CAP + 2];
    memset (item, 'i', sizeof item - 1);
    item [sizeof item - 1] = 0;
    char long_item [sizeof item + 16];
    snprintf (long_item, sizeof long_item, "set %s --price 5", item);
    struct {
        const char *args;
        const char *line;
    } errors [] = {
        { "set", "tally catalog set: which item? tally catalog set ITEM --price N\n" },
        { "set --price 5", "tally catalog set: which item? tally catalog set ITEM --price N\n" },
        { "set item-1", "tally catalog set: --price is required\n" },
        { "set item-1 --inactive", "tally catalog set: --price is required\n" },
        { "set item-1 --price ten",
          "tally catalog set: --price: not an integer in range, got 'ten' "
          "(expected -9223372036854775808..9223372036854775807)\n" },
        { "set item-1 item-2 --price 5", "tally catalog set: unexpected argument 'item-2'\n" },
        { "set item-1 --price 5 --bogus",
          "tally catalog set: bad option or missing value: '--bogus' (try tally catalog set "
          "--help)\n" },
        { long_item, "tally catalog set: ITEM: item ID of 257 bytes exceeds 256 bytes\n" },
        { "list stray", "tally catalog list: unexpected argument 'stray'\n" },
        { "list --price 5",
          "tally catalog list: bad option or missing value: '--price' (try tally catalog list "
          "--help)\n" },
        { "list --timeout-ms 0",
          "tally catalog list: --timeout-ms: not an integer in range, got '0' "
          "(expected 1..3600000)\n" },
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors [0]; i++) {
        snprintf (line, sizeof line, "catalog %s --worker %s --account-file %s", errors [i].args,
                  watch_keys.worker_id, account_file);
        assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_USAGE);
        if (!streq (err, errors [i].line)) {
            fprintf (stderr, "expected: %s     got: %s", errors [i].line, err);
            assert (false);
        }
        assert (*out == 0);
    }
    //  No worker, a worker that is not an account ID.
    snprintf (line, sizeof line, "catalog list --worker co_zbad --account-file %s", account_file);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_USAGE);
    assert (streq (err, "tally catalog list: worker 'co_zbad' is not an account ID (co_z...)\n"));

    //  list: the Catalog's snapshot, read once, text and JSON.
    int port;
    zactor_t *fake = fake_gateway_new (&port);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    char catalog_id [TLY_ID_MAX];
    tly_catalog_id (watch_keys.worker.sign_pk, catalog_id);
    size_t size;
    uint8_t *bytes = watch_catalog (4, 3, &size);
    fake_gateway_serve (fake, catalog_id, bytes, size);
    free (bytes);
    char tail [512];
    snprintf (tail, sizeof tail, "--gateway %s --worker %s --account-file %s --timeout-ms 2000",
              endpoint, watch_keys.worker_id, account_file);
    snprintf (line, sizeof line, "catalog list %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "catalog %s v4 configVersion 3 items 3\n"
              "item item-1 price 10 active\n"
              "item item-2 price 20 active\n"
              "item item-3 price 30 inactive\n",
              catalog_id);
    assert (streq (out, expected) && *err == 0);
    snprintf (line, sizeof line, "catalog list --json %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"id\":\"%s\",\"version\":4,\"configVersion\":3,\"items\":[{\"itemId\":\"item-1\","
              "\"price\":10,\"active\":true},{\"itemId\":\"item-2\",\"price\":20,\"active\":true},"
              "{\"itemId\":\"item-3\",\"price\":30,\"active\":false}]}\n",
              catalog_id);
    assert (streq (out, expected) && *err == 0);
    assert (fake_gateway_snapshots (fake, catalog_id) == 2);
    //  Each read ends its subscription.
    int pings, unsubscribes;
    fake_gateway_counts (fake, &pings, &unsubscribes);
    assert (unsubscribes == 2);
    //  An empty catalog.
    bytes = watch_catalog (1, 0, &size);
    fake_gateway_serve (fake, catalog_id, bytes, size);
    free (bytes);
    snprintf (line, sizeof line, "catalog list %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected, "catalog %s v1 configVersion 0 items 0\n", catalog_id);
    assert (streq (out, expected));
    snprintf (line, sizeof line, "catalog list --json %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"id\":\"%s\",\"version\":1,\"configVersion\":0,\"items\":[]}\n", catalog_id);
    assert (streq (out, expected));
    //  Refused: exit 1, text on stderr, JSON on stdout.
    fake_gateway_deny (fake, catalog_id, TALLY__ERROR_CODE__PERMISSION_DENIED);
    snprintf (line, sizeof line, "catalog list %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0 && streq (err, "error: Permission denied (PERMISSION_DENIED)\n"));
    snprintf (line, sizeof line, "catalog list --json %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_REJECTED);
    assert (streq (out, "{\"ok\":false,\"error\":{\"code\":\"PERMISSION_DENIED\",\"message\":"
                        "\"Permission denied\"}}\n"));
    zactor_destroy (&fake);

    //  No gateway: exit 2.
    snprintf (line, sizeof line,
              "catalog list --gateway tcp://127.0.0.1:9 --worker %s --account-file %s "
              "--timeout-ms 300",
              watch_keys.worker_id, account_file);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_USAGE);
    assert (strstr (err, "(TIMEOUT)"));
    unlink (account_file);
    if (verbose)
        printf ("OK\n");
}
