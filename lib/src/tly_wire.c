//  tly_wire - one protobuf message per ZeroMQ frame, and clocks.
#include "tly_wire.h"

#include <assert.h>
#include <time.h>

zframe_t *
tly_wire_pack (const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    zframe_t *frame = zframe_new (NULL, size);
    assert (frame);
    size_t packed = protobuf_c_message_pack (msg, zframe_data (frame));
    assert (packed == size);
    return frame;
}

int
tly_wire_send (void *sock, zframe_t *identity, const ProtobufCMessage *msg)
{
    zframe_t *frame = tly_wire_pack (msg);
    if (identity && zframe_send (&identity, sock, ZFRAME_MORE + ZFRAME_REUSE) == -1) {
        zframe_destroy (&frame);
        return -1;
    }
    return zframe_send (&frame, sock, 0);
}

int64_t
tly_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t
tly_mono_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
