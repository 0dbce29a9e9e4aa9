//  tly_message_id - inbox message IDs: when they were made, and the window
//  in which a balance actor still takes them.
//
//  A message ID is 16 bytes: the first 6 are the sender's clock when the
//  message was made (Unix ms, big-endian, as in UUIDv7), the other 10 are
//  random. The time lets an actor forget a message ID once it is older than
//  the dedupe window (--dedupe-window-ms): it refuses older IDs, and IDs
//  further ahead of its clock than the window, with STALE_MESSAGE_ID, so an
//  ID it has forgotten can never take effect a second time. 80 random bits
//  per sender per millisecond make a collision negligible.
#ifndef TLY_MESSAGE_ID_H_INCLUDED
#define TLY_MESSAGE_ID_H_INCLUDED

#include <stdint.h>
#include "tly_limits.h"

#define TLY_MESSAGE_ID_TIME_BYTES 6
//  The latest time 6 bytes hold (year 10889).
#define TLY_MESSAGE_ID_TIME_MAX   ((int64_t) ((1ULL << (8 * TLY_MESSAGE_ID_TIME_BYTES)) - 1))

_Static_assert(TLY_MESSAGE_ID_TIME_BYTES + 10 == TLY_MESSAGE_ID_BYTES,
               "a message ID is its time and 80 random bits");

//  Fills id with a fresh ID made at now_ms (clamped to 0 .. TIME_MAX).
void tly_message_id_new (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t now_ms);
//  Sets the time of id to now_ms (clamped), keeping its random part: for
//  IDs whose random part comes from elsewhere (a seeded workload).
void tly_message_id_stamp (uint8_t id [TLY_MESSAGE_ID_BYTES], int64_t now_ms);
//  The time id was made at, Unix ms.
int64_t tly_message_id_time (const uint8_t id [TLY_MESSAGE_ID_BYTES]);

#endif
