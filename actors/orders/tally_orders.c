//  tally-orders - the order processor process (tly_orders): calls the
//  external service for every order in processing, then completes or fails
//  it, as the worker, through a gateway.
#include "tly_fault.h"
#include "tly_health.h"
#include "tly_log.h"
#include "tly_orders.h"
#include "tly_orders_config.h"
#include "tly_stop.h"

#include <sodium.h>
#include <stdio.h>

int
main (int argc, char *argv [])
{
    tly_orders_config_t config;
    const char *health_file;
    tly_level_t level;
    tly_flags_parsed_t parsed = tly_orders_config_parse (&config, &health_file, &level, argc, argv);
    if (parsed != TLY_FLAGS_RUN)
        return tly_flags_exit_status (parsed);
    tly_log_init (TLY_ORDERS_PROCESS, level);
    tly_stop_install ();

    char error [512];
    //  Test builds only (tly_fault.h): the crashes to inject between steps.
    if (TLY_FAULT_INIT (error, sizeof error) == -1) {
        sodium_memzero (&config.account, sizeof config.account);
        fprintf (stderr, TLY_ORDERS_PROCESS ": %s\n", error);
        return 2;
    }
    tly_health_t *health = NULL;
    if (health_file && !(health = tly_health_new (health_file, error, sizeof error))) {
        fprintf (stderr, TLY_ORDERS_PROCESS ": %s\n", error);
        return 2;
    }
    tly_orders_t *orders = tly_orders_new (&config, error, sizeof error);
    sodium_memzero (&config.account, sizeof config.account);
    if (!orders) {
        fprintf (stderr, TLY_ORDERS_PROCESS ": %s\n", error);
        tly_health_destroy (&health);
        return 2;
    }
    //  The loop: until the gateway answers, ask it again (each try waits up
    //  to its timeout); then one turn at a time: what the queues say, the
    //  calls that finished, each order's next step.
    bool started = false;
    while (!tly_stop_requested ()) {
        if (!started)
            started = tly_orders_start (orders) == 0;
        else
            tly_orders_turn (orders);
        tly_health_beat (health, started ? TLY_HEALTH_READY : TLY_HEALTH_STARTING);
    }
    tly_health_beat (health, TLY_HEALTH_STOPPING);
    tly_orders_stats_t stats;
    tly_orders_stats (orders, &stats);
    tly_log (TLY_INFO, "stopped", "tracked=%llu completed=%llu failed=%llu",
             (unsigned long long) stats.tracked, (unsigned long long) stats.completed,
             (unsigned long long) stats.failed);
    tly_orders_destroy (&orders);
    tly_health_destroy (&health);
    return 0;
}
