//  cli_util_test - the CLI's helpers: the JSON and text output of accounts,
//  results and times (integer flags: tly_flags_test).
#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tally.h"

//  Runs print into a memory stream and compares with expected.
#define EXPECT_OUTPUT(expected, call)                                            \
    do {                                                                         \
        char *text_ = NULL;                                                      \
        size_t size_ = 0;                                                        \
        FILE *out = open_memstream (&text_, &size_);                             \
        assert (out);                                                            \
        call;                                                                    \
        fclose (out);                                                            \
        if (strcmp (text_, (expected)) != 0) {                                   \
            fprintf (stderr, "expected: %s\n     got: %s\n", (expected), text_); \
            assert (false);                                                      \
        }                                                                        \
        free (text_);                                                            \
    } while (0)

static void
s_test_json (void)
{
    EXPECT_OUTPUT ("\"item-123\"", cli_json_string (out, "item-123"));
    EXPECT_OUTPUT ("\"a\\\"b\\\\c\"", cli_json_string (out, "a\"b\\c"));
    EXPECT_OUTPUT ("\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"",
                   cli_json_string (out, "\n\r\t\b\f\x01\x1f\x7f"));
    EXPECT_OUTPUT ("\"caf\xc3\xa9 \xf0\x9f\x98\x80\"",
                   cli_json_string (out, "caf\xc3\xa9 \xf0\x9f\x98\x80"));
    //  Bytes that are not UTF-8 cannot appear in JSON text.
    EXPECT_OUTPUT ("\"a\\ufffdb\"", cli_json_string (out, "a\xff"
                                                          "b"));
    EXPECT_OUTPUT ("\"\\ufffd\"", cli_json_string (out, "\xc3"));
    EXPECT_OUTPUT ("\"\\ufffd\\ufffd\"", cli_json_string (out, "\xc0\xaf"));
    EXPECT_OUTPUT ("\"\\ufffd\\ufffd\\ufffd\"", cli_json_string (out, "\xed\xa0\x80"));
    EXPECT_OUTPUT ("{\"account\":\"co_zA\",\"secret\":\"s/t\",\"name\":\"Bob \\\"B\\\"\"}\n",
                   cli_json_account (out, "co_zA", "s/t", "Bob \"B\""));

    tly_result_t balance = {
        .ok = true, .kind = TLY_RESULT_BALANCE, .balance = 100, .last_updated = 1764226800123
    };
    strcpy (balance.id, "co_zBal");
    strcpy (balance.user_id, "co_zUser");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zBal\",\"userId\":\"co_zUser\","
                   "\"balance\":100,\"lastUpdated\":1764226800123}}\n",
                   cli_json_result (out, &balance));
    EXPECT_OUTPUT ("balance co_zBal user co_zUser = 100 (updated 2025-11-27T07:00:00.123Z)\n",
                   cli_text_result (out, &balance));

    tly_result_t purchase = {
        .ok = true, .kind = TLY_RESULT_PURCHASE, .amount = 25, .timestamp = 5, .balance_after = 75
    };
    strcpy (purchase.id, "co_zP");
    strcpy (purchase.user_id, "co_zU");
    strcpy (purchase.item_id, "item-\"1\"");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zP\",\"userId\":\"co_zU\",\"itemId\":"
                   "\"item-\\\"1\\\"\","
                   "\"amount\":25,\"timestamp\":5,\"balanceAfter\":75,\"partitionSeq\":0,"
                   "\"refundId\":\"\",\"refundedAt\":0}}\n",
                   cli_json_result (out, &purchase));
    EXPECT_OUTPUT ("purchase co_zP item item-\"1\" amount 25 balanceAfter 75\n",
                   cli_text_result (out, &purchase));
    //  Refunded (a purchase's version 2): the refund named.
    purchase.partition_seq = 18446744073709551615ULL;
    strcpy (purchase.refund_id, "co_zR");
    purchase.refunded_at = 1764226800123;
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zP\",\"userId\":\"co_zU\",\"itemId\":"
                   "\"item-\\\"1\\\"\","
                   "\"amount\":25,\"timestamp\":5,\"balanceAfter\":75,"
                   "\"partitionSeq\":18446744073709551615,\"refundId\":\"co_zR\","
                   "\"refundedAt\":1764226800123}}\n",
                   cli_json_result (out, &purchase));
    EXPECT_OUTPUT ("purchase co_zP item item-\"1\" amount 25 balanceAfter 75 refunded by co_zR at "
                   "2025-11-27T07:00:00.123Z\n",
                   cli_text_result (out, &purchase));

    tly_result_t credit = { .ok = true,
                            .kind = TLY_RESULT_ADJUSTMENT,
                            .amount = 500,
                            .timestamp = 1764226800123,
                            .balance_after = 600 };
    strcpy (credit.id, "co_zA");
    strcpy (credit.user_id, "co_zU");
    strcpy (credit.reference, "pay-1");
    strcpy (credit.note, "Welcome \"bonus\"");
    strcpy (credit.by, "co_zW");
    EXPECT_OUTPUT (
        "{\"ok\":true,\"result\":{\"id\":\"co_zA\",\"userId\":\"co_zU\",\"amount\":500,"
        "\"reference\":\"pay-1\",\"note\":\"Welcome \\\"bonus\\\"\",\"balanceAfter\":600,"
        "\"timestamp\":1764226800123,\"by\":\"co_zW\"}}\n",
        cli_json_result (out, &credit));
    EXPECT_OUTPUT ("credit co_zA user co_zU amount 500 balanceAfter 600 reference pay-1 at "
                   "2025-11-27T07:00:00.123Z by co_zW note Welcome \"bonus\"\n",
                   cli_text_result (out, &credit));
    tly_result_t debit = credit;
    debit.amount = -20;
    debit.balance_after = 580;
    debit.note [0] = 0;
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zA\",\"userId\":\"co_zU\",\"amount\":-20,"
                   "\"reference\":\"pay-1\",\"note\":\"\",\"balanceAfter\":580,"
                   "\"timestamp\":1764226800123,\"by\":\"co_zW\"}}\n",
                   cli_json_result (out, &debit));
    EXPECT_OUTPUT ("debit co_zA user co_zU amount -20 balanceAfter 580 reference pay-1 at "
                   "2025-11-27T07:00:00.123Z by co_zW\n",
                   cli_text_result (out, &debit));

    //  A refund's record: JSON as a credit's; text naming the purchase and
    //  the reason. A debit's reference of that form (none is) is no refund.
    tly_result_t refund = credit;
    refund.amount = 25;
    refund.balance_after = 625;
    strcpy (refund.reference, "refund:co_zP");
    strcpy (refund.note, "Not delivered");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"id\":\"co_zA\",\"userId\":\"co_zU\",\"amount\":25,"
                   "\"reference\":\"refund:co_zP\",\"note\":\"Not delivered\",\"balanceAfter\":625,"
                   "\"timestamp\":1764226800123,\"by\":\"co_zW\"}}\n",
                   cli_json_result (out, &refund));
    EXPECT_OUTPUT ("refund co_zA of purchase co_zP user co_zU amount 25 balanceAfter 625 at "
                   "2025-11-27T07:00:00.123Z by co_zW reason Not delivered\n",
                   cli_text_result (out, &refund));
    refund.note [0] = 0;
    EXPECT_OUTPUT ("refund co_zA of purchase co_zP user co_zU amount 25 balanceAfter 625 at "
                   "2025-11-27T07:00:00.123Z by co_zW\n",
                   cli_text_result (out, &refund));
    assert (streq (cli_adjustment_name (25, "refund:co_zP"), "refund"));
    assert (streq (cli_adjustment_name (25, "refund"), "credit"));
    assert (streq (cli_adjustment_name (-25, "refund:co_zP"), "debit"));
    assert (streq (cli_adjustment_name (0, ""), "adjustment"));
    assert (streq (cli_refund_of ("refund:co_zP"), "co_zP") && !cli_refund_of ("pay-1"));

    //  Configuration changes: an admin, an item (its ID escaped in JSON).
    tly_result_t admin = { .ok = true, .kind = TLY_RESULT_CONFIG, .config_version = 7 };
    strcpy (admin.admin_id, "co_zAdmin");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"version\":7,\"adminId\":\"co_zAdmin\"}}\n",
                   cli_json_result (out, &admin));
    EXPECT_OUTPUT ("config version 7 admin co_zAdmin\n", cli_text_result (out, &admin));
    tly_result_t price = { .ok = true,
                           .kind = TLY_RESULT_CONFIG,
                           .config_version = 18446744073709551615ULL,
                           .has_item = true,
                           .price = 9007199254740991,
                           .active = false };
    strcpy (price.item_id, "caf\xc3\xa9 \"1\"");
    EXPECT_OUTPUT ("{\"ok\":true,\"result\":{\"version\":18446744073709551615,\"item\":{"
                   "\"itemId\":\"caf\xc3\xa9 \\\"1\\\"\",\"price\":9007199254740991,"
                   "\"active\":false}}}\n",
                   cli_json_result (out, &price));
    EXPECT_OUTPUT ("config version 18446744073709551615 item caf\xc3\xa9 \"1\" price "
                   "9007199254740991 inactive\n",
                   cli_text_result (out, &price));
    price.active = true;
    price.config_version = 2;
    EXPECT_OUTPUT ("config version 2 item caf\xc3\xa9 \"1\" price 9007199254740991 active\n",
                   cli_text_result (out, &price));

    tly_result_t refused = { .ok = false,
                             .kind = TLY_RESULT_ERROR,
                             .code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE };
    strcpy (refused.message, "Insufficient balance");
    EXPECT_OUTPUT ("{\"ok\":false,\"error\":{\"code\":\"INSUFFICIENT_BALANCE\",\"message\":"
                   "\"Insufficient balance\"}}\n",
                   cli_json_result (out, &refused));

    char when [32];
    cli_format_ms (0, when, sizeof when);
    assert (streq (when, "1970-01-01T00:00:00.000Z"));
    cli_format_ms (-1, when, sizeof when);
    assert (streq (when, "1969-12-31T23:59:59.999Z"));
}

