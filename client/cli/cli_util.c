//  cli_util - seconds parsing, JSON and text output shared by the subcommands.
#include "cli.h"
#include "tly_account_load.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
cli_parse_seconds (const char *text, int64_t max_ms, int64_t *ms)
{
    assert (text && ms);
    assert (max_ms >= 1);
    const char *at = text;
    int64_t whole = 0;
    size_t whole_digits = 0;
    for (; *at >= '0' && *at <= '9'; at++, whole_digits++)
        if (__builtin_mul_overflow (whole, 10, &whole)
            || __builtin_add_overflow (whole, *at - '0', &whole))
            return -1;
    int64_t millis = 0;
    size_t decimals = 0;
    if (*at == '.') {
        for (at++; *at >= '0' && *at <= '9' && decimals < 3; at++, decimals++)
            millis = millis * 10 + (*at - '0');
        if (decimals == 0)
            return -1;  //  "5." or "."
    }
    if (*at != 0 || whole_digits + decimals == 0)
        return -1;
    for (size_t pad = decimals; pad < 3; pad++)
        millis *= 10;
    int64_t total;
    if (__builtin_mul_overflow (whole, 1000, &total)
        || __builtin_add_overflow (total, millis, &total) || total < 1 || total > max_ms)
        return -1;
    *ms = total;
    return 0;
}

//  Length of a valid UTF-8 sequence starting at text, or 0.
static size_t
s_utf8_sequence (const unsigned char *text)
{
    size_t size = text [0] >= 0xC2 && text [0] <= 0xDF   ? 2
                  : text [0] >= 0xE0 && text [0] <= 0xEF ? 3
                  : text [0] >= 0xF0 && text [0] <= 0xF4 ? 4
                                                         : 0;
    for (size_t i = 1; i < size; i++)
        if (text [i] == 0)
            return 0;
    if (size && tly_utf8_valid ((const char *) text, size))
        return size;
    return 0;
}

void
cli_json_string (FILE *out, const char *text)
{
    assert (out && text);
    const unsigned char *at = (const unsigned char *) text;
    fputc ('"', out);
    while (*at) {
        unsigned char c = *at;
        if (c == '"' || c == '\\') {
            fputc ('\\', out);
            fputc (c, out);
        } else if (c == '\n')
            fputs ("\\n", out);
        else if (c == '\r')
            fputs ("\\r", out);
        else if (c == '\t')
            fputs ("\\t", out);
        else if (c == '\b')
            fputs ("\\b", out);
        else if (c == '\f')
            fputs ("\\f", out);
        else if (c < 0x20 || c == 0x7F)
            fprintf (out, "\\u%04x", c);
        else if (c < 0x80)
            fputc (c, out);
        else {
            size_t size = s_utf8_sequence (at);
            if (size == 0) {
                fputs ("\\ufffd", out);
                size = 1;
            } else
                fwrite (at, 1, size, out);
            at += size;
            continue;
        }
        at++;
    }
    fputc ('"', out);
}

void
cli_json_account (FILE *out, const char *account_id, const char *secret, const char *name)
{
    fputs ("{\"account\":", out);
    cli_json_string (out, account_id);
    fputs (",\"secret\":", out);
    cli_json_string (out, secret);
    fputs (",\"name\":", out);
    cli_json_string (out, name);
    fputs ("}\n", out);
}

void
cli_json_error (FILE *out, Tally__ErrorCode code, const char *message)
{
    fputs ("{\"ok\":false,\"error\":{\"code\":", out);
    cli_json_string (out, tly_error_name (code));
    fputs (",\"message\":", out);
    cli_json_string (out, message);
    fputs ("}}\n", out);
}

