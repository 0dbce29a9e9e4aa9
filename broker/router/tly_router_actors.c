//  tly_router_actors - the balance actors the router believes alive.
//  See tly_router_actors.h for the design.
#include "tly_router_actors.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _tly_router_actors_t {
    tly_router_actor_t slots [TLY_ROUTER_ACTORS_MAX];
    uint32_t live [TLY_ROUTER_ACTORS_MAX];      //  slot of each live actor
    uint32_t size;
    uint64_t next_incarnation;
};

static void
s_check_invariants (tly_router_actors_t *self)
{
    assert (self->size <= TLY_ROUTER_ACTORS_MAX);
    for (uint32_t index = 0; index < self->size; index++) {
        tly_router_actor_t *actor = &self->slots [self->live [index]];
        assert (actor->incarnation != 0 && actor->incarnation < self->next_incarnation);
        assert (actor->live_index == index);
    }
}

tly_router_actors_t *
tly_router_actors_new (void)
{
    tly_router_actors_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    for (uint32_t slot = 0; slot < TLY_ROUTER_ACTORS_MAX; slot++)
        self->slots [slot].slot = slot;
    self->next_incarnation = 1;
    return self;
}

void
tly_router_actors_destroy (tly_router_actors_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
tly_router_actor_name_valid (const char *name)
{
    assert (name);
    size_t size = strlen (name);
    if (size == 0 || size > TLY_ROUTER_NAME_MAX)
        return false;
    for (size_t index = 0; index < size; index++) {
        char c = name [index];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

tly_router_actor_t *
tly_router_actors_add (tly_router_actors_t *self, const uint8_t *identity, size_t identity_size,
                       const char *name, int64_t now_ms)
{
    assert (self && identity && name);
    assert (identity_size >= 1 && identity_size <= TLY_ROUTER_IDENTITY_MAX);
    assert (tly_router_actor_name_valid (name));
    assert (!tly_router_actors_find (self, identity, identity_size));
    assert (!tly_router_actors_find_name (self, name));
    if (self->size == TLY_ROUTER_ACTORS_MAX)
        return NULL;
    //  Free slots are found by scanning: registration is rare.
    tly_router_actor_t *actor = NULL;
    for (uint32_t slot = 0; slot < TLY_ROUTER_ACTORS_MAX && !actor; slot++)
        if (self->slots [slot].incarnation == 0)
            actor = &self->slots [slot];
    assert (actor);
    actor->incarnation = self->next_incarnation++;
    actor->last_seen_ms = now_ms;
    actor->rank = 0;
    actor->assigned = false;
    actor->identity_size = identity_size;
    memcpy (actor->identity, identity, identity_size);
    snprintf (actor->name, sizeof actor->name, "%s", name);
    actor->live_index = self->size;
    self->live [self->size++] = actor->slot;
    s_check_invariants (self);
    return actor;
}

void
tly_router_actors_remove (tly_router_actors_t *self, tly_router_actor_t *actor)
{
    assert (self && actor);
    assert (actor->incarnation != 0);
    assert (actor->live_index < self->size && self->live [actor->live_index] == actor->slot);
    uint32_t last = self->live [--self->size];
    self->live [actor->live_index] = last;
    self->slots [last].live_index = actor->live_index;
    actor->incarnation = 0;
    s_check_invariants (self);
}

tly_router_actor_t *
tly_router_actors_find (tly_router_actors_t *self, const uint8_t *identity, size_t identity_size)
{
    assert (self && identity);
    for (uint32_t index = 0; index < self->size; index++) {
        tly_router_actor_t *actor = &self->slots [self->live [index]];
        if (actor->identity_size == identity_size
        &&  memcmp (actor->identity, identity, identity_size) == 0)
            return actor;
    }
    return NULL;
}

tly_router_actor_t *
tly_router_actors_find_name (tly_router_actors_t *self, const char *name)
{
    assert (self && name);
    for (uint32_t index = 0; index < self->size; index++) {
        tly_router_actor_t *actor = &self->slots [self->live [index]];
        if (strcmp (actor->name, name) == 0)
            return actor;
    }
    return NULL;
}

tly_router_actor_t *
tly_router_actors_get (tly_router_actors_t *self, uint32_t slot, uint64_t incarnation)
{
    assert (self);
    if (slot >= TLY_ROUTER_ACTORS_MAX || incarnation == 0
    ||  self->slots [slot].incarnation != incarnation)
        return NULL;
    return &self->slots [slot];
}

size_t
tly_router_actors_size (tly_router_actors_t *self)
{
    assert (self);
    return self->size;
}

tly_router_actor_t *
tly_router_actors_at (tly_router_actors_t *self, size_t index)
{
    assert (self && index < self->size);
    return &self->slots [self->live [index]];
}

static int
s_compare_names (const void *left, const void *right)
{
    const tly_router_actor_t *a = *(tly_router_actor_t *const *) left;
    const tly_router_actor_t *b = *(tly_router_actor_t *const *) right;
    return strcmp (a->name, b->name);
}

void
tly_router_actors_sorted (tly_router_actors_t *self, tly_router_actor_t **order)
{
    assert (self && order);
    for (uint32_t index = 0; index < self->size; index++)
        order [index] = &self->slots [self->live [index]];
    qsort (order, self->size, sizeof (order [0]), s_compare_names);
}

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

    tly_router_actor_t *order [3];
    tly_router_actors_sorted (self, order);
    assert (order [0] == a && order [1] == b && order [2] == c);

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
