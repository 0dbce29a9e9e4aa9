//  cli - the `tally` command: shared helpers and one entry point per subcommand.
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tly_curve.h"
#include "tally.h"
#include "tly_endpoints.h"
#include "tly_flags.h"  //  tly_flags_int for every integer flag

#define CLI_EXIT_OK       0
#define CLI_EXIT_REJECTED 1  //  the cluster refused the request
#define CLI_EXIT_USAGE    2  //  bad arguments, or no answer (timeout, no gateway)

#define CLI_TIMEOUT_MS_DEFAULT 10000
#define CLI_TIMEOUT_MS_MAX     3600000
#define CLI_ENDPOINT_MAX       256

//  Subcommands: argv [0] is the subcommand's own name ("send", "watch", ...).
//  `tally up`, `tally bench` and `tally audit` have their own libraries:
//  up.h, bench.h, cli_audit.h.
int cli_account (int argc, char **argv);
int cli_send (int argc, char **argv);
int cli_admin (int argc, char **argv);
int cli_order (int argc, char **argv);
int cli_catalog (int argc, char **argv);
int cli_status (int argc, char **argv);
int cli_watch (int argc, char **argv);
int cli_health (int argc, char **argv);
int cli_keys (int argc, char **argv);
//  The CURVE keys of one cluster in dir (mode 0755), made where missing:
//  NAME.key and NAME.key_secret for the router, the audit writer, the
//  gateway and the balance actors (one key for all of them), and the
//  folders the servers trust, actors/ and gateways/. uid and gid (both -1:
//  unchanged) own every file. gateway_key (when not NULL) gets the gateway's
//  public key in Z85. -1 with one line in error.
int cli_keys_cluster (const char *dir, int64_t uid, int64_t gid,
                      char gateway_key [TLY_CURVE_Z85_CHARS + 1], char *error, size_t error_size);

//  A command of a command table: its name and what runs it (argv [0] is the
//  name).
typedef struct {
    const char *name;
    int (*run) (int argc, char **argv);
} cli_command_t;

//  Runs the command argv [1] names from commands (ended by a { NULL, NULL }
//  row), passing argv from the name on. With no command, --help, -h or help
//  it prints usage (on stdout when asked for, with CLI_EXIT_OK); an unknown
//  command gets "PROGRAM: unknown command 'X'", the usage and CLI_EXIT_USAGE.
int cli_dispatch (const char *program, const cli_command_t *commands, void (*usage) (FILE *out),
                  int argc, char **argv);

//  Parses seconds with at most three decimals ("2", "0.5", ".25") into
//  milliseconds in [1, max_ms]. Returns 0 or -1.
int cli_parse_seconds (const char *text, int64_t max_ms, int64_t *ms);

//  Writes text as a JSON string literal, quotes included. Control characters
//  are escaped; bytes that are not valid UTF-8 become U+FFFD.
void cli_json_string (FILE *out, const char *text);
//  {"account":"co_z...","secret":"...","name":"..."} and a newline.
void cli_json_account (FILE *out, const char *account_id, const char *secret, const char *name);
//  One reply as one line of JSON.
void cli_json_result (FILE *out, const tly_result_t *result);
void cli_json_error (FILE *out, Tally__ErrorCode code, const char *message);
//  One successful result as one human line (a refund's adjustment: "refund
//  ID of purchase P user U amount N balanceAfter B at T by W [reason R]").
void cli_text_result (FILE *out, const tly_result_t *result);
//  A catalog item: {"itemId":..,"price":N,"active":true|false} (no newline),
//  and as text: "item ID price N active|inactive" (no newline).
void cli_json_catalog_item (FILE *out, const char *item_id, int64_t price, bool active);
void cli_text_catalog_item (FILE *out, const char *item_id, int64_t price, bool active);
//  "credit" for an adjustment's amount > 0, "debit" for < 0; "refund" for a
//  credit whose reference is a refund's.
const char *cli_adjustment_name (int64_t amount, const char *reference);
//  The purchase ID a refund's reference ("refund:" + it) names, or NULL
//  when reference is no refund's.
const char *cli_refund_of (const char *reference);
//  A purchase's partitionSeq, refundId ("" until refunded) and refundedAt
//  (0 until then) as JSON members, each after a comma: ,"partitionSeq":N,...
void cli_json_purchase_refund (FILE *out, uint64_t partition_seq, const char *refund_id,
                               int64_t refunded_at);
