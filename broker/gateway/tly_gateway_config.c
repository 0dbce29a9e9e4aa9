//  tly_gateway_config - tally-gateway's flags, their defaults and limits.
#include "tly_gateway_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "tly_account.h"
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_gateway_pending.h"
#include "tly_gateway_stream.h"

#define WORKER_VAR              "TALLY_WORKER_ACCOUNT"
#define MAX_PENDING_DEFAULT     100000
#define CLIENT_QUEUE_DEFAULT    10000
#define CLIENT_QUEUE_LIMIT      10000000
#define MAX_SUBS_DEFAULT        1024
#define MAX_SUBS_TOTAL_DEFAULT  1000000
#define CLIENT_TTL_MS_DEFAULT   30000
#define SKEW_MS_LIMIT           (24LL * 3600 * 1000)    //  largest --max-skew-ms
#define TIMEOUT_MS_LIMIT        (3600LL * 1000)         //  largest --timeout-ms and --client-ttl-ms

//  Every default is inside the range its flag accepts.
_Static_assert (TLY_SKEW_MS_DEFAULT <= SKEW_MS_LIMIT, "--max-skew-ms default");
_Static_assert (TLY_REQUEST_TIMEOUT_MS <= TIMEOUT_MS_LIMIT, "--timeout-ms default");
_Static_assert (CLIENT_TTL_MS_DEFAULT <= TIMEOUT_MS_LIMIT, "--client-ttl-ms default");
_Static_assert (MAX_PENDING_DEFAULT <= TLY_GATEWAY_PENDING_LIMIT, "--max-pending default");
_Static_assert (CLIENT_QUEUE_DEFAULT <= CLIENT_QUEUE_LIMIT, "--client-queue default");
_Static_assert (MAX_SUBS_DEFAULT <= MAX_SUBS_TOTAL_DEFAULT
             && MAX_SUBS_TOTAL_DEFAULT <= TLY_GATEWAY_SUBS_LIMIT, "--max-subscriptions defaults");

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " TLY_GATEWAY_PROCESS " [options]\n"
        "  --bind ENDPOINT      client socket (default " TLY_ENDPOINT_GATEWAY ")\n"
        "  --router ENDPOINT    router frontend (default " TLY_ENDPOINT_ROUTER_FRONTEND ")\n"
        "  --bus ENDPOINT       router's update bus, XPUB side (default " TLY_ENDPOINT_BUS_OUT ")\n"
        "  --worker co_z...     worker account served (default $" WORKER_VAR ")\n"
        "  --partitions N       partition count of the cluster (default %d)\n"
        "  --max-frame BYTES    largest client frame (default %d)\n"
        "  --max-skew-ms MS     accepted |clock - envelope timestamp| (default %d)\n"
        "  --timeout-ms MS      answer TIMEOUT after this long (default %d)\n"
        "  --max-pending N      requests (and, apart, snapshots) in flight before\n"
        "                       UNAVAILABLE (default %d)\n"
        "  --client-queue N     messages queued per client before it counts as slow\n"
        "                       (default %d)\n"
        "  --max-subscriptions N  per client (default %d)\n"
        "  --max-subscriptions-total N  per gateway (default %d)\n"
        "  --client-ttl-ms MS   end the subscriptions of a client silent this long\n"
        "                       (default %d)\n"
        "  --log-level LEVEL    debug|info|warn|error (default info)\n"
        "  --help               this text\n",
        TLY_PARTITIONS_DEFAULT, TLY_FRAME_MAX_DEFAULT, TLY_SKEW_MS_DEFAULT,
        TLY_REQUEST_TIMEOUT_MS, MAX_PENDING_DEFAULT, CLIENT_QUEUE_DEFAULT, MAX_SUBS_DEFAULT,
        MAX_SUBS_TOTAL_DEFAULT, CLIENT_TTL_MS_DEFAULT);
}

