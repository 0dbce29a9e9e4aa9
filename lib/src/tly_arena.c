//  tly_arena - a bump allocator for everything one batch builds.
#include "tly_arena.h"

#include <assert.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tly_arena_private.h"

static size_t
s_round_up (size_t size)
{
    size_t rounded;
    bool overflow = __builtin_add_overflow (size, S_ALIGN - 1, &rounded);
    assert (!overflow);
    return rounded & ~(S_ALIGN - 1);
}

static s_block_t *
s_block_new (size_t size, s_block_t *next)
{
    s_block_t *block = malloc (sizeof (s_block_t) + size);
    assert (block);
    block->next = next;
    block->size = size;
    block->used = 0;
    return block;
}

static void *
s_take (tly_arena_t *self, size_t size)
{
    size = s_round_up (size ? size : 1);
    s_block_t *block = self->blocks;
    if (!block || block->size - block->used < size) {
        size_t fresh = self->block_size > size ? self->block_size : size;
        block = s_block_new (fresh, self->blocks);
        self->blocks = block;
    }
    void *memory = block->data + block->used;
    block->used += size;
    self->used += size;
    return memory;
}

static void *
s_protobuf_alloc (void *data, size_t size)
{
    return s_take ((tly_arena_t *) data, size);
}

static void
s_protobuf_free (void *data, void *pointer)
{
    (void) data;
    (void) pointer;
}

tly_arena_t *
tly_arena_new (size_t block_size)
{
    assert (block_size > 0);
    tly_arena_t *self = calloc (1, sizeof (tly_arena_t));
    if (!self)
        return NULL;
    self->block_size = s_round_up (block_size);
    self->allocator.alloc = s_protobuf_alloc;
    self->allocator.free = s_protobuf_free;
    self->allocator.allocator_data = self;
    return self;
}

void
tly_arena_destroy (tly_arena_t **self_p)
{
    assert (self_p);
    tly_arena_t *self = *self_p;
    if (!self)
        return;
    while (self->blocks) {
        s_block_t *next = self->blocks->next;
        free (self->blocks);
        self->blocks = next;
    }
    free (self);
    *self_p = NULL;
}

void *
tly_arena_alloc (tly_arena_t *self, size_t size)
{
    assert (self);
    void *memory = s_take (self, size);
    memset (memory, 0, size);
    return memory;
}

char *
tly_arena_strdup (tly_arena_t *self, const char *text)
{
    assert (self);
    assert (text);
    size_t size = strlen (text) + 1;
    char *copy = s_take (self, size);
    memcpy (copy, text, size);
    return copy;
}

ProtobufCBinaryData
tly_arena_bytes (tly_arena_t *self, const void *data, size_t size)
{
    ProtobufCBinaryData bytes = { size, tly_arena_alloc (self, size) };
    memcpy (bytes.data, data, size);
    return bytes;
}

void
tly_arena_reset (tly_arena_t *self)
{
    assert (self);
    if (self->blocks && self->blocks->next) {
        //  The last cycle outgrew one block: replace them all by one that fits.
        size_t needed = 0;
        for (s_block_t *block = self->blocks; block; block = block->next)
            needed += block->used;
        while (self->blocks) {
            s_block_t *next = self->blocks->next;
            free (self->blocks);
            self->blocks = next;
        }
        if (needed > self->block_size)
            self->block_size = s_round_up (needed);
        self->blocks = s_block_new (self->block_size, NULL);
    }
    if (self->blocks)
        self->blocks->used = 0;
    self->used = 0;
}

size_t
tly_arena_used (tly_arena_t *self)
{
    assert (self);
    return self->used;
}

ProtobufCAllocator *
tly_arena_allocator (tly_arena_t *self)
{
    assert (self);
    return &self->allocator;
}
