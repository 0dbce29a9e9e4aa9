//  tly_bytes - big-endian integers in byte strings. LMDB keys are big-endian
//  so that its byte order is numeric order; wire tags use the same layout.
#ifndef TLY_BYTES_H_INCLUDED
#define TLY_BYTES_H_INCLUDED

#include <stdint.h>

static inline void
tly_put_be64 (uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        out [i] = (uint8_t) value;
        value >>= 8;
    }
}

static inline uint64_t
tly_get_be64 (const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in [i];
    return value;
}

static inline void
tly_put_be32 (uint8_t *out, uint32_t value)
{
    for (int i = 3; i >= 0; i--) {
        out [i] = (uint8_t) value;
        value >>= 8;
    }
}

static inline uint32_t
tly_get_be32 (const uint8_t *in)
{
    return (uint32_t) in [0] << 24 | (uint32_t) in [1] << 16 | (uint32_t) in [2] << 8 | in [3];
}

#endif
