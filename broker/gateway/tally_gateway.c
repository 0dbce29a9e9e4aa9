//  tally-gateway - the client edge. Verifies each signed envelope (size,
//  shape, inbox, freshness, signature), routes it to the router, and carries
//  the answer back; serves subscriptions: a snapshot from the owning actor,
//  then every update from the bus. Stateless: run as many as you like.
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include "tly_account.h"
#include "tly_gateway.h"
#include "tly_gateway_config.h"
#include "tly_health.h"
#include "tly_log.h"
#include "tly_stop.h"

int
main (int argc, char *argv [])
{
    tly_gateway_config_t config;
    tly_curve_config_t curve_config;
    const char *health_file;
    tly_level_t level;
    tly_flags_parsed_t parsed = tly_gateway_config_parse (&config, &curve_config, &health_file,
                                                          &level, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_GATEWAY_PROCESS, level);
    if (sodium_init () < 0) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": libsodium failed to initialise\n");
        return 2;
    }
    tly_stop_install ();

    char error [TLY_HEALTH_PATH_MAX + 256];
    tly_health_t *health = NULL;
    if (health_file && !(health = tly_health_new (health_file, error, sizeof error))) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": %s\n", error);
        return 2;
    }
    config.curve = tly_curve_new (TLY_GATEWAY_PROCESS, &curve_config, error, sizeof error);
    tly_gateway_t *gateway = config.curve ? tly_gateway_new (&config, error, sizeof (error)) : NULL;
    if (!gateway) {
        fprintf (stderr, TLY_GATEWAY_PROCESS ": %s\n", error);
        tly_curve_destroy (&config.curve);
        tly_health_destroy (&health);
        return 2;
    }
    char worker_id [TLY_ID_MAX];
    tly_account_id (config.policy.inbox, worker_id);
    tly_log (TLY_INFO, "ready",
             "bind=%s bind_ws=%s router=%s bus=%s instance=%s worker=%s"
             " partitions=%" PRIu32 " max_frame=%zu max_skew_ms=%" PRId64 " timeout_ms=%" PRId64
             " max_pending=%" PRIu32 " client_queue=%" PRIu32 " max_subscriptions=%" PRIu32
             " max_subscriptions_total=%" PRIu32 " client_ttl_ms=%" PRId64,
             config.bind, config.bind_ws ? config.bind_ws : "none", config.router, config.bus,
             tly_gateway_instance (gateway), worker_id, config.partitions, config.policy.max_frame,
             config.policy.max_skew_ms, config.timeout_ms, config.max_pending, config.client_queue,
             config.max_subscriptions, config.max_subscriptions_total, config.client_ttl_ms);

    //  The loop: replies first (they free slots), then the bus, then new
    //  requests, then the router link's comings and goings, then deadlines;
    //  then say it runs (--health-file).
    while (!tly_stop_requested ()) {
        zmq_pollitem_t items [] = { { tly_gateway_router_handle (gateway), 0, ZMQ_POLLIN, 0 },
                                    { tly_gateway_bus_handle (gateway), 0, ZMQ_POLLIN, 0 },
                                    { tly_gateway_client_handle (gateway), 0, ZMQ_POLLIN, 0 },
                                    { tly_gateway_router_link_handle (gateway), 0, ZMQ_POLLIN, 0 },
                                    { tly_gateway_ws_handle (gateway), 0, ZMQ_POLLIN, 0 } };
        //  The WebSocket socket last, polled only when there is one.
        int count = tly_gateway_ws_handle (gateway) ? 5 : 4;
        if (zmq_poll (items, count,
                      tly_health_poll_ms (health, tly_gateway_poll_timeout_ms (gateway)))
            == -1) {
            if (zmq_errno () == EINTR)
                continue;
            tly_log (TLY_ERROR, "poll_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            break;
        }
        if (items [0].revents & ZMQ_POLLIN)
            tly_gateway_drain_router (gateway);
        if (items [1].revents & ZMQ_POLLIN)
            tly_gateway_drain_bus (gateway);
        if ((items [2].revents & ZMQ_POLLIN) || (count == 5 && (items [4].revents & ZMQ_POLLIN)))
            tly_gateway_drain_clients (gateway);
        if (items [3].revents & ZMQ_POLLIN)
            tly_gateway_on_router_link (gateway);
        tly_gateway_expire (gateway);
        tly_health_beat (health, TLY_HEALTH_READY);
    }
    tly_health_beat (health, TLY_HEALTH_STOPPING);
    tly_log (TLY_INFO, "stop", "interrupted=%d", (int) tly_stop_requested ());
    tly_gateway_destroy (&gateway);
    tly_curve_destroy (&config.curve);
    tly_health_destroy (&health);
    return tly_stop_requested () ? 0 : 1;
}