void
cli_json_result (FILE *out, const tly_result_t *result)
{
    assert (out && result);
    if (!result->ok && result->retry_after_ms > 0) {
        fputs ("{\"ok\":false,\"error\":{\"code\":", out);
        cli_json_string (out, tly_error_name (result->code));
        fputs (",\"message\":", out);
        cli_json_string (out, result->message);
        fprintf (out, ",\"retryAfterMs\":%" PRId64 "}}\n", result->retry_after_ms);
        return;
    }
    if (!result->ok) {
        cli_json_error (out, result->code, result->message);
        return;
    }
    if (result->kind == TLY_RESULT_CONFIG) {
        fprintf (out, "{\"ok\":true,\"result\":{\"version\":%" PRIu64, result->config_version);
        if (*result->admin_id) {
            fputs (",\"adminId\":", out);
            cli_json_string (out, result->admin_id);
        }
        if (result->has_item) {
            fputs (",\"item\":", out);
            cli_json_catalog_item (out, result->item_id, result->price, result->active);
        }
        fputs ("}}\n", out);
        return;
    }
    if (result->kind == TLY_RESULT_ORDER) {
        fputs ("{\"ok\":true,\"result\":", out);
        cli_json_order (out, &result->order);
        fputs ("}\n", out);
        return;
    }
    fputs ("{\"ok\":true,\"result\":{\"id\":", out);
    cli_json_string (out, result->id);
    fputs (",\"userId\":", out);
    cli_json_string (out, result->user_id);
    if (result->kind == TLY_RESULT_BALANCE)
        fprintf (out, ",\"balance\":%" PRId64 ",\"lastUpdated\":%" PRId64, result->balance,
                 result->last_updated);
    else if (result->kind == TLY_RESULT_ADJUSTMENT) {
        fprintf (out, ",\"amount\":%" PRId64 ",\"reference\":", result->amount);
        cli_json_string (out, result->reference);
        fputs (",\"note\":", out);
        cli_json_string (out, result->note);
        fprintf (out, ",\"balanceAfter\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"by\":",
                 result->balance_after, result->timestamp);
        cli_json_string (out, result->by);
    } else {
        assert (result->kind == TLY_RESULT_PURCHASE);
        fputs (",\"itemId\":", out);
        cli_json_string (out, result->item_id);
        fprintf (out, ",\"amount\":%" PRId64 ",\"timestamp\":%" PRId64 ",\"balanceAfter\":%" PRId64,
                 result->amount, result->timestamp, result->balance_after);
        cli_json_purchase_refund (out, result->partition_seq, result->refund_id,
                                  result->refunded_at);
    }
    fputs ("}}\n", out);
}

void
cli_json_catalog_item (FILE *out, const char *item_id, int64_t price, bool active)
{
    fputs ("{\"itemId\":", out);
    cli_json_string (out, item_id);
    fprintf (out, ",\"price\":%" PRId64 ",\"active\":%s}", price, active ? "true" : "false");
}

void
cli_text_catalog_item (FILE *out, const char *item_id, int64_t price, bool active)
{
    fprintf (out, "item %s price %" PRId64 " %s", item_id, price, active ? "active" : "inactive");
}

void
cli_json_purchase_refund (FILE *out, uint64_t partition_seq, const char *refund_id,
                          int64_t refunded_at)
{
    fprintf (out, ",\"partitionSeq\":%" PRIu64 ",\"refundId\":", partition_seq);
    cli_json_string (out, refund_id);
    fprintf (out, ",\"refundedAt\":%" PRId64, refunded_at);
}

void
cli_text_refunded (FILE *out, const char *refund_id, int64_t refunded_at)
{
    if (!*refund_id)
        return;
    char when [32];
    cli_format_ms (refunded_at, when, sizeof when);
    fprintf (out, " refunded by %s at %s", refund_id, when);
}

const char *
cli_refund_of (const char *reference)
{
    size_t prefix = sizeof TLY_REFUND_PREFIX - 1;
    return strncmp (reference, TLY_REFUND_PREFIX, prefix) == 0 ? reference + prefix : NULL;
}

const char *
cli_adjustment_name (int64_t amount, const char *reference)
{
    if (amount > 0 && cli_refund_of (reference))
        return "refund";
    return amount > 0 ? "credit" : amount < 0 ? "debit" : "adjustment";
}

void
cli_format_ms (int64_t unix_ms, char *out, size_t out_size)
{
    assert (out_size >= 32);
    time_t seconds = (time_t) (unix_ms / 1000);
    int millis = (int) (unix_ms % 1000);
    if (millis < 0) {
        seconds--;
        millis += 1000;
    }
    struct tm utc;
    if (!gmtime_r (&seconds, &utc)) {
        snprintf (out, out_size, "%" PRId64 "ms", unix_ms);
        return;
    }
    char stamp [24];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf (out, out_size, "%s.%03dZ", stamp, millis);
}

