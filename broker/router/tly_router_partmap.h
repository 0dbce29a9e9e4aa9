//  tly_router_partmap - which actor owns each partition, and since which epoch.
//
//  Assignment is rendezvous (highest-random-weight) hashing, a pure function
//  of the set of live actor names: partition p goes to the live actor whose
//  weight tly_router_partmap_weight (name_hash (name), p) is highest, the
//  smaller name winning a tie. An actor's weights do not depend on who else
//  is alive, so adding the n-th actor moves only the partitions it now wins
//  (about P/n, the least any rule can move), removing one moves only its own,
//  and an actor restarted under the same name wins back the same partitions.
//  Partition p mod n, the rule before this one, moved about 2/3 of them when
//  the third actor came.
//
//  A reassignment round plans the new owners and counts the partitions that
//  would get a new owner (moves); if there are any, the router makes a new
//  epoch durable and then applies the plan, and every moved partition takes
//  that epoch. Epochs of a partition only ever grow.
//
//      uint32_t moves = tly_router_partmap_plan (map, live, n);
//      ... when moves > 0, make epoch + 1 durable (or give up the round) ...
//      tly_router_partmap_apply (map, epoch);
//      ... send each actor tly_router_partmap_owned (map, slot, incarnation, ...) ...
//
//  A plan costs P x n weights (one 64-bit mix each), once per round: about
//  70 ms for the largest table (65536 partitions, 1024 actors), 0.4 ms for
//  256 partitions and 1024 actors.
#ifndef TLY_ROUTER_PARTMAP_H_INCLUDED
#define TLY_ROUTER_PARTMAP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tly_router_actors.h"

typedef struct _tly_router_partmap_t tly_router_partmap_t;

//  The rule. name_hash is the 64-bit FNV-1a of the name's bytes through the
//  splitmix64 finaliser, computed once when an actor registers
//  (tly_router_actor_t.name_hash). The weight is that finaliser of
//  name_hash XOR the partition's key, the (partition + 1)-th output of
//  splitmix64 (seed 0): a few multiplies, so a plan of P x n weights is cheap.
uint64_t tly_router_partmap_name_hash (const char *name);
uint64_t tly_router_partmap_weight (uint64_t name_hash, uint32_t partition);
//  The index in live [0 .. n-1] (n >= 1, in any order, names distinct) of
//  the actor that owns partition under the rule.
size_t tly_router_partmap_pick (tly_router_actor_t **live, size_t n, uint32_t partition);

//  partition_count in 1..TLY_PARTITIONS_MAX; every partition starts unowned.
tly_router_partmap_t *tly_router_partmap_new (uint32_t partition_count);
void tly_router_partmap_destroy (tly_router_partmap_t **self_p);

uint32_t tly_router_partmap_count (tly_router_partmap_t *self);
//  The owner as (slot, incarnation); incarnation 0 when nobody owns it.
void tly_router_partmap_owner (tly_router_partmap_t *self, uint32_t partition, uint32_t *slot,
                               uint64_t *incarnation);
uint64_t tly_router_partmap_epoch (tly_router_partmap_t *self, uint32_t partition);

//  Plans the owner of every partition over the n live actors (in any order)
//  and returns how many partitions would get a new (non-empty) owner. With
//  n == 0 nothing moves: partitions only lose their owner.
uint32_t tly_router_partmap_plan (tly_router_partmap_t *self, tly_router_actor_t **live, size_t n);
//  Applies the last plan: moved partitions take epoch, which must be higher
//  than every epoch handed out before when anything moves. A plan that is
//  not applied (the epoch could not be saved) is simply planned again.
void tly_router_partmap_apply (tly_router_partmap_t *self, uint64_t epoch);
//  The partitions the map gives the owner (slot, incarnation), in ascending
//  order: sets *partitions to a list valid until the next apply and returns
//  its length (0 for anyone the last apply gave nothing).
uint32_t tly_router_partmap_owned (tly_router_partmap_t *self, uint32_t slot, uint64_t incarnation,
                                   const uint32_t **partitions);

#endif
