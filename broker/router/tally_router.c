//  tally-router - the inbox router process: flags, signals and the event loop.
#include "tly_router.h"
#include "tly_router_bus.h"
#include "tly_limits.h"
#include "tly_log.h"
#include "tly_wire.h"
#include "tly_stop.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum { OPTION_HELP = 256 };      //  beyond every short option character

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: tally-router --data-dir DIR [options]\n"
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
        TLY_ROUTER_FRONTEND_DEFAULT, TLY_ROUTER_BACKEND_DEFAULT, TLY_ROUTER_BUS_IN_DEFAULT,
        TLY_ROUTER_BUS_OUT_DEFAULT, TLY_PARTITIONS_DEFAULT,
        TLY_HEARTBEAT_MS, TLY_HEARTBEAT_LIVENESS, TLY_ROUTE_ATTEMPT_MS, TLY_ROUTE_ATTEMPTS,
        TLY_ROUTER_HOLD_MAX_DEFAULT, TLY_ROUTER_INFLIGHT_MAX_DEFAULT);
}

//  Parses a decimal integer in [min, max] or exits 2 naming the flag.
static int64_t
s_number (const char *flag, const char *text, int64_t min, int64_t max)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || value < min || value > max) {
        fprintf (stderr, "tally-router: --%s must be a number from %" PRId64 " to %" PRId64
                 ", got \"%s\"\n", flag, min, max, text);
        exit (2);
    }
    return value;
}

typedef struct {
    const char *bus_in;
    const char *bus_out;
} bus_config_t;

static void
s_parse (int argc, char *argv [], tly_router_config_t *config, bus_config_t *bus,
         tly_level_t *level)
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
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        const char *name = NULL;
        for (const struct option *entry = options; entry->name; entry++)
            if (entry->val == option)
                name = entry->name;
        switch (option) {
            case 'd': config->data_dir = optarg; break;
            case 'f': config->frontend = optarg; break;
            case 'b': config->backend = optarg; break;
            case 'i': bus->bus_in = optarg; break;
            case 'o': bus->bus_out = optarg; break;
            case 'p': config->partition_count =
                      (uint32_t) s_number (name, optarg, 1, TLY_PARTITIONS_MAX); break;
            case 'h': config->heartbeat_ms =
                      s_number (name, optarg, HEARTBEAT_MS_MIN, HEARTBEAT_MS_MAX); break;
            case 'l': config->liveness = s_number (name, optarg, LIVENESS_MIN, LIVENESS_MAX); break;
            case 'a': config->attempt_ms =
                      s_number (name, optarg, ATTEMPT_MS_MIN, ATTEMPT_MS_MAX); break;
            case 'n': config->attempts =
                      (uint32_t) s_number (name, optarg, ATTEMPTS_MIN, ATTEMPTS_MAX); break;
            case 'H': config->hold_max = (size_t) s_number (name, optarg, 0, HOLD_MAX_LIMIT); break;
            case 'I': config->inflight_max =
                      (size_t) s_number (name, optarg, 1, INFLIGHT_MAX_LIMIT); break;
            case 'L':
                if (tly_log_level_flag ("tally-router", optarg, level) == -1)
                    exit (2);
                break;
            case OPTION_HELP: s_usage (stdout); exit (0);
            default: s_usage (stderr); exit (2);
        }
    }
    if (optind < argc) {
        fprintf (stderr, "tally-router: unexpected argument \"%s\"\n", argv [optind]);
        exit (2);
    }
    if (!config->data_dir) {
        fprintf (stderr, "tally-router: --data-dir is required\n");
        exit (2);
    }
}

int
main (int argc, char *argv [])
{
    tly_router_config_t config = {
        .frontend = TLY_ROUTER_FRONTEND_DEFAULT,
        .backend = TLY_ROUTER_BACKEND_DEFAULT,
        .partition_count = TLY_PARTITIONS_DEFAULT,
        .heartbeat_ms = TLY_HEARTBEAT_MS,
        .liveness = TLY_HEARTBEAT_LIVENESS,
        .attempt_ms = TLY_ROUTE_ATTEMPT_MS,
        .attempts = TLY_ROUTE_ATTEMPTS,
        .hold_max = TLY_ROUTER_HOLD_MAX_DEFAULT,
        .inflight_max = TLY_ROUTER_INFLIGHT_MAX_DEFAULT
    };
    bus_config_t bus_config = {
        .bus_in = TLY_ROUTER_BUS_IN_DEFAULT,
        .bus_out = TLY_ROUTER_BUS_OUT_DEFAULT
    };
    tly_level_t level = TLY_INFO;
    s_parse (argc, argv, &config, &bus_config, &level);
    tly_log_init ("tally-router", level);

    tly_stop_install ();

    char error [512];
    tly_router_t *router = tly_router_new (&config, error, sizeof error);
    tly_router_bus_t *bus = router ? tly_router_bus_new (bus_config.bus_in, bus_config.bus_out,
                                                         error, sizeof error)
                                   : NULL;
    if (!bus) {
        fprintf (stderr, "tally-router: %s\n", error);
        tly_router_destroy (&router);
        return 2;
    }
    tly_log (TLY_INFO, "ready", "frontend=%s backend=%s bus_in=%s bus_out=%s partitions=%u "
             "epoch=%" PRIu64, config.frontend, config.backend, bus_config.bus_in,
             bus_config.bus_out, config.partition_count, tly_router_epoch (router));

    zmq_pollitem_t items [] = {
        { tly_router_frontend (router), 0, ZMQ_POLLIN, 0 },
        { tly_router_backend (router), 0, ZMQ_POLLIN, 0 },
        { tly_router_bus_in (bus), 0, ZMQ_POLLIN, 0 },
        { tly_router_bus_out (bus), 0, ZMQ_POLLIN, 0 }
    };
    int rc = 0;
    while (!tly_stop_requested ()) {
        int64_t wait_ms = tly_router_next_deadline (router) - tly_mono_ms ();
        if (zmq_poll (items, 4, wait_ms > 0 ? (long) wait_ms : 0) == -1) {
            if (errno == EINTR)
                continue;
            tly_log (TLY_ERROR, "router.poll_failed", "reason=\"%s\"", zmq_strerror (errno));
            rc = 1;
            break;
        }
        if (items [1].revents & ZMQ_POLLIN)
            tly_router_drain_backend (router);
        if (items [0].revents & ZMQ_POLLIN)
            tly_router_drain_frontend (router);
        if (items [2].revents & ZMQ_POLLIN)
            tly_router_bus_drain_updates (bus);
        if (items [3].revents & ZMQ_POLLIN)
            tly_router_bus_drain_subscriptions (bus);
        tly_router_tick (router);
    }
    tly_log (TLY_INFO, "stopped", "epoch=%" PRIu64, tly_router_epoch (router));
    tly_router_bus_destroy (&bus);
    tly_router_destroy (&router);
    return rc;
}
