//  tly_gateway_config - tally-gateway's flags, their defaults and limits.
#include "tly_gateway_config.h"
#include "tly_account_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tly_account.h"
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_gateway_pending.h"
#include "tly_gateway_stream.h"

#define WORKER_VAR             TLY_ENV_WORKER_ACCOUNT
#define MAX_PENDING_DEFAULT    100000
#define CLIENT_QUEUE_DEFAULT   10000
#define CLIENT_QUEUE_LIMIT     10000000
#define MAX_SUBS_DEFAULT       TLY_SUBSCRIPTIONS_DEFAULT
#define MAX_SUBS_TOTAL_DEFAULT 1000000
#define CLIENT_TTL_MS_DEFAULT  30000
#define SKEW_MS_LIMIT          (24LL * 3600 * 1000)  //  largest --max-skew-ms
#define TIMEOUT_MS_LIMIT       (3600LL * 1000)       //  largest --timeout-ms and --client-ttl-ms

//  Every default is inside the range its flag accepts.
_Static_assert(TLY_SKEW_MS_DEFAULT <= SKEW_MS_LIMIT, "--max-skew-ms default");
_Static_assert(TLY_REQUEST_TIMEOUT_MS <= TIMEOUT_MS_LIMIT, "--timeout-ms default");
_Static_assert(CLIENT_TTL_MS_DEFAULT <= TIMEOUT_MS_LIMIT, "--client-ttl-ms default");
_Static_assert(MAX_PENDING_DEFAULT <= TLY_GATEWAY_PENDING_LIMIT, "--max-pending default");
_Static_assert(CLIENT_QUEUE_DEFAULT <= CLIENT_QUEUE_LIMIT, "--client-queue default");
_Static_assert(MAX_SUBS_DEFAULT <= MAX_SUBS_TOTAL_DEFAULT
                   && MAX_SUBS_TOTAL_DEFAULT <= TLY_GATEWAY_SUBS_LIMIT,
               "--max-subscriptions defaults");

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " TLY_GATEWAY_PROCESS " [options]\n"
             "  --bind ENDPOINT      client socket (default " TLY_ENDPOINT_GATEWAY ")\n"
             "  --bind-ws ENDPOINT   also a WebSocket client socket, ws://HOST:PORT/PATH,\n"
             "                       for browsers: no CURVE on it, put TLS in front\n"
             "                       (default: none)\n"
             "  --router ENDPOINT    router frontend (default " TLY_ENDPOINT_ROUTER_FRONTEND ")\n"
             "  --bus ENDPOINT       router's update bus, XPUB side (default " TLY_ENDPOINT_BUS_OUT
             ")\n"
             "  --worker co_z...     worker account served (default $" WORKER_VAR ")\n"
             "  --partitions N       partition count of the cluster (default %d)\n"
             "  --max-frame BYTES    largest client frame (default %d, at most %d)\n"
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
             "  --curve-secret FILE  this gateway's CURVE certificate (NAME.key_secret, mode\n"
             "                       0600): a TCP --bind then requires CURVE from every\n"
             "                       client (any client key), and the router sees this key\n"
             "  --router-key KEY     the router's public key (Z85 text or its .key file)\n"
             "  --insecure           allow TCP endpoints without CURVE (clear text)\n"
             "  --health-file PATH   rewrite PATH about once a second with this process's\n"
             "                       state, for `tally health` (default: none)\n"
             "  --log-level LEVEL    debug|info|warn|error (default info)\n"
             "  --help               this text\n",
             TLY_PARTITIONS_DEFAULT, TLY_FRAME_MAX_DEFAULT, TLY_FRAME_CLIENT_MAX,
             TLY_SKEW_MS_DEFAULT, TLY_REQUEST_TIMEOUT_MS, MAX_PENDING_DEFAULT, CLIENT_QUEUE_DEFAULT,
             MAX_SUBS_DEFAULT, MAX_SUBS_TOTAL_DEFAULT, CLIENT_TTL_MS_DEFAULT);
}

