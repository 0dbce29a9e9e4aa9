//  tly_orders_config - tally-orders' flags, their defaults and ranges.
#include "tly_orders_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_account_load.h"
#include "tly_curve.h"
#include "tly_endpoints.h"
#include "tly_limits.h"

#define TIMEOUT_MS_MAX  600000LL
#define BACKOFF_MS_MAX  ((long long) TLY_ORDERS_BACKOFF_CAP_MS)
#define DEADLINE_MS_MAX (7LL * 24 * 3600 * 1000)  //  a week

_Static_assert(TLY_ORDERS_TIMEOUT_MS >= 1 && TLY_ORDERS_TIMEOUT_MS <= TIMEOUT_MS_MAX,
               "--timeout-ms default");
_Static_assert(TLY_ORDERS_BACKOFF_MS >= 1 && TLY_ORDERS_BACKOFF_MS <= BACKOFF_MS_MAX,
               "--backoff-ms default");
_Static_assert(TLY_ORDERS_DEADLINE_MS >= 1 && TLY_ORDERS_DEADLINE_MS <= DEADLINE_MS_MAX,
               "--deadline-ms default");
_Static_assert(TLY_ORDERS_ATTEMPTS >= 1 && TLY_ORDERS_ATTEMPTS <= TLY_ORDERS_ATTEMPTS_MAX,
               "--attempts default");
_Static_assert(TLY_ORDERS_CONCURRENCY >= 1 && TLY_ORDERS_CONCURRENCY <= TLY_ORDERS_CONCURRENCY_MAX,
               "--concurrency default");

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: " TLY_ORDERS_PROCESS " --service-url URL [options]\n"
        "The order processor: as the worker, follows every partition's OrderQueue, POSTs\n"
        "each order in processing to the external service (Idempotency-Key: the order's\n"
        "ID), then completes the order (2xx) or fails it (docs/architecture.md, \"Orders\").\n"
        "  --gateway ENDPOINT   the gateway (default $" TLY_ENV_GATEWAY
        ", else " TLY_ENDPOINT_GATEWAY ")\n"
        "  --gateway-key KEY    its CURVE public key, Z85 or a .key file (default\n"
        "                       $" TLY_ENV_GATEWAY_KEY "; none: no CURVE)\n"
        "  --worker ID          the worker's account ID (default $" TLY_ENV_WORKER_ACCOUNT ")\n"
        "  --account FILE       the worker's account file (`tally account create --json`,\n"
        "                       tally up's DIR/worker.json); default $" TLY_ENV_WORKER_ACCOUNT
        "\n                       and $" TLY_ENV_WORKER_SECRET "\n"
        "  --service-url URL    where a charge is POSTed, http:// or https:// (default\n"
        "                       $" TLY_ENV_ORDER_SERVICE ")\n"
        "  --void-url URL       where a void is POSTed (default: --service-url with its\n"
        "                       last path segment replaced by \"void\")\n"
        "  --timeout-ms MS      one HTTP call's limit (default %d)\n"
        "  --attempts N         charges per order before it is voided and failed (default %d)\n"
        "  --backoff-ms MS      the first wait between attempts, doubling, at most %d\n"
        "                       (default %d)\n"
        "  --deadline-ms MS     an order still processing MS after it was submitted is\n"
        "                       voided and failed, \"deadline passed\" (default %d)\n"
        "  --concurrency C      HTTP calls in flight at most (default %d)\n"
        "  --shard K/N          only partitions p with p %% N == K (default: all)\n"
        "  --partitions N       the cluster's partition count (default: its ServiceInfo's)\n"
        "  --health-file PATH   rewrite PATH about once a second with this process's\n"
        "                       state, for `tally health` (default: none)\n"
        "  --log-level LEVEL    debug|info|warn|error (default info)\n"
        "  --help               this text\n",
        TLY_ORDERS_TIMEOUT_MS, TLY_ORDERS_ATTEMPTS, TLY_ORDERS_BACKOFF_CAP_MS,
        TLY_ORDERS_BACKOFF_MS, TLY_ORDERS_DEADLINE_MS, TLY_ORDERS_CONCURRENCY);
}

