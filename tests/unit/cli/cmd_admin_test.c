//  cmd_admin_test - `tally admin credit|debit|refund|add|remove` and `tally
//  catalog set`, run in this process: their argument errors (exit 2, one
//  line on stderr, nothing sent), an account that is not the worker's
//  refused before an admin change is sent, and each message through a
//  scripted gateway that answers as the balance actor would (text and JSON,
//  a refusal with exit 1): a credit or debit as an AdjustmentRecord, a
//  refund as its AdjustmentRecord (once per purchase, then
//  ALREADY_REFUNDED), a configuration message decided by lib's
//  tly_config_decide on the gateway's own configuration, as a ConfigChange.
#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run.h"
#include "tally.h"
#include "tly_config.h"
#include "script_gateway.h"

#define S_BALANCE      100  //  the user's balance before each message
#define S_TIMESTAMP_MS 1764226800123LL
#define S_PURCHASE     25  //  the amount of every purchase a refund names
#define S_REFUNDS_MAX  4

//  A configuration message decided on config as the actor decides it: its
//  ConfigChange, or the refusal. The strings live in names until the next call.
static void
s_decide (tly_config_t *config, const Tally__Envelope *envelope, const Tally__InboxMessage *message,
          Tally__MessageResult *result, Tally__ConfigChange *change, Tally__CatalogItem *item,
          Tally__Error *error, char names [2][TLY_ID_MAX + TLY_ITEM_ID_MAX + 1])
{
    bool changed;
    const char *text;
    uint64_t before = tly_config_version (config);
    Tally__ErrorCode code = tly_config_decide (config, envelope->inbox.data, envelope->sender.data,
                                               message, &changed, &text);
    if (changed)  //  one message per envelope here: one version each
        tly_config_set_version (config, before + 1);
    if (code != TALLY__ERROR_CODE__OK) {
        error->code = code;
        error->message = (char *) text;
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
        result->error = error;
        return;
    }
    change->version = tly_config_version (config);
    if (message->body_case == TALLY__INBOX_MESSAGE__BODY_SET_PRICE) {
        const tly_config_item_t *now = tly_config_item (config, message->set_price->item_id);
        assert (now);
        snprintf (names [1], sizeof names [1], "%s", now->item_id);
        item->item_id = names [1];
        item->price = now->price;
        item->active = now->active;
        change->item = item;
    } else {
        const Tally__AdminChange *admin = message->body_case == TALLY__INBOX_MESSAGE__BODY_ADD_ADMIN
                                              ? message->add_admin
                                              : message->remove_admin;
        assert (admin->account.len == TLY_KEY_BYTES);
        tly_account_id (admin->account.data, names [0]);
        change->admin_id = names [0];
    }
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_CONFIG;
    result->config = change;
}

//  A refund of a purchase of user_id (S_PURCHASE, each purchase once) from
//  the worker or an admin, as the actor decides it: its AdjustmentRecord
//  (strings in reference), or the refusal.
static void
s_refund (const tly_config_t *config, const Tally__Envelope *envelope, const Tally__Refund *refund,
          const char *user_id, char refunded [S_REFUNDS_MAX][TLY_ID_MAX],
          Tally__MessageResult *result, Tally__AdjustmentRecord *record, Tally__Error *error,
          char *reference, char *by)
{
    const char *why = NULL;
    error->code = tly_validate_refund (refund, &why);
    error->message = (char *) why;
    size_t slot = 0;
    while (error->code == TALLY__ERROR_CODE__OK && slot < S_REFUNDS_MAX && *refunded [slot]
           && !streq (refunded [slot], refund->purchase_id))
        slot++;
    assert (slot < S_REFUNDS_MAX);
    if (error->code != TALLY__ERROR_CODE__OK)
        ;
    else if (!tly_config_is_admin (config, envelope->inbox.data, envelope->sender.data)) {
        error->code = TALLY__ERROR_CODE__PERMISSION_DENIED;
        error->message = "Only an admin may refund a purchase";
    } else if (*refunded [slot]) {
        error->code = TALLY__ERROR_CODE__ALREADY_REFUNDED;
        error->message = "Purchase already refunded";
    }
    if (error->code != TALLY__ERROR_CODE__OK) {
        result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
        result->error = error;
        return;
    }
    snprintf (refunded [slot], TLY_ID_MAX, "%s", refund->purchase_id);
    tly_refund_reference (refund->purchase_id, reference);
    tly_account_id (envelope->sender.data, by);
    record->id = "co_zRefund";
    record->user_id = (char *) user_id;
    record->amount = S_PURCHASE;
    record->reference = reference;
    record->note = refund->reason;
    record->timestamp = S_TIMESTAMP_MS;
    record->balance_after = S_BALANCE + S_PURCHASE;
    record->by = by;
    result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
    result->adjustment = record;
}

