//  tly_message_id_test - an ID carries its time, the rest is random.
#include "tly_message_id.h"

#include <assert.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void
tly_message_id_test (bool verbose)
{
    if (verbose)
        printf (" * tly_message_id: ");
    assert (sodium_init () >= 0);

    //  The time comes back exactly, big-endian in the first six bytes, so
    //  IDs sort by the time they were made.
    uint8_t a [TLY_MESSAGE_ID_BYTES], b [TLY_MESSAGE_ID_BYTES];
    tly_message_id_new (a, 1765000000123);
    assert (tly_message_id_time (a) == 1765000000123);
    assert (a [0] == 0x01 && a [5] == (uint8_t) (1765000000123 & 0xff));
    tly_message_id_new (b, 1765000000124);
    assert (memcmp (a, b, TLY_MESSAGE_ID_TIME_BYTES) < 0);

    //  Two IDs of the same millisecond differ in their random part.
    tly_message_id_new (b, 1765000000123);
    assert (memcmp (a, b, TLY_MESSAGE_ID_TIME_BYTES) == 0);
    assert (memcmp (a, b, TLY_MESSAGE_ID_BYTES) != 0);

    //  Times outside what six bytes hold are clamped, never wrapped.
    tly_message_id_new (a, -5);
    assert (tly_message_id_time (a) == 0);
    tly_message_id_new (a, INT64_MAX);
    assert (tly_message_id_time (a) == TLY_MESSAGE_ID_TIME_MAX);
    tly_message_id_new (a, TLY_MESSAGE_ID_TIME_MAX);
    assert (tly_message_id_time (a) == TLY_MESSAGE_ID_TIME_MAX);

    //  A stamp sets the time and keeps the random part.
    memcpy (b, a, sizeof b);
    tly_message_id_stamp (b, 42);
    assert (tly_message_id_time (b) == 42);
    assert (memcmp (a + TLY_MESSAGE_ID_TIME_BYTES, b + TLY_MESSAGE_ID_TIME_BYTES,
                    TLY_MESSAGE_ID_BYTES - TLY_MESSAGE_ID_TIME_BYTES)
            == 0);

    if (verbose)
        printf ("OK\n");
}
