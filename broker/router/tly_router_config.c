//  tly_router_config - tally-router's flags, their defaults and ranges.
#include "tly_router_config.h"

#include <stdio.h>
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_limits.h"

//  Accepted flag ranges.
#define HEARTBEAT_MS_MIN   10
#define HEARTBEAT_MS_MAX   60000
#define LIVENESS_MIN       2
#define LIVENESS_MAX       1000
#define ATTEMPT_MS_MIN     10
#define ATTEMPT_MS_MAX     600000
#define ATTEMPTS_MIN       1
#define ATTEMPTS_MAX       100
#define HOLD_MAX_LIMIT     10000000
#define INFLIGHT_MAX_LIMIT 10000000

//  Every default is inside the range its flag accepts.
_Static_assert(TLY_ROUTER_HEARTBEAT_MS >= HEARTBEAT_MS_MIN
                   && TLY_ROUTER_HEARTBEAT_MS <= HEARTBEAT_MS_MAX,
               "--heartbeat-ms default");
_Static_assert(TLY_ROUTER_LIVENESS >= LIVENESS_MIN && TLY_ROUTER_LIVENESS <= LIVENESS_MAX,
               "--liveness default");
_Static_assert(TLY_ROUTE_ATTEMPT_MS >= ATTEMPT_MS_MIN && TLY_ROUTE_ATTEMPT_MS <= ATTEMPT_MS_MAX,
               "--attempt-ms default");
_Static_assert(TLY_ROUTE_ATTEMPTS >= ATTEMPTS_MIN && TLY_ROUTE_ATTEMPTS <= ATTEMPTS_MAX,
               "--attempts default");
_Static_assert(TLY_ROUTER_HOLD_MAX_DEFAULT <= HOLD_MAX_LIMIT, "--hold-max default");
_Static_assert(TLY_ROUTER_INFLIGHT_MAX_DEFAULT >= 1
                   && TLY_ROUTER_INFLIGHT_MAX_DEFAULT <= INFLIGHT_MAX_LIMIT,
               "--inflight-max default");

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: " TLY_ROUTER_PROCESS " --data-dir DIR [options]\n"
             "Routes inbox envelopes from gateways to the balance actor owning their partition.\n"
             "  --data-dir DIR        keeps router.epoch, the durable epoch counter (required)\n"
             "  --frontend ENDPOINT   gateways connect here (default %s)\n"
             "  --backend ENDPOINT    balance actors connect here (default %s)\n"
             "  --bus-in ENDPOINT     actors publish object updates here (default %s)\n"
             "  --bus-out ENDPOINT    gateways subscribe to object updates here (default %s)\n"
             "  --partitions N        partition count, same in every process (default %d)\n"
             "  --heartbeat-ms MS     heartbeat to each actor; a closed link shows then\n"
             "                        (default %d)\n"
             "  --liveness N          heartbeats without a hello before an actor whose link\n"
             "                        is up counts as hung and is dead (default %d)\n"
             "  --attempt-ms MS       one delivery attempt (default %d)\n"
             "  --attempts N          delivery attempts per envelope (default %d)\n"
             "  --hold-max N          requests waiting for a partition owner (default %d)\n"
             "  --inflight-max N      requests accepted and not yet answered (default %d)\n"
             "  --curve-secret FILE   this server's CURVE certificate (NAME.key_secret, mode\n"
             "                        0600); needed for TCP endpoints\n"
             "  --actor-keys DIR      public keys (*.key) of the actors that may connect to\n"
             "                        --backend and --bus-in\n"
             "  --gateway-keys DIR    public keys of the gateways that may connect to\n"
             "                        --frontend and --bus-out\n"
             "  --insecure            allow TCP endpoints without CURVE (clear text, any peer)\n"
             "  --health-file PATH    rewrite PATH about once a second with this process's\n"
             "                        state, for `tally health` (default: none)\n"
             "  --log-level LEVEL     debug, info, warn or error (default info)\n"
             "  --help                this text\n",
             TLY_ENDPOINT_ROUTER_FRONTEND, TLY_ENDPOINT_ROUTER_BACKEND, TLY_ENDPOINT_BUS_IN,
             TLY_ENDPOINT_BUS_OUT, TLY_PARTITIONS_DEFAULT, TLY_ROUTER_HEARTBEAT_MS,
             TLY_ROUTER_LIVENESS, TLY_ROUTE_ATTEMPT_MS, TLY_ROUTE_ATTEMPTS,
             TLY_ROUTER_HOLD_MAX_DEFAULT, TLY_ROUTER_INFLIGHT_MAX_DEFAULT);
}

