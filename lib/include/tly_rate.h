//  tly_rate - the per-user rate limit's token bucket, as the balance actor
//  decides with it and as replay and verify re-derive it: one pure function
//  of the bucket, the time and the limit, so every one of them gets the
//  same answer from the journal's times.
//
//  A bucket holds at most burst tokens; per_minute tokens come back each
//  minute, counted in units of 1 / TLY_RATE_TOKEN token so that per_minute
//  units come back each ms, exactly. A bucket is (tokens, at_ms): its
//  tokens after the last one taken, at that time (Unix ms, so > 0); at_ms
//  0 is a bucket never used, full. A time before at_ms (an actor whose
//  clock is behind the one before it) refills nothing.
//
//      int64_t wait_ms;
//      if (tly_rate_take (&bucket, now_ms, per_minute, burst, &wait_ms))
//          ... go on: the bucket has one token fewer ...
//      else
//          ... RATE_LIMITED: the next token is there in wait_ms ...
#ifndef TLY_RATE_H_INCLUDED
#define TLY_RATE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t tokens;  //  units, at at_ms
    int64_t at_ms;
} tly_rate_bucket_t;

//  Whether a limit of per_minute a minute and burst at once is one the
//  bucket takes: per_minute 1..TLY_RATE_PER_MINUTE_MAX, burst
//  1..TLY_RATE_BURST_MAX (a record naming another is malformed).
bool tly_rate_limit_valid (uint32_t per_minute, uint32_t burst);
//  Takes one token at now_ms: true with the bucket updated, or false with
//  the bucket as it was and *wait_ms the ms until it has a token (>= 1).
//  per_minute is 1..TLY_RATE_PER_MINUTE_MAX, burst 1..TLY_RATE_BURST_MAX.
bool tly_rate_take (tly_rate_bucket_t *bucket, int64_t now_ms, uint32_t per_minute, uint32_t burst,
                    int64_t *wait_ms);
//  Takes count tokens at now_ms whatever the bucket holds (replay: the
//  journal says they were taken), as count tly_rate_take calls at now_ms
//  that all went through would.
void tly_rate_charge (tly_rate_bucket_t *bucket, int64_t now_ms, uint32_t per_minute,
                      uint32_t burst, uint64_t count);

#endif
