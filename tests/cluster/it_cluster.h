//  it_cluster - starts a real tally cluster (audit, router, N balance actors,
//  gateways) as child processes on loopback, for the cluster tests: a thin
//  layer on the test harness (tests/harness), whose CHECK kills the whole
//  cluster when a test fails.
#ifndef IT_CLUSTER_H_INCLUDED
#define IT_CLUSTER_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

#include "tly_account.h"

#define IT_CHILDREN_MAX 16

typedef struct {
    char name [32];
    char *argv [40];
    th_process_t *process;  //  its log: DIR/NAME.log
    bool killed;            //  by it_cluster_kill, not restarted since
    bool removed;           //  by it_cluster_remove: its slot takes the next added actor
} it_child_t;

typedef struct {
    char dir [256];  //  scratch data directory (removed at stop)
    int base_port;
    tly_account_t worker;
    char worker_id [TLY_ID_MAX];
    char gateway [64];  //  first gateway's client endpoint
    it_child_t children [IT_CHILDREN_MAX];
    int child_count;
    char **owned;  //  argument strings, freed at stop
    int owned_count;
    int owned_size;
    //  The endpoints a balance actor is given (owned).
    char *backend;
    char *audit;
    char *bus_in;
    //  CURVE (it_cluster_curve): every hop is TCP, so every server has its
    //  keys in DIR/keys and clients need the gateways' public key.
    char keys [300];         //  DIR/keys
    char gateway_key [320];  //  DIR/keys/gateway.key, or "" without CURVE
} it_cluster_t;

//  Whether it_cluster_start runs the cluster with CURVE on every hop (true,
//  the default: as deployed) or with --insecure everywhere.
extern bool it_cluster_curve;
//  The gateway key of the cluster it_cluster_start started last (its
//  gateway_key), or NULL without CURVE: what a test's clients pass to
//  tly_sender_new_curve and tly_watcher_new_curve.
extern const char *it_gateway_key;

//  Extra arguments given to every gateway (NULL-terminated), or NULL.
extern const char **it_gateway_extra_args;
//  Extra arguments given to every balance actor (NULL-terminated), or NULL.
extern const char **it_balance_extra_args;
//  Actors start with --open-prices unless this is set (the default, off).
extern bool it_closed_prices;
//  Extra arguments given to the audit writer (NULL-terminated), or NULL.
extern const char **it_audit_extra_args;
//  The directory in which it_cluster_start makes the cluster's scratch data
//  directory (NULL: /tmp).
extern const char *it_cluster_parent_dir;
//  Called by it_cluster_start once the data directory exists and before any
//  process starts (a test puts part of it on a file system of its own), and
//  by it_cluster_stop once every process has stopped and before the
//  directory is removed (the test takes that file system away). NULL: none.
extern void (*it_cluster_prepare) (it_cluster_t *self);
extern void (*it_cluster_release) (it_cluster_t *self);
//  --heartbeat-ms of every actor (its hello interval): "200" unless set
//  before it_cluster_start (a test of failover times may want the default,
//  "500"). The router keeps its own default (TLY_ROUTER_HEARTBEAT_MS).
extern const char *it_heartbeat_ms;

//  Starts audit, router, `actors` balance actors (balance-1..N) and `gateways`
//  gateways (gateway-1 on base_port, gateway-2 on base_port + 10, ...), then
//  waits until the router reports every partition owned. Aborts the test on failure.
it_cluster_t *it_cluster_start (int base_port, int actors, int gateways);
//  Stops every child with SIGTERM (checks each exits 0 within TH_DEADLINE_MS),
//  removes the directory.
void it_cluster_stop (it_cluster_t **self_p);
//  Ends a cluster that failed its test: kills (SIGKILL) every child still
//  running, frees it, and keeps its directory (the data and logs) for a look.
void it_cluster_abandon (it_cluster_t **self_p);
//  Sends sig to the named child and reaps it (within TH_DEADLINE_MS).
void it_cluster_kill (it_cluster_t *self, const char *name, int sig);
//  Starts the named child again with its original arguments.
void it_cluster_restart (it_cluster_t *self, const char *name);
//  Starts one more balance actor, a new one named name (its state in
//  DIR/NAME), in the slot of an actor it_cluster_remove took away if there
//  is one: a run may add and remove actors any number of times.
void it_cluster_add_actor (it_cluster_t *self, const char *name);
//  Stops the named child with SIGTERM and waits (TH_DEADLINE_MS) until it
//  has ended; its exit code. The child is gone for good: it_cluster_stop
//  skips it and it_cluster_add_actor may take its slot.
int it_cluster_remove (it_cluster_t *self, const char *name);
//  Waits (deadline) until the gateway at endpoint reports ready.
bool it_wait_ready (const char *gateway, int timeout_ms);
//  Runs the program bin (the tally CLI) with args (NULL-terminated, at most
//  14), shown first, its output the test's; returns its exit code, or fails
//  the test when it runs longer than timeout_ms.
int it_run_cli (const char *bin, char *const args [], int timeout_ms);
//  The journal check a cluster test ends with: `tally audit verify` of the
//  cluster's journal (the worker's checkpoints) and `tally audit replay
//  --compare` against the states of the actors named (NULL-terminated, at
//  most 4; each DIR/NAME/balance/NAME), each within timeout_ms; fails the
//  test unless both exit 0.
void it_check_journal (it_cluster_t *self, const char *const actors [], int timeout_ms);
//  Waits (deadline) until it reports ready with exactly `actors` live actors.
bool it_wait_actors (const char *gateway, uint32_t actors, int timeout_ms);
//  Arms the fault points (lib/include/tly_fault.h; a build with
//  -DTALLY_FAULTS=ON) of the named child with spec, "" to disarm: every
//  child reads DIR/NAME.faults (TALLY_FAULTS_FILE) at its start, and again
//  at its next hit of any point once the file has changed; each reading
//  logs fault.armed. Callable while the child runs, and before it starts
//  (from it_cluster_prepare).
void it_cluster_faults (it_cluster_t *self, const char *name, const char *spec);
//  The named child's process (running or not).
th_process_t *it_cluster_process (it_cluster_t *self, const char *name);
//  How many lines of the named child's log (DIR/NAME.log) hold text.
int it_logged (it_cluster_t *self, const char *name, const char *text);
//  Gateway endpoint number n (1-based).
void it_gateway_endpoint (it_cluster_t *self, int n, char *out, size_t size);

#endif
