//  tly_orders_config_test - tally-orders' command line: the defaults, every
//  flag into the config, --shard's K/N, the void URL, and the one-line
//  refusals (no service URL, a bad URL or shard, an account that cannot be
//  read or is not the worker).
#include "tly_orders_config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tly_account_load.h"
#include "tly_curve.h"

static tly_flags_parsed_t
s_parse (tly_orders_config_t *config, char **argv)
{
    int argc = 0;
    while (argv [argc])
        argc++;
    const char *health;
    tly_level_t level;
    return tly_orders_config_parse (config, &health, &level, argc, argv);
}

void
tly_orders_config_test (bool verbose)
{
    if (verbose)
        printf (" * tly_orders_config: ");
    //  The shard's K/N.
    uint32_t k, n;
    assert (tly_orders_config_shard ("0/1", &k, &n) == 0 && k == 0 && n == 1);
    assert (tly_orders_config_shard ("2/3", &k, &n) == 0 && k == 2 && n == 3);
    assert (tly_orders_config_shard ("65535/65536", &k, &n) == 0 && k == 65535 && n == 65536);
    const char *bad [] = { "3/3", "1/0", "0/65537", "/2", "1/", "1", "a/2", "-1/2", "1/2x", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert (tly_orders_config_shard (bad [i], &k, &n) == -1);

    //  A worker account, in the environment and in a file.
    tly_account_t worker, other;
    assert (tly_account_generate (&worker) == 0 && tly_account_generate (&other) == 0);
    char worker_id [TLY_ID_MAX], other_id [TLY_ID_MAX], secret [TLY_SECRET_MAX];
    tly_account_id (worker.sign_pk, worker_id);
    tly_account_id (other.sign_pk, other_id);
    tly_account_secret (&worker, secret);
    char path [] = "/tmp/tly_orders_config_test.XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    FILE *file = fdopen (fd, "w");
    fprintf (file, "{\"account\":\"%s\",\"secret\":\"%s\"}\n", worker_id, secret);
    fclose (file);
    unsetenv (TLY_ENV_ORDER_SERVICE);
    unsetenv (TLY_ENV_GATEWAY);
    unsetenv (TLY_ENV_GATEWAY_KEY);
    setenv (TLY_ENV_WORKER_ACCOUNT, worker_id, 1);
    setenv (TLY_ENV_WORKER_SECRET, secret, 1);

    //  The defaults, with the account from the environment.
    tly_orders_config_t config;
    char *plain [] = { "tally-orders", "--service-url", "http://127.0.0.1:9/pay/charge", NULL };
    assert (s_parse (&config, plain) == TLY_FLAGS_RUN);
    assert (strcmp (config.gateway, "tcp://127.0.0.1:7700") == 0 && !config.gateway_key);
    assert (strcmp (config.worker, worker_id) == 0);
    assert (memcmp (config.account.sign_pk, worker.sign_pk, TLY_KEY_BYTES) == 0);
    assert (strcmp (config.void_url, "http://127.0.0.1:9/pay/void") == 0);
    assert (config.timeout_ms == TLY_ORDERS_TIMEOUT_MS && config.attempts == TLY_ORDERS_ATTEMPTS);
    assert (config.backoff_ms == TLY_ORDERS_BACKOFF_MS);
    assert (config.deadline_ms == TLY_ORDERS_DEADLINE_MS);
    assert (config.concurrency == TLY_ORDERS_CONCURRENCY);
    assert (config.shard_index == 0 && config.shard_count == 1 && config.partitions == 0);

    //  Every flag, the account from its file.
    char *all [] = { "tally-orders",
                     "--gateway",
                     "tcp://127.0.0.1:29399",
                     "--gateway-key",
                     "keys/g.key",
                     "--worker",
                     worker_id,
                     "--account",
                     path,
                     "--service-url",
                     "https://pay.example/v1/charge",
                     "--void-url",
                     "https://pay.example/v1/cancel",
                     "--timeout-ms",
                     "250",
                     "--attempts",
                     "7",
                     "--backoff-ms",
                     "10",
                     "--deadline-ms",
                     "60000",
                     "--concurrency",
                     "3",
                     "--shard",
                     "1/4",
                     "--partitions",
                     "16",
                     "--log-level",
                     "debug",
                     NULL };
    unsetenv (TLY_ENV_WORKER_SECRET);
    assert (s_parse (&config, all) == TLY_FLAGS_RUN);
    assert (strcmp (config.gateway, "tcp://127.0.0.1:29399") == 0);
    assert (strcmp (config.gateway_key, "keys/g.key") == 0);
    assert (strcmp (config.void_url, "https://pay.example/v1/cancel") == 0);
    assert (config.timeout_ms == 250 && config.attempts == 7 && config.backoff_ms == 10);
    assert (config.deadline_ms == 60000 && config.concurrency == 3);
    assert (config.shard_index == 1 && config.shard_count == 4 && config.partitions == 16);
    assert (memcmp (config.account.sign_pk, worker.sign_pk, TLY_KEY_BYTES) == 0);

    //  The service URL from the environment.
    setenv (TLY_ENV_ORDER_SERVICE, "http://charge:8080/charge", 1);
    char *from_env [] = { "tally-orders", "--account", path, NULL };
    assert (s_parse (&config, from_env) == TLY_FLAGS_RUN);
    assert (strcmp (config.service_url, "http://charge:8080/charge") == 0);
    assert (strcmp (config.void_url, "http://charge:8080/void") == 0);
    unsetenv (TLY_ENV_ORDER_SERVICE);

    //  Refusals, each one line on stderr.
    char *no_url [] = { "tally-orders", "--account", path, NULL };
    assert (s_parse (&config, no_url) == TLY_FLAGS_USAGE);
    char *ftp [] = { "tally-orders", "--account", path, "--service-url", "ftp://x/charge", NULL };
    assert (s_parse (&config, ftp) == TLY_FLAGS_USAGE);
    char *void_ftp [] = { "tally-orders", "--account",  path,           "--service-url",
                          "http://x/c",   "--void-url", "ftp://x/void", NULL };
    assert (s_parse (&config, void_ftp) == TLY_FLAGS_USAGE);
    char *shard [] = { "tally-orders", "--account", path,  "--service-url",
                       "http://x/c",   "--shard",   "4/4", NULL };
    assert (s_parse (&config, shard) == TLY_FLAGS_USAGE);
    char *wide [] = {
        "tally-orders", "--account", path, "--service-url", "http://x/c", "--shard", "1/8",
        "--partitions", "4",         NULL
    };
    assert (s_parse (&config, wide) == TLY_FLAGS_USAGE);
    char *zero [] = { "tally-orders", "--account",  path, "--service-url",
                      "http://x/c",   "--attempts", "0",  NULL };
    assert (s_parse (&config, zero) == TLY_FLAGS_USAGE);
    char *missing [] = { "tally-orders",  "--account",  "/nonexistent/worker.json",
                         "--service-url", "http://x/c", NULL };
    assert (s_parse (&config, missing) == TLY_FLAGS_USAGE);
    char *not_worker [] = { "tally-orders", "--account",     path,         "--worker",
                            other_id,       "--service-url", "http://x/c", NULL };
    assert (s_parse (&config, not_worker) == TLY_FLAGS_USAGE);
    char *no_secret [] = { "tally-orders", "--service-url", "http://x/c", NULL };
    assert (s_parse (&config, no_secret) == TLY_FLAGS_USAGE);
    char *stray [] = { "tally-orders", "--account", path, "--service-url",
                       "http://x/c",   "extra",     NULL };
    assert (s_parse (&config, stray) == TLY_FLAGS_USAGE);

    //  Every numeric flag at its edges: the ends of its range taken, one
    //  past either end refused.
    struct {
        const char *flag;
        long long min, max;
    } edges [] = { { "--timeout-ms", 1, 600000 },
                   { "--attempts", 1, TLY_ORDERS_ATTEMPTS_MAX },
                   { "--backoff-ms", 1, TLY_ORDERS_BACKOFF_CAP_MS },
                   { "--deadline-ms", 1, 7LL * 24 * 3600 * 1000 },
                   { "--concurrency", 1, TLY_ORDERS_CONCURRENCY_MAX },
                   //  unsharded, as many as one processor follows (the
                   //  flag's own TLY_PARTITIONS_MAX: with --shard, below)
                   { "--partitions", 1, TLY_ORDERS_QUEUES_MAX } };
    for (size_t i = 0; i < sizeof edges / sizeof edges [0]; i++) {
        long long values [] = { edges [i].min - 1, edges [i].min, edges [i].max,
                                edges [i].max + 1 };
        for (size_t v = 0; v < 4; v++) {
            char value [24];
            snprintf (value, sizeof value, "%lld", values [v]);
            char *edge [] = { "tally-orders",  "--account",  path,
                              "--service-url", "http://x/c", (char *) edges [i].flag,
                              value,           NULL };
            bool inside = v == 1 || v == 2;
            assert (s_parse (&config, edge) == (inside ? TLY_FLAGS_RUN : TLY_FLAGS_USAGE));
        }
    }
    char *widest [] = { "tally-orders", "--account", path,          "--service-url",
                        "http://x/c",   "--shard",   "65535/65536", NULL };
    assert (s_parse (&config, widest) == TLY_FLAGS_RUN);
    assert (config.shard_index == 65535 && config.shard_count == 65536);
    char *fits [] = {
        "tally-orders", "--account", path, "--service-url", "http://x/c", "--shard", "3/4",
        "--partitions", "4",         NULL
    };
    assert (s_parse (&config, fits) == TLY_FLAGS_RUN);

    //  The URLs at their length limit: TLY_ORDER_URL_SIZE - 1 bytes taken.
    char url [TLY_ORDER_URL_SIZE + 1];
    strcpy (url, "http://x/");
    memset (url + 9, 'c', TLY_ORDER_URL_SIZE - 1 - 9);
    url [TLY_ORDER_URL_SIZE - 1] = 0;
    char *long_void [] = { "tally-orders", "--account",  path, "--service-url",
                           "http://x/c",   "--void-url", url,  NULL };
    assert (s_parse (&config, long_void) == TLY_FLAGS_RUN);
    assert (strlen (config.void_url) == TLY_ORDER_URL_SIZE - 1);
    char *long_service [] = { "tally-orders", "--account", path, "--service-url", url, NULL };
    assert (s_parse (&config, long_service) == TLY_FLAGS_RUN);
    assert (strcmp (config.void_url, "http://x/void") == 0);
    strcat (url, "c");
    assert (s_parse (&config, long_void) == TLY_FLAGS_USAGE);
    assert (s_parse (&config, long_service) == TLY_FLAGS_USAGE);
    //  A service URL at the limit with no path: its void URL (+ "/void")
    //  would not fit, so it needs --void-url.
    memcpy (url, "http://", 7);
    memset (url + 7, 'h', TLY_ORDER_URL_SIZE - 1 - 7);
    url [TLY_ORDER_URL_SIZE - 1] = 0;
    assert (s_parse (&config, long_service) == TLY_FLAGS_USAGE);
    char *given_void [] = { "tally-orders", "--account",  path, "--service-url", url,
                            "--void-url",   "http://v/v", NULL };
    assert (s_parse (&config, given_void) == TLY_FLAGS_RUN);
    assert (strcmp (config.void_url, "http://v/v") == 0);

    //  One processor follows at most TLY_ORDERS_QUEUES_MAX (1022)
    //  partitions: 1022 unsharded taken, 1023 refused; 65536 in 65 shards
    //  (shard 0 follows 1009) taken, in 64 (1024 each) refused.
    char *queues_fit [] = { "tally-orders", "--account",    path,   "--service-url",
                            "http://x/c",   "--partitions", "1022", NULL };
    assert (s_parse (&config, queues_fit) == TLY_FLAGS_RUN);
    queues_fit [6] = "1023";
    assert (s_parse (&config, queues_fit) == TLY_FLAGS_USAGE);
    char *sharded [] = { "tally-orders", "--account", path,      "--service-url", "http://x/c",
                         "--partitions", "65536",     "--shard", "0/65",          NULL };
    assert (s_parse (&config, sharded) == TLY_FLAGS_RUN);
    assert (tly_orders_shard_partitions (0, 65, 65536) == 1009);
    sharded [8] = "0/64";
    assert (s_parse (&config, sharded) == TLY_FLAGS_USAGE);
    sharded [8] = "0/65";
    sharded [6] = "65537";  //  past TLY_PARTITIONS_MAX
    assert (s_parse (&config, sharded) == TLY_FLAGS_USAGE);

    char *help [] = { "tally-orders", "--help", NULL };
    assert (s_parse (&config, help) == TLY_FLAGS_HELP);

    unlink (path);
    unsetenv (TLY_ENV_WORKER_ACCOUNT);
    if (verbose)
        printf ("OK\n");
}
