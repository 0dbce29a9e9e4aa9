//  tly_router_partmap - which actor owns each partition, and since which epoch.
//
//  Assignment is a pure function of the live actors: sort them by name and
//  give partition p to actor p mod n. A reassignment round first counts the
//  partitions that would get a new owner (moves); if there are any, the router
//  makes a new epoch durable and then applies the round, and every moved
//  partition takes that epoch. Epochs of a partition only ever grow.
#ifndef TLY_ROUTER_PARTMAP_H_INCLUDED
#define TLY_ROUTER_PARTMAP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_router_actors.h"

typedef struct _tly_router_partmap_t tly_router_partmap_t;

//  partition_count in 1..TLY_PARTITIONS_MAX; every partition starts unowned.
tly_router_partmap_t *tly_router_partmap_new (uint32_t partition_count);
void     tly_router_partmap_destroy (tly_router_partmap_t **self_p);

uint32_t tly_router_partmap_count (tly_router_partmap_t *self);
//  The owner as (slot, incarnation); incarnation 0 when nobody owns it.
void     tly_router_partmap_owner (tly_router_partmap_t *self, uint32_t partition,
                                   uint32_t *slot, uint64_t *incarnation);
uint64_t tly_router_partmap_epoch (tly_router_partmap_t *self, uint32_t partition);

//  Partitions that would get a new (non-empty) owner if order (n live actors
//  sorted by name) took over. With n == 0 nothing moves: partitions only lose
//  their owner.
uint32_t tly_router_partmap_moves (tly_router_partmap_t *self, tly_router_actor_t **order,
                                   size_t n);
//  Applies the round: moved partitions take epoch, which must be higher than
//  every epoch handed out before when anything moves.
void     tly_router_partmap_apply (tly_router_partmap_t *self, tly_router_actor_t **order,
                                   size_t n, uint64_t epoch);

#endif
