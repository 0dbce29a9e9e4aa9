//  tly_router_flights - envelopes the router has accepted and not yet answered.
//  See tly_router_flights.h for the design.
#include "tly_router_flights.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDEX_INITIAL 1024  //  hash slots at start; doubles at half full

typedef struct {
    tly_router_flight_t *head;
    tly_router_flight_t *tail;
    size_t size;
} list_t;

struct _tly_router_flights_t {
    tly_router_flight_t **index;  //  open addressing, linear probing
    size_t index_size;            //  power of two
    size_t size;                  //  flights in the table
    uint64_t next_id;
    list_t lists [3];  //  by state; NEW's stays empty
};

//  Fibonacci hashing spreads consecutive ids over the table.
static size_t
s_home (tly_router_flights_t *self, uint64_t id)
{
    return (size_t) ((id * 0x9E3779B97F4A7C15ULL) >> 32) & (self->index_size - 1);
}

static void
s_index_put (tly_router_flights_t *self, tly_router_flight_t *flight)
{
    size_t mask = self->index_size - 1;
    size_t at = s_home (self, flight->id);
    while (self->index [at])
        at = (at + 1) & mask;
    self->index [at] = flight;
}

static int
s_index_grow (tly_router_flights_t *self)
{
    size_t old_size = self->index_size;
    tly_router_flight_t **old = self->index;
    tly_router_flight_t **grown = calloc (old_size * 2, sizeof (grown [0]));
    if (!grown)
        return -1;
    self->index = grown;
    self->index_size = old_size * 2;
    for (size_t at = 0; at < old_size; at++)
        if (old [at])
            s_index_put (self, old [at]);
    free (old);
    return 0;
}

static size_t
s_index_find (tly_router_flights_t *self, uint64_t id)
{
    size_t mask = self->index_size - 1;
    size_t at = s_home (self, id);
    while (self->index [at] && self->index [at]->id != id)
        at = (at + 1) & mask;
    return at;
}

//  Backward-shift deletion: no tombstones, so probes stay short forever.
static void
s_index_delete (tly_router_flights_t *self, size_t hole)
{
    size_t mask = self->index_size - 1;
    self->index [hole] = NULL;
    size_t at = (hole + 1) & mask;
    while (self->index [at]) {
        size_t home = s_home (self, self->index [at]->id);
        //  Move the entry back if the hole lies between its home and here.
        if (((at - home) & mask) >= ((at - hole) & mask)) {
            self->index [hole] = self->index [at];
            self->index [at] = NULL;
            hole = at;
        }
        at = (at + 1) & mask;
    }
}

static void
s_unlink (tly_router_flights_t *self, tly_router_flight_t *flight)
{
    if (flight->state == TLY_FLIGHT_NEW)
        return;
    list_t *list = &self->lists [flight->state];
    assert (list->size > 0);
    if (flight->prev)
        flight->prev->next = flight->next;
    else
        list->head = flight->next;
    if (flight->next)
        flight->next->prev = flight->prev;
    else
        list->tail = flight->prev;
    list->size--;
    flight->prev = flight->next = NULL;
    flight->state = TLY_FLIGHT_NEW;
}

static void
s_append (tly_router_flights_t *self, tly_router_flight_t *flight, tly_flight_state_t state,
          int64_t deadline_ms)
{
    s_unlink (self, flight);
    list_t *list = &self->lists [state];
    assert (!list->tail || list->tail->deadline_ms <= deadline_ms);
    flight->deadline_ms = deadline_ms;
    flight->state = state;
    flight->prev = list->tail;
    if (list->tail)
        list->tail->next = flight;
    else
        list->head = flight;
    list->tail = flight;
    list->size++;
    assert (self->lists [TLY_FLIGHT_SENT].size + self->lists [TLY_FLIGHT_HELD].size <= self->size);
}

