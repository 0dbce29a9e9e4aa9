//  tly_router_actors - the balance actors the router currently believes alive.
//
//  Each registration takes a slot and a fresh incarnation number (never
//  reused). The partition map names an owner by (slot, incarnation), so an
//  owner that died or was replaced by a restarted process of the same name is
//  recognised at once: its slot is free or holds a newer incarnation.
//  Actors are few (one per tally-balance process), so lookups by identity or
//  name scan the live list.
#ifndef TLY_ROUTER_ACTORS_H_INCLUDED
#define TLY_ROUTER_ACTORS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_limits.h"

#define TLY_ROUTER_ACTORS_MAX   1024                //  live actors at once
#define TLY_ROUTER_NAME_MAX     TLY_ACTOR_NAME_MAX  //  bytes of an actor name
#define TLY_ROUTER_IDENTITY_MAX 255                 //  bytes of a ZeroMQ routing id

typedef struct {
    uint64_t incarnation;  //  0 when the slot is free
    int64_t last_seen_ms;  //  monotonic: last hello or reply
    uint32_t slot;         //  stable while registered
    uint32_t live_index;   //  position in the live list
    uint64_t name_hash;    //  tly_router_partmap_name_hash (name)
    bool assigned;         //  the last round's Assignment was queued
    bool journal_full;     //  its last hello: the journal had no room
    bool state_full;       //  its last hello: its state storage has no room
    size_t identity_size;
    uint8_t identity [TLY_ROUTER_IDENTITY_MAX];
    char name [TLY_ROUTER_NAME_MAX + 1];
} tly_router_actor_t;

typedef struct _tly_router_actors_t tly_router_actors_t;

tly_router_actors_t *tly_router_actors_new (void);
void tly_router_actors_destroy (tly_router_actors_t **self_p);

//  Names are 1..TLY_ROUTER_NAME_MAX bytes of [A-Za-z0-9._:-], so they hash
//  and compare the same everywhere and print safely in logs.
bool tly_router_actor_name_valid (const char *name);

//  Registers an actor seen now. Returns it, or NULL when the table is full.
//  Its identity and name must not be registered already.
tly_router_actor_t *tly_router_actors_add (tly_router_actors_t *self, const uint8_t *identity,
                                           size_t identity_size, const char *name, int64_t now_ms);
void tly_router_actors_remove (tly_router_actors_t *self, tly_router_actor_t *actor);

//  Lookups; NULL when absent.
tly_router_actor_t *tly_router_actors_find (tly_router_actors_t *self, const uint8_t *identity,
                                            size_t identity_size);
tly_router_actor_t *tly_router_actors_find_name (tly_router_actors_t *self, const char *name);
//  The actor in slot, only if it is still the given incarnation.
tly_router_actor_t *tly_router_actors_get (tly_router_actors_t *self, uint32_t slot,
                                           uint64_t incarnation);

//  Live actors in no particular order: index 0 .. size-1. Removing an actor
//  moves the last one into its place.
size_t tly_router_actors_size (tly_router_actors_t *self);
tly_router_actor_t *tly_router_actors_at (tly_router_actors_t *self, size_t index);

#endif