void
cli_text_result (FILE *out, const tly_result_t *result)
{
    assert (out && result && result->ok);
    char when [32];
    if (result->kind == TLY_RESULT_BALANCE) {
        cli_format_ms (result->last_updated, when, sizeof when);
        fprintf (out, "balance %s user %s = %" PRId64 " (updated %s)\n", result->id,
                 result->user_id, result->balance, when);
    } else if (result->kind == TLY_RESULT_ADJUSTMENT && result->amount > 0
               && cli_refund_of (result->reference)) {
        cli_format_ms (result->timestamp, when, sizeof when);
        fprintf (out,
                 "refund %s of purchase %s user %s amount %" PRId64 " balanceAfter %" PRId64
                 " at %s by %s",
                 result->id, cli_refund_of (result->reference), result->user_id, result->amount,
                 result->balance_after, when, result->by);
        if (*result->note)
            fprintf (out, " reason %s", result->note);
        fputc ('\n', out);
    } else if (result->kind == TLY_RESULT_ADJUSTMENT) {
        cli_format_ms (result->timestamp, when, sizeof when);
        fprintf (
            out,
            "%s %s user %s amount %" PRId64 " balanceAfter %" PRId64 " reference %s at %s by %s",
            cli_adjustment_name (result->amount, result->reference), result->id, result->user_id,
            result->amount, result->balance_after, result->reference, when, result->by);
        if (*result->note)
            fprintf (out, " note %s", result->note);
        fputc ('\n', out);
    } else if (result->kind == TLY_RESULT_CONFIG) {
        fprintf (out, "config version %" PRIu64, result->config_version);
        if (*result->admin_id)
            fprintf (out, " admin %s", result->admin_id);
        if (result->has_item) {
            fputc (' ', out);
            cli_text_catalog_item (out, result->item_id, result->price, result->active);
        }
        fputc ('\n', out);
    } else if (result->kind == TLY_RESULT_ORDER) {
        cli_text_order (out, &result->order);
        fputc ('\n', out);
    } else {
        assert (result->kind == TLY_RESULT_PURCHASE);
        fprintf (out, "purchase %s item %s amount %" PRId64 " balanceAfter %" PRId64, result->id,
                 result->item_id, result->amount, result->balance_after);
        cli_text_refunded (out, result->refund_id, result->refunded_at);
        fputc ('\n', out);
    }
}

int
cli_report_result (const tly_result_t *result, bool json)
{
    if (json)
        cli_json_result (stdout, result);
    else if (result->ok)
        cli_text_result (stdout, result);
    else if (result->retry_after_ms > 0)
        fprintf (stderr, "error: %s (%s; retry in %" PRId64 " ms)\n", result->message,
                 tly_error_name (result->code), result->retry_after_ms);
    else
        fprintf (stderr, "error: %s (%s)\n", result->message, tly_error_name (result->code));
    return result->ok ? CLI_EXIT_OK : CLI_EXIT_REJECTED;
}

int
cli_report_error (const tly_error_t *error, bool json)
{
    if (json)
        cli_json_error (stdout, error->code, error->message);
    else
        fprintf (stderr, "error: %s (%s)\n", error->message, tly_error_name (error->code));
    bool unanswered = !error->remote || error->code == TALLY__ERROR_CODE__UNAVAILABLE
                      || error->code == TALLY__ERROR_CODE__TIMEOUT;
    return unanswered ? CLI_EXIT_USAGE : CLI_EXIT_REJECTED;
}

const char *
cli_gateway (const char *flag_value)
{
    if (flag_value)
        return flag_value;
    const char *env = getenv (TLY_ENV_GATEWAY);
    return env && *env ? env : TLY_ENDPOINT_GATEWAY;
}

const char *
cli_gateway_key (const char *flag_value)
{
    if (flag_value)
        return flag_value;
    const char *env = getenv (TLY_ENV_GATEWAY_KEY);
    return env && *env ? env : NULL;
}