tly_flags_parsed_t
tly_gateway_config_parse (tly_gateway_config_t *config, tly_curve_config_t *curve,
                          const char **health_file, tly_level_t *level, int argc, char *argv [])
{
    *curve = (tly_curve_config_t) { 0 };
    *config = (tly_gateway_config_t) { .bind = TLY_ENDPOINT_GATEWAY,
                                       .router = TLY_ENDPOINT_ROUTER_FRONTEND,
                                       .bus = TLY_ENDPOINT_BUS_OUT,
                                       .policy = { .max_frame = TLY_FRAME_MAX_DEFAULT,
                                                   .max_skew_ms = TLY_SKEW_MS_DEFAULT },
                                       .partitions = TLY_PARTITIONS_DEFAULT,
                                       .timeout_ms = TLY_REQUEST_TIMEOUT_MS,
                                       .max_pending = MAX_PENDING_DEFAULT,
                                       .client_queue = CLIENT_QUEUE_DEFAULT,
                                       .max_subscriptions = MAX_SUBS_DEFAULT,
                                       .max_subscriptions_total = MAX_SUBS_TOTAL_DEFAULT,
                                       .client_ttl_ms = CLIENT_TTL_MS_DEFAULT };
    *health_file = NULL;
    *level = TLY_INFO;
    const char *worker = NULL;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--bind", &config->bind),
        TLY_FLAG_TEXT ("--bind-ws", &config->bind_ws),
        TLY_FLAG_TEXT ("--router", &config->router),
        TLY_FLAG_TEXT ("--bus", &config->bus),
        TLY_FLAG_TEXT ("--worker", &worker),
        TLY_FLAG_INT ("--partitions", &config->partitions, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_INT ("--max-frame", &config->policy.max_frame, 1, TLY_FRAME_CLIENT_MAX),
        TLY_FLAG_INT ("--max-skew-ms", &config->policy.max_skew_ms, 0, SKEW_MS_LIMIT),
        TLY_FLAG_INT ("--timeout-ms", &config->timeout_ms, 1, TIMEOUT_MS_LIMIT),
        TLY_FLAG_INT ("--max-pending", &config->max_pending, 1, TLY_GATEWAY_PENDING_LIMIT),
        TLY_FLAG_INT ("--client-queue", &config->client_queue, 1, CLIENT_QUEUE_LIMIT),
        TLY_FLAG_INT ("--max-subscriptions", &config->max_subscriptions, 1, TLY_GATEWAY_SUBS_LIMIT),
        TLY_FLAG_INT ("--max-subscriptions-total", &config->max_subscriptions_total, 1,
                      TLY_GATEWAY_SUBS_LIMIT),
        TLY_FLAG_INT ("--client-ttl-ms", &config->client_ttl_ms, 1, TIMEOUT_MS_LIMIT),
        TLY_FLAG_TEXT ("--curve-secret", &curve->secret_file),
        TLY_FLAG_TEXT ("--router-key", &curve->router_key),
        TLY_FLAG_BOOL ("--insecure", &curve->insecure),
        TLY_FLAG_TEXT ("--health-file", health_file),
        TLY_FLAG_LEVEL (level),
        TLY_FLAG_HELP
    };
    tly_flags_spec_t spec = { TLY_GATEWAY_PROCESS,
                              s_usage,
                              TLY_FLAGS_ONE_LINE,
                              flags,
                              sizeof flags / sizeof flags [0],
                              "unexpected argument '%s'; see --help" };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
    if (parsed != TLY_FLAGS_RUN)
        return parsed;
    if (config->bind_ws && strncmp (config->bind_ws, "ws://", 5) != 0) {
        fprintf (stderr,
                 TLY_GATEWAY_PROCESS ": --bind-ws takes a ws:// endpoint (ws://HOST:PORT/PATH),"
                                     " got '%s'\n",
                 config->bind_ws);
        return TLY_FLAGS_USAGE;
    }
    const char *source = worker ? "--worker" : WORKER_VAR;
    if (!worker)
        worker = getenv (WORKER_VAR);
    if (!worker || !*worker) {
        fprintf (stderr,
                 TLY_GATEWAY_PROCESS ": " WORKER_VAR " is not set; export it or pass"
                                     " --worker co_z... (make one with `tally account create`)\n");
        return TLY_FLAGS_USAGE;
    }
    if (tly_account_id_parse (worker, config->policy.inbox) == -1) {
        fprintf (stderr,
                 TLY_GATEWAY_PROCESS ": %s is not an account ID (co_z + base58 of 32"
                                     " bytes): '%s'\n",
                 source, worker);
        return TLY_FLAGS_USAGE;
    }
    config->policy.partitions = config->partitions;
    return TLY_FLAGS_RUN;
}
