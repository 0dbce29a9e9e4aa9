//  tly_rate - the per-user rate limit's token bucket (see tly_rate.h).
#include "tly_rate.h"

#include <assert.h>
#include "tly_limits.h"

bool
tly_rate_limit_valid (uint32_t per_minute, uint32_t burst)
{
    return per_minute >= 1 && per_minute <= TLY_RATE_PER_MINUTE_MAX && burst >= 1
           && burst <= TLY_RATE_BURST_MAX;
}

//  The bucket's tokens at now_ms, and the time it stands at then.
static int64_t
s_refill (const tly_rate_bucket_t *bucket, int64_t now_ms, uint32_t per_minute, uint32_t burst,
          int64_t *at_ms)
{
    assert (tly_rate_limit_valid (per_minute, burst));
    int64_t capacity = (int64_t) burst * TLY_RATE_TOKEN;
    int64_t tokens = bucket->at_ms <= 0 ? capacity : bucket->tokens;
    *at_ms = bucket->at_ms;
    if (now_ms > bucket->at_ms) {
        //  Past the time that fills it from empty, it is full.
        uint64_t elapsed = (uint64_t) now_ms - (uint64_t) bucket->at_ms;
        if (tokens >= capacity || elapsed > (uint64_t) ((capacity - tokens) / per_minute) + 1)
            tokens = capacity;
        else
            tokens += (int64_t) elapsed * per_minute;
        *at_ms = now_ms;
    }
    return tokens < capacity ? tokens : capacity;
}

bool
tly_rate_take (tly_rate_bucket_t *bucket, int64_t now_ms, uint32_t per_minute, uint32_t burst,
               int64_t *wait_ms)
{
    assert (bucket && wait_ms);
    int64_t at_ms;
    int64_t tokens = s_refill (bucket, now_ms, per_minute, burst, &at_ms);
    if (tokens < TLY_RATE_TOKEN) {
        int64_t missing = TLY_RATE_TOKEN - tokens;
        *wait_ms = (missing + per_minute - 1) / per_minute;
        return false;
    }
    bucket->tokens = tokens - TLY_RATE_TOKEN;
    bucket->at_ms = at_ms;
    *wait_ms = 0;
    return true;
}

void
tly_rate_charge (tly_rate_bucket_t *bucket, int64_t now_ms, uint32_t per_minute, uint32_t burst,
                 uint64_t count)
{
    assert (bucket);
    if (count == 0)
        return;
    int64_t at_ms;
    int64_t tokens = s_refill (bucket, now_ms, per_minute, burst, &at_ms);
    bucket->tokens = tokens - (int64_t) count * TLY_RATE_TOKEN;
    bucket->at_ms = at_ms;
}
