//  chaos_scheduler - the chaos run's faults: from the run's seed, it waits,
//  injects one fault and heals it (kill -9 and restart of an actor, the
//  router, the audit writer or a gateway; SIGSTOP of an actor; an actor
//  added or removed; a slow disk), then waits for the cluster to be ready
//  again. Apart from the run (chaos.c), which only paces it and counts.
#include "chaos.h"
#include "chaos_private.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tly_limits.h"
#include "tly_wire.h"

#define S_ACTORS_MIN 2

const char *chaos_fault_names [CHAOS_FAULTS] = { "kill -9 actor",          "kill -9 router",
                                                 "kill -9 audit",          "kill -9 gateway",
                                                 "SIGSTOP actor",          "add actor",
                                                 "remove actor (SIGTERM)", "slow disk" };

//  The slow disk is armed through the servers' faults files
//  (it_cluster_faults; lib/include/tly_fault.h): only a build with fault
//  points has them, and only there is a slow disk chosen.
#if defined(TLY_FAULTS_BUILD)
const bool chaos_slow_disk = true;
#else
const bool chaos_slow_disk = false;
#endif

static it_child_t *
s_child (it_cluster_t *cluster, const char *name)
{
    for (int i = 0; i < cluster->child_count; i++)
        if (streq (cluster->children [i].name, name) && !cluster->children [i].removed)
            return &cluster->children [i];
    th_fail (__FILE__, __LINE__, "no child named %s", name);
}

//  Sleeps ms: the scheduler's own timing, decided by the seed.
void
chaos_pause (int64_t ms)
{
    th_sleep_ms (ms);
}

//  Injects one fault and heals it; returns the fault injected.
chaos_fault_t
chaos_inject (chaos_scheduler_t *self)
{
    it_cluster_t *cluster = self->cluster;
    chaos_fault_t fault = (chaos_fault_t) th_rng_below (&self->rng, CHAOS_FAULTS);
    if (fault == CHAOS_ADD_ACTOR && self->actor_count == CHAOS_ACTORS_MAX)
        fault = CHAOS_REMOVE_ACTOR;
    else if (fault == CHAOS_REMOVE_ACTOR && self->actor_count == S_ACTORS_MIN)
        fault = CHAOS_ADD_ACTOR;
    else if (fault == CHAOS_SLOW_DISK && !chaos_slow_disk)
        fault = CHAOS_KILL_ACTOR;
    int64_t hold = (int64_t) th_rng_below (&self->rng, 1000);
    int actor = (int) th_rng_below (&self->rng, (uint64_t) self->actor_count);
    char gateway [32];
    snprintf (gateway, sizeof gateway, "gateway-%d",
              1 + (int) th_rng_below (&self->rng, (uint64_t) self->gateways));
    char name [64];
    int64_t at_ms = tly_mono_ms () - chaos_start_ms;
    const char *target = fault == CHAOS_KILL_ROUTER    ? "router"
                         : fault == CHAOS_KILL_AUDIT   ? "audit"
                         : fault == CHAOS_KILL_GATEWAY ? gateway
                                                       : self->actors [actor];
    switch (fault) {
        case CHAOS_KILL_ACTOR:
        case CHAOS_KILL_ROUTER:
        case CHAOS_KILL_AUDIT:
        case CHAOS_KILL_GATEWAY:
            it_cluster_kill (cluster, target, SIGKILL);
            chaos_pause (hold);
            it_cluster_restart (cluster, target);
            break;
        case CHAOS_STOP_ACTOR: {
            //  Longer than the router's link timeout: the actor is lost, its
            //  partitions move, and when it runs again its old epoch is fenced.
            it_child_t *child = s_child (cluster, target);
            th_process_signal (child->process, SIGSTOP);
            chaos_pause (TLY_LINK_TIMEOUT_MS + 500 + 2 * hold);
            th_process_signal (child->process, SIGCONT);
            break;
        }
        case CHAOS_ADD_ACTOR:
            target = self->actors [self->actor_count];
            snprintf (self->actors [self->actor_count++], sizeof self->actors [0], "balance-%d",
                      self->next_actor++);
            it_cluster_add_actor (cluster, target);
            break;
        case CHAOS_REMOVE_ACTOR: {
            snprintf (name, sizeof name, "%s", target);
            int code = it_cluster_remove (cluster, name);
            if (code != 0)
                chaos_violation (self->report, "%s exited %d after SIGTERM", name, code);
            memmove (&self->actors [actor], &self->actors [actor + 1],
                     (size_t) (self->actor_count - actor - 1) * sizeof self->actors [0]);
            self->actor_count--;
            target = name;
            break;
        }
        case CHAOS_SLOW_DISK: {
            //  Every fsync of the journal slower than a client's patience
            //  at times, for one to four seconds of load.
            int sync_ms = 100 + (int) th_rng_below (&self->rng, 1400);
            int commit_ms = 1 + (int) th_rng_below (&self->rng, 300);
            char spec [64];
            snprintf (spec, sizeof spec, "journal.sync=delay:%d", sync_ms);
            it_cluster_faults (cluster, "audit", spec);
            snprintf (spec, sizeof spec, "state.commit=delay:%d", commit_ms);
            for (int a = 0; a < self->actor_count; a++)
                it_cluster_faults (cluster, self->actors [a], spec);
            chaos_pause (1000 + 3 * hold);
            it_cluster_faults (cluster, "audit", "");
            for (int a = 0; a < self->actor_count; a++)
                it_cluster_faults (cluster, self->actors [a], "");
            snprintf (name, sizeof name, "fsync +%d ms, commit +%d ms", sync_ms, commit_ms);
            target = name;
            break;
        }
        default: CHECK (false);
    }
    chaos_injected_t *injected = &self->trail [self->injected++ % CHAOS_TRAIL];
    *injected = (chaos_injected_t) { .at_ms = at_ms, .fault = fault };
    snprintf (injected->target, sizeof injected->target, "%s", target);
    if (th_verbose)
        printf ("chaos: %.3f s: %s: %s\n", (double) at_ms / 1000.0, chaos_fault_names [fault],
                target);
    return fault;
}

//  Every fault is healed before the next: the cluster must be ready again.
void
chaos_await_ready (chaos_scheduler_t *self, chaos_fault_t fault)
{
    for (int n = 1; n <= self->gateways; n++) {
        char endpoint [64];
        it_gateway_endpoint (self->cluster, n, endpoint, sizeof endpoint);
        if (!it_wait_ready (endpoint, CHAOS_RECOVER_MS)) {
            chaos_violation (self->report, "gateway-%d not ready %d ms after %s was healed", n,
                             CHAOS_RECOVER_MS, chaos_fault_names [fault]);
            return;
        }
    }
}
