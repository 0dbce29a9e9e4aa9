//  tly_router_arena - a protobuf-c allocator for messages that live only
//  while one frame is handled.
//
//  Decoding a message with protobuf-c's default allocator costs a malloc and
//  a free per submessage, string and bytes field; on the router's hot path
//  that was the largest cost. The arena hands out memory from one block and
//  frees nothing until reset. Requests that do not fit spill to malloc, and
//  the block grows at the next reset so that they fit from then on.
#ifndef TLY_ROUTER_ARENA_H_INCLUDED
#define TLY_ROUTER_ARENA_H_INCLUDED

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define TLY_ROUTER_ARENA_BLOCK_MIN   (64 * 1024)
#define TLY_ROUTER_ARENA_BLOCK_MAX   (16 * 1024 * 1024)

typedef struct _tly_router_arena_t tly_router_arena_t;

tly_router_arena_t *tly_router_arena_new (void);
void     tly_router_arena_destroy (tly_router_arena_t **self_p);

//  Pass to protobuf-c's unpack; what it returns stays valid until reset.
ProtobufCAllocator *tly_router_arena_allocator (tly_router_arena_t *self);
//  Releases everything handed out since the last reset.
void     tly_router_arena_reset (tly_router_arena_t *self);

void     tly_router_arena_test (bool verbose);

#endif
