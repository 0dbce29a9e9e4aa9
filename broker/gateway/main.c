//  tally-gateway - the client edge. Verifies each signed envelope (size,
//  shape, inbox, freshness, signature), routes it to the router, and carries
//  the answer back; serves subscriptions: a snapshot from the owning actor,
//  then every update from the bus. Stateless: run as many as you like.
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_gateway.h"
#include "tly_gateway_pending.h"
#include "tly_gateway_stream.h"
#include "tly_account.h"
#include "tly_log.h"
#include "tly_stop.h"

#define PROCESS                 "tally-gateway"
#define BIND_DEFAULT            "tcp://127.0.0.1:7700"
#define ROUTER_DEFAULT          "tcp://127.0.0.1:7701"
#define BUS_DEFAULT             "tcp://127.0.0.1:7705"
#define WORKER_VAR              "TALLY_WORKER_ACCOUNT"
#define MAX_PENDING_DEFAULT     100000
#define CLIENT_QUEUE_DEFAULT    10000
#define CLIENT_QUEUE_LIMIT      10000000
#define MAX_SUBS_DEFAULT        1024
#define MAX_SUBS_TOTAL_DEFAULT  1000000
#define CLIENT_TTL_MS_DEFAULT   30000
#define SKEW_MS_LIMIT           (24LL * 3600 * 1000)    //  largest --max-skew-ms
#define TIMEOUT_MS_LIMIT        (3600LL * 1000)         //  largest --timeout-ms and --client-ttl-ms

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: " PROCESS " [options]\n"
        "  --bind ENDPOINT      client socket (default " BIND_DEFAULT ")\n"
        "  --router ENDPOINT    router frontend (default " ROUTER_DEFAULT ")\n"
        "  --bus ENDPOINT       router's update bus, XPUB side (default " BUS_DEFAULT ")\n"
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

//  Parses a decimal flag value in min..max. Returns 0, or -1 after one line on stderr.
static int
s_parse_int (const char *flag, const char *text, int64_t min, int64_t max, int64_t *value)
{
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll (text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || parsed < min || parsed > max) {
        fprintf (stderr, PROCESS ": %s must be an integer in %" PRId64 "..%" PRId64 ", got '%s'\n",
                 flag, min, max, text);
        return -1;
    }
    *value = parsed;
    return 0;
}

//  Fills config and level from argv and the environment.
//  Returns 0 to run, 1 when --help was served, -1 after one line on stderr.
static int
s_parse_args (int argc, char *argv [], tly_gateway_config_t *config, tly_level_t *level)
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
        .bind = BIND_DEFAULT, .router = ROUTER_DEFAULT, .bus = BUS_DEFAULT,
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
                if (s_parse_int ("--partitions", optarg, 1, TLY_PARTITIONS_MAX, &value))
                    return -1;
                config->partitions = (uint32_t) value;
                break;
            case MAX_FRAME:
                if (s_parse_int ("--max-frame", optarg, 1, TLY_FRAME_HARD_MAX, &value))
                    return -1;
                config->policy.max_frame = (size_t) value;
                break;
            case MAX_SKEW:
                if (s_parse_int ("--max-skew-ms", optarg, 0, SKEW_MS_LIMIT, &value))
                    return -1;
                config->policy.max_skew_ms = value;
                break;
            case TIMEOUT:
                if (s_parse_int ("--timeout-ms", optarg, 1, TIMEOUT_MS_LIMIT, &value))
                    return -1;
                config->timeout_ms = value;
                break;
            case MAX_PENDING:
                if (s_parse_int ("--max-pending", optarg, 1, TLY_GATEWAY_PENDING_LIMIT, &value))
                    return -1;
                config->max_pending = (uint32_t) value;
                break;
            case CLIENT_QUEUE:
                if (s_parse_int ("--client-queue", optarg, 1, CLIENT_QUEUE_LIMIT, &value))
                    return -1;
                config->client_queue = (uint32_t) value;
                break;
            case MAX_SUBS:
                if (s_parse_int ("--max-subscriptions", optarg, 1, TLY_GATEWAY_SUBS_LIMIT, &value))
                    return -1;
                config->max_subscriptions = (uint32_t) value;
                break;
            case MAX_SUBS_TOTAL:
                if (s_parse_int ("--max-subscriptions-total", optarg, 1, TLY_GATEWAY_SUBS_LIMIT,
                                 &value))
                    return -1;
                config->max_subscriptions_total = (uint32_t) value;
                break;
            case CLIENT_TTL:
                if (s_parse_int ("--client-ttl-ms", optarg, 1, TIMEOUT_MS_LIMIT, &value))
                    return -1;
                config->client_ttl_ms = value;
                break;
            case LOG_LEVEL:
                if (tly_log_level_flag (PROCESS, optarg, level) == -1)
                    return -1;
                break;
            case HELP:
                s_usage (stdout);
                return 1;
            default:
                fprintf (stderr, PROCESS ": option '%s' is unknown or needs a value; see --help\n",
                         argv [optind - 1]);
                return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, PROCESS ": unexpected argument '%s'; see --help\n", argv [optind]);
        return -1;
    }
    const char *source = worker? "--worker": WORKER_VAR;
    if (!worker)
        worker = getenv (WORKER_VAR);
    if (!worker || !*worker) {
        fprintf (stderr, PROCESS ": " WORKER_VAR " is not set; export it or pass --worker co_z..."
                 " (make one with `tally account create`)\n");
        return -1;
    }
    if (tly_account_id_parse (worker, config->policy.inbox) == -1) {
        fprintf (stderr, PROCESS ": %s is not an account ID (co_z + base58 of 32 bytes): '%s'\n",
                 source, worker);
        return -1;
    }
    return 0;
}

