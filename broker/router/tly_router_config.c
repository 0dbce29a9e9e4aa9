//  tly_router_config - tally-router's flags, their defaults and ranges.
#include "tly_router_config.h"

#include <getopt.h>
#include <stdio.h>
#include "tly_endpoints.h"
#include "tly_flags.h"
#include "tly_limits.h"

//  Accepted flag ranges.
#define HEARTBEAT_MS_MIN    10
#define HEARTBEAT_MS_MAX    60000
#define LIVENESS_MIN        2
#define LIVENESS_MAX        100
#define ATTEMPT_MS_MIN      10
#define ATTEMPT_MS_MAX      600000
#define ATTEMPTS_MIN        1
#define ATTEMPTS_MAX        100
#define HOLD_MAX_LIMIT      10000000
#define INFLIGHT_MAX_LIMIT  10000000

//  Every default is inside the range its flag accepts.
_Static_assert (TLY_HEARTBEAT_MS >= HEARTBEAT_MS_MIN && TLY_HEARTBEAT_MS <= HEARTBEAT_MS_MAX,
                "--heartbeat-ms default");
_Static_assert (TLY_HEARTBEAT_LIVENESS >= LIVENESS_MIN && TLY_HEARTBEAT_LIVENESS <= LIVENESS_MAX,
                "--liveness default");
_Static_assert (TLY_ROUTE_ATTEMPT_MS >= ATTEMPT_MS_MIN && TLY_ROUTE_ATTEMPT_MS <= ATTEMPT_MS_MAX,
                "--attempt-ms default");
_Static_assert (TLY_ROUTE_ATTEMPTS >= ATTEMPTS_MIN && TLY_ROUTE_ATTEMPTS <= ATTEMPTS_MAX,
                "--attempts default");
_Static_assert (TLY_ROUTER_HOLD_MAX_DEFAULT <= HOLD_MAX_LIMIT, "--hold-max default");
_Static_assert (TLY_ROUTER_INFLIGHT_MAX_DEFAULT >= 1
             && TLY_ROUTER_INFLIGHT_MAX_DEFAULT <= INFLIGHT_MAX_LIMIT, "--inflight-max default");

enum { OPTION_HELP = 256 };      //  beyond every short option character

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
        "  --heartbeat-ms MS     heartbeat interval (default %d)\n"
        "  --liveness N          silent intervals before an actor is dead (default %d)\n"
        "  --attempt-ms MS       one delivery attempt (default %d)\n"
        "  --attempts N          delivery attempts per envelope (default %d)\n"
        "  --hold-max N          requests waiting for a partition owner (default %d)\n"
        "  --inflight-max N      requests accepted and not yet answered (default %d)\n"
        "  --log-level LEVEL     debug, info, warn or error (default info)\n"
        "  --help                this text\n",
        TLY_ENDPOINT_ROUTER_FRONTEND, TLY_ENDPOINT_ROUTER_BACKEND, TLY_ENDPOINT_BUS_IN,
        TLY_ENDPOINT_BUS_OUT, TLY_PARTITIONS_DEFAULT,
        TLY_HEARTBEAT_MS, TLY_HEARTBEAT_LIVENESS, TLY_ROUTE_ATTEMPT_MS, TLY_ROUTE_ATTEMPTS,
        TLY_ROUTER_HOLD_MAX_DEFAULT, TLY_ROUTER_INFLIGHT_MAX_DEFAULT);
}

int
tly_router_config_parse (tly_router_config_t *config, tly_router_bus_config_t *bus,
                         tly_level_t *level, int argc, char *argv [])
{
    static const struct option options [] = {
        { "data-dir", required_argument, 0, 'd' },
        { "frontend", required_argument, 0, 'f' },
        { "backend", required_argument, 0, 'b' },
        { "bus-in", required_argument, 0, 'i' },
        { "bus-out", required_argument, 0, 'o' },
        { "partitions", required_argument, 0, 'p' },
        { "heartbeat-ms", required_argument, 0, 'h' },
        { "liveness", required_argument, 0, 'l' },
        { "attempt-ms", required_argument, 0, 'a' },
        { "attempts", required_argument, 0, 'n' },
        { "hold-max", required_argument, 0, 'H' },
        { "inflight-max", required_argument, 0, 'I' },
        { "log-level", required_argument, 0, 'L' },
        { "help", no_argument, 0, OPTION_HELP },
        { 0, 0, 0, 0 }
    };
    *config = (tly_router_config_t) {
        .frontend = TLY_ENDPOINT_ROUTER_FRONTEND,
        .backend = TLY_ENDPOINT_ROUTER_BACKEND,
        .partition_count = TLY_PARTITIONS_DEFAULT,
        .heartbeat_ms = TLY_HEARTBEAT_MS,
        .liveness = TLY_HEARTBEAT_LIVENESS,
        .attempt_ms = TLY_ROUTE_ATTEMPT_MS,
        .attempts = TLY_ROUTE_ATTEMPTS,
        .hold_max = TLY_ROUTER_HOLD_MAX_DEFAULT,
        .inflight_max = TLY_ROUTER_INFLIGHT_MAX_DEFAULT
    };
    *bus = (tly_router_bus_config_t) {
        .bus_in = TLY_ENDPOINT_BUS_IN,
        .bus_out = TLY_ENDPOINT_BUS_OUT
    };
    *level = TLY_INFO;
    int64_t value = 0;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        int rc = 0;
        switch (option) {
            case 'd': config->data_dir = optarg; break;
            case 'f': config->frontend = optarg; break;
            case 'b': config->backend = optarg; break;
            case 'i': bus->bus_in = optarg; break;
            case 'o': bus->bus_out = optarg; break;
            case 'p':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--partitions", optarg,
                                    1, TLY_PARTITIONS_MAX, &value);
                config->partition_count = (uint32_t) value;
                break;
            case 'h':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--heartbeat-ms", optarg,
                                    HEARTBEAT_MS_MIN, HEARTBEAT_MS_MAX, &config->heartbeat_ms);
                break;
            case 'l':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--liveness", optarg,
                                    LIVENESS_MIN, LIVENESS_MAX, &config->liveness);
                break;
            case 'a':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--attempt-ms", optarg,
                                    ATTEMPT_MS_MIN, ATTEMPT_MS_MAX, &config->attempt_ms);
                break;
            case 'n':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--attempts", optarg,
                                    ATTEMPTS_MIN, ATTEMPTS_MAX, &value);
                config->attempts = (uint32_t) value;
                break;
            case 'H':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--hold-max", optarg,
                                    0, HOLD_MAX_LIMIT, &value);
                config->hold_max = (size_t) value;
                break;
            case 'I':
                rc = tly_flags_int (TLY_ROUTER_PROCESS, "--inflight-max", optarg,
                                    1, INFLIGHT_MAX_LIMIT, &value);
                config->inflight_max = (size_t) value;
                break;
            case 'L': rc = tly_log_level_flag (TLY_ROUTER_PROCESS, optarg, level); break;
            case OPTION_HELP: s_usage (stdout); return 1;
            default: s_usage (stderr); return -1;
        }
        if (rc == -1)
            return -1;
    }
    if (optind < argc) {
        fprintf (stderr, TLY_ROUTER_PROCESS ": unexpected argument \"%s\"\n", argv [optind]);
        return -1;
    }
    if (!config->data_dir) {
        fprintf (stderr, TLY_ROUTER_PROCESS ": --data-dir is required\n");
        return -1;
    }
    return 0;
}
