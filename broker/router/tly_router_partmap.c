//  tly_router_partmap - which actor owns each partition, and since which epoch.
//  See tly_router_partmap.h for the assignment rule.
#include "tly_router_partmap.h"
#include "tly_limits.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET   0xcbf29ce484222325ULL
#define FNV_PRIME    0x100000001b3ULL
#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL  //  splitmix64's increment

typedef struct {
    uint64_t incarnation;  //  owner's incarnation, 0 when unowned
    uint64_t epoch;        //  epoch the current owner took it with
    uint32_t slot;         //  owner's actor slot
} partition_t;

struct _tly_router_partmap_t {
    uint32_t count;
    uint64_t highest_epoch;  //  highest epoch any partition ever took
    partition_t *partitions;
    //  The last plan: each partition's next owner (epoch unused), and how
    //  many partitions it moves. Valid from plan to apply.
    partition_t *planned;
    uint32_t planned_moves;
    bool plan_ready;
    uint64_t *folded;  //  s_fold of the live actors' name hashes, during a plan
    //  Owned partitions grouped by slot, rebuilt at apply: slot s owns
    //  by_slot [first [s] .. first [s + 1] - 1], in ascending order.
    uint32_t *by_slot;
    uint32_t first [TLY_ROUTER_ACTORS_MAX + 1];
};

//  The splitmix64 finaliser: a bijection on 64 bits in which every input bit
//  flips each output bit with probability about 1/2. s_mix (x) is
//  s_mix_rest (s_fold (x)), split so that the fold can be hoisted out of the
//  loop over P x n weights: it distributes over xor, so
//  s_fold (hash ^ key) == s_fold (hash) ^ s_fold (key).
static inline uint64_t
s_fold (uint64_t value)
{
    return value ^ (value >> 30);
}

