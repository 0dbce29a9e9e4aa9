//  tly_wire - one protobuf message per ZeroMQ frame.
#ifndef TLY_WIRE_H_INCLUDED
#define TLY_WIRE_H_INCLUDED

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

//  Packs msg into a new frame. Never returns NULL (asserts on allocation).
zframe_t *tly_wire_pack (const ProtobufCMessage *msg);
//  Sends msg as the last frame of a message; when identity is not NULL it is
//  sent first (for ROUTER sockets). Returns 0 or -1.
int tly_wire_send (void *sock, zframe_t *identity, const ProtobufCMessage *msg);
//  Unix time in milliseconds (wall clock) and a monotonic clock in ms.
int64_t tly_now_ms (void);
int64_t tly_mono_ms (void);

#endif
