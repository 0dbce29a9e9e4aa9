//  tly_router_actors - the balance actors the router believes alive.
//  See tly_router_actors.h for the design.
#include "tly_router_actors.h"
#include "tly_router_partmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _tly_router_actors_t {
    tly_router_actor_t slots [TLY_ROUTER_ACTORS_MAX];
    uint32_t live [TLY_ROUTER_ACTORS_MAX];  //  slot of each live actor
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
    actor->assigned = false;
    actor->identity_size = identity_size;
    memcpy (actor->identity, identity, identity_size);
    snprintf (actor->name, sizeof actor->name, "%s", name);
    actor->name_hash = tly_router_partmap_name_hash (actor->name);
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
            && memcmp (actor->identity, identity, identity_size) == 0)
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
        || self->slots [slot].incarnation != incarnation)
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
