//  tly_router_arena - a protobuf-c allocator for short-lived messages.
//  See tly_router_arena.h for why.
#include "tly_router_arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGNMENT  alignof (max_align_t)

struct _tly_router_arena_t {
    ProtobufCAllocator allocator;       //  allocator_data points back here
    uint8_t *block;
    size_t block_size;
    size_t used;
    void **spills;                      //  malloc'd when the block was full
    size_t spill_count;
    size_t spill_capacity;
    size_t spilled_bytes;
};

static void *
s_alloc (void *data, size_t size)
{
    tly_router_arena_t *self = data;
    size_t aligned;
    if (__builtin_add_overflow (size, ALIGNMENT - 1, &aligned))
        return NULL;
    aligned &= ~(ALIGNMENT - 1);
    if (aligned <= self->block_size - self->used) {
        void *pointer = self->block + self->used;
        self->used += aligned;
        return pointer;
    }
    if (self->spill_count == self->spill_capacity) {
        size_t capacity = self->spill_capacity ? self->spill_capacity * 2 : 16;
        void **spills = realloc (self->spills, capacity * sizeof (spills [0]));
        if (!spills)
            return NULL;
        self->spills = spills;
        self->spill_capacity = capacity;
    }
    void *pointer = malloc (size);
    if (!pointer)
        return NULL;
    self->spills [self->spill_count++] = pointer;
    self->spilled_bytes += aligned;
    return pointer;
}

//  Nothing is freed one by one: reset releases it all.
static void
s_free (void *data, void *pointer)
{
    (void) data;
    (void) pointer;
}

tly_router_arena_t *
tly_router_arena_new (void)
{
    tly_router_arena_t *self = calloc (1, sizeof (*self));
    if (!self)
        return NULL;
    self->block = malloc (TLY_ROUTER_ARENA_BLOCK_MIN);
    if (!self->block) {
        free (self);
        return NULL;
    }
    self->block_size = TLY_ROUTER_ARENA_BLOCK_MIN;
    self->allocator.alloc = s_alloc;
    self->allocator.free = s_free;
    self->allocator.allocator_data = self;
    return self;
}

void
tly_router_arena_destroy (tly_router_arena_t **self_p)
{
    assert (self_p);
    tly_router_arena_t *self = *self_p;
    if (!self)
        return;
    tly_router_arena_reset (self);
    free (self->spills);
    free (self->block);
    free (self);
    *self_p = NULL;
}

ProtobufCAllocator *
tly_router_arena_allocator (tly_router_arena_t *self)
{
    assert (self);
    return &self->allocator;
}

void
tly_router_arena_reset (tly_router_arena_t *self)
{
    assert (self);
    for (size_t at = 0; at < self->spill_count; at++)
        free (self->spills [at]);
    size_t needed = self->used + self->spilled_bytes;
    if (self->spill_count > 0 && self->block_size < TLY_ROUTER_ARENA_BLOCK_MAX) {
        size_t size = self->block_size;
        while (size < needed && size < TLY_ROUTER_ARENA_BLOCK_MAX)
            size *= 2;
        //  Keeping the old block is fine if a bigger one cannot be had.
        uint8_t *block = malloc (size);
        if (block) {
            free (self->block);
            self->block = block;
            self->block_size = size;
        }
    }
    self->spill_count = 0;
    self->spilled_bytes = 0;
    self->used = 0;
}

void
tly_router_arena_test (bool verbose)
{
    if (verbose)
        printf (" * tly_router_arena: ");
    tly_router_arena_t *self = tly_router_arena_new ();
    assert (self);
    ProtobufCAllocator *allocator = tly_router_arena_allocator (self);

    //  Small requests come from the block, aligned, and stay writable.
    uint8_t *first = allocator->alloc (allocator->allocator_data, 3);
    uint8_t *second = allocator->alloc (allocator->allocator_data, 40);
    assert (first && second && second > first);
    assert ((uintptr_t) second % ALIGNMENT == 0);
    memset (first, 1, 3);
    memset (second, 2, 40);
    allocator->free (allocator->allocator_data, first);
    assert (self->used > 0 && self->spill_count == 0);

    //  A request bigger than the block spills; the next reset grows the block.
    size_t big = TLY_ROUTER_ARENA_BLOCK_MIN * 3;
    uint8_t *spilled = allocator->alloc (allocator->allocator_data, big);
    assert (spilled && self->spill_count == 1);
    memset (spilled, 3, big);
    tly_router_arena_reset (self);
    assert (self->used == 0 && self->spill_count == 0);
    assert (self->block_size >= big);
    uint8_t *fits = allocator->alloc (allocator->allocator_data, big);
    assert (fits == self->block);
    //  Absurd sizes fail instead of wrapping around.
    assert (allocator->alloc (allocator->allocator_data, SIZE_MAX) == NULL);
    tly_router_arena_reset (self);

    //  The block never grows past its cap; bigger requests keep spilling.
    for (int round = 0; round < 12; round++) {
        assert (allocator->alloc (allocator->allocator_data, TLY_ROUTER_ARENA_BLOCK_MAX + 1));
        tly_router_arena_reset (self);
        assert (self->block_size <= TLY_ROUTER_ARENA_BLOCK_MAX);
    }
    tly_router_arena_destroy (&self);
    tly_router_arena_destroy (&self);
    assert (self == NULL);
    if (verbose)
        printf ("OK\n");
}