//  The gateway's state, and the reply's storage: it outlives s_answer.
typedef struct {
    const char *buyer;  //  the user whose purchases refunds name
    char refunded [S_REFUNDS_MAX][TLY_ID_MAX];
    char reference [TLY_REFERENCE_MAX + 1];
    tly_config_t *config;
    char names [2][TLY_ID_MAX + TLY_ITEM_ID_MAX + 1];
    Tally__Error error;
    Tally__AdjustmentRecord record;
    Tally__ConfigChange change;
    Tally__CatalogItem item;
    char user_id [TLY_ID_MAX], by [TLY_ID_MAX];
} s_state_t;

//  Answers one send: one credit or debit of the balance S_BALANCE, as an
//  AdjustmentRecord, or INSUFFICIENT_BALANCE for a debit past it, or
//  PERMISSION_DENIED from an account that is not an admin; one refund of a
//  purchase of the buyer's, s_refund; or one configuration message
//  (s_decide).
static void
s_answer (void *args, const Tally__Envelope *envelope, const Tally__InboxMessage *message,
          Tally__MessageResult *result)
{
    s_state_t *state = args;
    Tally__Error *error = &state->error;
    Tally__AdjustmentRecord *record = &state->record;
    tally__error__init (error);
    tally__adjustment_record__init (record);
    tally__config_change__init (&state->change);
    tally__catalog_item__init (&state->item);
    if (tly_config_message (message))
        s_decide (state->config, envelope, message, result, &state->change, &state->item, error,
                  state->names);
    else if (message->body_case == TALLY__INBOX_MESSAGE__BODY_REFUND)
        s_refund (state->config, envelope, message->refund, state->buyer, state->refunded, result,
                  record, error, state->reference, state->by);
    else {
        bool credit = message->body_case == TALLY__INBOX_MESSAGE__BODY_CREDIT;
        assert (credit || message->body_case == TALLY__INBOX_MESSAGE__BODY_DEBIT);
        const Tally__Adjustment *adjustment = credit ? message->credit : message->debit;
        assert (adjustment->user.len == TLY_KEY_BYTES);
        tly_account_id (adjustment->user.data, state->user_id);
        tly_account_id (envelope->sender.data, state->by);
        record->id = "co_zAdjustment";
        record->user_id = state->user_id;
        record->amount = credit ? adjustment->amount : -adjustment->amount;
        record->reference = adjustment->reference;
        record->note = adjustment->note;
        record->timestamp = S_TIMESTAMP_MS;
        record->balance_after = S_BALANCE + record->amount;
        record->by = state->by;
        error->code = TALLY__ERROR_CODE__INSUFFICIENT_BALANCE;
        if (!tly_config_is_admin (state->config, envelope->inbox.data, envelope->sender.data)) {
            error->code = TALLY__ERROR_CODE__PERMISSION_DENIED;
            error->message = "Only an admin may credit or debit a balance";
            result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
            result->error = error;
        } else if (record->balance_after < 0) {
            result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ERROR;
            result->error = error;
        } else {
            result->outcome_case = TALLY__MESSAGE_RESULT__OUTCOME_ADJUSTMENT;
            result->adjustment = record;
        }
    }
}

