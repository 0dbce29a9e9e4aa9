//  tly_rate_test - the token bucket: full when never used, refilled exactly
//  per ms and never past its size, the wait to the next token, a clock
//  that steps back, and charge as so many takes at one time.
#include "tly_rate.h"

#include <assert.h>
#include <stdio.h>
#include "tly_limits.h"

void
tly_rate_test (bool verbose)
{
    if (verbose)
        printf (" * tly_rate: ");
    //  The limits a bucket takes, and their edges.
    assert (tly_rate_limit_valid (1, 1));
    assert (tly_rate_limit_valid (TLY_RATE_PER_MINUTE_MAX, TLY_RATE_BURST_MAX));
    assert (!tly_rate_limit_valid (0, 1) && !tly_rate_limit_valid (1, 0));
    assert (!tly_rate_limit_valid (TLY_RATE_PER_MINUTE_MAX + 1, 1));
    assert (!tly_rate_limit_valid (1, TLY_RATE_BURST_MAX + 1));
    int64_t wait = -1;
    //  7 a minute, 2 at once: never used, full at any time.
    tly_rate_bucket_t bucket = { 0, 0 };
    assert (tly_rate_take (&bucket, 5, 7, 2, &wait) && wait == 0);
    assert (bucket.tokens == TLY_RATE_TOKEN && bucket.at_ms == 5);
    assert (tly_rate_take (&bucket, 5, 7, 2, &wait));
    assert (bucket.tokens == 0);
    //  Refused: the bucket is left as it was, and the wait is rounded up
    //  (60000 / 7 = 8571.4 ms a token).
    assert (!tly_rate_take (&bucket, 5, 7, 2, &wait) && wait == 8572);
    assert (bucket.tokens == 0 && bucket.at_ms == 5);
    assert (!tly_rate_take (&bucket, 5 + 8571, 7, 2, &wait) && wait == 1);
    assert (tly_rate_take (&bucket, 5 + 8572, 7, 2, &wait));
    assert (bucket.tokens == 8572 * 7 - TLY_RATE_TOKEN && bucket.at_ms == 8577);
    //  A clock behind the bucket's refills nothing, and keeps its time.
    assert (!tly_rate_take (&bucket, 100, 7, 2, &wait) && wait == 8571);
    assert (bucket.tokens == 4 && bucket.at_ms == 8577);
    //  Never past the size, however long it waited.
    assert (tly_rate_take (&bucket, INT64_MAX, 7, 2, &wait));
    assert (bucket.tokens == TLY_RATE_TOKEN && bucket.at_ms == INT64_MAX);
    //  The widest limit, from a bucket a long time unused.
    bucket = (tly_rate_bucket_t) { 0, 1 };
    assert (
        tly_rate_take (&bucket, 1800000000000, TLY_RATE_PER_MINUTE_MAX, TLY_RATE_BURST_MAX, &wait));
    assert (bucket.tokens == ((int64_t) TLY_RATE_BURST_MAX - 1) * TLY_RATE_TOKEN);

    //  charge: as count takes at one time that all went through.
    tly_rate_bucket_t taken = { 3 * TLY_RATE_TOKEN / 2, 1000 };
    tly_rate_bucket_t charged = taken;
    for (int i = 0; i < 4; i++)
        assert (tly_rate_take (&taken, 31000, 6, 5, &wait));
    tly_rate_charge (&charged, 31000, 6, 5, 4);
    assert (charged.tokens == taken.tokens && charged.at_ms == taken.at_ms);
    tly_rate_charge (&charged, 31000, 6, 5, 0);
    assert (charged.tokens == taken.tokens);
    //  Past what the bucket held (a record that says so): below zero, and
    //  it refills from there.
    tly_rate_charge (&charged, 31000, 6, 5, 2);
    assert (charged.tokens == taken.tokens - 2 * TLY_RATE_TOKEN && charged.tokens < 0);
    assert (!tly_rate_take (&charged, 31000 + 10000, 6, 5, &wait));
    if (verbose)
        printf ("OK\n");
}