int
tly_orders_config_shard (const char *text, uint32_t *index, uint32_t *count)
{
    const char *slash = strchr (text, '/');
    if (!slash || slash == text || slash - text > 10)
        return -1;
    char left [12];
    snprintf (left, sizeof left, "%.*s", (int) (slash - text), text);
    int64_t k, n;
    if (tly_flags_parse_int (left, 0, TLY_PARTITIONS_MAX - 1, &k) == -1
        || tly_flags_parse_int (slash + 1, 1, TLY_PARTITIONS_MAX, &n) == -1 || k >= n)
        return -1;
    *index = (uint32_t) k;
    *count = (uint32_t) n;
    return 0;
}

static int
s_take_shard (const char *program, const char *text, void *target)
{
    uint32_t *shard = target;
    if (tly_orders_config_shard (text, &shard [0], &shard [1]) == 0)
        return 0;
    fprintf (stderr, "%s: --shard must be K/N with 0 <= K < N <= %d, got '%s'\n", program,
             TLY_PARTITIONS_MAX, text);
    return -1;
}

//  The worker's account, from --account or the environment; it must be
//  the worker: only the worker reads the queues.
static int
s_account (tly_orders_config_t *config, const char *account_file)
{
    char error [256];
    int rc = account_file
                 ? tly_account_from_file (account_file, &config->account, error, sizeof error)
                 : tly_account_from_env (TLY_ENV_WORKER_ACCOUNT, TLY_ENV_WORKER_SECRET, NULL, NULL,
                                         &config->account, error, sizeof error);
    if (rc == -1) {
        fprintf (stderr, TLY_ORDERS_PROCESS ": cannot read the worker's account%s%s: %s\n",
                 account_file ? " from --account "
                              : " (--account FILE, or $" TLY_ENV_WORKER_SECRET ")",
                 account_file ? account_file : "", error);
        return -1;
    }
    char id [TLY_ID_MAX];
    tly_account_id (config->account.sign_pk, id);
    if (!config->worker) {
        static char worker [TLY_ID_MAX];
        snprintf (worker, sizeof worker, "%s", id);
        config->worker = worker;
    }
    uint8_t key [TLY_KEY_BYTES];
    if (tly_account_id_parse (config->worker, key) == -1) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": --worker must be an account ID (co_z...), got '%s'\n",
                 config->worker);
        return -1;
    }
    if (strcmp (id, config->worker) != 0) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": the account %s is not the worker %s: only the worker"
                                    " reads the order queues and completes orders\n",
                 id, config->worker);
        return -1;
    }
    return 0;
}

