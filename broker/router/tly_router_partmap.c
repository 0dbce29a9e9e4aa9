//  tly_router_partmap - which actor owns each partition, and since which epoch.
//  See tly_router_partmap.h for the assignment rule.
#include "tly_router_partmap.h"
#include "tly_limits.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t incarnation;       //  owner's incarnation, 0 when unowned
    uint64_t epoch;             //  epoch the current owner took it with
    uint32_t slot;              //  owner's actor slot
} partition_t;

struct _tly_router_partmap_t {
    uint32_t count;
    uint64_t highest_epoch;     //  highest epoch any partition ever took
    partition_t *partitions;
};

tly_router_partmap_t *
tly_router_partmap_new (uint32_t partition_count)
{
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_router_partmap_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->partitions = calloc (partition_count, sizeof (partition_t));
    if (!self->partitions) {
        free (self);
        return NULL;
    }
    self->count = partition_count;
    return self;
}

void
tly_router_partmap_destroy (tly_router_partmap_t **self_p)
{
    assert (self_p);
    tly_router_partmap_t *self = *self_p;
    if (!self)
        return;
    free (self->partitions);
    free (self);
    *self_p = NULL;
}

uint32_t
tly_router_partmap_count (tly_router_partmap_t *self)
{
    assert (self);
    return self->count;
}

void
tly_router_partmap_owner (tly_router_partmap_t *self, uint32_t partition, uint32_t *slot,
                          uint64_t *incarnation)
{
    assert (self && slot && incarnation);
    assert (partition < self->count);
    *slot = self->partitions [partition].slot;
    *incarnation = self->partitions [partition].incarnation;
}

uint64_t
tly_router_partmap_epoch (tly_router_partmap_t *self, uint32_t partition)
{
    assert (self);
    assert (partition < self->count);
    return self->partitions [partition].epoch;
}

uint32_t
tly_router_partmap_moves (tly_router_partmap_t *self, tly_router_actor_t **order, size_t n)
{
    assert (self && (order || n == 0));
    uint32_t moves = 0;
    for (uint32_t partition = 0; n > 0 && partition < self->count; partition++)
        if (self->partitions [partition].incarnation != order [partition % n]->incarnation)
            moves++;
    return moves;
}

void
tly_router_partmap_apply (tly_router_partmap_t *self, tly_router_actor_t **order, size_t n,
                          uint64_t epoch)
{
    assert (self && (order || n == 0));
    bool moving = tly_router_partmap_moves (self, order, n) > 0;
    assert (!moving || epoch > self->highest_epoch);
    for (uint32_t partition = 0; partition < self->count; partition++) {
        partition_t *entry = &self->partitions [partition];
        if (n == 0) {
            entry->incarnation = 0;
            continue;
        }
        tly_router_actor_t *owner = order [partition % n];
        assert (owner->incarnation != 0);
        if (entry->incarnation != owner->incarnation) {
            entry->incarnation = owner->incarnation;
            entry->slot = owner->slot;
            entry->epoch = epoch;
        }
    }
    if (moving)
        self->highest_epoch = epoch;
}