//  " refunded by ID at 2026-...Z" when refund_id is set, else nothing.
void cli_text_refunded (FILE *out, const char *refund_id, int64_t refunded_at);
//  Unix ms as 2026-11-27T07:00:00.123Z into out (at least 32 bytes).
void cli_format_ms (int64_t unix_ms, char *out, size_t out_size);

//  Orders (cli_order.c). The --item flags of `tally order create|edit`, a
//  TLY_FLAG_CALL row's target: ITEM (the catalog price, amount 0) or
//  ITEM=AMOUNT (the last '=' starts the amount), at most
//  TLY_ORDER_ITEMS_MAX of them; the SDK checks the rest.
typedef struct {
    size_t count;
    tly_order_item_t items [TLY_ORDER_ITEMS_MAX];
} cli_order_items_t;

int cli_take_item (const char *command, const char *text, void *target);
//  The ORDER_ID operand at argv [operand] (cli_parse_flags' operand) into
//  *order_id: there, alone, an order's ID. Returns -1 to go on, or
//  CLI_EXIT_USAGE after one line on stderr.
int cli_order_operand (const char *command, int argc, char **argv, int operand,
                       const char **order_id);
//  "order ID STATUS total N items K [error E]" (no newline).
void cli_text_order (FILE *out, const tly_order_t *order);
//  One line per line of the order: "  item ITEM amount N [purchase P]".
void cli_text_order_lines (FILE *out, const tly_order_t *order);
//  "order ID STATUS total N version V" (no newline).
void cli_text_order_summary (FILE *out, const tly_order_summary_t *summary);
//  {"id":..,"userId":..,"status":"draft",.."items":[{"itemId":..,"amount":N}],
//  "total":N,"error":..,"version":N,"createdAt":N,"updatedAt":N,
//  "submittedAt":N,"finishedAt":N,"purchaseIds":[..]} (no newline).
void cli_json_order (FILE *out, const tly_order_t *order);
//  [{"id":..,"userId":..,"status":..,"total":N,"version":N,"updatedAt":N,
//  "submittedAt":N},..] (no newline).
void cli_json_order_summaries (FILE *out, const tly_order_summary_t *summaries, size_t count);

//  Prints a result (stdout, or stderr for a refusal in text mode) and
//  returns the exit code it deserves.
int cli_report_result (const tly_result_t *result, bool json);
//  Prints a whole-request failure and returns its exit code: CLI_EXIT_USAGE
//  when no answer came or the cluster could not take the request, otherwise
//  CLI_EXIT_REJECTED.
int cli_report_error (const tly_error_t *error, bool json);

//  The gateway endpoint: the flag, else $TALLY_GATEWAY, else the default.
const char *cli_gateway (const char *flag_value);
//  The gateway's CURVE public key: the flag (--gateway-key), else
//  $TALLY_GATEWAY_KEY, else NULL (no CURVE).
const char *cli_gateway_key (const char *flag_value);
#define CLI_GATEWAY_KEY_USAGE                                                          \
    "  --gateway-key KEY     the gateway's CURVE public key, when it requires CURVE\n" \
    "                        (default $" TLY_ENV_GATEWAY_KEY ", which tally up writes)\n"

//  The worker (worker_flag, else $TALLY_WORKER_ACCOUNT) into *worker, and
//  the caller's account (account_file, else $TALLY_ACCOUNT and $TALLY_SECRET).
//  Returns -1 to go on, or CLI_EXIT_USAGE after one line on stderr.
int cli_identity (const char *command, const char *worker_flag, const char *account_file,
                  const char **worker, tly_account_t *account);