tly_router_flights_t *
tly_router_flights_new (void)
{
    tly_router_flights_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->index = calloc (INDEX_INITIAL, sizeof (self->index [0]));
    if (!self->index) {
        free (self);
        return NULL;
    }
    self->index_size = INDEX_INITIAL;
    //  A random first id, not 1: after a router restart an actor still
    //  answers flights of the router before (its socket delivers what it
    //  had queued, and it finishes the batch in hand), and such an answer
    //  must find no flight of this router, or it goes to another client's
    //  request. Below 2^63, so the ids never wrap; odd, so never 0.
    randombytes_buf (&self->next_id, sizeof self->next_id);
    self->next_id = (self->next_id >> 1) | 1;
    return self;
}

void
tly_router_flights_destroy (tly_router_flights_t **self_p)
{
    assert (self_p);
    tly_router_flights_t *self = *self_p;
    if (!self)
        return;
    for (size_t at = 0; at < self->index_size; at++)
        free (self->index [at]);
    free (self->index);
    free (self);
    *self_p = NULL;
}

tly_router_flight_t *
tly_router_flights_add (tly_router_flights_t *self, tly_flight_kind_t kind, const uint8_t *gateway,
                        size_t gateway_size, uint64_t gateway_id, uint32_t partition,
                        size_t message_max)
{
    assert (self && gateway && gateway_size > 0 && message_max > 0);
    assert (kind == TLY_FLIGHT_ROUTE || kind == TLY_FLIGHT_SNAPSHOT);
    if ((self->size + 1) * 2 > self->index_size && s_index_grow (self) == -1)
        return NULL;
    //  One allocation: the flight, the gateway's id, then the message.
    size_t size;
    if (__builtin_add_overflow (sizeof (tly_router_flight_t) + gateway_size, message_max, &size))
        return NULL;
    tly_router_flight_t *flight = malloc (size);
    if (!flight)
        return NULL;
    memset (flight, 0, sizeof (*flight));
    flight->id = self->next_id++;
    flight->gateway_id = gateway_id;
    flight->kind = kind;
    flight->partition = partition;
    flight->gateway_size = gateway_size;
    memcpy (flight->gateway, gateway, gateway_size);
    flight->message = flight->gateway + gateway_size;
    s_index_put (self, flight);
    self->size++;
    return flight;
}

tly_router_flight_t *
tly_router_flights_find (tly_router_flights_t *self, uint64_t id)
{
    assert (self);
    return self->index [s_index_find (self, id)];
}

void
tly_router_flights_sent (tly_router_flights_t *self, tly_router_flight_t *flight, uint64_t owner,
                         int64_t deadline_ms)
{
    assert (self && flight && owner != 0);
    flight->owner = owner;
    flight->attempts++;
    s_append (self, flight, TLY_FLIGHT_SENT, deadline_ms);
}

void
tly_router_flights_hold (tly_router_flights_t *self, tly_router_flight_t *flight,
                         int64_t deadline_ms)
{
    assert (self && flight);
    flight->owner = 0;
    s_append (self, flight, TLY_FLIGHT_HELD, deadline_ms);
}

void
tly_router_flights_remove (tly_router_flights_t *self, tly_router_flight_t *flight)
{
    assert (self && flight);
    size_t at = s_index_find (self, flight->id);
    assert (self->index [at] == flight);
    s_unlink (self, flight);
    s_index_delete (self, at);
    self->size--;
    free (flight);
}

tly_router_flight_t *
tly_router_flights_first (tly_router_flights_t *self, tly_flight_state_t state)
{
    assert (self && (state == TLY_FLIGHT_SENT || state == TLY_FLIGHT_HELD));
    return self->lists [state].head;
}

size_t
tly_router_flights_size (tly_router_flights_t *self)
{
    assert (self);
    return self->size;
}

size_t
tly_router_flights_held (tly_router_flights_t *self)
{
    assert (self);
    return self->lists [TLY_FLIGHT_HELD].size;
}