//  A command table: the named command runs with argv from its name on;
//  help, no command and an unknown one answer with the usage.
static int s_ran_argc;
static const char *s_ran_first;
static int s_usage_calls;

static int
s_run_send (int argc, char **argv)
{
    s_ran_argc = argc;
    s_ran_first = argv [0];
    return 7;
}

static void
s_usage (FILE *out)
{
    (void) out;
    s_usage_calls++;
}

static void
s_test_dispatch (void)
{
    static const cli_command_t commands [] = { { "send", s_run_send }, { NULL, NULL } };
    char *send [] = { "tally", "send", "buy", NULL };
    assert (cli_dispatch ("tally", commands, s_usage, 3, send) == 7);
    assert (s_ran_argc == 2 && streq (s_ran_first, "send") && s_usage_calls == 0);
    char *help [] = { "tally", "--help", NULL };
    assert (cli_dispatch ("tally", commands, s_usage, 2, help) == CLI_EXIT_OK);
    char *short_help [] = { "tally", "-h", NULL };
    assert (cli_dispatch ("tally", commands, s_usage, 2, short_help) == CLI_EXIT_OK);
    char *none [] = { "tally", NULL };
    assert (cli_dispatch ("tally", commands, s_usage, 1, none) == CLI_EXIT_USAGE);
    char *unknown [] = { "tally", "frob", NULL };
    assert (cli_dispatch ("tally", commands, s_usage, 2, unknown) == CLI_EXIT_USAGE);
    assert (s_usage_calls == 4);
}

