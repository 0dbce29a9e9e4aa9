//  tly_partition - which partition an account belongs to.
//
//  partition(account) = little-endian u64 of the first 8 bytes of
//                       BLAKE2b-256(account ID text) mod partition_count
#ifndef TLY_PARTITION_H_INCLUDED
#define TLY_PARTITION_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include "tly_limits.h"

uint32_t tly_partition_of (const uint8_t sign_pk [TLY_KEY_BYTES], uint32_t partition_count);
//  The same from the account ID text, for callers that already formatted it.
uint32_t tly_partition_of_id (const char *account_id, uint32_t partition_count);

#endif