int
tly_gateway_config_parse (tly_gateway_config_t *config, tly_level_t *level,
                          int argc, char *argv [])
{
    enum { BIND = 1, ROUTER, BUS, WORKER, PARTITIONS, MAX_FRAME, MAX_SKEW, TIMEOUT, MAX_PENDING,
           CLIENT_QUEUE, MAX_SUBS, MAX_SUBS_TOTAL, CLIENT_TTL, LOG_LEVEL, HELP };
    static const struct option options [] = {
        { "bind", required_argument, NULL, BIND },
        { "router", required_argument, NULL, ROUTER },
        { "bus", required_argument, NULL, BUS },
        { "worker", required_argument, NULL, WORKER },
        { "partitions", required_argument, NULL, PARTITIONS },
        { "max-frame", required_argument, NULL, MAX_FRAME },
        { "max-skew-ms", required_argument, NULL, MAX_SKEW },
        { "timeout-ms", required_argument, NULL, TIMEOUT },
        { "max-pending", required_argument, NULL, MAX_PENDING },
        { "client-queue", required_argument, NULL, CLIENT_QUEUE },
        { "max-subscriptions", required_argument, NULL, MAX_SUBS },
        { "max-subscriptions-total", required_argument, NULL, MAX_SUBS_TOTAL },
        { "client-ttl-ms", required_argument, NULL, CLIENT_TTL },
        { "log-level", required_argument, NULL, LOG_LEVEL },
        { "help", no_argument, NULL, HELP },
        { NULL, 0, NULL, 0 }
    };
    *config = (tly_gateway_config_t) {
        .bind = TLY_ENDPOINT_GATEWAY, .router = TLY_ENDPOINT_ROUTER_FRONTEND,
        .bus = TLY_ENDPOINT_BUS_OUT,
        .policy = { .max_frame = TLY_FRAME_MAX_DEFAULT, .max_skew_ms = TLY_SKEW_MS_DEFAULT },
        .partitions = TLY_PARTITIONS_DEFAULT, .timeout_ms = TLY_REQUEST_TIMEOUT_MS,
        .max_pending = MAX_PENDING_DEFAULT, .client_queue = CLIENT_QUEUE_DEFAULT,
        .max_subscriptions = MAX_SUBS_DEFAULT, .max_subscriptions_total = MAX_SUBS_TOTAL_DEFAULT,
        .client_ttl_ms = CLIENT_TTL_MS_DEFAULT
    };
    *level = TLY_INFO;
    const char *worker = NULL;
    int64_t value = 0;
    int option;
    opterr = 0;                         //  one error line, ours
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case BIND:      config->bind = optarg; break;
            case ROUTER:    config->router = optarg; break;
            case BUS:       config->bus = optarg; break;
            case WORKER:    worker = optarg; break;
            case PARTITIONS:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--partitions", optarg,
                                   1, TLY_PARTITIONS_MAX, &value))
                    return -1;
                config->partitions = (uint32_t) value;
                break;
            case MAX_FRAME:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--max-frame", optarg,
                                   1, TLY_FRAME_HARD_MAX, &value))
                    return -1;
                config->policy.max_frame = (size_t) value;
                break;
            case MAX_SKEW:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--max-skew-ms", optarg,
                                   0, SKEW_MS_LIMIT, &value))
                    return -1;
                config->policy.max_skew_ms = value;
                break;
            case TIMEOUT:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--timeout-ms", optarg,
                                   1, TIMEOUT_MS_LIMIT, &value))
                    return -1;
                config->timeout_ms = value;
                break;
            case MAX_PENDING:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--max-pending", optarg,
                                   1, TLY_GATEWAY_PENDING_LIMIT, &value))
                    return -1;
                config->max_pending = (uint32_t) value;
                break;
            case CLIENT_QUEUE:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--client-queue", optarg,
                                   1, CLIENT_QUEUE_LIMIT, &value))
                    return -1;
                config->client_queue = (uint32_t) value;
                break;
            case MAX_SUBS:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--max-subscriptions", optarg,
                                   1, TLY_GATEWAY_SUBS_LIMIT, &value))
                    return -1;
                config->max_subscriptions = (uint32_t) value;
                break;
            case MAX_SUBS_TOTAL:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--max-subscriptions-total", optarg,
                                   1, TLY_GATEWAY_SUBS_LIMIT, &value))
                    return -1;
                config->max_subscriptions_total = (uint32_t) value;
                break;
            case CLIENT_TTL:
                if (tly_flags_int (TLY_GATEWAY_PROCESS, "--client-ttl-ms", optarg,
                                   1, TIMEOUT_MS_LIMIT, &value))
                    return -1;
                config->client_ttl_ms = value;
                break;
            case LOG_LEVEL:
                if (tly_log_level_flag (TLY_GATEWAY_PROCESS, optarg, level) == -1)
                    return -1;
                break;
            case HELP:
                s_usage (stdout);
                return 1;
            default:
                fprintf (stderr, TLY_GATEWAY_PROCESS ": option '%s' is unknown or needs a value;"
                         " see --help\n", argv [optind - 1]);
                return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": unexpected argument '%s'; see --help\n",
                 argv [optind]);
        return -1;
    }
    const char *source = worker? "--worker": WORKER_VAR;
    if (!worker)
        worker = getenv (WORKER_VAR);
    if (!worker || !*worker) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": " WORKER_VAR " is not set; export it or pass"
                 " --worker co_z... (make one with `tally account create`)\n");
        return -1;
    }
    if (tly_account_id_parse (worker, config->policy.inbox) == -1) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": %s is not an account ID (co_z + base58 of 32"
                 " bytes): '%s'\n", source, worker);
        return -1;
    }
    return 0;
}
