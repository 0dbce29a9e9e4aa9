//  tly_router_flights - requests the router has accepted and not yet answered:
//  routed envelopes and snapshot requests, both sent to a partition's owner.
//
//  Each flight gets the router's own id (monotonic from a random start, never
//  0, so that a restarted router's ids are not its predecessor's; the
//  route_id or snapshot_id the actor sees and echoes), found
//  again through an open-addressing hash table when the actor replies. A
//  flight is either SENT (an attempt is at an actor, deadline = attempt
//  timeout) or HELD (no live owner, deadline = hold expiry). Each state keeps
//  its flights in a list ordered by deadline: the router always adds
//  "now + a constant", so appending keeps the order and the next deadline is
//  the head of a list, never a scan.
//
//  A flight keeps the RouterToActor message it sends, packed once with the
//  router's id, so an attempt is one send and no encoding.
#ifndef TLY_ROUTER_FLIGHTS_H_INCLUDED
#define TLY_ROUTER_FLIGHTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    TLY_FLIGHT_NEW = 0,  //  just added, in no list
    TLY_FLIGHT_SENT = 1,
    TLY_FLIGHT_HELD = 2
} tly_flight_state_t;

typedef enum {
    TLY_FLIGHT_ROUTE = 1,    //  RouterToActor{route}, answered by a RouteReply
    TLY_FLIGHT_SNAPSHOT = 2  //  RouterToActor{snapshot}, answered by a SnapshotReply
} tly_flight_kind_t;

typedef struct _tly_router_flight_t tly_router_flight_t;
struct _tly_router_flight_t {
    uint64_t id;          //  the router's, never 0
    uint64_t gateway_id;  //  the gateway's, echoed in its reply
    tly_flight_kind_t kind;
    uint8_t *message;  //  packed RouterToActor, sent on each attempt
    size_t message_size;
    uint64_t owner;       //  incarnation holding the current attempt (SENT)
    int64_t deadline_ms;  //  monotonic
    uint32_t partition;
    uint32_t attempts;  //  times sent to an actor
    tly_flight_state_t state;
    tly_router_flight_t *prev;  //  neighbours in its state's list
    tly_router_flight_t *next;
    size_t gateway_size;
    uint8_t gateway [];  //  the gateway's routing id
};

typedef struct _tly_router_flights_t tly_router_flights_t;

tly_router_flights_t *tly_router_flights_new (void);
//  Frees every flight. Safe on NULL.
void tly_router_flights_destroy (tly_router_flights_t **self_p);

//  A NEW flight with the next id and room for a message of up to message_max
//  bytes: the caller packs the message (with flight->id) into flight->message
//  and sets message_size. NULL when memory runs out.
tly_router_flight_t *tly_router_flights_add (tly_router_flights_t *self, tly_flight_kind_t kind,
                                             const uint8_t *gateway, size_t gateway_size,
                                             uint64_t gateway_id, uint32_t partition,
                                             size_t message_max);
tly_router_flight_t *tly_router_flights_find (tly_router_flights_t *self, uint64_t id);
//  Moves a flight to the tail of the SENT list (one more attempt, at owner) or
//  of the HELD list. deadline_ms must not precede that list's tail.
void tly_router_flights_sent (tly_router_flights_t *self, tly_router_flight_t *flight,
                              uint64_t owner, int64_t deadline_ms);
void tly_router_flights_hold (tly_router_flights_t *self, tly_router_flight_t *flight,
                              int64_t deadline_ms);
//  Forgets and frees a flight.
void tly_router_flights_remove (tly_router_flights_t *self, tly_router_flight_t *flight);

//  Head (earliest deadline) of a state's list, or NULL; walk on with ->next.
tly_router_flight_t *tly_router_flights_first (tly_router_flights_t *self,
                                               tly_flight_state_t state);
size_t tly_router_flights_size (tly_router_flights_t *self);
size_t tly_router_flights_held (tly_router_flights_t *self);

#endif
