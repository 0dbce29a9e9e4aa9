//  tly_arena_private - the arena's blocks, shared by tly_arena.c and its
//  self-test (which checks that a reset leaves one block big enough for a
//  whole cycle). Nothing else may include this.
#ifndef TLY_ARENA_PRIVATE_H_INCLUDED
#define TLY_ARENA_PRIVATE_H_INCLUDED

#include <stdalign.h>
#include <stddef.h>

#include "tly_arena.h"

#define S_ALIGN alignof (max_align_t)

typedef struct _s_block_t {
    struct _s_block_t *next;  //  older block
    size_t size;
    size_t used;
    alignas (max_align_t) unsigned char data [];
} s_block_t;

struct _tly_arena_t {
    s_block_t *blocks;  //  newest first; allocations come from the head
    size_t block_size;  //  size of a fresh first block
    size_t used;        //  bytes handed out since reset
    ProtobufCAllocator allocator;
};

#endif
