//  tly_arena - a bump allocator for everything one unit of work builds.
//
//  A balance actor's batch, a router's frame, an audit writer's drain: what
//  they decode and build dies together when the work is answered. The arena
//  hands out memory from one growing block and frees it all at once, so hot
//  paths make no per-message malloc. It also serves as a protobuf-c allocator
//  (free is a no-op), which removes protobuf-c's malloc per submessage.
//
//      tly_arena_t *arena = tly_arena_new (64 * 1024);
//      Tally__Envelope *envelope = tally__envelope__unpack (
//          tly_arena_allocator (arena), size, data);
//      ...
//      tly_arena_reset (arena);        //  everything above is gone
#ifndef TLY_ARENA_H_INCLUDED
#define TLY_ARENA_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _tly_arena_t tly_arena_t;

//  block_size is the size of the first block; later blocks grow as needed.
tly_arena_t *tly_arena_new (size_t block_size);
void tly_arena_destroy (tly_arena_t **self_p);
//  Returns size bytes aligned for any type, zeroed. Never returns NULL
//  (asserts on allocation failure, like tly_wire_pack).
void *tly_arena_alloc (tly_arena_t *self, size_t size);
//  Copies a NUL-terminated string into the arena.
char *tly_arena_strdup (tly_arena_t *self, const char *text);
//  Copies size bytes into the arena, as a protobuf bytes field.
ProtobufCBinaryData tly_arena_bytes (tly_arena_t *self, const void *data, size_t size);
//  Forgets every allocation. When the last cycle needed more than the first
//  block, the first block grows to that size so the next cycle needs one block.
void tly_arena_reset (tly_arena_t *self);
//  Bytes handed out since the last reset.
size_t tly_arena_used (tly_arena_t *self);
//  A protobuf-c allocator drawing from this arena.
ProtobufCAllocator *tly_arena_allocator (tly_arena_t *self);

#endif
