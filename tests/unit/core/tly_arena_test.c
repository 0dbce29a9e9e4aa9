//  tly_arena_test - alignment, zeroing, growth, reset and the protobuf-c allocator.
#include "tly_arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "tly_arena_private.h"

void
tly_arena_test (bool verbose)
{
    if (verbose)
        printf (" * tly_arena: ");
    tly_arena_t *arena = tly_arena_new (64);
    assert (arena);
    assert (tly_arena_used (arena) == 0);

    //  Alignment, zeroing, and growth past the first block.
    unsigned char *first = tly_arena_alloc (arena, 3);
    assert (((uintptr_t) first % S_ALIGN) == 0);
    assert (first [0] == 0 && first [2] == 0);
    memset (first, 0xAB, 3);
    unsigned char *big = tly_arena_alloc (arena, 1000);
    assert (((uintptr_t) big % S_ALIGN) == 0);
    for (size_t i = 0; i < 1000; i++)
        assert (big [i] == 0);
    assert (first [0] == 0xAB);
    char *copy = tly_arena_strdup (arena, "balance");
    assert (strcmp (copy, "balance") == 0);
    assert (tly_arena_used (arena) >= 1000 + 3 + 8);

    //  After a reset the first block has grown to hold a whole cycle.
    tly_arena_reset (arena);
    assert (tly_arena_used (arena) == 0);
    assert (arena->blocks && !arena->blocks->next);
    assert (arena->blocks->size >= 1000);
    while (tly_arena_used (arena) + 100 <= 1000)
        tly_arena_alloc (arena, 100);
    assert (!arena->blocks->next);

    //  As a protobuf-c allocator.
    ProtobufCAllocator *allocator = tly_arena_allocator (arena);
    void *memory = allocator->alloc (allocator->allocator_data, 24);
    assert (memory);
    allocator->free (allocator->allocator_data, memory);

    tly_arena_destroy (&arena);
    assert (arena == NULL);
    tly_arena_destroy (&arena);
    if (verbose)
        printf ("OK\n");
}
