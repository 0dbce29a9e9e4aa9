//  tly_router - the inbox router: gateways on the frontend, balance actors on
//  the backend, the partition map in between (docs/protocol.md, "Gateway →
//  router → actor", for envelopes and for snapshot requests alike).
//
//  The process's loop polls the two sockets, drains whichever is readable,
//  then ticks: heartbeats and liveness, a reassignment round when the live
//  actor set changed, attempt timeouts and hold expiry. next_deadline tells
//  the loop how long it may sleep.
#ifndef TLY_ROUTER_H_INCLUDED
#define TLY_ROUTER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_curve.h"

#define TLY_ROUTER_HOLD_MAX_DEFAULT     100000
#define TLY_ROUTER_INFLIGHT_MAX_DEFAULT 200000

typedef struct {
    const char *data_dir;  //  holds router.epoch; must outlive the router
    const char *frontend;  //  endpoint gateways connect to
    const char *backend;   //  endpoint actors connect to
    uint32_t partition_count;
    int64_t heartbeat_ms;  //  heartbeat interval, both ways
    int64_t liveness;      //  intervals of silence before an actor is dead
    int64_t attempt_ms;    //  one delivery attempt
    uint32_t attempts;     //  delivery attempts per envelope
    size_t hold_max;       //  envelopes waiting for an owner
    size_t inflight_max;   //  requests accepted and not yet answered
    tly_curve_t *curve;    //  CURVE on TCP endpoints; NULL: none (in-process use)
} tly_router_config_t;

typedef struct _tly_router_t tly_router_t;

//  Loads the epoch counter, proves the data directory writable and binds both
//  sockets. Returns NULL with one line in error on failure.
tly_router_t *tly_router_new (const tly_router_config_t *config, char *error, size_t error_size);
void tly_router_destroy (tly_router_t **self_p);

//  libzmq socket handles, for zmq_poll.
void *tly_router_frontend (tly_router_t *self);
void *tly_router_backend (tly_router_t *self);

//  Handle a burst of waiting messages from gateways / actors.
void tly_router_drain_frontend (tly_router_t *self);
void tly_router_drain_backend (tly_router_t *self);
//  Timers and the reassignment round; call after every poll.
void tly_router_tick (tly_router_t *self);
//  Monotonic ms of the next timer (tly_mono_ms clock).
int64_t tly_router_next_deadline (tly_router_t *self);
//  The highest epoch handed out (the durable counter).
uint64_t tly_router_epoch (tly_router_t *self);

#endif
