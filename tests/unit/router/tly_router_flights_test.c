//  tly_router_flights_test - the lists of flights and the index by id.
#include "tly_router_flights.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tly_router_flight_t *
s_test_add (tly_router_flights_t *self, uint64_t gateway_id, uint32_t partition)
{
    const uint8_t gateway [] = { 0, 0, 0, 0, 7 };
    tly_router_flight_t *flight = tly_router_flights_add (self, TLY_FLIGHT_ROUTE, gateway,
                                                          sizeof gateway, gateway_id, partition, 8);
    assert (flight);
    memcpy (flight->message, "message", 8);
    flight->message_size = 8;
    return flight;
}

void
tly_router_flights_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_flights: ");
    tly_router_flights_t *self = tly_router_flights_new ();
    assert (self);
    tly_router_flight_t *one = s_test_add (self, 500, 3);
    tly_router_flight_t *two = s_test_add (self, 501, 4);
    assert (one->id != 0 && two->id > one->id);
    assert (one->gateway_id == 500 && one->partition == 3 && one->kind == TLY_FLIGHT_ROUTE);
    assert (one->state == TLY_FLIGHT_NEW && one->attempts == 0);
    assert (one->gateway_size == 5 && one->gateway [4] == 7);
    assert (strcmp ((char *) one->message, "message") == 0);
    assert (tly_router_flights_find (self, one->id) == one);
    assert (tly_router_flights_find (self, 0) == NULL);
    assert (tly_router_flights_find (self, two->id + 1) == NULL);
    //  A restarted router numbers its flights elsewhere: a late answer to a
    //  flight of the router before finds none of the new one's.
    tly_router_flights_t *restarted = tly_router_flights_new ();
    assert (restarted);
    tly_router_flight_t *first = s_test_add (restarted, 500, 3);
    assert (first->id != 0 && first->id != one->id && first->id != two->id);
    assert (tly_router_flights_find (restarted, one->id) == NULL);
    tly_router_flights_destroy (&restarted);

    tly_router_flights_sent (self, one, 42, 100);
    tly_router_flights_hold (self, two, 50);
    assert (one->attempts == 1 && one->owner == 42 && one->deadline_ms == 100);
    assert (tly_router_flights_first (self, TLY_FLIGHT_SENT) == one);
    assert (tly_router_flights_first (self, TLY_FLIGHT_HELD) == two);
    assert (tly_router_flights_held (self) == 1);
    //  Released from hold, it queues behind the earlier attempt.
    tly_router_flights_sent (self, two, 43, 150);
    assert (tly_router_flights_held (self) == 0);
    assert (tly_router_flights_first (self, TLY_FLIGHT_HELD) == NULL);
    assert (tly_router_flights_first (self, TLY_FLIGHT_SENT) == one && one->next == two);
    //  A retry moves to the tail.
    tly_router_flights_sent (self, one, 42, 200);
    assert (one->attempts == 2);
    assert (tly_router_flights_first (self, TLY_FLIGHT_SENT) == two && two->next == one);
    tly_router_flights_remove (self, two);
    assert (tly_router_flights_first (self, TLY_FLIGHT_SENT) == one && !one->prev && !one->next);
    tly_router_flights_remove (self, one);
    assert (tly_router_flights_size (self) == 0);

    //  Many flights, removed in a scattered order, exercise growth and
    //  backward-shift deletion; every survivor must stay findable.
    enum {
        COUNT = 5000
    };
    tly_router_flight_t **flights = calloc (COUNT, sizeof (flights [0]));
    assert (flights);
    for (uint32_t at = 0; at < COUNT; at++) {
        flights [at] = s_test_add (self, at, at % 256);
        tly_router_flights_hold (self, flights [at], at);
    }
    for (uint32_t at = 0; at < COUNT; at += 3) {
        tly_router_flights_remove (self, flights [at]);
        flights [at] = NULL;
    }
    for (uint32_t at = 0; at < COUNT; at++)
        if (flights [at])
            assert (tly_router_flights_find (self, flights [at]->id) == flights [at]);
    assert (tly_router_flights_size (self) == COUNT - (COUNT + 2) / 3);
    free (flights);
    //  Destroy frees whatever is left.
    tly_router_flights_destroy (&self);
    tly_router_flights_destroy (&self);
    assert (self == NULL);
    if (verbose)
        printf ("OK\n");
}