//  What every command that signs and sends one inbox message (`tally send`,
//  `tally admin`, `tally catalog set`) takes: where to, as whom, how long, how to print. Set
//  timeout_ms to CLI_TIMEOUT_MS_DEFAULT before parsing; CLI_SEND_FLAGS are
//  the rows of a flag table that fill it.
typedef struct {
    const char *gateway;
    const char *gateway_key;
    const char *worker;
    const char *account_file;
    int64_t timeout_ms;
    bool json;
} cli_send_options_t;

//  How long a command waits for the gateway to confirm an unsubscribe.
#define CLI_UNSUBSCRIBE_MS 1000

//  Reads one object's snapshot as account (zeroed here) through the
//  gateway of options: subscribes to object_id, calling on_object with
//  every version until the first has come (it keeps what it needs),
//  unsubscribes. Returns -1 when the snapshot came (the caller prints
//  it), or the exit code after reporting the refusal or the failure.
int cli_read_snapshot (const char *command, const cli_send_options_t *options, const char *worker,
                       tly_account_t *account, const char *object_id, tly_object_fn *on_object,
                       void *arg);

#define CLI_SEND_FLAGS(options)                                                       \
    TLY_FLAG_TEXT ("--gateway", &(options)->gateway),                                 \
        TLY_FLAG_TEXT ("--gateway-key", &(options)->gateway_key),                     \
        TLY_FLAG_TEXT ("--worker", &(options)->worker),                               \
        TLY_FLAG_TEXT ("--account-file", &(options)->account_file),                   \
        TLY_FLAG_INT ("--timeout-ms", &(options)->timeout_ms, 1, CLI_TIMEOUT_MS_MAX), \
        TLY_FLAG_BOOL ("--json", &(options)->json)
//  Their usage lines: the gateway and the worker, then (after the command's
//  own --account-file line) the timeout and --json.
#define CLI_SEND_GATEWAY_USAGE                                                   \
    "  --gateway ENDPOINT    gateway to send to (default $" TLY_ENV_GATEWAY ", " \
    "else " TLY_ENDPOINT_GATEWAY ")\n" CLI_GATEWAY_KEY_USAGE                     \
    "  --worker co_z...      the worker inbox (default $" TLY_ENV_WORKER_ACCOUNT ")\n"
#define CLI_SEND_TIMEOUT_USAGE                                                          \
    "  --timeout-ms MS       give up after MS milliseconds (default 10000); the same\n" \
    "                        signed message is resent within it, which is safe\n"       \
    "  --json                print {\"ok\":..,\"result\"|\"error\":..} instead of text\n"

//  Signs msg as the account options name (cli_identity), sends it through
//  the gateway and prints the answer (cli_report_result, cli_report_error).
//  With as_worker, the account must be the worker itself: another is
//  refused before anything is sent. Returns the exit code.
int cli_send_one (const char *command, const cli_send_options_t *options, const tly_msg_t *msg,
                  bool as_worker);

//  Reports an unknown option or missing argument met by getopt_long and
//  returns CLI_EXIT_USAGE.
int cli_bad_option (const char *command, int argc, char **argv);

//  A subcommand's flags by tly_flags_parse, the CLI's way (-h is --help; an
//  unknown flag: cli_bad_option's line). Returns -1 to go on, with *operand
//  the index of the first argument that is not a flag, or the exit code:
//  CLI_EXIT_OK after --help, CLI_EXIT_USAGE after one line on stderr. A
//  command that takes no operands passes operand NULL: one is then refused
//  with cli_unexpected's line.
int cli_parse_flags (const char *command, void (*usage) (FILE *out), const tly_flag_t *flags,
                     size_t count, int argc, char **argv, int *operand);
//  "<command>: unexpected argument '<argument>'" on stderr; returns CLI_EXIT_USAGE.
int cli_unexpected (const char *command, const char *argument);

#endif