//  The gateway (script_gateway) answering with s_answer; args: the buyer's ID.
static void
s_gateway (zsock_t *pipe, void *args)
{
    s_state_t *state = zmalloc (sizeof *state);
    assert (state);
    state->buyer = args;
    state->config = tly_config_new ();
    script_gateway_run (pipe, s_answer, state);
    tly_config_destroy (&state->config);
    free (state);
}

void
cmd_admin_test (bool verbose)
{
    if (verbose)
        printf (" * cmd_admin: ");
    tly_account_t worker, user;
    assert (tly_account_generate (&worker) == 0 && tly_account_generate (&user) == 0);
    char worker_id [TLY_ID_MAX], user_id [TLY_ID_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_id (user.sign_pk, user_id);
    char worker_file [] = "/tmp/cmd-admin-test-XXXXXX", user_file [] = "/tmp/cmd-admin-test-XXXXXX";
    cli_run_account_file (&worker, "test account", worker_file);
    cli_run_account_file (&user, "test account", user_file);
    zactor_t *gateway = zactor_new (s_gateway, user_id);
    int port = 0;
    zsock_recv (gateway, "i", &port);
    assert (port > 0);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);

    char out [CLI_RUN_OUTPUT_MAX], err [CLI_RUN_OUTPUT_MAX], line [2048], expected [1024];
    //  The flags every run shares: the gateway, the worker, the account.
    char tail [512];
    snprintf (tail, sizeof tail, "--gateway %s --worker %s --account-file %s --timeout-ms 2000",
              endpoint, worker_id, worker_file);

    //  Usage: help, no or an unknown subcommand.
    assert (cli_run_line (cli_admin, "admin --help", out, err) == CLI_EXIT_OK);
    assert (strncmp (out, "usage: tally admin credit --user", 32) == 0 && *err == 0);
    assert (cli_run_line (cli_admin, "admin credit --help", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "--reference REF"));
    assert (cli_run_line (cli_admin, "admin add --help", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "tally admin add --account co_z..."));
    assert (cli_run_line (cli_admin, "admin refund --help", out, err) == CLI_EXIT_OK);
    assert (strstr (out, "tally admin refund --purchase co_z... [--reason TEXT]"));
    const char *expected_verb =
        "tally admin: expected 'credit', 'debit', 'refund', 'complete', 'fail', 'add' or "
        "'remove'\n";
    assert (cli_run_line (cli_admin, "admin", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, expected_verb, strlen (expected_verb)) == 0);
    assert (cli_run_line (cli_admin, "admin promote --user x", out, err) == CLI_EXIT_USAGE);
    assert (strncmp (err, expected_verb, strlen (expected_verb)) == 0);

    //  Argument errors: one line each, exit 2.
    struct {
        const char *args;
        const char *line;
    } errors [] = {
        { "credit --amount 5 --reference r",
          "tally admin credit: --user, --amount and --reference are required\n" },
        { "debit --user U --reference r",
          "tally admin debit: --user, --amount and --reference are required\n" },
        { "credit --user U --amount 5",
          "tally admin credit: --user, --amount and --reference are required\n" },
        { "credit --user nope --amount 5 --reference r",
          "tally admin credit: --user: user 'nope' is not an account ID (co_z...)\n" },
        { "credit --user U --amount five --reference r",
          "tally admin credit: --amount: not an integer in range, got 'five' "
          "(expected -9223372036854775808..9223372036854775807)\n" },
        { "debit --user U --amount 5 --reference r stray",
          "tally admin debit: unexpected argument 'stray'\n" },
        { "add", "tally admin add: --account is required\n" },
        { "remove --account nope",
          "tally admin remove: --account: account 'nope' is not an account ID (co_z...)\n" },
        { "add --account U stray", "tally admin add: unexpected argument 'stray'\n" },
        { "add --user U",
          "tally admin add: bad option or missing value: '--user' (try tally admin add --help)\n" },
        { "refund", "tally admin refund: --purchase is required\n" },
        { "refund --reason r", "tally admin refund: --purchase is required\n" },
        { "refund --purchase nope",
          "tally admin refund: --purchase: purchase 'nope' is not a purchase's ID (co_z...)\n" },
        { "refund --user U",
          "tally admin refund: bad option or missing value: '--user' (try tally admin refund "
          "--help)\n" },
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors [0]; i++) {
        char args [256];
        //  "U" stands for the user's ID (a blank after the last word finds it there too).
        snprintf (args, sizeof args, "%s ", errors [i].args);
        char *at = strstr (args, " U ");
        char spelled [512];
        if (at) {
            *at = 0;
            snprintf (spelled, sizeof spelled, "%s %s %s", args, user_id, at + 3);
        } else
            snprintf (spelled, sizeof spelled, "%s", args);
        snprintf (line, sizeof line, "admin %s %s", spelled, tail);
        assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
        if (!streq (err, errors [i].line)) {
            fprintf (stderr, "expected: %s     got: %s", errors [i].line, err);
            assert (false);
        }
        assert (*out == 0);
    }
    //  A reference and a note one byte past the limit; at it, they go.
    char reference [TLY_REFERENCE_MAX + 2], note [TLY_NOTE_MAX + 2];
    memset (reference, 'r', sizeof reference - 1);
    reference [sizeof reference - 1] = 0;
    memset (note, 'n', sizeof note - 1);
    note [sizeof note - 1] = 0;
    snprintf (line, sizeof line, "admin credit --user %s --amount 5 --reference %s %s", user_id,
              reference, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    assert (
        streq (err, "tally admin credit: --reference: reference of 129 bytes exceeds 128 bytes\n"));
    snprintf (line, sizeof line, "admin debit --user %s --amount 5 --reference r --note %s %s",
              user_id, note, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    assert (streq (err, "tally admin debit: --note: note of 257 bytes exceeds 256 bytes\n"));
    //  An admin change signed by another account than the worker's:
    //  refused, nothing sent.
    snprintf (line, sizeof line,
              "admin add --account %s --gateway %s --worker %s --account-file %s", user_id,
              endpoint, worker_id, user_file);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    snprintf (expected, sizeof expected,
              "tally admin add: the account %s is not the worker %s: only the worker may do "
              "this (pass --account-file with the worker's account)\n",
              user_id, worker_id);
    assert (streq (err, expected));
    assert (script_gateway_sends (gateway) == 0);
    //  A credit by an account that is not an admin goes: the cluster refuses it.
    char user_tail [512];
    snprintf (user_tail, sizeof user_tail,
              "--gateway %s --worker %s --account-file %s --timeout-ms 2000", endpoint, worker_id,
              user_file);
    snprintf (line, sizeof line, "admin credit --user %s --amount 5 --reference r %s", user_id,
              user_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0
            && streq (err, "error: Only an admin may credit or debit a balance "
                           "(PERMISSION_DENIED)\n"));
    assert (script_gateway_sends (gateway) == 1);

    //  At the limits, as the worker: a credit, text, with a note of blanks
    //  (argv by hand: the line splitter splits at blanks).
    reference [TLY_REFERENCE_MAX] = 0;
    char *argv [] = { "admin",     "credit",      "--user",   user_id,   "--amount",
                      "500",       "--reference", "pay-1",    "--note",  "Welcome bonus",
                      "--gateway", endpoint,      "--worker", worker_id, "--account-file",
                      worker_file, NULL };
    assert (cli_run_argv (cli_admin, 16, argv, out, err) == CLI_EXIT_OK);
    char when [32];
    cli_format_ms (S_TIMESTAMP_MS, when, sizeof when);
    snprintf (expected, sizeof expected,
              "credit co_zAdjustment user %s amount 500 balanceAfter 600 reference pay-1 at %s by "
              "%s note Welcome bonus\n",
              user_id, when, worker_id);
    assert (streq (out, expected) && *err == 0);
    //  A debit, JSON, reference at its limit.
    snprintf (line, sizeof line, "admin debit --user %s --amount 30 --reference %s --json %s",
              user_id, reference, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"ok\":true,\"result\":{\"id\":\"co_zAdjustment\",\"userId\":\"%s\",\"amount\":-30,"
              "\"reference\":\"%s\",\"note\":\"\",\"balanceAfter\":70,\"timestamp\":%lld,\"by\":"
              "\"%s\"}}\n",
              user_id, reference, S_TIMESTAMP_MS, worker_id);
    assert (streq (out, expected) && *err == 0);
    //  Refused: exit 1, as `tally send`; in text on stderr, in JSON on stdout.
    snprintf (line, sizeof line, "admin debit --user %s --amount 101 --reference r2 %s", user_id,
              tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0 && streq (err, "error: Insufficient balance (INSUFFICIENT_BALANCE)\n"));
    snprintf (line, sizeof line, "admin debit --user %s --amount 101 --reference r2 --json %s",
              user_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (streq (out, "{\"ok\":false,\"error\":{\"code\":\"INSUFFICIENT_BALANCE\",\"message\":"
                        "\"Insufficient balance\"}}\n"));
    assert (script_gateway_sends (gateway) == 5);

    //  The admin group: the worker adds the user (text), who may then
    //  credit, and removes them (JSON); again changes nothing.
    snprintf (line, sizeof line, "admin add --account %s %s", user_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected, "config version 1 admin %s\n", user_id);
    assert (streq (out, expected) && *err == 0);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    assert (streq (out, expected) && *err == 0);
    snprintf (line, sizeof line, "admin credit --user %s --amount 7 --reference r3 %s", user_id,
              user_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "credit co_zAdjustment user %s amount 7 balanceAfter 107 reference r3 at %s by %s\n",
              user_id, when, user_id);
    assert (streq (out, expected) && *err == 0);
    //  An admin may set a price (catalog set, text), and take it off sale.
    snprintf (line, sizeof line, "catalog set item-123 --price 25 %s", user_tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    assert (streq (out, "config version 2 item item-123 price 25 active\n") && *err == 0);
    snprintf (line, sizeof line, "catalog set item-123 --price 30 --inactive --json %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_OK);
    assert (streq (out, "{\"ok\":true,\"result\":{\"version\":3,\"item\":{\"itemId\":"
                        "\"item-123\",\"price\":30,\"active\":false}}}\n")
            && *err == 0);
    //  A price the cluster refuses: exit 1, its text.
    snprintf (line, sizeof line, "catalog set item-9 --price 0 %s", tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0 && strstr (err, "(INVALID_PRICE)\n") && strncmp (err, "error: ", 7) == 0);
    snprintf (line, sizeof line, "admin remove --account %s --json %s", user_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"ok\":true,\"result\":{\"version\":4,\"adminId\":\"%s\"}}\n", user_id);
    assert (streq (out, expected) && *err == 0);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    assert (streq (out, expected) && *err == 0);
    //  No longer an admin: refused.
    snprintf (line, sizeof line, "catalog set item-123 --price 25 --json %s", user_tail);
    assert (cli_run_line (cli_catalog, line, out, err) == CLI_EXIT_REJECTED);
    const char *denied = "{\"ok\":false,\"error\":{\"code\":\"PERMISSION_DENIED\"";
    assert (strncmp (out, denied, strlen (denied)) == 0);
    //  The worker itself is no admin to add.
    snprintf (line, sizeof line, "admin add --account %s %s", worker_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0 && strstr (err, "(INVALID_ADMIN)\n"));
    assert (script_gateway_sends (gateway) == 15);

    //  Refunds: what is no purchase's ID and a reason past the limit are
    //  refused before sending (exit 2).
    char purchase_id [TLY_ID_MAX], other_purchase [TLY_ID_MAX];
    uint8_t message_id [TLY_MESSAGE_ID_BYTES] = { 1 }, key [TLY_OBJECT_KEY_BYTES];
    uint32_t partition = tly_partition_of (user.sign_pk, TLY_PARTITIONS_DEFAULT);
    tly_purchase_key (partition, user.sign_pk, message_id, key);
    tly_object_id_of_key (key, purchase_id);
    message_id [0] = 2;
    tly_purchase_key (partition, user.sign_pk, message_id, key);
    tly_object_id_of_key (key, other_purchase);
    snprintf (line, sizeof line, "admin refund --purchase %s %s", user_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    snprintf (expected, sizeof expected,
              "tally admin refund: --purchase: purchase '%s' is not a purchase's ID (co_z...)\n",
              user_id);
    assert (streq (err, expected) && *out == 0);
    snprintf (line, sizeof line, "admin refund --purchase %s --reason %s %s", purchase_id, note,
              tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    assert (streq (err, "tally admin refund: --reason: reason of 257 bytes exceeds 256 bytes\n"));
    snprintf (line, sizeof line, "admin refund --purchase %s x %s", purchase_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    assert (streq (err, "tally admin refund: unexpected argument 'x'\n"));
    assert (script_gateway_sends (gateway) == 15);
    //  The user (no longer an admin) may not: exit 1, the cluster's words.
    snprintf (line, sizeof line, "admin refund --purchase %s %s", purchase_id, user_tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0
            && streq (err, "error: Only an admin may refund a purchase (PERMISSION_DENIED)\n"));
    //  The worker: a refund of the purchase's amount, text, with a reason
    //  of blanks; again, ALREADY_REFUNDED (exit 1, text and JSON).
    char *refund_argv [] = { "admin",          "refund",    "--purchase", purchase_id, "--reason",
                             "Not delivered",  "--gateway", endpoint,     "--worker",  worker_id,
                             "--account-file", worker_file, NULL };
    assert (cli_run_argv (cli_admin, 12, refund_argv, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "refund co_zRefund of purchase %s user %s amount 25 balanceAfter 125 at %s by %s "
              "reason Not delivered\n",
              purchase_id, user_id, when, worker_id);
    assert (streq (out, expected) && *err == 0);
    snprintf (line, sizeof line, "admin refund --purchase %s %s", purchase_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (*out == 0 && streq (err, "error: Purchase already refunded (ALREADY_REFUNDED)\n"));
    snprintf (line, sizeof line, "admin refund --purchase %s --json %s", purchase_id, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_REJECTED);
    assert (streq (out, "{\"ok\":false,\"error\":{\"code\":\"ALREADY_REFUNDED\",\"message\":"
                        "\"Purchase already refunded\"}}\n"));
    //  Another purchase, JSON, no reason: the record as a credit's.
    snprintf (line, sizeof line, "admin refund --purchase %s --json %s", other_purchase, tail);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_OK);
    snprintf (expected, sizeof expected,
              "{\"ok\":true,\"result\":{\"id\":\"co_zRefund\",\"userId\":\"%s\",\"amount\":25,"
              "\"reference\":\"refund:%s\",\"note\":\"\",\"balanceAfter\":125,\"timestamp\":%lld,"
              "\"by\":\"%s\"}}\n",
              user_id, other_purchase, S_TIMESTAMP_MS, worker_id);
    assert (streq (out, expected) && *err == 0);
    assert (script_gateway_sends (gateway) == 20);
    zactor_destroy (&gateway);

    //  No gateway: exit 2, as `tally send`.
    snprintf (line, sizeof line,
              "admin credit --user %s --amount 5 --reference r --gateway tcp://127.0.0.1:9 "
              "--worker %s --account-file %s --timeout-ms 300",
              user_id, worker_id, worker_file);
    assert (cli_run_line (cli_admin, line, out, err) == CLI_EXIT_USAGE);
    assert (strstr (err, "(TIMEOUT)"));
    unlink (worker_file);
    unlink (user_file);
    if (verbose)
        printf ("OK\n");
}