tly_flags_parsed_t
tly_router_config_parse (tly_router_config_t *config, tly_router_bus_config_t *bus,
                         tly_curve_config_t *curve, const char **health_file, tly_level_t *level,
                         int argc, char *argv [])
{
    *config = (tly_router_config_t) { .frontend = TLY_ENDPOINT_ROUTER_FRONTEND,
                                      .backend = TLY_ENDPOINT_ROUTER_BACKEND,
                                      .partition_count = TLY_PARTITIONS_DEFAULT,
                                      .heartbeat_ms = TLY_ROUTER_HEARTBEAT_MS,
                                      .liveness = TLY_ROUTER_LIVENESS,
                                      .attempt_ms = TLY_ROUTE_ATTEMPT_MS,
                                      .attempts = TLY_ROUTE_ATTEMPTS,
                                      .hold_max = TLY_ROUTER_HOLD_MAX_DEFAULT,
                                      .inflight_max = TLY_ROUTER_INFLIGHT_MAX_DEFAULT };
    *bus = (tly_router_bus_config_t) { .bus_in = TLY_ENDPOINT_BUS_IN,
                                       .bus_out = TLY_ENDPOINT_BUS_OUT };
    *curve = (tly_curve_config_t) { 0 };
    *health_file = NULL;
    *level = TLY_INFO;
    tly_flag_t flags [] = {
        TLY_FLAG_TEXT ("--data-dir", &config->data_dir),
        TLY_FLAG_TEXT ("--frontend", &config->frontend),
        TLY_FLAG_TEXT ("--backend", &config->backend),
        TLY_FLAG_TEXT ("--bus-in", &bus->bus_in),
        TLY_FLAG_TEXT ("--bus-out", &bus->bus_out),
        TLY_FLAG_INT ("--partitions", &config->partition_count, 1, TLY_PARTITIONS_MAX),
        TLY_FLAG_INT ("--heartbeat-ms", &config->heartbeat_ms, HEARTBEAT_MS_MIN, HEARTBEAT_MS_MAX),
        TLY_FLAG_INT ("--liveness", &config->liveness, LIVENESS_MIN, LIVENESS_MAX),
        TLY_FLAG_INT ("--attempt-ms", &config->attempt_ms, ATTEMPT_MS_MIN, ATTEMPT_MS_MAX),
        TLY_FLAG_INT ("--attempts", &config->attempts, ATTEMPTS_MIN, ATTEMPTS_MAX),
        TLY_FLAG_INT ("--hold-max", &config->hold_max, 0, HOLD_MAX_LIMIT),
        TLY_FLAG_INT ("--inflight-max", &config->inflight_max, 1, INFLIGHT_MAX_LIMIT),
        TLY_FLAG_TEXT ("--curve-secret", &curve->secret_file),
        TLY_FLAG_TEXT ("--actor-keys", &curve->actor_keys),
        TLY_FLAG_TEXT ("--gateway-keys", &curve->gateway_keys),
        TLY_FLAG_BOOL ("--insecure", &curve->insecure),
        TLY_FLAG_TEXT ("--health-file", health_file),
        TLY_FLAG_LEVEL (level),
        TLY_FLAG_HELP
    };
    tly_flags_spec_t spec = { TLY_ROUTER_PROCESS,
                              s_usage,
                              TLY_FLAGS_SHOW_USAGE,
                              flags,
                              sizeof flags / sizeof flags [0],
                              "unexpected argument \"%s\"" };
    tly_flags_parsed_t parsed = tly_flags_parse (&spec, argc, argv, NULL);
    if (parsed != TLY_FLAGS_RUN)
        return parsed;
    if (!config->data_dir) {
        fprintf (stderr, TLY_ROUTER_PROCESS ": --data-dir is required\n");
        return TLY_FLAGS_USAGE;
    }
    return TLY_FLAGS_RUN;
}
