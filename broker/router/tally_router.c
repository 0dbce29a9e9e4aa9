//  tally-router - the inbox router process: routes envelopes from gateways to
//  the balance actor owning their partition and hosts the update bus.
#include "tly_router.h"
#include "tly_router_bus.h"
#include "tly_router_config.h"
#include "tly_health.h"
#include "tly_log.h"
#include "tly_wire.h"
#include "tly_stop.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

int
main (int argc, char *argv [])
{
    tly_router_config_t config;
    tly_router_bus_config_t bus_config;
    tly_curve_config_t curve_config;
    const char *health_file;
    tly_level_t level;
    tly_flags_parsed_t parsed = tly_router_config_parse (&config, &bus_config, &curve_config,
                                                         &health_file, &level, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_ROUTER_PROCESS, level);
    tly_stop_install ();

    char error [TLY_HEALTH_PATH_MAX + 256];
    tly_health_t *health = NULL;
    if (health_file && !(health = tly_health_new (health_file, error, sizeof error))) {
        fprintf (stderr, TLY_ROUTER_PROCESS ": %s\n", error);
        return 2;
    }
    config.curve = tly_curve_new (TLY_ROUTER_PROCESS, &curve_config, error, sizeof error);
    tly_router_t *router = config.curve ? tly_router_new (&config, error, sizeof error) : NULL;
    tly_router_bus_t *bus = router ? tly_router_bus_new (bus_config.bus_in, bus_config.bus_out,
                                                         config.curve, error, sizeof error)
                                   : NULL;
    if (!bus) {
        fprintf (stderr, TLY_ROUTER_PROCESS ": %s\n", error);
        tly_router_destroy (&router);
        tly_curve_destroy (&config.curve);
        tly_health_destroy (&health);
        return 2;
    }
    tly_log (TLY_INFO, "ready",
             "frontend=%s backend=%s bus_in=%s bus_out=%s partitions=%u "
             "epoch=%" PRIu64,
             config.frontend, config.backend, bus_config.bus_in, bus_config.bus_out,
             config.partition_count, tly_router_epoch (router));

    //  The loop: actors' answers first (they free flights), then gateways'
    //  requests, then the bus both ways, then timers; then say it runs
    //  (--health-file).
    zmq_pollitem_t items [] = { { tly_router_frontend (router), 0, ZMQ_POLLIN, 0 },
                                { tly_router_backend (router), 0, ZMQ_POLLIN, 0 },
                                { tly_router_bus_in (bus), 0, ZMQ_POLLIN, 0 },
                                { tly_router_bus_out (bus), 0, ZMQ_POLLIN, 0 } };
    int rc = 0;
    while (!tly_stop_requested ()) {
        int64_t wait_ms = tly_router_next_deadline (router) - tly_mono_ms ();
        if (zmq_poll (items, 4, tly_health_poll_ms (health, wait_ms > 0 ? (long) wait_ms : 0))
            == -1) {
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
        tly_health_beat (health, TLY_HEALTH_READY);
    }
    tly_health_beat (health, TLY_HEALTH_STOPPING);
    tly_log (TLY_INFO, "stopped", "epoch=%" PRIu64, tly_router_epoch (router));
    tly_router_bus_destroy (&bus);
    tly_router_destroy (&router);
    tly_curve_destroy (&config.curve);
    tly_health_destroy (&health);
    return rc;
}