//  What call wrote on stderr, into text.
#define CATCH_STDERR(text, call)                                           \
    do {                                                                   \
        fflush (stderr);                                                   \
        FILE *file_ = tmpfile ();                                          \
        assert (file_);                                                    \
        int saved_ = dup (STDERR_FILENO);                                  \
        assert (saved_ >= 0 && dup2 (fileno (file_), STDERR_FILENO) >= 0); \
        call;                                                              \
        fflush (stderr);                                                   \
        assert (dup2 (saved_, STDERR_FILENO) >= 0);                        \
        close (saved_);                                                    \
        rewind (file_);                                                    \
        size_t size_ = fread ((text), 1, sizeof (text) - 1, file_);        \
        (text) [size_] = 0;                                                \
        fclose (file_);                                                    \
    } while (0)

static void
s_flags_usage (FILE *out)
{
    (void) out;
}

//  A command without operands refuses one with cli_unexpected's line; one
//  with operands gets their index.
static void
s_test_parse_flags (void)
{
    bool json = false;
    tly_flag_t flags [] = { TLY_FLAG_BOOL ("--json", &json), TLY_FLAG_HELP };
    char *argv [] = { "cmd", "--json", "x", NULL };
    char text [128];
    int rc = 0;
    CATCH_STDERR (text, rc = cli_parse_flags ("cmd", s_flags_usage, flags, 2, 3, argv, NULL));
    assert (rc == CLI_EXIT_USAGE && json);
    assert (strcmp (text, "cmd: unexpected argument 'x'\n") == 0);
    CATCH_STDERR (text, rc = cli_unexpected ("cmd", "x"));
    assert (rc == CLI_EXIT_USAGE && strcmp (text, "cmd: unexpected argument 'x'\n") == 0);
    int operand = 0;
    CATCH_STDERR (text, rc = cli_parse_flags ("cmd", s_flags_usage, flags, 2, 3, argv, &operand));
    assert (rc == -1 && operand == 2 && text [0] == 0);
    CATCH_STDERR (text, rc = cli_parse_flags ("cmd", s_flags_usage, flags, 2, 2, argv, NULL));
    assert (rc == -1 && text [0] == 0);
}

void
cli_util_test (bool verbose)
{
    if (verbose)
        printf (" * cli_util: ");
    s_test_json ();
    s_test_dispatch ();
    s_test_parse_flags ();
    if (verbose)
        printf ("OK\n");
}
