//  router_test_fakes - the fake cluster router_test drives: the real
//  tally-router binary as a child process (on the harness), fake balance
//  actors and a fake gateway (DEALER sockets speaking docs/protocol.md), and
//  helpers that wait for conditions with deadlines instead of sleeping.
//
//  The router declares an actor lost after LIVENESS silent heartbeats, so the
//  test never blocks without serving its fakes: every wait (for a reply, a
//  bus message, a router run to its end) runs fake_pump, which also sends
//  the hellos that fall due. A slow machine makes the test slower, not wrong.
#ifndef ROUTER_TEST_FAKES_H_INCLUDED
#define ROUTER_TEST_FAKES_H_INCLUDED

#include "harness.h"
#include "tly_limits.h"
#include "tly_wire.h"
#include "tally.pb-c.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#define PARTITIONS   256
#define HEARTBEAT_MS 100  //  the router's and the fake actors'
#define LIVENESS     5
#define WAIT_MS      10000  //  generous: sanitizer builds are slow
#define SEEN_MAX     256    //  routes / replies remembered
#define ACTORS_MAX   8      //  fake actors in the whole test

//  A route or snapshot request an actor received; envelope holds the
//  envelope text of a route, or the object ID of a snapshot request.
typedef struct {
    uint64_t route_id;
    uint32_t partition;
    bool snapshot;
    char envelope [32];
} seen_route_t;

typedef struct {
    const char *name;
    zsock_t *sock;
    uint32_t partition_count;  //  what its hello claims
    bool alive;                //  keeps sending hellos
    int assignments;
    uint32_t owned;
    uint64_t epochs [PARTITIONS];  //  0 for partitions it does not own
    int heartbeats;
    seen_route_t routes [SEEN_MAX];
    size_t route_count;
} actor_t;

typedef struct {
    uint64_t route_id;
    bool snapshot;  //  a SnapshotReply, not a RouteReply
    Tally__ErrorCode code;
    char text [128];
    size_t results;
    int64_t balance;  //  of the first result
    int64_t at_ms;
} seen_reply_t;

typedef struct {
    th_process_t *router;  //  the real tally-router
    char dir [64];
    char frontend [64];
    char backend [64];
    char bus_in [64];
    char bus_out [64];
    zsock_t *gateway;
    seen_reply_t replies [SEEN_MAX];
    size_t reply_count;
    bool have_status;
    uint64_t status_id;
    Tally__SystemStatus status;
    actor_t *actors [ACTORS_MAX];
    size_t actor_count;
    int64_t next_hello_ms;
} test_t;

//  Pumps messages (and hellos) until condition holds; fails naming the
//  condition and the line after WAIT_MS.
#define WAIT_UNTIL(t, condition) TH_WAIT_UNTIL (condition, WAIT_MS, fake_pump ((t), 20))
//  Starts tally-router on t's endpoints and data directory with these flags.
void fake_start_router (test_t *t, const char *attempt_ms, const char *hold_max,
                        const char *inflight_max);
//  SIGTERM, then asserts a clean exit 0.
void fake_stop_router (test_t *t);
//  Runs the router with argv to completion and returns its exit code; its
//  output is discarded. The fake actors keep saying hello meanwhile.
int fake_exit_code (test_t *t, char *const argv []);

//  A fake actor on the backend; it says hello now and every HEARTBEAT_MS
//  while alive.
actor_t *fake_actor_new (test_t *t, const char *name, uint32_t partition_count);
//  Handles whatever arrives within timeout_ms and sends the hellos that fall due.
void fake_pump (test_t *t, int64_t timeout_ms);
//  The actor says it leaves, naming name (its own, or another's), and
//  stops saying hello.
void fake_leave (actor_t *actor, const char *name);

//  The gateway's side: a route (envelope text fake_envelope_text (route_id)),
//  a snapshot request, a status request (waits for the answer).
const char *fake_envelope_text (uint64_t gateway_route_id);
void fake_route (test_t *t, uint64_t route_id, uint32_t partition);
void fake_snapshot (test_t *t, uint64_t snapshot_id, uint32_t partition, const char *object_id);
Tally__SystemStatus fake_status (test_t *t, uint64_t status_id);

//  An actor's answers: a RouteReply with one balance result, or with error
//  when error_code is not OK; a SnapshotReply with error_code.
void fake_answer (actor_t *actor, uint64_t route_id, Tally__ErrorCode error_code, int64_t balance);
void fake_answer_snapshot (actor_t *actor, uint64_t snapshot_id, Tally__ErrorCode error_code);

//  What the gateway received: the first RouteReply / SnapshotReply for an id
//  (NULL if none yet), and how many RouteReplies for it.
seen_reply_t *fake_reply_for (test_t *t, uint64_t route_id);
seen_reply_t *fake_snapshot_reply_for (test_t *t, uint64_t snapshot_id);
size_t fake_replies_for (test_t *t, uint64_t route_id);

//  What an actor received: requests carrying text (envelope text or object
//  ID) and the router's id on the first; the same for the envelope the
//  gateway sent as route_id.
size_t fake_received (actor_t *actor, const char *text);
uint64_t fake_received_id (actor_t *actor, const char *text);
size_t fake_deliveries (actor_t *actor, uint64_t gateway_route_id);
uint64_t fake_router_id (actor_t *actor, uint64_t gateway_route_id);

//  The highest epoch in the actor's last Assignment.
uint64_t fake_max_epoch (actor_t *actor);
//  The one of actors [0 .. n-1] that the router's rule gives partition
//  (tly_router_partmap_pick over their names).
actor_t *fake_rule_owner (actor_t **actors, size_t n, uint32_t partition);
//  True when the actors' last Assignments split the partitions as the rule
//  says: each partition is in exactly one list, the owner's by the rule.
bool fake_split_by_rule (actor_t **actors, size_t n);
//  Receives one whole message from sock (not one of t's), pumping t
//  meanwhile; fails the test after WAIT_MS.
zmsg_t *fake_recv_within (test_t *t, zsock_t *sock);

#endif
