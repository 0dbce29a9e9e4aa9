//  tly_router_actors_test - names, slots and incarnations, the table's limit.
#include "tly_router_actors.h"
#include "tly_router_partmap.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void
tly_router_actors_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_actors: ");
    assert (tly_router_actor_name_valid ("balance-1"));
    assert (tly_router_actor_name_valid ("a.b_c:D-9"));
    assert (!tly_router_actor_name_valid (""));
    assert (!tly_router_actor_name_valid ("has space"));
    assert (!tly_router_actor_name_valid ("key=value"));
    char name [TLY_ROUTER_NAME_MAX + 2];
    memset (name, 'n', sizeof name);
    name [TLY_ROUTER_NAME_MAX] = 0;
    assert (tly_router_actor_name_valid (name));
    name [TLY_ROUTER_NAME_MAX] = 'n';
    name [TLY_ROUTER_NAME_MAX + 1] = 0;
    assert (!tly_router_actor_name_valid (name));

    tly_router_actors_t *self = tly_router_actors_new ();
    assert (self);
    const uint8_t id_c [] = { 0, 1, 2, 3, 3 };
    const uint8_t id_a [] = { 0, 1, 2, 3, 1 };
    const uint8_t id_b [] = { 0, 1, 2, 3, 2 };
    tly_router_actor_t *c = tly_router_actors_add (self, id_c, sizeof id_c, "c", 10);
    tly_router_actor_t *a = tly_router_actors_add (self, id_a, sizeof id_a, "a", 11);
    tly_router_actor_t *b = tly_router_actors_add (self, id_b, sizeof id_b, "b", 12);
    assert (a && b && c);
    assert (tly_router_actors_size (self) == 3);
    assert (tly_router_actors_find (self, id_b, sizeof id_b) == b);
    assert (tly_router_actors_find (self, id_b, sizeof id_b - 1) == NULL);
    assert (tly_router_actors_find_name (self, "a") == a);
    assert (tly_router_actors_find_name (self, "z") == NULL);

    //  Each name is hashed once, at registration, for the assignment rule.
    assert (a->name_hash == tly_router_partmap_name_hash ("a"));
    assert (c->name_hash == tly_router_partmap_name_hash ("c") && c->name_hash != a->name_hash);

    //  A removed actor's (slot, incarnation) never resolves again, even when
    //  the slot is reused by the next registration.
    uint32_t slot = a->slot;
    uint64_t incarnation = a->incarnation;
    assert (tly_router_actors_get (self, slot, incarnation) == a);
    tly_router_actors_remove (self, a);
    assert (tly_router_actors_get (self, slot, incarnation) == NULL);
    assert (tly_router_actors_size (self) == 2);
    tly_router_actor_t *again = tly_router_actors_add (self, id_a, sizeof id_a, "a", 13);
    assert (again && again->slot == slot && again->incarnation > incarnation);
    assert (tly_router_actors_get (self, slot, incarnation) == NULL);
    assert (tly_router_actors_get (self, TLY_ROUTER_ACTORS_MAX, again->incarnation) == NULL);
    tly_router_actors_remove (self, c);
    tly_router_actors_remove (self, b);
    tly_router_actors_remove (self, again);
    assert (tly_router_actors_size (self) == 0);

    //  The table holds exactly TLY_ROUTER_ACTORS_MAX actors.
    for (uint32_t index = 0; index < TLY_ROUTER_ACTORS_MAX; index++) {
        uint8_t id [4];
        memcpy (id, &index, sizeof id);
        char label [16];
        snprintf (label, sizeof label, "x%u", index);
        assert (tly_router_actors_add (self, id, sizeof id, label, 1));
    }
    const uint8_t extra [] = { 9, 9, 9, 9, 9 };
    assert (tly_router_actors_add (self, extra, sizeof extra, "extra", 1) == NULL);
    for (uint32_t index = 0; index < TLY_ROUTER_ACTORS_MAX; index++)
        tly_router_actors_remove (self, tly_router_actors_at (self, 0));
    assert (tly_router_actors_size (self) == 0);

    tly_router_actors_destroy (&self);
    tly_router_actors_destroy (&self);
    assert (self == NULL);
    if (verbose)
        printf ("OK\n");
}