int
cli_identity (const char *command, const char *worker_flag, const char *account_file,
              const char **worker, tly_account_t *account)
{
    assert (command && worker && account);
    *worker = worker_flag ? worker_flag : getenv (TLY_ENV_WORKER_ACCOUNT);
    uint8_t worker_pk [TLY_KEY_BYTES];
    if (!*worker || !**worker) {
        fprintf (stderr, "%s: no worker: pass --worker co_z... or set " TLY_ENV_WORKER_ACCOUNT "\n",
                 command);
        return CLI_EXIT_USAGE;
    }
    if (tly_account_id_parse (*worker, worker_pk) == -1) {
        fprintf (stderr, "%s: worker '%s' is not an account ID (co_z...)\n", command, *worker);
        return CLI_EXIT_USAGE;
    }
    char reason [256];
    int loaded = account_file ? tly_account_from_file (account_file, account, reason, sizeof reason)
                              : tly_account_from_env (TLY_ENV_ACCOUNT, TLY_ENV_SECRET, NULL, NULL,
                                                      account, reason, sizeof reason);
    if (loaded == -1) {
        fprintf (stderr,
                 "%s: %s (use --account-file FILE, or " TLY_ENV_ACCOUNT " and " TLY_ENV_SECRET
                 ")\n",
                 command, reason);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

int
cli_send_one (const char *command, const cli_send_options_t *options, const tly_msg_t *msg,
              bool as_worker)
{
    assert (command && options && msg);
    const char *worker;
    tly_account_t account;
    int rc = cli_identity (command, options->worker, options->account_file, &worker, &account);
    if (rc != -1)
        return rc;
    uint8_t worker_pk [TLY_KEY_BYTES];
    int parsed = tly_account_id_parse (worker, worker_pk);
    assert (parsed == 0);  //  cli_identity checked it
    if (as_worker && memcmp (account.sign_pk, worker_pk, TLY_KEY_BYTES) != 0) {
        char account_id [TLY_ID_MAX];
        tly_account_id (account.sign_pk, account_id);
        sodium_memzero (&account, sizeof account);
        fprintf (stderr,
                 "%s: the account %s is not the worker %s: only the worker may do this (pass "
                 "--account-file with the worker's account)\n",
                 command, account_id, worker);
        return CLI_EXIT_USAGE;
    }
    tly_sender_t *sender = tly_sender_new_curve (
        cli_gateway (options->gateway), cli_gateway_key (options->gateway_key), worker, &account);
    sodium_memzero (&account, sizeof account);
    if (!sender) {
        fprintf (stderr, "%s: cannot use gateway '%s'\n", command, cli_gateway (options->gateway));
        return CLI_EXIT_USAGE;
    }
    tly_result_t result;
    if (tly_sender_send_one (sender, msg, (int) options->timeout_ms, &result) == 0)
        rc = cli_report_result (&result, options->json);
    else
        rc = cli_report_error (tly_sender_error (sender), options->json);
    tly_sender_destroy (&sender);
    return rc;
}

//  The line of an argument a command does not take, after "<command>: ".
#define S_UNEXPECTED "unexpected argument '%s'"

int
cli_bad_option (const char *command, int argc, char **argv)
{
    tly_flags_bad_option (command, argc, argv);
    return CLI_EXIT_USAGE;
}

int
cli_parse_flags (const char *command, void (*usage) (FILE *out), const tly_flag_t *flags,
                 size_t count, int argc, char **argv, int *operand)
{
    //  Without operand, an argument that is not a flag is cli_unexpected's line.
    const char *stray = operand ? NULL : S_UNEXPECTED;
    tly_flags_spec_t spec = { command, usage, TLY_FLAGS_TRY_HELP, flags, count, stray };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, operand);
    if (parsed == TLY_FLAGS_RUN)
        return -1;
    return parsed == TLY_FLAGS_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int
cli_unexpected (const char *command, const char *argument)
{
    fprintf (stderr, "%s: " S_UNEXPECTED "\n", command, argument);
    return CLI_EXIT_USAGE;
}

int
cli_dispatch (const char *program, const cli_command_t *commands, void (*usage) (FILE *out),
              int argc, char **argv)
{
    assert (program && commands && usage && argv);
    if (argc < 2) {
        usage (stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv [1];
    if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0) {
        usage (stdout);
        return CLI_EXIT_OK;
    }
    for (const cli_command_t *command = commands; command->name; command++)
        if (strcmp (name, command->name) == 0)
            return command->run (argc - 1, argv + 1);
    fprintf (stderr, "%s: unknown command '%s'\n", program, name);
    usage (stderr);
    return CLI_EXIT_USAGE;
}

int
cli_read_snapshot (const char *command, const cli_send_options_t *options, const char *worker,
                   tly_account_t *account, const char *object_id, tly_object_fn *on_object,
                   void *arg)
{
    assert (command && options && worker && account && object_id && on_object);
    tly_watcher_t *watcher = tly_watcher_new_curve (
        cli_gateway (options->gateway), cli_gateway_key (options->gateway_key), worker, account);
    sodium_memzero (account, sizeof *account);
    if (!watcher) {
        fprintf (stderr, "%s: cannot use gateway '%s'\n", command, cli_gateway (options->gateway));
        return CLI_EXIT_USAGE;
    }
    int rc = -1;
    if (tly_watcher_subscribe (watcher, object_id, on_object, arg, (int) options->timeout_ms) == 0)
        tly_watcher_unsubscribe (watcher, object_id, CLI_UNSUBSCRIBE_MS);
    else
        rc = cli_report_error (tly_watcher_error (watcher), options->json);
    tly_watcher_destroy (&watcher);
    return rc;
}