tly_flags_parsed_t
tly_orders_config_parse (tly_orders_config_t *config, const char **health_file, tly_level_t *level,
                         int argc, char *argv [])
{
    *config = (tly_orders_config_t) { .gateway = getenv (TLY_ENV_GATEWAY),
                                      .gateway_key = getenv (TLY_ENV_GATEWAY_KEY),
                                      .worker = getenv (TLY_ENV_WORKER_ACCOUNT),
                                      .service_url = getenv (TLY_ENV_ORDER_SERVICE),
                                      .timeout_ms = TLY_ORDERS_TIMEOUT_MS,
                                      .attempts = TLY_ORDERS_ATTEMPTS,
                                      .backoff_ms = TLY_ORDERS_BACKOFF_MS,
                                      .deadline_ms = TLY_ORDERS_DEADLINE_MS,
                                      .concurrency = TLY_ORDERS_CONCURRENCY,
                                      .shard_count = 1 };
    if (!config->gateway || !*config->gateway)
        config->gateway = TLY_ENDPOINT_GATEWAY;
    if (config->gateway_key && !*config->gateway_key)
        config->gateway_key = NULL;
    const char *account_file = NULL, *void_url = NULL;
    uint32_t shard [2] = { 0, 1 };
    *health_file = NULL;
    *level = TLY_INFO;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--gateway", &config->gateway),
        TLY_FLAG_TEXT ("--gateway-key", &config->gateway_key),
        TLY_FLAG_TEXT ("--worker", &config->worker),
        TLY_FLAG_TEXT ("--account", &account_file),
        TLY_FLAG_TEXT ("--service-url", &config->service_url),
        TLY_FLAG_TEXT ("--void-url", &void_url),
        TLY_FLAG_INT ("--timeout-ms", &config->timeout_ms, 1, TIMEOUT_MS_MAX),
        TLY_FLAG_INT ("--attempts", &config->attempts, 1, TLY_ORDERS_ATTEMPTS_MAX),
        TLY_FLAG_INT ("--backoff-ms", &config->backoff_ms, 1, BACKOFF_MS_MAX),
        TLY_FLAG_INT ("--deadline-ms", &config->deadline_ms, 1, DEADLINE_MS_MAX),
        TLY_FLAG_INT ("--concurrency", &config->concurrency, 1, TLY_ORDERS_CONCURRENCY_MAX),
        TLY_FLAG_CALL ("--shard", s_take_shard, shard, NULL),
        TLY_FLAG_INT ("--partitions", &config->partitions, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_TEXT ("--health-file", health_file),
        TLY_FLAG_LEVEL (level),
        TLY_FLAG_HELP
    };
    tly_flags_spec_t spec = { TLY_ORDERS_PROCESS,
                              s_usage,
                              TLY_FLAGS_ONE_LINE,
                              flags,
                              sizeof flags / sizeof flags [0],
                              "unexpected argument '%s'; see --help" };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
    if (parsed != TLY_FLAGS_RUN)
        return parsed;
    config->shard_index = shard [0];
    config->shard_count = shard [1];
    if (!config->service_url || !*config->service_url) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": --service-url is required (or $" TLY_ENV_ORDER_SERVICE
                                    "), e.g. http://127.0.0.1:8080/charge\n");
        return TLY_FLAGS_USAGE;
    }
    if (!tly_order_url_valid (config->service_url)) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": --service-url must be an http:// or https:// URL of"
                                    " at most %d bytes, got '%s'\n",
                 TLY_ORDER_URL_SIZE - 1, config->service_url);
        return TLY_FLAGS_USAGE;
    }
    if (void_url) {
        if (!tly_order_url_valid (void_url)) {
            fprintf (stderr,
                     TLY_ORDERS_PROCESS ": --void-url must be an http:// or https:// URL of"
                                        " at most %d bytes, got '%s'\n",
                     TLY_ORDER_URL_SIZE - 1, void_url);
            return TLY_FLAGS_USAGE;
        }
        snprintf (config->void_url, sizeof config->void_url, "%s", void_url);
    } else if (tly_order_void_url (config->service_url, config->void_url, sizeof config->void_url)
               == -1) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": --service-url: the void URL made from it would be over %d"
                                    " bytes; give --void-url\n",
                 TLY_ORDER_URL_SIZE - 1);
        return TLY_FLAGS_USAGE;
    }
    if (config->partitions && config->shard_count > config->partitions) {
        fprintf (stderr, TLY_ORDERS_PROCESS ": --shard %u/%u: N is more than the %u partitions\n",
                 config->shard_index, config->shard_count, config->partitions);
        return TLY_FLAGS_USAGE;
    }
    //  Known at start, a shard wider than one processor can follow is
    //  refused here rather than followed in part (orders.too_many_queues).
    size_t followed = config->partitions ? tly_orders_shard_partitions (
                          config->shard_index, config->shard_count, config->partitions)
                                         : 0;
    if (followed > TLY_ORDERS_QUEUES_MAX) {
        fprintf (stderr,
                 TLY_ORDERS_PROCESS ": --shard %u/%u would follow %zu of the %u partitions; one"
                                    " processor follows at most %d: give --shard K/N with a larger"
                                    " N\n",
                 config->shard_index, config->shard_count, followed, config->partitions,
                 TLY_ORDERS_QUEUES_MAX);
        return TLY_FLAGS_USAGE;
    }
    if (s_account (config, account_file) == -1)
        return TLY_FLAGS_USAGE;
    return TLY_FLAGS_RUN;
}
