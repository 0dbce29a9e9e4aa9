//  tally-balance - the per-user balance actor.
//
//  Owns the partitions the router assigns it; decides each routed envelope
//  against its state in batches, journals each batch with one append to the
//  audit writer, and answers only after the writer's ack. Serves snapshots
//  of its objects and publishes their new versions on the update bus.
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>

#include "tly_actor.h"
#include "tly_balance_config.h"
#include "tly_fault.h"
#include "tly_health.h"
#include "tly_ledger.h"
#include "tly_log.h"
#include "tly_stop.h"

int
main (int argc, char *argv [])
{
    tly_balance_config_t config;
    tly_flags_parsed_t parsed = tly_balance_config_parse (&config, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_BALANCE_PROCESS, config.level);
    tly_stop_install ();

    char error [TLY_HEALTH_PATH_MAX + 256];
    //  Test builds only (tly_fault.h): the storage failures to inject.
    if (TLY_FAULT_INIT (error, sizeof error) == -1) {
        sodium_memzero (config.actor.worker_sk, sizeof config.actor.worker_sk);
        fprintf (stderr, TLY_BALANCE_PROCESS ": %s\n", error);
        return 2;
    }
    //  Keys first, and every endpoint's CURVE rule checked, before anything opens.
    tly_curve_t *curve = tly_curve_new (TLY_BALANCE_PROCESS, &config.curve, error, sizeof error);
    if (curve
        && (tly_curve_connect (curve, NULL, config.actor.router_endpoint, TLY_CURVE_ROUTER, error,
                               sizeof error)
            || tly_curve_connect (curve, NULL, config.actor.bus_endpoint, TLY_CURVE_ROUTER, error,
                                  sizeof error)
            || tly_curve_connect (curve, NULL, config.actor.audit_endpoint, TLY_CURVE_AUDIT, error,
                                  sizeof error)))
        tly_curve_destroy (&curve);
    if (!curve) {
        sodium_memzero (config.actor.worker_sk, sizeof config.actor.worker_sk);
        fprintf (stderr, TLY_BALANCE_PROCESS ": %s\n", error);
        return 2;
    }
    config.actor.curve = curve;
    tly_health_t *health = NULL;
    if (config.health_file
        && !(health = tly_health_new (config.health_file, error, sizeof error))) {
        sodium_memzero (config.actor.worker_sk, sizeof config.actor.worker_sk);
        fprintf (stderr, TLY_BALANCE_PROCESS ": %s\n", error);
        tly_curve_destroy (&curve);
        return 2;
    }
    tly_ledger_t *ledger = tly_ledger_new (config.state_path, config.map_size, &config.limits);
    if (!ledger) {
        tly_health_destroy (&health);
        tly_curve_destroy (&curve);
        sodium_memzero (config.actor.worker_sk, sizeof config.actor.worker_sk);
        fprintf (stderr,
                 TLY_BALANCE_PROCESS ": cannot open the state in %s (see the log line"
                                     " above)\n",
                 config.state_path);
        return 2;
    }
    tly_ledger_set_snapshot_every (ledger, config.snapshot_every);
    tly_ledger_set_map_max (ledger, config.map_max);
    tly_actor_t *actor = tly_actor_new (&config.actor, ledger);
    sodium_memzero (config.actor.worker_sk, sizeof config.actor.worker_sk);
    if (!actor) {
        tly_ledger_destroy (&ledger);
        tly_health_destroy (&health);
        tly_curve_destroy (&curve);
        fprintf (stderr,
                 TLY_BALANCE_PROCESS ": cannot set up the links to --router %s, --audit"
                                     " %s and --bus %s (see the log line above)\n",
                 config.actor.router_endpoint, config.actor.audit_endpoint,
                 config.actor.bus_endpoint);
        return 2;
    }
    const char *name = config.actor.name;
    tly_log (TLY_INFO, "ready",
             "name=%s router=%s audit=%s bus=%s partitions=%" PRIu32 " state=%s worker=%s", name,
             config.actor.router_endpoint, config.actor.audit_endpoint, config.actor.bus_endpoint,
             config.actor.partition_count, config.state_path, config.worker_id);

    //  The loop: routes (while more are welcome), journal answers, the bus;
    //  then timers, and the next batch once none is in flight. A stop request
    //  hands the partitions over first (tly_actor_leave), so that nobody
    //  waits for the router to notice this actor is gone. Each turn ends
    //  saying the loop runs (--health-file).
    int status = 0;
    while (!tly_actor_gone (actor)) {
        if (tly_stop_requested ())
            tly_actor_leave (actor);
        zmq_pollitem_t items [] = {
            { tly_actor_router_socket (actor), 0, tly_actor_accepting (actor) ? ZMQ_POLLIN : 0, 0 },
            { tly_actor_audit_socket (actor), 0, ZMQ_POLLIN, 0 },
            { tly_actor_bus_socket (actor), 0, ZMQ_POLLIN, 0 },
        };
        if (zmq_poll (items, 3, tly_health_poll_ms (health, tly_actor_timeout (actor))) == -1) {
            if (zmq_errno () == EINTR)
                continue;
            tly_log (TLY_ERROR, "poll_failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            status = 1;
            break;
        }
        if (items [0].revents & ZMQ_POLLIN)
            tly_actor_on_router (actor);
        if (items [1].revents & ZMQ_POLLIN)
            tly_actor_on_audit (actor);
        if (items [2].revents & ZMQ_POLLIN)
            tly_actor_on_bus (actor);
        tly_actor_tick (actor);
        tly_actor_flush (actor);
        if (tly_ledger_corrupt (ledger)) {
            //  A restart moves the state aside and rebuilds it from the journal.
            tly_log (TLY_ERROR, "stopping", "name=%s reason=\"state is corrupt\"", name);
            status = 1;
            break;
        }
        tly_health_beat (health, tly_stop_requested () ? TLY_HEALTH_STOPPING : TLY_HEALTH_READY);
    }
    tly_log (TLY_INFO, "stopping", "name=%s", name);
    tly_actor_destroy (&actor);
    tly_ledger_destroy (&ledger);
    tly_curve_destroy (&curve);
    tly_health_destroy (&health);
    return status;
}