static inline uint64_t
s_mix_rest (uint64_t value)
{
    value *= 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

static inline uint64_t
s_mix (uint64_t value)
{
    return s_mix_rest (s_fold (value));
}

//  What the partition brings to every actor's weight: splitmix64's
//  (partition + 1)-th output.
static inline uint64_t
s_partition_key (uint32_t partition)
{
    return s_mix (((uint64_t) partition + 1) * GOLDEN_GAMMA);
}

uint64_t
tly_router_partmap_name_hash (const char *name)
{
    assert (name);
    uint64_t hash = FNV_OFFSET;
    for (const unsigned char *at = (const unsigned char *) name; *at; at++)
        hash = (hash ^ *at) * FNV_PRIME;
    //  Names that differ in one last byte differ in few FNV bits: mix them.
    return s_mix (hash);
}

uint64_t
tly_router_partmap_weight (uint64_t name_hash, uint32_t partition)
{
    return s_mix (name_hash ^ s_partition_key (partition));
}

//  The rule over folded [i] == s_fold (live [i]->name_hash): the highest
//  weight, the smaller name on a tie (two names whose hashes collide tie
//  everywhere). The weights are tly_router_partmap_weight's, one multiply
//  pair and a compare each.
static inline size_t
s_pick (tly_router_actor_t **live, const uint64_t *folded, size_t n, uint32_t partition)
{
    uint64_t key = s_fold (s_partition_key (partition));
    size_t best = 0;
    uint64_t best_weight = s_mix_rest (folded [0] ^ key);
    for (size_t index = 1; index < n; index++) {
        uint64_t weight = s_mix_rest (folded [index] ^ key);
        if (weight > best_weight
            || (weight == best_weight && strcmp (live [index]->name, live [best]->name) < 0)) {
            best = index;
            best_weight = weight;
        }
    }
    return best;
}

size_t
tly_router_partmap_pick (tly_router_actor_t **live, size_t n, uint32_t partition)
{
    assert (live && n >= 1 && n <= TLY_ROUTER_ACTORS_MAX);
    uint64_t folded [TLY_ROUTER_ACTORS_MAX];
    for (size_t index = 0; index < n; index++)
        folded [index] = s_fold (live [index]->name_hash);
    return s_pick (live, folded, n, partition);
}

tly_router_partmap_t *
tly_router_partmap_new (uint32_t partition_count)
{
    assert (partition_count >= 1 && partition_count <= TLY_PARTITIONS_MAX);
    tly_router_partmap_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->count = partition_count;
    self->partitions = calloc (partition_count, sizeof (partition_t));
    self->planned = calloc (partition_count, sizeof (partition_t));
    self->by_slot = calloc (partition_count, sizeof (uint32_t));
    self->folded = calloc (TLY_ROUTER_ACTORS_MAX, sizeof (uint64_t));
    if (!self->partitions || !self->planned || !self->by_slot || !self->folded)
        tly_router_partmap_destroy (&self);
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
    free (self->planned);
    free (self->by_slot);
    free (self->folded);
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
tly_router_partmap_plan (tly_router_partmap_t *self, tly_router_actor_t **live, size_t n)
{
    assert (self && (live || n == 0));
    assert (n <= TLY_ROUTER_ACTORS_MAX);
    //  Side by side: the inner loop of P x n weights reads nothing else.
    for (size_t index = 0; index < n; index++) {
        tly_router_actor_t *actor = live [index];
        assert (actor->incarnation != 0);
        assert (actor->name_hash == tly_router_partmap_name_hash (actor->name));
        self->folded [index] = s_fold (actor->name_hash);
    }
    uint32_t moves = 0;
    for (uint32_t partition = 0; partition < self->count; partition++) {
        partition_t *next = &self->planned [partition];
        if (n == 0) {
            next->incarnation = 0;
            continue;
        }
        tly_router_actor_t *owner = live [s_pick (live, self->folded, n, partition)];
        next->incarnation = owner->incarnation;
        next->slot = owner->slot;
        if (self->partitions [partition].incarnation != owner->incarnation)
            moves++;
    }
    self->planned_moves = moves;
    self->plan_ready = true;
    return moves;
}

//  Groups the owned partitions by slot (a counting sort, stable, so each
//  slot's list stays in ascending order).
static void
s_index_by_slot (tly_router_partmap_t *self)
{
    memset (self->first, 0, sizeof self->first);
    for (uint32_t partition = 0; partition < self->count; partition++)
        if (self->partitions [partition].incarnation != 0)
            self->first [self->partitions [partition].slot + 1]++;
    for (uint32_t slot = 0; slot < TLY_ROUTER_ACTORS_MAX; slot++)
        self->first [slot + 1] += self->first [slot];
    uint32_t next [TLY_ROUTER_ACTORS_MAX];
    memcpy (next, self->first, sizeof next);
    for (uint32_t partition = 0; partition < self->count; partition++)
        if (self->partitions [partition].incarnation != 0)
            self->by_slot [next [self->partitions [partition].slot]++] = partition;
}

void
tly_router_partmap_apply (tly_router_partmap_t *self, uint64_t epoch)
{
    assert (self && self->plan_ready);
    bool moving = self->planned_moves > 0;
    assert (!moving || epoch > self->highest_epoch);
    for (uint32_t partition = 0; partition < self->count; partition++) {
        partition_t *entry = &self->partitions [partition];
        partition_t *next = &self->planned [partition];
        if (next->incarnation == 0)
            entry->incarnation = 0;
        else if (entry->incarnation != next->incarnation) {
            entry->incarnation = next->incarnation;
            entry->slot = next->slot;
            entry->epoch = epoch;
        }
    }
    if (moving)
        self->highest_epoch = epoch;
    self->plan_ready = false;
    s_index_by_slot (self);
}

uint32_t
tly_router_partmap_owned (tly_router_partmap_t *self, uint32_t slot, uint64_t incarnation,
                          const uint32_t **partitions)
{
    assert (self && partitions);
    assert (slot < TLY_ROUTER_ACTORS_MAX && incarnation != 0);
    uint32_t begin = self->first [slot];
    uint32_t size = self->first [slot + 1] - begin;
    *partitions = self->by_slot + begin;
    //  One incarnation per slot at apply: a later one in the slot owns nothing yet.
    if (size == 0 || self->partitions [self->by_slot [begin]].incarnation != incarnation)
        return 0;
    return size;
}
