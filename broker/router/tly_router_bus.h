//  tly_router_bus - the update bus proxy the router hosts (docs/protocol.md,
//  "The update bus").
//
//  Actors connect XPUB sockets to bus-in (our XSUB); gateways connect SUB
//  sockets to bus-out (our XPUB). Updates flow in → out unchanged (two frames:
//  19-byte object ID topic, BusObject). Our XSUB subscribes to everything
//  upstream, so actors never drop a message; subscriptions also flow out → in,
//  so an actor learns which objects anyone watches; our XPUB forwards only the
//  first subscription and the last unsubscription of a topic, which is all
//  the actors need. A gateway that cannot keep up loses updates (XPUB drops at its
//  high water mark) and sees a version gap, which it repairs by resyncing.
#ifndef TLY_ROUTER_BUS_H_INCLUDED
#define TLY_ROUTER_BUS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "tly_curve.h"

typedef struct _tly_router_bus_t tly_router_bus_t;

//  Binds both sockets: actors publish into bus_in, gateways subscribe at
//  bus_out; with curve (not NULL) each lets in only its own peers over TCP.
//  NULL with one line in error on failure.
tly_router_bus_t *tly_router_bus_new (const char *bus_in, const char *bus_out, tly_curve_t *curve,
                                      char *error, size_t error_size);
void tly_router_bus_destroy (tly_router_bus_t **self_p);

//  libzmq socket handles, for zmq_poll.
void *tly_router_bus_in (tly_router_bus_t *self);
void *tly_router_bus_out (tly_router_bus_t *self);

//  Forwards a burst of waiting updates (in → out) / subscriptions (out → in).
void tly_router_bus_drain_updates (tly_router_bus_t *self);
void tly_router_bus_drain_subscriptions (tly_router_bus_t *self);

#endif