int
main (int argc, char *argv [])
{
    tly_gateway_config_t config;
    tly_level_t level;
    int rc = s_parse_args (argc, argv, &config, &level);
    if (rc != 0)
        return rc == 1? 0: 2;
    tly_log_init (PROCESS, level);
    if (sodium_init () < 0) {
        fprintf (stderr, PROCESS ": libsodium failed to initialise\n");
        return 2;
    }
    tly_stop_install ();

    char error [256];
    tly_gateway_t *gateway = tly_gateway_new (&config, error, sizeof (error));
    if (!gateway) {
        fprintf (stderr, PROCESS ": %s\n", error);
        return 2;
    }
    char worker_id [TLY_ID_MAX];
    tly_account_id (config.policy.inbox, worker_id);
    tly_log (TLY_INFO, "ready", "bind=%s router=%s bus=%s instance=%s worker=%s"
             " partitions=%" PRIu32 " max_frame=%zu max_skew_ms=%" PRId64 " timeout_ms=%" PRId64
             " max_pending=%" PRIu32 " client_queue=%" PRIu32 " max_subscriptions=%" PRIu32
             " max_subscriptions_total=%" PRIu32 " client_ttl_ms=%" PRId64,
             config.bind, config.router, config.bus, tly_gateway_instance (gateway), worker_id,
             config.partitions, config.policy.max_frame, config.policy.max_skew_ms,
             config.timeout_ms, config.max_pending, config.client_queue,
             config.max_subscriptions, config.max_subscriptions_total, config.client_ttl_ms);

    //  The loop: replies first (they free slots), then the bus, then new
    //  requests, then deadlines.
    while (!tly_stop_requested ()) {
        zmq_pollitem_t items [] = {
            { tly_gateway_router_handle (gateway), 0, ZMQ_POLLIN, 0 },
            { tly_gateway_bus_handle (gateway), 0, ZMQ_POLLIN, 0 },
            { tly_gateway_client_handle (gateway), 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, 3, tly_gateway_poll_timeout_ms (gateway)) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            tly_log (TLY_ERROR, "poll_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            break;
        }
        if (items [0].revents & ZMQ_POLLIN)
            tly_gateway_drain_router (gateway);
        if (items [1].revents & ZMQ_POLLIN)
            tly_gateway_drain_bus (gateway);
        if (items [2].revents & ZMQ_POLLIN)
            tly_gateway_drain_clients (gateway);
        tly_gateway_expire (gateway);
    }
    tly_log (TLY_INFO, "stop", "interrupted=%d", (int) tly_stop_requested ());
    tly_gateway_destroy (&gateway);
    return tly_stop_requested ()? 0: 1;
}
