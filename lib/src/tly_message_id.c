//  tly_message_id - inbox message IDs: when they were made.
#include "tly_message_id.h"

#include <assert.h>
#include <sodium.h>

void
tly_message_id_stamp (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t now_ms)
{
    assert (id);
    if (now_ms < 0)
        now_ms = 0;
    if (now_ms > TLY_MESSAGE_ID_TIME_MAX)
        now_ms = TLY_MESSAGE_ID_TIME_MAX;
    for (int i = 0; i < TLY_MESSAGE_ID_TIME_BYTES; i++)
        id [i] = (uint8_t) ((uint64_t) now_ms >> (8 * (TLY_MESSAGE_ID_TIME_BYTES - 1 - i)));
}

void
tly_message_id_new (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t now_ms)
{
    assert (id);
    assert (sodium_init () >= 0);
    randombytes_buf (id + TLY_MESSAGE_ID_TIME_BYTES,
                     TLY_MESSAGE_ID_BYTES - TLY_MESSAGE_ID_TIME_BYTES);
    tly_message_id_stamp (id, now_ms);
}

int64_t
tly_message_id_time (const uint8_t id [TLY_MESSAGE_ID_BYTES])
{
    assert (id);
    uint64_t time = 0;
    for (int i = 0; i < TLY_MESSAGE_ID_TIME_BYTES; i++)
        time = time << 8 | id [i];
    return (int64_t) time;
}
